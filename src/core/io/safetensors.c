/* safetensors files: the strict parser, element conversion and the canonical writer
 * (format rules: safetensors.h). */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/io/safetensors.h"

/* Tensor bytes are read and written as they lie in memory. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

#define METADATA_KEY "__metadata__"

/* ---- dtypes ---- */

static const struct {
    const char *name;
    size_t      size;
} dtype_table[LF__ST_DTYPE_COUNT] = {
    [LF__ST_BOOL] = { "BOOL", 1 },         [LF__ST_U8] = { "U8", 1 },
    [LF__ST_I8] = { "I8", 1 },             [LF__ST_I16] = { "I16", 2 },
    [LF__ST_U16] = { "U16", 2 },           [LF__ST_F16] = { "F16", 2 },
    [LF__ST_BF16] = { "BF16", 2 },         [LF__ST_I32] = { "I32", 4 },
    [LF__ST_U32] = { "U32", 4 },           [LF__ST_F32] = { "F32", 4 },
    [LF__ST_F64] = { "F64", 8 },           [LF__ST_I64] = { "I64", 8 },
    [LF__ST_U64] = { "U64", 8 },           [LF__ST_F8_E5M2] = { "F8_E5M2", 1 },
    [LF__ST_F8_E4M3] = { "F8_E4M3", 1 },
};

const char *lf__safetensors_dtype_name(lf__safetensors_dtype dtype)
{
    return (unsigned)dtype < LF__ST_DTYPE_COUNT ? dtype_table[dtype].name : "?";
}

size_t lf__safetensors_dtype_size(lf__safetensors_dtype dtype)
{
    return (unsigned)dtype < LF__ST_DTYPE_COUNT ? dtype_table[dtype].size : 0;
}

static int dtype_from_name(const char *name)
{
    for (int d = 0; d < LF__ST_DTYPE_COUNT; d++)
        if (strcmp(dtype_table[d].name, name) == 0)
            return d;
    return -1;
}

/* ---- small helpers ---- */

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void free_string(const lf_context *ctx, char *s)
{
    if (s)
        lf__free(ctx, s, strlen(s) + 1);
}

