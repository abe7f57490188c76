/* Song & Mittal metric attacks: hand-computed thresholds (first maximiser, ties, classes with
 * no shadow samples), TPR/TNR/accuracy, the correctness attack, bad input. */
#include "lf_test.h"
#include "libforget/eval.h"

#define TOL 1e-12

START_TEST(first_maximiser_wins)
{
    /* candidates in order 0.9 0.8 0.6 | 0.7 0.3 0.5 give (in>=t + out<t)/2 =
     * 0.667 0.833 0.833 0.667 0.5 0.667: 0.8 and 0.6 tie, the first (0.8) wins */
    const double sin[3] = { 0.9, 0.8, 0.6 }, sout[3] = { 0.7, 0.3, 0.5 };
    const int32_t zeros[3] = { 0, 0, 0 };
    const double tin[3] = { 0.85, 0.8, 0.65 }, tout[2] = { 0.81, 0.2 };
    lf_attack_result r = LF_ATTACK_RESULT_INIT;
    double tau = -1.0;
    ck_assert_lf_ok(lf_attack_threshold(&r, &tau, sin, zeros, 3, sout, zeros, 3, tin, zeros, 3, tout,
                                        zeros, 2, 1));
    ck_assert(tau == 0.8);
    /* members >= 0.8: 0.85, 0.8 -> 2/3; non-members < 0.8: 0.2 -> 1/2 */
    ck_assert_double_eq_tol(r.tpr, 200.0 / 3.0, TOL);
    ck_assert_double_eq_tol(r.tnr, 50.0, TOL);
    ck_assert_double_eq_tol(r.accuracy, 0.5 * (200.0 / 3.0 + 50.0), TOL);
}
END_TEST

START_TEST(tied_values_and_the_inclusive_threshold)
{
    /* candidates 0.5 0.5 | 0.5 0.2: t = 0.5 gives (1 + 1/2)/2, t = 0.2 gives 1/2 -> tau 0.5;
     * a target equal to tau is a member (>=), for members and non-members alike */
    const double sin[2] = { 0.5, 0.5 }, sout[2] = { 0.5, 0.2 };
    const int32_t zeros[2] = { 0, 0 };
    const double tin[2] = { 0.5, 0.49 }, tout[2] = { 0.5, 0.1 };
    lf_attack_result r = LF_ATTACK_RESULT_INIT;
    double tau;
    ck_assert_lf_ok(lf_attack_threshold(&r, &tau, sin, zeros, 2, sout, zeros, 2, tin, zeros, 2, tout,
                                        zeros, 2, 1));
    ck_assert(tau == 0.5);
    ck_assert_double_eq_tol(r.tpr, 50.0, TOL);
    ck_assert_double_eq_tol(r.tnr, 50.0, TOL);
}
END_TEST

START_TEST(thresholds_are_per_class)
{
    /* class 0 as in first_maximiser_wins (tau 0.8); class 1 shadow: in {-0.1, -0.2},
     * out {-1.0, -0.3}: t=-0.1 -> (1/2 + 1)/2 = 0.75, t=-0.2 -> (1 + 1)/2 = 1 -> tau -0.2;
     * class 2 has shadow members but no shadow non-members -> tau 0 (the authors' code) */
    const double sin[7] = { 0.9, -0.1, 0.8, -0.2, 0.6, 5.0, 6.0 };
    const int32_t sin_y[7] = { 0, 1, 0, 1, 0, 2, 2 };
    const double sout[5] = { 0.7, -1.0, 0.3, -0.3, 0.5 };
    const int32_t sout_y[5] = { 0, 1, 0, 1, 0 };
    const double tin[4] = { 0.85, -0.15, -0.5, 0.1 };
    const int32_t tin_y[4] = { 0, 1, 1, 2 };       /* member calls: yes, yes, no, yes (0.1 >= 0) */
    const double tout[3] = { 0.2, -0.25, -0.01 };
    const int32_t tout_y[3] = { 0, 1, 2 };         /* non-member calls: yes, yes, yes (-0.01 < 0) */
    lf_attack_result r = LF_ATTACK_RESULT_INIT;
    double tau[3];
    ck_assert_lf_ok(lf_attack_threshold(&r, tau, sin, sin_y, 7, sout, sout_y, 5, tin, tin_y, 4, tout,
                                        tout_y, 3, 3));
    ck_assert(tau[0] == 0.8);
    ck_assert(tau[1] == -0.2);
    ck_assert(tau[2] == 0.0);
    ck_assert_double_eq_tol(r.tpr, 75.0, TOL);
    ck_assert_double_eq_tol(r.tnr, 100.0, TOL);
    ck_assert_double_eq_tol(r.accuracy, 87.5, TOL);
}
END_TEST

