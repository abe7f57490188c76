/* Batch normalisation over an n×c×s device tensor (PyTorch BatchNorm1d/2d), plain and fused
 * with the ReLU after it, with the reference's numerics (ref_norm.c): per channel, the mean
 * and then the centred squares are summed in double, and every value is computed in double
 * from the unrounded statistics. Each channel's values are split over several blocks
 * (lf__chan_plan) whose partial sums a per-channel kernel adds in a fixed order, so the
 * results are deterministic; the fused variants are exactly their unfused compositions. */
#include <math.h>

#include "backends/cuda/cuda_sum.cuh"

/* ---- per-channel partial sums ---- */

enum {
    BN_SUM,        /* a = Σ x */
    BN_CENTRED,    /* a = Σ (x − mean)² with mean[ch] (double) */
    BN_GRAD,       /* a = Σ g, b = Σ g·(x − mean)·invstd, mean/invstd from save_* (floats) */
    BN_GRAD_RELU,  /* BN_GRAD with g = dy·[y > 0] */
};

/* Block b = ch·parts + part writes its part's sums to part_a[b] (and part_b[b]). */
template <int MODE>
static __global__ void batchnorm_partial_kernel(double *part_a, double *part_b, lf__chan_plan p,
                                                const float *x, const float *dy, const float *y,
                                                const double *mean_d, const float *mean_f,
                                                const float *invstd_f)
{
    for (int64_t b = blockIdx.x; b < p.c * p.parts; b += gridDim.x) {
        const int64_t ch = b / p.parts, part = b - ch * p.parts;
        double v[2] = { 0.0, 0.0 };
        if (MODE == BN_SUM) {
            lf__chan_for_each(p, ch, part, [&](int64_t at) { v[0] += x[at]; });
        } else if (MODE == BN_CENTRED) {
            const double mean = mean_d[ch];
            lf__chan_for_each(p, ch, part, [&](int64_t at) {
                const double d = x[at] - mean;
                v[0] += d * d;
            });
        } else {
            const double mean = mean_f[ch], invstd = invstd_f[ch];
            lf__chan_for_each(p, ch, part, [&](int64_t at) {
                const float g = MODE == BN_GRAD_RELU ? (y[at] > 0.0f ? dy[at] : 0.0f) : dy[at];
                v[0] += g;
                v[1] += g * (x[at] - mean) * invstd;
            });
        }
        lf__block_sum(v);
        if (threadIdx.x == 0) {
            part_a[b] = v[0];
            if (part_b)
                part_b[b] = v[1];
        }
    }
}

/* Σ over the parts of channel ch, in part order. */
static __device__ __forceinline__ double parts_sum(const double *part, int64_t ch, int64_t parts)
{
    double sum = 0.0;
    for (int64_t k = 0; k < parts; k++)
        sum += part[ch * parts + k];
    return sum;
}

static __global__ void batchnorm_mean_kernel(double *mean, const double *part_sum, int64_t c,
                                             int64_t parts, double count)
{
    for (int64_t ch = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; ch < c;
         ch += (int64_t)gridDim.x * blockDim.x)
        mean[ch] = parts_sum(part_sum, ch, parts) / count;
}

/* The variance and invstd from the centred squares; the saved and running statistics as the
 * reference computes them. invstd (double) is kept for the normalisation. */
static __global__ void batchnorm_stats_kernel(double *invstd, float *save_mean,
                                              float *save_invstd, float *running_mean,
                                              float *running_var, const double *mean,
                                              const double *part_sq, int64_t c, int64_t parts,
                                              int64_t count, float momentum, float eps)
{
    for (int64_t ch = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; ch < c;
         ch += (int64_t)gridDim.x * blockDim.x) {
        const double var = parts_sum(part_sq, ch, parts) / (double)count;
        const double is = 1.0 / sqrt(var + eps);
        invstd[ch] = is;
        save_mean[ch] = (float)mean[ch];
        save_invstd[ch] = (float)is;
        if (running_mean)
            running_mean[ch] = (float)((1.0 - momentum) * running_mean[ch] + momentum * mean[ch]);
        if (running_var)
            running_var[ch] = (float)((1.0 - momentum) * running_var[ch] +
                                      momentum * var * (double)count / (double)(count - 1));
    }
}

