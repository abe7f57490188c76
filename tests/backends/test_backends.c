/* The cpu backend against the reference backend, op by op, on fresh random inputs. Outputs the
 * ops overwrite are poisoned with NaN first, so an element left unwritten fails. Pass rule:
 * relative error ≤ 1e-5 (normwise for gemm, whose summation order legitimately differs).
 * Skips (exit 77) when the library was built without the cpu backend. */
#include "lf_test.h"
#include "core/internal.h"
#include "core/rng.h"

static const double RTOL = 1e-5;

static const lf__backend_iface *ref_be, *cpu_be;
static void *ref_priv, *cpu_priv;

static void setup(void)
{
    ref_be = lf__backend_reference_iface();
    cpu_be = lf__backend_cpu_iface();
    lf__backend_config cfg = { .threads = 2 };
    ck_assert_lf_ok(ref_be->create(&ref_priv, &cfg));
    ck_assert_lf_ok(cpu_be->create(&cpu_priv, &cfg));
}

static void teardown(void)
{
    ref_be->destroy(ref_priv);
    cpu_be->destroy(cpu_priv);
}

/* Calls op on both backends with the same arguments. */
#define BOTH(op, ref_args, cpu_args)                     \
    do {                                                 \
        ck_assert_lf_ok(ref_be->op ref_args);            \
        ck_assert_lf_ok(cpu_be->op cpu_args);            \
    } while (0)

static float *vec(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

static float *random_vec(lf__rng *r, size_t n, double lo, double hi)
{
    float *p = vec(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(lo + (hi - lo) * lf__rng_uniform(r));
    return p;
}

static float *nan_vec(size_t n)
{
    float *p = vec(n);
    for (size_t i = 0; i < n; i++)
        p[i] = NAN;
    return p;
}

static float *copy_vec(const float *src, size_t n)
{
    float *p = vec(n);
    memcpy(p, src, n * sizeof *p);
    return p;
}

static int32_t *random_labels(lf__rng *r, size_t n, int32_t classes)
{
    int32_t *p = malloc((n ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (int32_t)lf__rng_below(r, (uint64_t)classes);
    return p;
}

/* Element-wise: |got − want| ≤ RTOL·|want| (NaN anywhere fails). */
static void assert_close(const char *what, const float *got, const float *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        ck_assert_msg(d <= RTOL * fabs((double)want[i]), "%s[%zu]: cpu %.9g, reference %.9g", what,
                      i, got[i], want[i]);
    }
}

/* ---- gemm ---- */

/* One gemm on both backends with row strides 3 wider than the rows; C's gaps must survive. */
static void gemm_compare(lf__rng *r, int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                         float beta)
{
    int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 3, ldc = n + 3;
    int64_t a_rows = ta ? k : m, b_rows = tb ? n : k;
    float *a = random_vec(r, (size_t)(a_rows * lda), -1, 1);
    float *b = random_vec(r, (size_t)(b_rows * ldb), -1, 1);
    float *c_ref = beta == 0.0f ? nan_vec((size_t)(m * ldc)) : random_vec(r, (size_t)(m * ldc), -1, 1);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = n; j < ldc; j++)
            c_ref[i * ldc + j] = -77.0f;   /* the gaps between rows */
    float *c_cpu = copy_vec(c_ref, (size_t)(m * ldc));
    BOTH(gemm, (ref_priv, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c_ref, ldc),
               (cpu_priv, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c_cpu, ldc));
    double max_ref = 0, max_err = 0;
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            double g = c_cpu[i * ldc + j], w = c_ref[i * ldc + j];
            ck_assert_msg(isfinite(g) && isfinite(w), "gemm %d%d %lldx%lldx%lld: C[%lld][%lld] not finite",
                          ta, tb, (long long)m, (long long)n, (long long)k, (long long)i, (long long)j);
            max_ref = fmax(max_ref, fabs(w));
            max_err = fmax(max_err, fabs(g - w));
        }
        for (int64_t j = n; j < ldc; j++)
            ck_assert(c_cpu[i * ldc + j] == -77.0f && c_ref[i * ldc + j] == -77.0f);
    }
    ck_assert_msg(max_err <= RTOL * max_ref, "gemm %d%d %lldx%lldx%lld beta %g: error %g of %g", ta, tb,
                  (long long)m, (long long)n, (long long)k, beta, max_err, max_ref);
    free(a);
    free(b);
    free(c_ref);
    free(c_cpu);
}

START_TEST(gemm_large_all_transposes)
{
    lf__rng r;
    lf__rng_init(&r, 100 + (uint64_t)_i, 0);
    int ta = _i & 1, tb = (_i >> 1) & 1;
    gemm_compare(&r, ta, tb, 200, 300, 150, 1.0f, 0.0f);
    gemm_compare(&r, ta, tb, 200, 300, 150, 1.5f, 0.7f);
}
END_TEST

