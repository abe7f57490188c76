/* Element-wise operations on the CUDA backend: bias add and its gradient, axpby, ReLU, the
 * per-channel normalisation, masks, exact GELU and the batched transpose. Contracts in
 * backends/backend.h; the reference (ref_kernels.c, ref_pool.c, ref_transformer.c) is the
 * oracle. Float arithmetic the reference does in several roundings is written with the _rn
 * intrinsics, which nvcc never fuses into an FMA, so results agree bit for bit where the
 * reference is pure float; double arithmetic (GELU, bias_bwd's sums) stays in double. */
#include <math.h>
#include <string.h>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_sum.cuh"

/* lf__cuda_blocks sizes grids for 256 threads a block; a warp is 32 */
enum { THREADS = LF__SUM_THREADS, WARP = 32 };

/* ---- bias ---- */

static __global__ void bias_add_fwd_kernel(float *y, const float *bias, int64_t total,
                                           int64_t cols)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x)
        y[i] = __fadd_rn(y[i], bias[i % cols]);
}

lf_status lf__cuda_bias_add_fwd(void *priv, float *y, const float *bias, int64_t rows,
                                int64_t cols)
{
    lf__cuda *cu = (lf__cuda *)priv;
    LF__TRY(lf__ref_bias_add_fwd_args(y, bias, rows, cols));
    const int64_t total = rows * cols;
    if (total == 0)
        return LF_OK;
    bias_add_fwd_kernel<<<lf__cuda_blocks(total), THREADS, 0, cu->stream>>>(y, bias, total, cols);
    return lf__cuda_check(cudaGetLastError(), "bias_add_fwd");
}

/* Columns of a block: a warp reads 32 neighbouring columns of one row (coalesced) and the
 * block's 8 warps take every 8th row; the 8 partial sums of a column are added in warp order. */
enum { BIAS_COLS = WARP, BIAS_LANES = THREADS / WARP };

static __global__ void bias_bwd_kernel(float *dbias, const float *dy, int64_t rows, int64_t cols)
{
    __shared__ double part[BIAS_LANES][BIAS_COLS];
    const int tx = threadIdx.x % BIAS_COLS, ty = threadIdx.x / BIAS_COLS;
    /* the loop bound is the same for the whole block, so every thread reaches the barriers */
    for (int64_t j0 = blockIdx.x * (int64_t)BIAS_COLS; j0 < cols;
         j0 += (int64_t)gridDim.x * BIAS_COLS) {
        const int64_t j = j0 + tx;
        double acc = 0.0;
        if (j < cols)
            for (int64_t r = ty; r < rows; r += BIAS_LANES)
                acc += dy[r * cols + j];
        part[ty][tx] = acc;
        __syncthreads();
        if (ty == 0 && j < cols) {
            double sum = 0.0;
            for (int k = 0; k < BIAS_LANES; k++)
                sum += part[k][tx];
            dbias[j] = (float)((double)dbias[j] + sum);
        }
        __syncthreads();   /* part is rewritten by the next chunk */
    }
}

lf_status lf__cuda_bias_bwd(void *priv, float *dbias, const float *dy, int64_t rows, int64_t cols)
{
    lf__cuda *cu = (lf__cuda *)priv;
    LF__TRY(lf__ref_bias_bwd_args(dbias, dy, rows, cols));
    /* rows == 0 still runs: the reference rewrites dbias[c] as dbias[c] + 0.0 (−0 becomes +0) */
    if (cols == 0)
        return LF_OK;
    const int64_t chunks = cols / BIAS_COLS + (cols % BIAS_COLS != 0);
    bias_bwd_kernel<<<lf__sum_grid(chunks), THREADS, 0, cu->stream>>>(dbias, dy, rows, cols);
    return lf__cuda_check(cudaGetLastError(), "bias_bwd");
}

/* ---- axpby ---- */

static __global__ void axpby_kernel(float *y, float a, const float *x, float b, int64_t n)
{
    /* b == 0 overwrites y without reading it (it may hold NaN), as the reference */
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        y[i] = b != 0.0f ? __fadd_rn(__fmul_rn(a, x[i]), __fmul_rn(b, y[i])) : __fmul_rn(a, x[i]);
}

lf_status lf__cuda_axpby(void *priv, float *y, float a, const float *x, float b, int64_t n)
{
    lf__cuda *cu = (lf__cuda *)priv;
    LF__TRY(lf__ref_axpby_args(y, x, n));
    if (n == 0)
        return LF_OK;
    axpby_kernel<<<lf__cuda_blocks(n), THREADS, 0, cu->stream>>>(y, a, x, b, n);
    return lf__cuda_check(cudaGetLastError(), "axpby");
}

