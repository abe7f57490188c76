/* Misuse of eval.h (issue 9, item 4): the array-level functions with NULL arrays, zero sizes,
 * out-of-range labels and NaN/Inf values; lf_evaluate with NULL or empty sets, sets that do
 * not fit the model and bad options; reports with bad rows and formats. Each returns the
 * documented status with its own detail message; the caller's arrays, model and data sets are
 * unchanged. */
#include <math.h>

#include "misuse.h"

enum { N = 24, CLASSES = 3, SIDE = 4 };

static lf_context *ctx;
static lf_dataset *ds, *more_classes, *other_shape, *one;
static lf_model *mlp;
static uint64_t mlp_hash, ds_hash;

static void setup(void)
{
    ctx = lf_test_context(LF_BACKEND_REFERENCE);
    ds = lf_test_blobs(ctx, N, CLASSES, 1, SIDE, SIDE, 9);
    more_classes = lf_test_blobs(ctx, N, CLASSES + 1, 1, SIDE, SIDE, 9);
    other_shape = lf_test_blobs(ctx, N, CLASSES, 1, SIDE, SIDE + 2, 9);
    const int64_t first[] = { 0 };
    ck_assert_lf_ok(lf_dataset_view(&one, ds, first, 1));
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    ck_assert_lf_ok(lf_model_config_from_dataset(&cfg, ds));
    ck_assert_lf_ok(lf_model_create(&mlp, ctx, "mlp", &cfg));
    mlp_hash = model_hash(mlp);
    ds_hash = dataset_hash(ds);
}

static void teardown(void)
{
    lf_model_destroy(mlp);
    lf_dataset_destroy(one);
    lf_dataset_destroy(ds);
    lf_dataset_destroy(more_classes);
    lf_dataset_destroy(other_shape);
    lf_context_destroy(ctx);
}

static void assert_unchanged(void)
{
    ck_assert_uint_eq(model_hash(mlp), mlp_hash);
    ck_assert_uint_eq(dataset_hash(ds), ds_hash);
}

START_TEST(names)
{
    ck_assert_str_eq(lf_feature_name((lf_feature)99), "unknown");
    ck_assert_str_eq(lf_feature_name((lf_feature)-1), "unknown");
    ck_assert_str_eq(lf_attack_name((lf_attack)LF_ATTACK_COUNT), "unknown");
    ck_assert_str_eq(lf_attack_name((lf_attack)-1), "unknown");
}
END_TEST

