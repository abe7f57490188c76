/* Reference kernels of the attacker network (version 4 of the table): layer norm, exact GELU,
 * the softmax backward, seeded dropout, a batched transpose, Adam and the strided batched gemm. Plain loops in double
 * where values are summed or transcendental; the contracts are in backends/backend.h. */
#include <math.h>
#include <stdint.h>

#include "core/internal.h"
#include "core/rng.h"
#include "backends/reference/ref_kernels.h"
#include "backends/reference/ref_args.h"

/* Columns whose sums over rows are accumulated at once (a stack buffer, as in ref_kernels.c). */
enum { COL_BLOCK = 256 };

/* ---- layer norm ---- */

lf_status lf__ref_layernorm_fwd(void *priv, float *y, float *save_mean, float *save_invstd,
                                const float *x, const float *gamma, const float *beta,
                                int64_t rows, int64_t cols, float eps)
{
    (void)priv;
    LF__TRY(lf__ref_layernorm_fwd_args(y, save_mean, save_invstd, x, gamma, beta, rows, cols));
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        double sum = 0.0;
        for (int64_t c = 0; c < cols; c++)
            sum += xr[c];
        const double mean = sum / (double)cols;
        double sq = 0.0;   /* centred second pass: no cancellation */
        for (int64_t c = 0; c < cols; c++) {
            double d = xr[c] - mean;
            sq += d * d;
        }
        const double invstd = 1.0 / sqrt(sq / (double)cols + eps);
        float *yr = y + r * cols;
        for (int64_t c = 0; c < cols; c++)
            yr[c] = (float)((xr[c] - mean) * invstd * gamma[c] + beta[c]);
        save_mean[r] = (float)mean;
        save_invstd[r] = (float)invstd;
    }
    return LF_OK;
}

/* With x̂ = (x − mean)·invstd, g = dy·γ and D = cols, per row:
 *   dx = invstd·(g − Σg/D − x̂·Σ(g·x̂)/D);  dγ += Σ_rows dy·x̂,  dβ += Σ_rows dy.
 * dγ and dβ read dy first, and each row's sums are taken before the row is written, so dx
 * may be dy. */
lf_status lf__ref_layernorm_bwd(void *priv, float *dx, float *dgamma, float *dbeta, const float *dy,
                                const float *x, const float *gamma, const float *save_mean,
                                const float *save_invstd, int64_t rows, int64_t cols)
{
    (void)priv;
    LF__TRY(lf__ref_layernorm_bwd_args(dx, dgamma, dbeta, dy, x, gamma, save_mean, save_invstd,
                                       rows, cols));
    lf__ref_layernorm_bwd_params(dgamma, dbeta, dy, x, save_mean, save_invstd, rows, cols, 0, cols);
    lf__ref_layernorm_bwd_dx(dx, dy, x, gamma, save_mean, save_invstd, cols, 0, rows);
    return LF_OK;
}

void lf__ref_layernorm_bwd_params(float *dgamma, float *dbeta, const float *dy, const float *x,
                                  const float *save_mean, const float *save_invstd, int64_t rows,
                                  int64_t cols, int64_t c_begin, int64_t c_end)
{
    double acc_g[COL_BLOCK], acc_b[COL_BLOCK];
    for (int64_t c0 = c_begin; c0 < c_end; c0 += COL_BLOCK) {
        int64_t cn = c_end - c0 < COL_BLOCK ? c_end - c0 : COL_BLOCK;
        for (int64_t c = 0; c < cn; c++)
            acc_g[c] = acc_b[c] = 0.0;
        for (int64_t r = 0; r < rows; r++) {
            const double mean = save_mean[r], invstd = save_invstd[r];
            for (int64_t c = 0; c < cn; c++) {
                int64_t at = r * cols + c0 + c;
                acc_g[c] += dy[at] * (x[at] - mean) * invstd;
                acc_b[c] += dy[at];
            }
        }
        for (int64_t c = 0; c < cn; c++) {
            dgamma[c0 + c] = (float)((double)dgamma[c0 + c] + acc_g[c]);
            dbeta[c0 + c] = (float)((double)dbeta[c0 + c] + acc_b[c]);
        }
    }
}

void lf__ref_layernorm_bwd_dx(float *dx, const float *dy, const float *x, const float *gamma,
                              const float *save_mean, const float *save_invstd, int64_t cols,
                              int64_t r_begin, int64_t r_end)
{
    for (int64_t r = r_begin; r < r_end; r++) {
        const double mean = save_mean[r], invstd = save_invstd[r];
        double sum_g = 0.0, sum_gx = 0.0;
        for (int64_t c = 0; c < cols; c++) {
            int64_t at = r * cols + c;
            double g = (double)dy[at] * gamma[c];
            sum_g += g;
            sum_gx += g * (x[at] - mean) * invstd;
        }
        const double mean_g = sum_g / (double)cols, mean_gx = sum_gx / (double)cols;
        for (int64_t c = 0; c < cols; c++) {
            int64_t at = r * cols + c;
            double xhat = (x[at] - mean) * invstd;
            dx[at] = (float)(invstd * ((double)dy[at] * gamma[c] - mean_g - xhat * mean_gx));
        }
    }
}

/* ---- GELU (exact erf form) ---- */

lf_status lf__ref_gelu_fwd(void *priv, float *y, const float *x, int64_t n)
{
    (void)priv;
    LF__TRY(lf__ref_gelu_fwd_args(y, x, n));
    for (int64_t i = 0; i < n; i++) {
        double v = x[i];
        y[i] = (float)(0.5 * v * (1.0 + erf(v * M_SQRT1_2)));
    }
    return LF_OK;
}