START_TEST(gemm_small_and_edge_sizes)
{
    lf__rng r;
    lf__rng_init(&r, 200 + (uint64_t)_i, 0);
    int ta = _i & 1, tb = (_i >> 1) & 1;
    static const int64_t sizes[][3] = { { 1, 1, 1 }, { 7, 5, 3 }, { 33, 17, 65 }, { 3, 4, 0 },
                                        { 0, 5, 3 }, { 5, 0, 3 }, { 1, 257, 9 }, { 64, 1, 128 } };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        gemm_compare(&r, ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], 1.0f, 0.0f);
        gemm_compare(&r, ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], -0.5f, 2.0f);
    }
}
END_TEST

START_TEST(gemm_rejects_like_the_reference)
{
    float a[6] = { 0 }, b[6] = { 0 }, c[4] = { 0 };
    ck_assert_lf_status(cpu_be->gemm(cpu_priv, 0, 0, 2, 2, 3, 1.0f, a, 2, b, 2, 0.0f, c, 2), LF_E_SHAPE);
    ck_assert_lf_status(cpu_be->gemm(cpu_priv, 1, 0, -2, 2, 3, 1.0f, a, 2, b, 2, 0.0f, c, 2), LF_E_INVALID_ARG);
}
END_TEST

/* ---- everything else ---- */

START_TEST(bias_and_axpby)
{
    lf__rng r;
    lf__rng_init(&r, 300, 0);
    const int64_t rows = 37, cols = 301;
    size_t n = (size_t)(rows * cols);
    float *y_ref = random_vec(&r, n, -2, 2), *y_cpu = copy_vec(y_ref, n);
    float *bias = random_vec(&r, (size_t)cols, -1, 1);
    BOTH(bias_add_fwd, (ref_priv, y_ref, bias, rows, cols), (cpu_priv, y_cpu, bias, rows, cols));
    assert_close("bias_add_fwd", y_cpu, y_ref, n);

    float *db_ref = random_vec(&r, (size_t)cols, -1, 1), *db_cpu = copy_vec(db_ref, (size_t)cols);
    BOTH(bias_bwd, (ref_priv, db_ref, y_ref, rows, cols), (cpu_priv, db_cpu, y_cpu, rows, cols));
    assert_close("bias_bwd", db_cpu, db_ref, (size_t)cols);

    float *x = random_vec(&r, n, -3, 3);
    BOTH(axpby, (ref_priv, y_ref, 0.3f, x, -1.25f, (int64_t)n), (cpu_priv, y_cpu, 0.3f, x, -1.25f, (int64_t)n));
    assert_close("axpby", y_cpu, y_ref, n);
    float *z_ref = nan_vec(n), *z_cpu = nan_vec(n);
    BOTH(axpby, (ref_priv, z_ref, 2.0f, x, 0.0f, (int64_t)n), (cpu_priv, z_cpu, 2.0f, x, 0.0f, (int64_t)n));
    assert_close("axpby b=0", z_cpu, z_ref, n);
    free(y_ref), free(y_cpu), free(bias), free(db_ref), free(db_cpu), free(x), free(z_ref), free(z_cpu);
}
END_TEST

START_TEST(elementwise)
{
    lf__rng r;
    lf__rng_init(&r, 400, 0);
    const int64_t n = 3, channels = 4, spatial = 49;
    size_t total = (size_t)(n * channels * spatial);
    float *x = random_vec(&r, total, -2, 2);
    float *y_ref = nan_vec(total), *y_cpu = nan_vec(total);
    BOTH(relu_fwd, (ref_priv, y_ref, x, (int64_t)total), (cpu_priv, y_cpu, x, (int64_t)total));
    assert_close("relu_fwd", y_cpu, y_ref, total);

    float *dy = random_vec(&r, total, -1, 1);
    float *dx_ref = nan_vec(total), *dx_cpu = nan_vec(total);
    BOTH(relu_bwd, (ref_priv, dx_ref, dy, y_ref, (int64_t)total), (cpu_priv, dx_cpu, dy, y_cpu, (int64_t)total));
    assert_close("relu_bwd", dx_cpu, dx_ref, total);

    float *mean = random_vec(&r, (size_t)channels, 0, 1), *inv_std = random_vec(&r, (size_t)channels, 0.5, 4);
    float *n_ref = nan_vec(total), *n_cpu = nan_vec(total);
    BOTH(normalize_fwd, (ref_priv, n_ref, x, mean, inv_std, n, channels, spatial),
                        (cpu_priv, n_cpu, x, mean, inv_std, n, channels, spatial));
    assert_close("normalize_fwd", n_cpu, n_ref, total);
    free(x), free(y_ref), free(y_cpu), free(dy), free(dx_ref), free(dx_cpu);
    free(mean), free(inv_std), free(n_ref), free(n_cpu);
}
END_TEST

