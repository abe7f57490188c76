/* Each operation's argument checks, defined once (ref_args.c) and run first by the reference
 * kernel, the cpu kernels that replace it and the CUDA module's launchers, so every backend
 * rejects the same inputs with the same status and message. They only look at sizes and
 * pointers, never at the data (the CUDA module's buffers are device memory): what a kernel can
 * only find by reading (a label out of range, a bad max-pool index) stays in the kernel.
 *
 * lf__ref_<op>_args takes the arguments of the table entry <op> (backends/backend.h) that are
 * checked, in the entry's order; LF_OK, or the first failure's status and detail. ref_args.c
 * needs nothing but lf__error, so it is compiled into libforget and into the CUDA module. */
#ifndef LF_BACKENDS_REFERENCE_REF_ARGS_H
#define LF_BACKENDS_REFERENCE_REF_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* inside the block: backend.h has no C++ guard of its own */
#include "backends/backend.h"

/* ---- shape checks shared by several operations ---- */
/* LF_OK when the sizes are non-negative, the row strides cover a row of each matrix as stored
 * (A is m×k, or k×m when trans_a; B is k×n, or n×k when trans_b; C is m×n) and the pointers
 * of non-empty matrices are non-NULL; otherwise an LF_E_INVALID_ARG / LF_E_SHAPE detail. */
lf_status lf__ref_gemm_check(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                             const float *a, int64_t lda, const float *b, int64_t ldb,
                             const float *c, int64_t ldc);
/* gemm_batched's argument checks (lf__ref_gemm_check's, plus the grid's counts, strides and
 * layout of C). */
lf_status lf__ref_gemm_batched_check(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                                     const float *a, int64_t lda, const float *b, int64_t ldb,
                                     const float *c, int64_t ldc, const lf__gemm_batch *batch);
/* The sizes of a convolution (and its output size), of an n×c×s tensor, of a max pooling. */
lf_status lf__ref_conv2d_check(const char *op, const lf__conv2d_shape *s);
lf_status lf__ref_batchnorm_check(const char *op, int64_t n, int64_t c, int64_t s);
lf_status lf__ref_maxpool2d_check(const char *op, int64_t n, int64_t c, int64_t h, int64_t w,
                                  int64_t k);

/* ---- per operation ---- */
lf_status lf__ref_bias_add_fwd_args(const float *y, const float *bias, int64_t rows,
                                    int64_t cols);
lf_status lf__ref_bias_bwd_args(const float *dbias, const float *dy, int64_t rows, int64_t cols);
lf_status lf__ref_axpby_args(const float *y, const float *x, int64_t n);
lf_status lf__ref_relu_fwd_args(const float *y, const float *x, int64_t n);
lf_status lf__ref_relu_bwd_args(const float *dx, const float *dy, const float *y, int64_t n);
lf_status lf__ref_normalize_fwd_args(const float *y, const float *x, const float *mean_host,
                                     const float *inv_std_host, int64_t n, int64_t channels,
                                     int64_t spatial);
/* the labels' range is the kernel's to check: it reads them */
lf_status lf__ref_softmax_xent_fwd_args(const float *loss, const float *logits,
                                        const int32_t *labels, int64_t n, int64_t classes);
lf_status lf__ref_softmax_xent_bwd_args(const float *dlogits, const float *probs,
                                        const int32_t *labels, const float *weight_host,
                                        int64_t n, int64_t classes);
lf_status lf__ref_softmax_fwd_args(const float *probs, const float *logits, int64_t n,
                                   int64_t classes);
lf_status lf__ref_sgd_step_args(const float *w, const float *buf, const float *grad, int64_t n,
                                float momentum);
lf_status lf__ref_sum_squares_args(const double *out_host, const float *x, int64_t n);
lf_status lf__ref_count_nonfinite_args(const int64_t *out_host, const float *x, int64_t n);
lf_status lf__ref_count_correct_args(const int64_t *out_host, const float *logits,
                                     const int32_t *labels, int64_t n, int64_t classes);
lf_status lf__ref_rng_uniform_args(const float *out, int64_t n);
lf_status lf__ref_rng_normal_args(const float *out, int64_t n);

lf_status lf__ref_conv2d_fwd_args(const float *y, const float *x, const float *w,
                                  const lf__conv2d_shape *s);
lf_status lf__ref_conv2d_bwd_data_args(const float *dx, const float *dy, const float *w,
                                       const lf__conv2d_shape *s);
lf_status lf__ref_conv2d_bwd_weights_args(const float *dw, const float *dy, const float *x,
                                          const lf__conv2d_shape *s);