lf_status lf__ref_gelu_bwd(void *priv, float *dx, const float *dy, const float *x, int64_t n)
{
    (void)priv;
    LF__TRY(lf__ref_gelu_bwd_args(dx, dy, x, n));
    const double inv_sqrt_2pi = 0.5 * M_2_SQRTPI * M_SQRT1_2;   /* 1/√(2π) */
    for (int64_t i = 0; i < n; i++) {
        double v = x[i];
        double cdf = 0.5 * (1.0 + erf(v * M_SQRT1_2));
        double pdf = inv_sqrt_2pi * exp(-0.5 * v * v);
        dx[i] = (float)((double)dy[i] * (cdf + v * pdf));
    }
    return LF_OK;
}

/* ---- softmax backward ---- */

lf_status lf__ref_softmax_bwd(void *priv, float *dx, const float *dy, const float *y, int64_t rows,
                              int64_t cols)
{
    (void)priv;
    LF__TRY(lf__ref_softmax_bwd_args(dx, dy, y, rows, cols));
    for (int64_t r = 0; r < rows; r++) {
        const float *dyr = dy + r * cols, *yr = y + r * cols;
        double dot = 0.0;
        for (int64_t c = 0; c < cols; c++)
            dot += (double)dyr[c] * yr[c];
        float *dxr = dx + r * cols;
        for (int64_t c = 0; c < cols; c++)
            dxr[c] = (float)((double)yr[c] * ((double)dyr[c] - dot));
    }
    return LF_OK;
}

/* ---- dropout ---- */

lf_status lf__ref_dropout(void *priv, float *y, const float *x, int64_t n, float p, uint64_t seed,
                          uint64_t stream, uint64_t offset)
{
    (void)priv;
    LF__TRY(lf__ref_dropout_args(y, x, n, p, offset));
    /* 1/(1 − p) in float, as torch's noise.div_(1 − p); unused when p == 1 (nothing is kept) */
    const float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    /* the draws of uniform_at, one Philox block per four elements instead of one per element */
    uint32_t words[4];
    uint64_t block = UINT64_MAX;
    for (int64_t j = 0; j < n; j++) {
        uint64_t i = offset + (uint64_t)j;
        if (i / 4 != block) {
            block = i / 4;
            lf__philox4x32(words, seed, stream, block);
        }
        float u = (float)(words[i % 4] >> 8) * (1.0f / 16777216.0f);
        y[j] = u >= p ? x[j] * scale : 0.0f;
    }
    return LF_OK;
}

/* ---- batched transpose ---- */

lf_status lf__ref_transpose(void *priv, float *y, const float *x, int64_t batch, int64_t rows,
                            int64_t cols)
{
    (void)priv;
    LF__TRY(lf__ref_transpose_args(y, x, batch, rows, cols));
    for (int64_t b = 0; b < batch; b++) {
        const float *xb = x + b * rows * cols;
        float *yb = y + b * rows * cols;
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < cols; j++)
                yb[j * rows + i] = xb[i * cols + j];
    }
    return LF_OK;
}

/* ---- strided batched gemm ---- */

/* One reference gemm per product: exactly the results of the separate calls it replaces. */
lf_status lf__ref_gemm_batched(void *priv, int trans_a, int trans_b, int64_t m, int64_t n,
                               int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                               int64_t ldb, float beta, float *c, int64_t ldc,
                               const lf__gemm_batch *batch)
{
    LF__TRY(lf__ref_gemm_batched_check(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, batch));
    const lf__gemm_batch *g = batch;
    for (int64_t i = 0; i < g->count; i++)
        for (int64_t j = 0; j < g->group; j++)
            LF__TRY(lf__ref_gemm(priv, trans_a, trans_b, m, n, k, alpha,
                                 a + i * g->stride_a + j * g->group_stride_a, lda,
                                 b + i * g->stride_b + j * g->group_stride_b, ldb, beta,
                                 c + i * g->stride_c + j * g->group_stride_c, ldc));
    return LF_OK;
}

/* ---- Adam ---- */

lf_status lf__ref_adam_step(void *priv, float *w, float *m, float *v, const float *grad, int64_t n,
                            float lr, double beta1, double beta2, float eps, float weight_decay,
                            int64_t step)
{
    (void)priv;
    LF__TRY(lf__ref_adam_step_args(w, m, v, grad, n, beta1, beta2, step));
    /* torch.optim.Adam's single-tensor step, one float rounding per torch operation: scalars
     * (bias corrections, 1 − β) are Python doubles, rounded to float where they meet a tensor */
    const double bc1 = 1.0 - pow(beta1, (double)step), bc2 = 1.0 - pow(beta2, (double)step);
    const float step_size = (float)((double)lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    const float b1 = (float)beta1, b2 = (float)beta2;
    const float one_minus_b1 = (float)(1.0 - beta1), one_minus_b2 = (float)(1.0 - beta2);
    for (int64_t i = 0; i < n; i++) {
        float g = grad[i];
        if (weight_decay != 0.0f)
            g = g + weight_decay * w[i];
        m[i] = m[i] * b1 + one_minus_b1 * g;
        v[i] = v[i] * b2 + one_minus_b2 * g * g;
        float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        w[i] = w[i] + (-step_size) * m[i] / denom;
    }
    return LF_OK;
}
