/* The reference backend's pieces, shared with the other host-memory backends (cpu) so they
 * reuse the oracle's memory functions and every kernel they do not accelerate.
 *
 * Each lf__ref_<op> has exactly the signature of the table entry <op> in backends/backend.h
 * (the private pointer is ignored but by the memory functions) and follows that
 * header's contract. Shapes are validated (negative sizes, short row strides, labels out of
 * [0, classes)) and rejected with a status naming what was wrong; no kernel reads outside its
 * buffers. Reductions accumulate in double. The argument checks each kernel runs first are in
 * ref_args.h, included here for the backends that reuse them. */
#ifndef LF_BACKENDS_REFERENCE_REF_KERNELS_H
#define LF_BACKENDS_REFERENCE_REF_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"
#include "backends/reference/ref_args.h"

/* ---- host memory (reference.c) ---- */
/* The private state of every host-memory backend (reference, cpu) begins with an lf__host_mem:
 * the context's allocator (lf__backend_config.allocator), which lf__ref_mem_alloc takes its
 * blocks from (priv NULL: the C library's). A block keeps its size in a 64-byte header in front,
 * since mem_free is given no size and the hook's free wants it. */
typedef struct lf__host_mem {
    lf_allocator allocator;   /* a copy; NULL functions = the C library's */
} lf__host_mem;
/* A zeroed state block of size bytes (>= sizeof(lf__host_mem)) from cfg's allocator, its
 * lf__host_mem filled in; NULL after an LF_E_NOMEM detail naming what. */
void     *lf__host_state_alloc(const lf__backend_config *cfg, size_t size, const char *what);
/* Frees such a block through the allocator it holds; NULL is a no-op. */
void      lf__host_state_free(void *state, size_t size);
lf_status lf__ref_mem_alloc(void *priv, void **ptr, size_t nbytes);
void      lf__ref_mem_free(void *priv, void *ptr);
lf_status lf__ref_mem_copy(void *priv, void *dst, const void *src, size_t nbytes);
lf_status lf__ref_mem_zero(void *priv, void *dst, size_t nbytes);
lf_status lf__ref_synchronize(void *priv);

/* ---- kernels (ref_kernels.c) ---- */
lf_status lf__ref_gemm(void *priv, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                       float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                       float beta, float *c, int64_t ldc);
lf_status lf__ref_bias_add_fwd(void *priv, float *y, const float *bias, int64_t rows, int64_t cols);
lf_status lf__ref_bias_bwd(void *priv, float *dbias, const float *dy, int64_t rows, int64_t cols);
lf_status lf__ref_axpby(void *priv, float *y, float a, const float *x, float b, int64_t n);

lf_status lf__ref_relu_fwd(void *priv, float *y, const float *x, int64_t n);
lf_status lf__ref_relu_bwd(void *priv, float *dx, const float *dy, const float *y, int64_t n);
lf_status lf__ref_normalize_fwd(void *priv, float *y, const float *x, const float *mean_host,
                                const float *inv_std_host, int64_t n, int64_t channels,
                                int64_t spatial);

lf_status lf__ref_softmax_xent_fwd(void *priv, float *loss, float *probs, const float *logits,
                                   const int32_t *labels, int64_t n, int64_t classes);
lf_status lf__ref_softmax_xent_bwd(void *priv, float *dlogits, const float *probs,
                                   const int32_t *labels, const float *weight_host, int64_t n,
                                   int64_t classes);
lf_status lf__ref_softmax_fwd(void *priv, float *probs, const float *logits, int64_t n,
                              int64_t classes);

lf_status lf__ref_sgd_step(void *priv, float *w, float *buf, const float *grad, int64_t n,
                           float lr, float momentum, float weight_decay, int first_step);

lf_status lf__ref_sum_squares(void *priv, double *out_host, const float *x, int64_t n);
lf_status lf__ref_count_nonfinite(void *priv, int64_t *out_host, const float *x, int64_t n);
lf_status lf__ref_count_correct(void *priv, int64_t *out_host, const float *logits,
                                const int32_t *labels, int64_t n, int64_t classes);

lf_status lf__ref_rng_uniform(void *priv, float *out, int64_t n, uint64_t seed, uint64_t stream,
                              uint64_t offset, float lo, float hi);
lf_status lf__ref_rng_normal(void *priv, float *out, int64_t n, uint64_t seed, uint64_t stream,
                             uint64_t offset, float mean, float std);

/* ---- convolutional models (ref_conv.c, ref_norm.c, ref_pool.c) ---- */
lf_status lf__ref_conv2d_fwd(void *priv, float *y, const float *x, const float *w,
                             const float *bias, const lf__conv2d_shape *s);
lf_status lf__ref_conv2d_bwd_data(void *priv, float *dx, const float *dy, const float *w,
                                  const lf__conv2d_shape *s);
lf_status lf__ref_conv2d_bwd_weights(void *priv, float *dw, float *dbias, const float *dy,
                                     const float *x, const lf__conv2d_shape *s);
lf_status lf__ref_batchnorm_fwd_train(void *priv, float *y, float *save_mean, float *save_invstd,
                                      float *running_mean, float *running_var, const float *x,
                                      const float *gamma, const float *beta, int64_t n, int64_t c,
                                      int64_t s, float momentum, float eps);
