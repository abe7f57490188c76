/* The cpu backend's own operations: oneDNN convolutions (cpu_conv.c) and OpenMP loops (batch
 * norm in cpu_batchnorm.c, max pooling in cpu_pool.c, element-wise ops in cpu_elementwise.c,
 * the attacker network's in cpu_transformer.c, cpu_dropout.c and cpu_gelu.c) and small GEMMs
 * (cpu_gemm.c).
 * Each has the signature and contract of its table entry in backends/backend.h; priv is the
 * backend's lf__cpu_dnnl. Arguments outside the plain case (empty batches, NULL pointers, bad shapes) go
 * to the reference kernel, which handles or rejects them, so both backends agree on every
 * edge. */
#ifndef LF_BACKENDS_CPU_CPU_OPS_H
#define LF_BACKENDS_CPU_CPU_OPS_H

#include <math.h>
#include <stdint.h>

#include "backends/backend.h"

lf_status lf__cpu_conv2d_fwd(void *priv, float *y, const float *x, const float *w,
                             const float *bias, const lf__conv2d_shape *s);
lf_status lf__cpu_conv2d_bwd_data(void *priv, float *dx, const float *dy, const float *w,
                                  const lf__conv2d_shape *s);
lf_status lf__cpu_conv2d_bwd_weights(void *priv, float *dw, float *dbias, const float *dy,
                                     const float *x, const lf__conv2d_shape *s);

/* cpu_batchnorm.c */
lf_status lf__cpu_batchnorm_fwd_train(void *priv, float *y, float *save_mean, float *save_invstd,
                                      float *running_mean, float *running_var, const float *x,
                                      const float *gamma, const float *beta, int64_t n, int64_t c,
                                      int64_t s, float momentum, float eps);
lf_status lf__cpu_batchnorm_fwd_eval(void *priv, float *y, const float *x, const float *gamma,
                                     const float *beta, const float *running_mean,
                                     const float *running_var, int64_t n, int64_t c, int64_t s,
                                     float eps);
lf_status lf__cpu_batchnorm_bwd(void *priv, float *dx, float *dgamma, float *dbeta, const float *dy,
                                const float *x, const float *gamma, const float *save_mean,
                                const float *save_invstd, int64_t n, int64_t c, int64_t s);
lf_status lf__cpu_batchnorm_relu_fwd_train(void *priv, float *y, float *save_mean,
                                           float *save_invstd, float *running_mean,
                                           float *running_var, const float *x, const float *gamma,
                                           const float *beta, int64_t n, int64_t c, int64_t s,
                                           float momentum, float eps);
lf_status lf__cpu_batchnorm_relu_fwd_eval(void *priv, float *y, const float *x, const float *gamma,
                                          const float *beta, const float *running_mean,
                                          const float *running_var, int64_t n, int64_t c,
                                          int64_t s, float eps);
lf_status lf__cpu_batchnorm_bwd_eval(void *priv, float *dx, float *dgamma, float *dbeta,
                                     const float *dy, const float *x, const float *gamma,
                                     const float *running_mean, const float *running_var,
                                     int64_t n, int64_t c, int64_t s, float eps);
lf_status lf__cpu_batchnorm_relu_bwd(void *priv, float *dx, float *dgamma, float *dbeta,
                                     const float *dy, const float *y, const float *x,
                                     const float *gamma, const float *save_mean,
                                     const float *save_invstd, int64_t n, int64_t c, int64_t s);
/* cpu_pool.c: idx holds what the reference's does (offsets within each plane). */
lf_status lf__cpu_maxpool2d_fwd(void *priv, float *y, int32_t *idx, const float *x, int64_t n,
                                int64_t c, int64_t h, int64_t w, int64_t k);
lf_status lf__cpu_maxpool2d_bwd(void *priv, float *dx, const float *dy, const int32_t *idx,
                                int64_t n, int64_t c, int64_t h, int64_t w, int64_t k);
lf_status lf__cpu_batchnorm_relu_maxpool_fwd_eval(void *priv, float *y, const float *x,
                                                  const float *gamma, const float *beta,
                                                  const float *running_mean,
                                                  const float *running_var, int64_t n, int64_t c,
                                                  int64_t h, int64_t w, int64_t k, float eps);

/* Eval-mode batch norm + ReLU of one value, as every cpu kernel computes it: scale per
 * channel = γ/√(running_var + ε) in double, then (x − running_mean)·scale + β in float; NaN
 * passes the ReLU (as relu_fwd). */
static inline float lf__cpu_bn_eval_scale(float gamma, float running_var, float eps)
{
    return (float)(gamma / sqrt((double)running_var + eps));
}
static inline float lf__cpu_bn_relu_value(float x, float mean, float scale, float shift)
{
    const float v = (x - mean) * scale + shift;
    return v <= 0.0f ? 0.0f : v;
}

/* x86-64 with GCC or Clang: a kernel may have an AVX2 variant (a target attribute), chosen at
 * run time, with the same results as the baseline one. */