/* ---- ReLU ---- */

static __global__ void relu_fwd_kernel(float *y, const float *x, int64_t n)
{
    /* NaN passes through (as torch.relu), so divergence stays visible */
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        const float v = x[i];
        y[i] = (v > 0.0f || isnan(v)) ? v : 0.0f;
    }
}

lf_status lf__cuda_relu_fwd(void *priv, float *y, const float *x, int64_t n)
{
    lf__cuda *cu = (lf__cuda *)priv;
    LF__TRY(lf__ref_relu_fwd_args(y, x, n));
    if (n == 0)
        return LF_OK;
    relu_fwd_kernel<<<lf__cuda_blocks(n), THREADS, 0, cu->stream>>>(y, x, n);
    return lf__cuda_check(cudaGetLastError(), "relu_fwd");
}

static __global__ void relu_bwd_kernel(float *dx, const float *dy, const float *y, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

lf_status lf__cuda_relu_bwd(void *priv, float *dx, const float *dy, const float *y, int64_t n)
{
    lf__cuda *cu = (lf__cuda *)priv;
    LF__TRY(lf__ref_relu_bwd_args(dx, dy, y, n));
    if (n == 0)
        return LF_OK;
    relu_bwd_kernel<<<lf__cuda_blocks(n), THREADS, 0, cu->stream>>>(dx, dy, y, n);
    return lf__cuda_check(cudaGetLastError(), "relu_bwd");
}

/* ---- per-channel normalisation ---- */

/* The host arrays travel by value in the launch (a kernel argument is copied when the kernel
 * is queued), a chunk of channels per launch: no upload to wait for, and the caller may reuse
 * its arrays as soon as the call returns. 2 KiB, well inside the 4 KiB argument limit. */
static constexpr int64_t NORM_CHANNELS = 256;
struct channel_affine {
    float mean[NORM_CHANNELS];
    float inv_std[NORM_CHANNELS];
};

/* Channels c0 .. c0 + cc − 1 of x (n × channels × spatial). */
static __global__ void normalize_fwd_kernel(float *y, const float *x,
                                            const __grid_constant__ channel_affine a, int64_t n,
                                            int64_t channels, int64_t c0, int64_t cc,
                                            int64_t spatial)
{
    const int64_t total = n * cc * spatial;
    for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < total;
         k += (int64_t)gridDim.x * blockDim.x) {
        const int64_t s = k % spatial, t = k / spatial;
        const int64_t cl = t % cc, i = t / cc;
        const int64_t at = (i * channels + c0 + cl) * spatial + s;
        y[at] = __fmul_rn(__fsub_rn(x[at], a.mean[cl]), a.inv_std[cl]);
    }
}

lf_status lf__cuda_normalize_fwd(void *priv, float *y, const float *x, const float *mean_host,
                                 const float *inv_std_host, int64_t n, int64_t channels,
                                 int64_t spatial)
{
    lf__cuda *cu = (lf__cuda *)priv;
    const char *op = "normalize_fwd";
    LF__TRY(lf__ref_normalize_fwd_args(y, x, mean_host, inv_std_host, n, channels, spatial));
    const int64_t total = n * channels * spatial;
    if (total == 0)
        return LF_OK;
    for (int64_t c0 = 0; c0 < channels; c0 += NORM_CHANNELS) {
        const int64_t cc = channels - c0 < NORM_CHANNELS ? channels - c0 : NORM_CHANNELS;
        channel_affine a;
        memcpy(a.mean, mean_host + c0, (size_t)cc * sizeof(float));
        memcpy(a.inv_std, inv_std_host + c0, (size_t)cc * sizeof(float));
        normalize_fwd_kernel<<<lf__cuda_blocks(n * cc * spatial), THREADS, 0, cu->stream>>>(
            y, x, a, n, channels, c0, cc, spatial);
        LF__TRY(lf__cuda_check(cudaGetLastError(), op));
    }
    return LF_OK;
}

/* ---- masks ---- */

static __global__ void apply_mask_kernel(float *x, const uint8_t *mask, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        if (!mask[i])
            x[i] = 0.0f;
}

lf_status lf__cuda_apply_mask(void *priv, float *x, const uint8_t *mask, int64_t n)
{
    lf__cuda *cu = (lf__cuda *)priv;
    LF__TRY(lf__ref_apply_mask_args(x, mask, n));
    if (n == 0)
        return LF_OK;
    apply_mask_kernel<<<lf__cuda_blocks(n), THREADS, 0, cu->stream>>>(x, mask, n);
    return lf__cuda_check(cudaGetLastError(), "apply_mask");
}