/* y = (x − mean)·invstd·γ + β in double, then the ReLU of the rounded value when RELU (NaN
 * passes, as relu_fwd). Training passes the batch statistics (mean_d, invstd_d); evaluation
 * passes NULL for them and the running statistics instead. */
template <bool RELU>
static __global__ void batchnorm_apply_kernel(float *y, lf__chan_plan p, const float *x,
                                              const float *gamma, const float *beta,
                                              const double *mean_d, const double *invstd_d,
                                              const float *running_mean, const float *running_var,
                                              float eps)
{
    for (int64_t b = blockIdx.x; b < p.c * p.parts; b += gridDim.x) {
        const int64_t ch = b / p.parts, part = b - ch * p.parts;
        const double mean = mean_d ? mean_d[ch] : (double)running_mean[ch];
        const double invstd = invstd_d ? invstd_d[ch] : 1.0 / sqrt((double)running_var[ch] + eps);
        const float g = gamma[ch], bt = beta[ch];
        lf__chan_for_each(p, ch, part, [&](int64_t at) {
            const float v = (float)((x[at] - mean) * invstd * g + bt);
            y[at] = RELU ? ((v > 0.0f || isnan(v)) ? v : 0.0f) : v;
        });
    }
}

/* The gradient sums (Σ g, Σ g·x̂) of each channel from its parts: dβ += Σ g and dγ += Σ g·x̂
 * (each rounded to float and added in float, as the reference); the sums are kept for dx. */
static __global__ void batchnorm_grad_sums_kernel(double *sum_g, double *sum_gx, float *dgamma,
                                                  float *dbeta, const double *part_g,
                                                  const double *part_gx, int64_t c, int64_t parts)
{
    for (int64_t ch = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; ch < c;
         ch += (int64_t)gridDim.x * blockDim.x) {
        const double a = parts_sum(part_g, ch, parts), b = parts_sum(part_gx, ch, parts);
        sum_g[ch] = a;
        sum_gx[ch] = b;
        dbeta[ch] += (float)a;
        dgamma[ch] += (float)b;
    }
}

/* dx = γ·invstd/N · (N·g − Σg − x̂·Σg·x̂) (train mode). Each value is read and written by one
 * thread, after every sum was taken: dx may be dy. */
template <bool RELU>
static __global__ void batchnorm_dx_kernel(float *dx, lf__chan_plan p, const float *dy,
                                           const float *y, const float *x, const float *gamma,
                                           const float *save_mean, const float *save_invstd,
                                           const double *sum_g, const double *sum_gx)
{
    const double count = (double)(p.n * p.s);
    for (int64_t b = blockIdx.x; b < p.c * p.parts; b += gridDim.x) {
        const int64_t ch = b / p.parts, part = b - ch * p.parts;
        const double mean = save_mean[ch], invstd = save_invstd[ch];
        const double scale = gamma[ch] * invstd / count, sg = sum_g[ch], sgx = sum_gx[ch];
        lf__chan_for_each(p, ch, part, [&](int64_t at) {
            const float g = RELU ? (y[at] > 0.0f ? dy[at] : 0.0f) : dy[at];
            const double xhat = (x[at] - mean) * invstd;
            dx[at] = (float)(scale * (count * g - sg - xhat * sgx));
        });
    }
}

/* Eval mode: the sums of dy and dy·x̂ with the running statistics, and dx = dy·γ·invstd
 * written as each value is read (dx may be dy). dy·γ is a float product, as in the
 * reference. */
static __global__ void batchnorm_bwd_eval_kernel(double *part_g, double *part_gx, float *dx,
                                                 lf__chan_plan p, const float *dy, const float *x,
                                                 const float *gamma, const float *running_mean,
                                                 const float *running_var, float eps)
{
    for (int64_t b = blockIdx.x; b < p.c * p.parts; b += gridDim.x) {
        const int64_t ch = b / p.parts, part = b - ch * p.parts;
        const double mean = running_mean[ch];
        const double invstd = 1.0 / sqrt((double)running_var[ch] + eps);
        const float gm = gamma[ch];
        double v[2] = { 0.0, 0.0 };
        lf__chan_for_each(p, ch, part, [&](int64_t at) {
            const float d = dy[at];
            v[0] += d;
            v[1] += d * (x[at] - mean) * invstd;
            const float dg = d * gm;
            dx[at] = (float)(dg * invstd);
        });
        lf__block_sum(v);
        if (threadIdx.x == 0) {
            part_g[b] = v[0];
            part_gx[b] = v[1];
        }
    }
}

