/* Batch normalisation on the caller's NCHW tensors, plain and fused with the ReLU after it:
 * OpenMP over channels (training) or planes (evaluation), vectorised loops along each
 * channel's contiguous h·w planes. oneDNN's primitives, which this replaced, need a reorder of
 * every tensor into their blocked layout and back; this reads the data twice and writes it
 * once per pass, the fused ReLU costs nothing extra, and it took a quarter to half of their
 * time on the convnet's and resnet18's shapes (bench/bench_ops.c).
 *
 * Numerics: per plane the sums run in float (vectorised), across planes in double. The
 * variance comes from one pass of sums of x − x₀ and (x − x₀)² with x₀ a value of the channel,
 * so it does not cancel the way Σx² − (Σx)²/N does when the mean is large against the spread. */
#include <math.h>

#include "core/internal.h"
#include "backends/reference/ref_kernels.h"
#include "backends/reference/ref_check.h"
#include "backends/cpu/cpu_ops.h"

/* 1 when the fast kernels take these arguments; otherwise the reference kernel handles (or
 * rejects) them, so both backends agree on every edge. */
static int plain_case(const char *op, int64_t n, int64_t c, int64_t s)
{
    return n >= 1 && c >= 1 && s >= 1 && lf__ref_batchnorm_check(op, n, c, s) == LF_OK;
}

/* ---- per plane ---- */

/* Σ (p[k] − shift) and Σ (p[k] − shift)² over one plane. */
static void plane_sums(const float *p, int64_t s, float shift, double *s1, double *s2)
{
    float a1 = 0.0f, a2 = 0.0f;
#pragma omp simd reduction(+ : a1, a2)
    for (int64_t k = 0; k < s; k++) {
        const float d = p[k] - shift;
        a1 += d;
        a2 += d * d;
    }
    *s1 += a1;
    *s2 += a2;
}

/* q = (p − mean)·scale + shift, then ReLU when relu. */
static void plane_affine(float *q, const float *p, int64_t s, float mean, float scale, float shift,
                         int relu)
{
    if (relu) {
#pragma omp simd
        for (int64_t k = 0; k < s; k++)
            q[k] = lf__cpu_bn_relu_value(p[k], mean, scale, shift);
    } else {
#pragma omp simd
        for (int64_t k = 0; k < s; k++)
            q[k] = (p[k] - mean) * scale + shift;
    }
}

/* ---- training forward ---- */

static void fwd_train(void *priv, float *y, float *save_mean, float *save_invstd, float *running_mean,
                      float *running_var, const float *x, const float *gamma, const float *beta,
                      int64_t n, int64_t c, int64_t s, float momentum, float eps, int relu)
{
    const int t = lf__cpu_threads_for(priv, n * c * s);
    const double count = (double)(n * s);
#pragma omp parallel for num_threads(t) if (t > 1) schedule(static)
    for (int64_t ch = 0; ch < c; ch++) {
        const float x0 = x[ch * s];
        double s1 = 0.0, s2 = 0.0;
        for (int64_t i = 0; i < n; i++)
            plane_sums(x + (i * c + ch) * s, s, x0, &s1, &s2);
        const double d = s1 / count;
        const double mean = x0 + d, var = fmax(s2 / count - d * d, 0.0);
        const double invstd = 1.0 / sqrt(var + eps);
        const float scale = (float)(invstd * gamma[ch]);
        for (int64_t i = 0; i < n; i++)
            plane_affine(y + (i * c + ch) * s, x + (i * c + ch) * s, s, (float)mean, scale, beta[ch],
                         relu);
        save_mean[ch] = (float)mean;
        save_invstd[ch] = (float)invstd;
        if (running_mean)
            running_mean[ch] = (float)((1.0 - momentum) * running_mean[ch] + momentum * mean);
        if (running_var)
            running_var[ch] = (float)((1.0 - momentum) * running_var[ch] +
                                      momentum * var * count / (count - 1.0));
    }
}

lf_status lf__cpu_batchnorm_fwd_train(void *priv, float *y, float *save_mean, float *save_invstd,
                                      float *running_mean, float *running_var, const float *x,
                                      const float *gamma, const float *beta, int64_t n, int64_t c,
                                      int64_t s, float momentum, float eps)
{
    if (!plain_case("batchnorm_fwd_train", n, c, s) || n * s < 2 || !y || !save_mean ||
        !save_invstd || !x || !gamma || !beta)
        return lf__ref_batchnorm_fwd_train(priv, y, save_mean, save_invstd, running_mean,
                                           running_var, x, gamma, beta, n, c, s, momentum, eps);
    fwd_train(priv, y, save_mean, save_invstd, running_mean, running_var, x, gamma, beta, n, c, s,
              momentum, eps, 0);
    return LF_OK;
}

