/* Misuse of common.h, version.h, context.h and dataset.h (issue 9, item 4): NULL handles and
 * out-pointers, zero sizes, wrong struct_size, out-of-range parameters and NaN/Inf in caller
 * memory. Each call must return the documented status with a detail message of its own, leave
 * a failed create's out-pointer NULL, and change nothing the caller owns. */
#include <math.h>

#include "misuse.h"

enum { N = 24, CLASSES = 3, SIDE = 4, D = SIDE * SIDE };

static lf_context *ctx;
static lf_dataset *ds;
static float images[N * D];
static int32_t labels[N];

static void setup(void)
{
    ctx = lf_test_context(LF_BACKEND_REFERENCE);
    for (size_t i = 0; i < N * D; i++)
        images[i] = (float)(i % 17) / 16.0f;
    for (size_t i = 0; i < N; i++)
        labels[i] = (int32_t)(i % CLASSES);
    ck_assert_lf_ok(lf_dataset_from_memory(&ds, ctx, images, labels, N, 1, SIDE, SIDE, CLASSES, 0));
}

static void teardown(void)
{
    lf_dataset_destroy(ds);
    lf_context_destroy(ctx);
}

/* ---- common.h, version.h ---- */

START_TEST(status_strings)
{
    const lf_status odd[] = { (lf_status)1, (lf_status)-16, (lf_status)-1000, (lf_status)INT32_MIN };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        ck_assert_str_eq(lf_strerror(odd[i]), "unknown status");
        ck_assert_str_eq(lf_status_name(odd[i]), "LF_E_UNKNOWN_STATUS");
    }
    ck_assert_ptr_nonnull(lf_last_error_message());
    ck_assert_ptr_nonnull(lf_version_string());
    ck_assert_uint_gt(lf_version_number(), 0);
}
END_TEST

/* ---- context.h ---- */

START_TEST(context_options_init)
{
    lf_context_options o;
    MISUSE(lf_context_options_init(NULL, sizeof o), LF_E_INVALID_ARG, "opts");
    MISUSE(lf_context_options_init(&o, 0), LF_E_INVALID_ARG, "struct_size");
    MISUSE(lf_context_options_init(&o, 6), LF_E_INVALID_ARG, "struct_size");
    /* a newer caller's larger struct: ours filled in, its tail zeroed */
    unsigned char big[sizeof o + 16];
    memset(big, 0xab, sizeof big);
    ck_assert_lf_ok(lf_context_options_init((lf_context_options *)big, sizeof big));
    for (size_t i = sizeof o; i < sizeof big; i++)
        ck_assert_uint_eq(big[i], 0);
}
END_TEST

static void *never_alloc(void *user, size_t size, size_t alignment)
{
    (void)user, (void)size, (void)alignment;
    return NULL;
}

static void never_free(void *user, void *ptr, size_t size)
{
    (void)user, (void)ptr, (void)size;
}

