/* Data set lifecycle: root data sets own (or borrow) reference-counted storage; views are index
 * lists into the same storage. Accessors and the caller-memory constructor. */
#include <math.h>
#include <string.h>

#include "core/dataset_internal.h"

static void storage_release(lf__dataset_storage *st, size_t sample_size)
{
    if (atomic_fetch_sub(&st->refcount, 1) > 1)
        return;
    lf_context *ctx = st->ctx;
    if (!st->borrowed) {
        lf__free(ctx, st->images, st->n * sample_size * sizeof(float));
        lf__free(ctx, st->labels, st->n * sizeof(int32_t));
    }
    lf__free(ctx, st, sizeof *st);
}

static lf_status validate_labels(const int32_t *labels, size_t n, int32_t *num_classes,
                                 const char *source)
{
    int32_t max = -1;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] < 0)
            return lf__error(LF_E_FORMAT, "%s: sample %zu has the negative label %d", source, i,
                             (int)labels[i]);
        if (*num_classes > 0 && labels[i] >= *num_classes)
            return lf__error(LF_E_FORMAT, "%s: sample %zu has label %d, not below the class count %d",
                             source, i, (int)labels[i], (int)*num_classes);
        if (labels[i] == INT32_MAX)   /* the class count, label + 1, would not fit an int32 */
            return lf__error(LF_E_FORMAT, "%s: sample %zu has the label %d, too large for a class "
                             "count", source, i, (int)labels[i]);
        if (labels[i] > max)
            max = labels[i];
    }
    if (*num_classes == 0)
        *num_classes = max + 1;
    if (*num_classes < 1)
        return lf__error(LF_E_FORMAT, "%s: no samples, so no class count", source);
    return LF_OK;
}

static lf_status check_shape(size_t n, int32_t c, int32_t h, int32_t w, const char *source)
{
    if (n == 0)
        return lf__error(LF_E_FORMAT, "%s: the data set is empty", source);
    if (c <= 0 || h <= 0 || w <= 0)
        return lf__error(LF_E_INVALID_ARG, "%s: sample shape %dx%dx%d: every dimension must be > 0",
                         source, (int)c, (int)h, (int)w);
    size_t d = (size_t)c * (size_t)h * (size_t)w;
    if (d > SIZE_MAX / sizeof(float) / n)
        return lf__error(LF_E_FORMAT, "%s: %zu samples of %zu values overflow the address space", source, n, d);
    return LF_OK;
}

static lf_status make_root(lf_dataset **out, lf_context *ctx, float *images, int32_t *labels, size_t n,
                           int32_t c, int32_t h, int32_t w, int32_t classes, int borrowed)
{
    lf__dataset_storage *st = lf__calloc(ctx, 1, sizeof *st, "data set storage");
    lf_dataset *ds = lf__calloc(ctx, 1, sizeof *ds, "a data set");
    if (!st || !ds) {
        lf__free(ctx, st, sizeof *st);
        lf__free(ctx, ds, sizeof *ds);
        return LF_E_NOMEM;
    }
    *st = (lf__dataset_storage){ .refcount = 1, .ctx = ctx, .images = images, .labels = labels,
                                 .n = n, .borrowed = borrowed };
    *ds = (lf_dataset){ .ctx = ctx, .storage = st, .n = n, .channels = c, .height = h, .width = w,
                        .num_classes = classes };
    lf__context_retain(ctx);
    *out = ds;
    return LF_OK;
}

lf_status lf__dataset_adopt(lf_dataset **out, lf_context *ctx, float *images, int32_t *labels,
                            size_t n, int32_t channels, int32_t height, int32_t width,
                            int32_t num_classes, const char *source)
{
    size_t d = (size_t)channels * (size_t)height * (size_t)width;
    lf_status st = validate_labels(labels, n, &num_classes, source);
    if (st == LF_OK)
        st = make_root(out, ctx, images, labels, n, channels, height, width, num_classes, 0);
    if (st != LF_OK) {
        lf__free(ctx, images, n * d * sizeof(float));
        lf__free(ctx, labels, n * sizeof(int32_t));
    }
    return st;
}

