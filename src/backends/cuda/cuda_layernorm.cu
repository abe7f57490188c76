/* Layer norm over the last dim of a rows × cols device tensor, forward and backward, with the
 * reference's numerics (ref_transformer.c): two passes in double per row (mean, then centred
 * squares), biased variance; the backward's column sums (dgamma, dbeta) are partial sums per
 * chunk of rows added in a fixed order, so they are deterministic. */
#include "backends/cuda/cuda_sum.cuh"

/* One block per row (looping over rows): mean and invstd in double, then y. */
static __global__ void layernorm_fwd_kernel(float *y, float *save_mean, float *save_invstd,
                                            const float *x, const float *gamma, const float *beta,
                                            int64_t rows, int64_t cols, float eps)
{
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float *xr = x + r * cols;
        double v[1] = { 0.0 };
        for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
            v[0] += xr[c];
        lf__block_sum(v);
        const double mean = v[0] / (double)cols;
        v[0] = 0.0;   /* centred second pass: no cancellation */
        for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
            const double d = xr[c] - mean;
            v[0] += d * d;
        }
        lf__block_sum(v);
        const double invstd = 1.0 / sqrt(v[0] / (double)cols + eps);
        float *yr = y + r * cols;
        for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
            yr[c] = (float)((xr[c] - mean) * invstd * gamma[c] + beta[c]);
        if (threadIdx.x == 0) {
            save_mean[r] = (float)mean;
            save_invstd[r] = (float)invstd;
        }
    }
}

extern "C" lf_status lf__cuda_layernorm_fwd(void *priv, float *y, float *save_mean,
                                            float *save_invstd, const float *x, const float *gamma,
                                            const float *beta, int64_t rows, int64_t cols, float eps)
{
    lf__cuda *cu = (lf__cuda *)priv;
    const char *op = "layernorm_fwd";
    LF__TRY(lf__ref_layernorm_fwd_args(y, save_mean, save_invstd, x, gamma, beta, rows, cols));
    if (rows == 0)
        return LF_OK;
    layernorm_fwd_kernel<<<lf__sum_grid(rows), LF__SUM_THREADS, 0, cu->stream>>>(
        y, save_mean, save_invstd, x, gamma, beta, rows, cols, eps);
    return lf__cuda_check(cudaGetLastError(), op);
}

/* Column sums of the backward: blocks of 32 columns × LN_ROW_LANES row lanes over one chunk of
 * rows; each writes its chunk's Σ dy·x̂ and Σ dy per column to part_g / part_b
 * (chunk-major: part[chunk·cols + col]). */
#define LN_ROW_LANES (LF__SUM_THREADS / 32)

static __global__ void layernorm_params_partial_kernel(double *part_g, double *part_b,
                                                       const float *dy, const float *x,
                                                       const float *save_mean,
                                                       const float *save_invstd, int64_t rows,
                                                       int64_t cols, int64_t chunk_rows)
{
    __shared__ double sg[LN_ROW_LANES][32], sb[LN_ROW_LANES][32];
    const int tx = threadIdx.x & 31, ty = threadIdx.x >> 5;
    const int64_t chunk = blockIdx.y, r0 = chunk * chunk_rows;
    const int64_t r1 = r0 + chunk_rows < rows ? r0 + chunk_rows : rows;
    const int64_t col_blocks = (cols + 31) / 32;
    for (int64_t cb = blockIdx.x; cb < col_blocks; cb += gridDim.x) {
        const int64_t col = cb * 32 + tx;
        double g = 0.0, b = 0.0;
        if (col < cols)
            for (int64_t r = r0 + ty; r < r1; r += LN_ROW_LANES) {
                const double mean = save_mean[r], invstd = save_invstd[r];
                const int64_t at = r * cols + col;
                g += dy[at] * (x[at] - mean) * invstd;
                b += dy[at];
            }
        sg[ty][tx] = g;
        sb[ty][tx] = b;
        __syncthreads();
        if (ty == 0 && col < cols) {
            for (int l = 1; l < LN_ROW_LANES; l++) {
                g += sg[l][tx];
                b += sb[l][tx];
            }
            part_g[chunk * cols + col] = g;
            part_b[chunk * cols + col] = b;
        }
        __syncthreads();   /* sg, sb are refilled by the next column block */
    }
}

/* dgamma[c] += Σ over chunks of part_g (in chunk order), likewise dbeta, as the reference
 * adds: in double, rounded once. */
