/* Features of probability rows (confidence, entropy, modified entropy, correctness, with the
 * 1e-30 log floor) and the logit-scaled confidence: hand-computed values and bad input. */
#include "lf_test.h"
#include "libforget/eval.h"

#define TOL 1e-12

static double feature(const float *p, int32_t y, int32_t classes, lf_feature f)
{
    double out = NAN;
    ck_assert_lf_ok(lf_features_from_probs(&out, p, &y, 1, classes, f));
    return out;
}

START_TEST(hand_computed_features)
{
    const float p[3] = { 0.5f, 0.25f, 0.25f };
    double ln2 = log(2.0), ln34 = log(0.75);
    /* label 0: H = 1.5 ln 2; Mentr = -(0.5) ln 0.5 - 2·0.25 ln 0.75 */
    ck_assert_double_eq_tol(feature(p, 0, 3, LF_FEATURE_CONFIDENCE), 0.5, TOL);
    ck_assert_double_eq_tol(feature(p, 0, 3, LF_FEATURE_ENTROPY), 1.5 * ln2, TOL);
    ck_assert_double_eq_tol(feature(p, 0, 3, LF_FEATURE_NEG_ENTROPY), -1.5 * ln2, TOL);
    ck_assert_double_eq_tol(feature(p, 0, 3, LF_FEATURE_MODIFIED_ENTROPY), 0.5 * ln2 - 0.5 * ln34, TOL);
    ck_assert_double_eq_tol(feature(p, 0, 3, LF_FEATURE_NEG_MODIFIED_ENTROPY), -(0.5 * ln2 - 0.5 * ln34), TOL);
    ck_assert(feature(p, 0, 3, LF_FEATURE_CORRECTNESS) == 1.0);
    /* label 1: Mentr = -0.75 ln 0.25 - 0.5 ln 0.5 - 0.25 ln 0.75 = 2 ln 2 - 0.25 ln 0.75 */
    ck_assert_double_eq_tol(feature(p, 1, 3, LF_FEATURE_CONFIDENCE), 0.25, TOL);
    ck_assert_double_eq_tol(feature(p, 1, 3, LF_FEATURE_ENTROPY), 1.5 * ln2, TOL);
    ck_assert_double_eq_tol(feature(p, 1, 3, LF_FEATURE_MODIFIED_ENTROPY), 2.0 * ln2 - 0.25 * ln34, TOL);
    ck_assert(feature(p, 1, 3, LF_FEATURE_CORRECTNESS) == 0.0);
}
END_TEST

START_TEST(log_floor_of_zero_probabilities)
{
    /* one-hot on class 0: H = 0 (0·log(1e-30) adds nothing); with label 1 (p_y = 0),
     * Mentr = -(1 - 0) log(1e-30) - 1·log(max(1 - 1, 1e-30)) = 2·30 ln 10 */
    const float p[3] = { 1.0f, 0.0f, 0.0f };
    ck_assert(feature(p, 0, 3, LF_FEATURE_ENTROPY) == 0.0);
    ck_assert(feature(p, 0, 3, LF_FEATURE_MODIFIED_ENTROPY) == 0.0);
    ck_assert_double_eq_tol(feature(p, 1, 3, LF_FEATURE_MODIFIED_ENTROPY), 60.0 * log(10.0), 1e-9);
    ck_assert(feature(p, 1, 3, LF_FEATURE_CONFIDENCE) == 0.0);
}
END_TEST

START_TEST(correctness_ties_take_the_first_maximum)
{
    const float p[3] = { 0.4f, 0.4f, 0.2f };
    ck_assert(feature(p, 0, 3, LF_FEATURE_CORRECTNESS) == 1.0);
    ck_assert(feature(p, 1, 3, LF_FEATURE_CORRECTNESS) == 0.0);
}
END_TEST