lf_status lf_dataset_from_memory(lf_dataset **out, lf_context *ctx, const float *images,
                                 const int32_t *labels, size_t n, int32_t channels, int32_t height,
                                 int32_t width, int32_t num_classes, uint32_t flags)
{
    LF__CHECK_ARG(out, "lf_dataset_from_memory: out is NULL");
    *out = NULL;
    LF__CHECK_ARG(ctx, "lf_dataset_from_memory: ctx is NULL");
    LF__CHECK_ARG(images && labels, "lf_dataset_from_memory: %s is NULL", images ? "labels" : "images");
    LF__CHECK_ARG(num_classes >= 0, "lf_dataset_from_memory: num_classes %d is negative", (int)num_classes);
    LF__CHECK_ARG((flags & ~LF_DATASET_BORROW) == 0, "lf_dataset_from_memory: unknown flags 0x%x", flags);
    LF__TRY(check_shape(n, channels, height, width, "caller memory"));
    size_t d = (size_t)channels * (size_t)height * (size_t)width;
    for (size_t i = 0; i < n * d; i++)
        if (!(images[i] >= 0.0f && images[i] <= 1.0f))
            return lf__error(LF_E_INVALID_ARG, "caller memory: sample %zu, value %zu is %g, not in [0, 1]",
                             i / d, i % d, (double)images[i]);
    LF__TRY(validate_labels(labels, n, &num_classes, "caller memory"));
    if (flags & LF_DATASET_BORROW)
        return make_root(out, ctx, (float *)images, (int32_t *)labels, n, channels, height, width,
                         num_classes, 1);
    float *x = lf__alloc(ctx, n * d * sizeof *x, "data set images");
    int32_t *y = lf__alloc(ctx, n * sizeof *y, "data set labels");
    if (!x || !y) {
        lf__free(ctx, x, n * d * sizeof *x);
        lf__free(ctx, y, n * sizeof *y);
        return LF_E_NOMEM;
    }
    memcpy(x, images, n * d * sizeof *x);
    memcpy(y, labels, n * sizeof *y);
    return lf__dataset_adopt(out, ctx, x, y, n, channels, height, width, num_classes, "caller memory");
}

lf_status lf_dataset_view(lf_dataset **out, const lf_dataset *src, const int64_t *idx, size_t n)
{
    LF__CHECK_ARG(out, "lf_dataset_view: out is NULL");
    *out = NULL;
    LF__CHECK_ARG(src, "lf_dataset_view: src is NULL");
    LF__CHECK_ARG(idx || n == 0, "lf_dataset_view: idx is NULL");
    LF__CHECK_ARG(n > 0, "lf_dataset_view: a view needs at least one index");
    for (size_t i = 0; i < n; i++)
        if (idx[i] < 0 || (uint64_t)idx[i] >= src->n)
            return lf__error(LF_E_OUT_OF_RANGE, "lf_dataset_view: idx[%zu] = %lld is not in [0, %zu)",
                             i, (long long)idx[i], src->n);
    lf_context *ctx = src->ctx;
    lf_dataset *ds = lf__calloc(ctx, 1, sizeof *ds, "a data set view");
    int64_t *sidx = lf__alloc(ctx, n * sizeof *sidx, "view indices");
    int64_t *pidx = lf__alloc(ctx, n * sizeof *pidx, "view indices");
    if (!ds || !sidx || !pidx) {
        lf__free(ctx, ds, sizeof *ds);
        lf__free(ctx, sidx, n * sizeof *sidx);
        lf__free(ctx, pidx, n * sizeof *pidx);
        return LF_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        pidx[i] = idx[i];
        sidx[i] = (int64_t)lf__dataset_storage_index(src, (size_t)idx[i]);   /* compose */
    }
    *ds = *src;
    ds->n = n;
    ds->storage_idx = sidx;
    ds->parent_idx = pidx;
    atomic_fetch_add(&ds->storage->refcount, 1);
    lf__context_retain(ctx);
    *out = ds;
    return LF_OK;
}

