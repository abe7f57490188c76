/* lf_evaluate on a small trained MLP, lf_metrics_disparity, and the report renderings
 * (public API only). */
#include <math.h>

#include "lf_test.h"

static lf_context *ctx;
static lf_model *model;
static lf_dataset *pool, *test, *retain, *forget;

/* A 4-class blob problem, an MLP trained on all of it for a few epochs, and a class-wise split. */
static void setup(void)
{
    ctx = lf_test_context(LF_BACKEND_REFERENCE);
    pool = lf_test_blobs(ctx, 240, 4, 1, 4, 4, 11);
    test = lf_test_blobs(ctx, 80, 4, 1, 4, 4, 11);   /* same centres, fresh noise continues the stream */
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    ck_assert_lf_ok(lf_model_config_from_dataset(&cfg, pool));
    ck_assert_lf_ok(lf_model_create(&model, ctx, "mlp", &cfg));
    lf_train_options t = LF_TRAIN_OPTIONS_INIT;
    t.epochs = 3;
    t.batch_size = 32;
    ck_assert_lf_ok(lf_model_train(model, pool, &t, NULL));
    lf_forget_spec s = LF_FORGET_SPEC_INIT;
    s.kind = LF_FORGET_RANDOM;
    s.fraction = 0.1;
    s.seed = 2;
    ck_assert_lf_ok(lf_dataset_split_forget(&retain, &forget, pool, &s));
}

static void teardown(void)
{
    lf_dataset_destroy(forget);
    lf_dataset_destroy(retain);
    lf_dataset_destroy(test);
    lf_dataset_destroy(pool);
    lf_model_destroy(model);
    lf_context_destroy(ctx);
}

START_TEST(accuracies_agree_with_lf_model_accuracy)
{
    lf_metrics m = LF_METRICS_INIT;
    ck_assert_lf_ok(lf_evaluate(model, forget, retain, test, NULL, &m));
    double af, ar, at;
    ck_assert_lf_ok(lf_model_accuracy(model, forget, &af));
    ck_assert_lf_ok(lf_model_accuracy(model, retain, &ar));
    ck_assert_lf_ok(lf_model_accuracy(model, test, &at));
    ck_assert_double_eq_tol(m.ua, 100.0 - 100.0 * af, 1e-9);
    ck_assert_double_eq_tol(m.ra, 100.0 * ar, 1e-9);
    ck_assert_double_eq_tol(m.ta, 100.0 * at, 1e-9);
    ck_assert_int_eq(m.n_forget, 24);
    ck_assert_int_eq(m.n_retain, 216);
    ck_assert_int_eq(m.n_test, 80);
    ck_assert_int_eq(m.n_mia_members, 80);   /* min(|D_r|, |D_test|) */
    ck_assert(m.mia_efficacy >= 0.0 && m.mia_efficacy <= 100.0);
    /* MIA-Efficacy is a multiple of 100/|D_f| */
    double k = m.mia_efficacy * (double)m.n_forget / 100.0;
    ck_assert_double_eq_tol(k, round(k), 1e-9);
    for (int a = 0; a < LF_ATTACK_COUNT; a++) {
        ck_assert(m.attack_tpr[a] >= 0.0 && m.attack_tpr[a] <= 100.0);
        ck_assert_double_eq_tol(m.attack_accuracy[a], (m.attack_tpr[a] + m.attack_tnr[a]) / 2, 1e-9);
    }
    ck_assert_int_eq(m.n_shadow_members + m.n_target_members, m.n_retain);
    ck_assert(m.seconds >= m.mia_seconds && m.mia_seconds >= 0.0);
}
END_TEST

START_TEST(skip_flags_and_deterministic)
{
    lf_eval_options o = LF_EVAL_OPTIONS_INIT;
    o.flags = LF_EVAL_SKIP_MIA | LF_EVAL_SKIP_ATTACKS;
    lf_metrics a = LF_METRICS_INIT, b = LF_METRICS_INIT, c = LF_METRICS_INIT;
    ck_assert_lf_ok(lf_evaluate(model, forget, retain, test, &o, &a));
    ck_assert(isnan(a.mia_efficacy));
    ck_assert(isnan(a.attack_tpr[LF_ATTACK_CONFIDENCE]));
    double d;
    ck_assert_lf_status(lf_metrics_disparity(&d, &a, &a), LF_E_NUMERIC);
    ck_assert_lf_ok(lf_evaluate(model, forget, retain, test, NULL, &b));
    ck_assert_lf_ok(lf_evaluate(model, forget, retain, test, NULL, &c));
    ck_assert_double_eq(b.mia_efficacy, c.mia_efficacy);
    ck_assert_double_eq(b.attack_tpr[LF_ATTACK_ENTROPY], c.attack_tpr[LF_ATTACK_ENTROPY]);
    ck_assert_lf_ok(lf_metrics_disparity(&d, &b, &c));
    ck_assert_double_eq(d, 0.0);
}
END_TEST

