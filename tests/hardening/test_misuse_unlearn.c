/* Misuse of unlearn.h (issue 9, item 4): method discovery with unknown names and indices,
 * request setters with NULL handles, unknown keys, out-of-bounds and non-finite values, and
 * lf_unlearn with incomplete requests, forget indices out of range or repeated, and models and
 * data sets that do not fit each other. Every failure has its own detail message; lf_unlearn
 * leaves *out NULL, and the model and the data sets are unchanged. */
#include <math.h>

#include "misuse.h"

enum { N = 30, CLASSES = 3, SIDE = 4 };

static lf_context *ctx, *other_ctx;
static lf_dataset *ds, *more_classes, *other_shape;
static lf_model *mlp, *foreign;
static lf_request *req;
static uint64_t mlp_hash, ds_hash;

static lf_model *model(lf_context *c, const lf_dataset *d)
{
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    ck_assert_lf_ok(lf_model_config_from_dataset(&cfg, d));
    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_create(&m, c, "mlp", &cfg));
    return m;
}

static void setup(void)
{
    ctx = lf_test_context(LF_BACKEND_REFERENCE);
    other_ctx = lf_test_context(LF_BACKEND_REFERENCE);
    ds = lf_test_blobs(ctx, N, CLASSES, 1, SIDE, SIDE, 4);
    more_classes = lf_test_blobs(ctx, N, CLASSES + 2, 1, SIDE, SIDE, 4);
    other_shape = lf_test_blobs(ctx, N, CLASSES, 1, SIDE, SIDE + 1, 4);
    mlp = model(ctx, ds);
    foreign = model(other_ctx, ds);
    ck_assert_lf_ok(lf_request_create(&req, ctx, "ft"));
    mlp_hash = model_hash(mlp);
    ds_hash = dataset_hash(ds);
}

static void teardown(void)
{
    lf_request_destroy(req);
    lf_model_destroy(mlp);
    lf_model_destroy(foreign);
    lf_dataset_destroy(ds);
    lf_dataset_destroy(more_classes);
    lf_dataset_destroy(other_shape);
    lf_context_destroy(other_ctx);
    lf_context_destroy(ctx);
}

static void assert_unchanged(void)
{
    ck_assert_uint_eq(model_hash(mlp), mlp_hash);
    ck_assert_uint_eq(dataset_hash(ds), ds_hash);
}

START_TEST(methods)
{
    ck_assert_ptr_null(lf_method_name(lf_method_count()));
    ck_assert_ptr_null(lf_method_name(SIZE_MAX));
    ck_assert_ptr_null(lf_method_summary(NULL));
    ck_assert_ptr_null(lf_method_summary("nope"));
    ck_assert_uint_eq(lf_method_param_count(NULL), 0);
    ck_assert_uint_eq(lf_method_param_count("nope"), 0);
    lf_param_info info = LF_PARAM_INFO_INIT;
    MISUSE(lf_method_param_info(NULL, 0, &info), LF_E_INVALID_ARG, "method");
    MISUSE(lf_method_param_info("ft", 0, NULL), LF_E_INVALID_ARG, "info");
    MISUSE(lf_method_param_info("nope", 0, &info), LF_E_UNKNOWN_METHOD, "'nope'");
    MISUSE(lf_method_param_info("ft", lf_method_param_count("ft"), &info), LF_E_OUT_OF_RANGE, "'ft'");
    MISUSE(lf_method_param_info("ft", SIZE_MAX, &info), LF_E_OUT_OF_RANGE, "'ft'");
    info.struct_size = 0;
    MISUSE(lf_method_param_info("ft", 0, &info), LF_E_ABI, "lf_param_info");
    info.struct_size = 5;
    MISUSE(lf_method_param_info("ft", 0, &info), LF_E_ABI, "lf_param_info");
    /* an older, shorter struct gets only its fields */
    lf_param_info small = LF_PARAM_INFO_INIT;
    small.struct_size = 8;
    small.name = JUNK_PTR;
    ck_assert_lf_ok(lf_method_param_info("ft", 0, &small));
    ck_assert_ptr_eq(small.name, JUNK_PTR);
}
END_TEST