lf_status lf__cpu_batchnorm_relu_fwd_train(void *priv, float *y, float *save_mean,
                                           float *save_invstd, float *running_mean,
                                           float *running_var, const float *x, const float *gamma,
                                           const float *beta, int64_t n, int64_t c, int64_t s,
                                           float momentum, float eps)
{
    if (!plain_case("batchnorm_relu_fwd_train", n, c, s) || n * s < 2 || !y || !save_mean ||
        !save_invstd || !x || !gamma || !beta)
        return lf__ref_batchnorm_relu_fwd_train(priv, y, save_mean, save_invstd, running_mean,
                                                running_var, x, gamma, beta, n, c, s, momentum, eps);
    fwd_train(priv, y, save_mean, save_invstd, running_mean, running_var, x, gamma, beta, n, c, s,
              momentum, eps, 1);
    return LF_OK;
}

/* ---- evaluation forward: planes are independent ---- */

static void fwd_eval(void *priv, float *y, const float *x, const float *gamma, const float *beta,
                     const float *running_mean, const float *running_var, int64_t n, int64_t c,
                     int64_t s, float eps, int relu)
{
    const int t = lf__cpu_threads_for(priv, n * c * s);
#pragma omp parallel for collapse(2) num_threads(t) if (t > 1) schedule(static)
    for (int64_t i = 0; i < n; i++)
        for (int64_t ch = 0; ch < c; ch++) {
            const float scale = lf__cpu_bn_eval_scale(gamma[ch], running_var[ch], eps);
            plane_affine(y + (i * c + ch) * s, x + (i * c + ch) * s, s, running_mean[ch], scale,
                         beta[ch], relu);
        }
}

lf_status lf__cpu_batchnorm_fwd_eval(void *priv, float *y, const float *x, const float *gamma,
                                     const float *beta, const float *running_mean,
                                     const float *running_var, int64_t n, int64_t c, int64_t s,
                                     float eps)
{
    if (!plain_case("batchnorm_fwd_eval", n, c, s) || !y || !x || !gamma || !beta ||
        !running_mean || !running_var)
        return lf__ref_batchnorm_fwd_eval(priv, y, x, gamma, beta, running_mean, running_var, n,
                                          c, s, eps);
    fwd_eval(priv, y, x, gamma, beta, running_mean, running_var, n, c, s, eps, 0);
    return LF_OK;
}

lf_status lf__cpu_batchnorm_relu_fwd_eval(void *priv, float *y, const float *x, const float *gamma,
                                          const float *beta, const float *running_mean,
                                          const float *running_var, int64_t n, int64_t c,
                                          int64_t s, float eps)
{
    if (!plain_case("batchnorm_relu_fwd_eval", n, c, s) || !y || !x || !gamma || !beta ||
        !running_mean || !running_var)
        return lf__ref_batchnorm_relu_fwd_eval(priv, y, x, gamma, beta, running_mean, running_var,
                                               n, c, s, eps);
    fwd_eval(priv, y, x, gamma, beta, running_mean, running_var, n, c, s, eps, 1);
    return LF_OK;
}

/* ---- training backward: with g = dy (or dy·[y > 0] when y is given), x̂ = (x − mean)·invstd
 * and N = n·s: dβ += Σ g, dγ += Σ g·x̂, dx = γ·invstd·(g − Σg/N − x̂·Σg·x̂/N) ---- */

/* Σ g and Σ g·(x − mean) over one plane. */
static void plane_grad_sums(const float *dy, const float *y, const float *x, int64_t s, float mean,
                            double *s1, double *s2)
{
    float a1 = 0.0f, a2 = 0.0f;
    if (y) {
#pragma omp simd reduction(+ : a1, a2)
        for (int64_t k = 0; k < s; k++) {
            const float d = dy[k];   /* read unconditionally: a conditional load stays scalar */
            const float g = y[k] > 0.0f ? d : 0.0f;
            a1 += g;
            a2 += g * (x[k] - mean);
        }
    } else {
#pragma omp simd reduction(+ : a1, a2)
        for (int64_t k = 0; k < s; k++) {
            a1 += dy[k];
            a2 += dy[k] * (x[k] - mean);
        }
    }
    *s1 += a1;
    *s2 += a2;
}

/* dx = a·(g − b − (x − mean)·k) over one plane (dx may be dy). */
static void plane_grad(float *dx, const float *dy, const float *y, const float *x, int64_t s,
                       float mean, float a, float b, float k)
{
    if (y) {
#pragma omp simd
        for (int64_t j = 0; j < s; j++) {
            const float d = dy[j];
            const float g = y[j] > 0.0f ? d : 0.0f;
            dx[j] = a * (g - b - (x[j] - mean) * k);
        }
    } else {
#pragma omp simd
        for (int64_t j = 0; j < s; j++)
            dx[j] = a * (dy[j] - b - (x[j] - mean) * k);
    }
}

