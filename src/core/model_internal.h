/* Model internals (llm.c style): a table of named tensors pointing into flat blocks, so clone,
 * snapshot, zero-grad and the optimizer are single passes over one block.
 *
 *  params   trainable parameters (backend memory), n_params floats
 *  grads    their gradients, same layout (allocated on first backward)
 *  opt_buf  SGD momentum buffers, same layout (allocated on first step)
 *  buffers  non-trainable state: BN running_mean/var, num_batches_tracked (stored as float,
 *           written to files as I64), n_buffers floats (backend memory)
 *
 * Host code reads or writes tensors through lf__model_download/upload. */
#ifndef LF_CORE_MODEL_INTERNAL_H
#define LF_CORE_MODEL_INTERNAL_H

#include "libforget/model.h"
#include "core/internal.h"
#include "core/rng.h"

#define LF__MAX_DIMS 4
#define LF__MAX_NAME 96

typedef enum lf__tensor_kind {
    LF__TENSOR_PARAM  = 0,  /* lives in params (and grads, opt_buf) */
    LF__TENSOR_BUFFER = 1   /* lives in buffers */
} lf__tensor_kind;

typedef enum lf__file_dtype {  /* how a tensor is written to a model file */
    LF__FILE_F32 = 0,
    LF__FILE_I64 = 1
} lf__file_dtype;

typedef struct lf__tensor_desc {
    char     name[LF__MAX_NAME];   /* PyTorch name: "fc1.weight", "bn1.running_mean" */
    int32_t  kind;                 /* lf__tensor_kind */
    int32_t  file_dtype;           /* lf__file_dtype */
    int32_t  ndim;
    int64_t  shape[LF__MAX_DIMS];
    size_t   numel;
    size_t   offset;               /* in floats, into params or buffers */
    int32_t  maskable;             /* a pruning mask may cover it (conv weights; params only) */
    size_t   mask_offset;          /* in bytes, into masks (maskable tensors only) */
} lf__tensor_desc;

typedef struct lf__arch lf__arch;

struct lf_model {
    lf_context      *ctx;
    const lf__arch  *arch;
    int32_t          in_channels, in_height, in_width, num_classes;

    int              has_norm;
    float           *norm_mean;    /* host, in_channels (0 when !has_norm) */
    float           *norm_std;     /* host, in_channels (1 when !has_norm) */

    lf__tensor_desc *tensors;      /* host table */
    size_t           n_tensors, cap_tensors;
    size_t           n_params, n_buffers;

    float           *params, *grads, *opt_buf, *buffers;   /* backend memory */
    int64_t          opt_steps;    /* SGD steps taken with opt_buf (0 = next step is the first) */

    char           **meta_keys;    /* user metadata, host */
    char           **meta_values;
    size_t           n_meta;

    void            *arch_state;   /* activations and scratch, owned by the arch: made by
                                      forward when NULL, freed by release (DAU swaps two in
                                      and out to keep two passes' activations) */
    void            *user_data;

    /* Pruning masks (sparse models): one U8 0/1 per element of every maskable tensor, at its
     * mask_offset (backend memory, n_mask bytes); NULL for a dense model. Masked weights are
     * kept exactly 0: masks are applied to the weights after every update and on load, and to
     * the gradients before every SGD step. */
    uint8_t         *masks;
    size_t           n_mask;
};

/* lf__arch.forward's mode. Eval and inference both use the running statistics; an inference
 * forward is never followed by backward, so it may use the backend's faster, less exact
 * convolutions (lf__conv2d_shape.inference). */
enum { LF__FWD_EVAL = 0, LF__FWD_TRAIN = 1, LF__FWD_INFER = 2 };

/* Training-or-eval forward/backward over backend memory. x is the normalised input batch
 * (n × C×H×W), logits n × classes. backward accumulates into m->grads and may overwrite the
 * activations kept by forward; dx (may be NULL) receives the input gradient when the arch
 * supports it. */
struct lf__arch {
    const char *name;
    /* Declares tensors with lf__model_add_tensor for m's input shape and classes; validates them. */
    lf_status (*declare)(lf_model *m);
    /* Initialises params and buffers (host arrays laid out as the blocks) as PyTorch does. */
    lf_status (*init)(lf_model *m, float *params_host, float *buffers_host, uint64_t seed);
    lf_status (*forward)(lf_model *m, const float *x, int64_t n, int mode, float *logits);
    /* dfeatures (may be NULL) is an extra gradient on the penultimate features of the last
     * forward (n × feature dim, see lf__model_features), added to what flows back from the
     * logits. */
    lf_status (*backward)(lf_model *m, const float *dlogits, int64_t n, const float *dfeatures,
                          float *dx);
    /* Frees arch_state (activations). */
    void      (*release)(lf_model *m);
    /* Guesses the input shape and classes from a file's tensor names and shapes; returns
     * LF_E_UNKNOWN_ARCH when the tensors do not fit this arch. `find` looks a tensor up by name
     * (NULL when absent) and fills its shape. */
    lf_status (*infer)(lf_model_config *cfg, int (*find)(void *file, const char *name, int32_t *ndim,
                       int64_t shape[LF__MAX_DIMS]), void *file);
    /* 1 when any input with C·H·W equal to the model's fits (the input is flattened, as in the
     * MLP); 0 when the exact C×H×W shape is needed (convolutions). See lf__model_check_input. */
    int         flat_input;
    /* The penultimate activation of the last forward (the input of the last linear layer,
     * n × dim in backend memory); see lf__model_features. */
    lf_status (*features)(const lf_model *m, const float **feat, int64_t *dim);
};

