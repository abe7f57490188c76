/* Training: convergence on separable blobs, reproducibility, the progress callback and abort,
 * option validation, the learning-rate schedules, and that every failure leaves the model's
 * parameters bit-identical to before the call (white-box for the schedule). */
#include "lf_test.h"
#include "core/nn/nn_internal.h"

/* 3 blobs in 1×4×4 pixels: 16 → 256 → 256 → 3, about 70k parameters; small sets keep the
 * valgrind pass short */
enum { N_SAMPLES = 150, CLASSES = 3 };

static lf_model *new_model(lf_context *ctx, uint64_t seed)
{
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = 1;
    cfg.height = 4;
    cfg.width = 4;
    cfg.num_classes = CLASSES;
    cfg.seed = seed;
    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_create(&m, ctx, "mlp", &cfg));
    return m;
}

static void assert_params_equal(const lf_model *m, const float *before)
{
    float *now = lf_test_params(m);
    ck_assert_msg(memcmp(now, before, lf_model_num_params(m) * sizeof *now) == 0,
                  "the parameters changed");
    free(now);
}

START_TEST(reaches_full_training_accuracy)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_dataset *ds = lf_test_blobs(ctx, N_SAMPLES, CLASSES, 1, 4, 4, 3);
    lf_model *m = new_model(ctx, 1);
    double acc = 0;
    ck_assert_lf_ok(lf_model_accuracy(m, ds, &acc));
    ck_assert_double_lt(acc, 0.9);   /* not solved before training */
    lf_train_options o = LF_TRAIN_OPTIONS_INIT;
    o.epochs = 8;
    o.batch_size = 32;
    lf_train_result r = LF_TRAIN_RESULT_INIT;
    ck_assert_lf_ok(lf_model_train(m, ds, &o, &r));
    ck_assert_lf_ok(lf_model_accuracy(m, ds, &acc));
    ck_assert_double_eq(acc, 1.0);
    ck_assert_int_eq(r.epochs, 8);
    ck_assert_int_eq(r.steps, 8 * 5);   /* ceil(150 / 32) = 5 batches, the last one partial */
    ck_assert(isfinite(r.final_loss) && r.final_loss >= 0 && r.final_loss < 0.1);
    ck_assert_double_ge(r.train_accuracy, 0.99);
    ck_assert_double_le(r.train_accuracy, 1.0);
    ck_assert_double_ge(r.seconds, 0.0);
    ck_assert_uint_eq(r.struct_size, sizeof r);
    lf_model_destroy(m);
    lf_dataset_destroy(ds);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(same_seed_same_params)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_dataset *ds = lf_test_blobs(ctx, 100, CLASSES, 1, 4, 4, 5);
    lf_model *a = new_model(ctx, 7), *b = new_model(ctx, 7), *c = new_model(ctx, 7);
    lf_train_options o = LF_TRAIN_OPTIONS_INIT;
    o.epochs = 2;
    o.batch_size = 25;
    o.seed = 11;
    ck_assert_lf_ok(lf_model_train(a, ds, &o, NULL));
    ck_assert_lf_ok(lf_model_train(b, ds, &o, NULL));
    o.seed = 12;   /* another shuffle */
    ck_assert_lf_ok(lf_model_train(c, ds, &o, NULL));
    size_t n = lf_model_num_params(a);
    float *pa = lf_test_params(a), *pb = lf_test_params(b), *pc = lf_test_params(c);
    ck_assert_int_eq(memcmp(pa, pb, n * sizeof *pa), 0);
    /* weights that only ever see weight decay (dead units) evolve alike under any order */
    size_t differ = 0;
    for (size_t i = 0; i < n; i++)
        differ += pa[i] != pc[i];
    ck_assert_uint_gt(differ, n / 5);
    free(pa);
    free(pb);
    free(pc);
    lf_model_destroy(a);
    lf_model_destroy(b);
    lf_model_destroy(c);
    lf_dataset_destroy(ds);
    lf_context_destroy(ctx);
}
END_TEST

