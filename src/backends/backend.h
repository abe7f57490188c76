/* The internal backend interface: a versioned table of memory functions and tensor operations.
 * Core and methods are written once over it; the reference backend (plain C) is the oracle the
 * others are tested against. Never installed.
 *
 * Conventions (llm.c style):
 *  - Every pointer argument of an operation is backend memory (host memory for reference/cpu,
 *    device memory for cuda) unless its name ends in _host; the shape descriptors
 *    (lf__conv2d_shape, lf__gemm_batch) are host structs, read during the call.
 *  - Operations may run asynchronously (in call order) except where the host sees the data:
 *    mem_upload and every *_host input have been read, and mem_download and every *_host result
 *    are complete, when they return (core uploads from stack variables and frees host buffers
 *    right after).
 *  - mem_alloc may be asked for 0 bytes and must still return a block (or an error).
 *  - Outputs come first; shapes are explicit int64_t; arrays are row-major / NCHW, contiguous.
 *  - Activation gradients (dx) are overwritten; parameter gradients (dW, db) are accumulated
 *    (+=), so the caller zeroes them once per step.
 *  - A NULL entry means "unsupported": core returns LF_E_UNSUPPORTED naming the op (but for
 *    the optional fusions of version 6, which core then composes from the separate ops).
 *  - Append only; bump LF__BACKEND_IFACE_VERSION when the table or a descriptor grows (5:
 *    lf__conv2d_shape.inference; 6: batchnorm_relu_maxpool_fwd_eval). */
#ifndef LF_BACKENDS_BACKEND_H
#define LF_BACKENDS_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "libforget/context.h"

#define LF__BACKEND_IFACE_VERSION 6

typedef struct lf__backend_config {
    int32_t threads;  /* >= 1 */
    /* The context's host allocator (NULL, or NULL functions: the C library's). Host backends
     * (reference, cpu) keep a copy and take their state and every mem_alloc block from it, so
     * the caller's hook sees all of the library's host memory; device memory is the backend's. */
    const lf_allocator *allocator;
} lf__backend_config;

/* A 2-D convolution's sizes: input n×c_in×h_in×w_in, weight c_out×c_in×kh×kw (PyTorch layout),
 * output n×c_out×h_out×w_out with h_out = (h_in + 2·pad − kh)/stride + 1 (same for w). */
typedef struct lf__conv2d_shape {
    int64_t n, c_in, h_in, w_in;
    int64_t c_out, kh, kw;
    int64_t stride, pad;
    int64_t h_out, w_out;
    /* conv2d_fwd only: 1 when no backward will use this forward (inference): the backend may
     * take a faster algorithm whose rounding differs more from the reference's (still within
     * 1e-4 relative per op; the cpu backend's Winograd). 0 everywhere else. */
    int64_t inference;
} lf__conv2d_shape;

/* The products of a gemm_batched: count × group of them; product (i, j), i < count, j < group,
 * has its A at a + i·stride_a + j·group_stride_a (likewise B and C; strides in floats, >= 0;
 * 0 shares an operand). The C matrices may not overlap: within a group they are separate
 * (group_stride_c >= (m − 1)·ldc + n) or side by side in the same rows (group_stride_c >= n,
 * (group − 1)·group_stride_c + n <= ldc), and groups are separate (stride_c >= the extent of a
 * group). Attention's products: i the sequence, j the head, each head a slice of its rows. */
typedef struct lf__gemm_batch {
    int64_t count, group;
    int64_t stride_a, stride_b, stride_c;
    int64_t group_stride_a, group_stride_b, group_stride_c;
} lf__gemm_batch;

