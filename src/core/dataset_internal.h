/* Data set internals: shared, reference-counted host storage and index views over it. */
#ifndef LF_CORE_DATASET_INTERNAL_H
#define LF_CORE_DATASET_INTERNAL_H

#include "libforget/dataset.h"
#include "core/internal.h"

typedef struct lf__dataset_storage {
    _Atomic int64_t refcount;  /* data sets (root and views) sharing this storage; atomic, as
                                  views of a shared set may be made from several threads */
    lf_context *ctx;
    float      *images;        /* n × (c·h·w), in [0,1] */
    int32_t    *labels;        /* n */
    size_t      n;
    int         borrowed;      /* images/labels belong to the caller (LF_DATASET_BORROW) */
} lf__dataset_storage;

struct lf_dataset {
    lf_context          *ctx;
    lf__dataset_storage *storage;
    size_t               n;
    int64_t             *storage_idx;  /* n indices into storage; NULL = identity (a loaded set) */
    int64_t             *parent_idx;   /* n indices into the parent view; NULL = identity */
    int32_t              channels, height, width, num_classes;
};

/* Sample i of ds (no bounds check: i < ds->n). */
static inline size_t lf__dataset_storage_index(const lf_dataset *ds, size_t i)
{
    return ds->storage_idx ? (size_t)ds->storage_idx[i] : i;
}
static inline size_t lf__dataset_sample_size(const lf_dataset *ds)
{
    return (size_t)ds->channels * (size_t)ds->height * (size_t)ds->width;
}
static inline const float *lf__dataset_image(const lf_dataset *ds, size_t i)
{
    return ds->storage->images + lf__dataset_storage_index(ds, i) * lf__dataset_sample_size(ds);
}
static inline int32_t lf__dataset_label(const lf_dataset *ds, size_t i)
{
    return ds->storage->labels[lf__dataset_storage_index(ds, i)];
}

/* Makes a root data set that takes ownership of images/labels (allocated with lf__alloc on ctx
 * with the sizes implied by n and the shape). Validates labels < num_classes (0 = max+1) and
 * reports `source` (a file name) in errors. On failure frees images/labels. */
lf_status lf__dataset_adopt(lf_dataset **out, lf_context *ctx, float *images, int32_t *labels,
                            size_t n, int32_t channels, int32_t height, int32_t width,
                            int32_t num_classes, const char *source);

/* Validates a sample shape (dims > 0, n > 0, byte size fits size_t) for `source` (a file name). */
lf_status lf__dataset_check_shape(size_t n, int32_t channels, int32_t height, int32_t width,
                                  const char *source);

#endif
