/* Models: the architecture registry, the tensor table over flat blocks (llm.c), create / clone /
 * destroy, parameter access and the optimizer step. Normalisation and metadata: model_meta.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/nn/nn_internal.h"
#include "core/dataset_internal.h"

/* ---- the built-in architectures ---- */

static const lf__arch *const arch_registry[] = { &lf__arch_mlp, &lf__arch_convnet, &lf__arch_resnet18 };
#define N_ARCHS (sizeof arch_registry / sizeof arch_registry[0])

const lf__arch *lf__arch_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < N_ARCHS; i++)
        if (strcmp(arch_registry[i]->name, name) == 0)
            return arch_registry[i];
    return NULL;
}

size_t lf__arch_count(void)
{
    return N_ARCHS;
}

const lf__arch *lf__arch_at(size_t i)
{
    return i < N_ARCHS ? arch_registry[i] : NULL;
}

size_t lf_arch_count(void)
{
    return lf__arch_count();
}

const char *lf_arch_name(size_t i)
{
    const lf__arch *a = lf__arch_at(i);
    return a ? a->name : NULL;
}

/* "mlp, convnet, ..." for error messages (truncated if it ever outgrows buf) */
static const char *known_arch_names(char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < N_ARCHS && len < size; i++) {
        int w = snprintf(buf + len, size - len, "%s%s", i ? ", " : "", arch_registry[i]->name);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    return buf;
}

/* ---- configuration ---- */

/* Bounds that keep every size computed from a config far from overflow. */
#define MAX_INPUT_DIM   65536
#define MAX_INPUT_SIZE  INT32_MAX     /* C·H·W: one sample's floats */
#define MAX_CLASSES     (1 << 20)

static lf_status check_config_field(const char *field, int64_t v, int64_t lo, int64_t hi)
{
    if (v < lo || v > hi)
        return lf__error(LF_E_OUT_OF_RANGE, "lf_model_config.%s = %lld: must be in [%lld, %lld]",
                         field, (long long)v, (long long)lo, (long long)hi);
    return LF_OK;
}

static lf_status validate_config(const lf_model_config *cfg)
{
    LF__TRY(check_config_field("channels", cfg->channels, 1, MAX_INPUT_DIM));
    LF__TRY(check_config_field("height", cfg->height, 1, MAX_INPUT_DIM));
    LF__TRY(check_config_field("width", cfg->width, 1, MAX_INPUT_DIM));
    LF__TRY(check_config_field("num_classes", cfg->num_classes, 2, MAX_CLASSES));
    int64_t size = (int64_t)cfg->channels * cfg->height * cfg->width;
    if (size > MAX_INPUT_SIZE)
        return lf__error(LF_E_OUT_OF_RANGE, "lf_model_config: input %d x %d x %d = %lld values per "
                         "sample is more than %lld", (int)cfg->channels, (int)cfg->height,
                         (int)cfg->width, (long long)size, (long long)MAX_INPUT_SIZE);
    return LF_OK;
}

lf_status lf_model_config_from_dataset(lf_model_config *config, const lf_dataset *ds)
{
    LF__CHECK_ARG(config, "lf_model_config_from_dataset: config is NULL");
    LF__CHECK_ARG(ds, "lf_model_config_from_dataset: ds is NULL");
    /* struct_size 0 (an uninitialised struct) is taken as today's layout: every caller's struct
     * is at least that large, since it is the first published one */
    if (config->struct_size == 0) {
        memset(config, 0, sizeof *config);
        config->struct_size = (uint32_t)sizeof *config;
    } else if (config->struct_size < sizeof *config || config->struct_size % 4 != 0) {
        return lf__error(LF_E_ABI, "lf_model_config_from_dataset: struct_size %u is invalid (at "
                         "least %zu, a multiple of 4); initialise it with LF_MODEL_CONFIG_INIT",
                         config->struct_size, sizeof *config);
    }
    config->channels = ds->channels;
    config->height = ds->height;
    config->width = ds->width;
    config->num_classes = ds->num_classes;
    return LF_OK;
}

/* ---- creation and destruction ---- */

/* The model struct with its configuration and default normalisation (mean 0, std 1), holding a
 * reference on ctx; no tensors yet. */
