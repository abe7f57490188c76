/* Models: creation and its errors, the MLP's parameter layout and PyTorch initialisation, clone,
 * parameter access, normalisation, metadata, and eval-mode inference against hand-computed
 * logits and per-sample forwards (white-box: links the internal library). */
#include "lf_test.h"
#include "core/nn/nn_internal.h"

/* fc1 in→256, fc2 256→256, fc3 256→C, each with a bias */
static size_t mlp_param_count(size_t in, size_t classes)
{
    return in * 256 + 256 + 256 * 256 + 256 + 256 * classes + classes;
}

static lf_model *new_mlp(lf_context *ctx, int32_t c, int32_t h, int32_t w, int32_t classes, uint64_t seed)
{
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = c;
    cfg.height = h;
    cfg.width = w;
    cfg.num_classes = classes;
    cfg.seed = seed;
    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_create(&m, ctx, "mlp", &cfg));
    ck_assert_ptr_nonnull(m);
    return m;
}

static float *get_params(const lf_model *m)
{
    size_t n = lf_model_num_params(m);
    float *p = malloc(n * sizeof *p);
    ck_assert_lf_ok(lf_model_get_params(m, p, n));
    return p;
}

START_TEST(create_destroy_and_null_safety)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = 1;
    cfg.height = 28;
    cfg.width = 28;
    cfg.num_classes = 10;
    lf_model *m = (lf_model *)0x1;
    ck_assert_lf_status(lf_model_create(&m, NULL, "mlp", &cfg), LF_E_INVALID_ARG);
    ck_assert_ptr_null(m);
    m = (lf_model *)0x1;
    ck_assert_lf_status(lf_model_create(&m, ctx, NULL, &cfg), LF_E_INVALID_ARG);
    ck_assert_ptr_null(m);
    ck_assert_lf_status(lf_model_create(&m, ctx, "mlp", NULL), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_create(NULL, ctx, "mlp", &cfg), LF_E_INVALID_ARG);

    ck_assert_lf_ok(lf_model_create(&m, ctx, "mlp", &cfg));
    ck_assert_str_eq(lf_model_arch(m), "mlp");
    ck_assert_int_eq(lf_model_num_classes(m), 10);
    int32_t c = 0, h = 0, w = 0;
    ck_assert_lf_ok(lf_model_input_shape(m, &c, &h, &w));
    ck_assert_int_eq(c, 1);
    ck_assert_int_eq(h, 28);
    ck_assert_int_eq(w, 28);
    ck_assert_lf_ok(lf_model_input_shape(m, NULL, NULL, NULL));
    int x;
    ck_assert_ptr_null(lf_model_get_user_data(m));
    lf_model_set_user_data(m, &x);
    ck_assert_ptr_eq(lf_model_get_user_data(m), &x);
    lf_model_destroy(m);

    lf_model_destroy(NULL);
    ck_assert_ptr_null(lf_model_arch(NULL));
    ck_assert_int_eq(lf_model_num_classes(NULL), 0);
    ck_assert_uint_eq(lf_model_num_params(NULL), 0);
    ck_assert_lf_status(lf_model_input_shape(NULL, &c, &h, &w), LF_E_INVALID_ARG);
    lf_model_set_user_data(NULL, &x);
    ck_assert_ptr_null(lf_model_get_user_data(NULL));
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(registry_and_unknown_arch)
{
    ck_assert_uint_ge(lf_arch_count(), 1);
    int found = 0;
    for (size_t i = 0; i < lf_arch_count(); i++) {
        ck_assert_ptr_nonnull(lf_arch_name(i));
        found += strcmp(lf_arch_name(i), "mlp") == 0;
    }
    ck_assert_int_eq(found, 1);
    ck_assert_ptr_null(lf_arch_name(lf_arch_count()));
    ck_assert_ptr_eq(lf__arch_find("mlp"), &lf__arch_mlp);
    ck_assert_ptr_null(lf__arch_find("nope"));

    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = 1;
    cfg.height = 8;
    cfg.width = 8;
    cfg.num_classes = 10;
    lf_model *m = (lf_model *)0x1;
    ck_assert_lf_status(lf_model_create(&m, ctx, "resnet9000", &cfg), LF_E_UNKNOWN_ARCH);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "resnet9000"));
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "mlp"));
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(bad_config_is_rejected)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    const lf_model_config good = { (uint32_t)sizeof(lf_model_config), 1, 8, 8, 10, 0 };
    struct { const char *field; lf_model_config cfg; lf_status want; } cases[] = {
        { "channels", { good.struct_size, 0, 8, 8, 10, 0 }, LF_E_OUT_OF_RANGE },
        { "height", { good.struct_size, 1, -3, 8, 10, 0 }, LF_E_OUT_OF_RANGE },
        { "width", { good.struct_size, 1, 8, 0, 10, 0 }, LF_E_OUT_OF_RANGE },
        { "num_classes", { good.struct_size, 1, 8, 8, 1, 0 }, LF_E_OUT_OF_RANGE },
        { "num_classes", { good.struct_size, 1, 8, 8, -5, 0 }, LF_E_OUT_OF_RANGE },
        { "input", { good.struct_size, 65536, 65536, 2, 10, 0 }, LF_E_OUT_OF_RANGE },
        { "struct_size", { 3, 1, 8, 8, 10, 0 }, LF_E_ABI },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lf_model *m = (lf_model *)0x1;
        ck_assert_lf_status(lf_model_create(&m, ctx, "mlp", &cases[i].cfg), cases[i].want);
        ck_assert_ptr_null(m);
        ck_assert_msg(strstr(lf_last_error_message(), cases[i].field), "case %zu: '%s' not in '%s'", i,
                      cases[i].field, lf_last_error_message());
    }
    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_create(&m, ctx, "mlp", &good));
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(config_from_dataset)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_dataset *ds = lf_test_blobs(ctx, 12, 4, 3, 5, 6, 1);
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.seed = 77;
    ck_assert_lf_ok(lf_model_config_from_dataset(&cfg, ds));
    ck_assert_int_eq(cfg.channels, 3);
    ck_assert_int_eq(cfg.height, 5);
    ck_assert_int_eq(cfg.width, 6);
    ck_assert_int_eq(cfg.num_classes, 4);
    ck_assert_uint_eq(cfg.seed, 77);   /* left alone */
    lf_model_config zero;
    memset(&zero, 0, sizeof zero);   /* uninitialised struct_size: today's layout */
    ck_assert_lf_ok(lf_model_config_from_dataset(&zero, ds));
    ck_assert_uint_eq(zero.struct_size, sizeof zero);
    ck_assert_int_eq(zero.num_classes, 4);
    lf_model_config bad = LF_MODEL_CONFIG_INIT;
    bad.struct_size = 6;
    ck_assert_lf_status(lf_model_config_from_dataset(&bad, ds), LF_E_ABI);
    ck_assert_lf_status(lf_model_config_from_dataset(NULL, ds), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_config_from_dataset(&cfg, NULL), LF_E_INVALID_ARG);
    lf_dataset_destroy(ds);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(mlp_tensor_table_and_param_counts)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model *m = new_mlp(ctx, 1, 28, 28, 10, 0);
    ck_assert_uint_eq(lf_model_num_params(m), 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10);
    ck_assert_uint_eq(lf_model_num_params(m), 269322);
    /* PyTorch's names, shapes and state_dict order, packed back to back */
    const char *names[] = { "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias" };
    const int64_t shapes[][2] = { { 256, 784 }, { 256, 0 }, { 256, 256 }, { 256, 0 }, { 10, 256 }, { 10, 0 } };
    ck_assert_uint_eq(m->n_tensors, 6);
    size_t offset = 0;
    for (int i = 0; i < 6; i++) {
        const lf__tensor_desc *t = lf__model_find_tensor(m, names[i]);
        ck_assert_ptr_eq(t, &m->tensors[i]);
        ck_assert_int_eq(t->kind, LF__TENSOR_PARAM);
        ck_assert_int_eq(t->ndim, shapes[i][1] ? 2 : 1);
        ck_assert_int_eq(t->shape[0], shapes[i][0]);
        if (shapes[i][1])
            ck_assert_int_eq(t->shape[1], shapes[i][1]);
        ck_assert_uint_eq(t->offset, offset);
        offset += t->numel;
    }
    ck_assert_uint_eq(offset, m->n_params);
    ck_assert_uint_eq(m->n_buffers, 0);
    ck_assert_ptr_null(lf__model_find_tensor(m, "fc4.weight"));
    lf_model_destroy(m);

    m = new_mlp(ctx, 3, 32, 32, 100, 0);
    ck_assert_uint_eq(lf_model_num_params(m), mlp_param_count(3072, 100));
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(init_matches_pytorch_bounds_and_seeds)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);   /* context seed 1234 */
    lf_model *m = new_mlp(ctx, 1, 28, 28, 10, 99);
    size_t n = lf_model_num_params(m);
    float *p = get_params(m);
    /* each tensor ~ U(−1/√fan_in, 1/√fan_in): inside the bounds, reaching near them, with the
     * uniform distribution's mean 0 and variance bound²/3 */
    for (size_t i = 0; i < m->n_tensors; i++) {
        const lf__tensor_desc *t = &m->tensors[i];
        double fan_in = strncmp(t->name, "fc1", 3) == 0 ? 784.0 : 256.0;
        double bound = 1.0 / sqrt(fan_in), sum = 0, sum2 = 0, mx = 0;
        for (size_t j = 0; j < t->numel; j++) {
            double v = p[t->offset + j];
            ck_assert_msg(fabs(v) <= bound, "%s[%zu] = %g outside +-%g", t->name, j, v, bound);
            sum += v;
            sum2 += v * v;
            mx = fabs(v) > mx ? fabs(v) : mx;
        }
        double k = (double)t->numel, mean = sum / k, var = sum2 / k - mean * mean;
        double var_want = bound * bound / 3.0;
        /* standard errors: mean bound/√(3k), variance ≈ 0.9·var/√k; 5 of them */
        ck_assert_msg(fabs(mean) <= 5 * bound / sqrt(3 * k) + 1e-12, "%s mean %g", t->name, mean);
        ck_assert_msg(fabs(var - var_want) <= 5 * 0.9 * var_want / sqrt(k), "%s var %g want %g",
                      t->name, var, var_want);
        if (t->numel >= 256)
            ck_assert_msg(mx > 0.95 * bound, "%s max |w| %g of %g", t->name, mx, bound);
    }
    /* the documented draw: parameter k = lo + (hi − lo)·uniform_at(seed, INIT, k) */
    for (size_t k = 0; k < n; k += 997) {
        const lf__tensor_desc *t = &m->tensors[0];
        for (size_t i = 0; i < m->n_tensors; i++)
            if (k >= m->tensors[i].offset)
                t = &m->tensors[i];
        float hi = (float)(1.0 / sqrt(strncmp(t->name, "fc1", 3) == 0 ? 784.0 : 256.0)), lo = -hi;
        ck_assert_float_eq(p[k], lo + (hi - lo) * lf__rng_uniform_at(99, LF__STREAM_INIT, k));
    }

    lf_model *same = new_mlp(ctx, 1, 28, 28, 10, 99);
    lf_model *other = new_mlp(ctx, 1, 28, 28, 10, 100);
    lf_model *ctx_seed = new_mlp(ctx, 1, 28, 28, 10, 0);
    lf_model *seed_1234 = new_mlp(ctx, 1, 28, 28, 10, 1234);
    float *ps = get_params(same), *po = get_params(other), *p0 = get_params(ctx_seed),
          *p1234 = get_params(seed_1234);
    ck_assert_int_eq(memcmp(p, ps, n * sizeof *p), 0);
    ck_assert_int_eq(memcmp(p0, p1234, n * sizeof *p), 0);   /* seed 0 = the context's seed */
    size_t differ = 0;
    for (size_t i = 0; i < n; i++)
        differ += p[i] != po[i];
    ck_assert_uint_gt(differ, n * 99 / 100);
    free(p);
    free(ps);
    free(po);
    free(p0);
    free(p1234);
    lf_model_destroy(m);
    lf_model_destroy(same);
    lf_model_destroy(other);
    lf_model_destroy(ctx_seed);
    lf_model_destroy(seed_1234);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(get_set_params_check_lengths)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model *m = new_mlp(ctx, 1, 2, 3, 4, 0);
    size_t n = lf_model_num_params(m);
    ck_assert_uint_eq(n, mlp_param_count(6, 4));
    float *p = malloc((n + 1) * sizeof *p);
    for (size_t i = 0; i <= n; i++)
        p[i] = (float)i * 0.5f;
    ck_assert_lf_status(lf_model_set_params(m, p, n + 1), LF_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "parameters"));
    ck_assert_lf_status(lf_model_set_params(m, p, n - 1), LF_E_SHAPE);
    ck_assert_lf_status(lf_model_set_params(m, NULL, n), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_set_params(NULL, p, n), LF_E_INVALID_ARG);
    ck_assert_lf_ok(lf_model_set_params(m, p, n));
    float *q = calloc(n + 1, sizeof *q);
    ck_assert_lf_status(lf_model_get_params(m, q, n - 1), LF_E_SHAPE);
    ck_assert_lf_status(lf_model_get_params(m, q, 0), LF_E_SHAPE);
    ck_assert_lf_status(lf_model_get_params(m, NULL, n), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_get_params(NULL, q, n), LF_E_INVALID_ARG);
    ck_assert_lf_ok(lf_model_get_params(m, q, n));
    ck_assert_int_eq(memcmp(p, q, n * sizeof *p), 0);
    ck_assert_float_eq(q[n], 0.0f);   /* nothing written past n */
    /* the tensor view sees the same block: fc1.bias starts after fc1.weight's 256·6 values */
    const lf__tensor_desc *b1 = lf__model_find_tensor(m, "fc1.bias");
    float bias[256];
    ck_assert_lf_ok(lf__model_download(m, b1, bias));
    ck_assert_float_eq(bias[0], 256 * 6 * 0.5f);
    bias[0] = -1.0f;
    ck_assert_lf_ok(lf__model_upload(m, b1, bias));
    ck_assert_lf_ok(lf_model_get_params(m, q, n));
    ck_assert_float_eq(q[256 * 6], -1.0f);
    free(p);
    free(q);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(normalization)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model *m = new_mlp(ctx, 3, 2, 2, 2, 0);
    float mean[3] = { 9, 9, 9 }, std[3] = { 9, 9, 9 };
    int has = -1;
    ck_assert_lf_ok(lf_model_get_normalization(m, mean, std, 3, &has));
    ck_assert_int_eq(has, 0);
    for (int c = 0; c < 3; c++) {
        ck_assert_float_eq(mean[c], 0.0f);
        ck_assert_float_eq(std[c], 1.0f);
    }
    const float good_mean[3] = { 0.5f, 0.25f, 0.125f }, good_std[3] = { 0.5f, 2.0f, 0.25f };
    ck_assert_lf_status(lf_model_set_normalization(m, good_mean, good_std, 2), LF_E_SHAPE);
    ck_assert_lf_status(lf_model_set_normalization(m, NULL, good_std, 3), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_set_normalization(m, good_mean, NULL, 3), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_set_normalization(NULL, good_mean, good_std, 3), LF_E_INVALID_ARG);
    ck_assert_lf_ok(lf_model_set_normalization(m, good_mean, good_std, 3));
    const float bad_std[][3] = { { 1, 0, 1 }, { 1, -2, 1 }, { 1, 1, NAN }, { INFINITY, 1, 1 } };
    for (size_t i = 0; i < sizeof bad_std / sizeof bad_std[0]; i++) {
        ck_assert_lf_status(lf_model_set_normalization(m, good_mean, bad_std[i], 3), LF_E_OUT_OF_RANGE);
        ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "std["));
    }
    const float bad_mean[3] = { 0, NAN, 0 };
    ck_assert_lf_status(lf_model_set_normalization(m, bad_mean, good_std, 3), LF_E_OUT_OF_RANGE);
    /* failed calls left the good values */
    ck_assert_lf_ok(lf_model_get_normalization(m, mean, std, 3, &has));
    ck_assert_int_eq(has, 1);
    for (int c = 0; c < 3; c++) {
        ck_assert_float_eq(mean[c], good_mean[c]);
        ck_assert_float_eq(std[c], good_std[c]);
    }
    ck_assert_lf_status(lf_model_get_normalization(m, mean, std, 4, &has), LF_E_SHAPE);
    ck_assert_lf_ok(lf_model_get_normalization(m, NULL, NULL, 0, &has));
    ck_assert_lf_status(lf_model_get_normalization(NULL, mean, std, 3, &has), LF_E_INVALID_ARG);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(metadata)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model *m = new_mlp(ctx, 1, 2, 2, 2, 0);
    const char *v = "x";
    ck_assert_lf_status(lf_model_get_metadata(m, "author", &v), LF_E_INVALID_ARG);
    ck_assert_ptr_null(v);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "author"));
    ck_assert_lf_ok(lf_model_set_metadata(m, "author", "ada"));
    ck_assert_lf_ok(lf_model_set_metadata(m, "dataset", "fashion-mnist"));
    ck_assert_lf_ok(lf_model_get_metadata(m, "author", &v));
    ck_assert_str_eq(v, "ada");
    ck_assert_lf_ok(lf_model_set_metadata(m, "author", "grace"));   /* overwrite */
    ck_assert_lf_ok(lf_model_get_metadata(m, "author", &v));
    ck_assert_str_eq(v, "grace");
    ck_assert_uint_eq(m->n_meta, 2);
    ck_assert_lf_ok(lf_model_get_metadata(m, "dataset", &v));
    ck_assert_str_eq(v, "fashion-mnist");
    ck_assert_lf_ok(lf_model_set_metadata(m, "empty", ""));
    ck_assert_lf_ok(lf_model_get_metadata(m, "empty", &v));
    ck_assert_str_eq(v, "");

    ck_assert_lf_status(lf_model_set_metadata(m, "libforget.arch", "convnet"), LF_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "reserved"));
    ck_assert_lf_status(lf_model_get_metadata(m, "libforget.arch", &v), LF_E_INVALID_ARG);
    ck_assert_lf_ok(lf__model_set_metadata_raw(m, "libforget.arch", "mlp"));   /* the file code may */
    ck_assert_lf_ok(lf_model_get_metadata(m, "libforget.arch", &v));
    ck_assert_str_eq(v, "mlp");

    ck_assert_lf_status(lf_model_set_metadata(m, NULL, "v"), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_set_metadata(m, "", "v"), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_set_metadata(m, "k", NULL), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_set_metadata(NULL, "k", "v"), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_get_metadata(m, NULL, &v), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_get_metadata(m, "k", NULL), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_get_metadata(NULL, "k", &v), LF_E_INVALID_ARG);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(clone_is_deep)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model *m = new_mlp(ctx, 1, 3, 3, 3, 5);
    const float mean[1] = { 0.5f }, std[1] = { 0.25f };
    ck_assert_lf_ok(lf_model_set_normalization(m, mean, std, 1));
    ck_assert_lf_ok(lf_model_set_metadata(m, "note", "original"));
    lf_model *c = (lf_model *)0x1;
    ck_assert_lf_status(lf_model_clone(&c, NULL), LF_E_INVALID_ARG);
    ck_assert_ptr_null(c);
    ck_assert_lf_status(lf_model_clone(NULL, m), LF_E_INVALID_ARG);
    ck_assert_lf_ok(lf_model_clone(&c, m));
    ck_assert_ptr_ne(c, m);
    ck_assert_str_eq(lf_model_arch(c), "mlp");
    ck_assert_int_eq(lf_model_num_classes(c), 3);
    size_t n = lf_model_num_params(m);
    ck_assert_uint_eq(lf_model_num_params(c), n);
    float *pm = get_params(m), *pc = get_params(c);
    ck_assert_int_eq(memcmp(pm, pc, n * sizeof *pm), 0);
    ck_assert_ptr_ne(c->params, m->params);

    /* changing the clone leaves the original alone */
    float *zeros = calloc(n, sizeof *zeros);
    ck_assert_lf_ok(lf_model_set_params(c, zeros, n));
    ck_assert_lf_ok(lf_model_set_metadata(c, "note", "clone"));
    float *pm2 = get_params(m);
    ck_assert_int_eq(memcmp(pm, pm2, n * sizeof *pm), 0);
    const char *v = NULL;
    ck_assert_lf_ok(lf_model_get_metadata(m, "note", &v));
    ck_assert_str_eq(v, "original");

    /* normalisation came along; the clone outlives its source */
    lf_model_destroy(m);
    float cm = 0, cs = 0;
    int has = 0;
    ck_assert_lf_ok(lf_model_get_normalization(c, &cm, &cs, 1, &has));
    ck_assert_int_eq(has, 1);
    ck_assert_float_eq(cm, 0.5f);
    ck_assert_float_eq(cs, 0.25f);
    ck_assert_lf_ok(lf_model_get_metadata(c, "note", &v));
    ck_assert_str_eq(v, "clone");
    float img[9] = { 0 }, logits[3] = { 1, 1, 1 };
    ck_assert_lf_ok(lf_model_forward(c, img, 1, logits));
    for (int k = 0; k < 3; k++)
        ck_assert_float_eq(logits[k], 0.0f);   /* all-zero parameters */
    free(pm);
    free(pc);
    free(pm2);
    free(zeros);
    lf_model_destroy(c);
    lf_context_destroy(ctx);
}
END_TEST