START_TEST(losses)
{
    lf__rng r;
    lf__rng_init(&r, 500, 0);
    const int64_t n = 64, classes = 10;
    size_t total = (size_t)(n * classes);
    float *logits = random_vec(&r, total, -8, 8);
    int32_t *labels = random_labels(&r, (size_t)n, (int32_t)classes);
    float *loss_ref = nan_vec((size_t)n), *loss_cpu = nan_vec((size_t)n);
    float *p_ref = nan_vec(total), *p_cpu = nan_vec(total);
    BOTH(softmax_xent_fwd, (ref_priv, loss_ref, p_ref, logits, labels, n, classes),
                           (cpu_priv, loss_cpu, p_cpu, logits, labels, n, classes));
    assert_close("softmax_xent_fwd loss", loss_cpu, loss_ref, (size_t)n);
    assert_close("softmax_xent_fwd probs", p_cpu, p_ref, total);

    float *w = random_vec(&r, (size_t)n, -0.1, 0.1);
    float *d_ref = nan_vec(total), *d_cpu = nan_vec(total);
    BOTH(softmax_xent_bwd, (ref_priv, d_ref, p_ref, labels, w, n, classes),
                           (cpu_priv, d_cpu, p_cpu, labels, w, n, classes));
    assert_close("softmax_xent_bwd", d_cpu, d_ref, total);

    float *s_ref = nan_vec(total), *s_cpu = nan_vec(total);
    BOTH(softmax_fwd, (ref_priv, s_ref, logits, n, classes), (cpu_priv, s_cpu, logits, n, classes));
    assert_close("softmax_fwd", s_cpu, s_ref, total);

    /* a bad label is rejected by both */
    labels[5] = (int32_t)classes;
    ck_assert_lf_status(cpu_be->softmax_xent_fwd(cpu_priv, loss_cpu, p_cpu, logits, labels, n, classes),
                        LF_E_INVALID_ARG);
    free(logits), free(labels), free(loss_ref), free(loss_cpu), free(p_ref), free(p_cpu);
    free(w), free(d_ref), free(d_cpu), free(s_ref), free(s_cpu);
}
END_TEST

START_TEST(sgd)
{
    lf__rng r;
    lf__rng_init(&r, 600, 0);
    const int64_t n = 1000;
    float *w_ref = random_vec(&r, (size_t)n, -1, 1), *w_cpu = copy_vec(w_ref, (size_t)n);
    float *b_ref = nan_vec((size_t)n), *b_cpu = nan_vec((size_t)n);   /* first step: overwritten */
    for (int step = 0; step < 3; step++) {
        float *g = random_vec(&r, (size_t)n, -1, 1);
        BOTH(sgd_step, (ref_priv, w_ref, b_ref, g, n, 0.05f, 0.9f, 5e-4f, step == 0),
                       (cpu_priv, w_cpu, b_cpu, g, n, 0.05f, 0.9f, 5e-4f, step == 0));
        assert_close("sgd w", w_cpu, w_ref, (size_t)n);
        assert_close("sgd buf", b_cpu, b_ref, (size_t)n);
        BOTH(sgd_step, (ref_priv, w_ref, NULL, g, n, 0.1f, 0.0f, 0.0f, 0),
                       (cpu_priv, w_cpu, NULL, g, n, 0.1f, 0.0f, 0.0f, 0));
        assert_close("sgd w (no momentum)", w_cpu, w_ref, (size_t)n);
        free(g);
    }
    free(w_ref), free(w_cpu), free(b_ref), free(b_cpu);
}
END_TEST

START_TEST(reductions)
{
    lf__rng r;
    lf__rng_init(&r, 700, 0);
    const int64_t n = 4099, classes = 7, rows = n / classes;
    float *x = random_vec(&r, (size_t)n, -3, 3);
    x[10] = NAN, x[20] = INFINITY, x[4000] = -INFINITY;
    int64_t nf_ref = -1, nf_cpu = -2;
    BOTH(count_nonfinite, (ref_priv, &nf_ref, x, n), (cpu_priv, &nf_cpu, x, n));
    ck_assert_int_eq(nf_ref, 3);
    ck_assert_int_eq(nf_cpu, nf_ref);

    x[10] = 1, x[20] = 2, x[4000] = 3;
    double ss_ref = -1, ss_cpu = -2;
    BOTH(sum_squares, (ref_priv, &ss_ref, x, n), (cpu_priv, &ss_cpu, x, n));
    ck_assert_msg(fabs(ss_cpu - ss_ref) <= RTOL * ss_ref, "sum_squares %g vs %g", ss_cpu, ss_ref);

    /* rounded logits make ties common */
    for (int64_t i = 0; i < n; i++)
        x[i] = roundf(x[i]);
    int32_t *labels = random_labels(&r, (size_t)rows, (int32_t)classes);
    int64_t cc_ref = -1, cc_cpu = -2;
    BOTH(count_correct, (ref_priv, &cc_ref, x, labels, rows, classes), (cpu_priv, &cc_cpu, x, labels, rows, classes));
    ck_assert_int_eq(cc_cpu, cc_ref);
    ck_assert(cc_ref > 0 && cc_ref < rows);
    free(x), free(labels);
}
END_TEST