#if defined(__x86_64__) && defined(__GNUC__)
#define LF__CPU_X86 1
static inline int lf__cpu_have_avx2(void)
{
    return __builtin_cpu_supports("avx2");
}
#else
#define LF__CPU_X86 0
#endif

/* cpu_elementwise.c: the reference kernels' checks and results, on the context's threads. */
/* The threads for a loop over n elements: the context's count, or 1 for small n. */
int       lf__cpu_threads_for(const void *priv, int64_t n);
lf_status lf__cpu_relu_fwd(void *priv, float *y, const float *x, int64_t n);
lf_status lf__cpu_relu_bwd(void *priv, float *dx, const float *dy, const float *y, int64_t n);
lf_status lf__cpu_axpby(void *priv, float *y, float a, const float *x, float b, int64_t n);
lf_status lf__cpu_sgd_step(void *priv, float *w, float *buf, const float *grad, int64_t n,
                           float lr, float momentum, float weight_decay, int first_step);
lf_status lf__cpu_apply_mask(void *priv, float *x, const uint8_t *mask, int64_t n);

/* cpu_transformer.c: the attacker network's row-wise kernels and Adam on the context's threads
 * (the reference's results bit for bit, but for layer norm's last bit, rarely). */
/* [lo, hi) of chunk i when count items are cut into t contiguous chunks (sizes differ by <= 1). */
void      lf__cpu_chunk(int64_t count, int t, int i, int64_t *lo, int64_t *hi);
/* The error of a chunk that failed on a worker thread (whose error detail is lost): only
 * reachable if a kernel rejected part of arguments it accepted whole. */
lf_status lf__cpu_chunk_failed(const char *op);
/* Runs CALL (an lf_status expression of lo and hi) for t chunks of [0, count) on t threads, t
 * being the enclosing function's variable, and returns from that function: LF_OK, or
 * lf__cpu_chunk_failed(op). */
#define LF__CPU_PARALLEL_CHUNKS(op, count, CALL)                                            \
    do {                                                                                    \
        int failed_ = 0;                                                                    \
        _Pragma("omp parallel for num_threads(t) schedule(static) reduction(| : failed_)")  \
        for (int i_ = 0; i_ < t; i_++) {                                                    \
            int64_t lo, hi;                                                                 \
            lf__cpu_chunk((count), t, i_, &lo, &hi);                                        \
            failed_ |= (CALL) != LF_OK;                                                     \
        }                                                                                   \
        return failed_ ? lf__cpu_chunk_failed(op) : LF_OK;                                  \
    } while (0)
lf_status lf__cpu_layernorm_fwd(void *priv, float *y, float *save_mean, float *save_invstd,
                                const float *x, const float *gamma, const float *beta,
                                int64_t rows, int64_t cols, float eps);
lf_status lf__cpu_layernorm_bwd(void *priv, float *dx, float *dgamma, float *dbeta, const float *dy,
                                const float *x, const float *gamma, const float *save_mean,
                                const float *save_invstd, int64_t rows, int64_t cols);
lf_status lf__cpu_softmax_fwd(void *priv, float *probs, const float *logits, int64_t n,
                              int64_t classes);
lf_status lf__cpu_softmax_bwd(void *priv, float *dx, const float *dy, const float *y, int64_t rows,
                              int64_t cols);
lf_status lf__cpu_bias_add_fwd(void *priv, float *y, const float *bias, int64_t rows, int64_t cols);
lf_status lf__cpu_bias_bwd(void *priv, float *dbias, const float *dy, int64_t rows, int64_t cols);
lf_status lf__cpu_adam_step(void *priv, float *w, float *m, float *v, const float *grad, int64_t n,
                            float lr, double beta1, double beta2, float eps, float weight_decay,
                            int64_t step);

/* cpu_dropout.c: the reference's masks and values (bit for bit), vectorised Philox. */
lf_status lf__cpu_dropout(void *priv, float *y, const float *x, int64_t n, float p, uint64_t seed,
                          uint64_t stream, uint64_t offset);

/* cpu_gelu.c: the reference's double arithmetic with glibc's vector erf and exp (AVX2): the
 * reference's results or one float ulp away. */
lf_status lf__cpu_gelu_fwd(void *priv, float *y, const float *x, int64_t n);
lf_status lf__cpu_gelu_bwd(void *priv, float *dx, const float *dy, const float *x, int64_t n);

/* cpu_gemm.c: small matrices, each on one thread (float sums over k in order). */
/* Multiply-adds below which the gemm entry runs lf__cpu_gemm_small instead of the threaded
 * sgemm (whose per-call overhead is larger than such a product). */
#define LF__CPU_GEMM_SMALL_MACS (1 << 17)
int       lf__cpu_gemm_is_small(int64_t m, int64_t n, int64_t k);
lf_status lf__cpu_gemm_small(void *priv, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                             float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                             float beta, float *c, int64_t ldc);
lf_status lf__cpu_gemm_batched(void *priv, int trans_a, int trans_b, int64_t m, int64_t n,
                               int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                               int64_t ldb, float beta, float *c, int64_t ldc,
                               const lf__gemm_batch *batch);

#endif
