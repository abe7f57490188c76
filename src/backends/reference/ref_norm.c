/* Reference batch normalisation over x of n×c×s (PyTorch BatchNorm1d/2d semantics): statistics
 * per channel over n·s values, two passes in double (mean, then centred squares) so the
 * variance does not cancel. */
#include <math.h>
#include <stdint.h>

#include "core/internal.h"
#include "backends/reference/ref_kernels.h"
#include "backends/reference/ref_args.h"

lf_status lf__ref_batchnorm_fwd_train(void *priv, float *y, float *save_mean, float *save_invstd,
                                      float *running_mean, float *running_var, const float *x,
                                      const float *gamma, const float *beta, int64_t n, int64_t c,
                                      int64_t s, float momentum, float eps)
{
    (void)priv;
    LF__TRY(lf__ref_batchnorm_fwd_train_args(y, save_mean, save_invstd, x, gamma, beta, n, c, s));
    const int64_t count = n * s;
    for (int64_t ch = 0; ch < c; ch++) {
        double sum = 0.0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < s; k++)
                sum += x[(i * c + ch) * s + k];
        const double mean = sum / (double)count;
        double sq = 0.0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < s; k++) {
                double d = x[(i * c + ch) * s + k] - mean;
                sq += d * d;
            }
        const double var = sq / (double)count;
        const double invstd = 1.0 / sqrt(var + eps);
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < s; k++) {
                int64_t at = (i * c + ch) * s + k;
                y[at] = (float)((x[at] - mean) * invstd * gamma[ch] + beta[ch]);
            }
        save_mean[ch] = (float)mean;
        save_invstd[ch] = (float)invstd;
        if (running_mean)
            running_mean[ch] = (float)((1.0 - momentum) * running_mean[ch] + momentum * mean);
        if (running_var)
            running_var[ch] = (float)((1.0 - momentum) * running_var[ch] +
                                      momentum * var * (double)count / (double)(count - 1));
    }
    return LF_OK;
}

lf_status lf__ref_batchnorm_fwd_eval(void *priv, float *y, const float *x, const float *gamma,
                                     const float *beta, const float *running_mean,
                                     const float *running_var, int64_t n, int64_t c, int64_t s,
                                     float eps)
{
    (void)priv;
    LF__TRY(lf__ref_batchnorm_fwd_eval_args(y, x, gamma, beta, running_mean, running_var, n, c, s));
    for (int64_t ch = 0; ch < c; ch++) {
        const double invstd = 1.0 / sqrt((double)running_var[ch] + eps);
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < s; k++) {
                int64_t at = (i * c + ch) * s + k;
                y[at] = (float)((x[at] - (double)running_mean[ch]) * invstd * gamma[ch] + beta[ch]);
            }
    }
    return LF_OK;
}

/* With x̂ = (x − mean)·invstd and N = n·s values per channel:
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ·invstd/N · (N·dy − dβ − x̂·dγ).
 * The sums are taken before dx is written, so dx may be dy. */
lf_status lf__ref_batchnorm_bwd(void *priv, float *dx, float *dgamma, float *dbeta, const float *dy,
                                const float *x, const float *gamma, const float *save_mean,
                                const float *save_invstd, int64_t n, int64_t c, int64_t s)
{
    (void)priv;
    LF__TRY(lf__ref_batchnorm_bwd_args(dx, dgamma, dbeta, dy, x, gamma, save_mean, save_invstd, n,
                                       c, s));
    const double count = (double)(n * s);
    for (int64_t ch = 0; ch < c; ch++) {
        const double mean = save_mean[ch], invstd = save_invstd[ch];
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < s; k++) {
                int64_t at = (i * c + ch) * s + k;
                sum_dy += dy[at];
                sum_dy_xhat += dy[at] * (x[at] - mean) * invstd;
            }
        dbeta[ch] += (float)sum_dy;
        dgamma[ch] += (float)sum_dy_xhat;
        if (count == 0)
            continue;
        const double scale = gamma[ch] * invstd / count;
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < s; k++) {
                int64_t at = (i * c + ch) * s + k;
                double xhat = (x[at] - mean) * invstd;
                dx[at] = (float)(scale * (count * dy[at] - sum_dy - xhat * sum_dy_xhat));
            }
    }
    return LF_OK;
}