START_TEST(correctness_attack)
{
    const double in[4] = { 1, 1, 0, 1 }, out[2] = { 1, 0 };
    lf_attack_result r = LF_ATTACK_RESULT_INIT;
    ck_assert_lf_ok(lf_attack_correctness(&r, in, 4, out, 2));
    ck_assert_double_eq_tol(r.tpr, 75.0, TOL);
    ck_assert_double_eq_tol(r.tnr, 50.0, TOL);
    ck_assert_double_eq_tol(r.accuracy, 62.5, TOL);
    const double bad[1] = { 2.0 };
    ck_assert_lf_status(lf_attack_correctness(&r, bad, 1, out, 2), LF_E_OUT_OF_RANGE);
    ck_assert_lf_status(lf_attack_correctness(&r, in, 0, out, 2), LF_E_INVALID_ARG);
    ck_assert_str_eq(lf_attack_name(LF_ATTACK_MODIFIED_ENTROPY), "modified_entropy");
    ck_assert_str_eq(lf_attack_name((lf_attack)4), "unknown");
}
END_TEST

START_TEST(bad_input_is_refused)
{
    const double v[2] = { 0.1, 0.2 }, nan_v[2] = { 0.1, NAN };
    const int32_t y[2] = { 0, 1 }, bad_y[2] = { 0, 2 };
    lf_attack_result r = LF_ATTACK_RESULT_INIT;
    ck_assert_lf_status(lf_attack_threshold(&r, NULL, v, y, 2, v, y, 2, v, y, 0, v, y, 2, 2), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_attack_threshold(&r, NULL, v, y, 2, v, y, 2, v, y, 2, v, y, 0, 2), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_attack_threshold(&r, NULL, nan_v, y, 2, v, y, 2, v, y, 2, v, y, 2, 2), LF_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "shadow_in[1]"));
    ck_assert_lf_status(lf_attack_threshold(&r, NULL, v, y, 2, v, bad_y, 2, v, y, 2, v, y, 2, 2),
                        LF_E_OUT_OF_RANGE);
    ck_assert_lf_status(lf_attack_threshold(&r, NULL, v, NULL, 2, v, y, 2, v, y, 2, v, y, 2, 2),
                        LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_attack_threshold(&r, NULL, v, y, 2, v, y, 2, v, y, 2, v, y, 2, 0), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_attack_threshold(NULL, NULL, v, y, 2, v, y, 2, v, y, 2, v, y, 2, 2), LF_E_INVALID_ARG);
    lf_attack_result small = { 2, 0, 0, 0, 0 };
    ck_assert_lf_status(lf_attack_threshold(&small, NULL, v, y, 2, v, y, 2, v, y, 2, v, y, 2, 2), LF_E_ABI);
    /* empty shadow sets are allowed: every threshold is 0 */
    double tau[2] = { 9, 9 };
    ck_assert_lf_ok(lf_attack_threshold(&r, tau, NULL, NULL, 0, NULL, NULL, 0, v, y, 2, v, y, 2, 2));
    ck_assert(tau[0] == 0.0 && tau[1] == 0.0);
    ck_assert_double_eq_tol(r.tpr, 100.0, TOL);
    ck_assert_double_eq_tol(r.tnr, 0.0, TOL);
}
END_TEST

static Suite *attacks_suite(void)
{
    Suite *s = suite_create("attacks");
    TCase *tc = tcase_create("attacks");
    tcase_add_test(tc, first_maximiser_wins);
    tcase_add_test(tc, tied_values_and_the_inclusive_threshold);
    tcase_add_test(tc, thresholds_are_per_class);
    tcase_add_test(tc, correctness_attack);
    tcase_add_test(tc, bad_input_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(attacks_suite)