START_TEST(features_and_confidences)
{
    float probs[2 * CLASSES] = { 0.2f, 0.3f, 0.5f, 0.6f, 0.2f, 0.2f };
    float logits[2 * CLASSES] = { 1, 2, 3, 0, -1, 4 };
    int32_t labels[2] = { 2, 0 };
    double out[2] = { -7, -7 };
    uint64_t before = fnv1a(probs, sizeof probs, fnv1a(logits, sizeof logits, fnv1a(labels, sizeof labels, FNV_BASIS)));
    MISUSE(lf_features_from_probs(NULL, probs, labels, 2, CLASSES, LF_FEATURE_ENTROPY), LF_E_INVALID_ARG, "out");
    MISUSE(lf_features_from_probs(out, NULL, labels, 2, CLASSES, LF_FEATURE_ENTROPY), LF_E_INVALID_ARG, "probs");
    MISUSE(lf_features_from_probs(out, probs, NULL, 2, CLASSES, LF_FEATURE_ENTROPY), LF_E_INVALID_ARG, "labels");
    MISUSE(lf_features_from_probs(out, probs, labels, 2, 0, LF_FEATURE_ENTROPY), LF_E_INVALID_ARG, "classes");
    MISUSE(lf_features_from_probs(out, probs, labels, 2, -3, LF_FEATURE_ENTROPY), LF_E_INVALID_ARG, "classes");
    MISUSE(lf_features_from_probs(out, probs, labels, 2, CLASSES, (lf_feature)42), LF_E_INVALID_ARG, "feature 42");
    MISUSE(lf_features_from_probs(out, probs, labels, SIZE_MAX / 2, CLASSES, LF_FEATURE_ENTROPY), LF_E_INVALID_ARG,
           "overflows");
    ck_assert_lf_ok(lf_features_from_probs(NULL, NULL, NULL, 0, CLASSES, LF_FEATURE_ENTROPY));   /* n = 0 */
    int32_t bad_labels[2] = { 2, CLASSES };
    MISUSE(lf_features_from_probs(out, probs, bad_labels, 2, CLASSES, LF_FEATURE_ENTROPY), LF_E_OUT_OF_RANGE, "row 1");
    bad_labels[1] = -1;
    MISUSE(lf_features_from_probs(out, probs, bad_labels, 2, CLASSES, LF_FEATURE_ENTROPY), LF_E_OUT_OF_RANGE, "row 1");
    const float nonfinite[] = { NAN, INFINITY, -INFINITY };
    for (size_t i = 0; i < 3; i++) {
        float p[2 * CLASSES], l[2 * CLASSES];
        memcpy(p, probs, sizeof p);
        memcpy(l, logits, sizeof l);
        p[4] = l[4] = nonfinite[i];
        MISUSE(lf_features_from_probs(out, p, labels, 2, CLASSES, LF_FEATURE_ENTROPY), LF_E_NUMERIC, "row 1");
        MISUSE(lf_logit_confidences(out, l, labels, 2, CLASSES), LF_E_NUMERIC, "row 1");
    }
    float p[2 * CLASSES];
    memcpy(p, probs, sizeof p);
    p[1] = 1.5f;
    MISUSE(lf_features_from_probs(out, p, labels, 2, CLASSES, LF_FEATURE_ENTROPY), LF_E_OUT_OF_RANGE, "row 0");
    p[1] = -0.1f;
    MISUSE(lf_features_from_probs(out, p, labels, 2, CLASSES, LF_FEATURE_ENTROPY), LF_E_OUT_OF_RANGE, "row 0");

    MISUSE(lf_logit_confidences(NULL, logits, labels, 2, CLASSES), LF_E_INVALID_ARG, "conf");
    MISUSE(lf_logit_confidences(out, NULL, labels, 2, CLASSES), LF_E_INVALID_ARG, "logits");
    MISUSE(lf_logit_confidences(out, logits, NULL, 2, CLASSES), LF_E_INVALID_ARG, "labels");
    MISUSE(lf_logit_confidences(out, logits, labels, 2, 0), LF_E_INVALID_ARG, "classes");
    MISUSE(lf_logit_confidences(out, logits, bad_labels, 2, CLASSES), LF_E_OUT_OF_RANGE, "row 1");
    ck_assert_uint_eq(fnv1a(probs, sizeof probs, fnv1a(logits, sizeof logits, fnv1a(labels, sizeof labels, FNV_BASIS))),
                      before);

    double conf[N + 1];
    MISUSE(lf_model_logit_confidences(NULL, ds, conf, N), LF_E_INVALID_ARG, "model");
    MISUSE(lf_model_logit_confidences(mlp, NULL, conf, N), LF_E_INVALID_ARG, "ds");
    MISUSE(lf_model_logit_confidences(mlp, ds, NULL, N), LF_E_INVALID_ARG, "conf");
    MISUSE(lf_model_logit_confidences(mlp, ds, conf, N + 1), LF_E_INVALID_ARG, "n = 25");
    MISUSE(lf_model_logit_confidences(mlp, ds, conf, 0), LF_E_INVALID_ARG, "n = 0");
    MISUSE(lf_model_logit_confidences(mlp, more_classes, conf, N), LF_E_SHAPE, "4 classes");
    MISUSE(lf_model_logit_confidences(mlp, other_shape, conf, N), LF_E_SHAPE, "4 x 6");
    assert_unchanged();
}
END_TEST

