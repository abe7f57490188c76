/* The request API through the shared library: method discovery, typed and validated
 * parameters, request state errors. The methods' behaviour is in test_baselines.c. */
#include "lf_test.h"

START_TEST(methods_are_discoverable)
{
    ck_assert_uint_ge(lf_method_count(), 3);
    ck_assert_ptr_null(lf_method_name(lf_method_count()));
    const char *want[] = { "retrain", "ft", "ga" };
    for (size_t k = 0; k < 3; k++) {
        int found = 0;
        for (size_t i = 0; i < lf_method_count(); i++)
            found |= strcmp(lf_method_name(i), want[k]) == 0;
        ck_assert_msg(found, "method %s missing", want[k]);
        ck_assert_ptr_nonnull(lf_method_summary(want[k]));
    }
    ck_assert_ptr_null(lf_method_summary("nope"));
    ck_assert_uint_eq(lf_method_param_count("nope"), 0);
    /* every parameter describes itself; defaults lie inside their bounds */
    for (size_t i = 0; i < lf_method_count(); i++) {
        const char *m = lf_method_name(i);
        for (size_t j = 0; j < lf_method_param_count(m); j++) {
            lf_param_info p = LF_PARAM_INFO_INIT;
            ck_assert_lf_ok(lf_method_param_info(m, j, &p));
            ck_assert_ptr_nonnull(p.name);
            ck_assert_ptr_nonnull(p.doc);
            if (p.type == LF_PARAM_CHOICE) {
                ck_assert_ptr_nonnull(p.choices);
                ck_assert_ptr_nonnull(strstr(p.choices, p.default_choice));
            } else {
                ck_assert_msg(p.min_value <= p.default_value && p.default_value <= p.max_value,
                              "%s.%s default %g outside [%g, %g]", m, p.name, p.default_value,
                              p.min_value, p.max_value);
            }
        }
    }
    lf_param_info p = LF_PARAM_INFO_INIT;
    ck_assert_lf_status(lf_method_param_info("ft", 99, &p), LF_E_OUT_OF_RANGE);
    ck_assert_lf_status(lf_method_param_info("nope", 0, &p), LF_E_UNKNOWN_METHOD);
}
END_TEST

START_TEST(parameters_are_validated)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_request *req = NULL;
    ck_assert_lf_status(lf_request_create(&req, ctx, "dreaming"), LF_E_UNKNOWN_METHOD);
    ck_assert_ptr_null(req);
    ck_assert_lf_ok(lf_request_create(&req, ctx, "retrain"));
    ck_assert_str_eq(lf_request_method(req), "retrain");
    double v = 0;
    ck_assert_lf_ok(lf_request_get_double(req, "lr", &v));
    ck_assert_double_eq(v, 0.05);   /* the default */

    ck_assert_lf_ok(lf_request_set_double(req, "lr", 0.2));
    ck_assert_lf_ok(lf_request_get_double(req, "lr", &v));
    ck_assert_double_eq(v, 0.2);
    ck_assert_lf_ok(lf_request_set_int(req, "epochs", 3));
    ck_assert_lf_ok(lf_request_set_param(req, "epochs", "4"));
    ck_assert_lf_ok(lf_request_get_double(req, "epochs", &v));
    ck_assert_double_eq(v, 4);
    ck_assert_lf_ok(lf_request_set_choice(req, "schedule", "constant"));
    ck_assert_lf_ok(lf_request_set_param(req, "schedule", "cosine"));

    ck_assert_lf_status(lf_request_set_double(req, "momentum_of_doom", 1), LF_E_UNKNOWN_PARAM);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "momentum_of_doom"));
    ck_assert_lf_status(lf_request_set_double(req, "lr", -1), LF_E_OUT_OF_RANGE);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "[1e-08, 10]"));   /* the bounds */
    ck_assert_lf_status(lf_request_set_double(req, "lr", NAN), LF_E_OUT_OF_RANGE);
    ck_assert_lf_status(lf_request_set_int(req, "epochs", 0), LF_E_OUT_OF_RANGE);
    ck_assert_lf_status(lf_request_set_double(req, "epochs", 2.5), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_request_set_param(req, "lr", "fast"), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_request_set_param(req, "lr", "0.1x"), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_request_set_choice(req, "schedule", "zigzag"), LF_E_OUT_OF_RANGE);
    ck_assert_lf_status(lf_request_set_choice(req, "lr", "cosine"), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_request_set_double(req, "schedule", 1), LF_E_INVALID_ARG);
    /* failed setters changed nothing */
    ck_assert_lf_ok(lf_request_get_double(req, "lr", &v));
    ck_assert_double_eq(v, 0.2);
    lf_request_destroy(req);
    lf_request_destroy(NULL);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(unlearn_needs_data_and_a_forget_set)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_dataset *ds = lf_test_blobs(ctx, 40, 4, 1, 4, 4, 3);
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    ck_assert_lf_ok(lf_model_config_from_dataset(&cfg, ds));
    lf_model *model = NULL, *out = (lf_model *)1;
    ck_assert_lf_ok(lf_model_create(&model, ctx, "mlp", &cfg));
    lf_request *req = NULL;
    ck_assert_lf_ok(lf_request_create(&req, ctx, "ft"));
    ck_assert_lf_status(lf_unlearn(req, model, &out, NULL), LF_E_STATE);
    ck_assert_ptr_null(out);
    ck_assert_lf_ok(lf_request_set_train(req, ds));
    ck_assert_lf_status(lf_unlearn(req, model, &out, NULL), LF_E_STATE);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "forget"));

    lf_forget_spec s = LF_FORGET_SPEC_INIT;
    s.kind = LF_FORGET_INDICES;   /* an empty index list is refused up front */
    ck_assert_lf_status(lf_request_set_forget(req, &s), LF_E_INVALID_ARG);
    s.kind = 9;
    ck_assert_lf_status(lf_request_set_forget(req, &s), LF_E_OUT_OF_RANGE);
    s.kind = LF_FORGET_CLASS;
    s.forget_class = 7;   /* the model has 4 classes */
    ck_assert_lf_ok(lf_request_set_forget(req, &s));
    ck_assert_lf_status(lf_unlearn(req, model, &out, NULL), LF_E_OUT_OF_RANGE);

    /* data of another shape */
    lf_dataset *other = lf_test_blobs(ctx, 40, 4, 1, 5, 5, 3);
    s.forget_class = 1;
    ck_assert_lf_ok(lf_request_set_forget(req, &s));
    ck_assert_lf_ok(lf_request_set_train(req, other));
    ck_assert_lf_status(lf_unlearn(req, model, &out, NULL), LF_E_SHAPE);
    ck_assert_ptr_null(out);

    /* a result struct from the future is refused before any work */
    ck_assert_lf_ok(lf_request_set_train(req, ds));
    lf_unlearn_result r = LF_UNLEARN_RESULT_INIT;
    r.struct_size = 3;
    ck_assert_lf_status(lf_unlearn(req, model, &out, &r), LF_E_ABI);
    ck_assert_lf_status(lf_unlearn(NULL, model, &out, NULL), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_unlearn(req, NULL, &out, NULL), LF_E_INVALID_ARG);
    lf_request_destroy(req);
    lf_model_destroy(model);
    lf_dataset_destroy(other);
    lf_dataset_destroy(ds);
    lf_context_destroy(ctx);
}
END_TEST

static Suite *request_suite(void)
{
    Suite *s = suite_create("request");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, methods_are_discoverable);
    tcase_add_test(tc, parameters_are_validated);
    tcase_add_test(tc, unlearn_needs_data_and_a_forget_set);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(request_suite)
