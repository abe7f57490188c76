/* Reference kernels against small hand-computed cases, called through the reference backend's
 * table (so the table's wiring is tested too). White-box: links libforget_core. */
#include "lf_test.h"
#include "core/internal.h"
#include "core/rng.h"

static const lf__backend_iface *ref(void)
{
    const lf__backend_iface *r = lf__backend_reference_iface();
    ck_assert_ptr_nonnull(r);
    return r;
}

#define ck_assert_near(got, want, tol)                                                       \
    do {                                                                                     \
        double g__ = (got), w__ = (want);                                                    \
        ck_assert_msg(fabs(g__ - w__) <= (tol), "%s = %.9g, wanted %.9g", #got, g__, w__);   \
    } while (0)

/* ---- gemm ---- */

/* A = [[1,2,3],[4,5,6]] (2×3), B = [[7,8],[9,10],[11,12]] (3×2): A·B = [[58,64],[139,154]].
 * Each operand is stored as given or transposed, with row strides wider than a row; the gaps
 * hold NaN, so reading them would show in the result. C's gap holds a sentinel that must
 * survive. */
static void gemm_case(int trans_a, int trans_b)
{
    const float A[2][3] = { { 1, 2, 3 }, { 4, 5, 6 } };
    const float B[3][2] = { { 7, 8 }, { 9, 10 }, { 11, 12 } };
    const float AB[2][2] = { { 58, 64 }, { 139, 154 } };
    enum { LDA = 5, LDB = 4, LDC = 3 };
    float a[3 * LDA], b[3 * LDB], c[2 * LDC];
    for (int i = 0; i < 3 * LDA; i++)
        a[i] = NAN;
    for (int i = 0; i < 3 * LDB; i++)
        b[i] = NAN;
    for (int i = 0; i < 2; i++)
        for (int p = 0; p < 3; p++) {
            if (trans_a)
                a[p * LDA + i] = A[i][p];   /* stored 3×2 */
            else
                a[i * LDA + p] = A[i][p];   /* stored 2×3 */
        }
    for (int p = 0; p < 3; p++)
        for (int j = 0; j < 2; j++) {
            if (trans_b)
                b[j * LDB + p] = B[p][j];   /* stored 2×3 */
            else
                b[p * LDB + j] = B[p][j];   /* stored 3×2 */
        }

    /* beta = 0: C starts as NaN and must not be read */
    for (int i = 0; i < 2 * LDC; i++)
        c[i] = NAN;
    c[0 * LDC + 2] = -77.0f;
    c[1 * LDC + 2] = -77.0f;
    ck_assert_lf_ok(ref()->gemm(NULL, trans_a, trans_b, 2, 2, 3, 1.0f, a, LDA, b, LDB, 0.0f, c, LDC));
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            ck_assert_msg(c[i * LDC + j] == AB[i][j], "trans %d%d: C[%d][%d] = %g, wanted %g",
                          trans_a, trans_b, i, j, c[i * LDC + j], AB[i][j]);
    ck_assert(c[0 * LDC + 2] == -77.0f && c[1 * LDC + 2] == -77.0f);

    /* alpha = 2, beta = 0.5 over C = [[2,4],[6,8]]: 2·AB + [[1,2],[3,4]] */
    const float c0[2][2] = { { 2, 4 }, { 6, 8 } };
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            c[i * LDC + j] = c0[i][j];
    ck_assert_lf_ok(ref()->gemm(NULL, trans_a, trans_b, 2, 2, 3, 2.0f, a, LDA, b, LDB, 0.5f, c, LDC));
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            ck_assert_msg(c[i * LDC + j] == 2 * AB[i][j] + 0.5f * c0[i][j],
                          "trans %d%d, beta 0.5: C[%d][%d] = %g", trans_a, trans_b, i, j,
                          c[i * LDC + j]);
    ck_assert(c[0 * LDC + 2] == -77.0f && c[1 * LDC + 2] == -77.0f);
}

START_TEST(gemm_all_transposes_with_strides)
{
    gemm_case(0, 0);
    gemm_case(1, 0);
    gemm_case(0, 1);
    gemm_case(1, 1);
}
END_TEST

START_TEST(gemm_empty_k_and_wide_rows)
{
    /* k = 0: C = beta·C, or zeros when beta = 0 (over NaN) */
    float c[4] = { NAN, NAN, NAN, NAN };
    ck_assert_lf_ok(ref()->gemm(NULL, 0, 0, 2, 2, 0, 1.0f, NULL, 1, NULL, 2, 0.0f, c, 2));
    for (int i = 0; i < 4; i++)
        ck_assert(c[i] == 0.0f);
    float d[4] = { 1, 2, 3, 4 };
    ck_assert_lf_ok(ref()->gemm(NULL, 0, 0, 2, 2, 0, 1.0f, NULL, 1, NULL, 2, 3.0f, d, 2));
    ck_assert(d[0] == 3 && d[1] == 6 && d[2] == 9 && d[3] == 12);

    /* a row wider than the kernel's accumulator block: x·1 over 600 columns */
    enum { N = 600 };
    static float row[N], out[N];
    for (int j = 0; j < N; j++)
        row[j] = (float)j;
    float two = 2.0f;
    ck_assert_lf_ok(ref()->gemm(NULL, 0, 0, 1, N, 1, 1.0f, &two, 1, row, N, 0.0f, out, N));
    for (int j = 0; j < N; j++)
        ck_assert(out[j] == 2.0f * j);
}
END_TEST

START_TEST(gemm_rejects_bad_shapes)
{
    float a[6] = { 0 }, b[6] = { 0 }, c[4] = { 0 };
    ck_assert_lf_status(ref()->gemm(NULL, 0, 0, 2, 2, 3, 1.0f, a, 2, b, 2, 0.0f, c, 2), LF_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "lda"));
    ck_assert_lf_status(ref()->gemm(NULL, 0, 1, 2, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2), LF_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "ldb"));
    ck_assert_lf_status(ref()->gemm(NULL, 0, 0, 2, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 1), LF_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "ldc"));
    ck_assert_lf_status(ref()->gemm(NULL, 0, 0, -1, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2), LF_E_INVALID_ARG);
    ck_assert_lf_status(ref()->gemm(NULL, 0, 0, 2, 2, 3, 1.0f, NULL, 3, b, 2, 0.0f, c, 2), LF_E_INVALID_ARG);
}
END_TEST

