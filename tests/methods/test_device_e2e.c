/* The public API end to end on a backend named on the command line ("cpu", "cuda") against the
 * reference backend, through the shared library:
 *  (a) one training step of mlp, convnet and resnet18 on 16×16×3 inputs, batch 8: the
 *      parameters' change (lr 1, so the change is the gradient) agrees within 1e-4 of its
 *      largest magnitude, and so do the parameters;
 *  (b) every built-in method, with tiny settings, on a small memorisation problem (random
 *      labels: the original model knows its training set, unseen samples sit at chance), from
 *      the same original model on both backends: the run succeeds on both, the output's
 *      parameters are finite, and its accuracies on the retain and forget sets agree with the
 *      reference run's within ACC_TOL.
 * Exit 77 (skipped) when the backend is not available. Run it with "cuda" with CK_FORK=no: a
 * CUDA context does not survive Check's fork. */
#include "lf_test.h"

/* Accuracy agreement, in fractions. The two runs start from the same weights and draw the
 * same random numbers; they differ only in float rounding (summation order, FMA contraction).
 * Measured with the cpu backend (OpenBLAS and oneDNN float sums against the reference's double
 * ones) over 10 forget sets and request seeds: every run's accuracies equal the reference's
 * exactly; the output parameters differ by at most 2e-7 of their largest magnitude, up to 1e-4
 * for retrain, 6e-4 for DAU and 8e-3 for IU's cg (finite-difference Hessian products amplify
 * rounding). A GPU's float sums are as far from the reference's as the cpu's, so at most a
 * borderline sample or two should flip: 0.05 lets one of the 32 forget samples (0.031) and six
 * of the 128 retain samples flip. Every run moves an accuracy by more than that (asserted
 * below), so a backend whose updates do nothing fails (measured: all nine runs do), and
 * another request seed alone moves them by up to 0.16. */
static const double ACC_TOL = 0.05;

static lf_backend_kind dut_kind;

static lf_context *context_on(lf_backend_kind kind)
{
    return lf_test_context_threads(kind, 2);
}

/* max|a − b| ≤ 1e-4 · max|b| (b not all zero) */
static void assert_close(const char *what, const char *arch, const float *a, const float *b, size_t n)
{
    double worst = 0, scale = 0;
    size_t at = 0, bad = n;   /* one assertion each, not one per element: each costs a write */
    for (size_t i = 0; i < n; i++) {
        if (bad == n && !isfinite(a[i]))
            bad = i;
        const double d = fabs((double)a[i] - b[i]);
        if (d > worst)
            worst = d, at = i;
        scale = fmax(scale, fabs((double)b[i]));
    }
    ck_assert_msg(bad == n, "%s, %s [%zu]: %g", arch, what, bad, bad < n ? a[bad] : 0.0f);
    ck_assert_msg(scale > 0, "%s, %s: all zero", arch, what);
    ck_assert_msg(worst <= 1e-4 * scale, "%s, %s: max difference %.3g at [%zu], scale %.3g", arch,
                  what, worst, at, scale);
}

/* ---- (a) one training step ---- */

static const char *const archs[] = { "mlp", "convnet", "resnet18" };

START_TEST(training_step_agrees)
{
    const char *arch = archs[_i];
    lf_context *ctx[2] = { context_on(LF_BACKEND_REFERENCE), context_on(dut_kind) };
    lf_model *m[2];
    float *p0 = NULL, *change[2];
    for (int k = 0; k < 2; k++) {
        lf_dataset *ds = lf_test_blobs(ctx[k], 8, 4, 3, 16, 16, 17);
        lf_model_config cfg = LF_MODEL_CONFIG_INIT;
        ck_assert_lf_ok(lf_model_config_from_dataset(&cfg, ds));
        cfg.seed = 5;
        ck_assert_lf_ok(lf_model_create(&m[k], ctx[k], arch, &cfg));
        change[k] = lf_test_params(m[k]);
        if (k == 0)
            p0 = lf_test_params(m[k]);
        else
            ck_assert_msg(memcmp(p0, change[k], lf_model_num_params(m[k]) * sizeof *p0) == 0,
                          "%s: the two initialisations differ", arch);
        lf_train_options t = LF_TRAIN_OPTIONS_INIT;
        t.epochs = 1;
        t.batch_size = 8;   /* one step */
        t.lr = 1.0;
        t.weight_decay = -1;
        t.seed = 9;
        ck_assert_lf_ok(lf_model_train(m[k], ds, &t, NULL));
        lf_dataset_destroy(ds);
    }
    const size_t n = lf_model_num_params(m[0]);
    float *after[2] = { lf_test_params(m[0]), lf_test_params(m[1]) };
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < n; i++)
            change[k][i] = after[k][i] - p0[i];
    assert_close("parameter change (the gradient)", arch, change[1], change[0], n);
    assert_close("parameters after the step", arch, after[1], after[0], n);
    for (int k = 0; k < 2; k++) {
        free(change[k]), free(after[k]);
        lf_model_destroy(m[k]);
        lf_context_destroy(ctx[k]);
    }
    free(p0);
}
END_TEST

