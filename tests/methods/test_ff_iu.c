/* Behaviour of FF (Fisher forgetting), IU (influence unlearning) and l1-sparse FT on small
 * synthetic data, through the shared library. The numerics of the Fisher diagonal and the
 * Hessian-vector products are checked in test_hvp_fisher.c. */
#include "lf_test.h"

enum { CLASSES = 4, SIDE = 8, HIDDEN = 256 };

static lf_context *ctx;
static lf_dataset *blobs;
static lf_model *mlp, *sparse_cnn;

static void setup(void)
{
    ctx = lf_test_context(LF_BACKEND_AUTO);
    blobs = lf_test_blobs(ctx, 160, CLASSES, 1, SIDE, SIDE, 5);
    mlp = lf_test_trained(ctx, "mlp", blobs, 5, LF_LR_CONSTANT);
    sparse_cnn = lf_test_trained(ctx, "convnet", blobs, 2, LF_LR_CONSTANT);
    ck_assert_lf_ok(lf_model_prune(sparse_cnn, 0.5));
}

static void teardown(void)
{
    lf_model_destroy(sparse_cnn);
    lf_model_destroy(mlp);
    lf_dataset_destroy(blobs);
    lf_context_destroy(ctx);
}

static lf_request *request(const char *method, lf_forget_spec spec)
{
    lf_request *req = NULL;
    ck_assert_lf_ok(lf_request_create(&req, ctx, method));
    ck_assert_lf_ok(lf_request_set_train(req, blobs));
    ck_assert_lf_ok(lf_request_set_forget(req, &spec));
    ck_assert_lf_ok(lf_request_set_seed(req, 3));
    return req;
}

static lf_model *unlearn(lf_request *req, const lf_model *m, lf_unlearn_result *r)
{
    lf_model *out = NULL;
    ck_assert_lf_ok(lf_unlearn(req, m, &out, r));
    return out;
}

/* Number of parameters that differ bit-wise. */
static size_t count_changed(const float *a, const float *b, size_t n)
{
    size_t changed = 0;
    for (size_t i = 0; i < n; i++)
        changed += memcmp(&a[i], &b[i], sizeof *a) != 0;
    return changed;
}

START_TEST(ff_alpha_zero_keeps_the_weights)
{
    lf_request *req = request("ff", lf_test_random_spec(0.1));
    ck_assert_lf_ok(lf_request_set_double(req, "alpha", 0.0));
    lf_model *out = unlearn(req, mlp, NULL);
    size_t n = lf_model_num_params(mlp);
    float *a = lf_test_params(mlp), *b = lf_test_params(out);
    ck_assert_uint_eq(count_changed(a, b, n), 0);
    free(a);
    free(b);
    lf_model_destroy(out);
    lf_request_destroy(req);
}
END_TEST

/* Class-wise: the forgotten class's row and bias of the last layer are reset to small noise
 * around 0 (var 1e-4) whatever alpha; nothing else moves at alpha = 0. */
START_TEST(ff_class_wise_resets_the_class_row)
{
    lf_forget_spec s = lf_test_class_spec(2);
    lf_request *req = request("ff", s);
    ck_assert_lf_ok(lf_request_set_double(req, "alpha", 0.0));
    lf_model *out = unlearn(req, mlp, NULL);
    size_t n = lf_model_num_params(mlp);
    float *a = lf_test_params(mlp), *b = lf_test_params(out);
    /* the MLP's block ends with fc3.weight [C][256] then fc3.bias [C] */
    size_t b3 = n - CLASSES, w3 = b3 - (size_t)CLASSES * HIDDEN;
    size_t row = w3 + 2 * HIDDEN;
    double ss = 0;
    for (size_t i = 0; i < n; i++) {
        int reset = (i >= row && i < row + HIDDEN) || i == b3 + 2;
        if (!reset) {
            ck_assert_msg(memcmp(&a[i], &b[i], sizeof *a) == 0, "parameter %zu moved", i);
            continue;
        }
        ck_assert_msg(fabsf(b[i]) < 0.06f, "parameter %zu = %g after the reset", i, b[i]);
        ss += (double)b[i] * b[i];
    }
    double sd = sqrt(ss / (HIDDEN + 1));   /* 0.01 expected */
    ck_assert_msg(sd > 0.007 && sd < 0.013, "the reset row's sd is %g", sd);
    free(a);
    free(b);
    lf_model_destroy(out);
    lf_request_destroy(req);
}
END_TEST