/* ---- bias, axpby ---- */

START_TEST(bias_add_and_bias_bwd)
{
    float y[6] = { 1, 2, 3, 4, 5, 6 };               /* 3 rows × 2 columns */
    const float bias[2] = { 10, -1 };
    ck_assert_lf_ok(ref()->bias_add_fwd(NULL, y, bias, 3, 2));
    const float want[6] = { 11, 1, 13, 3, 15, 5 };
    for (int i = 0; i < 6; i++)
        ck_assert(y[i] == want[i]);

    /* accumulates: dbias starts at [1, -1]; column sums are 9 and 12 */
    const float dy[6] = { 1, 2, 3, 4, 5, 6 };
    float dbias[2] = { 1, -1 };
    ck_assert_lf_ok(ref()->bias_bwd(NULL, dbias, dy, 3, 2));
    ck_assert(dbias[0] == 10.0f && dbias[1] == 11.0f);

    /* the sum is formed in double: 1e8 + 1000 × 1 would stall in float (1e8 + 1 == 1e8) */
    enum { R = 1001 };
    static float col[R];
    col[0] = 1e8f;
    for (int i = 1; i < R; i++)
        col[i] = 1.0f;
    float db = 0.0f;
    ck_assert_lf_ok(ref()->bias_bwd(NULL, &db, col, R, 1));
    ck_assert(db == 1e8f + 1000.0f);

    /* more columns than the accumulator block */
    enum { C = 300 };
    static float wide[2 * C], dwide[C];
    for (int j = 0; j < 2 * C; j++)
        wide[j] = (float)(j % C);
    ck_assert_lf_ok(ref()->bias_bwd(NULL, dwide, wide, 2, C));
    for (int j = 0; j < C; j++)
        ck_assert(dwide[j] == 2.0f * j);
}
END_TEST