static lf_status model_shell(lf_model **out, lf_context *ctx, const lf__arch *arch,
                             const lf_model_config *cfg)
{
    *out = NULL;
    LF__TRY(validate_config(cfg));
    lf_model *m = lf__calloc(ctx, 1, sizeof *m, "a model");
    if (!m)
        return LF_E_NOMEM;
    lf__context_retain(ctx);
    m->ctx = ctx;
    m->arch = arch;
    m->in_channels = cfg->channels;
    m->in_height = cfg->height;
    m->in_width = cfg->width;
    m->num_classes = cfg->num_classes;
    m->norm_mean = lf__calloc(ctx, (size_t)cfg->channels, sizeof(float), "the normalisation mean");
    m->norm_std = lf__calloc(ctx, (size_t)cfg->channels, sizeof(float), "the normalisation std");
    if (!m->norm_mean || !m->norm_std) {
        lf_model_destroy(m);
        return LF_E_NOMEM;
    }
    for (int32_t c = 0; c < cfg->channels; c++)
        m->norm_std[c] = 1.0f;
    *out = m;
    return LF_OK;
}

/* params and buffers for the declared table, zeroed. */
static lf_status alloc_blocks(lf_model *m)
{
    LF__TRY(lf__nn_dev_alloc(m->ctx, (void **)&m->params, m->n_params, sizeof(float), 1,
                             "model parameters"));
    LF__TRY(lf__nn_dev_alloc(m->ctx, (void **)&m->buffers, m->n_buffers, sizeof(float), 1,
                             "model buffers"));
    return LF_OK;
}

lf_status lf__model_declare(lf_model **out, lf_context *ctx, const lf__arch *arch, const lf_model_config *cfg)
{
    lf_model *m = NULL;
    LF__TRY(model_shell(&m, ctx, arch, cfg));
    lf_status st = arch->declare(m);
    if (st != LF_OK) {
        lf_model_destroy(m);
        return st;
    }
    *out = m;
    return LF_OK;
}

lf_status lf__model_alloc_blocks(lf_model *m)
{
    return alloc_blocks(m);
}

lf_status lf__model_new(lf_model **out, lf_context *ctx, const lf__arch *arch, const lf_model_config *cfg)
{
    lf_model *m = NULL;
    LF__TRY(lf__model_declare(&m, ctx, arch, cfg));
    lf_status st = alloc_blocks(m);
    if (st != LF_OK) {
        lf_model_destroy(m);
        return st;
    }
    *out = m;
    return LF_OK;
}

lf_status lf_model_create(lf_model **out, lf_context *ctx, const char *arch, const lf_model_config *config)
{
    LF__CHECK_ARG(out, "lf_model_create: out is NULL");
    *out = NULL;
    LF__CHECK_ARG(ctx, "lf_model_create: ctx is NULL");
    LF__CHECK_ARG(arch, "lf_model_create: arch is NULL");
    LF__CHECK_ARG(config, "lf_model_create: config is NULL (fill it with lf_model_config_from_dataset)");
    const lf__arch *a = lf__arch_find(arch);
    if (!a) {
        char names[256];
        return lf__error(LF_E_UNKNOWN_ARCH, "lf_model_create: unknown architecture '%s' (known: %s)",
                         arch, known_arch_names(names, sizeof names));
    }
    lf_model_config cfg;
    LF__TRY(lf__copy_struct_in(&cfg, sizeof cfg, config, sizeof cfg, "lf_model_config"));
    uint64_t seed = cfg.seed ? cfg.seed : ctx->opts.seed;

    lf_model *m = NULL;
    lf_status st = lf__model_new(&m, ctx, a, &cfg);
    if (st != LF_OK) {
        lf__error_prefix("lf_model_create: '%s'", arch);
        return st;
    }
    /* initialise on the host (the draw order is the arch's documented one), then upload */
    float *p_host = lf__calloc(ctx, m->n_params, sizeof(float), "initial parameters");
    float *b_host = lf__calloc(ctx, m->n_buffers, sizeof(float), "initial buffers");
    st = (p_host && b_host) ? LF_OK : LF_E_NOMEM;
    if (st == LF_OK)
        st = a->init(m, p_host, b_host, seed);
    if (st == LF_OK)
        st = LF__BE(ctx, mem_upload, m->params, p_host, m->n_params * sizeof(float));
    if (st == LF_OK)
        st = LF__BE(ctx, mem_upload, m->buffers, b_host, m->n_buffers * sizeof(float));
    lf__free(ctx, p_host, m->n_params * sizeof(float));
    lf__free(ctx, b_host, m->n_buffers * sizeof(float));
    if (st != LF_OK) {
        lf__error_prefix("lf_model_create: '%s': initialisation", arch);
        lf_model_destroy(m);
        return st;
    }
    *out = m;
    return LF_OK;
}