START_TEST(disparity_by_hand)
{
    lf_metrics m = LF_METRICS_INIT, r = LF_METRICS_INIT;
    m.ua = 10; m.mia_efficacy = 20; m.ra = 99; m.ta = 90;
    r.ua = 12; r.mia_efficacy = 30; r.ra = 100; r.ta = 91;
    double d;
    ck_assert_lf_ok(lf_metrics_disparity(&d, &m, &r));
    ck_assert_double_eq_tol(d, (2 + 10 + 1 + 1) / 4.0, 1e-12);
    ck_assert_lf_status(lf_metrics_disparity(&d, NULL, &r), LF_E_INVALID_ARG);
}
END_TEST

static int abort_at_first(void *user, const lf_progress *p)
{
    (void)p;
    ++*(int *)user;
    return 1;
}

START_TEST(bad_input_and_abort)
{
    lf_metrics m = LF_METRICS_INIT;
    ck_assert_lf_status(lf_evaluate(NULL, forget, retain, test, NULL, &m), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_evaluate(model, NULL, retain, test, NULL, &m), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_evaluate(model, forget, retain, test, NULL, NULL), LF_E_INVALID_ARG);
    /* a data set with more classes than the model */
    lf_dataset *wide = lf_test_blobs(ctx, 20, 6, 1, 4, 4, 3);
    ck_assert_lf_status(lf_evaluate(model, forget, retain, wide, NULL, &m), LF_E_SHAPE);
    lf_dataset_destroy(wide);
    /* another input shape */
    lf_dataset *other = lf_test_blobs(ctx, 20, 4, 1, 3, 3, 3);
    ck_assert_lf_status(lf_evaluate(model, other, retain, test, NULL, &m), LF_E_SHAPE);
    lf_dataset_destroy(other);
    int calls = 0;
    lf_eval_options o = LF_EVAL_OPTIONS_INIT;
    o.progress = abort_at_first;
    o.progress_user = &calls;
    ck_assert_lf_status(lf_evaluate(model, forget, retain, test, &o, &m), LF_E_ABORTED);
    ck_assert_int_eq(calls, 1);
    o.progress = NULL;
    o.mia_feature = 77;
    ck_assert_lf_status(lf_evaluate(model, forget, retain, test, &o, &m), LF_E_INVALID_ARG);
}
END_TEST

START_TEST(report_table_json_csv)
{
    lf_report *rep = NULL;
    ck_assert_lf_ok(lf_report_create(&rep, ctx));
    lf_metrics r = LF_METRICS_INIT, f = LF_METRICS_INIT;
    r.ua = 10; r.mia_efficacy = 20; r.ra = 100; r.ta = 90;
    f.ua = 12; f.mia_efficacy = 30; f.ra = 99; f.ta = 91;
    lf_report_row row = LF_REPORT_ROW_INIT;
    row.method = "retrain";
    row.backend = "cpu";
    row.threads = 2;
    row.seconds = 40.0;
    ck_assert_lf_ok(lf_report_add(rep, &row, &r));
    row.method = "ft";
    row.seconds = 4.0;
    ck_assert_lf_ok(lf_report_add(rep, &row, &f));
    ck_assert_uint_eq(lf_report_count(rep), 2);
    row.method = "";
    ck_assert_lf_status(lf_report_add(rep, &row, &f), LF_E_INVALID_ARG);

    size_t need = 0;
    ck_assert_lf_ok(lf_report_render(rep, LF_REPORT_TABLE, NULL, 0, &need));
    char *buf = malloc(need + 1);
    ck_assert_lf_ok(lf_report_render(rep, LF_REPORT_TABLE, buf, need + 1, &need));
    ck_assert_uint_eq(strlen(buf), need);
    ck_assert_msg(strstr(buf, "retrain") && strstr(buf, "ft"), "%s", buf);
    ck_assert_msg(strstr(buf, "3.50"), "Avg. Disparity (2+10+1+1)/4 missing:\n%s", buf);
    ck_assert_msg(strstr(buf, "10.0"), "speed-up 40/4 missing:\n%s", buf);
    free(buf);

    ck_assert_lf_ok(lf_report_render(rep, LF_REPORT_JSON, NULL, 0, &need));
    buf = malloc(need + 1);
    ck_assert_lf_ok(lf_report_render(rep, LF_REPORT_JSON, buf, need + 1, &need));
    ck_assert_msg(strstr(buf, "\"method\"") && strstr(buf, "\"avg_disparity\""), "%s", buf);
    free(buf);

    const char *dir = lf_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/report.csv", dir);
    ck_assert_lf_ok(lf_report_write(rep, LF_REPORT_CSV, path));
    FILE *fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    char line[1024];
    int lines = 0;
    while (fgets(line, sizeof line, fp))
        lines++;
    fclose(fp);
    ck_assert_int_eq(lines, 3);   /* header + 2 rows */
    snprintf(path, sizeof path, "%s/missing/report.json", dir);
    ck_assert_lf_status(lf_report_write(rep, LF_REPORT_JSON, path), LF_E_IO);
    lf_report_destroy(rep);
    lf_report_destroy(NULL);
}
END_TEST

static Suite *evaluate_suite(void)
{
    Suite *s = suite_create("evaluate");
    TCase *tc = tcase_create("eval");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, accuracies_agree_with_lf_model_accuracy);
    tcase_add_test(tc, skip_flags_and_deterministic);
    tcase_add_test(tc, disparity_by_hand);
    tcase_add_test(tc, bad_input_and_abort);
    tcase_add_test(tc, report_table_json_csv);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(evaluate_suite)