START_TEST(axpby_values)
{
    const float x[3] = { 1, 2, 3 };
    float y[3] = { 10, 20, 30 };
    ck_assert_lf_ok(ref()->axpby(NULL, y, 2.0f, x, 0.5f, 3));
    ck_assert(y[0] == 7 && y[1] == 14 && y[2] == 21);
    /* b = 0 overwrites without reading y */
    float z[3] = { NAN, NAN, NAN };
    ck_assert_lf_ok(ref()->axpby(NULL, z, -1.0f, x, 0.0f, 3));
    ck_assert(z[0] == -1 && z[1] == -2 && z[2] == -3);
}
END_TEST

/* ---- element-wise ---- */

START_TEST(relu_forward_backward)
{
    float x[5] = { -2, -0.0f, 0.5f, 3, NAN };
    float y[5];
    ck_assert_lf_ok(ref()->relu_fwd(NULL, y, x, 5));
    ck_assert(y[0] == 0 && y[1] == 0 && !signbit(y[1]) && y[2] == 0.5f && y[3] == 3);
    ck_assert(isnan(y[4]));   /* divergence stays visible */
    const float dy[5] = { 1, 2, 3, 4, 5 };
    float dx[5];
    ck_assert_lf_ok(ref()->relu_bwd(NULL, dx, dy, y, 5));
    ck_assert(dx[0] == 0 && dx[1] == 0 && dx[2] == 3 && dx[3] == 4 && dx[4] == 0);
    /* in place: y may be x, dx may be dy */
    ck_assert_lf_ok(ref()->relu_fwd(NULL, x, x, 4));
    ck_assert(x[0] == 0 && x[2] == 0.5f && x[3] == 3);
    float g[5] = { 1, 2, 3, 4, 5 };
    ck_assert_lf_ok(ref()->relu_bwd(NULL, g, g, y, 5));
    ck_assert(g[0] == 0 && g[2] == 3 && g[3] == 4);
}
END_TEST

START_TEST(normalize_per_channel)
{
    /* n = 2, channels = 2, spatial = 2 */
    const float x[8] = { 1, 3, 10, 20, 5, 7, 30, 40 };
    const float mean[2] = { 1, 10 };
    const float inv_std[2] = { 0.5f, 0.1f };
    float y[8];
    ck_assert_lf_ok(ref()->normalize_fwd(NULL, y, x, mean, inv_std, 2, 2, 2));
    const float want[8] = { 0, 1, 0, 1, 2, 3, 2, 3 };
    for (int i = 0; i < 8; i++)
        ck_assert_near(y[i], want[i], 1e-6);
    ck_assert_lf_ok(ref()->normalize_fwd(NULL, y, y, mean, inv_std, 1, 2, 2));   /* in place */
    ck_assert_near(y[1], (1.0 - 1.0) * 0.5, 1e-6);
    ck_assert_near(y[3], (1.0 - 10.0) * 0.1, 1e-6);
}
END_TEST

/* ---- softmax and cross-entropy ---- */

/* softmax([1,2,3]) = e^(x−3) / (e^−2 + e^−1 + 1) */
static const double P123[3] = { 0.09003057317038046, 0.24472847105479764, 0.6652409557748219 };

START_TEST(softmax_of_1_2_3)
{
    const float logits[6] = { 1, 2, 3, 1001, 1002, 1003 };   /* the shift must not matter */
    float p[6];
    ck_assert_lf_ok(ref()->softmax_fwd(NULL, p, logits, 2, 3));
    for (int i = 0; i < 2; i++)
        for (int c = 0; c < 3; c++)
            ck_assert_near(p[i * 3 + c], P123[c], 1e-7);
}
END_TEST

