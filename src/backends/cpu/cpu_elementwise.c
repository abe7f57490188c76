/* The cpu backend's element-wise kernels: the reference kernels' checks and results (the same
 * float operations in the same order per element, so bit-identical), as OpenMP loops on the
 * context's threads that the compiler vectorises (omp simd). The reference versions run on one
 * thread and, for ReLU, with a NaN test that keeps them scalar; in a convnet training step they
 * took a fifth of the time. Small inputs stay on the calling thread: waking the pool costs
 * more than they do. */
#include "core/internal.h"
#include "backends/reference/ref_args.h"
#include "backends/cpu/cpu_dnnl.h"
#include "backends/cpu/cpu_ops.h"

/* Elements below which a loop runs on the calling thread (~10 µs of work). */
enum { PAR_MIN = 1 << 15 };

int lf__cpu_threads_for(const void *priv, int64_t n)
{
    return n >= PAR_MIN ? (int)lf__cpu_dnnl_threads(priv) : 1;
}

lf_status lf__cpu_relu_fwd(void *priv, float *y, const float *x, int64_t n)
{
    LF__TRY(lf__ref_relu_fwd_args(y, x, n));
    const int t = lf__cpu_threads_for(priv, n);
    /* x <= 0 is false for NaN, which passes through as in the reference (and -0 becomes +0) */
#pragma omp parallel for simd num_threads(t) if (t > 1) schedule(static)
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i] <= 0.0f ? 0.0f : x[i];
    return LF_OK;
}

lf_status lf__cpu_relu_bwd(void *priv, float *dx, const float *dy, const float *y, int64_t n)
{
    LF__TRY(lf__ref_relu_bwd_args(dx, dy, y, n));
    const int t = lf__cpu_threads_for(priv, n);
#pragma omp parallel for simd num_threads(t) if (t > 1) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        const float g = dy[i];   /* read unconditionally: a conditional load would stay scalar */
        dx[i] = y[i] > 0.0f ? g : 0.0f;
    }
    return LF_OK;
}

lf_status lf__cpu_axpby(void *priv, float *y, float a, const float *x, float b, int64_t n)
{
    LF__TRY(lf__ref_axpby_args(y, x, n));
    const int t = lf__cpu_threads_for(priv, n);
    if (b == 0.0f) {   /* y is not read */
#pragma omp parallel for simd num_threads(t) if (t > 1) schedule(static)
        for (int64_t i = 0; i < n; i++)
            y[i] = a * x[i];
    } else {
#pragma omp parallel for simd num_threads(t) if (t > 1) schedule(static)
        for (int64_t i = 0; i < n; i++)
            y[i] = a * x[i] + b * y[i];
    }
    return LF_OK;
}

/* mask ? a : b for an all-ones or zero mask, as bit operations: a loop-invariant condition
 * (or arithmetic under one, which might trap) would keep the loop scalar. */
static inline float pick(uint32_t mask, float a, float b)
{
    union { float f; uint32_t u; } x = { a }, y = { b }, r;
    r.u = (x.u & mask) | (y.u & ~mask);
    return r.f;
}

lf_status lf__cpu_sgd_step(void *priv, float *w, float *buf, const float *grad, int64_t n,
                           float lr, float momentum, float weight_decay, int first_step)
{
    LF__TRY(lf__ref_sgd_step_args(w, buf, grad, n, momentum));
    /* the reference's torch.optim.SGD arithmetic, weight decay computed always and picked */
    const int t = lf__cpu_threads_for(priv, n);
    const uint32_t wd = weight_decay != 0.0f ? UINT32_MAX : 0;
    const float neg_lr = -lr;
    if (momentum == 0.0f) {
#pragma omp parallel for simd num_threads(t) if (t > 1) schedule(static)
        for (int64_t i = 0; i < n; i++) {
            const float gi = grad[i], wi = w[i];
            const float g = pick(wd, gi + weight_decay * wi, gi);
            w[i] = wi + neg_lr * g;
        }
    } else if (first_step) {   /* buf may hold anything: it is not read */
#pragma omp parallel for simd num_threads(t) if (t > 1) schedule(static)
        for (int64_t i = 0; i < n; i++) {
            const float gi = grad[i], wi = w[i];
            const float g = pick(wd, gi + weight_decay * wi, gi);
            buf[i] = g;
            w[i] = wi + neg_lr * g;
        }
    } else {
#pragma omp parallel for simd num_threads(t) if (t > 1) schedule(static)
        for (int64_t i = 0; i < n; i++) {
            const float gi = grad[i], wi = w[i];
            const float g = pick(wd, gi + weight_decay * wi, gi);
            const float decayed = buf[i] * momentum;
            const float v = decayed + g;
            buf[i] = v;
            w[i] = wi + neg_lr * v;
        }
    }
    return LF_OK;
}

lf_status lf__cpu_apply_mask(void *priv, float *x, const uint8_t *mask, int64_t n)
{
    LF__TRY(lf__ref_apply_mask_args(x, mask, n));
    const int t = lf__cpu_threads_for(priv, n);
#pragma omp parallel for simd num_threads(t) if (t > 1) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i];
        x[i] = mask[i] ? v : 0.0f;
    }
    return LF_OK;
}