START_TEST(mia_and_attacks)
{
    double in[4] = { 0.9, 0.8, 0.95, 0.7 }, out_[4] = { 0.3, 0.5, 0.2, 0.4 }, t[2] = { 0.6, 0.1 };
    int32_t lin[4] = { 0, 1, 0, 1 }, lout[4] = { 1, 0, 1, 0 }, lt[2] = { 0, 1 };
    double eff = -1;
    int32_t member[2];
    MISUSE(lf_mia_efficacy(NULL, member, in, 4, out_, 4, t, 2, 0), LF_E_INVALID_ARG, "efficacy");
    MISUSE(lf_mia_efficacy(&eff, member, NULL, 4, out_, 4, t, 2, 0), LF_E_INVALID_ARG, "member set");
    MISUSE(lf_mia_efficacy(&eff, member, in, 0, out_, 4, t, 2, 0), LF_E_INVALID_ARG, "member set");
    MISUSE(lf_mia_efficacy(&eff, member, in, 4, NULL, 4, t, 2, 0), LF_E_INVALID_ARG, "non-member set");
    MISUSE(lf_mia_efficacy(&eff, member, in, 4, out_, 0, t, 2, 0), LF_E_INVALID_ARG, "non-member set");
    MISUSE(lf_mia_efficacy(&eff, member, in, 4, out_, 4, NULL, 2, 0), LF_E_INVALID_ARG, "target set");
    MISUSE(lf_mia_efficacy(&eff, member, in, 4, out_, 4, t, 0, 0), LF_E_INVALID_ARG, "target set");
    MISUSE(lf_mia_efficacy(&eff, member, in, 4, out_, 4, t, 2, -1), LF_E_OUT_OF_RANGE, "cache_mb");
    MISUSE(lf_mia_efficacy(&eff, member, in, 4, out_, 4, t, 2, NAN), LF_E_OUT_OF_RANGE, "cache_mb");
    MISUSE(lf_mia_efficacy(&eff, member, in, 4, out_, 4, t, 2, 1e9), LF_E_OUT_OF_RANGE, "cache_mb");
    MISUSE(lf_mia_efficacy(&eff, member, in, SIZE_MAX - 1, out_, 4, t, 2, 0), LF_E_INVALID_ARG, "libsvm");
    const double nonfinite[] = { NAN, INFINITY, -INFINITY };
    for (size_t i = 0; i < 3; i++) {
        double a[4], b[4], c[2];
        memcpy(a, in, sizeof a);
        memcpy(b, out_, sizeof b);
        memcpy(c, t, sizeof c);
        a[3] = nonfinite[i];
        MISUSE(lf_mia_efficacy(&eff, member, a, 4, out_, 4, t, 2, 0), LF_E_NUMERIC, "members[3]");
        b[0] = nonfinite[i];
        MISUSE(lf_mia_efficacy(&eff, member, in, 4, b, 4, t, 2, 0), LF_E_NUMERIC, "nonmembers[0]");
        c[1] = nonfinite[i];
        MISUSE(lf_mia_efficacy(&eff, member, in, 4, out_, 4, c, 2, 0), LF_E_NUMERIC, "targets[1]");
        ck_assert(isnan(eff));
    }

    lf_attack_result r = LF_ATTACK_RESULT_INIT;
    double ones[2] = { 1, 0 }, zeros[2] = { 0, 1 };
    MISUSE(lf_attack_correctness(NULL, ones, 2, zeros, 2), LF_E_INVALID_ARG, "result");
    MISUSE(lf_attack_correctness(&r, NULL, 2, zeros, 2), LF_E_INVALID_ARG, "member set");
    MISUSE(lf_attack_correctness(&r, ones, 0, zeros, 2), LF_E_INVALID_ARG, "member set");
    MISUSE(lf_attack_correctness(&r, ones, 2, NULL, 2), LF_E_INVALID_ARG, "non-member");
    MISUSE(lf_attack_correctness(&r, ones, 2, zeros, 0), LF_E_INVALID_ARG, "non-member");
    double two[2] = { 2, 0 }, nan2[2] = { NAN, 0 };
    MISUSE(lf_attack_correctness(&r, two, 2, zeros, 2), LF_E_OUT_OF_RANGE, "lf_attack_correctness");
    MISUSE(lf_attack_correctness(&r, ones, 2, nan2, 2), LF_E_NUMERIC, "lf_attack_correctness");
    r.struct_size = 2;
    MISUSE(lf_attack_correctness(&r, ones, 2, zeros, 2), LF_E_ABI, "lf_attack_result");

    r = (lf_attack_result)LF_ATTACK_RESULT_INIT;
    double thr[2];
#define THRESH(res, tin, ltin, ntin, classes)                                                  \
    lf_attack_threshold(res, thr, in, lin, 4, out_, lout, 4, tin, ltin, ntin, t, lt, 2, classes)
    MISUSE(THRESH(NULL, t, lt, 2, 2), LF_E_INVALID_ARG, "result");
    MISUSE(THRESH(&r, t, lt, 2, 0), LF_E_INVALID_ARG, "num_classes");
    MISUSE(THRESH(&r, t, lt, 0, 2), LF_E_INVALID_ARG, "target member set");
    MISUSE(THRESH(&r, NULL, lt, 2, 2), LF_E_INVALID_ARG, "values are NULL");
    MISUSE(THRESH(&r, t, NULL, 2, 2), LF_E_INVALID_ARG, "labels are NULL");
    int32_t bad_lt[2] = { 0, 2 };
    MISUSE(THRESH(&r, t, bad_lt, 2, 2), LF_E_OUT_OF_RANGE, "[1] = 2");
    double nan_t[2] = { 0.5, NAN };
    MISUSE(THRESH(&r, nan_t, lt, 2, 2), LF_E_NUMERIC, "[1] is nan");
    MISUSE(lf_attack_threshold(&r, thr, in, lin, 4, out_, lout, 4, t, lt, 2, t, lt, 0, 2), LF_E_INVALID_ARG,
           "non-member set");
#undef THRESH
    /* the caller's arrays were only read */
    ck_assert(in[3] == 0.7 && out_[0] == 0.3 && t[1] == 0.1 && lt[1] == 1);
}
END_TEST

