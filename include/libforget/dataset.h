/* libforget — data sets: loaders, views and the unlearning protocol's splits.
 *
 * Samples are float32 NCHW in [0, 1] (raw pixels / 255) with int32 labels in [0, classes).
 * A view is an index subset of another data set: it shares storage and keeps it alive, so a view
 * may outlive the data set it was made from. Every data set is immutable once created.
 *
 * Threads: a data set may be shared by several threads and contexts (e.g. one training set for
 * parallel unlearning runs in contexts of their own): reading it, and making views and splits
 * of it, are safe concurrently. The views' bookkeeping is allocated from the data set's own
 * context (see lf_allocator). Destroying a handle must not race with other uses of that same
 * handle. */
#ifndef LIBFORGET_DATASET_H
#define LIBFORGET_DATASET_H

#include "libforget/context.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lf_dataset lf_dataset;

/* IDX files (the MNIST family), gzip-compressed or raw (detected from the content).
 * Images: magic 0x00000803, N×H×W uint8; labels: 0x00000801, N uint8. num_classes 0 = max label+1. */
LF_API lf_status lf_dataset_load_idx(lf_dataset **out, lf_context *ctx, const char *images_path,
                                     const char *labels_path, int32_t num_classes);

/* CIFAR binary batches: records of <label byte(s)><3072 pixel bytes>. classes = 10 (one label
 * byte) or 100 (coarse + fine label bytes; the fine label is used). Several files are
 * concatenated in the order given. */
LF_API lf_status lf_dataset_load_cifar(lf_dataset **out, lf_context *ctx, const char *const *paths,
                                       size_t n_paths, int32_t classes);

/* NumPy .npy (format 1.0/2.0, C order): images uint8 (divided by 255) or float32 (taken as is),
 * shape N×H×W (one channel) or N×C×H×W; labels any of int8..int64 / uint8..uint64, shape N.
 * num_classes 0 = max label+1. */
LF_API lf_status lf_dataset_load_npy(lf_dataset **out, lf_context *ctx, const char *images_path,
                                     const char *labels_path, int32_t num_classes);

/* Flags for lf_dataset_from_memory. */
#define LF_DATASET_BORROW 0x1u /* keep the caller's arrays (they must outlive the data set and
                                  every view of it) instead of copying them */

/* Caller memory: n samples of channels×height×width floats in [0,1], labels in [0, num_classes). */
LF_API lf_status lf_dataset_from_memory(lf_dataset **out, lf_context *ctx, const float *images,
                                        const int32_t *labels, size_t n, int32_t channels,
                                        int32_t height, int32_t width, int32_t num_classes,
                                        uint32_t flags);

/* A built-in data set by name, e.g. "fashion-mnist" (Debian's dataset-fashion-mnist files under
 * /usr/share/datasets/fashion-mnist, or the folder in the environment variable LF_DATA_DIR).
 * Either out-pointer may be NULL to skip that part. */
LF_API lf_status lf_dataset_load_builtin(lf_dataset **train_out, lf_dataset **test_out,
                                         lf_context *ctx, const char *name);

/* A view of the samples idx[0..n) of src (indices relative to src, repeats allowed). */
LF_API lf_status lf_dataset_view(lf_dataset **out, const lf_dataset *src, const int64_t *idx, size_t n);

/* NULL is a no-op. */
LF_API void lf_dataset_destroy(lf_dataset *ds);

LF_API size_t  lf_dataset_size(const lf_dataset *ds);
LF_API int32_t lf_dataset_num_classes(const lf_dataset *ds);
/* Any out-pointer may be NULL. */
LF_API lf_status lf_dataset_shape(const lf_dataset *ds, int32_t *channels, int32_t *height, int32_t *width);
/* Copies sample i: channels*height*width floats into image (may be NULL), its label into label
 * (may be NULL). */
LF_API lf_status lf_dataset_get(const lf_dataset *ds, size_t i, float *image, int32_t *label);
/* Copies all labels (n must equal lf_dataset_size). */
LF_API lf_status lf_dataset_labels(const lf_dataset *ds, int32_t *labels, size_t n);
/* For a view: the indices relative to the data set it was made from (n = its size). For a
 * loaded data set: 0..n-1. */
LF_API lf_status lf_dataset_parent_indices(const lf_dataset *ds, int64_t *idx, size_t n);

/* Per-channel mean and (population) standard deviation of ds's pixels, accumulated in double:
 * the usual input normalisation (see lf_model_set_normalization). n must equal the channel
 * count. */
LF_API lf_status lf_dataset_channel_stats(const lf_dataset *ds, float *mean, float *std, size_t n);

/* ---- The protocol's splits. Deterministic for a seed; the same on every backend. ---- */

/* Held-out validation: `fraction` (0 = default 0.1) of each class of pool, chosen at random,
 * goes to val_out; the rest to train_out. Both are views of pool, in pool order. */
LF_API lf_status lf_dataset_split_holdout(lf_dataset **train_out, lf_dataset **val_out,
                                          const lf_dataset *pool, double fraction, uint64_t seed);

typedef enum lf_forget_kind {
    LF_FORGET_RANDOM     = 1, /* a uniform random `fraction` of the set */
    LF_FORGET_STRATIFIED = 2, /* the same `fraction` of each class */
    LF_FORGET_CLASS      = 3, /* every sample of class `forget_class` */
    LF_FORGET_INDICES    = 4  /* the given indices (relative to the set; no repeats) */
} lf_forget_kind;

typedef struct lf_forget_spec {
    uint32_t       struct_size;
    int32_t        kind;         /* lf_forget_kind */
    double         fraction;     /* RANDOM, STRATIFIED: in (0, 1) */
    int32_t        forget_class; /* CLASS */
    uint32_t       reserved;
    const int64_t *indices;      /* INDICES */
    size_t         n_indices;
    uint64_t       seed;         /* RANDOM, STRATIFIED */
} lf_forget_spec;
#define LF_FORGET_SPEC_INIT { (uint32_t)sizeof(lf_forget_spec), 0, 0.0, 0, 0, 0, 0, 0 }

/* Splits train into retain (train − forget) and forget, both views of train in train order.
 * An empty forget set or an empty retain set is an error (LF_E_INVALID_ARG). */
LF_API lf_status lf_dataset_split_forget(lf_dataset **retain_out, lf_dataset **forget_out,
                                         const lf_dataset *train, const lf_forget_spec *spec);

/* The samples of src whose label is not cls (the test set of class-wise forgetting). */
LF_API lf_status lf_dataset_without_class(lf_dataset **out, const lf_dataset *src, int32_t cls);

#ifdef __cplusplus
}
#endif
#endif
