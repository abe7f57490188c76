/* Data set loaders (IDX raw/gzip, CIFAR, npy, memory, built-in) and their bad inputs. */
#include <zlib.h>

#include "lf_test.h"

static lf_context *ctx;
static char dir[256];

static void setup(void)
{
    ctx = lf_test_context(LF_BACKEND_REFERENCE);
    snprintf(dir, sizeof dir, "%s", lf_test_tmpdir());
}

static void teardown(void)
{
    lf_context_destroy(ctx);
}

static const char *path(const char *name)
{
    static char buf[2][512];
    static int k;
    k ^= 1;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* n images of h×w with pixel (i, j) = (i*7 + j) % 256, labels i % classes */
static size_t make_idx_images(uint8_t *buf, uint32_t n, uint32_t h, uint32_t w)
{
    put_be32(buf, 0x803); put_be32(buf + 4, n); put_be32(buf + 8, h); put_be32(buf + 12, w);
    for (uint32_t i = 0; i < n * h * w; i++)
        buf[16 + i] = (uint8_t)((i / (h * w)) * 7 + i % (h * w));
    return 16 + (size_t)n * h * w;
}

static size_t make_idx_labels(uint8_t *buf, uint32_t n, int classes)
{
    put_be32(buf, 0x801); put_be32(buf + 4, n);
    for (uint32_t i = 0; i < n; i++)
        buf[8 + i] = (uint8_t)(i % (uint32_t)classes);
    return 8 + n;
}

static void write_gz(const char *p, const void *data, size_t size)
{
    gzFile g = gzopen(p, "wb");
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(gzwrite(g, data, (unsigned)size), (int)size);
    ck_assert_int_eq(gzclose(g), Z_OK);
}

static void check_idx_content(lf_dataset *ds, uint32_t n, uint32_t h, uint32_t w)
{
    ck_assert_uint_eq(lf_dataset_size(ds), n);
    int32_t c, hh, ww;
    ck_assert_lf_ok(lf_dataset_shape(ds, &c, &hh, &ww));
    ck_assert_int_eq(c, 1);
    ck_assert_int_eq(hh, (int)h);
    ck_assert_int_eq(ww, (int)w);
    float img[64];
    for (uint32_t i = 0; i < n; i++) {
        int32_t y;
        ck_assert_lf_ok(lf_dataset_get(ds, i, img, &y));
        ck_assert_int_eq(y, (int)(i % 3));
        for (uint32_t j = 0; j < h * w; j++)
            ck_assert_float_eq(img[j], (float)(uint8_t)(i * 7 + j) / 255.0f);
    }
}

START_TEST(idx_raw_and_gzip)
{
    uint8_t im[16 + 5 * 12], lb[8 + 5];
    size_t ni = make_idx_images(im, 5, 3, 4), nl = make_idx_labels(lb, 5, 3);
    lf_test_write_file(path("im"), im, ni);
    lf_test_write_file(path("lb"), lb, nl);
    write_gz(path("im.gz"), im, ni);
    write_gz(path("lb.gz"), lb, nl);
    lf_dataset *a = NULL, *b = NULL;
    ck_assert_lf_ok(lf_dataset_load_idx(&a, ctx, path("im"), path("lb"), 0));
    ck_assert_int_eq(lf_dataset_num_classes(a), 3);
    check_idx_content(a, 5, 3, 4);
    ck_assert_lf_ok(lf_dataset_load_idx(&b, ctx, path("im.gz"), path("lb.gz"), 10));
    ck_assert_int_eq(lf_dataset_num_classes(b), 10);
    check_idx_content(b, 5, 3, 4);
    lf_dataset_destroy(a);
    lf_dataset_destroy(b);
}
END_TEST

/* asserts the load fails with `want` and the message names the file */
static void expect_idx_failure(const void *im, size_t ni, const void *lb, size_t nl, int32_t classes,
                               lf_status want, const char *needle)
{
    lf_test_write_file(path("bad_im"), im, ni);
    lf_test_write_file(path("bad_lb"), lb, nl);
    lf_dataset *ds = (lf_dataset *)0x1;
    ck_assert_lf_status(lf_dataset_load_idx(&ds, ctx, path("bad_im"), path("bad_lb"), classes), want);
    ck_assert_ptr_null(ds);
    ck_assert_msg(strstr(lf_last_error_message(), "bad_") != NULL, "no file in: %s", lf_last_error_message());
    if (needle)
        ck_assert_msg(strstr(lf_last_error_message(), needle) != NULL, "'%s' not in: %s", needle,
                      lf_last_error_message());
}

START_TEST(idx_bad_inputs)
{
    uint8_t im[16 + 4 * 4], lb[8 + 4];
    size_t ni = make_idx_images(im, 4, 2, 2), nl = make_idx_labels(lb, 4, 3);
    /* truncated payload */
    expect_idx_failure(im, ni - 1, lb, nl, 0, LF_E_FORMAT, "truncated");
    /* truncated header */
    expect_idx_failure(im, 10, lb, nl, 0, LF_E_FORMAT, "offset 10");
    /* wrong magic */
    uint8_t bad[sizeof im];
    memcpy(bad, im, ni);
    put_be32(bad, 0x801);
    expect_idx_failure(bad, ni, lb, nl, 0, LF_E_FORMAT, "magic");
    /* oversized header: dimensions promising far more data than the file has */
    memcpy(bad, im, ni);
    put_be32(bad + 4, 0xffffffffu); put_be32(bad + 8, 0xffffffffu); put_be32(bad + 12, 0xffffffffu);
    expect_idx_failure(bad, ni, lb, nl, 0, LF_E_FORMAT, NULL);
    /* trailing garbage */
    uint8_t longer[sizeof im + 3] = { 0 };
    memcpy(longer, im, ni);
    expect_idx_failure(longer, ni + 3, lb, nl, 0, LF_E_FORMAT, "unexpected bytes");
    /* count mismatch */
    uint8_t lb3[8 + 3];
    size_t nl3 = make_idx_labels(lb3, 3, 3);
    expect_idx_failure(im, ni, lb3, nl3, 0, LF_E_FORMAT, "3 labels");
    /* labels >= class count */
    expect_idx_failure(im, ni, lb, nl, 2, LF_E_FORMAT, "label 2");
    /* a zero dimension */
    memcpy(bad, im, ni);
    put_be32(bad + 8, 0);
    expect_idx_failure(bad, 16, lb, nl, 0, LF_E_FORMAT, "dimension");
    /* a missing file */
    lf_dataset *ds = NULL;
    ck_assert_lf_status(lf_dataset_load_idx(&ds, ctx, path("nope"), path("bad_lb"), 0), LF_E_IO);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "nope"));
    /* corrupt gzip stream */
    write_gz(path("trunc.gz"), im, ni);
    FILE *f = fopen(path("trunc.gz"), "rb");
    uint8_t gz[512];
    size_t ng = fread(gz, 1, sizeof gz, f);
    fclose(f);
    lf_test_write_file(path("trunc.gz"), gz, ng / 2);
    lf_test_write_file(path("bad_lb"), lb, nl);
    ck_assert_lf_status(lf_dataset_load_idx(&ds, ctx, path("trunc.gz"), path("bad_lb"), 0), LF_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "trunc.gz"));
}
END_TEST