void lf_dataset_destroy(lf_dataset *ds)
{
    if (!ds)
        return;
    lf_context *ctx = ds->ctx;
    lf__free(ctx, ds->storage_idx, ds->n * sizeof(int64_t));
    lf__free(ctx, ds->parent_idx, ds->n * sizeof(int64_t));
    storage_release(ds->storage, lf__dataset_sample_size(ds));
    lf__free(ctx, ds, sizeof *ds);
    lf__context_release(ctx);
}

size_t lf_dataset_size(const lf_dataset *ds)
{
    return ds ? ds->n : 0;
}

int32_t lf_dataset_num_classes(const lf_dataset *ds)
{
    return ds ? ds->num_classes : 0;
}

lf_status lf_dataset_shape(const lf_dataset *ds, int32_t *channels, int32_t *height, int32_t *width)
{
    LF__CHECK_ARG(ds, "lf_dataset_shape: ds is NULL");
    if (channels)
        *channels = ds->channels;
    if (height)
        *height = ds->height;
    if (width)
        *width = ds->width;
    return LF_OK;
}

lf_status lf_dataset_get(const lf_dataset *ds, size_t i, float *image, int32_t *label)
{
    LF__CHECK_ARG(ds, "lf_dataset_get: ds is NULL");
    if (i >= ds->n)
        return lf__error(LF_E_OUT_OF_RANGE, "lf_dataset_get: sample %zu is not in [0, %zu)", i, ds->n);
    if (image)
        memcpy(image, lf__dataset_image(ds, i), lf__dataset_sample_size(ds) * sizeof(float));
    if (label)
        *label = lf__dataset_label(ds, i);
    return LF_OK;
}

lf_status lf_dataset_labels(const lf_dataset *ds, int32_t *labels, size_t n)
{
    LF__CHECK_ARG(ds && labels, "lf_dataset_labels: %s is NULL", ds ? "labels" : "ds");
    if (n != ds->n)
        return lf__error(LF_E_SHAPE, "lf_dataset_labels: n = %zu, but the data set has %zu samples", n, ds->n);
    for (size_t i = 0; i < n; i++)
        labels[i] = lf__dataset_label(ds, i);
    return LF_OK;
}

lf_status lf_dataset_parent_indices(const lf_dataset *ds, int64_t *idx, size_t n)
{
    LF__CHECK_ARG(ds && idx, "lf_dataset_parent_indices: %s is NULL", ds ? "idx" : "ds");
    if (n != ds->n)
        return lf__error(LF_E_SHAPE, "lf_dataset_parent_indices: n = %zu, but the data set has %zu samples",
                         n, ds->n);
    for (size_t i = 0; i < n; i++)
        idx[i] = ds->parent_idx ? ds->parent_idx[i] : (int64_t)i;
    return LF_OK;
}

lf_status lf__dataset_check_shape(size_t n, int32_t c, int32_t h, int32_t w, const char *source)
{
    return check_shape(n, c, h, w, source);
}

lf_status lf_dataset_channel_stats(const lf_dataset *ds, float *mean, float *std, size_t n)
{
    LF__CHECK_ARG(ds && mean && std, "lf_dataset_channel_stats: %s is NULL", !ds ? "ds" : !mean ? "mean" : "std");
    if (n != (size_t)ds->channels)
        return lf__error(LF_E_SHAPE, "lf_dataset_channel_stats: n = %zu, but the data set has %d channels", n,
                         (int)ds->channels);
    size_t plane = (size_t)ds->height * (size_t)ds->width;
    for (size_t c = 0; c < n; c++) {
        double sum = 0.0, sumsq = 0.0;
        for (size_t i = 0; i < ds->n; i++) {
            const float *p = lf__dataset_image(ds, i) + c * plane;
            for (size_t k = 0; k < plane; k++) {
                sum += p[k];
                sumsq += (double)p[k] * p[k];
            }
        }
        double count = (double)ds->n * (double)plane;
        double m = sum / count, var = sumsq / count - m * m;
        mean[c] = (float)m;
        std[c] = (float)sqrt(var > 0.0 ? var : 0.0);
    }
    return LF_OK;
}