/* Noise moves the weights, more with a larger alpha, and pruned weights stay exactly 0. */
START_TEST(ff_noise_keeps_pruned_weights_zero)
{
    size_t n = lf_model_num_params(sparse_cnn);
    float *a = lf_test_params(sparse_cnn);
    double sp = 0;
    ck_assert_lf_ok(lf_model_sparsity(sparse_cnn, &sp));
    ck_assert_double_gt(sp, 0.4);
    size_t zeros = 0;
    for (size_t i = 0; i < n; i++)
        zeros += a[i] == 0.0f;
    double dist[2];
    const double alphas[2] = { 1e-7, 1e-5 };
    for (int k = 0; k < 2; k++) {
        lf_request *req = request("ff", lf_test_random_spec(0.1));
        ck_assert_lf_ok(lf_request_set_double(req, "alpha", alphas[k]));
        lf_unlearn_result r = LF_UNLEARN_RESULT_INIT;
        lf_model *out = unlearn(req, sparse_cnn, &r);
        ck_assert_int_eq(r.steps, 5);   /* 144 retain samples in batches of 32 */
        float *b = lf_test_params(out);
        double d = 0;
        for (size_t i = 0; i < n; i++) {
            if (a[i] == 0.0f)   /* pruned (training leaves no other exact zero) */
                ck_assert_msg(b[i] == 0.0f, "pruned weight %zu became %g", i, b[i]);
            d += ((double)b[i] - a[i]) * ((double)b[i] - a[i]);
        }
        dist[k] = sqrt(d);
        double sp_out = 0;
        ck_assert_lf_ok(lf_model_sparsity(out, &sp_out));
        ck_assert_double_eq(sp_out, sp);
        free(b);
        lf_model_destroy(out);
        lf_request_destroy(req);
    }
    ck_assert_uint_gt(zeros, 0);
    ck_assert_msg(dist[0] > 0 && dist[1] > 3 * dist[0], "distances %g, %g", dist[0], dist[1]);
    free(a);
}
END_TEST

START_TEST(iu_cg_reduces_the_residual)
{
    lf_request *req = request("iu", lf_test_random_spec(0.1));
    ck_assert_lf_ok(lf_request_set_choice(req, "solver", "cg"));
    lf_unlearn_result r = LF_UNLEARN_RESULT_INIT;
    lf_model *out = unlearn(req, mlp, &r);
    /* final_loss is the relative residual |r|/|v|, 1 before the first iteration */
    ck_assert_int_ge(r.steps, 1);
    ck_assert_int_le(r.steps, 20);
    ck_assert_msg(r.final_loss < 0.5, "relative residual %g after %lld iterations", r.final_loss,
                  (long long)r.steps);
    size_t n = lf_model_num_params(mlp);
    float *a = lf_test_params(mlp), *b = lf_test_params(out);
    ck_assert_uint_gt(count_changed(a, b, n), n / 4);
    free(a);
    free(b);
    lf_model_destroy(out);
    /* more iterations allowed and a tighter tolerance: a smaller residual */
    ck_assert_lf_ok(lf_request_set_int(req, "iters", 1));
    lf_unlearn_result r1 = LF_UNLEARN_RESULT_INIT;
    out = unlearn(req, mlp, &r1);
    ck_assert_int_eq(r1.steps, 1);
    ck_assert_double_lt(r1.final_loss, 1.0);
    ck_assert_double_le(r.final_loss, r1.final_loss);
    lf_model_destroy(out);
    lf_request_destroy(req);
}
END_TEST

START_TEST(iu_alpha_zero_keeps_the_weights)
{
    lf_request *req = request("iu", lf_test_random_spec(0.1));
    ck_assert_lf_ok(lf_request_set_choice(req, "solver", "cg"));
    ck_assert_lf_ok(lf_request_set_double(req, "alpha", 0.0));
    ck_assert_lf_ok(lf_request_set_int(req, "iters", 2));
    lf_model *out = unlearn(req, mlp, NULL);
    size_t n = lf_model_num_params(mlp);
    float *a = lf_test_params(mlp), *b = lf_test_params(out);
    ck_assert_uint_eq(count_changed(a, b, n), 0);
    free(a);
    free(b);
    lf_model_destroy(out);
    lf_request_destroy(req);
}
END_TEST

