/* Model files: lf_model_load and lf_model_save over the safetensors container (safetensors.c).
 *
 * A file holds every tensor the architecture declares, under its PyTorch name and shape, and
 * nothing else (no tensor is ignored as harmless) but pruning masks: "<weight>_mask" U8 tensors
 * of the weight's shape holding 0 or 1, for the tensors the architecture declares maskable
 * (convolution weights). A model with masks writes one for every maskable tensor; on load a
 * missing one means nothing of that tensor is pruned, and the weights are re-masked. Each may be F32, F16, BF16, F64 or I64, whatever the model
 * writes it as, and is converted to float32; every value must be finite. Saving writes F32, and
 * I64 for the tensors the architecture declares so (num_batches_tracked). __metadata__:
 *   libforget.arch         "mlp"
 *   libforget.input_shape  "C,H,W"
 *   libforget.classes      "10"
 *   libforget.norm_mean    "0.286,0.353,..." one per input channel (with norm_std, or neither)
 *   libforget.norm_std     the same, each > 0
 *   libforget.version      the library version that wrote the file
 * plus "format": "pt" (what PyTorch's safetensors writer puts there) and the model's own keys.
 * A file without these (a PyTorch state_dict saved with safetensors) loads too: the architecture
 * and shapes are inferred from the tensors and there is no normalisation. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/fileio.h"
#include "core/io/safetensors.h"
#include "core/model_internal.h"
#include "libforget/version.h"

#define KEY_ARCH        "libforget.arch"
#define KEY_INPUT_SHAPE "libforget.input_shape"
#define KEY_CLASSES     "libforget.classes"
#define KEY_NORM_MEAN   "libforget.norm_mean"
#define KEY_NORM_STD    "libforget.norm_std"
#define KEY_VERSION     "libforget.version"
#define KEY_FORMAT      "format"

/* Keys that describe the model's structure: turned into the model on load (not kept as
 * metadata, where they could go stale) and written afresh on save. */
static const char *const structural_keys[] = { KEY_ARCH, KEY_INPUT_SHAPE, KEY_CLASSES, KEY_NORM_MEAN,
                                               KEY_NORM_STD };
#define N_STRUCTURAL (sizeof structural_keys / sizeof structural_keys[0])

static int is_structural_key(const char *key)
{
    for (size_t i = 0; i < N_STRUCTURAL; i++)
        if (strcmp(key, structural_keys[i]) == 0)
            return 1;
    return 0;
}

/* 4 GiB: far above any built-in architecture's weights; bounded so a bad path cannot exhaust
 * memory. */
static size_t max_model_file(void)
{
    uint64_t limit = (uint64_t)4 << 30;
    return limit < SIZE_MAX ? (size_t)limit : SIZE_MAX;
}

/* ---- metadata values ---- */

/* A positive decimal integer of at most INT32_MAX starting at s (digits only); NULL when there
 * is none, else the character after it. */
static const char *parse_positive_int(const char *s, int32_t *out)
{
    int64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = 10 * v + (*p - '0');
        if (v > INT32_MAX)
            return NULL;
    }
    if (p == s || v == 0)
        return NULL;
    *out = (int32_t)v;
    return p;
}

static lf_status parse_input_shape(const char *path, const char *value, lf_model_config *cfg)
{
    int32_t dims[3];
    const char *p = value;
    for (int i = 0; i < 3 && p; i++) {
        p = parse_positive_int(p, &dims[i]);
        if (p && i < 2)
            p = *p == ',' ? p + 1 : NULL;
    }
    if (!p || *p != '\0')
        return lf__error(LF_E_FORMAT, "%s: metadata " KEY_INPUT_SHAPE " = \"%s\": not three positive "
                         "integers \"C,H,W\"", path, value);
    cfg->channels = dims[0];
    cfg->height = dims[1];
    cfg->width = dims[2];
    return LF_OK;
}