/* A 1×1×2 → 2-class MLP with a few hand-set weights (all other parameters 0) and powers of two
 * everywhere, so every logit is exact in float:
 *   h1[0] = relu(x0 + 0.5), h1[1] = relu(−x1)
 *   h2[0] = relu(2·h1[0]), h2[1] = relu(h1[1]), h2[2] = relu(−h1[0]) = 0
 *   logits = (h2[0] + 0.25, 3·h2[1] − 0.5) */
static lf_model *hand_set_model(lf_context *ctx)
{
    lf_model *m = new_mlp(ctx, 1, 1, 2, 2, 0);
    size_t n = lf_model_num_params(m);
    float *p = calloc(n, sizeof *p);
    const size_t fc1_w = 0, fc1_b = 512, fc2_w = 768, fc2_b = fc2_w + 65536, fc3_w = fc2_b + 256,
                 fc3_b = fc3_w + 512;
    ck_assert_uint_eq(lf__model_find_tensor(m, "fc3.bias")->offset, fc3_b);
    p[fc1_w + 0 * 2 + 0] = 1.0f;     /* W1[0][0] */
    p[fc1_w + 1 * 2 + 1] = -1.0f;    /* W1[1][1] */
    p[fc1_b + 0] = 0.5f;
    p[fc2_w + 0 * 256 + 0] = 2.0f;   /* W2[0][0] */
    p[fc2_w + 1 * 256 + 1] = 1.0f;   /* W2[1][1] */
    p[fc2_w + 2 * 256 + 0] = -1.0f;  /* W2[2][0] */
    p[fc3_w + 0 * 256 + 0] = 1.0f;   /* W3[0][0] */
    p[fc3_w + 1 * 256 + 1] = 3.0f;   /* W3[1][1] */
    p[fc3_b + 0] = 0.25f;
    p[fc3_b + 1] = -0.5f;
    ck_assert_lf_ok(lf_model_set_params(m, p, n));
    free(p);
    return m;
}