/* ---- (b) every method ---- */

enum { N_TRAIN = 160, N_HOLD = 160, CLASSES = 4, SIDE = 4 };

/* Tiny settings, at least one per method: a few steps, enough that the run moves the model. */
typedef struct setting {
    const char *method;
    const char *params[8][2];
} setting;
static const setting settings[] = {
    { "retrain", { { "epochs", "8" }, { "batch", "32" } } },
    { "ft", { { "epochs", "2" }, { "batch", "32" } } },
    { "ga", { { "epochs", "2" }, { "batch", "16" }, { "lr", "0.05" } } },
    { "l1sparse", { { "epochs", "2" }, { "batch", "32" } } },
    { "ff", { { "alpha", "1e-6" } } },
    { "iu", { { "solver", "woodfisher" } } },
    /* damped: on the memoriser undamped cg meets non-positive curvature and returns the
     * original (iu.c); alpha scales the small damped step up to a visible one */
    { "iu", { { "solver", "cg" }, { "lambda", "10" }, { "alpha", "20" }, { "iters", "3" } } },
    /* the guard off: its restore-or-continue decision is a threshold on accuracy */
    { "remi", { { "lr", "0.01" }, { "remi.max_steps", "20" }, { "remi.guard_points", "100" } } },
    /* sens_sigma 5e-2, not the default 1e-3: the sensitivity term (outputs of noisy copies
     * minus the clean output) is then mostly float rounding, which the attacker's Adam steps
     * amplify: over 6 seeds cpu and reference runs end up to 4 of the 32 forget samples apart
     * at 1e-3, 1 at 1e-2, none at 5e-2 (parameters within 1.3e-4) */
    { "dau", { { "epochs", "1" }, { "batch", "32" }, { "lr", "0.03" }, { "dau.pretrain_steps", "20" },
               { "dau.sens_copies", "2" }, { "dau.sens_sigma", "5e-2" } } },
};

#define N_SETTINGS (sizeof settings / sizeof settings[0])

static char model_path[300];   /* the original model (original_setup) */

typedef struct run {
    double retain, forget;            /* the output's accuracies */
    double retain_before, forget_before;   /* the original's */
    float *params;                    /* the output's (malloc'd) */
    size_t n_params;
} run;

/* One method on one backend, from the original model. */
static run run_method(lf_backend_kind kind, const setting *s)
{
    lf_context *ctx = context_on(kind);
    lf_dataset *train = lf_test_random_labels(ctx, N_TRAIN, CLASSES, SIDE, 1234);
    lf_dataset *holdout = lf_test_random_labels(ctx, N_HOLD, CLASSES, SIDE, 99);
    lf_model *original = NULL, *out = NULL;
    ck_assert_lf_ok(lf_model_load(&original, ctx, model_path, NULL));
    lf_forget_spec spec = LF_FORGET_SPEC_INIT;
    spec.kind = LF_FORGET_RANDOM;
    spec.fraction = 0.2;
    spec.seed = 7;
    lf_request *req = NULL;
    ck_assert_lf_ok(lf_request_create(&req, ctx, s->method));
    ck_assert_lf_ok(lf_request_set_train(req, train));
    ck_assert_lf_ok(lf_request_set_forget(req, &spec));
    ck_assert_lf_ok(lf_request_set_holdout(req, holdout));
    ck_assert_lf_ok(lf_request_set_seed(req, 3));
    for (size_t i = 0; i < 8 && s->params[i][0]; i++)
        ck_assert_lf_ok(lf_request_set_param(req, s->params[i][0], s->params[i][1]));
    lf_status st = lf_unlearn(req, original, &out, NULL);
    ck_assert_msg(st == LF_OK, "%s on %s: %s: %s", s->method, lf_backend_name(kind),
                  lf_status_name(st), lf_last_error_message());

    const size_t n = lf_model_num_params(out);
    run r = { .params = lf_test_params(out), .n_params = n };
    size_t bad = 0;
    while (bad < n && isfinite(r.params[bad]))
        bad++;
    ck_assert_msg(bad == n, "%s on %s: parameter %zu is %g", s->method, lf_backend_name(kind), bad,
                  bad < n ? r.params[bad] : 0.0f);
    lf_dataset *retain = NULL, *forget = NULL;
    ck_assert_lf_ok(lf_dataset_split_forget(&retain, &forget, train, &spec));
    r.retain = lf_test_accuracy(out, retain);
    r.forget = lf_test_accuracy(out, forget);
    r.retain_before = lf_test_accuracy(original, retain);
    r.forget_before = lf_test_accuracy(original, forget);
    lf_dataset_destroy(retain), lf_dataset_destroy(forget);
    lf_model_destroy(out), lf_model_destroy(original);
    lf_request_destroy(req);
    lf_dataset_destroy(holdout), lf_dataset_destroy(train);
    lf_context_destroy(ctx);
    return r;
}

