/* The cpu backend against the reference backend, op by op, on fresh random inputs. Outputs the
 * ops overwrite are poisoned with NaN first, so an element left unwritten fails. Pass rule:
 * relative error ≤ 1e-5 (normwise for gemm, whose summation order legitimately differs).
 * The convolutional ops (oneDNN in the cpu backend) are held to a normwise relative error
 * max|cpu − ref| ≤ 1e-4 · max|ref| per output tensor: their sums run in float in another order.
 * Skips (exit 77) when the library was built without the cpu backend. */
#include "lf_test.h"
#include "core/internal.h"
#include "core/rng.h"

static const double RTOL = 1e-5;
static const double RTOL_CONV = 1e-4;

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

/* Bit for bit (NaN payloads and the sign of zero included); one assertion, as Check's cost
 * per assertion adds up over large arrays. */
static void assert_same_bits(const char *what, const float *got, const float *want, size_t n)
{
    size_t i = 0;
    while (i < n && memcmp(&got[i], &want[i], sizeof got[i]) == 0)
        i++;
    ck_assert_msg(i == n, "%s[%zu]: cpu %.9g, reference %.9g", what, i, i < n ? got[i] : 0.0f,
                  i < n ? want[i] : 0.0f);
}

/* Random values in [lo, hi) with NaN, ±inf and ±0 sprinkled in. */
static float *special_vec(lf__rng *r, size_t n, double lo, double hi)
{
    static const float specials[] = { NAN, INFINITY, -INFINITY, 0.0f, -0.0f };
    float *p = random_vec(r, n, lo, hi);
    for (size_t i = 0; i < n; i += 97)
        p[i] = specials[(i / 97) % 5];
    return p;
}

/* The element-wise ops the cpu backend runs on several threads (large n, an odd length for the
 * vector tails), in and out of place: the same float operations as the reference per element,
 * so the same bits. */
START_TEST(elementwise_large_bitwise)
{
    lf__rng r;
    lf__rng_init(&r, 450, 0);
    const int64_t n = 300007;
    size_t total = (size_t)n;
    float *x = special_vec(&r, total, -2, 2), *dy = special_vec(&r, total, -1, 1);
    float *y_ref = nan_vec(total), *y_cpu = nan_vec(total);
    BOTH(relu_fwd, (ref_priv, y_ref, x, n), (cpu_priv, y_cpu, x, n));
    assert_same_bits("relu_fwd", y_cpu, y_ref, total);
    float *in_place = copy_vec(x, total);
    ck_assert_lf_ok(cpu_be->relu_fwd(cpu_priv, in_place, in_place, n));
    assert_same_bits("relu_fwd in place", in_place, y_ref, total);

    float *dx_ref = nan_vec(total), *dx_cpu = nan_vec(total);
    BOTH(relu_bwd, (ref_priv, dx_ref, dy, x, n), (cpu_priv, dx_cpu, dy, x, n));
    assert_same_bits("relu_bwd", dx_cpu, dx_ref, total);
    memcpy(in_place, dy, total * sizeof *in_place);
    ck_assert_lf_ok(cpu_be->relu_bwd(cpu_priv, in_place, in_place, x, n));
    assert_same_bits("relu_bwd in place", in_place, dx_ref, total);

    float *a_ref = copy_vec(dy, total), *a_cpu = copy_vec(dy, total);
    BOTH(axpby, (ref_priv, a_ref, 0.3f, x, -1.25f, n), (cpu_priv, a_cpu, 0.3f, x, -1.25f, n));
    assert_same_bits("axpby", a_cpu, a_ref, total);
    BOTH(axpby, (ref_priv, a_ref, 1.0f, x, 1.0f, n), (cpu_priv, a_cpu, 1.0f, x, 1.0f, n));
    assert_same_bits("axpby a=b=1", a_cpu, a_ref, total);
    float *z_ref = nan_vec(total), *z_cpu = nan_vec(total);
    BOTH(axpby, (ref_priv, z_ref, -2.0f, x, 0.0f, n), (cpu_priv, z_cpu, -2.0f, x, 0.0f, n));
    assert_same_bits("axpby b=0", z_cpu, z_ref, total);

    uint8_t *mask = malloc(total);
    ck_assert_ptr_nonnull(mask);
    for (size_t i = 0; i < total; i++)
        mask[i] = (uint8_t)(lf__rng_below(&r, 3) == 0 ? 0 : 1 + lf__rng_below(&r, 255));
    float *m_ref = copy_vec(x, total), *m_cpu = copy_vec(x, total);
    BOTH(apply_mask, (ref_priv, m_ref, mask, n), (cpu_priv, m_cpu, mask, n));
    assert_same_bits("apply_mask", m_cpu, m_ref, total);
    free(x), free(dy), free(y_ref), free(y_cpu), free(in_place), free(dx_ref), free(dx_cpu);
    free(a_ref), free(a_cpu), free(z_ref), free(z_cpu), free(mask), free(m_ref), free(m_cpu);
}
END_TEST

/* sgd_step on many threads: every combination of momentum, first step and weight decay, with
 * zeros of both signs and non-finite values in the inputs, bit for bit. */
START_TEST(sgd_large_bitwise)
{
    lf__rng r;
    lf__rng_init(&r, 650, 0);
    const int64_t n = 200003;
    size_t total = (size_t)n;
    float *w_ref = special_vec(&r, total, -1, 1), *w_cpu = copy_vec(w_ref, total);
    float *b_ref = nan_vec(total), *b_cpu = nan_vec(total);   /* first step: overwritten */
    static const float wds[] = { 5e-4f, 0.0f };
    for (int step = 0; step < 4; step++) {
        float *g = special_vec(&r, total, -1, 1);
        float wd = wds[step % 2];
        BOTH(sgd_step, (ref_priv, w_ref, b_ref, g, n, 0.05f, 0.9f, wd, step < 2),
                       (cpu_priv, w_cpu, b_cpu, g, n, 0.05f, 0.9f, wd, step < 2));
        assert_same_bits("sgd w", w_cpu, w_ref, total);
        assert_same_bits("sgd buf", b_cpu, b_ref, total);
        BOTH(sgd_step, (ref_priv, w_ref, NULL, g, n, 0.1f, 0.0f, wd, 0),
                       (cpu_priv, w_cpu, NULL, g, n, 0.1f, 0.0f, wd, 0));
        assert_same_bits("sgd w (no momentum)", w_cpu, w_ref, total);
        free(g);
    }
    free(w_ref), free(w_cpu), free(b_ref), free(b_cpu);
}
END_TEST