START_TEST(request_create)
{
    lf_request *r = JUNK_PTR;
    MISUSE(lf_request_create(NULL, ctx, "ft"), LF_E_INVALID_ARG, "out");
    MISUSE(lf_request_create(&r, NULL, "ft"), LF_E_INVALID_ARG, "ctx");
    ck_assert_ptr_null(r);
    MISUSE(lf_request_create(&r, ctx, NULL), LF_E_INVALID_ARG, "method");
    MISUSE(lf_request_create(&r, ctx, "nope"), LF_E_UNKNOWN_METHOD, "'nope'");
    MISUSE(lf_request_create(&r, ctx, ""), LF_E_UNKNOWN_METHOD, "''");
    MISUSE(lf_request_create(&r, ctx, "FT"), LF_E_UNKNOWN_METHOD, "'FT'");
    ck_assert_ptr_null(r);
    lf_request_destroy(NULL);
    ck_assert_ptr_null(lf_request_method(NULL));
}
END_TEST

/* The default of one of ft's parameters, from the method's schema. */
static double ft_default(const char *name)
{
    for (size_t i = 0; i < lf_method_param_count("ft"); i++) {
        lf_param_info info = LF_PARAM_INFO_INIT;
        ck_assert_lf_ok(lf_method_param_info("ft", i, &info));
        if (strcmp(info.name, name) == 0)
            return info.default_value;
    }
    ck_abort_msg("ft has no parameter %s", name);
    return 0;
}

