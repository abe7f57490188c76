/* Behaviour of ReMI on a small memorisation problem, through the shared library: the frozen
 * approximator's gap and the KL fall, the input model is untouched, the fidelity guard brings
 * the best checkpoint back under an absurd learning rate, a caller's approximator is used
 * (and its failures reported), a single sample can be forgotten, and misuse is refused. */
#include <math.h>
#include <string.h>

#include "lf_test.h"

enum { N_TRAIN = 200, N_HOLD = 200, CLASSES = 4, SIDE = 4 };

static lf_context *ctx;
static lf_dataset *train, *holdout;
static lf_model *memoriser;

static lf_dataset *random_labels(size_t n, unsigned long long seed)
{
    return lf_test_random_labels(ctx, n, CLASSES, SIDE, seed);
}

static void setup(void)
{
    ctx = lf_test_context(LF_BACKEND_AUTO);
    train = random_labels(N_TRAIN, 1234);
    holdout = random_labels(N_HOLD, 99);
    memoriser = lf_test_trained(ctx, "mlp", train, 150, LF_LR_COSINE);
}

static void teardown(void)
{
    lf_model_destroy(memoriser);
    lf_dataset_destroy(holdout);
    lf_dataset_destroy(train);
    lf_context_destroy(ctx);
}

static lf_request *remi_request(lf_forget_spec spec)
{
    lf_request *req = NULL;
    ck_assert_lf_ok(lf_request_create(&req, ctx, "remi"));
    ck_assert_lf_ok(lf_request_set_train(req, train));
    ck_assert_lf_ok(lf_request_set_holdout(req, holdout));
    ck_assert_lf_ok(lf_request_set_forget(req, &spec));
    ck_assert_lf_ok(lf_request_set_seed(req, 3));
    return req;
}

START_TEST(gap_and_kl_fall_and_the_input_is_untouched)
{
    float *before = lf_test_params(memoriser);
    lf_request *req = remi_request(lf_test_random_spec(0.2));
    /* random labels leave nothing but memorisation, so any forgetting costs retain accuracy
     * beyond the default 2-point guard here: this test is about the terms, not the guard */
    ck_assert_lf_ok(lf_request_set_double(req, "remi.guard_points", 100));
    /* METHODS.md's lr, weights and tolerances: the shipped defaults are tuned for Fashion-MNIST */
    ck_assert_lf_ok(lf_request_set_double(req, "lr", 0.01));
    ck_assert_lf_ok(lf_request_set_double(req, "remi.lambda_kl", 1.0));
    ck_assert_lf_ok(lf_request_set_double(req, "remi.gap_tol", 0.02));
    ck_assert_lf_ok(lf_request_set_double(req, "remi.kl_tol", 0.01));
    lf_model *out = NULL;
    lf_unlearn_result r = LF_UNLEARN_RESULT_INIT;
    ck_assert_lf_ok(lf_unlearn(req, memoriser, &out, &r));
    float *after = lf_test_params(memoriser);
    ck_assert_msg(memcmp(before, after, lf_model_num_params(memoriser) * sizeof(float)) == 0,
                  "remi changed its input model");
    double gap0 = lf_test_figure(&r, "remi.gap_a_before"), gap = lf_test_figure(&r, "remi.gap_a");
    double kl0 = lf_test_figure(&r, "remi.kl_before"), kl = lf_test_figure(&r, "remi.kl");
    /* the memoriser leaks: its forget set looks nothing like unseen data */
    ck_assert_double_gt(gap0, 0.1);
    ck_assert_double_gt(kl0, 0.1);
    ck_assert_double_lt(fabs(gap), 0.5 * gap0);
    ck_assert_double_lt(kl, 0.5 * kl0);
    ck_assert_int_gt(r.steps, 0);
    ck_assert_int_eq(r.forget_size, 40);
    double bound = lf_test_figure(&r, "remi.acc_bound");
    ck_assert(bound >= 0.5 && bound <= 1.0);
    ck_assert_double_lt(lf_test_figure(&r, "remi.auc_after"), lf_test_figure(&r, "remi.auc_before"));
    ck_assert_double_eq(lf_test_figure(&r, "remi.converged"), 1.0);
    lf_dataset *retain = NULL, *forget = NULL;
    lf_forget_spec spec = lf_test_random_spec(0.2);
    ck_assert_lf_ok(lf_dataset_split_forget(&retain, &forget, train, &spec));
    ck_assert_double_ge(lf_test_accuracy(out, retain), 0.5);   /* chance is 0.25 */
    lf_dataset_destroy(retain);
    lf_dataset_destroy(forget);
    free(before);
    free(after);
    lf_model_destroy(out);
    lf_request_destroy(req);
}
END_TEST