lf_status lf_model_clone(lf_model **out, const lf_model *src)
{
    LF__CHECK_ARG(out, "lf_model_clone: out is NULL");
    *out = NULL;
    LF__CHECK_ARG(src, "lf_model_clone: src is NULL");
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = src->in_channels;
    cfg.height = src->in_height;
    cfg.width = src->in_width;
    cfg.num_classes = src->num_classes;
    lf_model *m = NULL;
    LF__TRY(model_shell(&m, src->ctx, src->arch, &cfg));
    lf_context *ctx = m->ctx;

    /* the table is copied rather than declared again, so tensors added after declare (by the
     * file code) come along */
    lf_status st = LF_OK;
    if (src->n_tensors) {
        m->tensors = lf__alloc(ctx, src->n_tensors * sizeof *m->tensors, "the tensor table");
        if (!m->tensors)
            st = LF_E_NOMEM;
        else {
            memcpy(m->tensors, src->tensors, src->n_tensors * sizeof *m->tensors);
            m->n_tensors = m->cap_tensors = src->n_tensors;
        }
    }
    m->n_params = src->n_params;
    m->n_buffers = src->n_buffers;
    m->n_mask = src->n_mask;
    if (st == LF_OK)
        st = alloc_blocks(m);
    if (st == LF_OK && src->masks) {
        st = lf__nn_dev_alloc(ctx, (void **)&m->masks, m->n_mask, 1, 0, "pruning masks");
        if (st == LF_OK)
            st = LF__BE(ctx, mem_copy, m->masks, src->masks, m->n_mask);
    }
    if (st == LF_OK)
        st = LF__BE(ctx, mem_copy, m->params, src->params, m->n_params * sizeof(float));
    if (st == LF_OK)
        st = LF__BE(ctx, mem_copy, m->buffers, src->buffers, m->n_buffers * sizeof(float));
    if (st == LF_OK) {
        m->has_norm = src->has_norm;
        memcpy(m->norm_mean, src->norm_mean, (size_t)m->in_channels * sizeof(float));
        memcpy(m->norm_std, src->norm_std, (size_t)m->in_channels * sizeof(float));
    }
    for (size_t i = 0; st == LF_OK && i < src->n_meta; i++)
        st = lf__model_set_metadata_raw(m, src->meta_keys[i], src->meta_values[i]);
    if (st != LF_OK) {
        lf__error_prefix("lf_model_clone");
        lf_model_destroy(m);
        return st;
    }
    *out = m;
    return LF_OK;
}

void lf_model_destroy(lf_model *model)
{
    if (!model)
        return;
    lf_context *ctx = model->ctx;
    if (model->arch_state && model->arch && model->arch->release)
        model->arch->release(model);
    lf__nn_dev_free(ctx, model->params);
    lf__nn_dev_free(ctx, model->grads);
    lf__nn_dev_free(ctx, model->opt_buf);
    lf__nn_dev_free(ctx, model->buffers);
    lf__nn_dev_free(ctx, model->masks);
    lf__free(ctx, model->tensors, model->cap_tensors * sizeof *model->tensors);
    lf__free(ctx, model->norm_mean, (size_t)model->in_channels * sizeof(float));
    lf__free(ctx, model->norm_std, (size_t)model->in_channels * sizeof(float));
    lf__model_free_metadata(model);
    lf__free(ctx, model, sizeof *model);
    lf__context_release(ctx);
}

/* ---- the tensor table ---- */

