/* The cpu backend's oneDNN operations (cpu_conv.c, cpu_norm.c, cpu_pool.c). Each has the
 * signature and contract of its table entry in backends/backend.h; priv is the backend's
 * lf__cpu_dnnl. Arguments outside the plain case (empty batches, NULL pointers, bad shapes) go
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

/* idx holds oneDNN's pooling workspace (it fits: one byte, or at most four, per output). */
lf_status lf__cpu_maxpool2d_fwd(void *priv, float *y, int32_t *idx, const float *x, int64_t n,
                                int64_t c, int64_t h, int64_t w, int64_t k);
lf_status lf__cpu_maxpool2d_bwd(void *priv, float *dx, const float *dy, const int32_t *idx,
                                int64_t n, int64_t c, int64_t h, int64_t w, int64_t k);

#endif