/* An absurd learning rate wrecks the model at once: the guard must notice at the first check
 * and return the best checkpoint, which is still within the guard of the original. */
START_TEST(guard_restores_the_best_checkpoint)
{
    lf_request *req = remi_request(lf_test_random_spec(0.2));
    ck_assert_lf_ok(lf_request_set_double(req, "lr", 10.0));
    lf_model *out = NULL;
    lf_unlearn_result r = LF_UNLEARN_RESULT_INIT;
    lf_status st = lf_unlearn(req, memoriser, &out, &r);
    if (st == LF_E_NUMERIC) {   /* diverged to a non-finite loss first: also a clean stop */
        ck_assert_ptr_null(out);
    } else {
        ck_assert_lf_ok(st);
        ck_assert_double_eq(lf_test_figure(&r, "remi.guard_tripped"), 1.0);
        lf_dataset *retain = NULL, *forget = NULL;
        lf_forget_spec spec = lf_test_random_spec(0.2);
        ck_assert_lf_ok(lf_dataset_split_forget(&retain, &forget, train, &spec));
        ck_assert_double_ge(lf_test_accuracy(out, retain), lf_test_accuracy(memoriser, retain) - 0.05);
        lf_dataset_destroy(retain);
        lf_dataset_destroy(forget);
        lf_model_destroy(out);
    }
    lf_request_destroy(req);
}
END_TEST

/* The final figures come from scores kept with the best checkpoint (or the last check); with
 * remi.refit_every set the run re-scores the returned model instead. A refit interval longer
 * than the run never refits, so both must agree to the bit: once for a run that converges (the
 * last check's scores) and once for one that cannot (tolerance 0: the best checkpoint comes
 * back with its scores). */
START_TEST(kept_scores_match_a_fresh_measurement)
{
    static const char *const figures[] = { "remi.gap_a", "remi.kl", "remi.auc_after",
                                           "remi.acc_bound", "remi.converged" };
    for (int never_converges = 0; never_converges < 2; never_converges++) {
        double got[2][sizeof figures / sizeof figures[0]];
        for (int rescore = 0; rescore < 2; rescore++) {
            lf_request *req = remi_request(lf_test_random_spec(0.2));
            ck_assert_lf_ok(lf_request_set_double(req, "remi.guard_points", 100));
            ck_assert_lf_ok(lf_request_set_double(req, "lr", 0.01));
            ck_assert_lf_ok(lf_request_set_double(req, "remi.lambda_kl", 1.0));
            ck_assert_lf_ok(lf_request_set_double(req, "remi.gap_tol", never_converges ? 0.0 : 0.02));
            ck_assert_lf_ok(lf_request_set_double(req, "remi.kl_tol", never_converges ? 0.0 : 0.01));
            ck_assert_lf_ok(lf_request_set_int(req, "remi.max_steps", 60));
            ck_assert_lf_ok(lf_request_set_int(req, "remi.refit_every", rescore ? 1000000 : 0));
            lf_model *out = NULL;
            lf_unlearn_result r = LF_UNLEARN_RESULT_INIT;
            ck_assert_lf_ok(lf_unlearn(req, memoriser, &out, &r));
            ck_assert_double_eq(lf_test_figure(&r, "remi.converged"), never_converges ? 0.0 : 1.0);
            for (size_t f = 0; f < sizeof figures / sizeof figures[0]; f++)
                got[rescore][f] = lf_test_figure(&r, figures[f]);
            lf_model_destroy(out);
            lf_request_destroy(req);
        }
        for (size_t f = 0; f < sizeof figures / sizeof figures[0]; f++)
            ck_assert_msg(got[0][f] == got[1][f], "%s: kept %.17g, re-scored %.17g (%s)",
                          figures[f], got[0][f], got[1][f],
                          never_converges ? "best checkpoint" : "converged");
    }
}
END_TEST

