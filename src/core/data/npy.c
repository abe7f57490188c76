/* NumPy .npy (format 1.0, 2.0, 3.0): a magic, a little-endian header length, a Python dict
 * literal {'descr': ..., 'fortran_order': ..., 'shape': (...)} and C-order data. The header is
 * untrusted text: parsed by a small bounded scanner, never beyond its stated length. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/dataset_internal.h"
#include "core/fileio.h"

#define NPY_MAX_BYTES ((size_t)1 << 33)
#define NPY_MAX_DIMS 4

typedef struct npy_array {
    char           descr[8];    /* e.g. "<f4", "|u1" */
    int            ndim;
    uint64_t       shape[NPY_MAX_DIMS];
    const uint8_t *data;
    size_t         data_offset;
    size_t         data_size;
} npy_array;

typedef struct scanner {
    const char *p, *end;
    const char *start;          /* first byte of the header text */
    const char *path;
    size_t      base;           /* file offset of the header text */
} scanner;

static lf_status bad(const scanner *s, const char *what)
{
    return lf__error(LF_E_FORMAT, "%s: offset %zu: malformed .npy header: %s", s->path,
                     s->base + (size_t)(s->p - s->start), what);
}

static void skip_space(scanner *s)
{
    while (s->p < s->end && isspace((unsigned char)*s->p))
        s->p++;
}

