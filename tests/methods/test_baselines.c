/* Behaviour of the baseline methods (retrain, ft, ga) on small synthetic data, through the
 * shared library. A random-label problem makes memorisation visible: the original model knows
 * its training samples' (arbitrary) labels, a model that never saw them is at chance. */
#include "lf_test.h"

enum { N_TRAIN = 200, N_HOLD = 200, CLASSES = 4, SIDE = 4 };

static lf_context *ctx;
static lf_dataset *train, *holdout, *blobs;
static lf_model *memoriser, *blob_model;

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
    blobs = lf_test_blobs(ctx, 160, CLASSES, 1, SIDE, SIDE, 5);
    blob_model = lf_test_trained(ctx, "mlp", blobs, 5, LF_LR_COSINE);
}

static void teardown(void)
{
    lf_model_destroy(blob_model);
    lf_model_destroy(memoriser);
    lf_dataset_destroy(blobs);
    lf_dataset_destroy(holdout);
    lf_dataset_destroy(train);
    lf_context_destroy(ctx);
}

static lf_request *request(const char *method, const lf_dataset *ds, lf_forget_spec spec)
{
    lf_request *req = NULL;
    ck_assert_lf_ok(lf_request_create(&req, ctx, method));
    ck_assert_lf_ok(lf_request_set_train(req, ds));
    ck_assert_lf_ok(lf_request_set_forget(req, &spec));
    ck_assert_lf_ok(lf_request_set_holdout(req, holdout));   /* the methods that compare with unseen data */
    ck_assert_lf_ok(lf_request_set_seed(req, 3));
    return req;
}

/* Mean cross-entropy of m over ds. */
static double mean_loss(lf_model *m, const lf_dataset *ds)
{
    size_t n = lf_dataset_size(ds);
    float *p = malloc(n * CLASSES * sizeof *p);
    int32_t *y = malloc(n * sizeof *y);
    ck_assert_lf_ok(lf_model_predict(m, ds, 0, n, NULL, p));
    ck_assert_lf_ok(lf_dataset_labels(ds, y, n));
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum -= log(fmax(p[i * CLASSES + (size_t)y[i]], 1e-30));
    free(p);
    free(y);
    return sum / (double)n;
}

static void split(const lf_dataset *ds, lf_forget_spec s, lf_dataset **retain, lf_dataset **forget)
{
    ck_assert_lf_ok(lf_dataset_split_forget(retain, forget, ds, &s));
}

/* Every parameter equal, bit for bit. */
static void assert_same_params(const lf_model *a, const lf_model *b)
{
    size_t n = lf_model_num_params(a);
    ck_assert_uint_eq(n, lf_model_num_params(b));
    float *pa = malloc(n * sizeof *pa), *pb = malloc(n * sizeof *pb);
    ck_assert_lf_ok(lf_model_get_params(a, pa, n));
    ck_assert_lf_ok(lf_model_get_params(b, pb, n));
    ck_assert_msg(memcmp(pa, pb, n * sizeof *pa) == 0, "parameters differ");
    free(pa);
    free(pb);
}

START_TEST(retrain_never_saw_the_forget_set)
{
    lf_forget_spec spec = lf_test_random_spec(0.2);
    lf_dataset *retain, *forget;
    split(train, spec, &retain, &forget);
    /* the original memorised its train set, forget samples included */
    ck_assert_double_ge(lf_test_accuracy(memoriser, forget), 0.9);
    lf_request *req = request("retrain", train, spec);
    ck_assert_lf_ok(lf_request_set_int(req, "epochs", 150));
    ck_assert_lf_ok(lf_request_set_int(req, "batch", 32));
    lf_model *out = NULL;
    lf_unlearn_result r = LF_UNLEARN_RESULT_INIT;
    ck_assert_lf_ok(lf_unlearn(req, memoriser, &out, &r));
    ck_assert_int_eq(r.forget_size, 40);
    ck_assert_int_eq(r.retain_size, 160);
    ck_assert_int_eq(r.epochs, 150);
    ck_assert(r.seconds > 0);
    /* memorised the retain set, and treats the forget set like unseen samples: both at chance
     * (sd of 40 coin flips at p = 1/4 is 0.07) */
    ck_assert_double_ge(lf_test_accuracy(out, retain), 0.9);
    double af = lf_test_accuracy(out, forget), ah = lf_test_accuracy(out, holdout);
    ck_assert_msg(fabs(af - ah) <= 0.2, "forget accuracy %.3f, held-out %.3f", af, ah);
    lf_model_destroy(out);
    lf_request_destroy(req);
    lf_dataset_destroy(retain);
    lf_dataset_destroy(forget);
}
END_TEST