START_TEST(random_fills)
{
    const int64_t n = 1001;
    float *u_ref = nan_vec((size_t)n), *u_cpu = nan_vec((size_t)n);
    BOTH(rng_uniform, (ref_priv, u_ref, n, 42, LF__STREAM_INIT, 12345, -0.1f, 0.1f),
                      (cpu_priv, u_cpu, n, 42, LF__STREAM_INIT, 12345, -0.1f, 0.1f));
    ck_assert(memcmp(u_ref, u_cpu, (size_t)n * sizeof *u_ref) == 0);
    BOTH(rng_normal, (ref_priv, u_ref, n, 42, LF__STREAM_NOISE, 7, 0.0f, 0.02f),
                     (cpu_priv, u_cpu, n, 42, LF__STREAM_NOISE, 7, 0.0f, 0.02f));
    ck_assert(memcmp(u_ref, u_cpu, (size_t)n * sizeof *u_ref) == 0);
    free(u_ref), free(u_cpu);
}
END_TEST

START_TEST(table_and_memory)
{
    ck_assert_ptr_eq(lf__backend_find(LF_BACKEND_CPU), cpu_be);
    ck_assert_uint_eq(cpu_be->iface_version, LF__BACKEND_IFACE_VERSION);
    ck_assert_str_eq(cpu_be->name, "cpu");
    ck_assert_int_eq(cpu_be->kind, LF_BACKEND_CPU);
    ck_assert_int_eq(cpu_be->probe(), 1);
    const char *first = (const char *)&cpu_be->probe;
    const char *end = (const char *)&cpu_be->rng_normal + sizeof cpu_be->rng_normal;
    for (const char *p = first; p < end; p += sizeof(void (*)(void))) {
        void (*fn)(void);
        memcpy(&fn, p, sizeof fn);
        ck_assert_msg(fn != NULL, "cpu table entry at offset %td is NULL", p - (const char *)cpu_be);
    }
    float host[100], back[100];
    for (int i = 0; i < 100; i++)
        host[i] = (float)i;
    void *dev = NULL;
    ck_assert_lf_ok(cpu_be->mem_alloc(cpu_priv, &dev, sizeof host));
    ck_assert_uint_eq((uintptr_t)dev % 64, 0);
    ck_assert_lf_ok(cpu_be->mem_upload(cpu_priv, dev, host, sizeof host));
    ck_assert_lf_ok(cpu_be->synchronize(cpu_priv));
    ck_assert_lf_ok(cpu_be->mem_download(cpu_priv, back, dev, sizeof back));
    ck_assert(memcmp(host, back, sizeof host) == 0);
    ck_assert_lf_ok(cpu_be->mem_zero(cpu_priv, dev, sizeof host));
    ck_assert_lf_ok(cpu_be->mem_download(cpu_priv, back, dev, sizeof back));
    ck_assert(back[0] == 0.0f && back[99] == 0.0f);
    cpu_be->mem_free(cpu_priv, dev);
}
END_TEST

static Suite *backends_suite(void)
{
    Suite *s = suite_create("backends");
    TCase *tc = tcase_create("cpu_vs_reference");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, gemm_large_all_transposes, 0, 4);   /* loop index = transposes */
    tcase_add_loop_test(tc, gemm_small_and_edge_sizes, 0, 4);
    tcase_add_test(tc, gemm_rejects_like_the_reference);
    tcase_add_test(tc, bias_and_axpby);
    tcase_add_test(tc, elementwise);
    tcase_add_test(tc, losses);
    tcase_add_test(tc, sgd);
    tcase_add_test(tc, reductions);
    tcase_add_test(tc, random_fills);
    tcase_add_test(tc, table_and_memory);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (!lf__backend_cpu_iface()) {
        printf("1..0 # SKIP cpu backend not built\n");
        return 77;
    }
    SRunner *sr = srunner_create(backends_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