typedef struct lf__backend_iface {
    uint32_t    iface_version;   /* == LF__BACKEND_IFACE_VERSION */
    const char *name;            /* "reference", "cpu", "cuda" */
    int32_t     kind;            /* lf_backend_kind */

    /* ---- lifecycle ---- */
    int       (*probe)(void);    /* 1 if usable on this machine; must not initialise anything heavy */
    lf_status (*create)(void **priv, const lf__backend_config *cfg);
    void      (*destroy)(void *priv);

    /* ---- memory ---- */
    lf_status (*mem_alloc)(void *priv, void **ptr, size_t nbytes);   /* 64-byte aligned */
    void      (*mem_free)(void *priv, void *ptr);
    lf_status (*mem_upload)(void *priv, void *dst, const void *src_host, size_t nbytes);
    lf_status (*mem_download)(void *priv, void *dst_host, const void *src, size_t nbytes);
    lf_status (*mem_copy)(void *priv, void *dst, const void *src, size_t nbytes);
    lf_status (*mem_zero)(void *priv, void *dst, size_t nbytes);
    lf_status (*synchronize)(void *priv);

    /* ---- dense algebra ---- */
    /* C[m×n] = alpha·op(A)·op(B) + beta·C; op(X) = X or Xᵀ (trans_x != 0); lda/ldb/ldc are the
     * row strides of A, B, C as stored. beta == 0 means C is not read (may hold NaN). */
    lf_status (*gemm)(void *priv, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                      float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                      float beta, float *c, int64_t ldc);
    /* y[r][c] += bias[c] */
    lf_status (*bias_add_fwd)(void *priv, float *y, const float *bias, int64_t rows, int64_t cols);
    /* dbias[c] += Σ_r dy[r][c] (double accumulation in the reference) */
    lf_status (*bias_bwd)(void *priv, float *dbias, const float *dy, int64_t rows, int64_t cols);
    /* y = a·x + b·y; b == 0: y is not read */
    lf_status (*axpby)(void *priv, float *y, float a, const float *x, float b, int64_t n);

    /* ---- element-wise ---- */
    lf_status (*relu_fwd)(void *priv, float *y, const float *x, int64_t n);            /* y may be x */
    lf_status (*relu_bwd)(void *priv, float *dx, const float *dy, const float *y, int64_t n); /* dx = dy·[y>0]; dx may be dy */
    /* y[i][c][s] = (x[i][c][s] − mean_host[c]) · inv_std_host[c]; y may be x */
    lf_status (*normalize_fwd)(void *priv, float *y, const float *x, const float *mean_host,
                               const float *inv_std_host, int64_t n, int64_t channels, int64_t spatial);

    /* ---- losses ---- */
    /* probs = softmax(logits) (max-subtracted); loss[i] = −log p[i][labels[i]] computed as
     * logsumexp − logit (never log of a rounded 0). probs may be NULL. Labels outside
     * [0, classes) -> LF_E_INVALID_ARG naming the row (also in _bwd and count_correct). */
    lf_status (*softmax_xent_fwd)(void *priv, float *loss, float *probs, const float *logits,
                                  const int32_t *labels, int64_t n, int64_t classes);
    /* dlogits[i] = weight[i]·(probs[i] − onehot(labels[i])) (overwrite). weight_host[i] is the
     * per-sample weight of loss i (1/n for a batch mean; negative for gradient ascent). */
    lf_status (*softmax_xent_bwd)(void *priv, float *dlogits, const float *probs, const int32_t *labels,
                                  const float *weight_host, int64_t n, int64_t classes);
    lf_status (*softmax_fwd)(void *priv, float *probs, const float *logits, int64_t n, int64_t classes);

    /* ---- optimizer ---- */
    /* PyTorch SGD: g = grad + wd·w; buf = first_step ? g : momentum·buf + g; w −= lr·buf.
     * momentum == 0: buf is not used (may be NULL) and w −= lr·g. */
    lf_status (*sgd_step)(void *priv, float *w, float *buf, const float *grad, int64_t n,
                          float lr, float momentum, float weight_decay, int first_step);

    /* ---- reductions (results on the host) ---- */
    lf_status (*sum_squares)(void *priv, double *out_host, const float *x, int64_t n);
    lf_status (*count_nonfinite)(void *priv, int64_t *out_host, const float *x, int64_t n);
    /* number of rows i with argmax_c logits[i][c] == labels[i] (first maximum wins) */
    lf_status (*count_correct)(void *priv, int64_t *out_host, const float *logits,
                               const int32_t *labels, int64_t n, int64_t classes);

    /* ---- random fills: out[j] = lo + (hi−lo)·uniform_at(offset + j), or mean + std·normal_at(offset + j)
     * (core/rng.h defines the stream) ---- */
    lf_status (*rng_uniform)(void *priv, float *out, int64_t n, uint64_t seed, uint64_t stream,
                             uint64_t offset, float lo, float hi);
    lf_status (*rng_normal)(void *priv, float *out, int64_t n, uint64_t seed, uint64_t stream,
                            uint64_t offset, float mean, float std);
    /* ---- version 1 ends here ---- */

    /* ---- version 2: convolutional models ---- */
    /* y = conv(x, w) + bias (bias may be NULL) */
    lf_status (*conv2d_fwd)(void *priv, float *y, const float *x, const float *w, const float *bias,
                            const lf__conv2d_shape *s);
    /* dx = conv_transpose(dy, w) (overwrite) */
    lf_status (*conv2d_bwd_data)(void *priv, float *dx, const float *dy, const float *w,
                                 const lf__conv2d_shape *s);
    /* dw += dyᵀ ⋆ x; dbias += Σ dy over n, h, w (dbias may be NULL) */
    lf_status (*conv2d_bwd_weights)(void *priv, float *dw, float *dbias, const float *dy,
                                    const float *x, const lf__conv2d_shape *s);
    /* Batch norm over x of n×c×s (s = h·w; s = 1 is BatchNorm1d), PyTorch semantics: normalise
     * with the biased batch variance; running_mean/var (may be NULL: no update) become
     * (1 − momentum)·running + momentum·batch, running_var with the unbiased variance
     * (n·s/(n·s − 1)). save_mean / save_invstd (c floats each, 1/sqrt(var + eps)) are kept for
     * backward. */
    lf_status (*batchnorm_fwd_train)(void *priv, float *y, float *save_mean, float *save_invstd,
                                     float *running_mean, float *running_var, const float *x,
                                     const float *gamma, const float *beta, int64_t n, int64_t c,
                                     int64_t s, float momentum, float eps);
    lf_status (*batchnorm_fwd_eval)(void *priv, float *y, const float *x, const float *gamma,
                                    const float *beta, const float *running_mean,
                                    const float *running_var, int64_t n, int64_t c, int64_t s,
                                    float eps);
    /* dx overwritten (train-mode backward through the batch statistics); dgamma, dbeta += */
    lf_status (*batchnorm_bwd)(void *priv, float *dx, float *dgamma, float *dbeta, const float *dy,
                               const float *x, const float *gamma, const float *save_mean,
                               const float *save_invstd, int64_t n, int64_t c, int64_t s);
    /* Max pooling k×k with stride k, no padding, output h/k × w/k (floor). idx is a
     * backend-private workspace of n·c·(h/k)·(w/k) int32 filled by forward for backward (may be
     * NULL in eval mode). Ties: the first maximum in row-major window order wins. */
    lf_status (*maxpool2d_fwd)(void *priv, float *y, int32_t *idx, const float *x, int64_t n,
                               int64_t c, int64_t h, int64_t w, int64_t k);
    lf_status (*maxpool2d_bwd)(void *priv, float *dx, const float *dy, const int32_t *idx,
                               int64_t n, int64_t c, int64_t h, int64_t w, int64_t k); /* dx overwrite */
    /* y[n][c] = mean over s of x[n][c][s]; backward spreads dy/s (dx overwrite) */
    lf_status (*avgpool_global_fwd)(void *priv, float *y, const float *x, int64_t n, int64_t c, int64_t s);
    lf_status (*avgpool_global_bwd)(void *priv, float *dx, const float *dy, int64_t n, int64_t c, int64_t s);
    /* x[i] = mask[i] ? x[i] : 0 (sparse models: weights, gradients) */
    lf_status (*apply_mask)(void *priv, float *x, const uint8_t *mask, int64_t n);
    /* Eval-mode batch-norm backward (statistics fixed to running_mean/var, as after an
     * eval-mode forward): dx = dy·γ/sqrt(running_var + eps) (overwrite; dx may be dy),
     * dγ += Σ dy·x̂, dβ += Σ dy with x̂ = (x − running_mean)/sqrt(running_var + eps). */
    lf_status (*batchnorm_bwd_eval)(void *priv, float *dx, float *dgamma, float *dbeta,
                                    const float *dy, const float *x, const float *gamma,
                                    const float *running_mean, const float *running_var,
                                    int64_t n, int64_t c, int64_t s, float eps);
    /* ---- version 2 ends here ---- */

    /* ---- version 3: batch norm fused with the ReLU after it (one pass over the data instead
     * of two; each is exactly its unfused composition) ---- */
    /* y = relu(batchnorm_fwd_train(x)); y may not be x */
    lf_status (*batchnorm_relu_fwd_train)(void *priv, float *y, float *save_mean, float *save_invstd,
                                          float *running_mean, float *running_var, const float *x,
                                          const float *gamma, const float *beta, int64_t n,
                                          int64_t c, int64_t s, float momentum, float eps);
    /* y = relu(batchnorm_fwd_eval(x)) */
    lf_status (*batchnorm_relu_fwd_eval)(void *priv, float *y, const float *x, const float *gamma,
                                         const float *beta, const float *running_mean,
                                         const float *running_var, int64_t n, int64_t c, int64_t s,
                                         float eps);
    /* relu_bwd then batchnorm_bwd: dx = batchnorm_bwd(dy·[y > 0]) with y the fused forward's
     * output (dx overwritten, may be dy; dgamma, dbeta +=) */
    lf_status (*batchnorm_relu_bwd)(void *priv, float *dx, float *dgamma, float *dbeta,
                                    const float *dy, const float *y, const float *x,
                                    const float *gamma, const float *save_mean,
                                    const float *save_invstd, int64_t n, int64_t c, int64_t s);
    /* ---- version 3 ends here ---- */

    /* ---- version 4: the attacker network (transformer encoder layers, Adam) ---- */
    /* Layer norm over the last dim of x (rows × cols), PyTorch semantics: biased variance,
     * y = (x − mean)·invstd·gamma + beta with invstd = 1/sqrt(var + eps); save_mean and
     * save_invstd (rows floats each) are kept for backward. y may not be x. */
    lf_status (*layernorm_fwd)(void *priv, float *y, float *save_mean, float *save_invstd,
                               const float *x, const float *gamma, const float *beta,
                               int64_t rows, int64_t cols, float eps);
    /* dx overwritten (may be dy); dgamma, dbeta += */
    lf_status (*layernorm_bwd)(void *priv, float *dx, float *dgamma, float *dbeta, const float *dy,
                               const float *x, const float *gamma, const float *save_mean,
                               const float *save_invstd, int64_t rows, int64_t cols);
    /* torch's exact GELU: y = x·Φ(x) = x/2·(1 + erf(x/√2)); y may be x */
    lf_status (*gelu_fwd)(void *priv, float *y, const float *x, int64_t n);
    /* dx = dy·(Φ(x) + x·φ(x)) with x the forward's input; dx may be dy */
    lf_status (*gelu_bwd)(void *priv, float *dx, const float *dy, const float *x, int64_t n);
    /* Backward of softmax_fwd over rows of cols: dx = y ⊙ (dy − Σ_c dy·y), y its output;
     * dx may be dy */
    lf_status (*softmax_bwd)(void *priv, float *dx, const float *dy, const float *y, int64_t rows,
                             int64_t cols);
    /* Inverted dropout: element j is kept iff uniform_at(seed, stream, offset + j) >= p
     * (core/rng.h), y[j] = kept ? x[j]·(1/(1 − p)) : 0, p in [0, 1] (p == 1: all 0). The mask is
     * a function of (p, seed, stream, offset) only, so the backward pass is this same op on dy
     * with the same arguments (nothing is stored). y may be x. */
    lf_status (*dropout)(void *priv, float *y, const float *x, int64_t n, float p, uint64_t seed,
                         uint64_t stream, uint64_t offset);
    /* y[b][j][i] = x[b][i][j] for x of batch × rows × cols (y: batch × cols × rows); y may not
     * be x. Its backward is the same op with rows and cols swapped. */
    lf_status (*transpose)(void *priv, float *y, const float *x, int64_t batch, int64_t rows,
                           int64_t cols);
    /* PyTorch Adam (torch.optim.Adam, amsgrad off): g = grad + wd·w; m = β1·m + (1 − β1)·g;
     * v = β2·v + (1 − β2)·g²; w −= lr/(1 − β1^t) · m / (sqrt(v)/sqrt(1 − β2^t) + eps), where
     * t = step >= 1 counts the steps taken with m and v, this one included (both zero before
     * step 1). The betas are doubles, as PyTorch's Python floats: 1 − β2 from a float β2 = 0.999
     * would be off by 1e-5. */
    lf_status (*adam_step)(void *priv, float *w, float *m, float *v, const float *grad, int64_t n,
                           float lr, double beta1, double beta2, float eps, float weight_decay,
                           int64_t step);
    /* Strided batched gemm: the gemm above for every product (i, j) of the grid in *batch (see
     * lf__gemm_batch), in any order. For the many tiny products of attention (one per
     * sequence and head), which one gemm call each would spend on call and thread-pool
     * overhead. */
    lf_status (*gemm_batched)(void *priv, int trans_a, int trans_b, int64_t m, int64_t n,
                              int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                              int64_t ldb, float beta, float *c, int64_t ldc,
                              const lf__gemm_batch *batch);
    /* ---- version 4 ends here ---- */

    /* ---- version 6: inference fusions (optional: NULL means core composes the ops) ---- */
    /* y = maxpool2d_fwd(relu(batchnorm_fwd_eval(x))) without indices, x of n × c × h × w: the
     * three eval-mode ops between a convolution and the next in one pass, without writing the
     * h·w planes in between (no backward can follow: there are no indices). Exactly the
     * composition of the backend's own batchnorm_relu_fwd_eval and maxpool2d_fwd. */
    lf_status (*batchnorm_relu_maxpool_fwd_eval)(void *priv, float *y, const float *x,
                                                 const float *gamma, const float *beta,
                                                 const float *running_mean,
                                                 const float *running_var, int64_t n, int64_t c,
                                                 int64_t h, int64_t w, int64_t k, float eps);
    /* ---- version 6 ends here; append below ---- */
} lf__backend_iface;