START_TEST(cross_entropy_values)
{
    const float logits[9] = { 1, 2, 3, 1, 2, 3, 1000, 0, -1000 };
    const int32_t labels[3] = { 0, 2, 1 };
    float loss[3], p[9];
    ck_assert_lf_ok(ref()->softmax_xent_fwd(NULL, loss, p, logits, labels, 3, 3));
    /* −log p: logsumexp([1,2,3]) = 3.40760596444438 */
    ck_assert_near(loss[0], 3.40760596444438 - 1.0, 1e-6);
    ck_assert_near(loss[1], 3.40760596444438 - 3.0, 1e-6);
    /* p underflows to 0 in float but the loss is exact: 1000 − 0 */
    ck_assert_near(loss[2], 1000.0, 1e-3);
    ck_assert(p[6] == 1.0f && p[7] == 0.0f && p[8] == 0.0f);
    for (int c = 0; c < 3; c++)
        ck_assert_near(p[c], P123[c], 1e-7);
    /* probs may be NULL */
    float loss2[3];
    ck_assert_lf_ok(ref()->softmax_xent_fwd(NULL, loss2, NULL, logits, labels, 3, 3));
    ck_assert(memcmp(loss, loss2, sizeof loss) == 0);
}
END_TEST

START_TEST(cross_entropy_backward_weights)
{
    const float probs[6] = { 0.1f, 0.2f, 0.7f, 0.5f, 0.25f, 0.25f };
    const int32_t labels[2] = { 2, 0 };
    const float w[2] = { 0.5f, -2.0f };   /* a mean weight and a gradient-ascent weight */
    float d[6];
    for (int i = 0; i < 6; i++)
        d[i] = NAN;   /* overwritten */
    ck_assert_lf_ok(ref()->softmax_xent_bwd(NULL, d, probs, labels, w, 2, 3));
    const double want[6] = { 0.05, 0.1, -0.15, 1.0, -0.5, -0.5 };
    for (int i = 0; i < 6; i++)
        ck_assert_near(d[i], want[i], 1e-7);
}
END_TEST

START_TEST(labels_out_of_range_rejected)
{
    const float logits[6] = { 1, 2, 3, 4, 5, 6 };
    float loss[2] = { -1, -1 }, p[6], d[6];
    const float w[2] = { 1, 1 };
    int64_t count = -1;
    const int32_t too_big[2] = { 0, 3 };
    const int32_t negative[2] = { -1, 0 };

    ck_assert_lf_status(ref()->softmax_xent_fwd(NULL, loss, p, logits, too_big, 2, 3), LF_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "row 1"));
    ck_assert(loss[0] == -1 && loss[1] == -1);   /* nothing written */
    ck_assert_lf_status(ref()->softmax_xent_fwd(NULL, loss, p, logits, negative, 2, 3), LF_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "row 0"));
    ck_assert_lf_status(ref()->softmax_xent_bwd(NULL, d, p, too_big, w, 2, 3), LF_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "row 1"));
    ck_assert_lf_status(ref()->count_correct(NULL, &count, logits, negative, 2, 3), LF_E_INVALID_ARG);
    ck_assert_int_eq(count, -1);
    /* no classes at all */
    ck_assert_lf_status(ref()->softmax_fwd(NULL, p, logits, 2, 0), LF_E_INVALID_ARG);
}
END_TEST

/* ---- optimizer ---- */

START_TEST(sgd_two_steps_momentum_weight_decay)
{
    /* lr 0.1, momentum 0.9, wd 0.01, w = 1, grads 0.5 then −0.25:
     *  step 1: g = 0.5 + 0.01·1 = 0.51;        buf = 0.51;                  w = 1 − 0.051 = 0.949
     *  step 2: g = −0.25 + 0.01·0.949 = −0.24051; buf = 0.9·0.51 − 0.24051 = 0.21849; w = 0.927151 */
    float w[1] = { 1.0f }, buf[1] = { NAN };
    const float g1[1] = { 0.5f }, g2[1] = { -0.25f };
    ck_assert_lf_ok(ref()->sgd_step(NULL, w, buf, g1, 1, 0.1f, 0.9f, 0.01f, 1));
    ck_assert_near(buf[0], 0.51, 1e-7);
    ck_assert_near(w[0], 0.949, 1e-7);
    ck_assert_lf_ok(ref()->sgd_step(NULL, w, buf, g2, 1, 0.1f, 0.9f, 0.01f, 0));
    ck_assert_near(buf[0], 0.21849, 1e-7);
    ck_assert_near(w[0], 0.927151, 1e-7);

    /* momentum 0: plain step, buf unused (NULL); wd 0 leaves an infinite weight's gradient alone */
    float v[2] = { 1.0f, INFINITY };
    const float g[2] = { 0.5f, 0.0f };
    ck_assert_lf_ok(ref()->sgd_step(NULL, v, NULL, g, 2, 0.1f, 0.0f, 0.0f, 1));
    ck_assert_near(v[0], 0.95, 1e-7);
    ck_assert(v[1] == INFINITY);
    ck_assert_lf_status(ref()->sgd_step(NULL, v, NULL, g, 2, 0.1f, 0.9f, 0.0f, 1), LF_E_INVALID_ARG);
}
END_TEST

