/* The cpu backend's own operations: oneDNN convolutions (cpu_conv.c) and OpenMP loops (batch
 * norm in cpu_batchnorm.c, max pooling in cpu_pool.c, element-wise ops in cpu_elementwise.c).
 * Each has the signature and contract of its table entry in backends/backend.h; priv is the
 * backend's lf__cpu_dnnl. Arguments outside the plain case (empty batches, NULL pointers, bad shapes) go
 * to the reference kernel, which handles or rejects them, so both backends agree on every
 * edge. */
#ifndef LF_BACKENDS_CPU_CPU_OPS_H
#define LF_BACKENDS_CPU_CPU_OPS_H

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
lf_status lf__cpu_batchnorm_relu_bwd(void *priv, float *dx, float *dgamma, float *dbeta,
                                     const float *dy, const float *y, const float *x,
                                     const float *gamma, const float *save_mean,
                                     const float *save_invstd, int64_t n, int64_t c, int64_t s);
/* cpu_pool.c: idx holds what the reference's does (offsets within each plane). */
lf_status lf__cpu_maxpool2d_fwd(void *priv, float *y, int32_t *idx, const float *x, int64_t n,
                                int64_t c, int64_t h, int64_t w, int64_t k);
lf_status lf__cpu_maxpool2d_bwd(void *priv, float *dx, const float *dy, const int32_t *idx,
                                int64_t n, int64_t c, int64_t h, int64_t w, int64_t k);

/* cpu_elementwise.c: the reference kernels' checks and results, on the context's threads. */
/* The threads for a loop over n elements: the context's count, or 1 for small n. */
int       lf__cpu_threads_for(const void *priv, int64_t n);
lf_status lf__cpu_relu_fwd(void *priv, float *y, const float *x, int64_t n);
lf_status lf__cpu_relu_bwd(void *priv, float *dx, const float *dy, const float *y, int64_t n);
lf_status lf__cpu_axpby(void *priv, float *y, float a, const float *x, float b, int64_t n);
lf_status lf__cpu_sgd_step(void *priv, float *w, float *buf, const float *grad, int64_t n,
                           float lr, float momentum, float weight_decay, int first_step);
lf_status lf__cpu_apply_mask(void *priv, float *x, const uint8_t *mask, int64_t n);

#endif
