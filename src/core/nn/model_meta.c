/* What a model carries besides its tensors: the per-channel input normalisation and free-form
 * string metadata (written to the file's __metadata__ by the file code). */
#include <math.h>
#include <string.h>

#include "core/nn/nn_internal.h"

/* Keys with this prefix describe the model itself (arch, shape, normalisation, version) and are
 * written by the library only. */
#define RESERVED_PREFIX "libforget."

/* ---- normalisation ---- */

lf_status lf_model_set_normalization(lf_model *model, const float *mean, const float *std, size_t n)
{
    LF__CHECK_ARG(model, "lf_model_set_normalization: model is NULL");
    LF__CHECK_ARG(mean, "lf_model_set_normalization: mean is NULL");
    LF__CHECK_ARG(std, "lf_model_set_normalization: std is NULL");
    if (n != (size_t)model->in_channels)
        return lf__error(LF_E_SHAPE, "lf_model_set_normalization: n = %zu, but the model has %d input "
                         "channels", n, (int)model->in_channels);
    /* all values first, so a bad one leaves the model as it was */
    for (size_t c = 0; c < n; c++) {
        if (!isfinite(mean[c]))
            return lf__error(LF_E_OUT_OF_RANGE, "lf_model_set_normalization: mean[%zu] = %g: must be "
                             "finite", c, (double)mean[c]);
        if (!(std[c] > 0.0f) || !isfinite(std[c]))
            return lf__error(LF_E_OUT_OF_RANGE, "lf_model_set_normalization: std[%zu] = %g: must be "
                             "finite and > 0", c, (double)std[c]);
    }
    memcpy(model->norm_mean, mean, n * sizeof *mean);
    memcpy(model->norm_std, std, n * sizeof *std);
    model->has_norm = 1;
    return LF_OK;
}

lf_status lf_model_get_normalization(const lf_model *model, float *mean, float *std, size_t n,
                                     int *has_norm)
{
    LF__CHECK_ARG(model, "lf_model_get_normalization: model is NULL");
    if ((mean || std) && n != (size_t)model->in_channels)
        return lf__error(LF_E_SHAPE, "lf_model_get_normalization: n = %zu, but the model has %d input "
                         "channels", n, (int)model->in_channels);
    /* without normalisation the arrays hold mean 0 and std 1 (model_shell) */
    if (mean)
        memcpy(mean, model->norm_mean, n * sizeof *mean);
    if (std)
        memcpy(std, model->norm_std, n * sizeof *std);
    if (has_norm)
        *has_norm = model->has_norm;
    return LF_OK;
}

/* ---- metadata ---- */

static size_t find_key(const lf_model *m, const char *key)
{
    for (size_t i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta_keys[i], key) == 0)
            return i;
    return m->n_meta;
}

static void free_string(const lf_context *ctx, char *s)
{
    if (s)
        lf__free(ctx, s, strlen(s) + 1);
}

/* Grows both arrays by one entry (metadata is a handful of keys: exact-size arrays keep the
 * sizes that lf__free needs implicit in n_meta). */
static lf_status grow_arrays(lf_model *m)
{
    size_t n = m->n_meta;
    char **keys = lf__calloc(m->ctx, n + 1, sizeof *keys, "metadata keys");
    char **values = lf__calloc(m->ctx, n + 1, sizeof *values, "metadata values");
    if (!keys || !values) {
        lf__free(m->ctx, keys, (n + 1) * sizeof *keys);
        lf__free(m->ctx, values, (n + 1) * sizeof *values);
        return LF_E_NOMEM;
    }
    if (n) {
        memcpy(keys, m->meta_keys, n * sizeof *keys);
        memcpy(values, m->meta_values, n * sizeof *values);
    }
    lf__free(m->ctx, m->meta_keys, n * sizeof *keys);
    lf__free(m->ctx, m->meta_values, n * sizeof *values);
    m->meta_keys = keys;
    m->meta_values = values;
    return LF_OK;
}

lf_status lf__model_set_metadata_raw(lf_model *m, const char *key, const char *value)
{
    if (!key || !value)
        return lf__error(LF_E_INVALID_ARG, "model metadata: NULL key or value");
    char *v = lf__strdup(m->ctx, value);
    if (!v)
        return LF_E_NOMEM;
    size_t i = find_key(m, key);
    if (i < m->n_meta) {   /* overwrite */
        free_string(m->ctx, m->meta_values[i]);
        m->meta_values[i] = v;
        return LF_OK;
    }
    char *k = lf__strdup(m->ctx, key);
    if (!k || grow_arrays(m) != LF_OK) {
        free_string(m->ctx, k);
        free_string(m->ctx, v);
        return LF_E_NOMEM;
    }
    m->meta_keys[m->n_meta] = k;
    m->meta_values[m->n_meta] = v;
    m->n_meta++;
    return LF_OK;
}

lf_status lf_model_set_metadata(lf_model *model, const char *key, const char *value)
{
    LF__CHECK_ARG(model, "lf_model_set_metadata: model is NULL");
    LF__CHECK_ARG(key && key[0], "lf_model_set_metadata: key is NULL or empty");
    LF__CHECK_ARG(value, "lf_model_set_metadata: value for key '%s' is NULL", key);
    if (strncmp(key, RESERVED_PREFIX, strlen(RESERVED_PREFIX)) == 0)
        return lf__error(LF_E_INVALID_ARG, "lf_model_set_metadata: key '%s': keys starting '"
                         RESERVED_PREFIX "' are reserved for the library", key);
    return lf__model_set_metadata_raw(model, key, value);
}

lf_status lf_model_get_metadata(const lf_model *model, const char *key, const char **value)
{
    LF__CHECK_ARG(value, "lf_model_get_metadata: value is NULL");
    *value = NULL;
    LF__CHECK_ARG(model, "lf_model_get_metadata: model is NULL");
    LF__CHECK_ARG(key, "lf_model_get_metadata: key is NULL");
    size_t i = find_key(model, key);
    if (i == model->n_meta)
        return lf__error(LF_E_INVALID_ARG, "lf_model_get_metadata: the model has no metadata key '%s'", key);
    *value = model->meta_values[i];
    return LF_OK;
}

void lf__model_free_metadata(lf_model *m)
{
    for (size_t i = 0; i < m->n_meta; i++) {
        free_string(m->ctx, m->meta_keys[i]);
        free_string(m->ctx, m->meta_values[i]);
    }
    lf__free(m->ctx, m->meta_keys, m->n_meta * sizeof *m->meta_keys);
    lf__free(m->ctx, m->meta_values, m->n_meta * sizeof *m->meta_values);
    m->meta_keys = m->meta_values = NULL;
    m->n_meta = 0;
}