/* ---- host side ---- */

/* Scratch for the plan: `arrays` arrays of c·parts doubles followed by `per_channel` arrays
 * of c doubles, carved from the context's scratch buffer. */
static lf_status bn_scratch(lf__cuda *cu, const char *op, const lf__chan_plan *p, int arrays,
                            int per_channel, double **out)
{
    const int64_t blocks = p->c * p->parts;   /* <= c + 1023 */
    if (p->c > INT64_MAX / 64 / (int64_t)sizeof(double))
        return lf__error(LF_E_NOMEM, "%s: %lld channels are too many", op, (long long)p->c);
    void *s;
    LF__TRY(lf__cuda_scratch(cu, (size_t)(arrays * blocks + per_channel * p->c) * sizeof(double),
                             &s));
    *out = (double *)s;
    return LF_OK;
}

static unsigned plan_grid(const lf__chan_plan *p)
{
    return lf__sum_grid(p->c * p->parts);
}

static lf_status fwd_train(lf__cuda *cu, const char *op, bool relu, float *y, float *save_mean,
                           float *save_invstd, float *running_mean, float *running_var,
                           const float *x, const float *gamma, const float *beta, int64_t n,
                           int64_t c, int64_t s, float momentum, float eps)
{
    if (c == 0)
        return LF_OK;
    const lf__chan_plan p = lf__chan_plan_make(n, c, s);
    double *sc;
    LF__TRY(bn_scratch(cu, op, &p, 1, 2, &sc));
    double *part = sc, *mean = part + p.c * p.parts, *invstd = mean + c;
    const unsigned grid = plan_grid(&p), cgrid = lf__cuda_blocks(c);
    /* two passes as the reference: the mean, then the centred squares (the partial sums of
     * the second pass reuse those of the first once the means are taken) */
    batchnorm_partial_kernel<BN_SUM><<<grid, LF__SUM_THREADS, 0, cu->stream>>>(
        part, NULL, p, x, NULL, NULL, NULL, NULL, NULL);
    batchnorm_mean_kernel<<<cgrid, LF__SUM_THREADS, 0, cu->stream>>>(mean, part, c, p.parts,
                                                                      (double)(n * s));
    batchnorm_partial_kernel<BN_CENTRED><<<grid, LF__SUM_THREADS, 0, cu->stream>>>(
        part, NULL, p, x, NULL, NULL, mean, NULL, NULL);
    batchnorm_stats_kernel<<<cgrid, LF__SUM_THREADS, 0, cu->stream>>>(
        invstd, save_mean, save_invstd, running_mean, running_var, mean, part, c, p.parts, n * s,
        momentum, eps);
    if (relu)
        batchnorm_apply_kernel<true><<<grid, LF__SUM_THREADS, 0, cu->stream>>>(
            y, p, x, gamma, beta, mean, invstd, NULL, NULL, eps);
    else
        batchnorm_apply_kernel<false><<<grid, LF__SUM_THREADS, 0, cu->stream>>>(
            y, p, x, gamma, beta, mean, invstd, NULL, NULL, eps);
    return lf__cuda_check(cudaGetLastError(), op);
}

extern "C" lf_status lf__cuda_batchnorm_fwd_train(void *priv, float *y, float *save_mean,
                                                  float *save_invstd, float *running_mean,
                                                  float *running_var, const float *x,
                                                  const float *gamma, const float *beta, int64_t n,
                                                  int64_t c, int64_t s, float momentum, float eps)
{
    LF__TRY(lf__ref_batchnorm_fwd_train_args(y, save_mean, save_invstd, x, gamma, beta, n, c, s));
    return fwd_train((lf__cuda *)priv, "batchnorm_fwd_train", false, y, save_mean, save_invstd,
                     running_mean, running_var, x, gamma, beta, n, c, s, momentum, eps);
}