START_TEST(null_arguments)
{
    lf_dataset *ds = NULL;
    ck_assert_lf_status(lf_dataset_load_idx(NULL, ctx, "a", "b", 0), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_dataset_load_idx(&ds, NULL, "a", "b", 0), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_dataset_load_idx(&ds, ctx, NULL, "b", 0), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_dataset_load_cifar(&ds, ctx, NULL, 0, 10), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_dataset_load_npy(&ds, ctx, "a", NULL, 0), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_dataset_from_memory(&ds, ctx, NULL, NULL, 1, 1, 1, 1, 2, 0), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_dataset_view(&ds, NULL, NULL, 0), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_dataset_load_builtin(NULL, NULL, ctx, "fashion-mnist"), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_dataset_shape(NULL, NULL, NULL, NULL), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_dataset_get(NULL, 0, NULL, NULL), LF_E_INVALID_ARG);
    ck_assert_uint_eq(lf_dataset_size(NULL), 0);
    lf_dataset_destroy(NULL);
}
END_TEST

START_TEST(cifar10_and_100)
{
    enum { N = 3 };
    uint8_t rec10[N * 3073], rec100[N * 3074];
    for (int i = 0; i < N; i++) {
        rec10[i * 3073] = (uint8_t)(i + 7);
        rec100[i * 3074] = 1;               /* coarse */
        rec100[i * 3074 + 1] = (uint8_t)(90 + i); /* fine */
        for (int k = 0; k < 3072; k++) {
            rec10[i * 3073 + 1 + k] = (uint8_t)(k + i);
            rec100[i * 3074 + 2 + k] = (uint8_t)(k * 3 + i);
        }
    }
    lf_test_write_file(path("b1.bin"), rec10, 2 * 3073);
    lf_test_write_file(path("b2.bin"), rec10 + 2 * 3073, 3073);
    lf_test_write_file(path("c100.bin"), rec100, sizeof rec100);
    const char *files[2] = { path("b1.bin"), NULL };
    char second[512];
    snprintf(second, sizeof second, "%s", path("b2.bin"));
    files[1] = second;
    char first[512];
    snprintf(first, sizeof first, "%s", path("b1.bin"));
    files[0] = first;
    lf_dataset *ds = NULL;
    ck_assert_lf_ok(lf_dataset_load_cifar(&ds, ctx, files, 2, 10));
    ck_assert_uint_eq(lf_dataset_size(ds), 3);
    static float img[3072];
    int32_t y;
    ck_assert_lf_ok(lf_dataset_get(ds, 2, img, &y));
    ck_assert_int_eq(y, 9);
    ck_assert_float_eq(img[0], 2.0f / 255.0f);
    ck_assert_float_eq(img[1024], (float)(uint8_t)(1024 + 2) / 255.0f);   /* green plane */
    lf_dataset_destroy(ds);

    const char *f100[1] = { path("c100.bin") };
    ck_assert_lf_ok(lf_dataset_load_cifar(&ds, ctx, f100, 1, 100));
    ck_assert_lf_ok(lf_dataset_get(ds, 1, img, &y));
    ck_assert_int_eq(y, 91);
    ck_assert_float_eq(img[5], (float)(uint8_t)(15 + 1) / 255.0f);
    lf_dataset_destroy(ds);

    /* truncated record, labels >= classes, bad class count */
    lf_test_write_file(path("short.bin"), rec10, 3073 + 100);
    const char *fs[1] = { path("short.bin") };
    ck_assert_lf_status(lf_dataset_load_cifar(&ds, ctx, fs, 1, 10), LF_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "short.bin"));
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "offset 3073"));
    const char *fb[1] = { first };   /* labels 7, 8 < 10 fine; as CIFAR-100 the record size is wrong */
    ck_assert_lf_status(lf_dataset_load_cifar(&ds, ctx, fb, 1, 100), LF_E_FORMAT);
    rec10[0] = 10;
    lf_test_write_file(path("lab.bin"), rec10, 3073);
    const char *fl[1] = { path("lab.bin") };
    ck_assert_lf_status(lf_dataset_load_cifar(&ds, ctx, fl, 1, 10), LF_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "label 10"));
    ck_assert_lf_status(lf_dataset_load_cifar(&ds, ctx, fl, 1, 20), LF_E_INVALID_ARG);
}
END_TEST