START_TEST(retrain_class_wise_knows_nothing_of_the_class)
{
    lf_forget_spec s = lf_test_class_spec(2);
    lf_request *req = request("retrain", blobs, s);
    ck_assert_lf_ok(lf_request_set_int(req, "epochs", 5));
    ck_assert_lf_ok(lf_request_set_int(req, "batch", 32));
    lf_model *out = NULL;
    ck_assert_lf_ok(lf_unlearn(req, blob_model, &out, NULL));
    lf_dataset *retain, *forget;
    split(blobs, s, &retain, &forget);
    ck_assert_double_ge(lf_test_accuracy(blob_model, forget), 0.9);
    ck_assert_double_le(lf_test_accuracy(out, forget), 0.05);
    ck_assert_double_ge(lf_test_accuracy(out, retain), 0.9);
    lf_model_destroy(out);
    lf_request_destroy(req);
    lf_dataset_destroy(retain);
    lf_dataset_destroy(forget);
}
END_TEST

START_TEST(ft_keeps_retain_accuracy)
{
    lf_forget_spec spec = lf_test_random_spec(0.1);
    lf_request *req = request("ft", blobs, spec);
    ck_assert_lf_ok(lf_request_set_int(req, "epochs", 2));
    lf_model *out = NULL;
    ck_assert_lf_ok(lf_unlearn(req, blob_model, &out, NULL));
    lf_dataset *retain, *forget;
    split(blobs, spec, &retain, &forget);
    ck_assert_double_ge(lf_test_accuracy(out, retain), lf_test_accuracy(blob_model, retain) - 0.02);
    lf_model_destroy(out);
    lf_request_destroy(req);
    lf_dataset_destroy(retain);
    lf_dataset_destroy(forget);
}
END_TEST

START_TEST(ga_raises_the_forget_loss)
{
    lf_forget_spec spec = lf_test_random_spec(0.2);
    lf_request *req = request("ga", train, spec);
    ck_assert_lf_ok(lf_request_set_double(req, "lr", 0.1));
    ck_assert_lf_ok(lf_request_set_int(req, "epochs", 5));
    lf_model *out = NULL;
    lf_unlearn_result r = LF_UNLEARN_RESULT_INIT;
    ck_assert_lf_ok(lf_unlearn(req, memoriser, &out, &r));
    lf_dataset *retain, *forget;
    split(train, spec, &retain, &forget);
    double before = mean_loss(memoriser, forget), after = mean_loss(out, forget);
    ck_assert_msg(after > before + 0.1, "forget loss %.4f -> %.4f", before, after);
    ck_assert_int_eq(r.steps, 5);   /* 40 samples, batch 256: one step per epoch */
    lf_model_destroy(out);
    lf_request_destroy(req);
    lf_dataset_destroy(retain);
    lf_dataset_destroy(forget);
}
END_TEST

START_TEST(ga_divergence_is_reported)
{
    lf_request *req = request("ga", train, lf_test_random_spec(0.2));
    ck_assert_lf_ok(lf_request_set_double(req, "lr", 10));
    ck_assert_lf_ok(lf_request_set_int(req, "epochs", 200));
    lf_model *out = (lf_model *)1;
    ck_assert_lf_status(lf_unlearn(req, memoriser, &out, NULL), LF_E_NUMERIC);
    ck_assert_ptr_null(out);
    lf_request_destroy(req);
}
END_TEST

