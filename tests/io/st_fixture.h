/* Hand-built safetensors files for the io tests, written byte by byte without the library's
 * writer, so the parser and the model loader are checked against an independent encoder. */
#ifndef LF_TEST_ST_FIXTURE_H
#define LF_TEST_ST_FIXTURE_H

#include <dirent.h>
#include <stdarg.h>

#include "lf_test.h"

/* 8-byte little-endian header length, then header_len bytes of header (the header's own
 * length unless header_len is given explicitly), then the data. */
static inline void st_write_raw(const char *path, uint64_t header_len, const char *header,
                                size_t header_bytes, const void *data, size_t data_len)
{
    size_t size = 8 + header_bytes + data_len;
    uint8_t *buf = malloc(size ? size : 1);
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)(header_len >> (8 * i));
    memcpy(buf + 8, header, header_bytes);
    if (data_len)
        memcpy(buf + 8 + header_bytes, data, data_len);
    lf_test_write_file(path, buf, size);
    free(buf);
}

/* A well-formed length field for header text plus data_len bytes of data (0x11 each unless data
 * is given). */
static inline void st_write(const char *path, const char *header, const void *data, size_t data_len)
{
    uint8_t *filler = NULL;
    if (!data && data_len) {
        filler = malloc(data_len);
        memset(filler, 0x11, data_len);
        data = filler;
    }
    st_write_raw(path, strlen(header), header, strlen(header), data, data_len);
    free(filler);
}

/* A header assembled entry by entry with offsets laid out in the order added. */
typedef struct st_build {
    char    header[1 << 14];
    size_t  hlen;
    uint8_t *data;
    size_t  dlen;
    int     entries;
} st_build;

static inline void st_appendf(st_build *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->header + b->hlen, sizeof b->header - b->hlen, fmt, ap);
    va_end(ap);
    ck_assert(w >= 0 && (size_t)w < sizeof b->header - b->hlen);
    b->hlen += (size_t)w;
}

/* metadata: NULL for none, else the JSON object text, e.g. "{\"k\":\"v\"}" */
static inline void st_begin(st_build *b, const char *metadata)
{
    memset(b, 0, sizeof *b);
    st_appendf(b, "{");
    if (metadata) {
        st_appendf(b, "\"__metadata__\":%s", metadata);
        b->entries = 1;
    }
}

static inline void st_add(st_build *b, const char *name, const char *dtype, int ndim,
                          const int64_t *shape, const void *bytes, size_t nbytes)
{
    st_appendf(b, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", b->entries++ ? "," : "", name, dtype);
    for (int d = 0; d < ndim; d++)
        st_appendf(b, "%s%lld", d ? "," : "", (long long)shape[d]);
    st_appendf(b, "],\"data_offsets\":[%zu,%zu]}", b->dlen, b->dlen + nbytes);
    b->data = realloc(b->data, b->dlen + nbytes + 1);
    if (nbytes)
        memcpy(b->data + b->dlen, bytes, nbytes);
    b->dlen += nbytes;
}

/* F32 tensor from floats */
static inline void st_add_f32(st_build *b, const char *name, int ndim, const int64_t *shape,
                              const float *v, size_t n)
{
    st_add(b, name, "F32", ndim, shape, v, n * sizeof *v);
}

static inline void st_finish(st_build *b, const char *path)
{
    st_appendf(b, "}");
    st_write(path, b->header, b->data, b->dlen);
    free(b->data);
    b->data = NULL;
}

/* "<dir>/<name>" in a static buffer per slot (two slots, so two paths can be live) */
static inline const char *st_path(const char *dir, const char *name)
{
    static char buf[2][512];
    static int slot;
    slot ^= 1;
    snprintf(buf[slot], sizeof buf[slot], "%s/%s", dir, name);
    return buf[slot];
}

/* Number of entries in dir other than . and .. */
static inline int st_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* Whole file into malloc'd memory; *size its length. */
static inline uint8_t *st_slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert(n >= 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* The last error message contains every given needle (NULL-terminated list). */
static inline void st_assert_message_has(const char *first, ...)
{
    const char *msg = lf_last_error_message();
    va_list ap;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *))
        ck_assert_msg(strstr(msg, s) != NULL, "message \"%s\" does not mention \"%s\"", msg, s);
    va_end(ap);
}

#endif