/* Table: one wrong field each; every create must fail with *out NULL. */
START_TEST(context_create)
{
    lf_context *c = JUNK_PTR;
    MISUSE(lf_context_create(NULL, NULL), LF_E_INVALID_ARG, "out");

    struct { const char *what; lf_status want; const char *needle; } cases[] = {
        { "struct_size 0", LF_E_ABI, "struct_size" },
        { "struct_size 3", LF_E_ABI, "struct_size" },
        { "struct_size too small", LF_E_ABI, "struct_size" },
        { "larger, tail set", LF_E_UNSUPPORTED, "newer option" },
        { "backend 99", LF_E_INVALID_ARG, "backend" },
        { "backend -1", LF_E_INVALID_ARG, "backend" },
        { "threads -1", LF_E_OUT_OF_RANGE, "threads" },
        { "log_level 5", LF_E_OUT_OF_RANGE, "log_level" },
        { "log_level -1", LF_E_OUT_OF_RANGE, "log_level" },
        { "alloc without free", LF_E_INVALID_ARG, "allocator" },
        { "allocator fails", LF_E_NOMEM, "the context" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        union { lf_context_options o; unsigned char b[sizeof(lf_context_options) + 8]; } u;
        memset(&u, 0, sizeof u);
        lf_context_options *o = &u.o;
        unsigned char *buf = u.b;
        *o = (lf_context_options)LF_CONTEXT_OPTIONS_INIT;
        switch (i) {
        case 0: o->struct_size = 0; break;
        case 1: o->struct_size = 3; break;
        case 2: o->struct_size = 8; break;
        case 3: o->struct_size = sizeof u.b; buf[sizeof u.b - 1] = 1; break;
        case 4: o->backend = 99; break;
        case 5: o->backend = -1; break;
        case 6: o->threads = -1; break;
        case 7: o->log_level = 5; break;
        case 8: o->log_level = -1; break;
        case 9: o->allocator.alloc = never_alloc; break;
        case 10: o->allocator.alloc = never_alloc; o->allocator.free = never_free; break;
        }
        c = JUNK_PTR;
        misuse_sentinel();
        lf_status st = lf_context_create(&c, o);
        ck_assert_msg(c == NULL, "%s: *out not NULL", cases[i].what);
        misuse_check(st, cases[i].want, cases[i].needle, cases[i].what);
    }
    /* a larger struct with a zero tail is fine */
    union { lf_context_options o; unsigned char b[sizeof(lf_context_options) + 8]; } u;
    memset(&u, 0, sizeof u);
    lf_context_options *o = &u.o;
    *o = (lf_context_options)LF_CONTEXT_OPTIONS_INIT;
    o->struct_size = sizeof u.b;
    o->backend = LF_BACKEND_REFERENCE;
    ck_assert_lf_ok(lf_context_create(&c, o));
    lf_context_destroy(c);
    if (!lf_backend_is_available(LF_BACKEND_CUDA)) {
        lf_context_options cu = LF_CONTEXT_OPTIONS_INIT;
        cu.backend = LF_BACKEND_CUDA;
        MISUSE(lf_context_create(&c, &cu), LF_E_UNSUPPORTED, "cuda");
    }
}
END_TEST

START_TEST(context_null_handles)
{
    lf_context_destroy(NULL);
    ck_assert_int_eq(lf_context_backend(NULL), LF_BACKEND_AUTO);
    ck_assert_int_eq(lf_context_threads(NULL), 0);
    ck_assert_uint_eq(lf_context_seed(NULL), 0);
    lf_context_set_user_data(NULL, &ctx);
    ck_assert_ptr_null(lf_context_get_user_data(NULL));
    ck_assert_str_eq(lf_backend_name((lf_backend_kind)99), "unknown");
    ck_assert_str_eq(lf_backend_name((lf_backend_kind)-1), "unknown");
    ck_assert_int_eq(lf_backend_is_available((lf_backend_kind)99), 0);
    ck_assert_int_eq(lf_backend_is_available((lf_backend_kind)-1), 0);
    lf_backend_kind k = LF_BACKEND_CPU;
    MISUSE(lf_backend_from_name(NULL, &k), LF_E_INVALID_ARG, "lf_backend_from_name");
    MISUSE(lf_backend_from_name("cpu", NULL), LF_E_INVALID_ARG, "lf_backend_from_name");
    MISUSE(lf_backend_from_name("", &k), LF_E_INVALID_ARG, "''");
    MISUSE(lf_backend_from_name("CPU ", &k), LF_E_INVALID_ARG, "'CPU '");
    ck_assert_int_eq(k, LF_BACKEND_CPU);   /* untouched on failure */
}
END_TEST

/* ---- dataset.h: loaders ---- */

START_TEST(loaders)
{
    lf_dataset *d = JUNK_PTR;
    const char *missing = "/nonexistent/libforget/file";
    MISUSE(lf_dataset_load_idx(NULL, ctx, missing, missing, 0), LF_E_INVALID_ARG, "out");
    MISUSE(lf_dataset_load_idx(&d, NULL, missing, missing, 0), LF_E_INVALID_ARG, "ctx");
    ck_assert_ptr_null(d);
    MISUSE(lf_dataset_load_idx(&d, ctx, NULL, missing, 0), LF_E_INVALID_ARG, "images_path");
    MISUSE(lf_dataset_load_idx(&d, ctx, missing, NULL, 0), LF_E_INVALID_ARG, "labels_path");
    MISUSE(lf_dataset_load_idx(&d, ctx, missing, missing, -1), LF_E_INVALID_ARG, "num_classes");
    MISUSE(lf_dataset_load_idx(&d, ctx, missing, missing, 257), LF_E_INVALID_ARG, "num_classes");
    MISUSE(lf_dataset_load_idx(&d, ctx, missing, missing, 0), LF_E_IO, missing);
    MISUSE(lf_dataset_load_idx(&d, ctx, "/", "/", 0), LF_E_IO, "/");   /* a folder */

    const char *paths[2] = { missing, NULL };
    MISUSE(lf_dataset_load_cifar(NULL, ctx, paths, 1, 10), LF_E_INVALID_ARG, "out");
    MISUSE(lf_dataset_load_cifar(&d, NULL, paths, 1, 10), LF_E_INVALID_ARG, "ctx");
    MISUSE(lf_dataset_load_cifar(&d, ctx, NULL, 1, 10), LF_E_INVALID_ARG, "no files");
    MISUSE(lf_dataset_load_cifar(&d, ctx, paths, 0, 10), LF_E_INVALID_ARG, "no files");
    MISUSE(lf_dataset_load_cifar(&d, ctx, paths, 2, 10), LF_E_INVALID_ARG, "paths[1]");
    MISUSE(lf_dataset_load_cifar(&d, ctx, paths, 1, 7), LF_E_INVALID_ARG, "classes");
    MISUSE(lf_dataset_load_cifar(&d, ctx, paths, 1, 10), LF_E_IO, missing);

    MISUSE(lf_dataset_load_npy(NULL, ctx, missing, missing, 0), LF_E_INVALID_ARG, "out");
    MISUSE(lf_dataset_load_npy(&d, NULL, missing, missing, 0), LF_E_INVALID_ARG, "ctx");
    MISUSE(lf_dataset_load_npy(&d, ctx, NULL, missing, 0), LF_E_INVALID_ARG, "images_path");
    MISUSE(lf_dataset_load_npy(&d, ctx, missing, NULL, 0), LF_E_INVALID_ARG, "labels_path");
    MISUSE(lf_dataset_load_npy(&d, ctx, missing, missing, -3), LF_E_INVALID_ARG, "num_classes");
    MISUSE(lf_dataset_load_npy(&d, ctx, missing, missing, 0), LF_E_IO, missing);

    lf_dataset *t = JUNK_PTR, *v = JUNK_PTR;
    MISUSE(lf_dataset_load_builtin(&t, &v, NULL, "fashion-mnist"), LF_E_INVALID_ARG, "ctx");
    ck_assert_ptr_null(t);
    ck_assert_ptr_null(v);
    MISUSE(lf_dataset_load_builtin(&t, &v, ctx, NULL), LF_E_INVALID_ARG, "name");
    MISUSE(lf_dataset_load_builtin(NULL, NULL, ctx, "fashion-mnist"), LF_E_INVALID_ARG, "out-pointers");
    MISUSE(lf_dataset_load_builtin(&t, NULL, ctx, "no-such-set"), LF_E_INVALID_ARG, "'no-such-set'");
    ck_assert_ptr_null(d);
}
END_TEST

/* Caller memory: every bad argument, and NaN/Inf/out-of-range pixels anywhere. */
START_TEST(from_memory)
{
    lf_dataset *d = JUNK_PTR;
    uint64_t before = fnv1a(labels, sizeof labels, fnv1a(images, sizeof images, FNV_BASIS));
    MISUSE(lf_dataset_from_memory(NULL, ctx, images, labels, N, 1, SIDE, SIDE, 0, 0), LF_E_INVALID_ARG, "out");
    MISUSE(lf_dataset_from_memory(&d, NULL, images, labels, N, 1, SIDE, SIDE, 0, 0), LF_E_INVALID_ARG, "ctx");
    ck_assert_ptr_null(d);
    MISUSE(lf_dataset_from_memory(&d, ctx, NULL, labels, N, 1, SIDE, SIDE, 0, 0), LF_E_INVALID_ARG, "images");
    MISUSE(lf_dataset_from_memory(&d, ctx, images, NULL, N, 1, SIDE, SIDE, 0, 0), LF_E_INVALID_ARG, "labels");
    MISUSE(lf_dataset_from_memory(&d, ctx, images, labels, 0, 1, SIDE, SIDE, 0, 0), LF_E_FORMAT, "empty");
    MISUSE(lf_dataset_from_memory(&d, ctx, images, labels, N, 0, SIDE, SIDE, 0, 0), LF_E_INVALID_ARG, "shape");
    MISUSE(lf_dataset_from_memory(&d, ctx, images, labels, N, 1, -4, SIDE, 0, 0), LF_E_INVALID_ARG, "shape");
    MISUSE(lf_dataset_from_memory(&d, ctx, images, labels, N, 1, SIDE, 0, 0, 0), LF_E_INVALID_ARG, "shape");
    MISUSE(lf_dataset_from_memory(&d, ctx, images, labels, N, 1, SIDE, SIDE, -2, 0), LF_E_INVALID_ARG,
           "num_classes");
    MISUSE(lf_dataset_from_memory(&d, ctx, images, labels, N, 1, SIDE, SIDE, 0, 0x10), LF_E_INVALID_ARG, "flags");
    /* more classes in the labels than the caller claims */
    MISUSE(lf_dataset_from_memory(&d, ctx, images, labels, N, 1, SIDE, SIDE, 2, 0), LF_E_FORMAT, "label 2");
    /* sizes whose byte count overflows are refused before anything is read */
    MISUSE(lf_dataset_from_memory(&d, ctx, images, labels, SIZE_MAX / 2, 1, SIDE, SIDE, 0, 0), LF_E_FORMAT,
           "overflow");
    ck_assert_ptr_null(d);

    const float bad[] = { NAN, INFINITY, -INFINITY, -0.5f, 1.0001f };
    const size_t where[] = { 0, 5, N * D - 1 };
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
        for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
            float *x = malloc(sizeof images);
            memcpy(x, images, sizeof images);
            x[where[w]] = bad[b];
            char needle[64];
            snprintf(needle, sizeof needle, "sample %zu, value %zu", where[w] / D, where[w] % D);
            MISUSE(lf_dataset_from_memory(&d, ctx, x, labels, N, 1, SIDE, SIDE, 0, 0), LF_E_INVALID_ARG,
                   needle);
            MISUSE(lf_dataset_from_memory(&d, ctx, x, labels, N, 1, SIDE, SIDE, 0, LF_DATASET_BORROW),
                   LF_E_INVALID_ARG, needle);
            ck_assert_ptr_null(d);
            free(x);
        }
    int32_t neg[N];
    memcpy(neg, labels, sizeof neg);
    neg[N - 1] = -1;
    MISUSE(lf_dataset_from_memory(&d, ctx, images, neg, N, 1, SIDE, SIDE, 0, 0), LF_E_FORMAT, "negative label");
    ck_assert_uint_eq(fnv1a(labels, sizeof labels, fnv1a(images, sizeof images, FNV_BASIS)), before);
}
END_TEST