static void bwd_train(void *priv, float *dx, float *dgamma, float *dbeta, const float *dy,
                      const float *y, const float *x, const float *gamma, const float *save_mean,
                      const float *save_invstd, int64_t n, int64_t c, int64_t s)
{
    const int t = lf__cpu_threads_for(priv, n * c * s);
    const double count = (double)(n * s);
#pragma omp parallel for num_threads(t) if (t > 1) schedule(static)
    for (int64_t ch = 0; ch < c; ch++) {
        const float mean = save_mean[ch];
        const double invstd = save_invstd[ch];
        double s1 = 0.0, s2 = 0.0;
        for (int64_t i = 0; i < n; i++) {
            const int64_t at = (i * c + ch) * s;
            plane_grad_sums(dy + at, y ? y + at : NULL, x + at, s, mean, &s1, &s2);
        }
        const double sum_dy = s1, sum_dy_xhat = s2 * invstd;
        dbeta[ch] += (float)sum_dy;
        dgamma[ch] += (float)sum_dy_xhat;
        const float a = (float)(gamma[ch] * invstd), b = (float)(sum_dy / count),
                    k = (float)(invstd * sum_dy_xhat / count);
        for (int64_t i = 0; i < n; i++) {
            const int64_t at = (i * c + ch) * s;
            plane_grad(dx + at, dy + at, y ? y + at : NULL, x + at, s, mean, a, b, k);
        }
    }
}

lf_status lf__cpu_batchnorm_bwd(void *priv, float *dx, float *dgamma, float *dbeta, const float *dy,
                                const float *x, const float *gamma, const float *save_mean,
                                const float *save_invstd, int64_t n, int64_t c, int64_t s)
{
    if (!plain_case("batchnorm_bwd", n, c, s) || !dx || !dgamma || !dbeta || !dy || !x || !gamma ||
        !save_mean || !save_invstd)
        return lf__ref_batchnorm_bwd(priv, dx, dgamma, dbeta, dy, x, gamma, save_mean, save_invstd,
                                     n, c, s);
    bwd_train(priv, dx, dgamma, dbeta, dy, NULL, x, gamma, save_mean, save_invstd, n, c, s);
    return LF_OK;
}

lf_status lf__cpu_batchnorm_relu_bwd(void *priv, float *dx, float *dgamma, float *dbeta,
                                     const float *dy, const float *y, const float *x,
                                     const float *gamma, const float *save_mean,
                                     const float *save_invstd, int64_t n, int64_t c, int64_t s)
{
    if (!plain_case("batchnorm_relu_bwd", n, c, s) || !dx || !dgamma || !dbeta || !dy || !y ||
        !x || !gamma || !save_mean || !save_invstd)
        return lf__ref_batchnorm_relu_bwd(priv, dx, dgamma, dbeta, dy, y, x, gamma, save_mean,
                                          save_invstd, n, c, s);
    bwd_train(priv, dx, dgamma, dbeta, dy, y, x, gamma, save_mean, save_invstd, n, c, s);
    return LF_OK;
}

/* ---- evaluation backward: the running statistics are constants, so dβ += Σ dy,
 * dγ += Σ dy·(x − running_mean)·invstd and dx = γ·invstd·dy (FF, IU and ReMI's eval-mode
 * gradients) ---- */

lf_status lf__cpu_batchnorm_bwd_eval(void *priv, float *dx, float *dgamma, float *dbeta,
                                     const float *dy, const float *x, const float *gamma,
                                     const float *running_mean, const float *running_var,
                                     int64_t n, int64_t c, int64_t s, float eps)
{
    if (!plain_case("batchnorm_bwd_eval", n, c, s) || !dx || !dgamma || !dbeta || !dy || !x ||
        !gamma || !running_mean || !running_var)
        return lf__ref_batchnorm_bwd_eval(priv, dx, dgamma, dbeta, dy, x, gamma, running_mean,
                                          running_var, n, c, s, eps);
    const int t = lf__cpu_threads_for(priv, n * c * s);
#pragma omp parallel for num_threads(t) if (t > 1) schedule(static)
    for (int64_t ch = 0; ch < c; ch++) {
        const double invstd = 1.0 / sqrt((double)running_var[ch] + eps);
        double s1 = 0.0, s2 = 0.0;
        for (int64_t i = 0; i < n; i++)   /* all sums before any write: dx may be dy */
            plane_grad_sums(dy + (i * c + ch) * s, NULL, x + (i * c + ch) * s, s,
                            running_mean[ch], &s1, &s2);
        dbeta[ch] += (float)s1;
        dgamma[ch] += (float)(s2 * invstd);
        const float a = (float)(gamma[ch] * invstd);
        for (int64_t i = 0; i < n; i++) {
            float *d = dx + (i * c + ch) * s;
            const float *g = dy + (i * c + ch) * s;
#pragma omp simd
            for (int64_t k = 0; k < s; k++)
                d[k] = a * g[k];
        }
    }
    return LF_OK;
}