START_TEST(forward_hand_computed)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model *m = hand_set_model(ctx);
    const float x[3][2] = { { 0.25f, 0.75f }, { -1.0f, -0.5f }, { 1.5f, -2.0f } };
    const float want[3][2] = { { 1.75f, -0.5f }, { 0.25f, 1.0f }, { 4.25f, 5.5f } };
    float logits[3][2];
    ck_assert_lf_ok(lf_model_forward(m, &x[0][0], 3, &logits[0][0]));
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 2; k++)
            ck_assert_msg(logits[i][k] == want[i][k], "sample %d logit %d: %g, want %g", i, k,
                          (double)logits[i][k], (double)want[i][k]);

    /* with normalisation mean 0.5, std 0.25 the model sees 4x − 2: raw (0.625, 0.25) becomes
     * (0.5, −1) → h1 = (1, 1) → h2 = (2, 1, 0) → logits (2.25, 2.5) */
    const float mean = 0.5f, std = 0.25f, raw[2] = { 0.625f, 0.25f };
    ck_assert_lf_ok(lf_model_set_normalization(m, &mean, &std, 1));
    ck_assert_lf_ok(lf_model_forward(m, raw, 1, &logits[0][0]));
    ck_assert_float_eq(logits[0][0], 2.25f);
    ck_assert_float_eq(logits[0][1], 2.5f);

    ck_assert_lf_ok(lf_model_forward(m, NULL, 0, NULL));   /* nothing to do */
    ck_assert_lf_status(lf_model_forward(m, NULL, 1, &logits[0][0]), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_forward(m, raw, 1, NULL), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_forward(NULL, raw, 1, &logits[0][0]), LF_E_INVALID_ARG);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(predict_batches_equal_per_sample_forward)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    const size_t n = 2600, first = 150, count = 2300;   /* count spans three 1024-row batches */
    lf_dataset *ds = lf_test_blobs(ctx, n, 3, 1, 4, 4, 9);
    lf_model *m = new_mlp(ctx, 1, 4, 4, 3, 0);
    const float mean = 0.4f, std = 0.3f;
    ck_assert_lf_ok(lf_model_set_normalization(m, &mean, &std, 1));
    float *logits = malloc(count * 3 * sizeof *logits), *probs = malloc(count * 3 * sizeof *probs);
    float *only_probs = malloc(count * 3 * sizeof *only_probs);
    ck_assert_lf_ok(lf_model_predict(m, ds, first, count, logits, probs));
    ck_assert_lf_ok(lf_model_predict(m, ds, first, count, NULL, only_probs));
    ck_assert_int_eq(memcmp(probs, only_probs, count * 3 * sizeof *probs), 0);
    for (size_t i = 0; i < count; i += 7) {
        float img[16], one[3];
        ck_assert_lf_ok(lf_dataset_get(ds, first + i, img, NULL));
        ck_assert_lf_ok(lf_model_forward(m, img, 1, one));
        double mx = one[0], sum = 0;
        for (int k = 1; k < 3; k++)
            mx = one[k] > mx ? one[k] : mx;
        for (int k = 0; k < 3; k++)
            sum += exp((double)one[k] - mx);
        for (int k = 0; k < 3; k++) {
            /* the reference backend computes each row alone: batching changes nothing */
            ck_assert_float_eq(logits[i * 3 + k], one[k]);
            ck_assert_double_eq_tol(probs[i * 3 + k], exp((double)one[k] - mx) / sum, 1e-6);
        }
    }
    ck_assert_lf_ok(lf_model_predict(m, ds, n, 0, logits, NULL));   /* empty range at the end */
    ck_assert_lf_status(lf_model_predict(m, ds, n - 10, 11, logits, NULL), LF_E_OUT_OF_RANGE);
    ck_assert_lf_status(lf_model_predict(m, ds, SIZE_MAX, 2, logits, NULL), LF_E_OUT_OF_RANGE);
    ck_assert_lf_status(lf_model_predict(m, ds, 0, 1, NULL, NULL), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_predict(m, NULL, 0, 1, logits, NULL), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_predict(NULL, ds, 0, 1, logits, NULL), LF_E_INVALID_ARG);
    free(logits);
    free(probs);
    free(only_probs);
    lf_model_destroy(m);
    lf_dataset_destroy(ds);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(accuracy_counts_argmax_hits)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    const size_t n = 1500;
    lf_dataset *ds = lf_test_blobs(ctx, n, 4, 1, 3, 3, 4);
    lf_model *m = new_mlp(ctx, 1, 3, 3, 4, 3);
    float *logits = malloc(n * 4 * sizeof *logits);
    int32_t *labels = malloc(n * sizeof *labels);
    ck_assert_lf_ok(lf_model_predict(m, ds, 0, n, logits, NULL));
    ck_assert_lf_ok(lf_dataset_labels(ds, labels, n));
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        int best = 0;
        for (int k = 1; k < 4; k++)
            if (logits[i * 4 + k] > logits[i * 4 + best])
                best = k;
        hits += best == labels[i];
    }
    double acc = -1;
    ck_assert_lf_ok(lf_model_accuracy(m, ds, &acc));
    ck_assert_double_eq(acc, (double)hits / (double)n);
    ck_assert_lf_status(lf_model_accuracy(m, ds, NULL), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_accuracy(NULL, ds, &acc), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_accuracy(m, NULL, &acc), LF_E_INVALID_ARG);

    /* the hand-set model, normalised to see 4x − 2: raw pixels (0.5625, 0.6875), (0.25, 0.375),
     * (0.875, 0), (0.5, 0.5) become (0.25, 0.75), (−1, −0.5), (1.5, −2), (0, 0), with logits
     * (1.75, −0.5), (0.25, 1), (4.25, 5.5), (1.25, −0.5): winners 0, 1, 1, 0 */
    lf_model *h = hand_set_model(ctx);
    const float mean = 0.5f, std = 0.25f;
    ck_assert_lf_ok(lf_model_set_normalization(h, &mean, &std, 1));
    const float x[4 * 2] = { 0.5625f, 0.6875f, 0.25f, 0.375f, 0.875f, 0.0f, 0.5f, 0.5f };
    const int32_t y[4] = { 0, 1, 1, 1 };   /* three of four right */
    lf_dataset *tiny = NULL;
    ck_assert_lf_ok(lf_dataset_from_memory(&tiny, ctx, x, y, 4, 1, 1, 2, 2, 0));
    ck_assert_lf_ok(lf_model_accuracy(h, tiny, &acc));
    ck_assert_double_eq(acc, 0.75);
    lf_dataset_destroy(tiny);
    lf_model_destroy(h);
    free(logits);
    free(labels);
    lf_model_destroy(m);
    lf_dataset_destroy(ds);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(shape_mismatch)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model *m = new_mlp(ctx, 1, 4, 4, 3, 0);
    lf_dataset *wrong = lf_test_blobs(ctx, 20, 3, 1, 5, 5, 2);
    lf_dataset *more_classes = lf_test_blobs(ctx, 20, 5, 1, 4, 4, 2);
    lf_dataset *same_size = lf_test_blobs(ctx, 20, 3, 2, 2, 4, 2);   /* 16 values, another shape */
    float logits[20 * 5];
    double acc;
    ck_assert_lf_status(lf_model_predict(m, wrong, 0, 20, logits, NULL), LF_E_SHAPE);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "5 x 5"));
    ck_assert_lf_status(lf_model_accuracy(m, wrong, &acc), LF_E_SHAPE);
    ck_assert_lf_status(lf_model_train(m, wrong, NULL, NULL), LF_E_SHAPE);
    ck_assert_lf_status(lf_model_accuracy(m, more_classes, &acc), LF_E_SHAPE);
    /* the MLP flattens its input: only C·H·W has to agree */
    ck_assert_lf_ok(lf_model_predict(m, same_size, 0, 20, logits, NULL));
    ck_assert_lf_ok(lf_model_accuracy(m, same_size, &acc));
    ck_assert_lf_ok(lf__model_check_input(m, 1, 1, 16, "test"));
    ck_assert_lf_status(lf__model_check_input(m, 1, 1, 15, "test"), LF_E_SHAPE);
    lf_dataset_destroy(wrong);
    lf_dataset_destroy(more_classes);
    lf_dataset_destroy(same_size);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(model_keeps_context_alive)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model *m = new_mlp(ctx, 1, 2, 2, 2, 0);
    lf_context_destroy(ctx);   /* deferred: the model still holds it (valgrind checks the free) */
    float img[4] = { 0 }, logits[2];
    ck_assert_lf_ok(lf_model_forward(m, img, 1, logits));
    lf_model_destroy(m);
}
END_TEST