/* ---- dataset.h: accessors and views ---- */

START_TEST(accessors)
{
    uint64_t before = dataset_hash(ds);
    ck_assert_uint_eq(lf_dataset_size(NULL), 0);
    ck_assert_int_eq(lf_dataset_num_classes(NULL), 0);
    lf_dataset_destroy(NULL);
    int32_t c = -7;
    MISUSE(lf_dataset_shape(NULL, &c, NULL, NULL), LF_E_INVALID_ARG, "ds");
    ck_assert_int_eq(c, -7);
    ck_assert_lf_ok(lf_dataset_shape(ds, NULL, NULL, NULL));

    float x[D];
    int32_t y;
    MISUSE(lf_dataset_get(NULL, 0, x, &y), LF_E_INVALID_ARG, "ds");
    MISUSE(lf_dataset_get(ds, N, x, &y), LF_E_OUT_OF_RANGE, "sample 24");
    MISUSE(lf_dataset_get(ds, SIZE_MAX, x, &y), LF_E_OUT_OF_RANGE, "lf_dataset_get");
    ck_assert_lf_ok(lf_dataset_get(ds, 0, NULL, NULL));

    int32_t lab[N + 1];
    MISUSE(lf_dataset_labels(NULL, lab, N), LF_E_INVALID_ARG, "ds");
    MISUSE(lf_dataset_labels(ds, NULL, N), LF_E_INVALID_ARG, "labels");
    MISUSE(lf_dataset_labels(ds, lab, N + 1), LF_E_SHAPE, "n = 25");
    MISUSE(lf_dataset_labels(ds, lab, 0), LF_E_SHAPE, "n = 0");
    int64_t idx[N + 1];
    MISUSE(lf_dataset_parent_indices(NULL, idx, N), LF_E_INVALID_ARG, "ds");
    MISUSE(lf_dataset_parent_indices(ds, NULL, N), LF_E_INVALID_ARG, "idx");
    MISUSE(lf_dataset_parent_indices(ds, idx, N - 1), LF_E_SHAPE, "n = 23");
    float mean[2], std[2];
    MISUSE(lf_dataset_channel_stats(NULL, mean, std, 1), LF_E_INVALID_ARG, "ds");
    MISUSE(lf_dataset_channel_stats(ds, NULL, std, 1), LF_E_INVALID_ARG, "mean");
    MISUSE(lf_dataset_channel_stats(ds, mean, NULL, 1), LF_E_INVALID_ARG, "std");
    MISUSE(lf_dataset_channel_stats(ds, mean, std, 2), LF_E_SHAPE, "channels");
    MISUSE(lf_dataset_channel_stats(ds, mean, std, 0), LF_E_SHAPE, "channels");
    ck_assert_uint_eq(dataset_hash(ds), before);
}
END_TEST