static __global__ void layernorm_params_final_kernel(float *dgamma, float *dbeta,
                                                     const double *part_g, const double *part_b,
                                                     int64_t chunks, int64_t cols)
{
    for (int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; c < cols;
         c += (int64_t)gridDim.x * blockDim.x) {
        double g = 0.0, b = 0.0;
        for (int64_t k = 0; k < chunks; k++) {
            g += part_g[k * cols + c];
            b += part_b[k * cols + c];
        }
        dgamma[c] = (float)((double)dgamma[c] + g);
        dbeta[c] = (float)((double)dbeta[c] + b);
    }
}

/* One block per row: the row's Σg and Σg·x̂ (g = dy·γ) are summed, which reads all of the row's
 * dy, before the block synchronises and writes the row, and each thread then rewrites only
 * the values it reads: dx may be dy. */
static __global__ void layernorm_dx_kernel(float *dx, const float *dy, const float *x,
                                           const float *gamma, const float *save_mean,
                                           const float *save_invstd, int64_t rows, int64_t cols)
{
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const double mean = save_mean[r], invstd = save_invstd[r];
        double v[2] = { 0.0, 0.0 };
        for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
            const int64_t at = r * cols + c;
            const double g = (double)dy[at] * gamma[c];
            v[0] += g;
            v[1] += g * (x[at] - mean) * invstd;
        }
        lf__block_sum(v);
        const double mean_g = v[0] / (double)cols, mean_gx = v[1] / (double)cols;
        for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
            const int64_t at = r * cols + c;
            const double xhat = (x[at] - mean) * invstd;
            dx[at] = (float)(invstd * ((double)dy[at] * gamma[c] - mean_g - xhat * mean_gx));
        }
    }
}

extern "C" lf_status lf__cuda_layernorm_bwd(void *priv, float *dx, float *dgamma, float *dbeta,
                                            const float *dy, const float *x, const float *gamma,
                                            const float *save_mean, const float *save_invstd,
                                            int64_t rows, int64_t cols)
{
    lf__cuda *cu = (lf__cuda *)priv;
    const char *op = "layernorm_bwd";
    LF__TRY(lf__ref_layernorm_bwd_args(dx, dgamma, dbeta, dy, x, gamma, save_mean, save_invstd,
                                       rows, cols));
    if (rows == 0 || cols == 0)
        return LF_OK;
    /* Chunks of at least 64 rows, at most 1024 of them, and at most 32 MiB of partial sums. */
    int64_t chunk_rows = (rows + 1023) / 1024;
    if (chunk_rows < 64)
        chunk_rows = 64;
    int64_t chunks = (rows + chunk_rows - 1) / chunk_rows;
    const int64_t max_chunks = (INT64_C(32) << 20) / (2 * (int64_t)sizeof(double)) / cols;
    if (chunks > max_chunks) {
        chunks = max_chunks > 1 ? max_chunks : 1;
        chunk_rows = (rows + chunks - 1) / chunks;
        chunks = (rows + chunk_rows - 1) / chunk_rows;
    }
    if (cols > (INT64_MAX / 2 / (int64_t)sizeof(double)) / chunks)
        return lf__error(LF_E_NOMEM, "%s: %lld columns are too many", op, (long long)cols);
    void *scratch;
    LF__TRY(lf__cuda_scratch(cu, (size_t)(2 * chunks * cols) * sizeof(double), &scratch));
    double *part_g = (double *)scratch, *part_b = part_g + chunks * cols;
    /* the column sums read dy before the dx kernel, queued after them, overwrites it */
    const int64_t col_blocks = (cols + 31) / 32;
    const dim3 grid(lf__sum_grid(col_blocks), (unsigned)chunks);
    layernorm_params_partial_kernel<<<grid, LF__SUM_THREADS, 0, cu->stream>>>(
        part_g, part_b, dy, x, save_mean, save_invstd, rows, cols, chunk_rows);
    LF__TRY(lf__cuda_check(cudaGetLastError(), op));
    layernorm_params_final_kernel<<<lf__cuda_blocks(cols), LF__SUM_THREADS, 0, cu->stream>>>(
        dgamma, dbeta, part_g, part_b, chunks, cols);
    LF__TRY(lf__cuda_check(cudaGetLastError(), op));
    layernorm_dx_kernel<<<lf__sum_grid(rows), LF__SUM_THREADS, 0, cu->stream>>>(
        dx, dy, x, gamma, save_mean, save_invstd, rows, cols);
    return lf__cuda_check(cudaGetLastError(), op);
}