typedef struct progress_log {
    int      calls, abort_at;
    int64_t  last_step, total;
    int32_t  last_epoch;
    int      ok;   /* every call looked right */
} progress_log;

static int record_progress(void *user, const lf_progress *p)
{
    progress_log *log = user;
    log->calls++;
    if (p->struct_size < sizeof *p || p->step != log->last_step + 1 || p->epoch < log->last_epoch ||
        !isfinite(p->loss) || p->loss < 0 || p->metric < 0 || p->metric > 1 || !p->phase ||
        strcmp(p->phase, "train") != 0 || (log->total && p->total != log->total))
        log->ok = 0;
    log->last_step = p->step;
    log->last_epoch = p->epoch;
    log->total = p->total;
    return log->abort_at && log->calls == log->abort_at;
}

START_TEST(progress_callback_and_abort)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_dataset *ds = lf_test_blobs(ctx, N_SAMPLES, CLASSES, 1, 4, 4, 6);
    lf_model *m = new_model(ctx, 2);
    progress_log log = { 0, 0, 0, 0, 0, 1 };
    lf_train_options o = LF_TRAIN_OPTIONS_INIT;
    o.epochs = 3;
    o.batch_size = 50;
    o.progress = record_progress;
    o.progress_user = &log;
    ck_assert_lf_ok(lf_model_train(m, ds, &o, NULL));
    ck_assert_int_eq(log.calls, 9);
    ck_assert_int_eq(log.total, 9);
    ck_assert_int_eq(log.last_epoch, 2);
    ck_assert(log.ok);

    /* abort at the 5th step (in the second epoch): LF_E_ABORTED, parameters as before the call */
    float *before = lf_test_params(m);
    progress_log stop = { 0, 5, 0, 0, 0, 1 };
    o.progress_user = &stop;
    lf_train_result r = LF_TRAIN_RESULT_INIT;
    ck_assert_lf_status(lf_model_train(m, ds, &o, &r), LF_E_ABORTED);
    ck_assert_int_eq(stop.calls, 5);
    ck_assert(stop.ok);
    assert_params_equal(m, before);
    ck_assert_int_eq(r.steps, 0);   /* no result for a failed call */
    free(before);
    lf_model_destroy(m);
    lf_dataset_destroy(ds);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(bad_options_are_rejected)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_dataset *ds = lf_test_blobs(ctx, 30, CLASSES, 1, 4, 4, 7);
    lf_model *m = new_model(ctx, 3);
    float *before = lf_test_params(m);
    struct { const char *field; lf_status want; lf_train_options o; } cases[8];
    const lf_train_options init = LF_TRAIN_OPTIONS_INIT;
    for (int i = 0; i < 8; i++)
        cases[i].o = init;
    cases[0].field = "epochs";       cases[0].want = LF_E_OUT_OF_RANGE; cases[0].o.epochs = -1;
    cases[1].field = "batch_size";   cases[1].want = LF_E_OUT_OF_RANGE; cases[1].o.batch_size = -5;
    cases[2].field = "lr";           cases[2].want = LF_E_OUT_OF_RANGE; cases[2].o.lr = -0.1;
    cases[3].field = "lr";           cases[3].want = LF_E_OUT_OF_RANGE; cases[3].o.lr = NAN;
    cases[4].field = "schedule";     cases[4].want = LF_E_OUT_OF_RANGE; cases[4].o.schedule = 7;
    cases[5].field = "gamma";        cases[5].want = LF_E_OUT_OF_RANGE; cases[5].o.gamma = -1;
    cases[6].field = "milestones[1]"; cases[6].want = LF_E_OUT_OF_RANGE; cases[6].o.milestones[1] = -2;
    cases[7].field = "struct_size";  cases[7].want = LF_E_ABI;          cases[7].o.struct_size = 3;
    for (int i = 0; i < 8; i++) {
        ck_assert_lf_status(lf_model_train(m, ds, &cases[i].o, NULL), cases[i].want);
        ck_assert_msg(strstr(lf_last_error_message(), cases[i].field), "case %d: '%s' not in '%s'", i,
                      cases[i].field, lf_last_error_message());
    }
    lf_train_options o = init;
    o.momentum = 1.5;
    ck_assert_lf_status(lf_model_train(m, ds, &o, NULL), LF_E_OUT_OF_RANGE);
    /* a newer caller's struct with an option this library does not know */
    struct { lf_train_options o; uint64_t newer; } big = { init, 1 };
    big.o.struct_size = sizeof big;
    ck_assert_lf_status(lf_model_train(m, ds, &big.o, NULL), LF_E_UNSUPPORTED);
    lf_train_result r = LF_TRAIN_RESULT_INIT;
    r.struct_size = 2;
    ck_assert_lf_status(lf_model_train(m, ds, NULL, &r), LF_E_ABI);
    ck_assert_lf_status(lf_model_train(NULL, ds, NULL, NULL), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_train(m, NULL, NULL, NULL), LF_E_INVALID_ARG);
    assert_params_equal(m, before);
    free(before);
    lf_model_destroy(m);
    lf_dataset_destroy(ds);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(defaults_are_resolved)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);   /* seed 1234 */
    lf_train_options o;
    ck_assert_lf_ok(lf__train_options_resolve(&o, NULL, ctx));
    ck_assert_int_eq(o.epochs, 10);
    ck_assert_int_eq(o.batch_size, 128);
    ck_assert_int_eq(o.schedule, LF_LR_CONSTANT);
    ck_assert_double_eq(o.lr, 0.05);
    ck_assert_double_eq(o.momentum, 0.9);
    ck_assert_double_eq(o.weight_decay, 5e-4);
    ck_assert_double_eq(o.gamma, 0.1);
    ck_assert_uint_eq(o.seed, 1234);
    lf_train_options in = LF_TRAIN_OPTIONS_INIT;
    in.momentum = -1;
    in.weight_decay = -1;
    in.seed = 5;
    ck_assert_lf_ok(lf__train_options_resolve(&o, &in, ctx));
    ck_assert_double_eq(o.momentum, 0.0);   /* none */
    ck_assert_double_eq(o.weight_decay, 0.0);
    ck_assert_uint_eq(o.seed, 5);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(lr_schedules)
{
    lf_train_options o = LF_TRAIN_OPTIONS_INIT;
    o.epochs = 10;
    o.lr = 0.05;
    o.gamma = 0.1;
    for (int e = 0; e < 10; e++)
        ck_assert_double_eq(lf__lr_at_epoch(&o, e), 0.05);

    o.schedule = LF_LR_MULTISTEP;
    o.milestones[0] = 3;
    o.milestones[1] = 6;
    const double want[10] = { 0.05, 0.05, 0.05, 0.005, 0.005, 0.005, 0.0005, 0.0005, 0.0005, 0.0005 };
    for (int e = 0; e < 10; e++)
        ck_assert_double_eq_tol(lf__lr_at_epoch(&o, e), want[e], 1e-15);

    o.schedule = LF_LR_COSINE;
    ck_assert_double_eq(lf__lr_at_epoch(&o, 0), 0.05);
    ck_assert_double_eq_tol(lf__lr_at_epoch(&o, 5), 0.025, 1e-15);
    ck_assert_double_eq_tol(lf__lr_at_epoch(&o, 10), 0.0, 1e-15);
    for (int e = 0; e < 10; e++)
        ck_assert_double_eq_tol(lf__lr_at_epoch(&o, e), 0.05 * (1 + cos(M_PI * e / 10.0)) / 2, 1e-15);
}
END_TEST

