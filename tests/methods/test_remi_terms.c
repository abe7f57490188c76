/* ReMI's loss terms against independent truth: central finite differences (in double) for
 * every gradient, hand-computed values for the Gaussian KL, the bound and the AUC, and the
 * single-sample fallback of the KL term. */
#include <math.h>

#include "lf_test.h"
#include "methods/privacy_mlp.h"
#include "methods/remi_terms.h"

#define FD_STEP 1e-3
#define FD_TOL  1e-5

enum { C = 5 };

/* A logits row with well-separated entries (no ties for the margin's top two). */
static void make_row(float *row, unsigned long long *s)
{
    for (int j = 0; j < C; j++)
        row[j] = (float)(4.0 * lf_test_u01(s) - 2.0 + 0.5 * j);
}

START_TEST(stats_gradients_match_finite_differences)
{
    unsigned long long s = 11;
    for (int trial = 0; trial < 20; trial++) {
        float row[C];
        make_row(row, &s);
        int32_t y = trial % C;
        double z[3], grad[3 * C];
        lf__remi_stats(row, y, C, z, grad);
        for (int j = 0; j < C; j++) {
            /* float logits: a step the float grid resolves, compared with a loose tolerance */
            float up[C], dn[C];
            for (int k = 0; k < C; k++)
                up[k] = dn[k] = row[k];
            up[j] += (float)FD_STEP;
            dn[j] -= (float)FD_STEP;
            double zu[3], zd[3];
            lf__remi_stats(up, y, C, zu, NULL);
            lf__remi_stats(dn, y, C, zd, NULL);
            double h = (double)up[j] - (double)dn[j];
            for (int k = 0; k < 3; k++) {
                double fd = (zu[k] - zd[k]) / h;
                ck_assert_msg(fabs(fd - grad[k * C + j]) < 2e-3,
                              "trial %d stat %d logit %d: analytic %g, finite difference %g", trial,
                              k, j, grad[k * C + j], fd);
            }
        }
    }
}
END_TEST

START_TEST(stats_hand_values)
{
    /* logits (2, 0, 0), y = 0: φ = 2 − log 2; p = (e², 1, 1)/(e² + 2) */
    float row[3] = { 2.0f, 0.0f, 0.0f };
    double z[3];
    lf__remi_stats(row, 0, 3, z, NULL);
    ck_assert_double_eq_tol(z[0], 2.0 - log(2.0), 1e-12);
    double e2 = exp(2.0), t = e2 + 2.0, p0 = e2 / t, p1 = 1.0 / t;
    ck_assert_double_eq_tol(z[1], -(p0 * log(p0) + 2.0 * p1 * log(p1)), 1e-12);
    ck_assert_double_eq_tol(z[2], 2.0, 1e-12);
    /* y = 1: φ = 0 − logsumexp(2, 0) */
    lf__remi_stats(row, 1, 3, z, NULL);
    ck_assert_double_eq_tol(z[0], -log(e2 + 1.0), 1e-12);
    /* a huge logit stays finite (stable form) */
    float big[3] = { 1000.0f, -1000.0f, 0.0f };
    lf__remi_stats(big, 1, 3, z, NULL);
    ck_assert(isfinite(z[0]) && isfinite(z[1]));
    ck_assert_double_eq_tol(z[0], -2000.0, 1e-9);
}
END_TEST

START_TEST(gauss_kl_hand_values)
{
    ck_assert_double_eq_tol(lf__remi_gauss_kl(LF__KL_FORWARD, 0, 1, 0, 1, NULL, NULL), 0.0, 1e-15);
    ck_assert_double_eq_tol(lf__remi_gauss_kl(LF__KL_FORWARD, 1, 1, 0, 1, NULL, NULL), 0.5, 1e-15);
    /* KL(N(0,4) ‖ N(0,1)) = ½ log ¼ + 4/2 − ½ */
    ck_assert_double_eq_tol(lf__remi_gauss_kl(LF__KL_FORWARD, 0, 4, 0, 1, NULL, NULL),
                            0.5 * log(0.25) + 1.5, 1e-15);
    /* reverse: KL(N(0,1) ‖ N(0,4)) = ½ log 4 + 1/8 − ½ */
    ck_assert_double_eq_tol(lf__remi_gauss_kl(LF__KL_REVERSE, 0, 4, 0, 1, NULL, NULL),
                            0.5 * log(4.0) + 0.125 - 0.5, 1e-15);
    double f = lf__remi_gauss_kl(LF__KL_FORWARD, 0.3, 2, -1, 0.5, NULL, NULL);
    double r = lf__remi_gauss_kl(LF__KL_REVERSE, 0.3, 2, -1, 0.5, NULL, NULL);
    ck_assert_double_eq_tol(lf__remi_gauss_kl(LF__KL_SYMMETRIC, 0.3, 2, -1, 0.5, NULL, NULL),
                            0.5 * (f + r), 1e-15);
}
END_TEST