START_TEST(batch_of_rows)
{
    const float p[6] = { 0.9f, 0.1f, 0.3f, 0.7f, 0.5f, 0.5f };
    const int32_t y[3] = { 0, 0, 1 };
    double out[3];
    ck_assert_lf_ok(lf_features_from_probs(out, p, y, 3, 2, LF_FEATURE_CONFIDENCE));
    ck_assert(out[0] == (double)0.9f && out[1] == (double)0.3f && out[2] == 0.5);
    ck_assert_str_eq(lf_feature_name(LF_FEATURE_NEG_MODIFIED_ENTROPY), "neg_modified_entropy");
    ck_assert_str_eq(lf_feature_name((lf_feature)42), "unknown");
}
END_TEST

START_TEST(bad_probabilities_are_refused)
{
    float p[4] = { 0.5f, 0.5f, 0.2f, 0.8f };
    int32_t y[2] = { 0, 1 };
    double out[2];
    p[3] = NAN;
    ck_assert_lf_status(lf_features_from_probs(out, p, y, 2, 2, LF_FEATURE_CONFIDENCE), LF_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "row 1"));
    p[3] = 1.5f;
    ck_assert_lf_status(lf_features_from_probs(out, p, y, 2, 2, LF_FEATURE_ENTROPY), LF_E_OUT_OF_RANGE);
    p[3] = -0.1f;
    ck_assert_lf_status(lf_features_from_probs(out, p, y, 2, 2, LF_FEATURE_ENTROPY), LF_E_OUT_OF_RANGE);
    p[3] = 0.8f;
    y[1] = 2;
    ck_assert_lf_status(lf_features_from_probs(out, p, y, 2, 2, LF_FEATURE_ENTROPY), LF_E_OUT_OF_RANGE);
    y[1] = 1;
    ck_assert_lf_status(lf_features_from_probs(out, p, y, 2, 0, LF_FEATURE_ENTROPY), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_features_from_probs(out, p, y, 2, 2, (lf_feature)6), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_features_from_probs(NULL, p, y, 2, 2, LF_FEATURE_ENTROPY), LF_E_INVALID_ARG);
    ck_assert_lf_ok(lf_features_from_probs(NULL, NULL, NULL, 0, 2, LF_FEATURE_ENTROPY));
}
END_TEST

START_TEST(logit_scaled_confidence)
{
    /* logits (2, 1, 0), label 0: log p0 - log(p1 + p2) = -log(e^-1 + e^-2) */
    const float logits[6] = { 2.0f, 1.0f, 0.0f, 1000.0f, 0.0f, -5.0f };
    int32_t y[2] = { 0, 0 };
    double conf[2];
    ck_assert_lf_ok(lf_logit_confidences(conf, logits, y, 2, 3));
    ck_assert_double_eq_tol(conf[0], -log(exp(-1.0) + exp(-2.0)), 1e-12);
    /* max subtraction keeps 1000 finite; the other probabilities underflow to 0, so the
     * 1e-45 guards decide: log(1 + 1e-45) - log(0 + 1e-45) = -ln(1e-45) */
    ck_assert_double_eq_tol(conf[1], -log(1e-45), 1e-9);
    y[1] = 1;
    ck_assert_lf_ok(lf_logit_confidences(conf, logits, y, 2, 3));
    ck_assert_double_eq_tol(conf[1], log(1e-45), 1e-9);

    float bad[3] = { 0.0f, INFINITY, 1.0f };
    ck_assert_lf_status(lf_logit_confidences(conf, bad, y, 1, 3), LF_E_NUMERIC);
    y[0] = 3;
    ck_assert_lf_status(lf_logit_confidences(conf, logits, y, 1, 3), LF_E_OUT_OF_RANGE);
}
END_TEST

static Suite *features_suite(void)
{
    Suite *s = suite_create("features");
    TCase *tc = tcase_create("features");
    tcase_add_test(tc, hand_computed_features);
    tcase_add_test(tc, log_floor_of_zero_probabilities);
    tcase_add_test(tc, correctness_ties_take_the_first_maximum);
    tcase_add_test(tc, batch_of_rows);
    tcase_add_test(tc, bad_probabilities_are_refused);
    tcase_add_test(tc, logit_scaled_confidence);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(features_suite)