extern "C" lf_status lf__cuda_batchnorm_relu_fwd_train(void *priv, float *y, float *save_mean,
                                                       float *save_invstd, float *running_mean,
                                                       float *running_var, const float *x,
                                                       const float *gamma, const float *beta,
                                                       int64_t n, int64_t c, int64_t s,
                                                       float momentum, float eps)
{
    const char *op = "batchnorm_relu_fwd_train";
    LF__TRY(lf__ref_batchnorm_relu_fwd_train_args(y, save_mean, save_invstd, x, gamma, beta, n, c,
                                                  s));
    return fwd_train((lf__cuda *)priv, op, true, y, save_mean, save_invstd, running_mean,
                     running_var, x, gamma, beta, n, c, s, momentum, eps);
}

static lf_status fwd_eval(lf__cuda *cu, const char *op, bool relu, float *y, const float *x,
                          const float *gamma, const float *beta, const float *running_mean,
                          const float *running_var, int64_t n, int64_t c, int64_t s, float eps)
{
    if (n * c * s == 0)
        return LF_OK;
    const lf__chan_plan p = lf__chan_plan_make(n, c, s);
    if (relu)
        batchnorm_apply_kernel<true><<<plan_grid(&p), LF__SUM_THREADS, 0, cu->stream>>>(
            y, p, x, gamma, beta, NULL, NULL, running_mean, running_var, eps);
    else
        batchnorm_apply_kernel<false><<<plan_grid(&p), LF__SUM_THREADS, 0, cu->stream>>>(
            y, p, x, gamma, beta, NULL, NULL, running_mean, running_var, eps);
    return lf__cuda_check(cudaGetLastError(), op);
}

extern "C" lf_status lf__cuda_batchnorm_fwd_eval(void *priv, float *y, const float *x,
                                                 const float *gamma, const float *beta,
                                                 const float *running_mean,
                                                 const float *running_var, int64_t n, int64_t c,
                                                 int64_t s, float eps)
{
    LF__TRY(lf__ref_batchnorm_fwd_eval_args(y, x, gamma, beta, running_mean, running_var, n, c, s));
    return fwd_eval((lf__cuda *)priv, "batchnorm_fwd_eval", false, y, x, gamma, beta,
                    running_mean, running_var, n, c, s, eps);
}

extern "C" lf_status lf__cuda_batchnorm_relu_fwd_eval(void *priv, float *y, const float *x,
                                                      const float *gamma, const float *beta,
                                                      const float *running_mean,
                                                      const float *running_var, int64_t n,
                                                      int64_t c, int64_t s, float eps)
{
    const char *op = "batchnorm_relu_fwd_eval";
    LF__TRY(lf__ref_batchnorm_relu_fwd_eval_args(y, x, gamma, beta, running_mean, running_var, n,
                                                 c, s));
    return fwd_eval((lf__cuda *)priv, op, true, y, x, gamma, beta, running_mean, running_var, n,
                    c, s, eps);
}

/* With N = n·s values per channel there is nothing to add or write when N·c == 0 (the
 * reference adds zeros). The sums are all taken before dx is written: dx may be dy. */
