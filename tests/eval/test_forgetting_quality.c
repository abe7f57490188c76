/* Forgetting quality (NeurIPS 2023 challenge): numpy's linspace, the bin scoring, the epsilon
 * estimator on hand-analysed samples (perfect separation by either threshold family, identical
 * samples, discarded thresholds, degenerate ranges) and the final score. White-box: the
 * per-example estimator is internal. */
#include "lf_test.h"
#include "core/eval/eval_internal.h"

#define DELTA 1e-5

static double epsilon_of(const double *r, const double *u, size_t n)
{
    void *scratch = malloc(lf__fq_scratch_size(n));
    double e = lf__fq_example_epsilon(r, u, n, scratch);
    free(scratch);
    return e;
}

START_TEST(linspace_matches_numpy)
{
    for (int i = 0; i < 5; i++)
        ck_assert(lf__fq_linspace_at(0.0, 1.0, 5, i) == 0.25 * i);
    ck_assert(lf__fq_linspace_at(3.0, 7.0, 1, 0) == 3.0);
    /* numpy: i·step + start, the last point exactly stop */
    double step = (0.3 - 0.1) / 6.0;
    ck_assert(lf__fq_linspace_at(0.1, 0.3, 7, 3) == 3.0 * step + 0.1);
    ck_assert(lf__fq_linspace_at(0.1, 0.3, 7, 6) == 0.3);
}
END_TEST

START_TEST(bin_scores)
{
    int32_t bins = -1;
    /* N = 10: ceil(ln 9) = 3 -> bins [0,.5) ... [2.5,3): 1, 1/2, ..., 1/32; beyond: 0 */
    ck_assert(lf__fq_bin_score(0.0, 10, &bins) == 1.0);
    ck_assert_int_eq(bins, 6);
    ck_assert(lf__fq_bin_score(0.49, 10, NULL) == 1.0);
    ck_assert(lf__fq_bin_score(0.5, 10, NULL) == 0.5);
    ck_assert(lf__fq_bin_score(1.2, 10, NULL) == 0.25);
    ck_assert(lf__fq_bin_score(2.99, 10, NULL) == 1.0 / 32.0);
    ck_assert(lf__fq_bin_score(3.0, 10, NULL) == 0.0);
    ck_assert(lf__fq_bin_score(50.0, 10, NULL) == 0.0);
    /* N = 2: ceil(ln 1) = 0, no bin at all; N = 3: ceil(ln 2) = 1, two bins */
    ck_assert(lf__fq_bin_score(0.0, 2, &bins) == 0.0);
    ck_assert_int_eq(bins, 0);
    ck_assert(lf__fq_bin_score(0.7, 3, &bins) == 0.5);
    ck_assert_int_eq(bins, 2);
    /* N = 100: ceil(ln 99) = 5 -> 10 bins */
    lf__fq_bin_score(0.0, 100, &bins);
    ck_assert_int_eq(bins, 10);
}
END_TEST

START_TEST(perfectly_separated_single_threshold)
{
    double r[10], u[10];
    for (int i = 0; i < 10; i++) {
        u[i] = 0.1 * i;
        r[i] = 10.0 + 0.1 * i;
    }
    ck_assert(epsilon_of(r, u, 10) == 50.0);   /* FPR = FNR = 0 -> infinity, clipped */
}
END_TEST

START_TEST(perfectly_separated_by_an_interval_only)
{
    /* the unlearned sample sits between the retrained ones: no single threshold separates
     * them, but [4.9, 5.1] does (ranges 0.2 and 10: ratio 0.02, not degenerate) */
    const double r[4] = { 0.0, 1.0, 9.0, 10.0 }, u[4] = { 4.9, 5.0, 5.05, 5.1 };
    ck_assert(epsilon_of(r, u, 4) == 50.0);
}
END_TEST

START_TEST(identical_samples_give_zero)
{
    /* equal samples: every threshold has FPR = TPR, so the bounds are <= 0 (or one rate is 0
     * and the threshold is discarded) */
    const double r[6] = { -1.0, 0.5, 2.0, 3.5, 4.0, 7.0 };
    ck_assert(epsilon_of(r, r, 6) == 0.0);
    /* two equal constant samples: every threshold is discarded -> no evidence, 0 */
    const double c[3] = { 2.0, 2.0, 2.0 };
    ck_assert(epsilon_of(c, c, 3) == 0.0);
}
END_TEST

START_TEST(discarded_thresholds_do_not_count)
{
    /* R = {0, 1}, U = {0.5, 1.5}: U has the larger median. Single thresholds in (1, 1.5]
     * give FPR 0, FNR 1/2 -- kept, that would be log((1-d)/0.5) = 0.69 -- but exactly one rate
     * is 0, so it is discarded; every kept threshold has both rates in {1/2, 1}: epsilon 0. */
    const double r[2] = { 0.0, 1.0 }, u[2] = { 0.5, 1.5 };
    ck_assert(epsilon_of(r, u, 2) == 0.0);
}
END_TEST