START_TEST(schedule_drives_training)
{
    /* multistep with a milestone at epoch 1 and gamma 1e-30: the second epoch's steps are
     * ~1e-31·update, far below half an ulp of any weight, so two epochs end bit-identical to
     * one epoch of the constant schedule */
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_dataset *ds = lf_test_blobs(ctx, 120, CLASSES, 1, 4, 4, 8);
    lf_model *one = new_model(ctx, 4), *two = new_model(ctx, 4);
    lf_train_options o = LF_TRAIN_OPTIONS_INIT;
    o.epochs = 1;
    o.batch_size = 40;
    ck_assert_lf_ok(lf_model_train(one, ds, &o, NULL));
    o.epochs = 2;
    o.schedule = LF_LR_MULTISTEP;
    o.milestones[0] = 1;
    o.gamma = 1e-30;
    ck_assert_lf_ok(lf_model_train(two, ds, &o, NULL));
    float *p1 = lf_test_params(one);
    assert_params_equal(two, p1);
    /* while the constant schedule keeps moving */
    o.schedule = LF_LR_CONSTANT;
    lf_model *moving = new_model(ctx, 4);
    ck_assert_lf_ok(lf_model_train(moving, ds, &o, NULL));
    float *pm = lf_test_params(moving);
    ck_assert(memcmp(p1, pm, lf_model_num_params(one) * sizeof *p1) != 0);
    free(p1);
    free(pm);
    lf_model_destroy(one);
    lf_model_destroy(two);
    lf_model_destroy(moving);
    lf_dataset_destroy(ds);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(divergence_is_reported_and_undone)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_dataset *ds = lf_test_blobs(ctx, 120, CLASSES, 1, 4, 4, 9);
    lf_model *m = new_model(ctx, 5);
    float *before = lf_test_params(m);
    lf_train_options o = LF_TRAIN_OPTIONS_INIT;
    o.epochs = 2;
    o.batch_size = 40;
    o.lr = 1e30;
    ck_assert_lf_status(lf_model_train(m, ds, &o, NULL), LF_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "epoch"));
    assert_params_equal(m, before);
    /* and the model still trains normally afterwards */
    o.lr = 0;
    ck_assert_lf_ok(lf_model_train(m, ds, &o, NULL));
    free(before);
    lf_model_destroy(m);
    lf_dataset_destroy(ds);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(dataset_must_fit)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model *m = new_model(ctx, 6);
    lf_dataset *more_classes = lf_test_blobs(ctx, 20, CLASSES + 2, 1, 4, 4, 1);
    lf_dataset *flat = lf_test_blobs(ctx, 20, CLASSES, 1, 1, 16, 1);   /* 16 values: fits the MLP */
    float *before = lf_test_params(m);
    ck_assert_lf_status(lf_model_train(m, more_classes, NULL, NULL), LF_E_SHAPE);
    assert_params_equal(m, before);
    lf_train_options o = LF_TRAIN_OPTIONS_INIT;
    o.epochs = 1;
    o.batch_size = 1000;   /* larger than the data set: one partial batch */
    lf_train_result r = LF_TRAIN_RESULT_INIT;
    ck_assert_lf_ok(lf_model_train(m, flat, &o, &r));
    ck_assert_int_eq(r.steps, 1);
    free(before);
    lf_model_destroy(m);
    lf_dataset_destroy(more_classes);
    lf_dataset_destroy(flat);
    lf_context_destroy(ctx);
}
END_TEST

static Suite *train_suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, reaches_full_training_accuracy);
    tcase_add_test(tc, same_seed_same_params);
    tcase_add_test(tc, progress_callback_and_abort);
    tcase_add_test(tc, bad_options_are_rejected);
    tcase_add_test(tc, defaults_are_resolved);
    tcase_add_test(tc, lr_schedules);
    tcase_add_test(tc, schedule_drives_training);
    tcase_add_test(tc, divergence_is_reported_and_undone);
    tcase_add_test(tc, dataset_must_fit);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(train_suite)