START_TEST(views)
{
    uint64_t before = dataset_hash(ds);
    lf_dataset *v = JUNK_PTR;
    const int64_t ok[] = { 0, 1 };
    const int64_t out[] = { 0, N };
    const int64_t negative[] = { -1 };
    const int64_t huge[] = { INT64_MAX };
    MISUSE(lf_dataset_view(NULL, ds, ok, 2), LF_E_INVALID_ARG, "out");
    MISUSE(lf_dataset_view(&v, NULL, ok, 2), LF_E_INVALID_ARG, "src");
    ck_assert_ptr_null(v);
    MISUSE(lf_dataset_view(&v, ds, NULL, 2), LF_E_INVALID_ARG, "idx");
    MISUSE(lf_dataset_view(&v, ds, ok, 0), LF_E_INVALID_ARG, "at least one");
    MISUSE(lf_dataset_view(&v, ds, out, 2), LF_E_OUT_OF_RANGE, "idx[1] = 24");
    MISUSE(lf_dataset_view(&v, ds, negative, 1), LF_E_OUT_OF_RANGE, "idx[0] = -1");
    MISUSE(lf_dataset_view(&v, ds, huge, 1), LF_E_OUT_OF_RANGE, "idx[0]");
    ck_assert_ptr_null(v);
    /* repeats are allowed in a view */
    const int64_t rep[] = { 3, 3, 3 };
    ck_assert_lf_ok(lf_dataset_view(&v, ds, rep, 3));
    lf_dataset_destroy(v);
    ck_assert_uint_eq(dataset_hash(ds), before);
}
END_TEST