static lf_status parse_classes(const char *path, const char *value, lf_model_config *cfg)
{
    const char *p = parse_positive_int(value, &cfg->num_classes);
    if (!p || *p != '\0')
        return lf__error(LF_E_FORMAT, "%s: metadata " KEY_CLASSES " = \"%s\": not a positive integer",
                         path, value);
    return LF_OK;
}

/* n comma-separated finite numbers into dst. The value is read as the JSON array "[value]",
 * which parses numbers the same way whatever the host's locale. */
static lf_status parse_floats(const lf_context *ctx, const char *path, const char *key,
                              const char *value, float *dst, size_t n)
{
    size_t len = strlen(value);
    char *text = lf__alloc(ctx, len + 3, "a metadata value");
    if (!text)
        return LF_E_NOMEM;
    text[0] = '[';
    memcpy(text + 1, value, len);
    text[len + 1] = ']';
    text[len + 2] = '\0';
    json_t *array = json_loadb(text, len + 2, 0, NULL);
    lf__free(ctx, text, len + 3);

    lf_status st = LF_OK;
    if (!json_is_array(array) || json_array_size(array) != n)
        st = lf__error(LF_E_FORMAT, "%s: metadata %s = \"%s\": not %zu comma-separated numbers (one per "
                       "input channel)", path, key, value, n);
    for (size_t i = 0; st == LF_OK && i < n; i++) {
        const json_t *v = json_array_get(array, i);
        float x = json_is_number(v) ? (float)json_number_value(v) : NAN;
        if (!isfinite(x))
            st = lf__error(LF_E_FORMAT, "%s: metadata %s = \"%s\": entry %zu is not a finite float", path,
                           key, value, i);
        else
            dst[i] = x;
    }
    json_decref(array);
    return st;
}

/* "0.286,0.353" with "%.9g" per value (jansson prints reals that way whatever the locale), so
 * every float reads back exactly. *out from lf__alloc (free strlen + 1 bytes). */
static lf_status format_floats(const lf_context *ctx, const float *v, size_t n, char **out)
{
    *out = NULL;
    json_t *array = json_array();
    int ok = array != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = json_array_append_new(array, json_real((double)v[i])) == 0;
    const size_t flags = JSON_COMPACT | JSON_REAL_PRECISION(9);
    size_t len = ok ? json_dumpb(array, NULL, 0, flags) : 0;   /* "[a,b,...]", no NUL */
    char *dump = len >= 2 ? lf__alloc(ctx, len, "a metadata value") : NULL;
    char *text = dump ? lf__alloc(ctx, len - 1, "a metadata value") : NULL;
    if (text) {
        json_dumpb(array, dump, len, flags);
        memcpy(text, dump + 1, len - 2);   /* without the brackets */
        text[len - 2] = '\0';
    }
    json_decref(array);
    lf__free(ctx, dump, len);
    if (!text)
        return lf__error(LF_E_NOMEM, "out of memory formatting the normalisation");
    *out = text;
    return LF_OK;
}

/* ---- choosing the architecture and configuration ---- */

/* lf__arch.infer's view of the file. Tensors with more dimensions than a model tensor can have
 * are reported absent: no architecture declares them. */
static int find_in_file(void *file, const char *name, int32_t *ndim, int64_t shape[LF__MAX_DIMS])
{
    const lf__safetensors_tensor *t = lf__safetensors_find(file, name);
    if (!t || t->ndim > LF__MAX_DIMS)
        return 0;
    *ndim = t->ndim;
    for (int32_t d = 0; d < t->ndim; d++)
        shape[d] = t->shape[d];
    return 1;
}