START_TEST(forgetting_quality)
{
    double a[4] = { 0.1, 0.2, 0.3, 0.4 }, b[4] = { 0.2, 0.1, 0.4, 0.3 }, eps[2];
    lf_fq_result r = LF_FQ_RESULT_INIT;
    MISUSE(lf_forgetting_quality(NULL, eps, a, b, 2, 2, 90, 90, 80, 80), LF_E_INVALID_ARG, "result");
    MISUSE(lf_forgetting_quality(&r, eps, NULL, b, 2, 2, 90, 90, 80, 80), LF_E_INVALID_ARG, "retrained");
    MISUSE(lf_forgetting_quality(&r, eps, a, NULL, 2, 2, 90, 90, 80, 80), LF_E_INVALID_ARG, "unlearned");
    MISUSE(lf_forgetting_quality(&r, eps, a, b, 1, 4, 90, 90, 80, 80), LF_E_INVALID_ARG, "at least 2");
    MISUSE(lf_forgetting_quality(&r, eps, a, b, 2049, 1, 90, 90, 80, 80), LF_E_INVALID_ARG, "at most");
    MISUSE(lf_forgetting_quality(&r, eps, a, b, 2, 0, 90, 90, 80, 80), LF_E_INVALID_ARG, "no forget examples");
    MISUSE(lf_forgetting_quality(&r, eps, a, b, 2, SIZE_MAX, 90, 90, 80, 80), LF_E_INVALID_ARG, "overflows");
    MISUSE(lf_forgetting_quality(&r, eps, a, b, 2, 2, -1, 90, 80, 80), LF_E_INVALID_ARG, "ra_unlearned");
    MISUSE(lf_forgetting_quality(&r, eps, a, b, 2, 2, 90, 0, 80, 80), LF_E_INVALID_ARG, "ra_retrained");
    MISUSE(lf_forgetting_quality(&r, eps, a, b, 2, 2, 90, 90, 80, 0), LF_E_INVALID_ARG, "ta_retrained");
    MISUSE(lf_forgetting_quality(&r, eps, a, b, 2, 2, NAN, 90, 80, 80), LF_E_NUMERIC, "ra_unlearned");
    MISUSE(lf_forgetting_quality(&r, eps, a, b, 2, 2, 90, 90, INFINITY, 80), LF_E_NUMERIC, "ta_unlearned");
    a[2] = NAN;
    MISUSE(lf_forgetting_quality(&r, eps, a, b, 2, 2, 90, 90, 80, 80), LF_E_NUMERIC, "retrained[2]");
    a[2] = 0.3;
    b[3] = -INFINITY;
    MISUSE(lf_forgetting_quality(&r, eps, a, b, 2, 2, 90, 90, 80, 80), LF_E_NUMERIC, "unlearned[3]");
    b[3] = 0.3;
    r.struct_size = 3;
    MISUSE(lf_forgetting_quality(&r, eps, a, b, 2, 2, 90, 90, 80, 80), LF_E_ABI, "lf_fq_result");
}
END_TEST

