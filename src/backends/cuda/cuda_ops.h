/* The CUDA backend's operations: each has exactly the signature of its entry in
 * backends/backend.h (whose comments are the contract) and lives in the file named above its
 * group. Included by cuda_common.h inside its extern "C" block. */
#ifndef LF_BACKENDS_CUDA_CUDA_OPS_H
#define LF_BACKENDS_CUDA_CUDA_OPS_H

/* ---- cuda_backend.c (memory, lifecycle) ---- */
lf_status lf__cuda_mem_alloc(void *priv, void **ptr, size_t nbytes);
void lf__cuda_mem_free(void *priv, void *ptr);
lf_status lf__cuda_mem_upload(void *priv, void *dst, const void *src_host, size_t nbytes);
lf_status lf__cuda_mem_download(void *priv, void *dst_host, const void *src, size_t nbytes);
lf_status lf__cuda_mem_copy(void *priv, void *dst, const void *src, size_t nbytes);
lf_status lf__cuda_mem_zero(void *priv, void *dst, size_t nbytes);
lf_status lf__cuda_synchronize(void *priv);

/* ---- cuda_gemm.c (cuBLAS) ---- */
lf_status lf__cuda_gemm(void *priv, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                        float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                        float beta, float *c, int64_t ldc);
lf_status lf__cuda_gemm_batched(void *priv, int trans_a, int trans_b, int64_t m, int64_t n,
                                int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                                int64_t ldb, float beta, float *c, int64_t ldc,
                                const lf__gemm_batch *batch);

/* ---- cuda_elementwise.cu ---- */
lf_status lf__cuda_bias_add_fwd(void *priv, float *y, const float *bias, int64_t rows,
                                int64_t cols);
lf_status lf__cuda_bias_bwd(void *priv, float *dbias, const float *dy, int64_t rows, int64_t cols);
lf_status lf__cuda_axpby(void *priv, float *y, float a, const float *x, float b, int64_t n);
lf_status lf__cuda_relu_fwd(void *priv, float *y, const float *x, int64_t n);
lf_status lf__cuda_relu_bwd(void *priv, float *dx, const float *dy, const float *y, int64_t n);
lf_status lf__cuda_normalize_fwd(void *priv, float *y, const float *x, const float *mean_host,
                                 const float *inv_std_host, int64_t n, int64_t channels,
                                 int64_t spatial);
lf_status lf__cuda_apply_mask(void *priv, float *x, const uint8_t *mask, int64_t n);
lf_status lf__cuda_gelu_fwd(void *priv, float *y, const float *x, int64_t n);
lf_status lf__cuda_gelu_bwd(void *priv, float *dx, const float *dy, const float *x, int64_t n);
lf_status lf__cuda_transpose(void *priv, float *y, const float *x, int64_t batch, int64_t rows,
                             int64_t cols);

/* ---- cuda_loss.cu ---- */
lf_status lf__cuda_softmax_xent_fwd(void *priv, float *loss, float *probs, const float *logits,
                                    const int32_t *labels, int64_t n, int64_t classes);
lf_status lf__cuda_softmax_xent_bwd(void *priv, float *dlogits, const float *probs,
                                    const int32_t *labels, const float *weight_host, int64_t n,
                                    int64_t classes);
lf_status lf__cuda_softmax_fwd(void *priv, float *probs, const float *logits, int64_t n,
                               int64_t classes);
lf_status lf__cuda_softmax_bwd(void *priv, float *dx, const float *dy, const float *y, int64_t rows,
                               int64_t cols);
lf_status lf__cuda_count_correct(void *priv, int64_t *out_host, const float *logits,
                                 const int32_t *labels, int64_t n, int64_t classes);

/* ---- cuda_optim.cu ---- */
lf_status lf__cuda_sgd_step(void *priv, float *w, float *buf, const float *grad, int64_t n,
                            float lr, float momentum, float weight_decay, int first_step);
lf_status lf__cuda_adam_step(void *priv, float *w, float *m, float *v, const float *grad, int64_t n,
                             float lr, double beta1, double beta2, float eps, float weight_decay,
                             int64_t step);

/* ---- cuda_reduce.cu ---- */
lf_status lf__cuda_sum_squares(void *priv, double *out_host, const float *x, int64_t n);
lf_status lf__cuda_count_nonfinite(void *priv, int64_t *out_host, const float *x, int64_t n);