START_TEST(overlapping_samples_by_hand)
{
    /* R = {0,1,2,3}, U = {2.5,3.5,4.5,5.5}: no threshold separates them; the best kept
     * thresholds (e.g. t in (2.5, 3], or [l, r] around {1,2,3}) have FPR = FNR = 1/4:
     * epsilon = log(1 - d - 1/4) - log(1/4). FPR 1/4 with FNR 0 is reachable but discarded. */
    const double r[4] = { 0.0, 1.0, 2.0, 3.0 }, u[4] = { 2.5, 3.5, 4.5, 5.5 };
    double want = log(1.0 - DELTA - 0.25) - log(0.25);
    ck_assert_double_eq_tol(epsilon_of(r, u, 4), want, 1e-12);
    ck_assert_double_eq_tol(epsilon_of(u, r, 4), want, 1e-12);   /* symmetric */
}
END_TEST

START_TEST(degenerate_ranges)
{
    const double spread[4] = { 0.0, 0.3, 0.6, 1.0 };
    const double peaky[4] = { 0.5, 0.501, 0.503, 0.505 };    /* range 0.005 < 1% of 1 */
    ck_assert(epsilon_of(spread, peaky, 4) == 50.0);
    ck_assert(epsilon_of(peaky, spread, 4) == 50.0);
    const double constant[4] = { 0.5, 0.5, 0.5, 0.5 };     /* range 0 */
    ck_assert(epsilon_of(spread, constant, 4) == 50.0);
    /* two constant samples (0/0) are not degenerate: the attacks run; different constants
     * separate perfectly */
    const double other[4] = { 0.7, 0.7, 0.7, 0.7 };
    ck_assert(epsilon_of(constant, other, 4) == 50.0);
    /* range 0.02 (2%) is not degenerate: the attacks decide, and they separate these */
    const double narrow[4] = { 3.0, 3.01, 3.015, 3.02 };
    double e = epsilon_of(spread, narrow, 4);
    ck_assert(e == 50.0);   /* [3.0, 3.02] vs values <= 1: separable */
}
END_TEST

START_TEST(score_of_two_examples)
{
    /* N = 4 models, 2 examples: example 0 = overlapping_samples_by_hand (epsilon 1.0986, bin 2
     * of ceil(ln 3) = 2 -> 4 bins, score 1/4), example 1 = identical samples (score 1).
     * Arrays are [model][example]. */
    const double r[8] = { 0.0, 7.0, 1.0, 8.0, 2.0, 9.0, 3.0, 10.0 };
    const double u[8] = { 2.5, 10.0, 3.5, 9.0, 4.5, 8.0, 5.5, 7.0 };
    double eps[2] = { -1, -1 };
    lf_fq_result res = LF_FQ_RESULT_INIT;
    ck_assert_lf_ok(lf_forgetting_quality(&res, eps, r, u, 4, 2, 90.0, 95.0, 80.0, 85.0));
    ck_assert_double_eq_tol(eps[0], log(1.0 - DELTA - 0.25) - log(0.25), 1e-12);
    ck_assert(eps[1] == 0.0);
    ck_assert_int_eq(res.n_bins, 4);
    ck_assert_double_eq_tol(res.forget_score, 0.625, 1e-15);
    ck_assert_double_eq_tol(res.final_score, 0.625 * (90.0 / 95.0) * (80.0 / 85.0), 1e-15);
    ck_assert_double_eq_tol(res.mean_epsilon, eps[0] / 2.0, 1e-12);
    ck_assert_int_eq(res.n_models, 4);
    ck_assert_int_eq(res.n_examples, 2);
}
END_TEST

START_TEST(bad_input_is_refused)
{
    const double v[4] = { 0, 1, 2, 3 }, nan_v[4] = { 0, 1, NAN, 3 };
    lf_fq_result res = LF_FQ_RESULT_INIT;
    ck_assert_lf_status(lf_forgetting_quality(&res, NULL, v, v, 1, 4, 1, 1, 1, 1), LF_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "at least 2"));
    ck_assert_lf_status(lf_forgetting_quality(&res, NULL, v, v, 0, 4, 1, 1, 1, 1), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_forgetting_quality(&res, NULL, v, v, 2, 0, 1, 1, 1, 1), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_forgetting_quality(&res, NULL, v, nan_v, 2, 2, 1, 1, 1, 1), LF_E_NUMERIC);
    ck_assert_lf_status(lf_forgetting_quality(&res, NULL, v, v, 2, 2, 1, 0, 1, 1), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_forgetting_quality(&res, NULL, v, v, 2, 2, 1, 1, NAN, 1), LF_E_NUMERIC);
    ck_assert_lf_status(lf_forgetting_quality(&res, NULL, NULL, v, 2, 2, 1, 1, 1, 1), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_forgetting_quality(NULL, NULL, v, v, 2, 2, 1, 1, 1, 1), LF_E_INVALID_ARG);
}
END_TEST

static Suite *fq_suite(void)
{
    Suite *s = suite_create("forgetting_quality");
    TCase *tc = tcase_create("fq");
    tcase_add_test(tc, linspace_matches_numpy);
    tcase_add_test(tc, bin_scores);
    tcase_add_test(tc, perfectly_separated_single_threshold);
    tcase_add_test(tc, perfectly_separated_by_an_interval_only);
    tcase_add_test(tc, identical_samples_give_zero);
    tcase_add_test(tc, discarded_thresholds_do_not_count);
    tcase_add_test(tc, overlapping_samples_by_hand);
    tcase_add_test(tc, degenerate_ranges);
    tcase_add_test(tc, score_of_two_examples);
    tcase_add_test(tc, bad_input_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(fq_suite)