lf_status lf__ref_batchnorm_fwd_eval(void *priv, float *y, const float *x, const float *gamma,
                                     const float *beta, const float *running_mean,
                                     const float *running_var, int64_t n, int64_t c, int64_t s,
                                     float eps);
lf_status lf__ref_batchnorm_bwd(void *priv, float *dx, float *dgamma, float *dbeta, const float *dy,
                                const float *x, const float *gamma, const float *save_mean,
                                const float *save_invstd, int64_t n, int64_t c, int64_t s);
lf_status lf__ref_batchnorm_bwd_eval(void *priv, float *dx, float *dgamma, float *dbeta,
                                     const float *dy, const float *x, const float *gamma,
                                     const float *running_mean, const float *running_var,
                                     int64_t n, int64_t c, int64_t s, float eps);
/* idx holds each maximum's offset within its h×w plane */
lf_status lf__ref_maxpool2d_fwd(void *priv, float *y, int32_t *idx, const float *x, int64_t n,
                                int64_t c, int64_t h, int64_t w, int64_t k);
lf_status lf__ref_maxpool2d_bwd(void *priv, float *dx, const float *dy, const int32_t *idx,
                                int64_t n, int64_t c, int64_t h, int64_t w, int64_t k);
lf_status lf__ref_avgpool_global_fwd(void *priv, float *y, const float *x, int64_t n, int64_t c,
                                     int64_t s);
lf_status lf__ref_avgpool_global_bwd(void *priv, float *dx, const float *dy, int64_t n, int64_t c,
                                     int64_t s);
lf_status lf__ref_apply_mask(void *priv, float *x, const uint8_t *mask, int64_t n);
/* maxpool2d_fwd (no indices) of batchnorm_relu_fwd_eval's output (ref_pool.c) */
lf_status lf__ref_batchnorm_relu_maxpool_fwd_eval(void *priv, float *y, const float *x,
                                                  const float *gamma, const float *beta,
                                                  const float *running_mean,
                                                  const float *running_var, int64_t n, int64_t c,
                                                  int64_t h, int64_t w, int64_t k, float eps);
/* batch norm + ReLU: the compositions of the two reference kernels (ref_norm.c) */
lf_status lf__ref_batchnorm_relu_fwd_train(void *priv, float *y, float *save_mean,
                                           float *save_invstd, float *running_mean,
                                           float *running_var, const float *x, const float *gamma,
                                           const float *beta, int64_t n, int64_t c, int64_t s,
                                           float momentum, float eps);
lf_status lf__ref_batchnorm_relu_fwd_eval(void *priv, float *y, const float *x, const float *gamma,
                                          const float *beta, const float *running_mean,
                                          const float *running_var, int64_t n, int64_t c,
                                          int64_t s, float eps);
lf_status lf__ref_batchnorm_relu_bwd(void *priv, float *dx, float *dgamma, float *dbeta,
                                     const float *dy, const float *y, const float *x,
                                     const float *gamma, const float *save_mean,
                                     const float *save_invstd, int64_t n, int64_t c, int64_t s);

/* ---- the attacker network (ref_transformer.c) ---- */
lf_status lf__ref_layernorm_fwd(void *priv, float *y, float *save_mean, float *save_invstd,
                                const float *x, const float *gamma, const float *beta,
                                int64_t rows, int64_t cols, float eps);
lf_status lf__ref_layernorm_bwd(void *priv, float *dx, float *dgamma, float *dbeta, const float *dy,
                                const float *x, const float *gamma, const float *save_mean,
                                const float *save_invstd, int64_t rows, int64_t cols);
/* layernorm_bwd's two passes over checked arguments: dgamma, dbeta += over columns
 * [c_begin, c_end) (all rows), then dx for rows [r_begin, r_end). The cpu backend splits the
 * first by columns and the second by rows over its threads, with these very sums. */
void lf__ref_layernorm_bwd_params(float *dgamma, float *dbeta, const float *dy, const float *x,
                                  const float *save_mean, const float *save_invstd, int64_t rows,
                                  int64_t cols, int64_t c_begin, int64_t c_end);
void lf__ref_layernorm_bwd_dx(float *dx, const float *dy, const float *x, const float *gamma,
                              const float *save_mean, const float *save_invstd, int64_t cols,
                              int64_t r_begin, int64_t r_end);
lf_status lf__ref_gelu_fwd(void *priv, float *y, const float *x, int64_t n);
lf_status lf__ref_gelu_bwd(void *priv, float *dx, const float *dy, const float *x, int64_t n);
lf_status lf__ref_softmax_bwd(void *priv, float *dx, const float *dy, const float *y, int64_t rows,
                              int64_t cols);
lf_status lf__ref_dropout(void *priv, float *y, const float *x, int64_t n, float p, uint64_t seed,
                          uint64_t stream, uint64_t offset);
lf_status lf__ref_transpose(void *priv, float *y, const float *x, int64_t batch, int64_t rows,
                            int64_t cols);
lf_status lf__ref_adam_step(void *priv, float *w, float *m, float *v, const float *grad, int64_t n,
                            float lr, double beta1, double beta2, float eps, float weight_decay,
                            int64_t step);
lf_status lf__ref_gemm_batched(void *priv, int trans_a, int trans_b, int64_t m, int64_t n,
                               int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                               int64_t ldb, float beta, float *c, int64_t ldc,
                               const lf__gemm_batch *batch);

#endif