/* ---- GELU (exact erf form, in double as the reference) ---- */

static __global__ void gelu_fwd_kernel(float *y, const float *x, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        const double v = x[i];
        y[i] = (float)(0.5 * v * (1.0 + erf(v * M_SQRT1_2)));
    }
}

lf_status lf__cuda_gelu_fwd(void *priv, float *y, const float *x, int64_t n)
{
    lf__cuda *cu = (lf__cuda *)priv;
    LF__TRY(lf__ref_gelu_fwd_args(y, x, n));
    if (n == 0)
        return LF_OK;
    gelu_fwd_kernel<<<lf__cuda_blocks(n), THREADS, 0, cu->stream>>>(y, x, n);
    return lf__cuda_check(cudaGetLastError(), "gelu_fwd");
}

static __global__ void gelu_bwd_kernel(float *dx, const float *dy, const float *x, int64_t n)
{
    const double inv_sqrt_2pi = 0.5 * M_2_SQRTPI * M_SQRT1_2;   /* 1/√(2π) */
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        const double v = x[i];
        const double cdf = 0.5 * (1.0 + erf(v * M_SQRT1_2));
        const double pdf = inv_sqrt_2pi * exp(-0.5 * v * v);
        dx[i] = (float)((double)dy[i] * __dadd_rn(cdf, __dmul_rn(v, pdf)));
    }
}

lf_status lf__cuda_gelu_bwd(void *priv, float *dx, const float *dy, const float *x, int64_t n)
{
    lf__cuda *cu = (lf__cuda *)priv;
    LF__TRY(lf__ref_gelu_bwd_args(dx, dy, x, n));
    if (n == 0)
        return LF_OK;
    gelu_bwd_kernel<<<lf__cuda_blocks(n), THREADS, 0, cu->stream>>>(dx, dy, x, n);
    return lf__cuda_check(cudaGetLastError(), "gelu_bwd");
}

/* ---- batched transpose ---- */

/* 32 × 32 tiles through shared memory, so both the reads of x and the writes of y are
 * coalesced; the extra column keeps the tile's column reads off one bank. */
enum { TILE = 32, TILE_ROWS = THREADS / TILE };

static __global__ void transpose_kernel(float *y, const float *x, int64_t batch, int64_t rows,
                                        int64_t cols)
{
    __shared__ float tile[TILE][TILE + 1];
    const int64_t tiles_r = rows / TILE + (rows % TILE != 0);
    const int64_t tiles_c = cols / TILE + (cols % TILE != 0);
    const int64_t per_matrix = tiles_r * tiles_c, tiles = batch * per_matrix;
    const int tx = threadIdx.x % TILE, ty = threadIdx.x / TILE;
    /* the loop bound is the same for the whole block, so every thread reaches the barriers */
    for (int64_t t = blockIdx.x; t < tiles; t += gridDim.x) {
        const int64_t b = t / per_matrix, rem = t % per_matrix;
        const int64_t r0 = rem / tiles_c * TILE, c0 = rem % tiles_c * TILE;
        const float *xb = x + b * rows * cols;
        float *yb = y + b * rows * cols;
        for (int k = ty; k < TILE; k += TILE_ROWS) {   /* tile[k][tx] = x[r0 + k][c0 + tx] */
            const int64_t r = r0 + k, c = c0 + tx;
            if (r < rows && c < cols)
                tile[k][tx] = xb[r * cols + c];
        }
        __syncthreads();
        for (int k = ty; k < TILE; k += TILE_ROWS) {   /* y[c0 + k][r0 + tx] = x[r0 + tx][c0 + k] */
            const int64_t c = c0 + k, r = r0 + tx;
            if (c < cols && r < rows)
                yb[c * rows + r] = tile[tx][k];
        }
        __syncthreads();   /* the tile is rewritten by the next iteration */
    }
}

lf_status lf__cuda_transpose(void *priv, float *y, const float *x, int64_t batch, int64_t rows,
                             int64_t cols)
{
    lf__cuda *cu = (lf__cuda *)priv;
    const char *op = "transpose";
    LF__TRY(lf__ref_transpose_args(y, x, batch, rows, cols));
    if (batch * rows * cols == 0)
        return LF_OK;
    /* at most one tile per element, so the count is representable */
    const int64_t tiles = batch * (rows / TILE + (rows % TILE != 0)) *
                          (cols / TILE + (cols % TILE != 0));
    transpose_kernel<<<lf__sum_grid(tiles), THREADS, 0, cu->stream>>>(y, x, batch, rows, cols);
    return lf__cuda_check(cudaGetLastError(), op);
}