START_TEST(request_setters)
{
    lf_forget_spec spec = LF_FORGET_SPEC_INIT;
    spec.kind = LF_FORGET_CLASS;
    MISUSE(lf_request_set_train(NULL, ds), LF_E_INVALID_ARG, "req");
    MISUSE(lf_request_set_train(req, NULL), LF_E_INVALID_ARG, "train");
    MISUSE(lf_request_set_holdout(NULL, ds), LF_E_INVALID_ARG, "req");
    MISUSE(lf_request_set_forget(NULL, &spec), LF_E_INVALID_ARG, "req");
    MISUSE(lf_request_set_forget(req, NULL), LF_E_INVALID_ARG, "spec");
    MISUSE(lf_request_set_seed(NULL, 1), LF_E_INVALID_ARG, "req");
    MISUSE(lf_request_set_progress(NULL, NULL, NULL), LF_E_INVALID_ARG, "req");
    MISUSE(lf_request_set_privacy_approximator(NULL, NULL, NULL), LF_E_INVALID_ARG, "req");
    MISUSE(lf_request_set_privacy_approximator(req, NULL, NULL), LF_E_UNSUPPORTED, "'ft'");

    /* forget specs refused when set (kind, struct_size, an empty or NULL index list) */
    struct { uint32_t size; int32_t kind; const int64_t *idx; size_t n; lf_status want; const char *needle; }
    specs[] = {
        { 0, LF_FORGET_CLASS, NULL, 0, LF_E_ABI, "lf_forget_spec" },
        { 6, LF_FORGET_CLASS, NULL, 0, LF_E_ABI, "lf_forget_spec" },
        { sizeof spec, 0, NULL, 0, LF_E_OUT_OF_RANGE, "kind 0" },
        { sizeof spec, 5, NULL, 0, LF_E_OUT_OF_RANGE, "kind 5" },
        { sizeof spec, -1, NULL, 0, LF_E_OUT_OF_RANGE, "kind -1" },
        { sizeof spec, LF_FORGET_INDICES, NULL, 0, LF_E_INVALID_ARG, "n_indices = 0" },
        { sizeof spec, LF_FORGET_INDICES, NULL, 3, LF_E_INVALID_ARG, "indices is NULL" },
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        lf_forget_spec s = LF_FORGET_SPEC_INIT;
        s.struct_size = specs[i].size;
        s.kind = specs[i].kind;
        s.indices = specs[i].idx;
        s.n_indices = specs[i].n;
        char what[64];
        snprintf(what, sizeof what, "set_forget case %zu", i);
        misuse_sentinel();
        misuse_check(lf_request_set_forget(req, &s), specs[i].want, specs[i].needle, what);
    }

    /* parameters: unknown keys, types, bounds, NaN/Inf, unparsable text */
    double v = -1;
    MISUSE(lf_request_set_int(NULL, "epochs", 1), LF_E_INVALID_ARG, "req");
    MISUSE(lf_request_set_int(req, NULL, 1), LF_E_INVALID_ARG, "key");
    MISUSE(lf_request_set_int(req, "nope", 1), LF_E_UNKNOWN_PARAM, "'nope'");
    MISUSE(lf_request_set_int(req, "epochs", 0), LF_E_OUT_OF_RANGE, "'epochs'");
    MISUSE(lf_request_set_int(req, "epochs", -5), LF_E_OUT_OF_RANGE, "'epochs'");
    MISUSE(lf_request_set_int(req, "epochs", INT64_MAX), LF_E_OUT_OF_RANGE, "'epochs'");
    MISUSE(lf_request_set_double(NULL, "lr", 0.1), LF_E_INVALID_ARG, "req");
    MISUSE(lf_request_set_double(req, NULL, 0.1), LF_E_INVALID_ARG, "key");
    MISUSE(lf_request_set_double(req, "nope", 0.1), LF_E_UNKNOWN_PARAM, "'nope'");
    MISUSE(lf_request_set_double(req, "epochs", 2.5), LF_E_INVALID_ARG, "integer");
    MISUSE(lf_request_set_double(req, "lr", 0.0), LF_E_OUT_OF_RANGE, "'lr'");
    MISUSE(lf_request_set_double(req, "lr", 11.0), LF_E_OUT_OF_RANGE, "'lr'");
    MISUSE(lf_request_set_double(req, "lr", NAN), LF_E_OUT_OF_RANGE, "'lr'");
    MISUSE(lf_request_set_double(req, "lr", INFINITY), LF_E_OUT_OF_RANGE, "'lr'");
    MISUSE(lf_request_set_double(req, "lr", -INFINITY), LF_E_OUT_OF_RANGE, "'lr'");
    MISUSE(lf_request_set_choice(NULL, "lr", "x"), LF_E_INVALID_ARG, "req");
    MISUSE(lf_request_set_choice(req, NULL, "x"), LF_E_INVALID_ARG, "key");
    MISUSE(lf_request_set_choice(req, "nope", "x"), LF_E_UNKNOWN_PARAM, "'nope'");
    MISUSE(lf_request_set_choice(req, "lr", NULL), LF_E_INVALID_ARG, "value");
    MISUSE(lf_request_set_choice(req, "lr", "x"), LF_E_INVALID_ARG, "number");
    MISUSE(lf_request_set_param(NULL, "lr", "1"), LF_E_INVALID_ARG, "req");
    MISUSE(lf_request_set_param(req, NULL, "1"), LF_E_INVALID_ARG, "key");
    MISUSE(lf_request_set_param(req, "lr", NULL), LF_E_INVALID_ARG, "value");
    MISUSE(lf_request_set_param(req, "nope", "1"), LF_E_UNKNOWN_PARAM, "'nope'");
    const char *bad_text[] = { "", "abc", "0.1x", " ", "1e999", "0x", "--1" };
    for (size_t i = 0; i < sizeof bad_text / sizeof bad_text[0]; i++)
        MISUSE(lf_request_set_param(req, "lr", bad_text[i]), LF_E_INVALID_ARG, "not a number");
    MISUSE(lf_request_set_param(req, "lr", "nan"), LF_E_OUT_OF_RANGE, "'lr'");
    MISUSE(lf_request_set_param(req, "lr", "inf"), LF_E_OUT_OF_RANGE, "'lr'");
    MISUSE(lf_request_set_param(req, "epochs", "1.5"), LF_E_INVALID_ARG, "integer");
    MISUSE(lf_request_get_double(NULL, "lr", &v), LF_E_INVALID_ARG, "req");
    MISUSE(lf_request_get_double(req, NULL, &v), LF_E_INVALID_ARG, "key");
    MISUSE(lf_request_get_double(req, "lr", NULL), LF_E_INVALID_ARG, "value");
    MISUSE(lf_request_get_double(req, "nope", &v), LF_E_UNKNOWN_PARAM, "'nope'");
    /* every refused value left the defaults (read from the schema: they are tuned, not fixed) */
    ck_assert_lf_ok(lf_request_get_double(req, "lr", &v));
    ck_assert(v == ft_default("lr"));
    ck_assert_lf_ok(lf_request_get_double(req, "epochs", &v));
    ck_assert(v == ft_default("epochs"));

    /* choice parameters: a number, or a word not in the list */
    lf_request *iu = NULL;
    ck_assert_lf_ok(lf_request_create(&iu, ctx, "iu"));
    MISUSE(lf_request_set_choice(iu, "solver", "lbfgs"), LF_E_OUT_OF_RANGE, "'lbfgs'");
    MISUSE(lf_request_set_choice(iu, "solver", ""), LF_E_OUT_OF_RANGE, "''");
    MISUSE(lf_request_set_choice(iu, "solver", "cg|woodfisher"), LF_E_OUT_OF_RANGE, "solver");
    MISUSE(lf_request_set_param(iu, "solver", "c"), LF_E_OUT_OF_RANGE, "'c'");
    MISUSE(lf_request_set_double(iu, "solver", 0), LF_E_INVALID_ARG, "choice");
    MISUSE(lf_request_set_int(iu, "solver", 1), LF_E_INVALID_ARG, "choice");
    lf_request_destroy(iu);
}
END_TEST