/* The first built-in architecture whose infer accepts the file's tensors. */
static lf_status infer_arch(const lf__safetensors_file *f, const lf__arch **arch, lf_model_config *cfg)
{
    char reasons[512] = "";
    size_t len = 0;
    for (size_t i = 0; i < lf__arch_count(); i++) {
        const lf__arch *a = lf__arch_at(i);
        lf_model_config guess = LF_MODEL_CONFIG_INIT;
        if (a->infer && a->infer(&guess, find_in_file, (void *)f) == LF_OK) {
            *arch = a;
            *cfg = guess;
            return LF_OK;
        }
        if (len < sizeof reasons) {
            int w = snprintf(reasons + len, sizeof reasons - len, "%s%s", len ? "; " : "",
                             a->infer ? lf_last_error_message() : a->name);
            len += w > 0 ? (size_t)w : 0;
        }
    }
    return lf__error(LF_E_UNKNOWN_ARCH, "%s: no " KEY_ARCH " metadata, and the tensors fit no built-in "
                     "architecture (%s); name one in lf_model_load_options.arch", f->path, reasons);
}

/* The architecture (requested, else the file's metadata, else inferred) and its configuration
 * (the file's metadata, else inferred from the tensors). */
static lf_status resolve_config(const lf__safetensors_file *f, const char *requested,
                                const lf__arch **arch, lf_model_config *cfg)
{
    const char *name = requested ? requested : lf__safetensors_metadata(f, KEY_ARCH);
    const char *shape = lf__safetensors_metadata(f, KEY_INPUT_SHAPE);
    const char *classes = lf__safetensors_metadata(f, KEY_CLASSES);
    lf_model_config guess = LF_MODEL_CONFIG_INIT;

    *arch = NULL;
    if (name) {
        *arch = lf__arch_find(name);
        if (!*arch)
            return lf__error(LF_E_UNKNOWN_ARCH, "%s: architecture '%s' (%s) is not built in", f->path,
                             name, requested ? "from lf_model_load_options.arch" : "the file's " KEY_ARCH);
        lf_status fits = LF_OK;
        if (!shape || !classes)
            fits = (*arch)->infer ? (*arch)->infer(&guess, find_in_file, (void *)f)
                                  : lf__error(LF_E_FORMAT, "'%s' cannot infer them", name);
        if (fits != LF_OK) {
            lf__error_prefix("%s: without " KEY_INPUT_SHAPE " and " KEY_CLASSES " metadata the shapes "
                             "come from the tensors, which do not fit '%s'", f->path, name);
            return LF_E_FORMAT;
        }
    } else {
        LF__TRY(infer_arch(f, arch, &guess));
    }
    *cfg = guess;
    if (shape)
        LF__TRY(parse_input_shape(f->path, shape, cfg));
    if (classes)
        LF__TRY(parse_classes(f->path, classes, cfg));
    return LF_OK;
}

/* ---- loading ---- */

static lf_status check_shape(const lf__safetensors_file *f, const lf_model *m, const lf__tensor_desc *t,
                             const lf__safetensors_tensor *ft)
{
    int same = ft->ndim == t->ndim;
    for (int32_t d = 0; same && d < t->ndim; d++)
        same = ft->shape[d] == t->shape[d];
    if (same)
        return LF_OK;
    char want[160], have[160];
    return lf__error(LF_E_SHAPE, "%s: tensor '%s': model '%s' expects shape %s, the file has %s", f->path,
                     t->name, m->arch->name, lf__safetensors_shape_text(want, sizeof want, t->ndim, t->shape),
                     lf__safetensors_shape_text(have, sizeof have, ft->ndim, ft->shape));
}

#define MASK_SUFFIX "_mask"

/* The maskable tensor whose mask file_name ("<weight>_mask") is, or NULL. */
static const lf__tensor_desc *masked_tensor(const lf_model *m, const char *file_name)
{
    size_t len = strlen(file_name), suffix = strlen(MASK_SUFFIX);
    if (len <= suffix || len - suffix >= LF__MAX_NAME || strcmp(file_name + len - suffix, MASK_SUFFIX) != 0)
        return NULL;
    char name[LF__MAX_NAME];
    memcpy(name, file_name, len - suffix);
    name[len - suffix] = '\0';
    const lf__tensor_desc *t = lf__model_find_tensor(m, name);
    return t && t->maskable ? t : NULL;
}