lf_status lf__ref_batchnorm_bwd_eval(void *priv, float *dx, float *dgamma, float *dbeta,
                                     const float *dy, const float *x, const float *gamma,
                                     const float *running_mean, const float *running_var,
                                     int64_t n, int64_t c, int64_t s, float eps)
{
    (void)priv;
    LF__TRY(lf__ref_batchnorm_bwd_eval_args(dx, dgamma, dbeta, dy, x, gamma, running_mean,
                                            running_var, n, c, s));
    for (int64_t ch = 0; ch < c; ch++) {
        const double mean = running_mean[ch], invstd = 1.0 / sqrt((double)running_var[ch] + eps);
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < s; k++) {
                int64_t at = (i * c + ch) * s + k;
                sum_dy += dy[at];
                sum_dy_xhat += dy[at] * (x[at] - mean) * invstd;
                dx[at] = (float)(dy[at] * gamma[ch] * invstd);   /* reads dy[at] first: dx may be dy */
            }
        dbeta[ch] += (float)sum_dy;
        dgamma[ch] += (float)sum_dy_xhat;
    }
    return LF_OK;
}

/* ---- fused with the ReLU after it: the compositions, arguments checked under the fused name ---- */

lf_status lf__ref_batchnorm_relu_fwd_train(void *priv, float *y, float *save_mean,
                                           float *save_invstd, float *running_mean,
                                           float *running_var, const float *x, const float *gamma,
                                           const float *beta, int64_t n, int64_t c, int64_t s,
                                           float momentum, float eps)
{
    LF__TRY(lf__ref_batchnorm_relu_fwd_train_args(y, save_mean, save_invstd, x, gamma, beta, n, c,
                                                  s));
    LF__TRY(lf__ref_batchnorm_fwd_train(priv, y, save_mean, save_invstd, running_mean, running_var,
                                        x, gamma, beta, n, c, s, momentum, eps));
    return lf__ref_relu_fwd(priv, y, y, n * c * s);
}

lf_status lf__ref_batchnorm_relu_fwd_eval(void *priv, float *y, const float *x, const float *gamma,
                                          const float *beta, const float *running_mean,
                                          const float *running_var, int64_t n, int64_t c,
                                          int64_t s, float eps)
{
    LF__TRY(lf__ref_batchnorm_relu_fwd_eval_args(y, x, gamma, beta, running_mean, running_var, n,
                                                 c, s));
    LF__TRY(lf__ref_batchnorm_fwd_eval(priv, y, x, gamma, beta, running_mean, running_var, n, c, s,
                                       eps));
    return lf__ref_relu_fwd(priv, y, y, n * c * s);
}

lf_status lf__ref_batchnorm_relu_bwd(void *priv, float *dx, float *dgamma, float *dbeta,
                                     const float *dy, const float *y, const float *x,
                                     const float *gamma, const float *save_mean,
                                     const float *save_invstd, int64_t n, int64_t c, int64_t s)
{
    LF__TRY(lf__ref_batchnorm_relu_bwd_args(dx, dgamma, dbeta, dy, y, x, gamma, save_mean,
                                            save_invstd, n, c, s));
    /* dx = dy·[y > 0] first: batchnorm_bwd takes its sums before writing, so dx may be its dy */
    LF__TRY(lf__ref_relu_bwd(priv, dx, dy, y, n * c * s));
    return lf__ref_batchnorm_bwd(priv, dx, dgamma, dbeta, dx, x, gamma, save_mean, save_invstd, n,
                                 c, s);
}
