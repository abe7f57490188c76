/* Optimizer steps on the CUDA backend: PyTorch's SGD and Adam, the reference's arithmetic
 * (ref_kernels.c, ref_transformer.c) operation for operation. Each float operation is an _rn
 * intrinsic, which nvcc never contracts into an FMA (the reference's x86-64 build has none), so
 * the device rounds exactly where the reference does and the results agree bit for bit; the
 * scalars (bias corrections, 1 − β) are computed on the host by the reference's own
 * expressions. */
#include <math.h>

#include "backends/cuda/cuda_common.h"

enum { THREADS = 256 };   /* lf__cuda_blocks sizes grids for 256 threads a block */

/* torch.optim.SGD (dampening 0, no Nesterov): g = grad + wd·w (only when wd != 0); buf = g on
 * the first step, else buf·momentum + g; w += (−lr)·(buf or g). */
static __global__ void sgd_step_kernel(float *w, float *buf, const float *grad, int64_t n,
                                       float lr, float momentum, float weight_decay,
                                       int first_step)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        float g = grad[i];
        if (weight_decay != 0.0f)
            g = __fadd_rn(g, __fmul_rn(weight_decay, w[i]));
        if (momentum != 0.0f) {
            const float b = first_step ? g : __fadd_rn(__fmul_rn(buf[i], momentum), g);
            buf[i] = b;
            g = b;
        }
        w[i] = __fadd_rn(w[i], __fmul_rn(-lr, g));
    }
}

lf_status lf__cuda_sgd_step(void *priv, float *w, float *buf, const float *grad, int64_t n,
                            float lr, float momentum, float weight_decay, int first_step)
{
    lf__cuda *cu = (lf__cuda *)priv;
    LF__TRY(lf__ref_sgd_step_args(w, buf, grad, n, momentum));
    if (n == 0)
        return LF_OK;
    sgd_step_kernel<<<lf__cuda_blocks(n), THREADS, 0, cu->stream>>>(
        w, buf, grad, n, lr, momentum, weight_decay, first_step);
    return lf__cuda_check(cudaGetLastError(), "sgd_step");
}

/* torch.optim.Adam's single-tensor step, as lf__ref_adam_step: m = m·β1 + (1 − β1)·g;
 * v = v·β2 + ((1 − β2)·g)·g; w += ((−step_size)·m) / (sqrt(v)/bc2_sqrt + eps). */
static __global__ void adam_step_kernel(float *w, float *m, float *v, const float *grad,
                                        int64_t n, float step_size, float bc2_sqrt, float b1,
                                        float b2, float one_minus_b1, float one_minus_b2,
                                        float eps, float weight_decay)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        const float wi = w[i];
        float g = grad[i];
        if (weight_decay != 0.0f)
            g = __fadd_rn(g, __fmul_rn(weight_decay, wi));
        const float mi = __fadd_rn(__fmul_rn(m[i], b1), __fmul_rn(one_minus_b1, g));
        const float vi = __fadd_rn(__fmul_rn(v[i], b2), __fmul_rn(__fmul_rn(one_minus_b2, g), g));
        m[i] = mi;
        v[i] = vi;
        const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), bc2_sqrt), eps);
        w[i] = __fadd_rn(wi, __fdiv_rn(__fmul_rn(-step_size, mi), denom));
    }
}

lf_status lf__cuda_adam_step(void *priv, float *w, float *m, float *v, const float *grad, int64_t n,
                             float lr, double beta1, double beta2, float eps, float weight_decay,
                             int64_t step)
{
    lf__cuda *cu = (lf__cuda *)priv;
    const char *op = "adam_step";
    LF__TRY(lf__ref_adam_step_args(w, m, v, grad, n, beta1, beta2, step));
    if (n == 0)
        return LF_OK;
    /* the reference's scalars, on the host in double, rounded to float where they meet a tensor */
    const double bc1 = 1.0 - pow(beta1, (double)step), bc2 = 1.0 - pow(beta2, (double)step);
    const float step_size = (float)((double)lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    const float b1 = (float)beta1, b2 = (float)beta2;
    const float one_minus_b1 = (float)(1.0 - beta1), one_minus_b2 = (float)(1.0 - beta2);
    adam_step_kernel<<<lf__cuda_blocks(n), THREADS, 0, cu->stream>>>(
        w, m, v, grad, n, step_size, bc2_sqrt, b1, b2, one_minus_b1, one_minus_b2, eps,
        weight_decay);
    return lf__cuda_check(cudaGetLastError(), op);
}