lf_status lf__ref_batchnorm_fwd_train_args(const float *y, const float *save_mean,
                                           const float *save_invstd, const float *x,
                                           const float *gamma, const float *beta, int64_t n,
                                           int64_t c, int64_t s);
lf_status lf__ref_batchnorm_fwd_eval_args(const float *y, const float *x, const float *gamma,
                                          const float *beta, const float *running_mean,
                                          const float *running_var, int64_t n, int64_t c,
                                          int64_t s);
lf_status lf__ref_batchnorm_bwd_args(const float *dx, const float *dgamma, const float *dbeta,
                                     const float *dy, const float *x, const float *gamma,
                                     const float *save_mean, const float *save_invstd, int64_t n,
                                     int64_t c, int64_t s);
lf_status lf__ref_batchnorm_bwd_eval_args(const float *dx, const float *dgamma,
                                          const float *dbeta, const float *dy, const float *x,
                                          const float *gamma, const float *running_mean,
                                          const float *running_var, int64_t n, int64_t c,
                                          int64_t s);
/* The fused batch norm + ReLU ops: their own checks under the fused name, then those of the
 * batch norm op they compose (batchnorm_relu_bwd: batchnorm_bwd's with dx as its dy). */
lf_status lf__ref_batchnorm_relu_fwd_train_args(const float *y, const float *save_mean,
                                                const float *save_invstd, const float *x,
                                                const float *gamma, const float *beta, int64_t n,
                                                int64_t c, int64_t s);
lf_status lf__ref_batchnorm_relu_fwd_eval_args(const float *y, const float *x,
                                               const float *gamma, const float *beta,
                                               const float *running_mean,
                                               const float *running_var, int64_t n, int64_t c,
                                               int64_t s);
lf_status lf__ref_batchnorm_relu_bwd_args(const float *dx, const float *dgamma,
                                          const float *dbeta, const float *dy, const float *y,
                                          const float *x, const float *gamma,
                                          const float *save_mean, const float *save_invstd,
                                          int64_t n, int64_t c, int64_t s);
lf_status lf__ref_maxpool2d_fwd_args(const float *y, const float *x, int64_t n, int64_t c,
                                     int64_t h, int64_t w, int64_t k);
lf_status lf__ref_batchnorm_relu_maxpool_fwd_eval_args(const float *y, const float *x,
                                                       const float *gamma, const float *beta,
                                                       const float *running_mean,
                                                       const float *running_var, int64_t n,
                                                       int64_t c, int64_t h, int64_t w, int64_t k);
/* the indices' range is the kernel's to check: it reads them */
lf_status lf__ref_maxpool2d_bwd_args(const float *dx, const float *dy, const int32_t *idx,
                                     int64_t n, int64_t c, int64_t h, int64_t w, int64_t k);
lf_status lf__ref_avgpool_global_fwd_args(const float *y, const float *x, int64_t n, int64_t c,
                                          int64_t s);
lf_status lf__ref_avgpool_global_bwd_args(const float *dx, const float *dy, int64_t n,
                                          int64_t c, int64_t s);
lf_status lf__ref_apply_mask_args(const float *x, const uint8_t *mask, int64_t n);

lf_status lf__ref_layernorm_fwd_args(const float *y, const float *save_mean,
                                     const float *save_invstd, const float *x, const float *gamma,
                                     const float *beta, int64_t rows, int64_t cols);
lf_status lf__ref_layernorm_bwd_args(const float *dx, const float *dgamma, const float *dbeta,
                                     const float *dy, const float *x, const float *gamma,
                                     const float *save_mean, const float *save_invstd,
                                     int64_t rows, int64_t cols);
lf_status lf__ref_gelu_fwd_args(const float *y, const float *x, int64_t n);
lf_status lf__ref_gelu_bwd_args(const float *dx, const float *dy, const float *x, int64_t n);
lf_status lf__ref_softmax_bwd_args(const float *dx, const float *dy, const float *y,
                                   int64_t rows, int64_t cols);
lf_status lf__ref_dropout_args(const float *y, const float *x, int64_t n, float p,
                               uint64_t offset);
lf_status lf__ref_transpose_args(const float *y, const float *x, int64_t batch, int64_t rows,
                                 int64_t cols);
lf_status lf__ref_adam_step_args(const float *w, const float *m, const float *v,
                                 const float *grad, int64_t n, double beta1, double beta2,
                                 int64_t step);

#ifdef __cplusplus
}
#endif

#endif