/* A caller's approximator: sigmoid of the true-class logit margin over the runner-up. */
typedef struct scorer_state {
    int64_t calls, rows;
    int     fail, out_of_range;
} scorer_state;

static int margin_scorer(void *user, const float *logits, const int32_t *labels, int64_t n,
                         int32_t classes, float *scores, float *dscores)
{
    scorer_state *s = user;
    s->calls++;
    s->rows += n;
    if (s->fail)
        return 7;
    for (int64_t i = 0; i < n; i++) {
        const float *l = logits + i * classes;
        int32_t y = labels[i], best = y == 0 ? 1 : 0;
        for (int32_t c = 0; c < classes; c++)
            if (c != y && l[c] > l[best])
                best = c;
        double v = 1.0 / (1.0 + exp(-(double)(l[y] - l[best])));
        scores[i] = s->out_of_range ? 1.5f : (float)v;
        for (int32_t c = 0; c < classes; c++)
            dscores[i * classes + c] = 0.0f;
        dscores[i * classes + y] = (float)(v * (1.0 - v));
        dscores[i * classes + best] = (float)(-v * (1.0 - v));
    }
    return 0;
}

START_TEST(a_callers_approximator_is_used)
{
    scorer_state s = { 0 };
    lf_request *req = remi_request(lf_test_random_spec(0.2));
    ck_assert_lf_ok(lf_request_set_privacy_approximator(req, margin_scorer, &s));
    ck_assert_lf_ok(lf_request_set_int(req, "remi.max_steps", 20));
    lf_model *out = NULL;
    lf_unlearn_result r = LF_UNLEARN_RESULT_INIT;
    ck_assert_lf_ok(lf_unlearn(req, memoriser, &out, &r));
    ck_assert_int_gt(s.calls, r.steps);   /* every step's forget batch, plus the checks */
    ck_assert(isfinite(lf_test_figure(&r, "remi.gap_a")));
    lf_model_destroy(out);

    s.fail = 1;
    ck_assert_lf_status(lf_unlearn(req, memoriser, &out, &r), LF_E_ABORTED);
    ck_assert_ptr_null(out);
    s.fail = 0;
    s.out_of_range = 1;
    ck_assert_lf_status(lf_unlearn(req, memoriser, &out, &r), LF_E_NUMERIC);
    ck_assert_ptr_null(out);
    /* NULL goes back to the built-in one */
    ck_assert_lf_ok(lf_request_set_privacy_approximator(req, NULL, NULL));
    int64_t calls = s.calls;
    ck_assert_lf_ok(lf_unlearn(req, memoriser, &out, &r));
    ck_assert_int_eq(s.calls, calls);
    lf_model_destroy(out);
    lf_request_destroy(req);
}
END_TEST