/* Every declared tensor present with its shape, and nothing else in the file but masks. */
static lf_status check_tensor_set(const lf__safetensors_file *f, const lf_model *m)
{
    for (size_t i = 0; i < m->n_tensors; i++) {
        const lf__tensor_desc *t = &m->tensors[i];
        const lf__safetensors_tensor *ft = lf__safetensors_find(f, t->name);
        if (!ft)
            return lf__error(LF_E_FORMAT, "%s: tensor '%s' of model '%s' is missing from the file", f->path,
                             t->name, m->arch->name);
        LF__TRY(check_shape(f, m, t, ft));
    }
    const char *unknown = NULL;
    size_t n_unknown = 0;
    for (size_t i = 0; i < f->n_tensors; i++)
        if (!lf__model_find_tensor(m, f->tensors[i].name) && !masked_tensor(m, f->tensors[i].name) &&
            n_unknown++ == 0)
            unknown = f->tensors[i].name;
    if (n_unknown)
        return n_unknown == 1
                   ? lf__error(LF_E_FORMAT, "%s: tensor '%s' is not part of model '%s'", f->path, unknown,
                               m->arch->name)
                   : lf__error(LF_E_FORMAT, "%s: tensor '%s' and %zu more are not part of model '%s'",
                               f->path, unknown, n_unknown - 1, m->arch->name);
    return LF_OK;
}

/* Converts each tensor to float32, checks every value is finite and uploads it. */
static lf_status load_tensor_values(const lf__safetensors_file *f, lf_model *m)
{
    size_t max_numel = 0;
    for (size_t i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].numel > max_numel)
            max_numel = m->tensors[i].numel;
    float *host = lf__calloc(m->ctx, max_numel, sizeof *host, "a tensor being loaded");
    if (!host)
        return LF_E_NOMEM;
    lf_status st = LF_OK;
    for (size_t i = 0; st == LF_OK && i < m->n_tensors; i++) {
        const lf__tensor_desc *t = &m->tensors[i];
        const lf__safetensors_tensor *ft = lf__safetensors_find(f, t->name);
        st = lf__safetensors_read_f32(f, ft, host);
        for (size_t j = 0; st == LF_OK && j < t->numel; j++)
            if (!isfinite(host[j]))
                st = lf__error(LF_E_FORMAT, "%s: tensor '%s': element %zu is %g (as float32); weights must "
                               "be finite", f->path, t->name, j, (double)host[j]);
        if (st == LF_OK)
            st = lf__model_upload(m, t, host);
    }
    lf__free(m->ctx, host, max_numel * sizeof *host);
    return st;
}

/* The masks in the file (U8, the weight's shape, 0 or 1 only), uploaded, and the weights
 * re-masked; a file without masks leaves the model dense. */
static lf_status load_masks(const lf__safetensors_file *f, lf_model *m)
{
    for (size_t i = 0; i < f->n_tensors; i++) {
        const lf__safetensors_tensor *ft = &f->tensors[i];
        const lf__tensor_desc *t = masked_tensor(m, ft->name);
        if (!t)
            continue;
        if (ft->dtype != LF__ST_U8)
            return lf__error(LF_E_FORMAT, "%s: mask '%s' is %s, not U8", f->path, ft->name,
                             lf__safetensors_dtype_name(ft->dtype));
        LF__TRY(check_shape(f, m, t, ft));
        const uint8_t *v = lf__safetensors_raw(f, ft);
        for (size_t j = 0; j < t->numel; j++)
            if (v[j] > 1)
                return lf__error(LF_E_FORMAT, "%s: mask '%s': element %zu is %u, not 0 or 1", f->path,
                                 ft->name, j, (unsigned)v[j]);
        LF__TRY(lf__model_ensure_masks(m));
        LF__TRY(LF__BE(m->ctx, mem_upload, lf__model_mask_ptr(m, t), v, t->numel));
    }
    return lf__model_apply_masks(m, m->params);
}