START_TEST(every_method_is_run)
{
    for (size_t m = 0; m < lf_method_count(); m++) {
        size_t i = 0;
        while (i < N_SETTINGS && strcmp(settings[i].method, lf_method_name(m)) != 0)
            i++;
        ck_assert_msg(i < N_SETTINGS, "method %s has no tiny settings in this test: add them",
                      lf_method_name(m));
    }
}
END_TEST

START_TEST(method_agrees)
{
    const setting *s = &settings[_i];
    const char *method = s->method;
    run ref = run_method(LF_BACKEND_REFERENCE, s), dut = run_method(dut_kind, s);
    /* the agreement measured, for the log: accuracies, and the parameters' largest difference
     * relative to their largest magnitude (not asserted: see ACC_TOL) */
    double diff = 0, scale = 0;
    ck_assert_uint_eq(dut.n_params, ref.n_params);
    for (size_t i = 0; i < ref.n_params; i++) {
        diff = fmax(diff, fabs((double)dut.params[i] - ref.params[i]));
        scale = fmax(scale, fabs((double)ref.params[i]));
    }
    fprintf(stderr, "# %-8s %s=%s: retain %.4f (reference %.4f, original %.4f), forget %.4f "
            "(reference %.4f, original %.4f), parameters %.2g\n", method, s->params[0][0],
            s->params[0][1], dut.retain, ref.retain, ref.retain_before, dut.forget, ref.forget,
            ref.forget_before, diff / scale);
    free(ref.params), free(dut.params);
    /* the run must move the model, or agreeing shows nothing */
    ck_assert_msg(fabs(ref.retain - ref.retain_before) > ACC_TOL ||
                  fabs(ref.forget - ref.forget_before) > ACC_TOL,
                  "%s: the reference run leaves the accuracies where they were: stronger settings",
                  method);
    ck_assert_msg(fabs(dut.retain - ref.retain) <= ACC_TOL, "%s: retain accuracy %.4f on %s, %.4f "
                  "on the reference", method, dut.retain, lf_backend_name(dut_kind), ref.retain);
    ck_assert_msg(fabs(dut.forget - ref.forget) <= ACC_TOL, "%s: forget accuracy %.4f on %s, %.4f "
                  "on the reference", method, dut.forget, lf_backend_name(dut_kind), ref.forget);
}
END_TEST

/* The original model, trained on the reference backend and saved for both sides to load: an
 * unchecked fixture, run once in Check's parent process, so every (forked) test finds it. */
static void original_setup(void)
{
    lf_context *ctx = context_on(LF_BACKEND_REFERENCE);
    lf_dataset *train = lf_test_random_labels(ctx, N_TRAIN, CLASSES, SIDE, 1234);
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    ck_assert_lf_ok(lf_model_config_from_dataset(&cfg, train));
    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_create(&m, ctx, "mlp", &cfg));
    lf_train_options t = LF_TRAIN_OPTIONS_INIT;
    t.epochs = 80;   /* 94% of the random labels memorised */
    t.batch_size = 32;
    t.lr = 0.05;
    t.schedule = LF_LR_COSINE;
    ck_assert_lf_ok(lf_model_train(m, train, &t, NULL));
    snprintf(model_path, sizeof model_path, "%s/original.safetensors", lf_test_tmpdir());
    ck_assert_lf_ok(lf_model_save(m, model_path));
    lf_model_destroy(m);
    lf_dataset_destroy(train);
    lf_context_destroy(ctx);
}

static void original_teardown(void)
{
    remove(model_path);
    *strrchr(model_path, '/') = '\0';
    remove(model_path);   /* the folder */
}

static Suite *e2e_suite(void)
{
    Suite *s = suite_create("device_e2e");
    TCase *step = tcase_create("training_step");
    tcase_set_timeout(step, 300);
    tcase_add_loop_test(step, training_step_agrees, 0, (int)(sizeof archs / sizeof archs[0]));
    suite_add_tcase(s, step);
    TCase *methods = tcase_create("methods");
    tcase_set_timeout(methods, 300);
    tcase_add_unchecked_fixture(methods, original_setup, original_teardown);
    tcase_add_test(methods, every_method_is_run);
    tcase_add_loop_test(methods, method_agrees, 0, (int)N_SETTINGS);
    suite_add_tcase(s, methods);
    return s;
}

int main(int argc, char **argv)
{
    int rc = lf_test_backend_arg(argc, argv, &dut_kind);
    return rc ? rc : lf_test_run(e2e_suite());
}