lf_status lf__model_add_tensor(lf_model *m, const char *name, lf__tensor_kind kind, lf__file_dtype dt,
                               int32_t ndim, const int64_t *shape)
{
    if (!name || !name[0] || strlen(name) >= LF__MAX_NAME)
        return lf__error(LF_E_INVALID_ARG, "model '%s': tensor name '%s' is empty or longer than %d bytes",
                         m->arch->name, name ? name : "(null)", LF__MAX_NAME - 1);
    if (m->params || m->buffers)
        return lf__error(LF_E_STATE, "model '%s': tensor '%s' added after the blocks were allocated",
                         m->arch->name, name);
    if (kind != LF__TENSOR_PARAM && kind != LF__TENSOR_BUFFER)
        return lf__error(LF_E_INVALID_ARG, "model '%s': tensor '%s': kind %d is invalid", m->arch->name,
                         name, (int)kind);
    if (dt != LF__FILE_F32 && dt != LF__FILE_I64)
        return lf__error(LF_E_INVALID_ARG, "model '%s': tensor '%s': file dtype %d is invalid",
                         m->arch->name, name, (int)dt);
    if (ndim < 0 || ndim > LF__MAX_DIMS || (ndim > 0 && !shape))
        return lf__error(LF_E_INVALID_ARG, "model '%s': tensor '%s': %d dimensions (at most %d)",
                         m->arch->name, name, (int)ndim, LF__MAX_DIMS);
    if (lf__model_find_tensor(m, name))
        return lf__error(LF_E_INVALID_ARG, "model '%s': tensor '%s' is declared twice", m->arch->name, name);

    size_t numel = 1;   /* ndim 0: a scalar such as num_batches_tracked */
    for (int32_t d = 0; d < ndim; d++) {
        if (shape[d] < 1 || (uint64_t)shape[d] > SIZE_MAX / sizeof(float) / numel)
            return lf__error(LF_E_SHAPE, "model '%s': tensor '%s': dimension %d = %lld is invalid or "
                             "too large", m->arch->name, name, (int)d, (long long)shape[d]);
        numel *= (size_t)shape[d];
    }
    size_t *block_size = kind == LF__TENSOR_PARAM ? &m->n_params : &m->n_buffers;
    if (numel > SIZE_MAX / sizeof(float) - *block_size)
        return lf__error(LF_E_SHAPE, "model '%s': tensor '%s': the block size overflows", m->arch->name, name);

    if (m->n_tensors == m->cap_tensors) {
        size_t cap = m->cap_tensors ? 2 * m->cap_tensors : 16;
        lf__tensor_desc *t = lf__calloc(m->ctx, cap, sizeof *t, "the tensor table");
        if (!t)
            return LF_E_NOMEM;
        if (m->n_tensors)
            memcpy(t, m->tensors, m->n_tensors * sizeof *t);
        lf__free(m->ctx, m->tensors, m->cap_tensors * sizeof *t);
        m->tensors = t;
        m->cap_tensors = cap;
    }
    lf__tensor_desc *t = &m->tensors[m->n_tensors++];
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, strlen(name) + 1);
    t->kind = kind;
    t->file_dtype = dt;
    t->ndim = ndim;
    for (int32_t d = 0; d < ndim; d++)
        t->shape[d] = shape[d];
    t->numel = numel;
    t->offset = *block_size;
    *block_size += numel;
    return LF_OK;
}

lf_status lf__nn_tensor_name(char buf[LF__MAX_NAME], const char *prefix, const char *suffix)
{
    int w = snprintf(buf, LF__MAX_NAME, "%s.%s", prefix, suffix);
    if (w < 0 || w >= LF__MAX_NAME)
        return lf__error(LF_E_INVALID_ARG, "tensor name '%s.%s' is too long", prefix, suffix);
    return LF_OK;
}

lf_status lf__model_set_maskable(lf_model *m, const char *name)
{
    lf__tensor_desc *t = (lf__tensor_desc *)lf__model_find_tensor(m, name);
    if (!t || t->kind != LF__TENSOR_PARAM)
        return lf__error(LF_E_INVALID_ARG, "model '%s': '%s' is not a parameter tensor, so it cannot "
                         "be masked", m->arch->name, name);
    if (m->masks)
        return lf__error(LF_E_STATE, "model '%s': '%s' made maskable after the masks were allocated",
                         m->arch->name, name);
    if (!t->maskable) {
        t->maskable = 1;
        t->mask_offset = m->n_mask;
        m->n_mask += t->numel;
    }
    return LF_OK;
}

lf_status lf__model_features(const lf_model *m, const float **feat, int64_t *dim)
{
    *feat = NULL;
    *dim = 0;
    if (!m->arch->features)
        return lf__error(LF_E_UNSUPPORTED, "model '%s' does not expose its features", m->arch->name);
    return m->arch->features(m, feat, dim);
}

const lf__tensor_desc *lf__model_find_tensor(const lf_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0)
            return &m->tensors[i];
    return NULL;
}

float *lf__model_tensor_ptr(const lf_model *m, const lf__tensor_desc *t)
{
    return (t->kind == LF__TENSOR_PARAM ? m->params : m->buffers) + t->offset;
}

float *lf__model_grad_ptr(const lf_model *m, const lf__tensor_desc *t)
{
    return (t->kind == LF__TENSOR_PARAM && m->grads) ? m->grads + t->offset : NULL;
}

lf_status lf__model_download(const lf_model *m, const lf__tensor_desc *t, float *host)
{
    return LF__BE(m->ctx, mem_download, host, lf__model_tensor_ptr(m, t), t->numel * sizeof(float));
}

lf_status lf__model_upload(lf_model *m, const lf__tensor_desc *t, const float *host)
{
    return LF__BE(m->ctx, mem_upload, lf__model_tensor_ptr(m, t), host, t->numel * sizeof(float));
}