/* The cpu kernels keep the reference's argument checks. */
START_TEST(elementwise_rejects_like_the_reference)
{
    float x[4] = { 0 };
    ck_assert_lf_status(cpu_be->relu_fwd(cpu_priv, x, x, -1), LF_E_INVALID_ARG);
    ck_assert_lf_status(cpu_be->relu_fwd(cpu_priv, NULL, x, 4), LF_E_INVALID_ARG);
    ck_assert_lf_status(cpu_be->relu_bwd(cpu_priv, x, x, NULL, 4), LF_E_INVALID_ARG);
    ck_assert_lf_status(cpu_be->axpby(cpu_priv, x, 1.0f, NULL, 1.0f, 4), LF_E_INVALID_ARG);
    ck_assert_lf_status(cpu_be->sgd_step(cpu_priv, x, NULL, x, 4, 0.1f, 0.9f, 0.0f, 0), LF_E_INVALID_ARG);
    ck_assert_lf_status(cpu_be->apply_mask(cpu_priv, x, NULL, 4), LF_E_INVALID_ARG);
    /* empty inputs are fine, NULL pointers included */
    ck_assert_lf_ok(cpu_be->relu_fwd(cpu_priv, NULL, NULL, 0));
    ck_assert_lf_ok(cpu_be->sgd_step(cpu_priv, NULL, NULL, NULL, 0, 0.1f, 0.9f, 0.0f, 1));
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

/* ---- convolutional models (version 2 of the table) ---- */

/* Normwise: max|got − want| ≤ RTOL_CONV · max|want| (a floor of 1e-30 for all-zero tensors);
 * NaN anywhere fails. */
static void assert_close_norm(const char *what, const float *got, const float *want, size_t n)
{
    double max_ref = 0, max_err = 0;
    size_t bad = n;   /* the first non-finite element: one assertion, not one per element */
    for (size_t i = 0; i < n; i++) {
        if (bad == n && !(isfinite(got[i]) && isfinite(want[i])))
            bad = i;
        max_ref = fmax(max_ref, fabs((double)want[i]));
        max_err = fmax(max_err, fabs((double)got[i] - want[i]));
    }
    ck_assert_msg(bad == n, "%s[%zu]: cpu %g, reference %g", what, bad, bad < n ? got[bad] : 0.0f,
                  bad < n ? want[bad] : 0.0f);
    ck_assert_msg(max_err <= RTOL_CONV * fmax(max_ref, 1e-30), "%s: error %g of %g", what, max_err,
                  max_ref);
}

static lf__conv2d_shape conv_shape(int64_t n, int64_t c_in, int64_t h, int64_t w, int64_t c_out,
                                   int64_t kh, int64_t kw, int64_t stride, int64_t pad)
{
    lf__conv2d_shape s = { .n = n, .c_in = c_in, .h_in = h, .w_in = w, .c_out = c_out, .kh = kh,
                           .kw = kw, .stride = stride, .pad = pad };
    s.h_out = (h + 2 * pad - kh) / stride + 1;
    s.w_out = (w + 2 * pad - kw) / stride + 1;
    return s;
}

/* n, c_in, h, w, c_out, kh, kw, stride, pad, bias */
static const int64_t conv_cases[][10] = {
    { 1, 1, 7, 5, 4, 3, 3, 1, 1, 1 },     /* c_in 1, odd 7×5, batch 1 */
    { 4, 3, 7, 5, 8, 3, 3, 2, 1, 0 },     /* stride 2 */
    { 4, 3, 8, 8, 5, 1, 1, 1, 0, 1 },     /* 1×1 */
    { 1, 3, 9, 6, 16, 3, 3, 2, 0, 1 },    /* stride 2, pad 0, rows left over */
    { 4, 1, 28, 28, 8, 3, 3, 1, 1, 0 },   /* the convnet's first layer, narrower */
    { 2, 16, 14, 14, 32, 3, 3, 1, 1, 1 }, /* ... its second */
    { 4, 5, 11, 13, 6, 5, 5, 2, 2, 1 },   /* 5×5 */
    { 3, 8, 6, 6, 4, 2, 2, 2, 0, 0 },     /* even kernel */
    { 2, 3, 7, 9, 4, 1, 3, 1, 1, 1 },     /* kh ≠ kw, pad ≥ kh */
};

/* Forward, backward data and backward weights of one case on both backends, each twice on
 * fresh buffers (the second call reuses the cached plan with new pointers). dw and dbias start
 * nonzero, so the comparison also checks that both accumulate. */
START_TEST(conv2d_all_passes)
{
    const int64_t *cs = conv_cases[_i];
    const lf__conv2d_shape s = conv_shape(cs[0], cs[1], cs[2], cs[3], cs[4], cs[5], cs[6], cs[7], cs[8]);
    const int bias = (int)cs[9];
    const size_t nx = (size_t)(s.n * s.c_in * s.h_in * s.w_in),
                 nw = (size_t)(s.c_out * s.c_in * s.kh * s.kw),
                 ny = (size_t)(s.n * s.c_out * s.h_out * s.w_out), nb = (size_t)s.c_out;
    lf__rng r;
    lf__rng_init(&r, 800 + (uint64_t)_i, 0);
    float *dw_ref = random_vec(&r, nw, -1, 1), *dw_cpu = copy_vec(dw_ref, nw);
    float *db_ref = random_vec(&r, nb, -1, 1), *db_cpu = copy_vec(db_ref, nb);
    for (int round = 0; round < 2; round++) {
        float *x = random_vec(&r, nx, -1, 1), *w = random_vec(&r, nw, -0.5, 0.5);
        float *b = bias ? random_vec(&r, nb, -1, 1) : NULL;
        float *y_ref = nan_vec(ny), *y_cpu = nan_vec(ny);
        BOTH(conv2d_fwd, (ref_priv, y_ref, x, w, b, &s), (cpu_priv, y_cpu, x, w, b, &s));
        assert_close_norm("conv2d_fwd y", y_cpu, y_ref, ny);

        float *dy = random_vec(&r, ny, -1, 1);
        float *dx_ref = nan_vec(nx), *dx_cpu = nan_vec(nx);
        BOTH(conv2d_bwd_data, (ref_priv, dx_ref, dy, w, &s), (cpu_priv, dx_cpu, dy, w, &s));
        assert_close_norm("conv2d_bwd_data dx", dx_cpu, dx_ref, nx);

        BOTH(conv2d_bwd_weights, (ref_priv, dw_ref, bias ? db_ref : NULL, dy, x, &s),
                                 (cpu_priv, dw_cpu, bias ? db_cpu : NULL, dy, x, &s));
        assert_close_norm("conv2d_bwd_weights dw", dw_cpu, dw_ref, nw);
        assert_close_norm("conv2d_bwd_weights dbias", db_cpu, db_ref, nb);
        free(x), free(w), free(b), free(y_ref), free(y_cpu), free(dy), free(dx_ref), free(dx_cpu);
    }
    free(dw_ref), free(dw_cpu), free(db_ref), free(db_cpu);
}
END_TEST

/* dw += and dbias += must add exactly what a call from zero gives. */
START_TEST(conv2d_bwd_weights_accumulates)
{
    const lf__conv2d_shape s = conv_shape(2, 3, 9, 7, 6, 3, 3, 1, 1);
    const size_t nx = (size_t)(s.n * s.c_in * s.h_in * s.w_in), nw = (size_t)(s.c_out * s.c_in * 9),
                 ny = (size_t)(s.n * s.c_out * s.h_out * s.w_out), nb = (size_t)s.c_out;
    lf__rng r;
    lf__rng_init(&r, 900, 0);
    float *x = random_vec(&r, nx, -1, 1), *dy = random_vec(&r, ny, -1, 1);
    float *dw0 = calloc(nw, sizeof *dw0), *db0 = calloc(nb, sizeof *db0);
    float *dw = random_vec(&r, nw, 10, 20), *db = random_vec(&r, nb, 10, 20);
    float *dw_start = copy_vec(dw, nw), *db_start = copy_vec(db, nb);
    ck_assert_lf_ok(cpu_be->conv2d_bwd_weights(cpu_priv, dw0, db0, dy, x, &s));
    ck_assert_lf_ok(cpu_be->conv2d_bwd_weights(cpu_priv, dw, db, dy, x, &s));
    ck_assert_lf_ok(cpu_be->conv2d_bwd_weights(cpu_priv, dw, db, dy, x, &s));
    for (size_t i = 0; i < nw; i++)
        ck_assert_msg(fabs(dw[i] - (dw_start[i] + 2 * dw0[i])) <= 1e-5 * fabs(dw_start[i]),
                      "dw[%zu]: %g, expected %g + 2·%g", i, dw[i], dw_start[i], dw0[i]);
    for (size_t i = 0; i < nb; i++)
        ck_assert_msg(fabs(db[i] - (db_start[i] + 2 * db0[i])) <= 1e-5 * fabs(db_start[i]),
                      "dbias[%zu]: %g, expected %g + 2·%g", i, db[i], db_start[i], db0[i]);
    free(x), free(dy), free(dw0), free(db0), free(dw), free(db), free(dw_start), free(db_start);
}
END_TEST

START_TEST(conv2d_rejects_like_the_reference)
{
    lf__conv2d_shape s = conv_shape(2, 3, 8, 8, 4, 3, 3, 1, 1);
    s.h_out = 7;   /* should be 8 */
    float buf[2 * 3 * 8 * 8] = { 0 };
    ck_assert_lf_status(cpu_be->conv2d_fwd(cpu_priv, buf, buf, buf, NULL, &s), LF_E_SHAPE);
    ck_assert_lf_status(cpu_be->conv2d_bwd_data(cpu_priv, buf, buf, buf, &s), LF_E_SHAPE);
    ck_assert_lf_status(cpu_be->conv2d_bwd_weights(cpu_priv, buf, NULL, buf, buf, &s), LF_E_SHAPE);
    s = conv_shape(2, 3, 8, 8, 4, 3, 3, 1, 1);
    ck_assert_lf_status(cpu_be->conv2d_fwd(cpu_priv, buf, buf, NULL, NULL, &s), LF_E_INVALID_ARG);
}
END_TEST

/* n, c, s: BatchNorm2d planes, BatchNorm1d (s = 1), batch 1 */
static const int64_t bn_cases[][3] = { { 4, 3, 35 }, { 1, 5, 49 }, { 16, 7, 1 }, { 2, 64, 196 },
                                       { 128, 4, 1 },
                                       /* large enough for the cpu backend's threads */
                                       { 8, 32, 196 }, { 64, 128, 16 } };

START_TEST(batchnorm_all_passes)
{
    const int64_t n = bn_cases[_i][0], c = bn_cases[_i][1], sp = bn_cases[_i][2];
    const size_t total = (size_t)(n * c * sp), nc = (size_t)c;
    const float momentum = 0.1f, eps = 1e-5f;
    lf__rng r;
    lf__rng_init(&r, 1000 + (uint64_t)_i, 0);
    float *x = random_vec(&r, total, 2, 5);   /* an offset mean, as after a ReLU */
    float *gamma = random_vec(&r, nc, 0.5, 2), *beta = random_vec(&r, nc, -1, 1);
    float *rm_ref = random_vec(&r, nc, -1, 1), *rm_cpu = copy_vec(rm_ref, nc);
    float *rv_ref = random_vec(&r, nc, 0.5, 2), *rv_cpu = copy_vec(rv_ref, nc);
    float *y_ref = nan_vec(total), *y_cpu = nan_vec(total);
    float *m_ref = nan_vec(nc), *m_cpu = nan_vec(nc), *is_ref = nan_vec(nc), *is_cpu = nan_vec(nc);
    for (int round = 0; round < 2; round++) {   /* the second reuses the plan */
        BOTH(batchnorm_fwd_train,
             (ref_priv, y_ref, m_ref, is_ref, rm_ref, rv_ref, x, gamma, beta, n, c, sp, momentum, eps),
             (cpu_priv, y_cpu, m_cpu, is_cpu, rm_cpu, rv_cpu, x, gamma, beta, n, c, sp, momentum, eps));
        assert_close_norm("batchnorm_fwd_train y", y_cpu, y_ref, total);
        assert_close("batchnorm_fwd_train save_mean", m_cpu, m_ref, nc);
        assert_close_norm("batchnorm_fwd_train save_invstd", is_cpu, is_ref, nc);
        assert_close_norm("batchnorm_fwd_train running_mean", rm_cpu, rm_ref, nc);
        assert_close_norm("batchnorm_fwd_train running_var", rv_cpu, rv_ref, nc);
    }
    /* without running statistics */
    BOTH(batchnorm_fwd_train,
         (ref_priv, y_ref, m_ref, is_ref, NULL, NULL, x, gamma, beta, n, c, sp, momentum, eps),
         (cpu_priv, y_cpu, m_cpu, is_cpu, NULL, NULL, x, gamma, beta, n, c, sp, momentum, eps));
    assert_close_norm("batchnorm_fwd_train y (no running stats)", y_cpu, y_ref, total);

    float *e_ref = nan_vec(total), *e_cpu = nan_vec(total);
    BOTH(batchnorm_fwd_eval, (ref_priv, e_ref, x, gamma, beta, rm_ref, rv_ref, n, c, sp, eps),
                             (cpu_priv, e_cpu, x, gamma, beta, rm_ref, rv_ref, n, c, sp, eps));
    assert_close_norm("batchnorm_fwd_eval y", e_cpu, e_ref, total);

    /* backward from the reference's saved statistics, so both see the same inputs */
    float *dy = random_vec(&r, total, -1, 1);
    float *dx_ref = nan_vec(total), *dx_cpu = nan_vec(total);
    float *dg_ref = random_vec(&r, nc, -1, 1), *dg_cpu = copy_vec(dg_ref, nc);
    float *db_ref = random_vec(&r, nc, -1, 1), *db_cpu = copy_vec(db_ref, nc);
    BOTH(batchnorm_bwd, (ref_priv, dx_ref, dg_ref, db_ref, dy, x, gamma, m_ref, is_ref, n, c, sp),
                        (cpu_priv, dx_cpu, dg_cpu, db_cpu, dy, x, gamma, m_ref, is_ref, n, c, sp));
    assert_close_norm("batchnorm_bwd dx", dx_cpu, dx_ref, total);
    assert_close_norm("batchnorm_bwd dgamma", dg_cpu, dg_ref, nc);
    assert_close_norm("batchnorm_bwd dbeta", db_cpu, db_ref, nc);
    free(x), free(gamma), free(beta), free(rm_ref), free(rm_cpu), free(rv_ref), free(rv_cpu);
    free(y_ref), free(y_cpu), free(m_ref), free(m_cpu), free(is_ref), free(is_cpu);
    free(e_ref), free(e_cpu), free(dy), free(dx_ref), free(dx_cpu);
    free(dg_ref), free(dg_cpu), free(db_ref), free(db_cpu);
}
END_TEST

/* Batch norm fused with the ReLU after it, against the reference's composition. */
START_TEST(batchnorm_relu_all_passes)
{
    const int64_t n = bn_cases[_i][0], c = bn_cases[_i][1], sp = bn_cases[_i][2];
    const size_t total = (size_t)(n * c * sp), nc = (size_t)c;
    const float momentum = 0.1f, eps = 1e-5f;
    lf__rng r;
    lf__rng_init(&r, 1100 + (uint64_t)_i, 0);
    float *x = random_vec(&r, total, 2, 5);
    float *gamma = random_vec(&r, nc, 0.5, 2), *beta = random_vec(&r, nc, -1, 1);
    float *rm_ref = random_vec(&r, nc, -1, 1), *rm_cpu = copy_vec(rm_ref, nc);
    float *rv_ref = random_vec(&r, nc, 0.5, 2), *rv_cpu = copy_vec(rv_ref, nc);
    float *y_ref = nan_vec(total), *y_cpu = nan_vec(total);
    float *m_ref = nan_vec(nc), *m_cpu = nan_vec(nc), *is_ref = nan_vec(nc), *is_cpu = nan_vec(nc);
    BOTH(batchnorm_relu_fwd_train,
         (ref_priv, y_ref, m_ref, is_ref, rm_ref, rv_ref, x, gamma, beta, n, c, sp, momentum, eps),
         (cpu_priv, y_cpu, m_cpu, is_cpu, rm_cpu, rv_cpu, x, gamma, beta, n, c, sp, momentum, eps));
    assert_close_norm("batchnorm_relu_fwd_train y", y_cpu, y_ref, total);
    assert_close("batchnorm_relu_fwd_train save_mean", m_cpu, m_ref, nc);
    assert_close_norm("batchnorm_relu_fwd_train save_invstd", is_cpu, is_ref, nc);
    assert_close_norm("batchnorm_relu_fwd_train running_mean", rm_cpu, rm_ref, nc);
    assert_close_norm("batchnorm_relu_fwd_train running_var", rv_cpu, rv_ref, nc);
    size_t zeros = 0;   /* the ReLU must have cut something, or the test shows nothing */
    for (size_t i = 0; i < total; i++)
        zeros += y_ref[i] == 0.0f;
    ck_assert(total < 64 || (zeros > total / 10 && zeros < total - total / 10));

    float *e_ref = nan_vec(total), *e_cpu = nan_vec(total);
    BOTH(batchnorm_relu_fwd_eval, (ref_priv, e_ref, x, gamma, beta, rm_ref, rv_ref, n, c, sp, eps),
                                  (cpu_priv, e_cpu, x, gamma, beta, rm_ref, rv_ref, n, c, sp, eps));
    assert_close_norm("batchnorm_relu_fwd_eval y", e_cpu, e_ref, total);

    /* backward from the reference's forward, in place (dx = dy) on the cpu side */
    float *dy = random_vec(&r, total, -1, 1);
    float *dx_ref = nan_vec(total), *dx_cpu = copy_vec(dy, total);
    float *dg_ref = random_vec(&r, nc, -1, 1), *dg_cpu = copy_vec(dg_ref, nc);
    float *db_ref = random_vec(&r, nc, -1, 1), *db_cpu = copy_vec(db_ref, nc);
    BOTH(batchnorm_relu_bwd,
         (ref_priv, dx_ref, dg_ref, db_ref, dy, y_ref, x, gamma, m_ref, is_ref, n, c, sp),
         (cpu_priv, dx_cpu, dg_cpu, db_cpu, dx_cpu, y_ref, x, gamma, m_ref, is_ref, n, c, sp));
    assert_close_norm("batchnorm_relu_bwd dx", dx_cpu, dx_ref, total);
    assert_close_norm("batchnorm_relu_bwd dgamma", dg_cpu, dg_ref, nc);
    assert_close_norm("batchnorm_relu_bwd dbeta", db_cpu, db_ref, nc);
    free(x), free(gamma), free(beta), free(rm_ref), free(rm_cpu), free(rv_ref), free(rv_cpu);
    free(y_ref), free(y_cpu), free(m_ref), free(m_cpu), free(is_ref), free(is_cpu);
    free(e_ref), free(e_cpu), free(dy), free(dx_ref), free(dx_cpu);
    free(dg_ref), free(dg_cpu), free(db_ref), free(db_cpu);
}
END_TEST

START_TEST(batchnorm_relu_rejects_like_the_reference)
{
    float x[3] = { 1, 2, 3 }, y[3], m[3], is[3], g[3] = { 1, 1, 1 }, b[3] = { 0 };
    ck_assert_lf_status(cpu_be->batchnorm_relu_fwd_train(cpu_priv, y, m, is, NULL, NULL, x, g, b, 1,
                                                         3, 1, 0.1f, 1e-5f), LF_E_SHAPE);
    ck_assert_lf_status(cpu_be->batchnorm_relu_fwd_eval(cpu_priv, y, x, g, NULL, m, is, 1, 3, 1,
                                                        1e-5f), LF_E_INVALID_ARG);
    ck_assert_lf_status(cpu_be->batchnorm_relu_bwd(cpu_priv, y, m, is, x, NULL, x, g, m, is, 1, 3, 1),
                        LF_E_INVALID_ARG);
    ck_assert_lf_status(cpu_be->batchnorm_relu_bwd(cpu_priv, y, m, is, x, x, x, g, m, is, -1, 3, 1),
                        LF_E_INVALID_ARG);
}
END_TEST

START_TEST(batchnorm_rejects_like_the_reference)
{
    float x[3] = { 1, 2, 3 }, y[3], m[3], is[3], g[3] = { 1, 1, 1 }, b[3] = { 0 };
    /* one value per channel has no batch variance */
    ck_assert_lf_status(cpu_be->batchnorm_fwd_train(cpu_priv, y, m, is, NULL, NULL, x, g, b, 1, 3,
                                                    1, 0.1f, 1e-5f), LF_E_SHAPE);
    ck_assert_lf_status(cpu_be->batchnorm_fwd_eval(cpu_priv, y, x, g, NULL, m, is, 1, 3, 1, 1e-5f),
                        LF_E_INVALID_ARG);
}
END_TEST

/* n, c, h, w, k */
static const int64_t pool_cases[][5] = { { 2, 3, 8, 8, 2 }, { 1, 1, 7, 5, 2 }, { 4, 3, 9, 9, 3 },
                                         { 2, 2, 6, 7, 1 }, { 3, 4, 28, 28, 2 }, { 2, 2, 17, 16, 16 },
                                         { 8, 16, 28, 28, 2 } /* large enough for threads */ };

/* Inputs rounded to a few levels, so most windows hold ties: the backward shows which element
 * each forward picked, and it must be the same one as the reference's. */
START_TEST(maxpool2d_all_passes)
{
    const int64_t n = pool_cases[_i][0], c = pool_cases[_i][1], h = pool_cases[_i][2],
                  w = pool_cases[_i][3], k = pool_cases[_i][4];
    const size_t nx = (size_t)(n * c * h * w), ny = (size_t)(n * c * (h / k) * (w / k));
    lf__rng r;
    lf__rng_init(&r, 1100 + (uint64_t)_i, 0);
    float *x = random_vec(&r, nx, -2, 2);
    for (size_t i = 0; i < nx; i++)
        x[i] = roundf(x[i]);
    int32_t *idx_ref = malloc(ny * sizeof *idx_ref), *idx_cpu = malloc(ny * sizeof *idx_cpu);
    for (int round = 0; round < 2; round++) {
        float *y_ref = nan_vec(ny), *y_cpu = nan_vec(ny);
        BOTH(maxpool2d_fwd, (ref_priv, y_ref, idx_ref, x, n, c, h, w, k),
                            (cpu_priv, y_cpu, idx_cpu, x, n, c, h, w, k));
        ck_assert(memcmp(y_cpu, y_ref, ny * sizeof *y_ref) == 0);
        float *dy = random_vec(&r, ny, -1, 1);
        float *dx_ref = nan_vec(nx), *dx_cpu = nan_vec(nx);
        BOTH(maxpool2d_bwd, (ref_priv, dx_ref, dy, idx_ref, n, c, h, w, k),
                            (cpu_priv, dx_cpu, dy, idx_cpu, n, c, h, w, k));
        for (size_t i = 0; i < nx; i++)
            ck_assert_msg(dx_cpu[i] == dx_ref[i], "maxpool2d_bwd dx[%zu]: cpu %g, reference %g", i,
                          dx_cpu[i], dx_ref[i]);
        /* evaluation mode: no idx */
        float *e_cpu = nan_vec(ny);
        ck_assert_lf_ok(cpu_be->maxpool2d_fwd(cpu_priv, e_cpu, NULL, x, n, c, h, w, k));
        ck_assert(memcmp(e_cpu, y_ref, ny * sizeof *y_ref) == 0);
        free(y_ref), free(y_cpu), free(dy), free(dx_ref), free(dx_cpu), free(e_cpu);
        for (size_t i = 0; i < nx; i++)   /* fresh values for the second round */
            x[i] = roundf((float)(-2 + 4 * lf__rng_uniform(&r)));
    }
    free(x), free(idx_ref), free(idx_cpu);
}
END_TEST

START_TEST(maxpool2d_rejects_like_the_reference)
{
    float x[16] = { 0 }, y[16];
    int32_t idx[16];
    ck_assert_lf_status(cpu_be->maxpool2d_fwd(cpu_priv, y, idx, x, 1, 1, 2, 2, 3), LF_E_SHAPE);
    ck_assert_lf_status(cpu_be->maxpool2d_bwd(cpu_priv, x, y, NULL, 1, 1, 4, 4, 2), LF_E_INVALID_ARG);
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
    const char *end = (const char *)&cpu_be->adam_step + sizeof cpu_be->adam_step;
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

/* ---- the attacker network (version 4 of the table) ---- */

START_TEST(attacker_ops)
{
    lf__rng r;
    lf__rng_init(&r, 900, 0);
    const int64_t rows = 37, cols = 64, n = rows * cols;
    float *x = random_vec(&r, (size_t)n, -3, 3), *dy = random_vec(&r, (size_t)n, -1, 1);
    float *g = random_vec(&r, (size_t)cols, 0.5, 1.5), *b = random_vec(&r, (size_t)cols, -0.5, 0.5);
    float *y_ref = nan_vec((size_t)n), *y_cpu = nan_vec((size_t)n);
    float *st_ref = nan_vec((size_t)(2 * rows)), *st_cpu = nan_vec((size_t)(2 * rows));
    BOTH(layernorm_fwd, (ref_priv, y_ref, st_ref, st_ref + rows, x, g, b, rows, cols, 1e-5f),
                        (cpu_priv, y_cpu, st_cpu, st_cpu + rows, x, g, b, rows, cols, 1e-5f));
    assert_close("layernorm_fwd y", y_cpu, y_ref, (size_t)n);
    assert_close("layernorm_fwd stats", st_cpu, st_ref, (size_t)(2 * rows));
    float *dg_ref = random_vec(&r, (size_t)cols, -1, 1), *dg_cpu = copy_vec(dg_ref, (size_t)cols);
    float *db_ref = random_vec(&r, (size_t)cols, -1, 1), *db_cpu = copy_vec(db_ref, (size_t)cols);
    float *dx_ref = nan_vec((size_t)n), *dx_cpu = nan_vec((size_t)n);
    BOTH(layernorm_bwd, (ref_priv, dx_ref, dg_ref, db_ref, dy, x, g, st_ref, st_ref + rows, rows, cols),
                        (cpu_priv, dx_cpu, dg_cpu, db_cpu, dy, x, g, st_cpu, st_cpu + rows, rows, cols));
    assert_close("layernorm_bwd dx", dx_cpu, dx_ref, (size_t)n);
    assert_close("layernorm_bwd dgamma", dg_cpu, dg_ref, (size_t)cols);
    assert_close("layernorm_bwd dbeta", db_cpu, db_ref, (size_t)cols);

    BOTH(gelu_fwd, (ref_priv, y_ref, x, n), (cpu_priv, y_cpu, x, n));
    assert_close("gelu_fwd", y_cpu, y_ref, (size_t)n);
    BOTH(gelu_bwd, (ref_priv, dx_ref, dy, x, n), (cpu_priv, dx_cpu, dy, x, n));
    assert_close("gelu_bwd", dx_cpu, dx_ref, (size_t)n);

    BOTH(softmax_fwd, (ref_priv, y_ref, x, rows, cols), (cpu_priv, y_cpu, x, rows, cols));
    BOTH(softmax_bwd, (ref_priv, dx_ref, dy, y_ref, rows, cols), (cpu_priv, dx_cpu, dy, y_cpu, rows, cols));
    assert_close("softmax_bwd", dx_cpu, dx_ref, (size_t)n);

    /* masks are part of reproducibility: bit for bit */
    BOTH(dropout, (ref_priv, y_ref, x, n, 0.2f, 5, LF__STREAM_DROPOUT, 3),
                  (cpu_priv, y_cpu, x, n, 0.2f, 5, LF__STREAM_DROPOUT, 3));
    assert_same_bits("dropout", y_cpu, y_ref, (size_t)n);
    BOTH(transpose, (ref_priv, y_ref, x, 2, rows / 2, cols), (cpu_priv, y_cpu, x, 2, rows / 2, cols));
    assert_same_bits("transpose", y_cpu, y_ref, (size_t)(2 * (rows / 2) * cols));

    float *w_ref = random_vec(&r, (size_t)n, -1, 1), *w_cpu = copy_vec(w_ref, (size_t)n);
    float *m_ref = vec((size_t)n), *v_ref = vec((size_t)n);
    memset(m_ref, 0, (size_t)n * sizeof *m_ref), memset(v_ref, 0, (size_t)n * sizeof *v_ref);
    float *m_cpu = copy_vec(m_ref, (size_t)n), *v_cpu = copy_vec(v_ref, (size_t)n);
    for (int64_t step = 1; step <= 3; step++) {
        BOTH(adam_step, (ref_priv, w_ref, m_ref, v_ref, dy, n, 1e-3f, 0.9, 0.999, 1e-8f, 0.0f, step),
                        (cpu_priv, w_cpu, m_cpu, v_cpu, dy, n, 1e-3f, 0.9, 0.999, 1e-8f, 0.0f, step));
        assert_close("adam w", w_cpu, w_ref, (size_t)n);
        assert_close("adam m", m_cpu, m_ref, (size_t)n);
        assert_close("adam v", v_cpu, v_ref, (size_t)n);
    }
    free(x), free(dy), free(g), free(b), free(y_ref), free(y_cpu), free(st_ref), free(st_cpu);
    free(dg_ref), free(dg_cpu), free(db_ref), free(db_cpu), free(dx_ref), free(dx_cpu);
    free(w_ref), free(w_cpu), free(m_ref), free(v_ref), free(m_cpu), free(v_cpu);
}
END_TEST

/* The attacker's row and element kernels on inputs large enough for the cpu backend's threads
 * (and with odd lengths for the vector tails): bit for bit where the cpu kernel keeps the
 * reference's arithmetic, within RTOL where it sums in another order (layer norm's rows) or
 * takes erf and exp from a vector library (GELU). In place where the contract allows it. */
START_TEST(attacker_ops_threaded)
{
    lf__rng r;
    lf__rng_init(&r, 950, 0);
    const int64_t rows = 1031, cols = 64, n = rows * cols, odd = n - 5;
    const size_t nz = (size_t)n;
    float *x = random_vec(&r, nz, -4, 4), *dy = random_vec(&r, nz, -1, 1);
    float *g = random_vec(&r, (size_t)cols, 0.5, 1.5), *b = random_vec(&r, (size_t)cols, -0.5, 0.5);
    float *y_ref = nan_vec(nz), *y_cpu = nan_vec(nz);
    float *st_ref = nan_vec((size_t)(2 * rows)), *st_cpu = nan_vec((size_t)(2 * rows));
    BOTH(layernorm_fwd, (ref_priv, y_ref, st_ref, st_ref + rows, x, g, b, rows, cols, 1e-5f),
                        (cpu_priv, y_cpu, st_cpu, st_cpu + rows, x, g, b, rows, cols, 1e-5f));
    assert_close("layernorm_fwd y", y_cpu, y_ref, nz);
    assert_close("layernorm_fwd stats", st_cpu, st_ref, (size_t)(2 * rows));
    float *dg_ref = random_vec(&r, (size_t)cols, -1, 1), *dg_cpu = copy_vec(dg_ref, (size_t)cols);
    float *db_ref = random_vec(&r, (size_t)cols, -1, 1), *db_cpu = copy_vec(db_ref, (size_t)cols);
    float *dx_ref = nan_vec(nz), *dx_cpu = copy_vec(dy, nz);   /* the cpu one in place */
    BOTH(layernorm_bwd, (ref_priv, dx_ref, dg_ref, db_ref, dy, x, g, st_ref, st_ref + rows, rows, cols),
                        (cpu_priv, dx_cpu, dg_cpu, db_cpu, dx_cpu, x, g, st_cpu, st_cpu + rows, rows, cols));
    assert_close("layernorm_bwd dx", dx_cpu, dx_ref, nz);
    assert_close("layernorm_bwd dgamma", dg_cpu, dg_ref, (size_t)cols);
    assert_close("layernorm_bwd dbeta", db_cpu, db_ref, (size_t)cols);

    BOTH(gelu_fwd, (ref_priv, y_ref, x, odd), (cpu_priv, y_cpu, x, odd));
    assert_close("gelu_fwd", y_cpu, y_ref, (size_t)odd);
    memcpy(dx_cpu, dy, nz * sizeof *dx_cpu);
    BOTH(gelu_bwd, (ref_priv, dx_ref, dy, x, odd), (cpu_priv, dx_cpu, dx_cpu, x, odd));
    assert_close("gelu_bwd (in place)", dx_cpu, dx_ref, (size_t)odd);

    /* softmax over attention-like rows of 10: both passes keep the reference's bits */
    const int64_t srows = n / 10;
    BOTH(softmax_fwd, (ref_priv, y_ref, x, srows, 10), (cpu_priv, y_cpu, x, srows, 10));
    assert_same_bits("softmax_fwd", y_cpu, y_ref, (size_t)(srows * 10));
    memcpy(dx_cpu, dy, nz * sizeof *dx_cpu);
    BOTH(softmax_bwd, (ref_priv, dx_ref, dy, y_ref, srows, 10), (cpu_priv, dx_cpu, dx_cpu, y_cpu, srows, 10));
    assert_same_bits("softmax_bwd (in place)", dx_cpu, dx_ref, (size_t)(srows * 10));
    /* rows wider than the cpu kernel's buffer */
    BOTH(softmax_fwd, (ref_priv, y_ref, x, n / 300, 300), (cpu_priv, y_cpu, x, n / 300, 300));
    assert_same_bits("softmax_fwd (300 wide)", y_cpu, y_ref, (size_t)(n / 300 * 300));

    float *a_ref = copy_vec(x, nz), *a_cpu = copy_vec(x, nz);
    float *bias = random_vec(&r, 193, -1, 1);
    BOTH(bias_add_fwd, (ref_priv, a_ref, bias, n / 193, 193), (cpu_priv, a_cpu, bias, n / 193, 193));
    assert_same_bits("bias_add_fwd", a_cpu, a_ref, (size_t)(n / 193 * 193));
    float *dbias_ref = random_vec(&r, 193, -1, 1), *dbias_cpu = copy_vec(dbias_ref, 193);
    BOTH(bias_bwd, (ref_priv, dbias_ref, dy, n / 193, 193), (cpu_priv, dbias_cpu, dy, n / 193, 193));
    assert_same_bits("bias_bwd", dbias_cpu, dbias_ref, 193);

    float *w_ref = random_vec(&r, nz, -1, 1), *w_cpu = copy_vec(w_ref, nz);
    float *m_ref = random_vec(&r, nz, -0.1, 0.1), *m_cpu = copy_vec(m_ref, nz);
    float *v_ref = random_vec(&r, nz, 0, 0.1), *v_cpu = copy_vec(v_ref, nz);
    BOTH(adam_step, (ref_priv, w_ref, m_ref, v_ref, dy, odd, 1e-3f, 0.9, 0.999, 1e-8f, 0.01f, 7),
                    (cpu_priv, w_cpu, m_cpu, v_cpu, dy, odd, 1e-3f, 0.9, 0.999, 1e-8f, 0.01f, 7));
    assert_same_bits("adam w", w_cpu, w_ref, nz);
    assert_same_bits("adam m", m_cpu, m_ref, nz);
    assert_same_bits("adam v", v_cpu, v_ref, nz);
    free(x), free(dy), free(g), free(b), free(y_ref), free(y_cpu), free(st_ref), free(st_cpu);
    free(dg_ref), free(dg_cpu), free(db_ref), free(db_cpu), free(dx_ref), free(dx_cpu);
    free(a_ref), free(a_cpu), free(bias), free(dbias_ref), free(dbias_cpu);
    free(w_ref), free(w_cpu), free(m_ref), free(m_cpu), free(v_ref), free(v_cpu);
}
END_TEST

/* Dropout masks are part of reproducibility: bit for bit for rates 0, 0.2, 0.5 and 1, offsets
 * that start inside a Philox block, lengths that end inside one, a counter past 2^32 blocks,
 * in and out of place, small (one thread) and large (the threads, the vectorised generator). */
START_TEST(dropout_bitwise)
{
    lf__rng r;
    lf__rng_init(&r, 960, 0);
    const int64_t n = 200003;
    float *x = special_vec(&r, (size_t)n, -2, 2);
    float *y_ref = nan_vec((size_t)n), *y_cpu = nan_vec((size_t)n);
    static const float rates[] = { 0.0f, 0.2f, 0.5f, 1.0f };
    static const uint64_t offsets[] = { 0, 3, 5, (1ull << 36) + 2, (1ull << 40) - 7 };
    static const int64_t lengths[] = { 1, 7, 33, 4099, 200003 };
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
        for (size_t j = 0; j < sizeof offsets / sizeof offsets[0]; j++)
            for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
                const int64_t len = lengths[k];
                BOTH(dropout, (ref_priv, y_ref, x, len, rates[i], 77, LF__STREAM_DROPOUT, offsets[j]),
                              (cpu_priv, y_cpu, x, len, rates[i], 77, LF__STREAM_DROPOUT, offsets[j]));
                assert_same_bits("dropout", y_cpu, y_ref, (size_t)len);
            }
    memcpy(y_cpu, x, (size_t)n * sizeof *y_cpu);
    ck_assert_lf_ok(cpu_be->dropout(cpu_priv, y_cpu, y_cpu, n, 0.3f, 9, LF__STREAM_DROPOUT, 11));
    ck_assert_lf_ok(ref_be->dropout(ref_priv, y_ref, x, n, 0.3f, 9, LF__STREAM_DROPOUT, 11));
    assert_same_bits("dropout in place", y_cpu, y_ref, (size_t)n);
    /* the reference's rejections */
    ck_assert_lf_status(cpu_be->dropout(cpu_priv, y_cpu, x, n, 1.5f, 9, 5, 0), LF_E_INVALID_ARG);
    ck_assert_lf_status(cpu_be->dropout(cpu_priv, y_cpu, x, 8, 0.5f, 9, 5, UINT64_MAX - 3),
                        LF_E_INVALID_ARG);
    free(x), free(y_ref), free(y_cpu);
}
END_TEST

/* One gemm_batched on both backends over count × group products. side: a group's C matrices
 * side by side in the same rows (as attention's heads), 2 columns apart; otherwise separate
 * blocks. Operands lie 5 floats past the previous one's extent; the gaps of C are poisoned and
 * must survive. */
static void gemm_batched_compare(lf__rng *r, int ta, int tb, int64_t m, int64_t n, int64_t k,
                                 int64_t count, int64_t group, int side, float alpha, float beta)
{
    const int64_t lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 1;
    const int64_t ldc = side ? group * (n + 2) + 1 : n + 3;
    const int64_t ga = (ta ? k : m) * lda + 5, gb = (tb ? n : k) * ldb + 5;
    const int64_t gc = side ? n + 2 : m * ldc + 5;
    const int64_t sa = group * ga, sb = group * gb, sc = side ? m * ldc + 5 : group * gc;
    const lf__gemm_batch batch = { .count = count, .group = group, .stride_a = sa, .stride_b = sb,
                                   .stride_c = sc, .group_stride_a = ga, .group_stride_b = gb,
                                   .group_stride_c = gc };
    const size_t na = (size_t)(count * sa), nb = (size_t)(count * sb), nc = (size_t)(count * sc);
    float *a = random_vec(r, na, -1, 1), *b = random_vec(r, nb, -1, 1);
    float *c_ref = beta == 0.0f ? nan_vec(nc) : random_vec(r, nc, -1, 1);
    char *in_c = calloc(nc, 1);
    ck_assert_ptr_nonnull(in_c);
    for (int64_t i = 0; i < count; i++)
        for (int64_t j = 0; j < group; j++)
            for (int64_t row = 0; row < m; row++)
                memset(in_c + i * sc + j * gc + row * ldc, 1, (size_t)n);
    for (size_t e = 0; e < nc; e++)
        if (!in_c[e])
            c_ref[e] = -77.0f;
    float *c_cpu = copy_vec(c_ref, nc);
    BOTH(gemm_batched, (ref_priv, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c_ref, ldc, &batch),
                       (cpu_priv, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c_cpu, ldc, &batch));
    double max_ref = 0, max_err = 0;
    for (size_t e = 0; e < nc; e++) {
        if (!in_c[e]) {
            ck_assert_msg(c_cpu[e] == -77.0f && c_ref[e] == -77.0f, "gemm_batched %d%d: gap [%zu] "
                          "written", ta, tb, e);
            continue;
        }
        ck_assert_msg(isfinite(c_cpu[e]) && isfinite(c_ref[e]), "gemm_batched %d%d %lldx%lldx%lld: "
                      "C[%zu] not finite", ta, tb, (long long)m, (long long)n, (long long)k, e);
        max_ref = fmax(max_ref, fabs(c_ref[e]));
        max_err = fmax(max_err, fabs((double)c_cpu[e] - c_ref[e]));
    }
    ck_assert_msg(max_err <= RTOL * max_ref, "gemm_batched %d%d %lldx%lldx%lld x %lld x %lld beta %g: "
                  "error %g of %g", ta, tb, (long long)m, (long long)n, (long long)k,
                  (long long)count, (long long)group, beta, max_err, max_ref);
    free(a), free(b), free(c_ref), free(c_cpu), free(in_c);
}

/* Attention's shapes (T = 10 tokens, 16 per head, 4 heads) and others: tails of the register
 * tile, several k and n blocks of the cpu kernel, grids on one thread and on several. */
START_TEST(gemm_batched_all_transposes)
{
    lf__rng r;
    lf__rng_init(&r, 970 + (uint64_t)_i, 0);
    int ta = _i & 1, tb = (_i >> 1) & 1;
    static const int64_t shapes[][6] = {   /* m, n, k, count, group, side by side */
        { 10, 10, 16, 75, 4, 0 }, { 10, 16, 10, 75, 4, 1 }, { 1, 1, 1, 3, 1, 0 },
        { 5, 7, 3, 1, 1, 0 }, { 13, 70, 131, 2, 2, 0 }, { 33, 17, 65, 3, 3, 1 }
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int pass = 0; pass < 2; pass++)
            gemm_batched_compare(&r, ta, tb, shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3],
                                 shapes[i][4], (int)shapes[i][5], pass ? -1.5f : 0.25f,
                                 pass ? 0.5f : 0.0f);
}
END_TEST