/* Sets an INT parameter of the methods that have it (ff and iu have no epochs or batch). */
static void set_int_if_present(lf_request *req, const char *key, int64_t value)
{
    lf_status st = lf_request_set_int(req, key, value);
    ck_assert_msg(st == LF_OK || st == LF_E_UNKNOWN_PARAM, "%s = %lld: %s", key, (long long)value,
                  lf_last_error_message());
}

/* The input model is bit-identical after every method, and a seed fixes the output. */
START_TEST(input_untouched_and_deterministic)
{
    const char *method = lf_method_name((size_t)_i);
    lf_model *before = NULL;
    ck_assert_lf_ok(lf_model_clone(&before, blob_model));
    lf_request *req = request(method, blobs, lf_test_random_spec(0.1));
    set_int_if_present(req, "epochs", 1);
    lf_model *a = NULL, *b = NULL;
    ck_assert_lf_ok(lf_unlearn(req, blob_model, &a, NULL));
    ck_assert_lf_ok(lf_unlearn(req, blob_model, &b, NULL));
    assert_same_params(blob_model, before);
    assert_same_params(a, b);
    const char *how = NULL;
    ck_assert_lf_ok(lf_model_get_metadata(a, "libforget.unlearn.method", &how));
    ck_assert_str_eq(how, method);
    lf_model_destroy(a);
    lf_model_destroy(b);
    lf_model_destroy(before);
    lf_request_destroy(req);
}
END_TEST

static int abort_at_second_step(void *user, const lf_progress *p)
{
    (void)user;
    return p->step >= 2;
}

START_TEST(abort_leaves_no_model)
{
    const char *method = lf_method_name((size_t)_i);
    lf_model *before = NULL;
    ck_assert_lf_ok(lf_model_clone(&before, blob_model));
    lf_request *req = request(method, blobs, lf_test_random_spec(0.5));
    set_int_if_present(req, "batch", 8);
    ck_assert_lf_ok(lf_request_set_progress(req, abort_at_second_step, NULL));
    lf_model *out = (lf_model *)1;
    ck_assert_lf_status(lf_unlearn(req, blob_model, &out, NULL), LF_E_ABORTED);
    ck_assert_ptr_null(out);
    assert_same_params(blob_model, before);
    lf_model_destroy(before);
    lf_request_destroy(req);
}
END_TEST

START_TEST(empty_forget_class_is_an_error)
{
    /* class 3 of a 4-class model has no samples in a set built of classes 0..2 */
    lf_dataset *three = NULL;
    ck_assert_lf_ok(lf_dataset_without_class(&three, blobs, 3));
    lf_forget_spec s = lf_test_class_spec(3);
    lf_request *req = request("ft", three, s);
    lf_model *out = (lf_model *)1;
    ck_assert_lf_status(lf_unlearn(req, blob_model, &out, NULL), LF_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "no samples"));
    ck_assert_ptr_null(out);
    lf_request_destroy(req);
    lf_dataset_destroy(three);
}
END_TEST

static Suite *baselines_suite(void)
{
    Suite *s = suite_create("baselines");
    TCase *tc = tcase_create("methods");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, retrain_never_saw_the_forget_set);
    tcase_add_test(tc, retrain_class_wise_knows_nothing_of_the_class);
    tcase_add_test(tc, ft_keeps_retain_accuracy);
    tcase_add_test(tc, ga_raises_the_forget_loss);
    tcase_add_test(tc, ga_divergence_is_reported);
    tcase_add_loop_test(tc, input_untouched_and_deterministic, 0, (int)lf_method_count());
    tcase_add_loop_test(tc, abort_leaves_no_model, 0, (int)lf_method_count());
    tcase_add_test(tc, empty_forget_class_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(baselines_suite)
