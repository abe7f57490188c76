/* libforget — models: built-in architectures, safetensors files, inference and training.
 *
 * Parameter and buffer names are PyTorch's (fc1.weight, bn1.running_mean, ...), so a state_dict
 * saved with safetensors loads directly. Inputs are raw pixels in [0, 1]; the per-channel input
 * normalisation (mean, std) is part of the model. */
#ifndef LIBFORGET_MODEL_H
#define LIBFORGET_MODEL_H

#include "libforget/context.h"
#include "libforget/dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lf_model lf_model;

/* Input shape and class count of a new model. Size-versioned. */
typedef struct lf_model_config {
    uint32_t struct_size;
    int32_t  channels;    /* input channels (1 for Fashion-MNIST, 3 for CIFAR) */
    int32_t  height;
    int32_t  width;
    int32_t  num_classes;
    uint64_t seed;        /* initialisation seed; 0 = the context's seed */
} lf_model_config;
#define LF_MODEL_CONFIG_INIT { (uint32_t)sizeof(lf_model_config), 0, 0, 0, 0, 0 }

/* Architectures built in, with PyTorch's parameter names:
 *  "mlp"      fc1 in→256, fc2 256→256, fc3 256→C, ReLU;
 *  "convnet"  two 3×3 conv + BN + ReLU + 2×2 max-pool stages (32, 64 channels), fc1 →128, fc2 →C;
 *  "resnet18" torchvision's ResNet-18 (state_dict names) with the CIFAR stem (3×3 stride-1
 *             conv1, no max-pool), global average pool, fc 512→C.
 * Initialised as PyTorch (torchvision for resnet18) does by default. LF_E_UNKNOWN_ARCH for any
 * other name. */
LF_API lf_status lf_model_create(lf_model **out, lf_context *ctx, const char *arch,
                                 const lf_model_config *config);
/* Fills a config from a data set's shape and class count. */
LF_API lf_status lf_model_config_from_dataset(lf_model_config *config, const lf_dataset *ds);

/* Number of built-in architectures and their names (NULL past the end). */
LF_API size_t      lf_arch_count(void);
LF_API const char *lf_arch_name(size_t i);

typedef struct lf_model_load_options {
    uint32_t    struct_size;
    uint32_t    reserved;
    const char *arch;   /* NULL = from the file's metadata, else inferred from tensor names/shapes */
} lf_model_load_options;
#define LF_MODEL_LOAD_OPTIONS_INIT { (uint32_t)sizeof(lf_model_load_options), 0, 0 }

/* Loads a .safetensors file (F32, F16, BF16, F64 tensors; I64 num_batches_tracked; U8 masks).
 * A file without libforget metadata (e.g. written from a PyTorch state_dict) loads too: the
 * architecture comes from opts->arch or is inferred; missing normalisation means none. */
LF_API lf_status lf_model_load(lf_model **out, lf_context *ctx, const char *path,
                               const lf_model_load_options *opts);
/* Writes F32 safetensors atomically (temporary file in the same folder, then rename). */
LF_API lf_status lf_model_save(const lf_model *model, const char *path);

/* A deep copy (parameters, buffers, masks, metadata); optimizer state is not copied. */
LF_API lf_status lf_model_clone(lf_model **out, const lf_model *src);
/* NULL is a no-op. */
LF_API void      lf_model_destroy(lf_model *model);

LF_API const char *lf_model_arch(const lf_model *model);
LF_API int32_t     lf_model_num_classes(const lf_model *model);
/* Any out-pointer may be NULL. */
LF_API lf_status   lf_model_input_shape(const lf_model *model, int32_t *channels, int32_t *height,
                                        int32_t *width);
/* Trainable parameters, in the order of lf_model_get_params. */
LF_API size_t      lf_model_num_params(const lf_model *model);
LF_API lf_status   lf_model_get_params(const lf_model *model, float *dst, size_t n);
/* A NaN or infinite value is refused (LF_E_NUMERIC naming it); the model is then unchanged. */
LF_API lf_status   lf_model_set_params(lf_model *model, const float *src, size_t n);
LF_API void        lf_model_set_user_data(lf_model *model, void *user_data);
LF_API void       *lf_model_get_user_data(const lf_model *model);

/* Per-channel input normalisation x' = (x - mean[c]) / std[c]; n = input channels; std > 0. */
LF_API lf_status lf_model_set_normalization(lf_model *model, const float *mean, const float *std, size_t n);
/* Copies mean and std (n = input channels); *has_norm (may be NULL) = 0 when none is set, in
 * which case mean = 0 and std = 1 are returned. */