/* A host allocator that records every block (to check that each free names its block's size)
 * and fails from the fail_at-th allocation on. */
typedef struct tracking_alloc {
    void  *ptr[4096];
    size_t size[4096];
    int    live, count, fail_at, bad_free;
} tracking_alloc;

static void *track_alloc(void *user, size_t size, size_t alignment)
{
    tracking_alloc *t = user;
    if (t->fail_at >= 0 && t->count >= t->fail_at)
        return NULL;
    t->count++;
    void *p = aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
    for (int i = 0; p && i < 4096; i++)
        if (!t->ptr[i]) {
            t->ptr[i] = p;
            t->size[i] = size;
            t->live++;
            break;
        }
    return p;
}

static void track_free(void *user, void *ptr, size_t size)
{
    tracking_alloc *t = user;
    for (int i = 0; i < 4096; i++)
        if (t->ptr[i] == ptr) {
            t->bad_free += t->size[i] != size;
            t->ptr[i] = NULL;
            t->live--;
            free(ptr);
            return;
        }
    t->bad_free++;
}

START_TEST(allocation_failures_leak_nothing)
{
    static tracking_alloc t;
    memset(&t, 0, sizeof t);
    t.fail_at = -1;
    lf_context_options o = LF_CONTEXT_OPTIONS_INIT;
    o.backend = LF_BACKEND_REFERENCE;
    o.threads = 1;
    o.allocator = (lf_allocator){ (uint32_t)sizeof(lf_allocator), 0, track_alloc, track_free, &t };
    lf_context *ctx = NULL;
    ck_assert_lf_ok(lf_context_create(&ctx, &o));
    lf_model_config cfg = { (uint32_t)sizeof cfg, 1, 2, 3, 4, 0 };
    lf_dataset *ds = lf_test_blobs(ctx, 10, 4, 1, 2, 3, 1);
    int ctx_blocks = t.live;
    /* every allocation of create + metadata + clone + forward + train + predict failing in turn */
    int succeeded = 0, failed = 0;
    for (int k = 0; k < 200 && !succeeded; k++) {
        t.count = 0;
        t.fail_at = k;
        lf_model *m = NULL, *c = NULL;
        lf_status st = lf_model_create(&m, ctx, "mlp", &cfg);
        if (st == LF_OK)
            st = lf_model_set_metadata(m, "a", "1");
        if (st == LF_OK)
            st = lf_model_set_metadata(m, "b", "2");
        if (st == LF_OK)
            st = lf_model_clone(&c, m);
        float img[6] = { 0 }, logits[4];
        if (st == LF_OK)
            st = lf_model_forward(c, img, 1, logits);
        lf_train_options topt = LF_TRAIN_OPTIONS_INIT;
        topt.epochs = 1;
        topt.batch_size = 4;
        if (st == LF_OK) {
            size_t n = lf_model_num_params(c);
            float *before = malloc(n * sizeof *before), *after = malloc(n * sizeof *after);
            ck_assert_lf_ok(lf_model_get_params(c, before, n));
            st = lf_model_train(c, ds, &topt, NULL);
            ck_assert_lf_ok(lf_model_get_params(c, after, n));
            if (st != LF_OK)   /* a failed training leaves the model as it was */
                ck_assert_int_eq(memcmp(before, after, n * sizeof *after), 0);
            free(before);
            free(after);
        }
        float probs[10 * 4];
        if (st == LF_OK)
            st = lf_model_predict(c, ds, 0, 10, NULL, probs);
        ck_assert_msg(st == LF_OK || st == LF_E_NOMEM, "k = %d: %s", k, lf_status_name(st));
        succeeded = st == LF_OK;
        failed += !succeeded;
        lf_model_destroy(c);
        lf_model_destroy(m);
        ck_assert_int_eq(t.live, ctx_blocks);
    }
    ck_assert(succeeded);
    ck_assert_int_ge(failed, 10);   /* each host allocation on the way failed once */
    ck_assert_int_eq(t.bad_free, 0);
    t.fail_at = -1;
    lf_dataset_destroy(ds);
    lf_context_destroy(ctx);
    ck_assert_int_eq(t.live, 0);
    ck_assert_int_eq(t.bad_free, 0);
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, create_destroy_and_null_safety);
    tcase_add_test(tc, registry_and_unknown_arch);
    tcase_add_test(tc, bad_config_is_rejected);
    tcase_add_test(tc, config_from_dataset);
    tcase_add_test(tc, mlp_tensor_table_and_param_counts);
    tcase_add_test(tc, init_matches_pytorch_bounds_and_seeds);
    tcase_add_test(tc, get_set_params_check_lengths);
    tcase_add_test(tc, normalization);
    tcase_add_test(tc, metadata);
    tcase_add_test(tc, clone_is_deep);
    tcase_add_test(tc, forward_hand_computed);
    tcase_add_test(tc, predict_batches_equal_per_sample_forward);
    tcase_add_test(tc, accuracy_counts_argmax_hits);
    tcase_add_test(tc, shape_mismatch);
    tcase_add_test(tc, model_keeps_context_alive);
    tcase_add_test(tc, allocation_failures_leak_nothing);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(model_suite)