static lf_request *ready_request(lf_forget_spec spec)
{
    lf_request *r = NULL;
    ck_assert_lf_ok(lf_request_create(&r, ctx, "ft"));
    ck_assert_lf_ok(lf_request_set_train(r, ds));
    ck_assert_lf_ok(lf_request_set_forget(r, &spec));
    ck_assert_lf_ok(lf_request_set_int(r, "epochs", 1));
    return r;
}

START_TEST(unlearn)
{
    lf_model *out = JUNK_PTR;
    lf_unlearn_result res = LF_UNLEARN_RESULT_INIT;
    MISUSE(lf_unlearn(req, mlp, NULL, &res), LF_E_INVALID_ARG, "out");
    MISUSE(lf_unlearn(NULL, mlp, &out, &res), LF_E_INVALID_ARG, "req");
    ck_assert_ptr_null(out);
    MISUSE(lf_unlearn(req, NULL, &out, &res), LF_E_INVALID_ARG, "model");
    /* incomplete requests */
    MISUSE(lf_unlearn(req, mlp, &out, &res), LF_E_STATE, "no train set");
    ck_assert_lf_ok(lf_request_set_train(req, ds));
    MISUSE(lf_unlearn(req, mlp, &out, &res), LF_E_STATE, "no forget set");
    ck_assert_ptr_null(out);

    /* forget sets the split refuses, and models or data sets that do not fit */
    const int64_t dup[] = { 2, 7, 2 };
    const int64_t oob[] = { 0, N };
    const int64_t neg[] = { -1 };
    int64_t all[N];
    for (int64_t i = 0; i < N; i++)
        all[i] = i;
    struct {
        int32_t kind;
        const int64_t *idx;
        size_t n;
        int32_t cls;
        double fraction;
        const lf_model *m;
        const lf_dataset *train, *holdout;
        lf_status want;
        const char *needle;
    } cases[] = {
        { LF_FORGET_INDICES, dup, 3, 0, 0, NULL, NULL, NULL, LF_E_INVALID_ARG, "indices[2] = 2 is a repeat" },
        { LF_FORGET_INDICES, oob, 2, 0, 0, NULL, NULL, NULL, LF_E_OUT_OF_RANGE, "indices[1] = 30" },
        { LF_FORGET_INDICES, neg, 1, 0, 0, NULL, NULL, NULL, LF_E_OUT_OF_RANGE, "indices[0] = -1" },
        { LF_FORGET_INDICES, all, N, 0, 0, NULL, NULL, NULL, LF_E_INVALID_ARG, "leaving none" },
        { LF_FORGET_CLASS, NULL, 0, CLASSES, 0, NULL, NULL, NULL, LF_E_OUT_OF_RANGE, "forget class 3" },
        { LF_FORGET_CLASS, NULL, 0, -1, 0, NULL, NULL, NULL, LF_E_OUT_OF_RANGE, "forget class -1" },
        { LF_FORGET_RANDOM, NULL, 0, 0, 1.5, NULL, NULL, NULL, LF_E_OUT_OF_RANGE, "fraction" },
        { LF_FORGET_RANDOM, NULL, 0, 0, NAN, NULL, NULL, NULL, LF_E_OUT_OF_RANGE, "fraction" },
        { LF_FORGET_STRATIFIED, NULL, 0, 0, 1e-9, NULL, NULL, NULL, LF_E_INVALID_ARG, "no samples" },
        { LF_FORGET_CLASS, NULL, 0, 0, 0, NULL, more_classes, NULL, LF_E_SHAPE, "5 classes" },
        { LF_FORGET_CLASS, NULL, 0, 0, 0, NULL, other_shape, NULL, LF_E_SHAPE, "4 x 5" },
        { LF_FORGET_CLASS, NULL, 0, 0, 0, NULL, NULL, more_classes, LF_E_SHAPE, "holdout set has 5" },
        { LF_FORGET_CLASS, NULL, 0, 0, 0, NULL, NULL, other_shape, LF_E_SHAPE, "4 x 5" },
        { LF_FORGET_CLASS, NULL, 0, 0, 0, (const lf_model *)1, NULL, NULL, LF_E_INVALID_ARG, "another context" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lf_forget_spec s = LF_FORGET_SPEC_INIT;
        s.kind = cases[i].kind;
        s.indices = cases[i].idx;
        s.n_indices = cases[i].n;
        s.forget_class = cases[i].cls;
        s.fraction = cases[i].fraction;
        s.seed = 5;
        lf_request *r = ready_request(s);
        if (cases[i].train)
            ck_assert_lf_ok(lf_request_set_train(r, cases[i].train));
        if (cases[i].holdout)
            ck_assert_lf_ok(lf_request_set_holdout(r, cases[i].holdout));
        const lf_model *m = cases[i].m ? foreign : mlp;
        char what[64];
        snprintf(what, sizeof what, "lf_unlearn case %zu", i);
        out = JUNK_PTR;
        lf_unlearn_result r2 = LF_UNLEARN_RESULT_INIT;
        misuse_sentinel();
        lf_status st = lf_unlearn(r, m, &out, &r2);
        misuse_check(st, cases[i].want, cases[i].needle, what);
        ck_assert_ptr_null(out);
        ck_assert_int_eq(r2.steps, 0);
        lf_request_destroy(r);
    }

    /* a bad result struct_size fails before any work */
    lf_forget_spec s = LF_FORGET_SPEC_INIT;
    s.kind = LF_FORGET_CLASS;
    lf_request *r = ready_request(s);
    res.struct_size = 0;
    MISUSE(lf_unlearn(r, mlp, &out, &res), LF_E_ABI, "lf_unlearn_result");
    res.struct_size = 7;
    MISUSE(lf_unlearn(r, mlp, &out, &res), LF_E_ABI, "lf_unlearn_result");
    ck_assert_ptr_null(out);
    lf_request_destroy(r);
    assert_unchanged();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("misuse_unlearn");
    TCase *tc = tcase_create("misuse_unlearn");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, methods);
    tcase_add_test(tc, request_create);
    tcase_add_test(tc, request_setters);
    tcase_add_test(tc, unlearn);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(suite)