static lf_status load_normalisation(const lf__safetensors_file *f, lf_model *m)
{
    const char *mean_text = lf__safetensors_metadata(f, KEY_NORM_MEAN);
    const char *std_text = lf__safetensors_metadata(f, KEY_NORM_STD);
    if (!mean_text && !std_text)
        return LF_OK;   /* none: a PyTorch state_dict, or a model that never had one */
    if (!mean_text || !std_text)
        return lf__error(LF_E_FORMAT, "%s: metadata has %s but not %s", f->path,
                         mean_text ? KEY_NORM_MEAN : KEY_NORM_STD, mean_text ? KEY_NORM_STD : KEY_NORM_MEAN);
    size_t n = (size_t)m->in_channels;
    float *v = lf__calloc(m->ctx, 2 * n, sizeof *v, "the normalisation");
    if (!v)
        return LF_E_NOMEM;
    lf_status st = parse_floats(m->ctx, f->path, KEY_NORM_MEAN, mean_text, v, n);
    if (st == LF_OK)
        st = parse_floats(m->ctx, f->path, KEY_NORM_STD, std_text, v + n, n);
    if (st == LF_OK && lf_model_set_normalization(m, v, v + n, n) != LF_OK) {
        /* the setter's message says which value is wrong; the file is what is malformed */
        lf__error_prefix("%s: metadata " KEY_NORM_MEAN " / " KEY_NORM_STD, f->path);
        st = LF_E_FORMAT;
    }
    lf__free(m->ctx, v, 2 * n * sizeof *v);
    return st;
}

lf_status lf_model_load(lf_model **out, lf_context *ctx, const char *path, const lf_model_load_options *opts)
{
    LF__CHECK_ARG(out, "lf_model_load: out is NULL");
    *out = NULL;
    LF__CHECK_ARG(ctx, "lf_model_load: ctx is NULL");
    LF__CHECK_ARG(path, "lf_model_load: path is NULL");
    lf_model_load_options o;
    LF__TRY(lf__copy_struct_in(&o, sizeof o, opts, sizeof o, "lf_model_load_options"));

    uint8_t *bytes = NULL;
    size_t size = 0;
    LF__TRY(lf__read_file(ctx, path, max_model_file(), &bytes, &size));
    lf__safetensors_file f;
    lf_status st = lf__safetensors_parse(&f, ctx, path, bytes, size);

    const lf__arch *arch = NULL;
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    lf_model *m = NULL;
    if (st == LF_OK)
        st = resolve_config(&f, o.arch, &arch, &cfg);
    if (st == LF_OK && (st = lf__model_declare(&m, ctx, arch, &cfg)) != LF_OK)
        lf__error_prefix("%s", path);
    /* the tensors before the memory: the sizes come from metadata, which no data backs, while
     * every tensor of the file is backed by its bytes */
    if (st == LF_OK)
        st = check_tensor_set(&f, m);
    if (st == LF_OK && (st = lf__model_alloc_blocks(m)) != LF_OK)
        lf__error_prefix("%s", path);
    if (st == LF_OK)
        st = load_tensor_values(&f, m);
    if (st == LF_OK)
        st = load_masks(&f, m);
    if (st == LF_OK)
        st = load_normalisation(&f, m);
    /* everything else (the user's keys, format, the writer's version) stays with the model */
    for (size_t i = 0; st == LF_OK && i < f.n_meta; i++)
        if (!is_structural_key(f.meta_keys[i]))
            st = lf__model_set_metadata_raw(m, f.meta_keys[i], f.meta_values[i]);

    lf__safetensors_free(&f);
    lf__free(ctx, bytes, size + 1);
    if (st != LF_OK) {
        lf_model_destroy(m);
        return st;
    }
    *out = m;
    return LF_OK;
}

/* ---- saving ---- */