START_TEST(gauss_kl_gradients)
{
    const double pts[][4] = { { 0.3, 2.0, -1.0, 0.5 }, { -2.0, 0.1, 1.0, 3.0 }, { 1.0, 1.0, 1.0, 1.0 } };
    for (int dir = 0; dir < 3; dir++)
        for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
            const double *p = pts[i];
            double dm, dv;
            lf__remi_gauss_kl(dir, p[0], p[1], p[2], p[3], &dm, &dv);
            double h = 1e-6;
            double fdm = (lf__remi_gauss_kl(dir, p[0] + h, p[1], p[2], p[3], NULL, NULL) -
                          lf__remi_gauss_kl(dir, p[0] - h, p[1], p[2], p[3], NULL, NULL)) / (2 * h);
            double fdv = (lf__remi_gauss_kl(dir, p[0], p[1] + h, p[2], p[3], NULL, NULL) -
                          lf__remi_gauss_kl(dir, p[0], p[1] - h, p[2], p[3], NULL, NULL)) / (2 * h);
            ck_assert_msg(fabs(dm - fdm) < FD_TOL && fabs(dv - fdv) < FD_TOL,
                          "dir %d point %zu: dm %g vs %g, dv %g vs %g", dir, i, dm, fdm, dv, fdv);
        }
}
END_TEST

START_TEST(kl_term_gradient)
{
    double phi[6] = { 0.5, 1.5, -0.3, 2.0, 0.9, 1.1 }, d[6];
    for (int dir = 0; dir < 3; dir++) {
        lf__remi_kl_term(dir, phi, 6, 0.2, 0.7, d);
        for (int i = 0; i < 6; i++) {
            double h = 1e-6, keep = phi[i];
            phi[i] = keep + h;
            double up = lf__remi_kl_term(dir, phi, 6, 0.2, 0.7, NULL);
            phi[i] = keep - h;
            double dn = lf__remi_kl_term(dir, phi, 6, 0.2, 0.7, NULL);
            phi[i] = keep;
            ck_assert_msg(fabs((up - dn) / (2 * h) - d[i]) < FD_TOL, "dir %d, phi %d: %g vs %g", dir,
                          i, d[i], (up - dn) / (2 * h));
        }
    }
}
END_TEST

/* One sample to forget (the common GDPR case): no spread, so σ_F² = σ_O² and the KL is the
 * mean term (φ − μ_O)²/(2σ_O²), with gradient (φ − μ_O)/σ_O². */
START_TEST(kl_term_single_sample)
{
    double phi = 3.0, d;
    double kl = lf__remi_kl_term(LF__KL_FORWARD, &phi, 1, 1.0, 0.5, &d);
    ck_assert_double_eq_tol(kl, 4.0 / 1.0, 1e-12);
    ck_assert_double_eq_tol(d, 2.0 / 0.5, 1e-12);
    kl = lf__remi_kl_term(LF__KL_REVERSE, &phi, 1, 1.0, 0.5, &d);
    ck_assert_double_eq_tol(kl, 4.0, 1e-12);
    ck_assert(isfinite(d));
}
END_TEST

/* Equal values: the variance floor holds, so the variance carries no gradient. */
START_TEST(kl_term_variance_floor)
{
    double phi[4] = { 1.0, 1.0, 1.0, 1.0 }, d[4];
    double kl = lf__remi_kl_term(LF__KL_FORWARD, phi, 4, 1.0, 1e-4, d);
    ck_assert_double_eq_tol(kl, 0.0, 1e-12);
    for (int i = 0; i < 4; i++)
        ck_assert_double_eq_tol(d[i], 0.0, 1e-12);
}
END_TEST

START_TEST(leak_term_value_and_gradient)
{
    double a[3] = { 0.5, 0.9, 0.0 }, da[3];
    double l = lf__remi_leak_term(a, 3, da);
    ck_assert_double_eq_tol(l, -(log(0.5 + 1e-6) + log(0.1 + 1e-6) + log(1.0 + 1e-6)) / 3, 1e-12);
    for (int i = 0; i < 3; i++) {
        double h = 1e-7, keep = a[i];
        a[i] = keep + h;
        double up = lf__remi_leak_term(a, 3, NULL);
        a[i] = keep - h;
        double dn = lf__remi_leak_term(a, 3, NULL);
        a[i] = keep;
        ck_assert_msg(fabs((up - dn) / (2 * h) - da[i]) < 1e-4, "a %d: %g vs %g", i, da[i],
                      (up - dn) / (2 * h));
    }
    /* a score of exactly 1 stays finite */
    double one = 1.0;
    ck_assert_double_eq_tol(lf__remi_leak_term(&one, 1, NULL), -log(1e-6), 1e-9);
}
END_TEST