static int accept(scanner *s, char c)
{
    skip_space(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

/* 'text' or "text" into buf (at most cap-1 chars). */
static lf_status quoted(scanner *s, char *buf, size_t cap)
{
    skip_space(s);
    if (s->p >= s->end || (*s->p != '\'' && *s->p != '"'))
        return bad(s, "expected a quoted string");
    char q = *s->p++;
    size_t n = 0;
    while (s->p < s->end && *s->p != q) {
        if (n + 1 >= cap)
            return bad(s, "string too long");
        buf[n++] = *s->p++;
    }
    if (s->p >= s->end)
        return bad(s, "unterminated string");
    s->p++;
    buf[n] = '\0';
    return LF_OK;
}

static lf_status parse_shape(scanner *s, npy_array *a)
{
    if (!accept(s, '('))
        return bad(s, "shape must be a tuple");
    a->ndim = 0;
    while (!accept(s, ')')) {
        skip_space(s);
        if (a->ndim == NPY_MAX_DIMS)
            return bad(s, "more than 4 dimensions");
        if (s->p >= s->end || !isdigit((unsigned char)*s->p))
            return bad(s, "shape entries must be non-negative integers");
        uint64_t v = 0;
        while (s->p < s->end && isdigit((unsigned char)*s->p)) {
            if (v > (UINT64_MAX - 9) / 10)
                return bad(s, "shape entry overflows");
            v = v * 10 + (uint64_t)(*s->p++ - '0');
        }
        a->shape[a->ndim++] = v;
        if (!accept(s, ',')) {
            if (!accept(s, ')'))
                return bad(s, "expected ',' or ')' in shape");
            break;
        }
    }
    return LF_OK;
}

static lf_status parse_header_dict(scanner *s, npy_array *a)
{
    int have_descr = 0, have_order = 0, have_shape = 0;
    if (!accept(s, '{'))
        return bad(s, "expected '{'");
    while (!accept(s, '}')) {
        char key[32];
        LF__TRY(quoted(s, key, sizeof key));
        if (!accept(s, ':'))
            return bad(s, "expected ':'");
        if (strcmp(key, "descr") == 0) {
            LF__TRY(quoted(s, a->descr, sizeof a->descr));
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            skip_space(s);
            if ((size_t)(s->end - s->p) >= 5 && memcmp(s->p, "False", 5) == 0) {
                s->p += 5;
            } else if ((size_t)(s->end - s->p) >= 4 && memcmp(s->p, "True", 4) == 0) {
                return lf__error(LF_E_UNSUPPORTED, "%s: Fortran-order arrays are not supported; save "
                                 "with numpy.ascontiguousarray", s->path);
            } else {
                return bad(s, "fortran_order must be True or False");
            }
            have_order = 1;
        } else if (strcmp(key, "shape") == 0) {
            LF__TRY(parse_shape(s, a));
            have_shape = 1;
        } else {
            return bad(s, "unknown key");
        }
        if (!accept(s, ',')) {
            if (!accept(s, '}'))
                return bad(s, "expected ',' or '}'");
            break;
        }
    }
    if (!have_descr || !have_order || !have_shape)
        return bad(s, "missing 'descr', 'fortran_order' or 'shape'");
    return LF_OK;
}

static size_t descr_size(const char *descr)
{
    if (strlen(descr) != 3 || !strchr("<|", descr[0]) || !strchr("iuf", descr[1]))
        return 0;
    int n = descr[2] - '0';
    if (descr[1] == 'f')
        return n == 4 ? 4 : 0;
    return (n == 1 || n == 2 || n == 4 || n == 8) ? (size_t)n : 0;
}

/* Reads and validates a whole .npy file; the caller frees *file with size + 1. */
static lf_status npy_read(lf_context *ctx, const char *path, uint8_t **file, size_t *size, npy_array *a)
{
    memset(a, 0, sizeof *a);
    LF__TRY(lf__read_file(ctx, path, NPY_MAX_BYTES, file, size));
    const uint8_t *d = *file;
    lf_status st = LF_OK;
    size_t hlen = 0, hoff = 0;
    if (*size < 10 || memcmp(d, "\x93NUMPY", 6) != 0)
        st = lf__error(LF_E_FORMAT, "%s: offset 0: not a .npy file (bad magic)", path);
    else if (d[6] == 1) {
        hlen = (size_t)d[8] | (size_t)d[9] << 8;
        hoff = 10;
    } else if (d[6] == 2 || d[6] == 3) {
        if (*size < 12)
            st = lf__error(LF_E_FORMAT, "%s: offset %zu: truncated header", path, *size);
        else {
            hlen = (size_t)d[8] | (size_t)d[9] << 8 | (size_t)d[10] << 16 | (size_t)d[11] << 24;
            hoff = 12;
        }
    } else
        st = lf__error(LF_E_UNSUPPORTED, "%s: offset 6: .npy format version %u is not supported", path, d[6]);
    if (st == LF_OK && hlen > *size - hoff)
        st = lf__error(LF_E_FORMAT, "%s: offset %zu: header length %zu runs past the end of the file "
                       "(%zu bytes)", path, hoff, hlen, *size);
    if (st == LF_OK) {
        scanner s = { (const char *)d + hoff, (const char *)d + hoff + hlen, (const char *)d + hoff, path, hoff };
        st = parse_header_dict(&s, a);
    }
    size_t esize = 0, count = 1;
    if (st == LF_OK && (esize = descr_size(a->descr)) == 0)
        st = lf__error(strchr(a->descr, '>') ? LF_E_UNSUPPORTED : LF_E_FORMAT,
                       "%s: dtype '%s' is not supported (uint8/float32 images, little-endian integer labels)",
                       path, a->descr);
    for (int i = 0; st == LF_OK && i < a->ndim; i++) {
        if (a->shape[i] != 0 && count > SIZE_MAX / esize / a->shape[i])
            st = lf__error(LF_E_FORMAT, "%s: shape overflows the address space", path);
        else
            count *= (size_t)a->shape[i];
    }
    if (st == LF_OK) {
        a->data_offset = hoff + hlen;
        a->data_size = count * esize;
        a->data = d + a->data_offset;
        size_t have = *size - a->data_offset;
        if (have < a->data_size)
            st = lf__error(LF_E_FORMAT, "%s: offset %zu: truncated: the shape needs %zu data bytes, the file "
                           "has %zu", path, *size, a->data_size, have);
        else if (have > a->data_size)
            st = lf__error(LF_E_FORMAT, "%s: offset %zu: %zu unexpected bytes after the data", path,
                           a->data_offset + a->data_size, have - a->data_size);
    }
    if (st != LF_OK) {
        lf__free(ctx, *file, *size + 1);
        *file = NULL;
    }
    return st;
}

static int64_t read_label(const npy_array *a, size_t i)
{
    size_t w = (size_t)(a->descr[2] - '0');
    const uint8_t *p = a->data + i * w;
    uint64_t v = 0;
    for (size_t b = 0; b < w; b++)
        v |= (uint64_t)p[b] << (8 * b);
    if (a->descr[1] == 'u')
        return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
    if (w < 8 && (v >> (8 * w - 1)) & 1)   /* sign-extend */
        v |= ~(uint64_t)0 << (8 * w);
    return (int64_t)v;
}

lf_status lf_dataset_load_npy(lf_dataset **out, lf_context *ctx, const char *images_path,
                              const char *labels_path, int32_t num_classes)
{
    LF__CHECK_ARG(out, "lf_dataset_load_npy: out is NULL");
    *out = NULL;
    LF__CHECK_ARG(ctx, "lf_dataset_load_npy: ctx is NULL");
    LF__CHECK_ARG(images_path && labels_path, "lf_dataset_load_npy: %s is NULL",
                  images_path ? "labels_path" : "images_path");
    LF__CHECK_ARG(num_classes >= 0, "lf_dataset_load_npy: num_classes %d is negative", (int)num_classes);

    uint8_t *ifile = NULL, *lfile = NULL;
    size_t isize = 0, lsize = 0, n = 0, dsz = 0;
    npy_array im, lb;
    float *x = NULL;
    int32_t *y = NULL;
    int32_t c = 1, h = 0, w = 0;
    lf_status st = npy_read(ctx, images_path, &ifile, &isize, &im);
    if (st == LF_OK)
        st = npy_read(ctx, labels_path, &lfile, &lsize, &lb);
    if (st == LF_OK && !(strcmp(im.descr + 1, "u1") == 0 || strcmp(im.descr + 1, "f4") == 0))
        st = lf__error(LF_E_FORMAT, "%s: images must be uint8 or float32, not '%s'", images_path, im.descr);
    if (st == LF_OK && im.ndim != 3 && im.ndim != 4)
        st = lf__error(LF_E_FORMAT, "%s: images must have shape N×H×W or N×C×H×W, not %d dimensions",
                       images_path, im.ndim);
    if (st == LF_OK && strchr("iu", lb.descr[1]) == NULL)
        st = lf__error(LF_E_FORMAT, "%s: labels must be integers, not '%s'", labels_path, lb.descr);
    if (st == LF_OK && lb.ndim != 1)
        st = lf__error(LF_E_FORMAT, "%s: labels must have shape (N,), not %d dimensions", labels_path, lb.ndim);
    if (st == LF_OK && lb.shape[0] != im.shape[0])
        st = lf__error(LF_E_FORMAT, "%s: %llu labels, but %s has %llu images", labels_path,
                       (unsigned long long)lb.shape[0], images_path, (unsigned long long)im.shape[0]);
    if (st == LF_OK) {
        uint64_t cc = im.ndim == 4 ? im.shape[1] : 1, hh = im.shape[im.ndim - 2], ww = im.shape[im.ndim - 1];
        if (cc > INT32_MAX || hh > INT32_MAX || ww > INT32_MAX)
            st = lf__error(LF_E_FORMAT, "%s: image shape too large", images_path);
        else {
            c = (int32_t)cc; h = (int32_t)hh; w = (int32_t)ww;
            n = (size_t)im.shape[0];
            st = lf__dataset_check_shape(n, c, h, w, images_path);
        }
    }
    if (st == LF_OK) {
        dsz = (size_t)c * h * w;
        x = lf__alloc(ctx, n * dsz * sizeof *x, images_path);
        y = lf__alloc(ctx, n * sizeof *y, labels_path);
        if (!x || !y)
            st = LF_E_NOMEM;
    }
    for (size_t i = 0; st == LF_OK && i < n * dsz; i++) {
        if (im.descr[1] == 'u') {
            x[i] = (float)im.data[i] / 255.0f;
        } else {
            float v;
            memcpy(&v, im.data + 4 * i, 4);   /* little-endian host assumed (x86-64, arm64) */
            if (!(v >= 0.0f && v <= 1.0f))
                st = lf__error(LF_E_FORMAT, "%s: offset %zu: sample %zu, value %zu is %g, not in [0, 1]",
                               images_path, im.data_offset + 4 * i, i / dsz, i % dsz, (double)v);
            x[i] = v;
        }
    }
    for (size_t i = 0; st == LF_OK && i < n; i++) {
        int64_t v = read_label(&lb, i);
        if (v < 0 || v > INT32_MAX || (num_classes > 0 && v >= num_classes))
            st = lf__error(LF_E_FORMAT, "%s: offset %zu: sample %zu has label %lld, not in [0, %d)",
                           labels_path, lb.data_offset + i * (size_t)(lb.descr[2] - '0'), i, (long long)v,
                           num_classes > 0 ? (int)num_classes : INT32_MAX);
        else
            y[i] = (int32_t)v;
    }
    lf__free(ctx, ifile, isize + 1);
    lf__free(ctx, lfile, lsize + 1);
    if (st != LF_OK) {
        lf__free(ctx, x, n * dsz * sizeof *x);
        lf__free(ctx, y, n * sizeof *y);
        return st;
    }
    return lf__dataset_adopt(out, ctx, x, y, n, c, h, w, num_classes, labels_path);
}