/* ---- dataset.h: splits ---- */

START_TEST(split_holdout)
{
    uint64_t before = dataset_hash(ds);
    lf_dataset *a = JUNK_PTR, *b = JUNK_PTR;
    MISUSE(lf_dataset_split_holdout(NULL, &b, ds, 0.1, 1), LF_E_INVALID_ARG, "train_out");
    MISUSE(lf_dataset_split_holdout(&a, NULL, ds, 0.1, 1), LF_E_INVALID_ARG, "val_out");
    MISUSE(lf_dataset_split_holdout(&a, &b, NULL, 0.1, 1), LF_E_INVALID_ARG, "pool");
    ck_assert_ptr_null(a);
    ck_assert_ptr_null(b);
    const double bad[] = { -0.1, 1.0, 1.5, NAN, INFINITY, -INFINITY };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        MISUSE(lf_dataset_split_holdout(&a, &b, ds, bad[i], 1), LF_E_OUT_OF_RANGE, "fraction");
    /* 1% of 8 samples a class rounds to none: an empty validation set is refused */
    MISUSE(lf_dataset_split_holdout(&a, &b, ds, 0.01, 1), LF_E_INVALID_ARG, "no samples");
    ck_assert_ptr_null(a);
    ck_assert_ptr_null(b);
    ck_assert_uint_eq(dataset_hash(ds), before);
}
END_TEST