/* writes an .npy v1.0 file with the given header dict and payload */
static void write_npy(const char *p, const char *dict, const void *data, size_t size)
{
    uint8_t buf[8192];
    size_t dl = strlen(dict);
    size_t hl = (10 + dl + 1 + 63) / 64 * 64 - 10;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (uint8_t)hl;
    buf[9] = (uint8_t)(hl >> 8);
    memset(buf + 10, ' ', hl);
    memcpy(buf + 10, dict, dl);
    buf[10 + hl - 1] = '\n';
    memcpy(buf + 10 + hl, data, size);
    lf_test_write_file(p, buf, 10 + hl + size);
}

START_TEST(npy_uint8_float_and_labels)
{
    uint8_t px[2 * 2 * 3];
    for (int i = 0; i < 12; i++)
        px[i] = (uint8_t)(i * 20);
    int64_t lab64[2] = { 4, 1 };
    write_npy(path("x.npy"), "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 3), }", px, sizeof px);
    write_npy(path("y.npy"), "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", lab64, sizeof lab64);
    lf_dataset *ds = NULL;
    ck_assert_lf_ok(lf_dataset_load_npy(&ds, ctx, path("x.npy"), path("y.npy"), 0));
    ck_assert_int_eq(lf_dataset_num_classes(ds), 5);
    float img[6];
    int32_t y;
    ck_assert_lf_ok(lf_dataset_get(ds, 1, img, &y));
    ck_assert_int_eq(y, 1);
    ck_assert_float_eq(img[2], 160.0f / 255.0f);
    lf_dataset_destroy(ds);

    float fx[2 * 3 * 1 * 2] = { 0, 0.5f, 1, 0.25f, 0.125f, 0.75f, 1, 1, 0, 0, 0.5f, 0.5f };
    uint8_t lab8[2] = { 0, 2 };
    write_npy(path("fx.npy"), "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 1, 2), }", fx, sizeof fx);
    write_npy(path("l8.npy"), "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", lab8, sizeof lab8);
    ck_assert_lf_ok(lf_dataset_load_npy(&ds, ctx, path("fx.npy"), path("l8.npy"), 3));
    int32_t c, h, w;
    lf_dataset_shape(ds, &c, &h, &w);
    ck_assert_int_eq(c, 3);
    ck_assert_int_eq(h, 1);
    ck_assert_int_eq(w, 2);
    ck_assert_lf_ok(lf_dataset_get(ds, 0, img, &y));
    ck_assert_float_eq(img[4], 0.125f);
    lf_dataset_destroy(ds);
}
END_TEST

