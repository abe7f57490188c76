/* A batch staged in backend memory: samples gathered on the host (data sets live in host
 * memory), uploaded once, then normalised in place with the model's per-channel mean and std,
 * so every architecture sees normalised inputs while callers pass raw pixels. */
#include <string.h>

#include "core/nn/nn_internal.h"
#include "core/dataset_internal.h"

lf_status lf__batch_init(lf__batch *b, const lf_model *m, int64_t capacity)
{
    memset(b, 0, sizeof *b);
    lf_context *ctx = m->ctx;
    b->ctx = ctx;
    b->capacity = capacity;
    b->sample_size = (size_t)m->in_channels * (size_t)m->in_height * (size_t)m->in_width;
    b->classes = m->num_classes;
    b->channels = m->in_channels;
    b->spatial = (int64_t)m->in_height * m->in_width;
    b->has_norm = m->has_norm;
    size_t rows = (size_t)capacity;
    if (capacity < 1 || rows > SIZE_MAX / sizeof(float) / b->sample_size)
        return lf__error(LF_E_NOMEM, "a batch of %lld samples of %zu values is too large",
                         (long long)capacity, b->sample_size);
    lf_status st = LF_OK;
    if (st == LF_OK)
        st = lf__nn_dev_alloc(ctx, (void **)&b->x, rows * b->sample_size, sizeof(float), 0, "batch inputs");
    if (st == LF_OK)
        st = lf__nn_dev_alloc(ctx, (void **)&b->labels, rows, sizeof(int32_t), 0, "batch labels");
    if (st == LF_OK)
        st = lf__nn_dev_alloc(ctx, (void **)&b->logits, rows * (size_t)b->classes, sizeof(float), 0,
                              "batch logits");
    if (st == LF_OK) {
        b->x_host = lf__alloc(ctx, rows * b->sample_size * sizeof(float), "batch inputs (host)");
        b->labels_host = lf__alloc(ctx, rows * sizeof(int32_t), "batch labels (host)");
        b->mean_host = lf__alloc(ctx, (size_t)b->channels * sizeof(float), "normalisation mean");
        b->inv_std_host = lf__alloc(ctx, (size_t)b->channels * sizeof(float), "normalisation 1/std");
        if (!b->x_host || !b->labels_host || !b->mean_host || !b->inv_std_host)
            st = LF_E_NOMEM;
    }
    if (st != LF_OK) {
        lf__batch_free(b);
        return st;
    }
    for (int32_t c = 0; c < b->channels; c++) {
        b->mean_host[c] = m->norm_mean[c];
        b->inv_std_host[c] = 1.0f / m->norm_std[c];
    }
    return LF_OK;
}

void lf__batch_free(lf__batch *b)
{
    if (!b->ctx)
        return;
    size_t rows = (size_t)b->capacity;
    lf__nn_dev_free(b->ctx, b->x);
    lf__nn_dev_free(b->ctx, b->labels);
    lf__nn_dev_free(b->ctx, b->logits);
    lf__free(b->ctx, b->x_host, rows * b->sample_size * sizeof(float));
    lf__free(b->ctx, b->labels_host, rows * sizeof(int32_t));
    lf__free(b->ctx, b->mean_host, (size_t)b->channels * sizeof(float));
    lf__free(b->ctx, b->inv_std_host, (size_t)b->channels * sizeof(float));
    memset(b, 0, sizeof *b);
}

static lf_status upload_and_normalise(lf__batch *b, const float *src_host, int64_t n)
{
    LF__TRY(LF__BE(b->ctx, mem_upload, b->x, src_host, (size_t)n * b->sample_size * sizeof(float)));
    if (b->has_norm)
        LF__TRY(LF__BE(b->ctx, normalize_fwd, b->x, b->x, b->mean_host, b->inv_std_host, n,
                       b->channels, b->spatial));
    return LF_OK;
}

lf_status lf__batch_load_dataset(lf__batch *b, const lf_dataset *ds, const int64_t *idx,
                                 size_t first, int64_t n)
{
    size_t bytes = b->sample_size * sizeof(float);
    for (int64_t r = 0; r < n; r++) {
        size_t i = idx ? (size_t)idx[r] : first + (size_t)r;
        memcpy(b->x_host + (size_t)r * b->sample_size, lf__dataset_image(ds, i), bytes);
        b->labels_host[r] = lf__dataset_label(ds, i);
    }
    LF__TRY(LF__BE(b->ctx, mem_upload, b->labels, b->labels_host, (size_t)n * sizeof(int32_t)));
    return upload_and_normalise(b, b->x_host, n);
}

lf_status lf__batch_load_images(lf__batch *b, const float *images_host, int64_t n)
{
    return upload_and_normalise(b, images_host, n);
}