/* Table of bad forget specs; the split must refuse each with nothing created. */
START_TEST(split_forget)
{
    uint64_t before = dataset_hash(ds);
    const int64_t dup[] = { 1, 5, 1 };
    const int64_t oob[] = { 1, N };
    const int64_t neg[] = { -3 };
    int64_t all[N];
    for (int64_t i = 0; i < N; i++)
        all[i] = i;
    struct {
        int32_t kind;
        double fraction;
        int32_t cls;
        const int64_t *idx;
        size_t n;
        lf_status want;
        const char *needle;
    } cases[] = {
        { 0, 0.1, 0, NULL, 0, LF_E_INVALID_ARG, "kind 0" },
        { 99, 0.1, 0, NULL, 0, LF_E_INVALID_ARG, "kind 99" },
        { LF_FORGET_RANDOM, 0.0, 0, NULL, 0, LF_E_OUT_OF_RANGE, "fraction" },
        { LF_FORGET_RANDOM, 1.0, 0, NULL, 0, LF_E_OUT_OF_RANGE, "fraction" },
        { LF_FORGET_RANDOM, NAN, 0, NULL, 0, LF_E_OUT_OF_RANGE, "fraction" },
        { LF_FORGET_STRATIFIED, -0.5, 0, NULL, 0, LF_E_OUT_OF_RANGE, "fraction" },
        { LF_FORGET_STRATIFIED, INFINITY, 0, NULL, 0, LF_E_OUT_OF_RANGE, "fraction" },
        { LF_FORGET_RANDOM, 1e-6, 0, NULL, 0, LF_E_INVALID_ARG, "no samples" },
        { LF_FORGET_CLASS, 0, -1, NULL, 0, LF_E_OUT_OF_RANGE, "forget_class -1" },
        { LF_FORGET_CLASS, 0, CLASSES, NULL, 0, LF_E_OUT_OF_RANGE, "forget_class 3" },
        { LF_FORGET_INDICES, 0, 0, NULL, 2, LF_E_INVALID_ARG, "indices is NULL" },
        { LF_FORGET_INDICES, 0, 0, dup, 0, LF_E_INVALID_ARG, "no samples" },
        { LF_FORGET_INDICES, 0, 0, dup, 3, LF_E_INVALID_ARG, "indices[2] = 1 is a repeat" },
        { LF_FORGET_INDICES, 0, 0, oob, 2, LF_E_OUT_OF_RANGE, "indices[1] = 24" },
        { LF_FORGET_INDICES, 0, 0, neg, 1, LF_E_OUT_OF_RANGE, "indices[0] = -3" },
        { LF_FORGET_INDICES, 0, 0, all, N, LF_E_INVALID_ARG, "leaving none" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lf_forget_spec s = LF_FORGET_SPEC_INIT;
        s.kind = cases[i].kind;
        s.fraction = cases[i].fraction;
        s.forget_class = cases[i].cls;
        s.indices = cases[i].idx;
        s.n_indices = cases[i].n;
        s.seed = 1;
        lf_dataset *r = JUNK_PTR, *f = JUNK_PTR;
        char what[64];
        snprintf(what, sizeof what, "forget case %zu", i);
        misuse_sentinel();
        lf_status st = lf_dataset_split_forget(&r, &f, ds, &s);
        misuse_check(st, cases[i].want, cases[i].needle, what);
        ck_assert_ptr_null(r);
        ck_assert_ptr_null(f);
    }
    lf_forget_spec s = LF_FORGET_SPEC_INIT;
    s.kind = LF_FORGET_CLASS;
    lf_dataset *r = NULL, *f = NULL;
    MISUSE(lf_dataset_split_forget(NULL, &f, ds, &s), LF_E_INVALID_ARG, "retain_out");
    MISUSE(lf_dataset_split_forget(&r, NULL, ds, &s), LF_E_INVALID_ARG, "forget_out");
    MISUSE(lf_dataset_split_forget(&r, &f, NULL, &s), LF_E_INVALID_ARG, "train");
    MISUSE(lf_dataset_split_forget(&r, &f, ds, NULL), LF_E_INVALID_ARG, "spec");
    /* struct_size: too small, not a multiple of 4, larger with a set tail */
    union { lf_forget_spec s; unsigned char b[sizeof(lf_forget_spec) + 8]; } big;
    memset(&big, 0, sizeof big);
    big.s = s;
    s.struct_size = 4;
    MISUSE(lf_dataset_split_forget(&r, &f, ds, &s), LF_E_ABI, "lf_forget_spec");
    s.struct_size = sizeof s - 2;
    MISUSE(lf_dataset_split_forget(&r, &f, ds, &s), LF_E_ABI, "lf_forget_spec");
    big.s.struct_size = sizeof big.b;
    big.b[sizeof big.b - 3] = 7;
    MISUSE(lf_dataset_split_forget(&r, &f, ds, &big.s), LF_E_UNSUPPORTED, "lf_forget_spec");
    ck_assert_ptr_null(r);
    ck_assert_ptr_null(f);

    lf_dataset *w = JUNK_PTR;
    MISUSE(lf_dataset_without_class(NULL, ds, 0), LF_E_INVALID_ARG, "out");
    MISUSE(lf_dataset_without_class(&w, NULL, 0), LF_E_INVALID_ARG, "src");
    MISUSE(lf_dataset_without_class(&w, ds, -1), LF_E_OUT_OF_RANGE, "class -1");
    MISUSE(lf_dataset_without_class(&w, ds, CLASSES), LF_E_OUT_OF_RANGE, "class 3");
    ck_assert_ptr_null(w);
    /* a one-class set without its class is empty: refused */
    const int64_t zeros[] = { 0, 3, 6 };
    lf_dataset *one = NULL;
    ck_assert_lf_ok(lf_dataset_view(&one, ds, zeros, 3));
    MISUSE(lf_dataset_without_class(&w, one, 0), LF_E_INVALID_ARG, "leaving none");
    ck_assert_ptr_null(w);
    lf_dataset_destroy(one);
    ck_assert_uint_eq(dataset_hash(ds), before);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("misuse_data");
    TCase *tc = tcase_create("misuse_data");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, status_strings);
    tcase_add_test(tc, context_options_init);
    tcase_add_test(tc, context_create);
    tcase_add_test(tc, context_null_handles);
    tcase_add_test(tc, loaders);
    tcase_add_test(tc, from_memory);
    tcase_add_test(tc, accessors);
    tcase_add_test(tc, views);
    tcase_add_test(tc, split_holdout);
    tcase_add_test(tc, split_forget);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(suite)