/* ---- reductions ---- */

START_TEST(reductions)
{
    const float x[3] = { 1, 2, 3 };
    double ss = -1;
    ck_assert_lf_ok(ref()->sum_squares(NULL, &ss, x, 3));
    ck_assert(ss == 14.0);
    /* in double: 1e4² + 0.01² = 1e8 + 1e-4, where float would drop the 1e-4 */
    const float big[2] = { 1e4f, 1e-2f };
    ck_assert_lf_ok(ref()->sum_squares(NULL, &ss, big, 2));
    ck_assert_near(ss, 1e8 + 1e-4, 1e-6);

    const float bad[6] = { 1, INFINITY, NAN, -INFINITY, 0, -3 };
    int64_t nf = -1;
    ck_assert_lf_ok(ref()->count_nonfinite(NULL, &nf, bad, 6));
    ck_assert_int_eq(nf, 3);
    ck_assert_lf_ok(ref()->count_nonfinite(NULL, &nf, bad, 0));
    ck_assert_int_eq(nf, 0);
}
END_TEST

START_TEST(count_correct_first_maximum_wins)
{
    /* rows: tie at 1 and 2 (argmax 1); clear max at 0; NaN counts as the max (torch.argmax) */
    const float logits[12] = { 1, 3, 3, 0,   5, 1, 2, 3,   0, NAN, 9, 1 };
    int64_t correct = -1;
    const int32_t first[3] = { 1, 0, 1 };
    ck_assert_lf_ok(ref()->count_correct(NULL, &correct, logits, first, 3, 4));
    ck_assert_int_eq(correct, 3);
    const int32_t second[3] = { 2, 3, 2 };
    ck_assert_lf_ok(ref()->count_correct(NULL, &correct, logits, second, 3, 4));
    ck_assert_int_eq(correct, 0);
}
END_TEST

/* ---- random fills ---- */

START_TEST(rng_fills_follow_the_stream)
{
    enum { N = 37 };
    float u[N], z[N];
    const uint64_t seed = 77, offset = 1001;
    ck_assert_lf_ok(ref()->rng_uniform(NULL, u, N, seed, LF__STREAM_INIT, offset, -2.0f, 6.0f));
    ck_assert_lf_ok(ref()->rng_normal(NULL, z, N, seed, LF__STREAM_INIT, offset, 1.0f, 0.5f));
    for (int j = 0; j < N; j++) {
        float uj = lf__rng_uniform_at(seed, LF__STREAM_INIT, offset + (uint64_t)j);
        float zj = lf__rng_normal_at(seed, LF__STREAM_INIT, offset + (uint64_t)j);
        ck_assert(u[j] == -2.0f + 8.0f * uj);
        ck_assert(z[j] == 1.0f + 0.5f * zj);
        ck_assert(u[j] >= -2.0f && u[j] < 6.0f);
    }
    /* a fill split in two pieces equals one fill: elements depend only on their index */
    float a[N];
    ck_assert_lf_ok(ref()->rng_normal(NULL, a, 10, seed, LF__STREAM_INIT, offset, 1.0f, 0.5f));
    ck_assert_lf_ok(ref()->rng_normal(NULL, a + 10, N - 10, seed, LF__STREAM_INIT, offset + 10, 1.0f, 0.5f));
    ck_assert(memcmp(a, z, sizeof a) == 0);
}
END_TEST