static void expect_npy_failure(const char *dict, const void *data, size_t size, lf_status want)
{
    int32_t lab[2] = { 0, 1 };
    write_npy(path("bx.npy"), dict, data, size);
    write_npy(path("bl.npy"), "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", lab, sizeof lab);
    lf_dataset *ds = NULL;
    ck_assert_lf_status(lf_dataset_load_npy(&ds, ctx, path("bx.npy"), path("bl.npy"), 0), want);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "bx.npy"));
}

START_TEST(npy_bad_inputs)
{
    uint8_t px[8] = { 0 };
    float nanv[8] = { 0, 0, 0, 0, 0, 0, 0, NAN };
    expect_npy_failure("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 2), }", px, 7, LF_E_FORMAT);
    expect_npy_failure("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 2), ", px, 8, LF_E_FORMAT);
    expect_npy_failure("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2, 2), }", px, 8, LF_E_UNSUPPORTED);
    expect_npy_failure("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 1, 1), }", px, 8, LF_E_UNSUPPORTED);
    expect_npy_failure("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1, 1), }", px, 8, LF_E_FORMAT);
    expect_npy_failure("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 99999999999999999999999, 1), }",
                       px, 8, LF_E_FORMAT);
    expect_npy_failure("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 4), }", px, 8, LF_E_FORMAT);
    expect_npy_failure("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), }", nanv, 32, LF_E_FORMAT);
    expect_npy_failure("{'descr': '|u1', 'fortran_order': False, 'shape': (3, 1, 1), }", px, 3, LF_E_FORMAT);
    /* wrong magic */
    lf_test_write_file(path("bx.npy"), "NUMPY\x01\x00\x10\x00 {}", 12);
    lf_dataset *ds = NULL;
    ck_assert_lf_status(lf_dataset_load_npy(&ds, ctx, path("bx.npy"), path("bl.npy"), 0), LF_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "magic"));
    /* header length past the end */
    lf_test_write_file(path("bx.npy"), "\x93NUMPY\x01\x00\xff\x7f{", 11);
    ck_assert_lf_status(lf_dataset_load_npy(&ds, ctx, path("bx.npy"), path("bl.npy"), 0), LF_E_FORMAT);
    /* labels: negative and >= classes */
    int32_t neg[2] = { 0, -1 };
    write_npy(path("gx.npy"), "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 1, 1), }", px, 2);
    write_npy(path("nl.npy"), "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", neg, sizeof neg);
    ck_assert_lf_status(lf_dataset_load_npy(&ds, ctx, path("gx.npy"), path("nl.npy"), 0), LF_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "nl.npy"));
    int32_t big[2] = { 0, 5 };
    write_npy(path("nl.npy"), "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", big, sizeof big);
    ck_assert_lf_status(lf_dataset_load_npy(&ds, ctx, path("gx.npy"), path("nl.npy"), 5), LF_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "label 5"));
}
END_TEST