lf_status lf__model_ensure_grads(lf_model *m)
{
    if (m->grads)
        return LF_OK;
    return lf__nn_dev_alloc(m->ctx, (void **)&m->grads, m->n_params, sizeof(float), 1,
                            "parameter gradients");
}

lf_status lf__model_zero_grads(lf_model *m)
{
    if (!m->grads)
        return lf__model_ensure_grads(m);   /* allocated zeroed */
    return LF__BE(m->ctx, mem_zero, m->grads, m->n_params * sizeof(float));
}

lf_status lf__model_sgd_step(lf_model *m, float lr, float momentum, float weight_decay)
{
    LF__TRY(lf__model_ensure_grads(m));
    /* zeroed, so a buffer first used after momentum-free steps starts from nothing */
    if (momentum != 0.0f && !m->opt_buf)
        LF__TRY(lf__nn_dev_alloc(m->ctx, (void **)&m->opt_buf, m->n_params, sizeof(float), 1,
                                 "SGD momentum buffers"));
    /* sparse models: pruned weights get no gradient (so no momentum builds up for them) and are
     * re-masked after the step, as the weight decay and old momentum could move them */
    LF__TRY(lf__model_apply_masks(m, m->grads));
    LF__TRY(LF__BE(m->ctx, sgd_step, m->params, m->opt_buf, m->grads, (int64_t)m->n_params, lr,
                   momentum, weight_decay, m->opt_steps == 0));
    m->opt_steps++;
    return lf__model_apply_masks(m, m->params);
}

lf_status lf__model_check_input(const lf_model *m, int32_t c, int32_t h, int32_t w, const char *what)
{
    int64_t have = (int64_t)c * h * w;
    int64_t want = (int64_t)m->in_channels * m->in_height * m->in_width;
    int fits = m->arch->flat_input ? have == want
                                   : (c == m->in_channels && h == m->in_height && w == m->in_width);
    if (fits)
        return LF_OK;
    return lf__error(LF_E_SHAPE, "%s: samples of %d x %d x %d do not fit model '%s' with input "
                     "%d x %d x %d%s", what, (int)c, (int)h, (int)w, m->arch->name,
                     (int)m->in_channels, (int)m->in_height, (int)m->in_width,
                     m->arch->flat_input ? " (the same number of values is needed)" : "");
}

/* ---- accessors ---- */

const char *lf_model_arch(const lf_model *model)
{
    return model ? model->arch->name : NULL;
}

int32_t lf_model_num_classes(const lf_model *model)
{
    return model ? model->num_classes : 0;
}

lf_status lf_model_input_shape(const lf_model *model, int32_t *channels, int32_t *height, int32_t *width)
{
    LF__CHECK_ARG(model, "lf_model_input_shape: model is NULL");
    if (channels)
        *channels = model->in_channels;
    if (height)
        *height = model->in_height;
    if (width)
        *width = model->in_width;
    return LF_OK;
}

size_t lf_model_num_params(const lf_model *model)
{
    return model ? model->n_params : 0;
}

lf_status lf_model_get_params(const lf_model *model, float *dst, size_t n)
{
    LF__CHECK_ARG(model, "lf_model_get_params: model is NULL");
    LF__CHECK_ARG(dst, "lf_model_get_params: dst is NULL");
    if (n != model->n_params)
        return lf__error(LF_E_SHAPE, "lf_model_get_params: n = %zu, but the model has %zu parameters",
                         n, model->n_params);
    return LF__BE(model->ctx, mem_download, dst, model->params, n * sizeof(float));
}

lf_status lf_model_set_params(lf_model *model, const float *src, size_t n)
{
    LF__CHECK_ARG(model, "lf_model_set_params: model is NULL");
    LF__CHECK_ARG(src, "lf_model_set_params: src is NULL");
    if (n != model->n_params)
        return lf__error(LF_E_SHAPE, "lf_model_set_params: n = %zu, but the model has %zu parameters",
                         n, model->n_params);
    /* checked first, so a bad value leaves the model as it was */
    for (size_t i = 0; i < n; i++)
        if (!isfinite(src[i]))
            return lf__error(LF_E_NUMERIC, "lf_model_set_params: src[%zu] is %g; parameters must be "
                             "finite", i, (double)src[i]);
    LF__TRY(LF__BE(model->ctx, mem_upload, model->params, src, n * sizeof(float)));
    return lf__model_apply_masks(model, model->params);   /* pruned weights stay 0 */
}

void lf_model_set_user_data(lf_model *model, void *user_data)
{
    if (model)
        model->user_data = user_data;
}

void *lf_model_get_user_data(const lf_model *model)
{
    return model ? model->user_data : NULL;
}
