/* 2-D convolution (NCHW, weights c_out×c_in×kh×kw as PyTorch) as im2col + one cuBLAS SGEMM per
 * chunk of images. A chunk of nb images is unfolded into a K × L column matrix (K = c_in·kh·kw,
 * L = nb·P, P = h_out·w_out; column img·P + p holds image img's receptive field of output p),
 * so each pass is one large product instead of nb small ones:
 *   forward         out (c_out × L) = W (c_out × K) · col,        then y[img][co][p] = out + bias
 *   backward data   dcol (K × L)    = Wᵀ · dyc (c_out × L),       then dx gathered from dcol
 *   backward weights dw (c_out × K) += dyc · colᵀ
 * where dyc is the chunk of dy with images and channels swapped (c_out × nb × P). cuBLAS is
 * column-major: a row-major r×c matrix is its column-major transpose, so C = A·B is issued as
 * Cᵀ = Bᵀ·Aᵀ. The column buffers live in the context's scratch, chunked to stay near 256 MiB.
 * dx is a gather (each input value sums its own kh·kw terms: deterministic, no atomics);
 * dbias is a per-channel sum in double over the whole batch (cuda_sum.cuh). */
#include "backends/cuda/cuda_sum.cuh"

/* Sizes derived from an lf__conv2d_shape for a chunked pass. */
typedef struct conv_plan {
    int64_t K, P;        /* rows of col, outputs per image */
    int64_t nb;          /* images per chunk */
    size_t  col_floats;  /* offset of the second scratch region (floats, 64-aligned) */
    size_t  bytes;       /* scratch for one chunk */
} conv_plan;

/* Chunk size: scratch for col (K × L) and the c_out × L matrix near 256 MiB, at least one image. */
static lf_status conv_plan_make(const char *op, const lf__conv2d_shape *s, conv_plan *cp)
{
    const int64_t budget = INT64_C(256) << 20;
    const int64_t K = s->c_in * s->kh * s->kw, P = s->h_out * s->w_out;   /* < 2^60, < 2^44 */
    /* per image: (K + c_out)·P floats, kept well inside int64 and size_t */
    if (K + s->c_out > (INT64_MAX / 8) / P)
        return lf__error(LF_E_NOMEM, "%s: the column buffer of %lld x %lld values is too large",
                         op, (long long)K, (long long)P);
    const int64_t per_image = (K + s->c_out) * P * (int64_t)sizeof(float);
    int64_t nb = budget / per_image;
    if (nb < 1)
        nb = 1;
    if (nb > s->n)
        nb = s->n;
    cp->K = K;
    cp->P = P;
    cp->nb = nb;
    if (per_image > (INT64_MAX / 2) / nb)
        return lf__error(LF_E_NOMEM, "%s: the column buffer is too large", op);
    const int64_t col = (K * P * nb + 63) / 64 * 64;
    cp->col_floats = (size_t)col;
    cp->bytes = (size_t)(col + s->c_out * P * nb) * sizeof(float);
    return LF_OK;
}

/* col[(ci·kh + i)·kw + j][img·P + p] = x[img][ci][oh·stride − pad + i][ow·stride − pad + j]
 * (0 outside the input), p = oh·w_out + ow: one thread per (img, ci, p) writes its kh·kw
 * values, consecutive threads consecutive columns. x is the chunk's first image. */
static __global__ void im2col_kernel(float *col, const float *x, lf__conv2d_shape s, int64_t nb,
                                     int64_t P, int64_t L)
{
    const int64_t total = nb * s.c_in * P, hw = s.h_in * s.w_in;
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < total;
         e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t p = e % P, t = e / P, ci = t % s.c_in, img = t / s.c_in;
        const int64_t oh = p / s.w_out, ow = p - oh * s.w_out;
        const float *xp = x + (img * s.c_in + ci) * hw;
        float *cp = col + ci * s.kh * s.kw * L + img * P + p;
        for (int64_t i = 0; i < s.kh; i++) {
            const int64_t ih = oh * s.stride - s.pad + i;
            const bool row_in = ih >= 0 && ih < s.h_in;
            for (int64_t j = 0; j < s.kw; j++) {
                const int64_t iw = ow * s.stride - s.pad + j;
                cp[(i * s.kw + j) * L] = row_in && iw >= 0 && iw < s.w_in ? xp[ih * s.w_in + iw]
                                                                          : 0.0f;
            }
        }
    }
}

/* dx[img][ci][ih][iw] = Σ dcol[(ci·kh + i)·kw + j][img·P + oh·w_out + ow] over the (i, j, oh,
 * ow) with oh·stride − pad + i = ih and ow·stride − pad + j = iw (as ref_conv.c's
 * bwd_data), in double; dx overwritten. dx is the chunk's first image. */