START_TEST(a_single_sample_can_be_forgotten)
{
    int64_t one = 17;
    lf_forget_spec spec = LF_FORGET_SPEC_INIT;
    spec.kind = LF_FORGET_INDICES;
    spec.indices = &one;
    spec.n_indices = 1;
    lf_request *req = remi_request(spec);
    lf_model *out = NULL;
    lf_unlearn_result r = LF_UNLEARN_RESULT_INIT;
    ck_assert_lf_ok(lf_unlearn(req, memoriser, &out, &r));
    ck_assert_int_eq(r.forget_size, 1);
    ck_assert(isfinite(lf_test_figure(&r, "remi.kl")) && isfinite(lf_test_figure(&r, "remi.acc_bound")));
    ck_assert_int_le(r.steps, 50);   /* T_max = clamp(5·1, 50, 500) */
    lf_model_destroy(out);
    lf_request_destroy(req);
}
END_TEST

/* The weights' -1 defaults resolve by the kind of forget set (the values tuned on Fashion-MNIST,
 * bench/RESULTS.md); a weight the caller sets is used as given. */
START_TEST(default_weights_depend_on_the_forget_kind)
{
    static const struct {
        int    classwise;
        double set_kl;   /* < 0: left at its default */
        double leak, kl;
    } cases[] = { { 0, -1, 1.0, 3.0 }, { 1, -1, 0.0, 0.02 }, { 1, 0.5, 0.0, 0.5 } };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lf_request *req = remi_request(cases[i].classwise ? lf_test_class_spec(1)
                                                          : lf_test_random_spec(0.2));
        ck_assert_lf_ok(lf_request_set_int(req, "remi.max_steps", 10));
        if (cases[i].set_kl >= 0)
            ck_assert_lf_ok(lf_request_set_double(req, "remi.lambda_kl", cases[i].set_kl));
        lf_model *out = NULL;
        lf_unlearn_result r = LF_UNLEARN_RESULT_INIT;
        ck_assert_lf_ok(lf_unlearn(req, memoriser, &out, &r));
        ck_assert_double_eq(lf_test_figure(&r, "remi.lambda_leak"), cases[i].leak);
        ck_assert_double_eq_tol(lf_test_figure(&r, "remi.lambda_kl"), cases[i].kl, 1e-12);
        lf_model_destroy(out);
        lf_request_destroy(req);
    }
}
END_TEST

START_TEST(misuse_is_refused)
{
    lf_request *req = NULL;
    ck_assert_lf_ok(lf_request_create(&req, ctx, "remi"));
    ck_assert_lf_ok(lf_request_set_train(req, train));
    lf_forget_spec spec = lf_test_random_spec(0.2);
    ck_assert_lf_ok(lf_request_set_forget(req, &spec));
    lf_model *out = NULL;
    ck_assert_lf_status(lf_unlearn(req, memoriser, &out, NULL), LF_E_STATE);   /* no holdout */
    ck_assert_ptr_null(out);
    ck_assert_lf_status(lf_request_set_choice(req, "remi.kl_direction", "sideways"),
                        LF_E_OUT_OF_RANGE);
    ck_assert_lf_ok(lf_request_set_choice(req, "remi.kl_direction", "symmetric"));
    lf_request_destroy(req);
    ck_assert_lf_ok(lf_request_create(&req, ctx, "ft"));
    ck_assert_lf_status(lf_request_set_privacy_approximator(req, margin_scorer, NULL),
                        LF_E_UNSUPPORTED);
    lf_request_destroy(req);
    ck_assert_lf_status(lf_request_set_privacy_approximator(NULL, margin_scorer, NULL),
                        LF_E_INVALID_ARG);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("remi");
    TCase *tc = tcase_create("remi");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, gap_and_kl_fall_and_the_input_is_untouched);
    tcase_add_test(tc, guard_restores_the_best_checkpoint);
    tcase_add_test(tc, kept_scores_match_a_fresh_measurement);
    tcase_add_test(tc, a_callers_approximator_is_used);
    tcase_add_test(tc, a_single_sample_can_be_forgotten);
    tcase_add_test(tc, default_weights_depend_on_the_forget_kind);
    tcase_add_test(tc, misuse_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(suite)