/* What lf_model_save builds before writing; freed by save_state_free. */
typedef struct save_state {
    const lf_context    *ctx;
    float               *params, *buffers;   /* host copies of the blocks */
    int64_t             *ints;               /* I64 tensors, converted, one after another */
    size_t               n_ints;
    lf__safetensors_out *outs;               /* the model's tensors, then the masks */
    size_t               n_outs;
    uint8_t             *masks;              /* host copy of the masks */
    char               (*mask_names)[LF__MAX_NAME + sizeof MASK_SUFFIX];
    const char         **keys, **values;
    size_t               n_keys, cap_keys;
    char                 shape[48], classes[16];
    char                *norm_mean, *norm_std;
} save_state;

static void save_state_free(save_state *s, const lf_model *m)
{
    const lf_context *ctx = s->ctx;
    lf__free(ctx, s->params, m->n_params * sizeof(float));
    lf__free(ctx, s->buffers, m->n_buffers * sizeof(float));
    lf__free(ctx, s->ints, s->n_ints * sizeof *s->ints);
    lf__free(ctx, s->outs, (m->n_tensors * 2) * sizeof *s->outs);
    lf__free(ctx, s->masks, m->n_mask);
    lf__free(ctx, s->mask_names, m->n_tensors * sizeof *s->mask_names);
    lf__free(ctx, s->keys, s->cap_keys * sizeof *s->keys);
    lf__free(ctx, s->values, s->cap_keys * sizeof *s->values);
    if (s->norm_mean)
        lf__free(ctx, s->norm_mean, strlen(s->norm_mean) + 1);
    if (s->norm_std)
        lf__free(ctx, s->norm_std, strlen(s->norm_std) + 1);
}

/* "<weight>_mask" U8 tensors after the model's, for a model with masks. */
static lf_status gather_masks(save_state *s, const lf_model *m)
{
    if (!m->masks)
        return LF_OK;
    s->masks = lf__alloc(s->ctx, m->n_mask, "the masks to save");
    s->mask_names = lf__calloc(s->ctx, m->n_tensors, sizeof *s->mask_names, "mask names");
    if (!s->masks || !s->mask_names)
        return LF_E_NOMEM;
    LF__TRY(LF__BE(m->ctx, mem_download, s->masks, m->masks, m->n_mask));
    for (size_t i = 0; i < m->n_tensors; i++) {
        const lf__tensor_desc *t = &m->tensors[i];
        if (!t->maskable)
            continue;
        snprintf(s->mask_names[i], sizeof s->mask_names[i], "%s" MASK_SUFFIX, t->name);
        s->outs[s->n_outs++] = (lf__safetensors_out){ s->mask_names[i], LF__ST_U8, t->ndim, t->shape,
                                                      s->masks + t->mask_offset };
    }
    return LF_OK;
}

/* Host copies of every tensor, as the file's dtypes: floats as they are, I64 buffers (stored as
 * floats, e.g. num_batches_tracked) converted. Non-finite values are refused so that the file
 * always loads again. */