const char *lf__safetensors_shape_text(char *buf, size_t size, int32_t ndim, const int64_t *shape)
{
    size_t len = (size_t)snprintf(buf, size, "[");
    for (int32_t d = 0; d < ndim && len < size; d++)
        len += (size_t)snprintf(buf + len, size - len, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (len < size)
        snprintf(buf + len, size - len, "]");
    return buf;
}

/* Elements and bytes of a shape of non-negative dimensions; 0 when they overflow size_t. */
static int shape_size(int32_t ndim, const int64_t *shape, size_t elem, size_t *numel, size_t *bytes)
{
    for (int32_t d = 0; d < ndim; d++)
        if (shape[d] == 0) {   /* empty, whatever the other dimensions are */
            *numel = *bytes = 0;
            return 1;
        }
    size_t n = 1;
    for (int32_t d = 0; d < ndim; d++) {
        if ((uint64_t)shape[d] > SIZE_MAX / n)
            return 0;
        n *= (size_t)shape[d];
    }
    if (n > SIZE_MAX / elem)
        return 0;
    *numel = n;
    *bytes = n * elem;
    return 1;
}

/* ---- parsing ---- */

/* A JSON integer in [0, INT64_MAX]; 0 (not an integer, or negative) otherwise. */
static int json_nonneg_int(const json_t *v, int64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return 0;
    *out = (int64_t)json_integer_value(v);
    return 1;
}

static lf_status parse_metadata(lf__safetensors_file *f, const json_t *meta)
{
    if (!json_is_object(meta))
        return lf__error(LF_E_FORMAT, "%s: \"" METADATA_KEY "\" is not a JSON object", f->path);
    size_t n = json_object_size(meta);
    if (n == 0)
        return LF_OK;
    f->meta_keys = lf__calloc(f->ctx, n, sizeof *f->meta_keys, "safetensors metadata keys");
    f->meta_values = lf__calloc(f->ctx, n, sizeof *f->meta_values, "safetensors metadata values");
    /* the arrays' size, for lf__safetensors_free (which skips a NULL array), also when only one
     * of them was allocated; entries fill in below */
    f->n_meta = n;
    if (!f->meta_keys || !f->meta_values)
        return LF_E_NOMEM;
    const char *key;
    json_t *value;
    size_t i = 0;
    json_object_foreach((json_t *)meta, key, value) {
        if (!json_is_string(value))
            return lf__error(LF_E_FORMAT, "%s: \"" METADATA_KEY "\" key '%s': the value is not a "
                             "string (safetensors metadata maps strings to strings)", f->path, key);
        f->meta_keys[i] = lf__strdup(f->ctx, key);
        f->meta_values[i] = lf__strdup(f->ctx, json_string_value(value));
        if (!f->meta_keys[i] || !f->meta_values[i])
            return LF_E_NOMEM;
        i++;
    }
    return LF_OK;
}

/* One header entry: dtype, shape, data_offsets; checks sizes and bounds (not the order).
 * Fields other than these three are ignored, as the reference implementation does. */
static lf_status parse_tensor(lf__safetensors_file *f, lf__safetensors_tensor *t, const char *name,
                              const json_t *entry)
{
    const char *p = f->path;
    if (!json_is_object(entry))
        return lf__error(LF_E_FORMAT, "%s: tensor '%s': the header entry is not a JSON object", p, name);

    const json_t *dtype = json_object_get(entry, "dtype");
    if (!json_is_string(dtype))
        return lf__error(LF_E_FORMAT, "%s: tensor '%s': \"dtype\" is missing or not a string", p, name);
    int d = dtype_from_name(json_string_value(dtype));
    if (d < 0)
        return lf__error(LF_E_FORMAT, "%s: tensor '%s': unknown dtype \"%s\"", p, name,
                         json_string_value(dtype));
    t->dtype = d;

    const json_t *shape = json_object_get(entry, "shape");
    if (!json_is_array(shape))
        return lf__error(LF_E_FORMAT, "%s: tensor '%s': \"shape\" is missing or not an array", p, name);
    if (json_array_size(shape) > LF__SAFETENSORS_MAX_DIMS)
        return lf__error(LF_E_FORMAT, "%s: tensor '%s': %zu dimensions (at most %d are supported)", p,
                         name, json_array_size(shape), LF__SAFETENSORS_MAX_DIMS);
    t->ndim = (int32_t)json_array_size(shape);
    for (int32_t i = 0; i < t->ndim; i++)
        if (!json_nonneg_int(json_array_get(shape, (size_t)i), &t->shape[i]))
            return lf__error(LF_E_FORMAT, "%s: tensor '%s': shape[%d] is not a non-negative integer", p,
                             name, (int)i);
    char sbuf[160];
    size_t bytes;
    if (!shape_size(t->ndim, t->shape, dtype_table[d].size, &t->numel, &bytes))
        return lf__error(LF_E_FORMAT, "%s: tensor '%s': shape %s of %s is too large", p, name,
                         lf__safetensors_shape_text(sbuf, sizeof sbuf, t->ndim, t->shape),
                         dtype_table[d].name);

    const json_t *offsets = json_object_get(entry, "data_offsets");
    int64_t begin, end;
    if (!json_is_array(offsets) || json_array_size(offsets) != 2 ||
        !json_nonneg_int(json_array_get(offsets, 0), &begin) ||
        !json_nonneg_int(json_array_get(offsets, 1), &end))
        return lf__error(LF_E_FORMAT, "%s: tensor '%s': \"data_offsets\" is missing or not two "
                         "non-negative integers [begin, end]", p, name);
    if (begin > end)
        return lf__error(LF_E_FORMAT, "%s: tensor '%s': data_offsets [%lld, %lld] end before they begin",
                         p, name, (long long)begin, (long long)end);
    if ((uint64_t)end > f->data_size)
        return lf__error(LF_E_FORMAT, "%s: tensor '%s': data_offsets [%lld, %lld] (file offsets %llu to "
                         "%llu) run past the end of the %zu-byte data buffer (the file ends at offset %zu)",
                         p, name, (long long)begin, (long long)end,
                         (unsigned long long)f->data_start + (uint64_t)begin,
                         (unsigned long long)f->data_start + (uint64_t)end, f->data_size,
                         f->data_start + f->data_size);
    t->begin = (size_t)begin;
    t->end = (size_t)end;
    if (t->end - t->begin != bytes)
        return lf__error(LF_E_FORMAT, "%s: tensor '%s': shape %s of %s needs %zu bytes, but "
                         "data_offsets [%zu, %zu] (file offset %zu) hold %zu", p, name,
                         lf__safetensors_shape_text(sbuf, sizeof sbuf, t->ndim, t->shape),
                         dtype_table[d].name, bytes, t->begin, t->end, f->data_start + t->begin,
                         t->end - t->begin);
    return LF_OK;
}

static int compare_by_range(const void *a, const void *b)
{
    const lf__safetensors_tensor *x = *(const lf__safetensors_tensor *const *)a;
    const lf__safetensors_tensor *y = *(const lf__safetensors_tensor *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

/* The ranges, in offset order, must tile [0, data_size) exactly. */
static lf_status check_coverage(lf__safetensors_file *f)
{
    const lf__safetensors_tensor **order = NULL;
    if (f->n_tensors) {
        order = lf__calloc(f->ctx, f->n_tensors, sizeof *order, "safetensors tensor order");
        if (!order)
            return LF_E_NOMEM;
        for (size_t i = 0; i < f->n_tensors; i++)
            order[i] = &f->tensors[i];
        qsort(order, f->n_tensors, sizeof *order, compare_by_range);
    }
    lf_status st = LF_OK;
    size_t covered = 0;   /* the data buffer [0, covered) belongs to the tensors seen so far */
    const lf__safetensors_tensor *prev = NULL;
    for (size_t i = 0; i < f->n_tensors && st == LF_OK; i++) {
        const lf__safetensors_tensor *t = order[i];
        if (t->begin < covered)
            st = lf__error(LF_E_FORMAT, "%s: tensor '%s': data_offsets [%zu, %zu] overlap tensor '%s' "
                           "[%zu, %zu] (file offset %zu)", f->path, t->name, t->begin, t->end,
                           prev->name, prev->begin, prev->end, f->data_start + t->begin);
        else if (t->begin > covered)
            st = lf__error(LF_E_FORMAT, "%s: data bytes [%zu, %zu) (file offsets %zu to %zu), before "
                           "tensor '%s', belong to no tensor", f->path, covered, t->begin,
                           f->data_start + covered, f->data_start + t->begin, t->name);
        covered = t->end;
        prev = t;
    }
    if (st == LF_OK && covered != f->data_size)
        st = lf__error(LF_E_FORMAT, "%s: %zu trailing bytes at file offset %zu follow the last tensor%s%s%s",
                       f->path, f->data_size - covered, f->data_start + covered,
                       prev ? " ('" : "", prev ? prev->name : "", prev ? "')" : "");
    lf__free(f->ctx, order, f->n_tensors * sizeof *order);
    return st;
}

static lf_status parse_header(lf__safetensors_file *f, const json_t *root)
{
    size_t n = json_object_size(root);
    const json_t *meta = json_object_get(root, METADATA_KEY);
    if (meta) {
        LF__TRY(parse_metadata(f, meta));
        n--;
    }
    if (n) {
        f->tensors = lf__calloc(f->ctx, n, sizeof *f->tensors, "the safetensors tensor table");
        if (!f->tensors)
            return LF_E_NOMEM;
        f->n_tensors = n;   /* the table's size, for lf__safetensors_free; entries fill in below */
    }
    size_t i = 0;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)root, key, value) {
        if (strcmp(key, METADATA_KEY) == 0)
            continue;
        lf__safetensors_tensor *t = &f->tensors[i++];
        t->name = lf__strdup(f->ctx, key);
        if (!t->name)
            return LF_E_NOMEM;
        LF__TRY(parse_tensor(f, t, key, value));
    }
    return check_coverage(f);
}

lf_status lf__safetensors_parse(lf__safetensors_file *f, const lf_context *ctx, const char *path,
                                const uint8_t *bytes, size_t size)
{
    memset(f, 0, sizeof *f);
    f->ctx = ctx;
    f->path = lf__strdup(ctx, path ? path : "(memory)");
    if (!f->path)
        return LF_E_NOMEM;
    const char *p = f->path;
    lf_status st = LF_OK;

    if (size < 8)
        st = lf__error(LF_E_FORMAT, "%s: offset 0: %zu bytes is too short for a safetensors file (the "
                       "8-byte header length is missing)", p, size);
    uint64_t header_len = st == LF_OK ? load_le64(bytes) : 0;
    if (st == LF_OK && header_len > LF__SAFETENSORS_MAX_HEADER)
        st = lf__error(LF_E_FORMAT, "%s: offset 0: header length %llu is over the %u-byte limit", p,
                       (unsigned long long)header_len, LF__SAFETENSORS_MAX_HEADER);
    else if (st == LF_OK && header_len > size - 8)
        st = lf__error(LF_E_FORMAT, "%s: offset 0: header length %llu runs past the end of the file "
                       "(%zu bytes, so at most %zu)", p, (unsigned long long)header_len, size, size - 8);
    /* a JSON object starts with '{' (the reference rejects leading whitespace too) */
    else if (st == LF_OK && (header_len == 0 || bytes[8] != '{'))
        st = lf__error(LF_E_FORMAT, "%s: offset 8: the header is not a JSON object (it does not start "
                       "with '{')", p);
    if (st != LF_OK) {
        lf__safetensors_free(f);
        return st;
    }
    f->data_start = 8 + (size_t)header_len;
    f->data = bytes + f->data_start;
    f->data_size = size - f->data_start;

    json_error_t jerr;
    json_t *root = json_loadb((const char *)bytes + 8, (size_t)header_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        st = lf__error(LF_E_FORMAT, "%s: offset %llu: invalid JSON header: %s", p,
                       (unsigned long long)(8 + (jerr.position > 0 ? jerr.position : 0)), jerr.text);
    else if (!json_is_object(root))
        st = lf__error(LF_E_FORMAT, "%s: offset 8: the header is not a JSON object", p);
    else
        st = parse_header(f, root);
    json_decref(root);
    if (st != LF_OK)
        lf__safetensors_free(f);
    return st;
}

void lf__safetensors_free(lf__safetensors_file *f)
{
    const lf_context *ctx = f->ctx;
    for (size_t i = 0; i < f->n_tensors; i++)
        free_string(ctx, f->tensors[i].name);
    lf__free(ctx, f->tensors, f->n_tensors * sizeof *f->tensors);
    for (size_t i = 0; i < f->n_meta; i++) {
        free_string(ctx, f->meta_keys ? f->meta_keys[i] : NULL);
        free_string(ctx, f->meta_values ? f->meta_values[i] : NULL);
    }
    lf__free(ctx, f->meta_keys, f->n_meta * sizeof *f->meta_keys);
    lf__free(ctx, f->meta_values, f->n_meta * sizeof *f->meta_values);
    free_string(ctx, f->path);
    memset(f, 0, sizeof *f);
    f->ctx = ctx;
}

/* ---- lookup and conversion ---- */

const lf__safetensors_tensor *lf__safetensors_find(const lf__safetensors_file *f, const char *name)
{
    for (size_t i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    return NULL;
}

const char *lf__safetensors_metadata(const lf__safetensors_file *f, const char *key)
{
    for (size_t i = 0; i < f->n_meta; i++)
        if (f->meta_keys[i] && strcmp(f->meta_keys[i], key) == 0)
            return f->meta_values[i];
    return NULL;
}

const uint8_t *lf__safetensors_raw(const lf__safetensors_file *f, const lf__safetensors_tensor *t)
{
    return f->data + t->begin;
}

float lf__safetensors_f16_to_f32(uint16_t bits)
{
    uint32_t sign = (uint32_t)(bits & 0x8000u) << 16;
    uint32_t exponent = (bits >> 10) & 0x1fu, mantissa = bits & 0x3ffu;
    uint32_t out;
    if (exponent == 0x1f) {            /* inf, nan (payload kept) */
        out = sign | 0x7f800000u | (mantissa << 13);
    } else if (exponent != 0) {        /* normal: rebias 15 -> 127 */
        out = sign | ((exponent + 112u) << 23) | (mantissa << 13);
    } else {                           /* zero or subnormal: mantissa · 2^-24, exact in float */
        float v = (float)mantissa * 0x1p-24f;
        return sign ? -v : v;
    }
    float f;
    memcpy(&f, &out, sizeof f);
    return f;
}

float lf__safetensors_bf16_to_f32(uint16_t bits)
{
    uint32_t out = (uint32_t)bits << 16;   /* bfloat16 is the top half of a float */
    float f;
    memcpy(&f, &out, sizeof f);
    return f;
}

lf_status lf__safetensors_read_f32(const lf__safetensors_file *f, const lf__safetensors_tensor *t,
                                   float *dst)
{
    const uint8_t *src = f->data + t->begin;
    size_t n = t->numel;
    switch (t->dtype) {
    case LF__ST_F32:
        if (n)
            memcpy(dst, src, n * sizeof *dst);
        return LF_OK;
    case LF__ST_F16:
    case LF__ST_BF16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h = (uint16_t)(src[2 * i] | (src[2 * i + 1] << 8));
            dst[i] = t->dtype == LF__ST_F16 ? lf__safetensors_f16_to_f32(h) : lf__safetensors_bf16_to_f32(h);
        }
        return LF_OK;
    case LF__ST_F64:
        /* IEEE (Annex F) rounding: values beyond float's range become ±inf, which the caller's
         * finiteness check reports */
        for (size_t i = 0; i < n; i++) {
            double v;
            memcpy(&v, src + 8 * i, sizeof v);
            dst[i] = (float)v;
        }
        return LF_OK;
    case LF__ST_I64:
        for (size_t i = 0; i < n; i++) {
            int64_t v;
            memcpy(&v, src + 8 * i, sizeof v);
            dst[i] = (float)v;
        }
        return LF_OK;
    default:
        return lf__error(LF_E_FORMAT, "%s: tensor '%s': dtype %s cannot be read as float32 (F32, F16, "
                         "BF16, F64 or I64 are)", f->path, t->name, lf__safetensors_dtype_name(t->dtype));
    }
}

/* ---- writing ---- */

/* The header JSON for the tensors and metadata; data offsets follow the order given. */
static lf_status build_header(json_t **out, const char *path, const lf__safetensors_out *tensors,
                              size_t n_tensors, const char *const *meta_keys,
                              const char *const *meta_values, size_t n_meta)
{
    json_t *root = json_object();
    json_t *meta = n_meta ? json_object() : NULL;
    *out = NULL;
    if (!root || (n_meta && (!meta || json_object_set(root, METADATA_KEY, meta) != 0))) {
        json_decref(root);
        json_decref(meta);
        return lf__error(LF_E_NOMEM, "%s: out of memory building the header", path);
    }
    json_decref(meta);   /* root holds it now */
    lf_status st = LF_OK;
    for (size_t i = 0; st == LF_OK && i < n_meta; i++) {
        if (!meta_keys[i] || !meta_values[i])
            st = lf__error(LF_E_INVALID_ARG, "%s: metadata entry %zu has a NULL key or value", path, i);
        else if (json_object_get(meta, meta_keys[i]))
            st = lf__error(LF_E_INVALID_ARG, "%s: metadata key '%s' appears twice", path, meta_keys[i]);
        else if (json_object_set_new(meta, meta_keys[i], json_string(meta_values[i])) != 0)
            st = lf__error(LF_E_INVALID_ARG, "%s: metadata key '%s': the key or its value is not valid "
                           "UTF-8", path, meta_keys[i]);
    }
    size_t offset = 0;
    for (size_t i = 0; st == LF_OK && i < n_tensors; i++) {
        const lf__safetensors_out *t = &tensors[i];
        const char *name = t->name;
        size_t elem = lf__safetensors_dtype_size(t->dtype);
        if (!name || !name[0] || strcmp(name, METADATA_KEY) == 0 || json_object_get(root, name)) {
            st = lf__error(LF_E_INVALID_ARG, "%s: tensor %zu: name '%s' is empty, reserved or used twice",
                           path, i, name ? name : "(null)");
            break;
        }
        if (elem == 0 || t->ndim < 0 || t->ndim > LF__SAFETENSORS_MAX_DIMS || (t->ndim && !t->shape)) {
            st = lf__error(LF_E_INVALID_ARG, "%s: tensor '%s': dtype %d or %d dimensions is invalid",
                           path, name, (int)t->dtype, (int)t->ndim);
            break;
        }
        size_t numel, bytes;
        for (int32_t d = 0; st == LF_OK && d < t->ndim; d++)
            if (t->shape[d] < 0)
                st = lf__error(LF_E_INVALID_ARG, "%s: tensor '%s': dimension %d = %lld is negative", path,
                               name, (int)d, (long long)t->shape[d]);
        if (st == LF_OK && (!shape_size(t->ndim, t->shape, elem, &numel, &bytes) ||
                            bytes > SIZE_MAX - offset || offset + bytes > (uint64_t)INT64_MAX))
            st = lf__error(LF_E_INVALID_ARG, "%s: tensor '%s': the data size overflows", path, name);
        if (st != LF_OK)
            break;
        json_t *shape = json_array();
        for (int32_t d = 0; shape && d < t->ndim; d++)
            json_array_append_new(shape, json_integer(t->shape[d]));
        json_t *entry = json_pack("{s:s, s:o, s:[I, I]}", "dtype", lf__safetensors_dtype_name(t->dtype),
                                  "shape", shape, "data_offsets", (json_int_t)offset,
                                  (json_int_t)(offset + bytes));
        if (!entry || json_object_set_new(root, name, entry) != 0)
            st = lf__error(LF_E_INVALID_ARG, "%s: tensor '%s': the name is not valid UTF-8 (or out of "
                           "memory)", path, name);
        offset += bytes;
    }
    if (st != LF_OK) {
        json_decref(root);
        return st;
    }
    *out = root;
    return LF_OK;
}

static size_t tensor_bytes(const lf__safetensors_out *t)
{
    size_t numel, bytes;
    /* checked by build_header */
    return shape_size(t->ndim, t->shape, lf__safetensors_dtype_size(t->dtype), &numel, &bytes) ? bytes : 0;
}

lf_status lf__safetensors_write(const lf_context *ctx, const char *path,
                                const lf__safetensors_out *tensors, size_t n_tensors,
                                const char *const *meta_keys, const char *const *meta_values,
                                size_t n_meta)
{
    json_t *root = NULL;
    LF__TRY(build_header(&root, path, tensors, n_tensors, meta_keys, meta_values, n_meta));

    /* the header in our own buffer, padded with spaces so the data starts 8-byte aligned */
    const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
    size_t json_len = json_dumpb(root, NULL, 0, flags);
    size_t header_len = (json_len + 7) / 8 * 8;
    if (json_len == 0 || header_len > LF__SAFETENSORS_MAX_HEADER) {
        json_decref(root);
        return lf__error(LF_E_INVALID_ARG, "%s: the header (%zu bytes) is empty or over the %u-byte "
                         "limit", path, json_len, LF__SAFETENSORS_MAX_HEADER);
    }
    uint8_t *header = lf__alloc(ctx, 8 + header_len, "the safetensors header");
    if (!header) {
        json_decref(root);
        return LF_E_NOMEM;
    }
    json_dumpb(root, (char *)header + 8, json_len, flags);
    json_decref(root);
    memset(header + 8 + json_len, ' ', header_len - json_len);
    for (int i = 0; i < 8; i++)
        header[i] = (uint8_t)((uint64_t)header_len >> (8 * i));

    lf__atomic_file af;
    lf_status st = lf__atomic_open(&af, ctx, path);
    if (st == LF_OK && fwrite(header, 1, 8 + header_len, af.fp) != 8 + header_len)
        st = lf__error(LF_E_IO, "%s: writing the header failed: %s", path, strerror(errno));
    for (size_t i = 0; st == LF_OK && i < n_tensors; i++) {
        size_t bytes = tensor_bytes(&tensors[i]);
        if (bytes && fwrite(tensors[i].data, 1, bytes, af.fp) != bytes)
            st = lf__error(LF_E_IO, "%s: writing tensor '%s' failed: %s", path, tensors[i].name,
                           strerror(errno));
    }
    lf__free(ctx, header, 8 + header_len);
    if (st == LF_OK)
        return lf__atomic_commit(&af);
    if (af.fp)   /* opened, then a write failed */
        lf__atomic_abort(&af);
    return st;
}