static __global__ void col2im_kernel(float *dx, const float *dcol, lf__conv2d_shape s, int64_t nb,
                                     int64_t P, int64_t L)
{
    const int64_t total = nb * s.c_in * s.h_in * s.w_in;
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < total;
         e += (int64_t)gridDim.x * blockDim.x) {
        int64_t t = e / s.w_in;
        const int64_t iw = e - t * s.w_in;
        const int64_t ih = t % s.h_in;
        t /= s.h_in;
        const int64_t ci = t % s.c_in, img = t / s.c_in;
        const float *dp = dcol + ci * s.kh * s.kw * L + img * P;
        double acc = 0.0;
        for (int64_t i = 0; i < s.kh; i++) {
            const int64_t th = ih + s.pad - i;   /* = oh·stride */
            if (th < 0)
                break;                           /* and for every larger i */
            if (th % s.stride || th / s.stride >= s.h_out)
                continue;
            const int64_t oh = th / s.stride;
            for (int64_t j = 0; j < s.kw; j++) {
                const int64_t tw = iw + s.pad - j;
                if (tw < 0)
                    break;
                if (tw % s.stride || tw / s.stride >= s.w_out)
                    continue;
                acc += dp[(i * s.kw + j) * L + oh * s.w_out + tw / s.stride];
            }
        }
        dx[e] = (float)acc;
    }
}

/* y[img][co][p] = out[co][img·P + p] (+ bias[co]); y is the chunk's first image. */
static __global__ void conv_out_kernel(float *y, const float *out, const float *bias,
                                       int64_t c_out, int64_t nb, int64_t P, int64_t L)
{
    const int64_t total = nb * c_out * P;
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < total;
         e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t p = e % P, t = e / P, co = t % c_out, img = t / c_out;
        const float v = out[co * L + img * P + p];
        y[e] = bias ? v + bias[co] : v;
    }
}

/* dyc[co][img·P + p] = dy[img][co][p]; dy is the chunk's first image. */
static __global__ void conv_dy_kernel(float *dyc, const float *dy, int64_t c_out, int64_t nb,
                                      int64_t P, int64_t L)
{
    const int64_t total = nb * c_out * P;
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < total;
         e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t p = e % P, t = e / P, co = t % c_out, img = t / c_out;
        dyc[co * L + img * P + p] = dy[e];
    }
}

/* Partial sums of dy per output channel (dy is n × c_out × P as an n×c×s tensor). */
static __global__ void conv_dbias_partial_kernel(double *part, lf__chan_plan p, const float *dy)
{
    for (int64_t b = blockIdx.x; b < p.c * p.parts; b += gridDim.x) {
        const int64_t ch = b / p.parts, k = b - ch * p.parts;
        double v[1] = { 0.0 };
        lf__chan_for_each(p, ch, k, [&](int64_t at) { v[0] += dy[at]; });
        lf__block_sum(v);
        if (threadIdx.x == 0)
            part[b] = v[0];
    }
}

/* dbias[co] += Σ of its parts in part order, rounded once (as the reference). */
static __global__ void conv_dbias_final_kernel(float *dbias, const double *part, int64_t c_out,
                                               int64_t parts)
{
    for (int64_t co = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; co < c_out;
         co += (int64_t)gridDim.x * blockDim.x) {
        double acc = 0.0;
        for (int64_t k = 0; k < parts; k++)
            acc += part[co * parts + k];
        dbias[co] += (float)acc;
    }
}

/* C (m×n, row-major, ld n) = alpha·op(A)·op(B) + beta·C issued column-major as
 * Cᵀ = op(B)ᵀ·op(A)ᵀ: cuBLAS's first operand is B's buffer, its second A's. */
static lf_status sgemm_rm(lf__cuda *cu, const char *op, bool trans_a, bool trans_b, int64_t m,
                          int64_t n, int64_t k, const float *a, const float *b, float beta,
                          float *c)
{
    const float one = 1.0f;
    const int64_t lda = trans_a ? m : k, ldb = trans_b ? k : n;
    return lf__cuda_check_blas(cublasSgemm_64(cu->blas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                              trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &one,
                                              b, ldb, a, lda, &beta, c, n),
                               op);
}

extern "C" lf_status lf__cuda_conv2d_fwd(void *priv, float *y, const float *x, const float *w,
                                         const float *bias, const lf__conv2d_shape *s)
{
    lf__cuda *cu = (lf__cuda *)priv;
    const char *op = "conv2d_fwd";
    LF__TRY(lf__ref_conv2d_fwd_args(y, x, w, s));
    if (s->n == 0)
        return LF_OK;
    conv_plan cp;
    LF__TRY(conv_plan_make(op, s, &cp));
    void *scratch;
    LF__TRY(lf__cuda_scratch(cu, cp.bytes, &scratch));
    float *col = (float *)scratch, *out = col + cp.col_floats;
    const int64_t x_img = s->c_in * s->h_in * s->w_in, y_img = s->c_out * cp.P;
    for (int64_t i0 = 0; i0 < s->n; i0 += cp.nb) {
        const int64_t nb = s->n - i0 < cp.nb ? s->n - i0 : cp.nb, L = nb * cp.P;
        im2col_kernel<<<lf__cuda_blocks(nb * s->c_in * cp.P), LF__SUM_THREADS, 0, cu->stream>>>(
            col, x + i0 * x_img, *s, nb, cp.P, L);
        LF__TRY(lf__cuda_check(cudaGetLastError(), op));
        /* out (c_out × L) = W (c_out × K) · col (K × L) */
        LF__TRY(sgemm_rm(cu, op, false, false, s->c_out, L, cp.K, w, col, 0.0f, out));
        conv_out_kernel<<<lf__cuda_blocks(nb * y_img), LF__SUM_THREADS, 0, cu->stream>>>(
            y + i0 * y_img, out, bias, s->c_out, nb, cp.P, L);
        LF__TRY(lf__cuda_check(cudaGetLastError(), op));
    }
    return LF_OK;
}