static lf_status gather_tensors(save_state *s, const lf_model *m, const char *path)
{
    const lf_context *ctx = s->ctx;
    s->params = lf__calloc(ctx, m->n_params, sizeof(float), "the parameters to save");
    s->buffers = lf__calloc(ctx, m->n_buffers, sizeof(float), "the buffers to save");
    s->outs = lf__calloc(ctx, m->n_tensors * 2, sizeof *s->outs, "the tensors to save");
    if (!s->params || !s->buffers || !s->outs)
        return LF_E_NOMEM;
    for (size_t i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].file_dtype == LF__FILE_I64)
            s->n_ints += m->tensors[i].numel;
    if (s->n_ints && !(s->ints = lf__calloc(ctx, s->n_ints, sizeof *s->ints, "the I64 tensors to save")))
        return LF_E_NOMEM;

    size_t next_int = 0;
    for (size_t i = 0; i < m->n_tensors; i++) {
        const lf__tensor_desc *t = &m->tensors[i];
        float *host = (t->kind == LF__TENSOR_PARAM ? s->params : s->buffers) + t->offset;
        LF__TRY(lf__model_download(m, t, host));
        for (size_t j = 0; j < t->numel; j++)
            if (!isfinite(host[j]))
                return lf__error(LF_E_NUMERIC, "%s: tensor '%s': element %zu is %g; only finite weights are "
                                 "saved", path, t->name, j, (double)host[j]);
        lf__safetensors_out *o = &s->outs[i];
        *o = (lf__safetensors_out){ t->name, LF__ST_F32, t->ndim, t->shape, host };
        if (t->file_dtype == LF__FILE_I64) {
            int64_t *ints = s->ints + next_int;
            for (size_t j = 0; j < t->numel; j++) {
                /* 2^63 is exactly a float; integral values below it convert exactly */
                if (host[j] != nearbyintf(host[j]) || fabsf(host[j]) >= 0x1p63f)
                    return lf__error(LF_E_NUMERIC, "%s: tensor '%s': element %zu = %g is not an integer "
                                     "(written as I64)", path, t->name, j, (double)host[j]);
                ints[j] = (int64_t)host[j];
            }
            o->dtype = LF__ST_I64;
            o->data = ints;
            next_int += t->numel;
        }
    }
    s->n_outs = m->n_tensors;
    return gather_masks(s, m);
}

static void add_key(save_state *s, const char *key, const char *value)
{
    s->keys[s->n_keys] = key;
    s->values[s->n_keys] = value;
    s->n_keys++;
}

/* The library's keys first, then the model's own (those the library writes itself are skipped:
 * a loaded file's version is replaced by this one). */
static lf_status gather_metadata(save_state *s, const lf_model *m)
{
    s->cap_keys = N_STRUCTURAL + 2 + m->n_meta;
    s->keys = lf__calloc(s->ctx, s->cap_keys, sizeof *s->keys, "metadata keys to save");
    s->values = lf__calloc(s->ctx, s->cap_keys, sizeof *s->values, "metadata values to save");
    if (!s->keys || !s->values)
        return LF_E_NOMEM;
    snprintf(s->shape, sizeof s->shape, "%d,%d,%d", (int)m->in_channels, (int)m->in_height,
             (int)m->in_width);
    snprintf(s->classes, sizeof s->classes, "%d", (int)m->num_classes);
    add_key(s, KEY_FORMAT, "pt");
    add_key(s, KEY_ARCH, m->arch->name);
    add_key(s, KEY_INPUT_SHAPE, s->shape);
    add_key(s, KEY_CLASSES, s->classes);
    if (m->has_norm) {
        LF__TRY(format_floats(s->ctx, m->norm_mean, (size_t)m->in_channels, &s->norm_mean));
        LF__TRY(format_floats(s->ctx, m->norm_std, (size_t)m->in_channels, &s->norm_std));
        add_key(s, KEY_NORM_MEAN, s->norm_mean);
        add_key(s, KEY_NORM_STD, s->norm_std);
    }
    add_key(s, KEY_VERSION, LF_VERSION_STRING);
    for (size_t i = 0; i < m->n_meta; i++) {
        const char *k = m->meta_keys[i];
        if (!is_structural_key(k) && strcmp(k, KEY_FORMAT) != 0 && strcmp(k, KEY_VERSION) != 0)
            add_key(s, k, m->meta_values[i]);
    }
    return LF_OK;
}

lf_status lf_model_save(const lf_model *model, const char *path)
{
    LF__CHECK_ARG(model, "lf_model_save: model is NULL");
    LF__CHECK_ARG(path, "lf_model_save: path is NULL");
    save_state s;
    memset(&s, 0, sizeof s);
    s.ctx = model->ctx;
    lf_status st = gather_tensors(&s, model, path);
    if (st == LF_OK)
        st = gather_metadata(&s, model);
    if (st == LF_OK)
        st = lf__safetensors_write(s.ctx, path, s.outs, s.n_outs, s.keys, s.values, s.n_keys);
    save_state_free(&s, model);
    return st;
}