START_TEST(evaluate)
{
    lf_metrics m = LF_METRICS_INIT;
    lf_eval_options o = LF_EVAL_OPTIONS_INIT;
    o.flags = LF_EVAL_SKIP_MIA;
    MISUSE(lf_evaluate(mlp, ds, ds, ds, &o, NULL), LF_E_INVALID_ARG, "metrics");
    MISUSE(lf_evaluate(NULL, ds, ds, ds, &o, &m), LF_E_INVALID_ARG, "model");
    ck_assert(isnan(m.ua));   /* NaN until a run succeeds */
    MISUSE(lf_evaluate(mlp, NULL, ds, ds, &o, &m), LF_E_INVALID_ARG, "forget set");
    MISUSE(lf_evaluate(mlp, ds, NULL, ds, &o, &m), LF_E_INVALID_ARG, "retain set");
    MISUSE(lf_evaluate(mlp, ds, ds, NULL, &o, &m), LF_E_INVALID_ARG, "test set");
    MISUSE(lf_evaluate(mlp, ds, one, ds, &o, &m), LF_E_INVALID_ARG, "at least 2");
    MISUSE(lf_evaluate(mlp, more_classes, ds, ds, &o, &m), LF_E_SHAPE, "4 classes");
    MISUSE(lf_evaluate(mlp, ds, ds, more_classes, &o, &m), LF_E_SHAPE, "4 classes");
    MISUSE(lf_evaluate(mlp, ds, other_shape, ds, &o, &m), LF_E_SHAPE, "4 x 6");

    struct { int field; double v; lf_status want; const char *needle; } cases[] = {
        { 0, 0, LF_E_ABI, "lf_eval_options" }, { 0, 6, LF_E_ABI, "lf_eval_options" },
        { 1, 99, LF_E_INVALID_ARG, "mia_feature 99" }, { 1, -1, LF_E_INVALID_ARG, "mia_feature -1" },
        { 2, -1, LF_E_OUT_OF_RANGE, "svm_cache_mb" }, { 2, NAN, LF_E_OUT_OF_RANGE, "svm_cache_mb" },
        { 3, -5, LF_E_INVALID_ARG, "batch_size" },
        { 4, 0x10, LF_E_INVALID_ARG, "flags" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lf_eval_options e = o;
        switch (cases[i].field) {
        case 0: e.struct_size = (uint32_t)cases[i].v; break;
        case 1: e.mia_feature = (int32_t)cases[i].v; break;
        case 2: e.svm_cache_mb = cases[i].v; break;
        case 3: e.batch_size = (int32_t)cases[i].v; break;
        case 4: e.flags |= (uint32_t)cases[i].v; break;
        }
        char what[64];
        snprintf(what, sizeof what, "eval options case %zu", i);
        misuse_sentinel();
        misuse_check(lf_evaluate(mlp, ds, ds, ds, &e, &m), cases[i].want, cases[i].needle, what);
    }
    m.struct_size = 0;
    MISUSE(lf_evaluate(mlp, ds, ds, ds, &o, &m), LF_E_ABI, "lf_metrics");
    m.struct_size = 5;
    MISUSE(lf_evaluate(mlp, ds, ds, ds, &o, &m), LF_E_ABI, "lf_metrics");

    lf_metrics a = LF_METRICS_INIT, b = LF_METRICS_INIT;
    double d = -1;
    a.ua = a.ra = a.ta = a.mia_efficacy = 50;
    b = a;
    MISUSE(lf_metrics_disparity(NULL, &a, &b), LF_E_INVALID_ARG, "disparity");
    MISUSE(lf_metrics_disparity(&d, NULL, &b), LF_E_INVALID_ARG, "metrics");
    MISUSE(lf_metrics_disparity(&d, &a, NULL), LF_E_INVALID_ARG, "retrain");
    b.mia_efficacy = NAN;
    MISUSE(lf_metrics_disparity(&d, &a, &b), LF_E_NUMERIC, "mia_efficacy");
    b.mia_efficacy = 50;
    a.ta = INFINITY;
    MISUSE(lf_metrics_disparity(&d, &a, &b), LF_E_NUMERIC, "ta");
    a.ta = 50;
    b.struct_size = 8;
    MISUSE(lf_metrics_disparity(&d, &a, &b), LF_E_ABI, "retrain->struct_size");
    assert_unchanged();
}
END_TEST

START_TEST(reports)
{
    lf_report *rep = JUNK_PTR;
    MISUSE(lf_report_create(NULL, ctx), LF_E_INVALID_ARG, "out");
    MISUSE(lf_report_create(&rep, NULL), LF_E_INVALID_ARG, "ctx");
    ck_assert_ptr_null(rep);
    lf_report_destroy(NULL);
    ck_assert_uint_eq(lf_report_count(NULL), 0);
    ck_assert_lf_ok(lf_report_create(&rep, ctx));

    lf_report_row row = LF_REPORT_ROW_INIT;
    row.method = "ft";
    lf_metrics m = LF_METRICS_INIT;
    MISUSE(lf_report_add(NULL, &row, &m), LF_E_INVALID_ARG, "report");
    MISUSE(lf_report_add(rep, NULL, &m), LF_E_INVALID_ARG, "row");
    MISUSE(lf_report_add(rep, &row, NULL), LF_E_INVALID_ARG, "metrics");
    row.method = NULL;
    MISUSE(lf_report_add(rep, &row, &m), LF_E_INVALID_ARG, "method");
    row.method = "";
    MISUSE(lf_report_add(rep, &row, &m), LF_E_INVALID_ARG, "method");
    row.method = "ft";
    row.struct_size = 4;
    MISUSE(lf_report_add(rep, &row, &m), LF_E_ABI, "lf_report_row");
    row.struct_size = sizeof row;
    m.struct_size = 0;
    MISUSE(lf_report_add(rep, &row, &m), LF_E_ABI, "lf_metrics");
    ck_assert_uint_eq(lf_report_count(rep), 0);   /* nothing half-added */

    char buf[16];
    size_t need = 0;
    MISUSE(lf_report_render(rep, LF_REPORT_TABLE, buf, sizeof buf, NULL), LF_E_INVALID_ARG, "needed");
    MISUSE(lf_report_render(NULL, LF_REPORT_TABLE, buf, sizeof buf, &need), LF_E_INVALID_ARG, "report");
    MISUSE(lf_report_render(rep, LF_REPORT_TABLE, NULL, 5, &need), LF_E_INVALID_ARG, "buf");
    MISUSE(lf_report_render(rep, (lf_report_format)7, buf, sizeof buf, &need), LF_E_INVALID_ARG, "format 7");
    MISUSE(lf_report_render(rep, (lf_report_format)-1, buf, sizeof buf, &need), LF_E_INVALID_ARG, "format -1");
    ck_assert_lf_ok(lf_report_render(rep, LF_REPORT_JSON, NULL, 0, &need));   /* size query */

    const char *dir = lf_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/r.json", dir);
    MISUSE(lf_report_write(NULL, LF_REPORT_JSON, path), LF_E_INVALID_ARG, "report");
    MISUSE(lf_report_write(rep, LF_REPORT_JSON, NULL), LF_E_INVALID_ARG, "path");
    MISUSE(lf_report_write(rep, LF_REPORT_JSON, ""), LF_E_INVALID_ARG, "path");
    MISUSE(lf_report_write(rep, (lf_report_format)9, path), LF_E_INVALID_ARG, "format 9");
    MISUSE(lf_report_write(rep, LF_REPORT_CSV, "/nonexistent-dir/r.csv"), LF_E_IO, "/nonexistent-dir/r.csv");
    MISUSE(lf_report_write(rep, LF_REPORT_CSV, dir), LF_E_IO, dir);
    ck_assert_int_eq(access(path, F_OK), -1);   /* nothing written by the failures */
    rmdir(dir);
    lf_report_destroy(rep);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("misuse_eval");
    TCase *tc = tcase_create("misuse_eval");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, names);
    tcase_add_test(tc, features_and_confidences);
    tcase_add_test(tc, mia_and_attacks);
    tcase_add_test(tc, forgetting_quality);
    tcase_add_test(tc, evaluate);
    tcase_add_test(tc, reports);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(suite)