/* A backend instance: its table and private state. */
typedef struct lf__backend {
    const lf__backend_iface *iface;
    void                    *priv;
} lf__backend;

/* Registry (registry.c): the tables built into this library, by kind; NULL if not built. */
const lf__backend_iface *lf__backend_find(int32_t kind);
const lf__backend_iface *lf__backend_reference_iface(void);
const lf__backend_iface *lf__backend_cpu_iface(void);       /* NULL when built without OpenBLAS */
/* The CUDA module's table, loaded on first call (cuda_loader.c); NULL when it is not built or
 * cannot be loaded, and then lf__backend_cuda_unavailable() says why. */
const lf__backend_iface *lf__backend_cuda_iface(void);
const char              *lf__backend_cuda_unavailable(void);

/* Calls op on ctx's backend, returning LF_E_UNSUPPORTED (naming the op) when it is NULL:
 *   LF__TRY(LF__BE(ctx, gemm, 0, 1, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n)); */
#define LF__BE(ctx, op, ...)                                                              \
    ((ctx)->backend.iface->op                                                             \
         ? (ctx)->backend.iface->op((ctx)->backend.priv, __VA_ARGS__)                     \
         : lf__error(LF_E_UNSUPPORTED, "backend '%s' has no operation '%s'",              \
                     (ctx)->backend.iface->name, #op))

#endif