START_TEST(bound_hand_values)
{
    ck_assert_double_eq_tol(lf__remi_acc_bound(0.0), 0.5, 1e-15);
    /* KL 0.02: √(0.01) = 0.1 < √(1 − e^−0.02) */
    ck_assert_double_eq_tol(lf__remi_acc_bound(0.02), 0.55, 1e-12);
    /* KL 5: Bretagnolle–Huber √(1 − e^−5) is the smaller */
    ck_assert_double_eq_tol(lf__remi_acc_bound(5.0), 0.5 + 0.5 * sqrt(1.0 - exp(-5.0)), 1e-12);
    ck_assert_double_le(lf__remi_acc_bound(1e9), 1.0);
    ck_assert_double_eq_tol(lf__remi_acc_bound(-1.0), 0.5, 1e-15);
}
END_TEST

START_TEST(auc_hand_values)
{
    char scratch[256];
    double p1[2] = { 3, 4 }, n1[2] = { 1, 2 };
    ck_assert_double_eq_tol(lf__remi_auc(p1, 2, n1, 2, scratch), 1.0, 1e-15);
    ck_assert_double_eq_tol(lf__remi_auc(n1, 2, p1, 2, scratch), 0.0, 1e-15);
    double p2[1] = { 1 }, n2[1] = { 1 };
    ck_assert_double_eq_tol(lf__remi_auc(p2, 1, n2, 1, scratch), 0.5, 1e-15);
    double p3[2] = { 1, 3 }, n3[1] = { 2 };
    ck_assert_double_eq_tol(lf__remi_auc(p3, 2, n3, 1, scratch), 0.5, 1e-15);
    double p4[3] = { 2, 2, 5 }, n4[2] = { 2, 1 };   /* pairs: 0.5+1, 0.5+1, 1+1 over 6 */
    ck_assert_double_eq_tol(lf__remi_auc(p4, 3, n4, 2, scratch), 5.0 / 6.0, 1e-15);
    ck_assert(isnan(lf__remi_auc(p4, 3, n4, 0, scratch)));
}
END_TEST

/* The built-in approximator learns a separable problem and its input gradient is right. */
START_TEST(privacy_mlp_fits_and_differentiates)
{
    enum { N = 1000 };
    static double zin[N * 3], zout[N * 3];
    unsigned long long s = 5;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 3; k++) {
            zin[i * 3 + k] = (k == 0 ? 3.0 : 0.0) + lf_test_u01(&s) - 0.5;
            zout[i * 3 + k] = (k == 0 ? 1.0 : 0.5) + lf_test_u01(&s) - 0.5;
        }
    lf__privacy_mlp a;
    ck_assert_lf_ok(lf__privacy_mlp_fit(&a, NULL, zin, N, zout, N, 42));
    ck_assert_int_ge(a.epochs, 1);
    ck_assert_double_lt(a.holdout_loss, 0.3);   /* log 2 = 0.69 would be chance */
    double mean_in = 0, mean_out = 0;
    for (int i = 0; i < N; i++) {
        mean_in += lf__privacy_mlp_score(&a, zin + i * 3, NULL) / N;
        mean_out += lf__privacy_mlp_score(&a, zout + i * 3, NULL) / N;
    }
    ck_assert_double_gt(mean_in - mean_out, 0.5);
    for (int i = 0; i < 10; i++) {
        double z[3] = { 2.0 * lf_test_u01(&s) + 1.0, lf_test_u01(&s), lf_test_u01(&s) }, dz[3];
        lf__privacy_mlp_score(&a, z, dz);
        for (int k = 0; k < 3; k++) {
            double h = 1e-6, keep = z[k];
            z[k] = keep + h;
            double up = lf__privacy_mlp_score(&a, z, NULL);
            z[k] = keep - h;
            double dn = lf__privacy_mlp_score(&a, z, NULL);
            z[k] = keep;
            ck_assert_msg(fabs((up - dn) / (2 * h) - dz[k]) < 1e-6, "point %d, z %d: %g vs %g", i, k,
                          dz[k], (up - dn) / (2 * h));
        }
    }
    /* the same seed fits the same weights */
    lf__privacy_mlp b;
    ck_assert_lf_ok(lf__privacy_mlp_fit(&b, NULL, zin, N, zout, N, 42));
    ck_assert_mem_eq(a.theta, b.theta, sizeof a.theta);
    ck_assert_lf_status(lf__privacy_mlp_fit(&b, NULL, zin, 1, zout, N, 42), LF_E_INVALID_ARG);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("remi_terms");
    TCase *tc = tcase_create("terms");
    tcase_add_test(tc, stats_gradients_match_finite_differences);
    tcase_add_test(tc, stats_hand_values);
    tcase_add_test(tc, gauss_kl_hand_values);
    tcase_add_test(tc, gauss_kl_gradients);
    tcase_add_test(tc, kl_term_gradient);
    tcase_add_test(tc, kl_term_single_sample);
    tcase_add_test(tc, kl_term_variance_floor);
    tcase_add_test(tc, leak_term_value_and_gradient);
    tcase_add_test(tc, bound_hand_values);
    tcase_add_test(tc, auc_hand_values);
    tcase_add_test(tc, privacy_mlp_fits_and_differentiates);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(suite)
