/* Declarations shared by the files of src/core/nn (layers, architectures, the batch staging of
 * inference and training, the training schedule) and by the white-box tests. Never installed. */
#ifndef LF_CORE_NN_INTERNAL_H
#define LF_CORE_NN_INTERNAL_H

#include "core/model_internal.h"

/* ---- architectures (one file each) ---- */
extern const lf__arch lf__arch_mlp;
extern const lf__arch lf__arch_convnet;
extern const lf__arch lf__arch_resnet18;

/* ---- backend memory with overflow-checked sizes ---- */
/* *p = count × elem_size bytes of ctx's backend memory (zeroed when zero != 0); errors name what. */
lf_status lf__nn_dev_alloc(lf_context *ctx, void **p, size_t count, size_t elem_size, int zero,
                           const char *what);
/* NULL is a no-op. */
void      lf__nn_dev_free(lf_context *ctx, void *p);

/* "<prefix>.<suffix>" (a layer's tensor name) into buf; LF_E_INVALID_ARG when too long. */
lf_status lf__nn_tensor_name(char buf[LF__MAX_NAME], const char *prefix, const char *suffix);

/* ---- model pieces kept in model_meta.c ---- */
/* Frees the user metadata (keys and values) of m. */
void      lf__model_free_metadata(lf_model *m);

/* ---- layers (llm.c style: outputs first, backend memory, explicit shapes) ---- */

/* y[n×out] = x[n×in] · Wᵀ + b, with W laid out [out][in] like torch.nn.Linear; b may be NULL. */
lf_status lf__linear_fwd(lf_context *ctx, float *y, const float *x, const float *W, const float *b,
                         int64_t n, int64_t in, int64_t out);
/* dW += dyᵀ·x, db += Σ_rows dy (db may be NULL), dx = dy·W (overwritten; dx may be NULL when
 * the input gradient is not needed). */
lf_status lf__linear_bwd(lf_context *ctx, float *dx, float *dW, float *db, const float *dy,
                         const float *x, const float *W, int64_t n, int64_t in, int64_t out);

/* Fills tensor t of a host params block with PyTorch's kaiming_uniform(a=√5) / default bias
 * init, U(−1/√fan_in, 1/√fan_in): element j is lo + (hi − lo)·lf__rng_uniform_at(seed,
 * LF__STREAM_INIT, t->offset + j) in float arithmetic, so the draw depends only on the seed and
 * the element's place in the params block. */
void lf__init_uniform_fan_in(float *params_host, const lf__tensor_desc *t, int64_t fan_in, uint64_t seed);

/* Convolution (conv2d.c), torch.nn.Conv2d's layout: weight [c_out][c_in][k][k], bias [c_out]. */
typedef struct lf__conv_layer {
    const float *w, *b;      /* b NULL without bias */
    float       *dw, *db;    /* NULL until grads exist (db NULL without bias) */
    int64_t      c_in, c_out, k, stride, pad;
    int          infer;      /* forwards are inference (LF__FWD_INFER): lf__conv2d_shape.inference */
} lf__conv_layer;
/* Declares "<prefix>.weight" (maskable) and, with bias, "<prefix>.bias". */
lf_status lf__conv_declare(lf_model *m, const char *prefix, int64_t c_out, int64_t c_in, int64_t k,
                           int bias);
/* Binds the declared tensors of "<prefix>" (LF_E_STATE when missing or misshapen). */
lf_status lf__conv_bind(const lf_model *m, const char *prefix, int64_t stride, int64_t pad,
                        lf__conv_layer *out);
/* Init as torch.nn.Conv2d.reset_parameters (fan_in = c_in·k·k) into a host params block. */
void      lf__conv_init_default(const lf_model *m, const char *prefix, float *params_host, uint64_t seed);
/* The shape of L over an n × c_in × h × w input (h_out, w_out computed). */
lf__conv2d_shape lf__conv_shape(const lf__conv_layer *L, int64_t n, int64_t h, int64_t w);
lf_status lf__conv_fwd(lf_context *ctx, const lf__conv_layer *L, float *y, const float *x,
                       const lf__conv2d_shape *s);
/* dw (db) += from dy and x; dx = input gradient (overwritten; NULL: not needed). */
lf_status lf__conv_bwd(lf_context *ctx, const lf__conv_layer *L, float *dx, const float *dy,
                       const float *x, const lf__conv2d_shape *s);

/* BatchNorm2d (batchnorm.c): "<prefix>.weight/.bias" (params), "<prefix>.running_mean/
 * .running_var/.num_batches_tracked" (buffers; the last written as I64). Momentum 0.1, eps
 * 1e-5, as PyTorch's defaults. */
typedef struct lf__bn_layer {
    const float *gamma, *beta;
    float       *dgamma, *dbeta;                  /* NULL until grads exist */
    float       *running_mean, *running_var, *num_batches_tracked;
    int64_t      c;
} lf__bn_layer;
lf_status lf__bn_declare(lf_model *m, const char *prefix, int64_t c);
lf_status lf__bn_bind(const lf_model *m, const char *prefix, lf__bn_layer *out);
/* weight 1, bias 0, running_mean 0, running_var 1, num_batches_tracked 0 (host blocks). */
void      lf__bn_init_default(const lf_model *m, const char *prefix, float *params_host,
                              float *buffers_host);
/* Train mode: batch statistics into save_mean / save_invstd (c floats each, for backward),
 * running statistics updated and num_batches_tracked += 1 (one_dev: a backend float holding
 * 1.0). Eval mode: the running statistics (save_* and one_dev unused). x is n × c × s. */