/* The reference's loop runs over min(1001, n_r − 1) retain samples after the first. */
START_TEST(iu_woodfisher_runs_the_reference_loop)
{
    lf_request *req = request("iu", lf_test_random_spec(0.1));
    ck_assert_lf_ok(lf_request_set_choice(req, "solver", "woodfisher"));
    lf_unlearn_result r = LF_UNLEARN_RESULT_INIT;
    lf_model *out = unlearn(req, mlp, &r);
    ck_assert_int_eq(r.retain_size, 144);
    ck_assert_int_eq(r.steps, 143);
    ck_assert(isnan(r.final_loss));
    size_t n = lf_model_num_params(mlp);
    float *a = lf_test_params(mlp), *b = lf_test_params(out);
    ck_assert_uint_gt(count_changed(a, b, n), n / 4);
    free(a);
    free(b);
    lf_model_destroy(out);
    lf_request_destroy(req);
}
END_TEST

/* Pruned weights stay exactly 0 through either solver's step. */
START_TEST(iu_keeps_pruned_weights_zero)
{
    const char *solver[2] = { "woodfisher", "cg" };
    for (int k = 0; k < 2; k++) {
        lf_request *req = request("iu", lf_test_random_spec(0.1));
        ck_assert_lf_ok(lf_request_set_choice(req, "solver", solver[k]));
        ck_assert_lf_ok(lf_request_set_int(req, "iters", 3));
        ck_assert_lf_ok(lf_request_set_int(req, "subsample", 64));
        ck_assert_lf_ok(lf_request_set_double(req, "lambda", 10));
        lf_model *out = unlearn(req, sparse_cnn, NULL);
        size_t n = lf_model_num_params(sparse_cnn);
        float *a = lf_test_params(sparse_cnn), *b = lf_test_params(out);
        size_t moved = 0;
        for (size_t i = 0; i < n; i++) {
            if (a[i] == 0.0f)   /* pruned (training leaves no other exact zero) */
                ck_assert_msg(b[i] == 0.0f, "%s: pruned weight %zu became %g", solver[k], i, b[i]);
            moved += a[i] != b[i];
        }
        ck_assert_msg(moved > n / 4, "%s moved %zu of %zu weights", solver[k], moved, n);
        free(a);
        free(b);
        lf_model_destroy(out);
        lf_request_destroy(req);
    }
}
END_TEST

static double l1_norm(const lf_model *m)
{
    size_t n = lf_model_num_params(m);
    float *p = lf_test_params(m);
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += fabs(p[i]);
    free(p);
    return s;
}

/* Same seed and recipe: gamma = 0 is FT bit for bit; gamma > 0 ends with a smaller L1 norm. */
START_TEST(l1sparse_shrinks_the_l1_norm)
{
    lf_model *out[3];
    const char *method[3] = { "ft", "l1sparse", "l1sparse" };
    const double gamma[3] = { 0, 0, 1e-2 };
    for (int k = 0; k < 3; k++) {
        lf_request *req = request(method[k], lf_test_random_spec(0.1));
        ck_assert_lf_ok(lf_request_set_int(req, "epochs", 3));
        ck_assert_lf_ok(lf_request_set_int(req, "batch", 32));
        ck_assert_lf_ok(lf_request_set_double(req, "lr", 0.01));   /* the two defaults differ */
        if (k > 0)
            ck_assert_lf_ok(lf_request_set_double(req, "gamma", gamma[k]));
        lf_unlearn_result r = LF_UNLEARN_RESULT_INIT;
        out[k] = unlearn(req, mlp, &r);
        ck_assert_int_eq(r.epochs, 3);
        lf_request_destroy(req);
    }
    size_t n = lf_model_num_params(mlp);
    float *ft = lf_test_params(out[0]), *zero = lf_test_params(out[1]);
    ck_assert_uint_eq(count_changed(ft, zero, n), 0);
    double l_ft = l1_norm(out[0]), l_l1 = l1_norm(out[2]);
    ck_assert_msg(l_l1 < 0.99 * l_ft, "|theta|_1: ft %g, l1sparse %g", l_ft, l_l1);
    free(ft);
    free(zero);
    for (int k = 0; k < 3; k++)
        lf_model_destroy(out[k]);
}
END_TEST

static Suite *ff_iu_suite(void)
{
    Suite *s = suite_create("ff_iu");
    TCase *tc = tcase_create("methods");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, ff_alpha_zero_keeps_the_weights);
    tcase_add_test(tc, ff_class_wise_resets_the_class_row);
    tcase_add_test(tc, ff_noise_keeps_pruned_weights_zero);
    tcase_add_test(tc, iu_cg_reduces_the_residual);
    tcase_add_test(tc, iu_alpha_zero_keeps_the_weights);
    tcase_add_test(tc, iu_woodfisher_runs_the_reference_loop);
    tcase_add_test(tc, iu_keeps_pruned_weights_zero);
    tcase_add_test(tc, l1sparse_shrinks_the_l1_norm);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(ff_iu_suite)