START_TEST(gemm_batched_edges_like_the_reference)
{
    float a[64], b[64], c_ref[64], c_cpu[64];
    for (int i = 0; i < 64; i++)
        a[i] = b[i] = (float)i, c_ref[i] = c_cpu[i] = 1.0f + (float)i;
    /* k == 0: C = beta·C; empty grids and matrices: nothing */
    lf__gemm_batch g = { .count = 2, .group = 2, .stride_c = 12, .group_stride_c = 6 };
    BOTH(gemm_batched, (ref_priv, 0, 0, 2, 3, 0, 1.0f, a, 1, b, 3, 0.5f, c_ref, 3, &g),
                       (cpu_priv, 0, 0, 2, 3, 0, 1.0f, a, 1, b, 3, 0.5f, c_cpu, 3, &g));
    assert_same_bits("gemm_batched k = 0", c_cpu, c_ref, 64);
    g = (lf__gemm_batch){ .count = 0, .group = 3 };
    ck_assert_lf_ok(cpu_be->gemm_batched(cpu_priv, 0, 0, 2, 2, 2, 1.0f, NULL, 2, NULL, 2, 0.0f, NULL,
                                         2, &g));
    g = (lf__gemm_batch){ .count = 3, .group = 1, .stride_a = 4, .stride_b = 4, .stride_c = 4 };
    ck_assert_lf_ok(cpu_be->gemm_batched(cpu_priv, 0, 0, 0, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c_cpu, 2,
                                         &g));
    /* operands shared by every product (stride 0) are fine */
    g = (lf__gemm_batch){ .count = 5, .group = 1, .stride_c = 6 };
    BOTH(gemm_batched, (ref_priv, 1, 1, 3, 2, 4, 1.0f, a, 3, b, 4, 0.0f, c_ref, 2, &g),
                       (cpu_priv, 1, 1, 3, 2, 4, 1.0f, a, 3, b, 4, 0.0f, c_cpu, 2, &g));
    assert_same_bits("gemm_batched shared A and B", c_cpu, c_ref, 30);
    /* rejected by both: no grid, negative counts or strides, overlapping C (across groups, within
     * a group, side by side past the row), bad shapes, NULL operands, offsets past int64 */
    static const lf__gemm_batch bad[] = {
        { .count = -1, .group = 1, .stride_a = 4, .stride_b = 4, .stride_c = 4 },
        { .count = 2, .group = -1, .stride_a = 4, .stride_b = 4, .stride_c = 4 },
        { .count = 2, .group = 1, .stride_a = -4, .stride_b = 4, .stride_c = 4 },
        { .count = 2, .group = 1, .stride_a = 4, .stride_b = 4, .stride_c = 4, .group_stride_c = -1 },
        { .count = 2, .group = 1, .stride_a = 4, .stride_b = 4, .stride_c = 3 },
        { .count = 1, .group = 2, .group_stride_a = 4, .group_stride_b = 4, .group_stride_c = 1 },
        { .count = 2, .group = 2, .stride_c = 3, .group_stride_c = 2 },
        { .count = 3, .group = 1, .stride_a = INT64_MAX / 2, .stride_b = 4, .stride_c = 4 },
    };
    for (int which = 0; which < 2; which++) {
        const lf__backend_iface *be = which ? cpu_be : ref_be;
        void *priv = which ? cpu_priv : ref_priv;
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
            ck_assert_msg(be->gemm_batched(priv, 0, 0, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c_cpu, 2,
                                           &bad[i]) == LF_E_INVALID_ARG,
                          "%s: bad grid %zu accepted", be->name, i);
        g = (lf__gemm_batch){ .count = 2, .group = 1, .stride_a = 6, .stride_b = 6, .stride_c = 4 };
        ck_assert_lf_status(be->gemm_batched(priv, 0, 0, 2, 2, 3, 1.0f, a, 2, b, 2, 0.0f, c_cpu, 2, &g),
                            LF_E_SHAPE);
        ck_assert_lf_status(be->gemm_batched(priv, 0, 0, 2, 2, 2, 1.0f, NULL, 2, b, 2, 0.0f, c_cpu, 2, &g),
                            LF_E_INVALID_ARG);
        ck_assert_lf_status(be->gemm_batched(priv, 0, 0, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c_cpu, 2, NULL),
                            LF_E_INVALID_ARG);
    }
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
    tcase_add_test(tc, elementwise_large_bitwise);
    tcase_add_test(tc, sgd_large_bitwise);
    tcase_add_test(tc, elementwise_rejects_like_the_reference);
    tcase_add_test(tc, losses);
    tcase_add_test(tc, sgd);
    tcase_add_test(tc, reductions);
    tcase_add_test(tc, random_fills);
    tcase_add_test(tc, table_and_memory);
    tcase_add_loop_test(tc, conv2d_all_passes, 0, (int)(sizeof conv_cases / sizeof conv_cases[0]));
    tcase_add_test(tc, conv2d_bwd_weights_accumulates);
    tcase_add_test(tc, conv2d_rejects_like_the_reference);
    tcase_add_loop_test(tc, batchnorm_all_passes, 0, (int)(sizeof bn_cases / sizeof bn_cases[0]));
    tcase_add_test(tc, batchnorm_rejects_like_the_reference);
    tcase_add_loop_test(tc, batchnorm_relu_all_passes, 0, (int)(sizeof bn_cases / sizeof bn_cases[0]));
    tcase_add_test(tc, batchnorm_relu_rejects_like_the_reference);
    tcase_add_loop_test(tc, maxpool2d_all_passes, 0, (int)(sizeof pool_cases / sizeof pool_cases[0]));
    tcase_add_test(tc, maxpool2d_rejects_like_the_reference);
    tcase_add_test(tc, attacker_ops);
    tcase_add_test(tc, attacker_ops_threaded);
    tcase_add_test(tc, dropout_bitwise);
    tcase_add_loop_test(tc, gemm_batched_all_transposes, 0, 4);   /* loop index = transposes */
    tcase_add_test(tc, gemm_batched_edges_like_the_reference);
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