START_TEST(memory_copy_and_borrow)
{
    float x[4] = { 0.0f, 0.25f, 0.5f, 1.0f };
    int32_t y[2] = { 1, 0 };
    lf_dataset *copy = NULL, *borrow = NULL;
    ck_assert_lf_ok(lf_dataset_from_memory(&copy, ctx, x, y, 2, 1, 1, 2, 0, 0));
    ck_assert_lf_ok(lf_dataset_from_memory(&borrow, ctx, x, y, 2, 1, 1, 2, 3, LF_DATASET_BORROW));
    ck_assert_int_eq(lf_dataset_num_classes(copy), 2);
    ck_assert_int_eq(lf_dataset_num_classes(borrow), 3);
    x[1] = 0.75f;
    float img[2];
    lf_dataset_get(copy, 0, img, NULL);
    ck_assert_float_eq(img[1], 0.25f);    /* copied */
    lf_dataset_get(borrow, 0, img, NULL);
    ck_assert_float_eq(img[1], 0.75f);    /* borrowed */
    lf_dataset_destroy(copy);
    lf_dataset_destroy(borrow);

    lf_dataset *ds = NULL;
    int32_t bad[2] = { 0, 3 };
    ck_assert_lf_status(lf_dataset_from_memory(&ds, ctx, x, bad, 2, 1, 1, 2, 3, 0), LF_E_FORMAT);
    x[0] = NAN;
    ck_assert_lf_status(lf_dataset_from_memory(&ds, ctx, x, y, 2, 1, 1, 2, 0, 0), LF_E_INVALID_ARG);
    x[0] = 0;
    ck_assert_lf_status(lf_dataset_from_memory(&ds, ctx, x, y, 2, 0, 1, 2, 0, 0), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_dataset_from_memory(&ds, ctx, x, y, 0, 1, 1, 2, 0, 0), LF_E_FORMAT);
    ck_assert_lf_status(lf_dataset_from_memory(&ds, ctx, x, y, 2, 1, 1, 2, 0, 0x80), LF_E_INVALID_ARG);
}
END_TEST

START_TEST(views_compose_and_outlive_parents)
{
    lf_dataset *base = lf_test_blobs(ctx, 10, 2, 1, 1, 3, 1);
    int64_t i1[4] = { 9, 2, 2, 5 };
    lf_dataset *v1 = NULL, *v2 = NULL;
    ck_assert_lf_ok(lf_dataset_view(&v1, base, i1, 4));
    int64_t i2[2] = { 3, 0 };
    ck_assert_lf_ok(lf_dataset_view(&v2, v1, i2, 2));
    float a[3], b[3];
    int32_t ya, yb;
    lf_dataset_get(v2, 0, a, &ya);
    lf_dataset_get(base, 5, b, &yb);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert_int_eq(ya, yb);
    int64_t parents[2];
    ck_assert_lf_ok(lf_dataset_parent_indices(v2, parents, 2));
    ck_assert_int_eq(parents[0], 3);
    ck_assert_int_eq(parents[1], 0);
    lf_dataset_destroy(base);
    lf_dataset_destroy(v1);
    lf_dataset_get(v2, 1, a, &ya);   /* storage still alive (valgrind checks) */
    int64_t out_of_range[1] = { 2 };
    lf_dataset *v3 = NULL;
    ck_assert_lf_status(lf_dataset_view(&v3, v2, out_of_range, 1), LF_E_OUT_OF_RANGE);
    ck_assert_lf_status(lf_dataset_get(v2, 2, a, &ya), LF_E_OUT_OF_RANGE);
    lf_dataset_destroy(v2);
}
END_TEST

START_TEST(builtin_fashion_mnist)
{
    if (access("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", R_OK) != 0 && !getenv("LF_DATA_DIR")) {
        fprintf(stderr, "# dataset-fashion-mnist not installed: builtin test reduced\n");
        lf_dataset *tr = NULL;
        ck_assert_lf_status(lf_dataset_load_builtin(&tr, NULL, ctx, "fashion-mnist"), LF_E_IO);
        return;
    }
    lf_dataset *train = NULL, *test = NULL, *test2 = NULL;
    ck_assert_lf_ok(lf_dataset_load_builtin(&train, &test, ctx, "fashion-mnist"));
    ck_assert_uint_eq(lf_dataset_size(train), 60000);
    ck_assert_uint_eq(lf_dataset_size(test), 10000);
    ck_assert_int_eq(lf_dataset_num_classes(train), 10);
    int32_t c, h, w;
    lf_dataset_shape(train, &c, &h, &w);
    ck_assert_int_eq(c * 100 + h * 10 + w, 100 + 280 + 28);
    static int32_t labels[60000];
    ck_assert_lf_ok(lf_dataset_labels(train, labels, 60000));
    int counts[10] = { 0 };
    for (int i = 0; i < 60000; i++)
        counts[labels[i]]++;
    for (int k = 0; k < 10; k++)
        ck_assert_int_eq(counts[k], 6000);
    float img[784], img2[784];
    ck_assert_lf_ok(lf_dataset_load_builtin(NULL, &test2, ctx, "fashion-mnist"));
    for (size_t i = 0; i < 10000; i += 997) {
        lf_dataset_get(test, i, img, NULL);
        lf_dataset_get(test2, i, img2, NULL);
        ck_assert_mem_eq(img, img2, sizeof img);
        for (int j = 0; j < 784; j++)
            ck_assert(img[j] >= 0.0f && img[j] <= 1.0f);
    }
    lf_dataset_destroy(train);
    lf_dataset_destroy(test);
    lf_dataset_destroy(test2);
    ck_assert_lf_status(lf_dataset_load_builtin(&train, NULL, ctx, "imagenet"), LF_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "fashion-mnist"));
}
END_TEST