START_TEST(negative_sizes_rejected)
{
    float x[1] = { 0 };
    double d;
    ck_assert_lf_status(ref()->relu_fwd(NULL, x, x, -1), LF_E_INVALID_ARG);
    ck_assert_lf_status(ref()->sum_squares(NULL, &d, x, -5), LF_E_INVALID_ARG);
    ck_assert_lf_status(ref()->bias_add_fwd(NULL, x, x, 1, -1), LF_E_INVALID_ARG);
    ck_assert_lf_status(ref()->rng_uniform(NULL, x, -1, 1, 1, 0, 0, 1), LF_E_INVALID_ARG);
    ck_assert_lf_status(ref()->axpby(NULL, NULL, 1, x, 1, 1), LF_E_INVALID_ARG);
    /* empty inputs are fine and touch nothing */
    ck_assert_lf_ok(ref()->relu_fwd(NULL, NULL, NULL, 0));
    ck_assert_lf_ok(ref()->softmax_xent_fwd(NULL, NULL, NULL, NULL, NULL, 0, 10));
}
END_TEST

START_TEST(table_is_complete)
{
    const lf__backend_iface *r = ref();
    ck_assert_uint_eq(r->iface_version, LF__BACKEND_IFACE_VERSION);
    ck_assert_str_eq(r->name, "reference");
    ck_assert_ptr_eq(lf__backend_find(LF_BACKEND_REFERENCE), r);
    /* every entry from probe to the last one of version 2 is set */
    const char *first = (const char *)&r->probe;
    const char *end = (const char *)&r->apply_mask + sizeof r->apply_mask;
    for (const char *p = first; p < end; p += sizeof(void (*)(void))) {
        void (*fn)(void);
        memcpy(&fn, p, sizeof fn);
        ck_assert_msg(fn != NULL, "entry at offset %td is NULL", p - (const char *)r);
    }
    void *priv = (void *)1;
    lf__backend_config cfg = { .threads = 1 };
    ck_assert_int_eq(r->probe(), 1);
    ck_assert_lf_ok(r->create(&priv, &cfg));
    void *mem = NULL;
    ck_assert_lf_ok(r->mem_alloc(priv, &mem, 100));
    ck_assert_uint_eq((uintptr_t)mem % 64, 0);
    ck_assert_lf_ok(r->mem_zero(priv, mem, 100));
    const char msg[] = "hello";
    char back[sizeof msg];
    ck_assert_lf_ok(r->mem_upload(priv, mem, msg, sizeof msg));
    ck_assert_lf_ok(r->mem_copy(priv, (char *)mem + 50, mem, sizeof msg));
    ck_assert_lf_ok(r->mem_download(priv, back, (char *)mem + 50, sizeof msg));
    ck_assert_str_eq(back, "hello");
    ck_assert_lf_ok(r->synchronize(priv));
    r->mem_free(priv, mem);
    r->destroy(priv);
    void *huge = (void *)1;
    ck_assert_lf_status(r->mem_alloc(NULL, &huge, SIZE_MAX - 10), LF_E_NOMEM);
    ck_assert_ptr_null(huge);
}
END_TEST

static Suite *kernels_suite(void)
{
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("reference");
    tcase_add_test(tc, gemm_all_transposes_with_strides);
    tcase_add_test(tc, gemm_empty_k_and_wide_rows);
    tcase_add_test(tc, gemm_rejects_bad_shapes);
    tcase_add_test(tc, bias_add_and_bias_bwd);
    tcase_add_test(tc, axpby_values);
    tcase_add_test(tc, relu_forward_backward);
    tcase_add_test(tc, normalize_per_channel);
    tcase_add_test(tc, softmax_of_1_2_3);
    tcase_add_test(tc, cross_entropy_values);
    tcase_add_test(tc, cross_entropy_backward_weights);
    tcase_add_test(tc, labels_out_of_range_rejected);
    tcase_add_test(tc, sgd_two_steps_momentum_weight_decay);
    tcase_add_test(tc, reductions);
    tcase_add_test(tc, count_correct_first_maximum_wins);
    tcase_add_test(tc, rng_fills_follow_the_stream);
    tcase_add_test(tc, negative_sizes_rejected);
    tcase_add_test(tc, table_is_complete);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(kernels_suite)