/* ---- cuda_rng.cu (Philox, as core/rng.h) ---- */
lf_status lf__cuda_rng_uniform(void *priv, float *out, int64_t n, uint64_t seed, uint64_t stream,
                               uint64_t offset, float lo, float hi);
lf_status lf__cuda_rng_normal(void *priv, float *out, int64_t n, uint64_t seed, uint64_t stream,
                              uint64_t offset, float mean, float std);
lf_status lf__cuda_dropout(void *priv, float *y, const float *x, int64_t n, float p, uint64_t seed,
                           uint64_t stream, uint64_t offset);

/* ---- cuda_conv.cu (im2col/col2im + cuBLAS) ---- */
lf_status lf__cuda_conv2d_fwd(void *priv, float *y, const float *x, const float *w,
                              const float *bias, const lf__conv2d_shape *s);
lf_status lf__cuda_conv2d_bwd_data(void *priv, float *dx, const float *dy, const float *w,
                                   const lf__conv2d_shape *s);
lf_status lf__cuda_conv2d_bwd_weights(void *priv, float *dw, float *dbias, const float *dy,
                                      const float *x, const lf__conv2d_shape *s);

/* ---- cuda_batchnorm.cu ---- */
lf_status lf__cuda_batchnorm_fwd_train(void *priv, float *y, float *save_mean, float *save_invstd,
                                       float *running_mean, float *running_var, const float *x,
                                       const float *gamma, const float *beta, int64_t n, int64_t c,
                                       int64_t s, float momentum, float eps);
lf_status lf__cuda_batchnorm_fwd_eval(void *priv, float *y, const float *x, const float *gamma,
                                      const float *beta, const float *running_mean,
                                      const float *running_var, int64_t n, int64_t c, int64_t s,
                                      float eps);
lf_status lf__cuda_batchnorm_bwd(void *priv, float *dx, float *dgamma, float *dbeta,
                                 const float *dy, const float *x, const float *gamma,
                                 const float *save_mean, const float *save_invstd, int64_t n,
                                 int64_t c, int64_t s);
lf_status lf__cuda_batchnorm_bwd_eval(void *priv, float *dx, float *dgamma, float *dbeta,
                                      const float *dy, const float *x, const float *gamma,
                                      const float *running_mean, const float *running_var,
                                      int64_t n, int64_t c, int64_t s, float eps);
lf_status lf__cuda_batchnorm_relu_fwd_train(void *priv, float *y, float *save_mean,
                                            float *save_invstd, float *running_mean,
                                            float *running_var, const float *x, const float *gamma,
                                            const float *beta, int64_t n, int64_t c, int64_t s,
                                            float momentum, float eps);
lf_status lf__cuda_batchnorm_relu_fwd_eval(void *priv, float *y, const float *x, const float *gamma,
                                           const float *beta, const float *running_mean,
                                           const float *running_var, int64_t n, int64_t c,
                                           int64_t s, float eps);
lf_status lf__cuda_batchnorm_relu_bwd(void *priv, float *dx, float *dgamma, float *dbeta,
                                      const float *dy, const float *y, const float *x,
                                      const float *gamma, const float *save_mean,
                                      const float *save_invstd, int64_t n, int64_t c, int64_t s);

/* ---- cuda_pool.cu ---- */
lf_status lf__cuda_maxpool2d_fwd(void *priv, float *y, int32_t *idx, const float *x, int64_t n,
                                 int64_t c, int64_t h, int64_t w, int64_t k);
lf_status lf__cuda_maxpool2d_bwd(void *priv, float *dx, const float *dy, const int32_t *idx,
                                 int64_t n, int64_t c, int64_t h, int64_t w, int64_t k);
lf_status lf__cuda_avgpool_global_fwd(void *priv, float *y, const float *x, int64_t n, int64_t c,
                                      int64_t s);
lf_status lf__cuda_avgpool_global_bwd(void *priv, float *dx, const float *dy, int64_t n, int64_t c,
                                      int64_t s);

/* ---- cuda_layernorm.cu ---- */
lf_status lf__cuda_layernorm_fwd(void *priv, float *y, float *save_mean, float *save_invstd,
                                 const float *x, const float *gamma, const float *beta,
                                 int64_t rows, int64_t cols, float eps);
lf_status lf__cuda_layernorm_bwd(void *priv, float *dx, float *dgamma, float *dbeta,
                                 const float *dy, const float *x, const float *gamma,
                                 const float *save_mean, const float *save_invstd, int64_t rows,
                                 int64_t cols);

#endif