START_TEST(builtin_respects_data_dir)
{
    uint8_t im[16 + 5 * 12], lb[8 + 5];
    size_t ni = make_idx_images(im, 5, 3, 4), nl = make_idx_labels(lb, 5, 3);
    lf_test_write_file(path("train-images-idx3-ubyte"), im, ni);
    lf_test_write_file(path("train-labels-idx1-ubyte"), lb, nl);
    setenv("LF_DATA_DIR", dir, 1);
    lf_dataset *train = NULL, *test = NULL;
    ck_assert_lf_ok(lf_dataset_load_builtin(&train, NULL, ctx, "fashion-mnist"));
    ck_assert_uint_eq(lf_dataset_size(train), 5);
    lf_dataset_destroy(train);
    ck_assert_lf_status(lf_dataset_load_builtin(&train, &test, ctx, "fashion-mnist"), LF_E_IO);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "t10k-images"));
    ck_assert_ptr_null(train);
    ck_assert_ptr_null(test);
    unsetenv("LF_DATA_DIR");
}
END_TEST

START_TEST(channel_stats_hand_computed)
{
    /* 2 samples, 2 channels of 1×2: channel 0 = {0, 0.5, 0.5, 1}, channel 1 = {0.25 ×4} */
    float x[8] = { 0.0f, 0.5f, 0.25f, 0.25f, 0.5f, 1.0f, 0.25f, 0.25f };
    int32_t y[2] = { 0, 1 };
    lf_dataset *ds = NULL;
    ck_assert_lf_ok(lf_dataset_from_memory(&ds, ctx, x, y, 2, 2, 1, 2, 0, 0));
    float mean[2], sd[2];
    ck_assert_lf_ok(lf_dataset_channel_stats(ds, mean, sd, 2));
    ck_assert_float_eq_tol(mean[0], 0.5f, 1e-7f);
    ck_assert_float_eq_tol(sd[0], (float)sqrt(0.125), 1e-7f);   /* var = (0.25+0+0+0.25)/4 */
    ck_assert_float_eq_tol(mean[1], 0.25f, 1e-7f);
    ck_assert_float_eq_tol(sd[1], 0.0f, 1e-7f);
    int64_t one[1] = { 1 };
    lf_dataset *v = NULL;
    ck_assert_lf_ok(lf_dataset_view(&v, ds, one, 1));   /* stats follow the view */
    ck_assert_lf_ok(lf_dataset_channel_stats(v, mean, sd, 2));
    ck_assert_float_eq_tol(mean[0], 0.75f, 1e-7f);
    ck_assert_lf_status(lf_dataset_channel_stats(v, mean, sd, 3), LF_E_SHAPE);
    ck_assert_lf_status(lf_dataset_channel_stats(NULL, mean, sd, 2), LF_E_INVALID_ARG);
    lf_dataset_destroy(v);
    lf_dataset_destroy(ds);
}
END_TEST

static Suite *loaders_suite(void)
{
    Suite *s = suite_create("loaders");
    TCase *tc = tcase_create("data");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, idx_raw_and_gzip);
    tcase_add_test(tc, idx_bad_inputs);
    tcase_add_test(tc, null_arguments);
    tcase_add_test(tc, cifar10_and_100);
    tcase_add_test(tc, npy_uint8_float_and_labels);
    tcase_add_test(tc, npy_bad_inputs);
    tcase_add_test(tc, memory_copy_and_borrow);
    tcase_add_test(tc, channel_stats_hand_computed);
    tcase_add_test(tc, views_compose_and_outlive_parents);
    tcase_add_test(tc, builtin_fashion_mnist);
    tcase_add_test(tc, builtin_respects_data_dir);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(loaders_suite)