lf_status lf__bn_fwd(lf_context *ctx, const lf__bn_layer *L, float *y, float *save_mean,
                     float *save_invstd, const float *x, int64_t n, int64_t s, int train,
                     const float *one_dev);
/* Train-mode backward: dx overwritten, dgamma / dbeta accumulated. */
lf_status lf__bn_bwd(lf_context *ctx, const lf__bn_layer *L, float *dx, const float *dy,
                     const float *x, const float *save_mean, const float *save_invstd, int64_t n,
                     int64_t s);
/* Backward through an eval-mode forward (fixed running statistics): what FF, IU and ReMI need
 * for gradients of a model in eval mode. */
lf_status lf__bn_bwd_eval(lf_context *ctx, const lf__bn_layer *L, float *dx, const float *dy,
                          const float *x, int64_t n, int64_t s);
/* y = relu(bn(x)), as lf__bn_fwd then relu_fwd (y may not be x), in one backend op when the
 * backend has it. */
lf_status lf__bn_relu_fwd(lf_context *ctx, const lf__bn_layer *L, float *y, float *save_mean,
                          float *save_invstd, const float *x, int64_t n, int64_t s, int train,
                          const float *one_dev);
/* Inference: y = maxpool_k(relu(bn_eval(x))) without indices over x of n × c × h × w, in one
 * pass where the backend has the fused op, else through scratch (x's size) and the separate
 * ops. */
lf_status lf__bn_relu_maxpool_infer(lf_context *ctx, const lf__bn_layer *L, float *y,
                                    float *scratch, const float *x, int64_t n, int64_t h,
                                    int64_t w, int64_t k);
/* Backward of a train-mode lf__bn_relu_fwd (y its output): relu_bwd then lf__bn_bwd; dx may
 * be dy. */
lf_status lf__bn_relu_bwd(lf_context *ctx, const lf__bn_layer *L, float *dx, const float *dy,
                          const float *y, const float *x, const float *save_mean,
                          const float *save_invstd, int64_t n, int64_t s);

/* ---- a batch staged in backend memory, shared by inference and training ---- */
typedef struct lf__batch {
    lf_context *ctx;
    int64_t     capacity;     /* rows the buffers hold */
    size_t      sample_size;  /* floats per input (the model's C·H·W) */
    int32_t     classes;
    float      *x;            /* backend: capacity × sample_size, normalised */
    int32_t    *labels;       /* backend: capacity */
    float      *logits;       /* backend: capacity × classes */
    float      *x_host;       /* host staging for x */
    int32_t    *labels_host;  /* host staging for labels */
    int         has_norm;     /* the model normalises its inputs */
    float      *mean_host;    /* the model's per-channel mean and 1/std (channels floats) */
    float      *inv_std_host;
    int32_t     channels;
    int64_t     spatial;      /* H·W of the model's input */
} lf__batch;

/* Allocates the buffers of a batch of up to capacity rows for model m (normalisation is read
 * now: the model must not change it while the batch is in use). On failure everything is freed. */
lf_status lf__batch_init(lf__batch *b, const lf_model *m, int64_t capacity);
/* NULL-safe on a zeroed batch. */
void      lf__batch_free(lf__batch *b);
/* Stages samples of ds: idx[0..n) when idx is given, else first..first+n; uploads images
 * (normalised) and labels. n <= capacity; the caller has checked indices and shapes. */
lf_status lf__batch_load_dataset(lf__batch *b, const lf_dataset *ds, const int64_t *idx,
                                 size_t first, int64_t n);
/* Stages n raw images (host, n × sample_size) and normalises them; labels are left alone. */
lf_status lf__batch_load_images(lf__batch *b, const float *images_host, int64_t n);

/* ---- training ---- */

/* Copies the caller's options in, fills the defaults documented in model.h (seed 0 = the
 * context's; negative momentum / weight decay become 0 = none) and checks every bound
 * (LF_E_OUT_OF_RANGE naming the field and its bounds). */
lf_status lf__train_options_resolve(lf_train_options *out, const lf_train_options *opts,
                                    const lf_context *ctx);
/* The learning rate of 0-based epoch `epoch` under resolved options o: constant; multistep
 * lr·gamma^(milestones <= epoch) (PyTorch MultiStepLR); cosine lr·(1 + cos(π·epoch/epochs))/2
 * (PyTorch CosineAnnealingLR, eta_min 0, T_max = epochs). */
double lf__lr_at_epoch(const lf_train_options *o, int32_t epoch);
/* lf_model_train with the mean cross-entropy multiplied by loss_sign (-1: gradient ascent, as
 * GA unlearning does) and progress reported under `phase`. */
lf_status lf__model_train_signed(lf_model *model, const lf_dataset *ds, const lf_train_options *opts,
                                 float loss_sign, const char *phase, lf_train_result *result);
/* Called after each step's backward, before its SGD step: may add terms to m->grads (a
 * regulariser's subgradient). epoch is 0-based, of `epochs`. */
typedef lf_status (*lf__grad_hook)(void *user, lf_model *m, int32_t epoch, int32_t epochs);
/* lf__model_train_signed with a gradient hook (NULL: none). */
lf_status lf__model_train_hooked(lf_model *model, const lf_dataset *ds, const lf_train_options *opts,
                                 float loss_sign, const char *phase, lf__grad_hook hook,
                                 void *hook_user, lf_train_result *result);

#endif