extern "C" lf_status lf__cuda_conv2d_bwd_data(void *priv, float *dx, const float *dy,
                                              const float *w, const lf__conv2d_shape *s)
{
    lf__cuda *cu = (lf__cuda *)priv;
    const char *op = "conv2d_bwd_data";
    LF__TRY(lf__ref_conv2d_bwd_data_args(dx, dy, w, s));
    if (s->n == 0)
        return LF_OK;
    conv_plan cp;
    LF__TRY(conv_plan_make(op, s, &cp));
    void *scratch;
    LF__TRY(lf__cuda_scratch(cu, cp.bytes, &scratch));
    float *dcol = (float *)scratch, *dyc = dcol + cp.col_floats;
    const int64_t x_img = s->c_in * s->h_in * s->w_in, y_img = s->c_out * cp.P;
    for (int64_t i0 = 0; i0 < s->n; i0 += cp.nb) {
        const int64_t nb = s->n - i0 < cp.nb ? s->n - i0 : cp.nb, L = nb * cp.P;
        conv_dy_kernel<<<lf__cuda_blocks(nb * y_img), LF__SUM_THREADS, 0, cu->stream>>>(
            dyc, dy + i0 * y_img, s->c_out, nb, cp.P, L);
        LF__TRY(lf__cuda_check(cudaGetLastError(), op));
        /* dcol (K × L) = Wᵀ (K × c_out) · dyc (c_out × L) */
        LF__TRY(sgemm_rm(cu, op, true, false, cp.K, L, s->c_out, w, dyc, 0.0f, dcol));
        col2im_kernel<<<lf__cuda_blocks(nb * x_img), LF__SUM_THREADS, 0, cu->stream>>>(
            dx + i0 * x_img, dcol, *s, nb, cp.P, L);
        LF__TRY(lf__cuda_check(cudaGetLastError(), op));
    }
    return LF_OK;
}

extern "C" lf_status lf__cuda_conv2d_bwd_weights(void *priv, float *dw, float *dbias,
                                                 const float *dy, const float *x,
                                                 const lf__conv2d_shape *s)
{
    lf__cuda *cu = (lf__cuda *)priv;
    const char *op = "conv2d_bwd_weights";
    LF__TRY(lf__ref_conv2d_bwd_weights_args(dw, dy, x, s));
    if (s->n == 0)
        return LF_OK;
    conv_plan cp;
    LF__TRY(conv_plan_make(op, s, &cp));
    /* dbias's partial sums after the chunk's two regions */
    const lf__chan_plan bp = lf__chan_plan_make(s->n, s->c_out, cp.P);
    const size_t bias_at = (cp.bytes + 255) / 256 * 256;
    const size_t bytes = dbias ? bias_at + (size_t)(bp.c * bp.parts) * sizeof(double) : cp.bytes;
    void *scratch;
    LF__TRY(lf__cuda_scratch(cu, bytes, &scratch));
    float *col = (float *)scratch, *dyc = col + cp.col_floats;
    const int64_t x_img = s->c_in * s->h_in * s->w_in, y_img = s->c_out * cp.P;
    for (int64_t i0 = 0; i0 < s->n; i0 += cp.nb) {
        const int64_t nb = s->n - i0 < cp.nb ? s->n - i0 : cp.nb, L = nb * cp.P;
        im2col_kernel<<<lf__cuda_blocks(nb * s->c_in * cp.P), LF__SUM_THREADS, 0, cu->stream>>>(
            col, x + i0 * x_img, *s, nb, cp.P, L);
        conv_dy_kernel<<<lf__cuda_blocks(nb * y_img), LF__SUM_THREADS, 0, cu->stream>>>(
            dyc, dy + i0 * y_img, s->c_out, nb, cp.P, L);
        LF__TRY(lf__cuda_check(cudaGetLastError(), op));
        /* dw (c_out × K) += dyc (c_out × L) · colᵀ (L × K) */
        LF__TRY(sgemm_rm(cu, op, false, true, s->c_out, cp.K, L, dyc, col, 1.0f, dw));
    }
    if (dbias) {
        double *part = (double *)((char *)scratch + bias_at);
        conv_dbias_partial_kernel<<<lf__sum_grid(bp.c * bp.parts), LF__SUM_THREADS, 0,
                                    cu->stream>>>(part, bp, dy);
        conv_dbias_final_kernel<<<lf__cuda_blocks(s->c_out), LF__SUM_THREADS, 0, cu->stream>>>(
            dbias, part, s->c_out, bp.parts);
    }
    return lf__cuda_check(cudaGetLastError(), op);
}