/* The built-in architectures (arch_registry in model.c). */
const lf__arch *lf__arch_find(const char *name);
size_t          lf__arch_count(void);
const lf__arch *lf__arch_at(size_t i);

/* Creates a model of arch for cfg with its tensor table declared and blocks allocated (zeroed),
 * not initialised. */
lf_status lf__model_new(lf_model **out, lf_context *ctx, const lf__arch *arch, const lf_model_config *cfg);
/* lf__model_new in two steps: the table only (no parameter memory yet, so a file's tensors can be
 * checked against it before a size read from untrusted metadata commits any), then the blocks. */
lf_status lf__model_declare(lf_model **out, lf_context *ctx, const lf__arch *arch, const lf_model_config *cfg);
lf_status lf__model_alloc_blocks(lf_model *m);
/* Appends a tensor to the table (called from arch->declare). */
lf_status lf__model_add_tensor(lf_model *m, const char *name, lf__tensor_kind kind, lf__file_dtype dt,
                               int32_t ndim, const int64_t *shape);
const lf__tensor_desc *lf__model_find_tensor(const lf_model *m, const char *name);
/* Pointer to a tensor's first element in backend memory. */
float *lf__model_tensor_ptr(const lf_model *m, const lf__tensor_desc *t);
/* Copies a tensor between host and backend memory (numel floats). */
lf_status lf__model_download(const lf_model *m, const lf__tensor_desc *t, float *host);
lf_status lf__model_upload(lf_model *m, const lf__tensor_desc *t, const float *host);
/* Allocates grads (zeroed) / opt_buf if missing. */
lf_status lf__model_ensure_grads(lf_model *m);
lf_status lf__model_zero_grads(lf_model *m);

/* ---- appended by the nn area (src/core/nn) ---- */

/* lf__arch.forward may keep a pointer to its input x for backward (the MLP does, to form
 * fc1's weight gradient): x must stay unchanged until the matching backward call. */

/* Pointer to a parameter tensor's gradient in m->grads (grads must exist: lf__model_ensure_grads). */
float *lf__model_grad_ptr(const lf_model *m, const lf__tensor_desc *t);
/* Like lf_model_set_metadata, but reserved "libforget." keys are allowed (for the file code). */
lf_status lf__model_set_metadata_raw(lf_model *m, const char *key, const char *value);
/* LF_OK when inputs of c×h×w fit m: the same C·H·W for flat-input archs (so an MLP whose input
 * shape was guessed from a file accepts any data set of the right size), the exact shape
 * otherwise; LF_E_SHAPE naming `what` and both shapes when not. */
lf_status lf__model_check_input(const lf_model *m, int32_t c, int32_t h, int32_t w, const char *what);
/* One PyTorch SGD step over the whole params block from m->grads: allocates opt_buf on first
 * use; m->opt_steps == 0 makes it the optimizer's first step (set it to 0 to start afresh). */
lf_status lf__model_sgd_step(lf_model *m, float lr, float momentum, float weight_decay);


/* Declares name as maskable (it must be a parameter tensor already added); called from
 * arch->declare for convolution weights. */
lf_status lf__model_set_maskable(lf_model *m, const char *name);
/* The penultimate features of the last forward: *feat points at n × *dim floats in backend
 * memory (n = the rows of that forward), valid until the next forward, backward or destroy.
 * LF_E_STATE when there has been no forward. Barlow Twins (DAU) reads them and passes its
 * gradient back through arch->backward's dfeatures. */
lf_status lf__model_features(const lf_model *m, const float **feat, int64_t *dim);

/* ---- pruning masks (src/core/nn/masks.c) ---- */
/* Allocates the masks block (all ones = nothing pruned) if missing; LF_E_UNSUPPORTED when the
 * model has no maskable tensor. */
lf_status lf__model_ensure_masks(lf_model *m);
/* The mask of a maskable tensor in backend memory (t->numel bytes), NULL for a dense model or a
 * tensor that is not maskable. */
uint8_t  *lf__model_mask_ptr(const lf_model *m, const lf__tensor_desc *t);
/* block[t] ⊙= mask[t] for every maskable tensor, block being m->params or m->grads (same
 * layout); a no-op for a dense model. */
lf_status lf__model_apply_masks(lf_model *m, float *block);

#endif