LF_API lf_status lf_model_get_normalization(const lf_model *model, float *mean, float *std, size_t n,
                                            int *has_norm);

/* Free-form string metadata stored in the file's __metadata__ (keys starting "libforget." are
 * reserved for the library). get: *value is borrowed until the model changes or is destroyed;
 * LF_E_INVALID_ARG with a NULL *value when absent. */
LF_API lf_status lf_model_set_metadata(lf_model *model, const char *key, const char *value);
LF_API lf_status lf_model_get_metadata(const lf_model *model, const char *key, const char **value);

/* Eval-mode inference on raw images (n × C×H×W floats in [0,1]): logits into n × classes.
 * A NaN or infinite pixel -> LF_E_NUMERIC naming the sample. */
LF_API lf_status lf_model_forward(lf_model *model, const float *images, size_t n, float *logits);
/* Eval-mode inference on samples [first, first+count) of ds; logits and/or probabilities
 * (softmax) into count × classes buffers (either may be NULL). */
LF_API lf_status lf_model_predict(lf_model *model, const lf_dataset *ds, size_t first, size_t count,
                                  float *logits, float *probs);
/* Top-1 accuracy in [0, 1] over ds, eval mode. */
LF_API lf_status lf_model_accuracy(lf_model *model, const lf_dataset *ds, double *accuracy);

typedef enum lf_lr_schedule {
    LF_LR_CONSTANT  = 0,
    LF_LR_MULTISTEP = 1, /* lr *= gamma at each milestone epoch */
    LF_LR_COSINE    = 2  /* per-epoch cosine annealing from lr to 0 (PyTorch CosineAnnealingLR) */
} lf_lr_schedule;

/* SGD with momentum and weight decay in PyTorch semantics. Zero fields mean the default given. */
typedef struct lf_train_options {
    uint32_t       struct_size;
    int32_t        epochs;        /* 0 = 10 */
    int32_t        batch_size;    /* 0 = 128 */
    int32_t        schedule;      /* lf_lr_schedule; 0 = constant */
    double         lr;            /* 0 = 0.05 */
    double         momentum;      /* 0 = 0.9; negative = no momentum */
    double         weight_decay;  /* 0 = 5e-4; negative = none */
    double         gamma;         /* multistep factor; 0 = 0.1 */
    int32_t        milestones[4]; /* multistep epochs (0 = unused) */
    uint64_t       seed;          /* shuffling seed; 0 = the context's seed */
    lf_progress_fn progress;      /* called after every step; may abort */
    void          *progress_user;
} lf_train_options;
#define LF_TRAIN_OPTIONS_INIT { (uint32_t)sizeof(lf_train_options), 0, 0, 0, 0.0, 0.0, 0.0, 0.0, { 0, 0, 0, 0 }, 0, 0, 0 }

typedef struct lf_train_result {
    uint32_t struct_size;
    int32_t  epochs;          /* epochs completed */
    int64_t  steps;           /* SGD steps taken */
    double   final_loss;      /* mean training loss of the last epoch */
    double   train_accuracy;  /* running train-mode accuracy of the last epoch, in [0,1] */
    double   seconds;         /* wall time of the training loop */
} lf_train_result;
#define LF_TRAIN_RESULT_INIT { (uint32_t)sizeof(lf_train_result), 0, 0, 0.0, 0.0, 0.0 }

/* Trains in place on ds. On error or abort the model keeps the parameters it had before the
 * call. result may be NULL. LF_E_NUMERIC if the loss or the weights become non-finite. */
LF_API lf_status lf_model_train(lf_model *model, const lf_dataset *ds, const lf_train_options *opts,
                                lf_train_result *result);

/* Sparse models. Prunes the convolution weights (every conv, the first one and 1×1 shortcuts
 * included; linear layers, batch norm and biases are never pruned) by one global magnitude
 * threshold: the round(sparsity·N) weights of smallest |w| among all N conv weights get a 0
 * mask (ties: the earlier tensor in state_dict order, then the earlier element, goes first).
 * Masked weights are set to 0 and stay 0 through training (their gradients are masked and the
 * weights re-masked after each step) and lf_model_set_params; masks are saved with the model
 * ("<weight name>_mask" U8 tensors) and copied by lf_model_clone. Pruning an already sparse
 * model never revives a masked weight. sparsity in (0, 1); 0 = 0.95. LF_E_UNSUPPORTED for a
 * model without convolutions (mlp). */
LF_API lf_status lf_model_prune(lf_model *model, double sparsity);
/* The fraction of masked conv weights in [0, 1]; 0 for a dense model. */
LF_API lf_status lf_model_sparsity(const lf_model *model, double *out);

#ifdef __cplusplus
}
#endif
#endif