static lf_status bwd(lf__cuda *cu, const char *op, bool relu, float *dx, float *dgamma,
                     float *dbeta, const float *dy, const float *y, const float *x,
                     const float *gamma, const float *save_mean, const float *save_invstd,
                     int64_t n, int64_t c, int64_t s)
{
    if (n * c * s == 0)
        return LF_OK;
    const lf__chan_plan p = lf__chan_plan_make(n, c, s);
    double *sc;
    LF__TRY(bn_scratch(cu, op, &p, 2, 2, &sc));
    double *part_g = sc, *part_gx = part_g + p.c * p.parts, *sum_g = part_gx + p.c * p.parts,
           *sum_gx = sum_g + c;
    const unsigned grid = plan_grid(&p);
    if (relu)
        batchnorm_partial_kernel<BN_GRAD_RELU><<<grid, LF__SUM_THREADS, 0, cu->stream>>>(
            part_g, part_gx, p, x, dy, y, NULL, save_mean, save_invstd);
    else
        batchnorm_partial_kernel<BN_GRAD><<<grid, LF__SUM_THREADS, 0, cu->stream>>>(
            part_g, part_gx, p, x, dy, NULL, NULL, save_mean, save_invstd);
    batchnorm_grad_sums_kernel<<<lf__cuda_blocks(c), LF__SUM_THREADS, 0, cu->stream>>>(
        sum_g, sum_gx, dgamma, dbeta, part_g, part_gx, c, p.parts);
    if (relu)
        batchnorm_dx_kernel<true><<<grid, LF__SUM_THREADS, 0, cu->stream>>>(
            dx, p, dy, y, x, gamma, save_mean, save_invstd, sum_g, sum_gx);
    else
        batchnorm_dx_kernel<false><<<grid, LF__SUM_THREADS, 0, cu->stream>>>(
            dx, p, dy, NULL, x, gamma, save_mean, save_invstd, sum_g, sum_gx);
    return lf__cuda_check(cudaGetLastError(), op);
}

extern "C" lf_status lf__cuda_batchnorm_bwd(void *priv, float *dx, float *dgamma, float *dbeta,
                                            const float *dy, const float *x, const float *gamma,
                                            const float *save_mean, const float *save_invstd,
                                            int64_t n, int64_t c, int64_t s)
{
    LF__TRY(lf__ref_batchnorm_bwd_args(dx, dgamma, dbeta, dy, x, gamma, save_mean, save_invstd, n,
                                       c, s));
    return bwd((lf__cuda *)priv, "batchnorm_bwd", false, dx, dgamma, dbeta, dy, NULL, x, gamma,
               save_mean, save_invstd, n, c, s);
}

extern "C" lf_status lf__cuda_batchnorm_relu_bwd(void *priv, float *dx, float *dgamma,
                                                 float *dbeta, const float *dy, const float *y,
                                                 const float *x, const float *gamma,
                                                 const float *save_mean, const float *save_invstd,
                                                 int64_t n, int64_t c, int64_t s)
{
    const char *op = "batchnorm_relu_bwd";
    LF__TRY(lf__ref_batchnorm_relu_bwd_args(dx, dgamma, dbeta, dy, y, x, gamma, save_mean,
                                            save_invstd, n, c, s));
    return bwd((lf__cuda *)priv, op, true, dx, dgamma, dbeta, dy, y, x, gamma, save_mean,
               save_invstd, n, c, s);
}

extern "C" lf_status lf__cuda_batchnorm_bwd_eval(void *priv, float *dx, float *dgamma,
                                                 float *dbeta, const float *dy, const float *x,
                                                 const float *gamma, const float *running_mean,
                                                 const float *running_var, int64_t n, int64_t c,
                                                 int64_t s, float eps)
{
    lf__cuda *cu = (lf__cuda *)priv;
    const char *op = "batchnorm_bwd_eval";
    LF__TRY(lf__ref_batchnorm_bwd_eval_args(dx, dgamma, dbeta, dy, x, gamma, running_mean,
                                            running_var, n, c, s));
    if (n * c * s == 0)
        return LF_OK;
    const lf__chan_plan p = lf__chan_plan_make(n, c, s);
    double *sc;
    LF__TRY(bn_scratch(cu, op, &p, 2, 2, &sc));
    double *part_g = sc, *part_gx = part_g + p.c * p.parts, *sum_g = part_gx + p.c * p.parts,
           *sum_gx = sum_g + c;
    batchnorm_bwd_eval_kernel<<<plan_grid(&p), LF__SUM_THREADS, 0, cu->stream>>>(
        part_g, part_gx, dx, p, dy, x, gamma, running_mean, running_var, eps);
    batchnorm_grad_sums_kernel<<<lf__cuda_blocks(c), LF__SUM_THREADS, 0, cu->stream>>>(
        sum_g, sum_gx, dgamma, dbeta, part_g, part_gx, c, p.parts);
    return lf__cuda_check(cudaGetLastError(), op);
}
