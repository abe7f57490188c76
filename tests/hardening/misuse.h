/* Helpers of the misuse tests (issue 9, item 4): a misused call must return the expected status
 * and leave a detail message of its own naming what was wrong, and the caller's objects must be
 * unchanged (compared through hashes taken before and after). Header-only. */
#ifndef LF_TEST_MISUSE_H
#define LF_TEST_MISUSE_H

#include "lf_test.h"

/* A detail message no library call writes but the one that sets it: after a misused call, its
 * absence shows the call set a message of its own (not a stale one). */
static inline void misuse_sentinel(void)
{
    lf_backend_kind k;
    ck_assert_int_eq(lf_backend_from_name("sentinel-zz", &k), LF_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "sentinel-zz"));
}

static inline void misuse_check(lf_status got, lf_status want, const char *needle, const char *expr)
{
    const char *msg = lf_last_error_message();
    ck_assert_msg(got == want, "%s -> %s, wanted %s: %s", expr, lf_status_name(got),
                  lf_status_name(want), msg);
    ck_assert_msg(msg[0] != '\0', "%s: empty detail message", expr);
    ck_assert_msg(strstr(msg, "sentinel-zz") == NULL, "%s: the detail message is a stale one", expr);
    ck_assert_msg(!needle || strstr(msg, needle), "%s: the detail '%s' does not name '%s'", expr, msg,
                  needle);
}

/* MISUSE(call, LF_E_..., "text the detail must contain" or NULL) */
#define MISUSE(expr, want, needle)                                                           \
    do {                                                                                     \
        misuse_sentinel();                                                                   \
        lf_status got__ = (expr);                                                            \
        misuse_check(got__, (want), (needle), #expr);                                        \
    } while (0)

/* An out-pointer preset to garbage must come back NULL from a failed create. */
#define JUNK_PTR ((void *)(uintptr_t)0x5a5a5a5a)

static inline uint64_t fnv1a(const void *data, size_t n, uint64_t h)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}
#define FNV_BASIS 14695981039346656037ull

/* Everything a caller can observe of a model: its file (parameters, buffers, masks,
 * normalisation, metadata) as lf_model_save writes it. */
static inline uint64_t model_hash(const lf_model *m)
{
    char path[512];
    snprintf(path, sizeof path, "%s/hash.safetensors", lf_test_tmpdir());
    ck_assert_lf_ok(lf_model_save(m, path));
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    uint64_t h = FNV_BASIS;
    unsigned char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        h = fnv1a(buf, got, h);
    fclose(f);
    unlink(path);
    *strrchr(path, '/') = '\0';
    rmdir(path);
    return h;
}

/* Every sample and label of a data set. */
static inline uint64_t dataset_hash(const lf_dataset *ds)
{
    int32_t c = 0, h = 0, w = 0;
    ck_assert_lf_ok(lf_dataset_shape(ds, &c, &h, &w));
    size_t d = (size_t)c * h * w, n = lf_dataset_size(ds);
    float *x = malloc(d * sizeof *x);
    uint64_t hash = FNV_BASIS;
    for (size_t i = 0; i < n; i++) {
        int32_t y;
        ck_assert_lf_ok(lf_dataset_get(ds, i, x, &y));
        hash = fnv1a(x, d * sizeof *x, hash);
        hash = fnv1a(&y, sizeof y, hash);
    }
    free(x);
    return fnv1a(&n, sizeof n, hash);
}

#endif
