/* Misuse of model.h (issue 9, item 4): NULL handles and out-pointers, wrong struct_size, bad
 * configurations and hyperparameters, models and data sets that do not fit each other, NaN/Inf
 * in caller arrays. Each call returns the documented status with its own detail message, a
 * failed create leaves its out-pointer NULL, and the model and data sets are unchanged (their
 * file and sample hashes are compared before and after). */
#include <math.h>

#include "misuse.h"

enum { N = 24, CLASSES = 3, SIDE = 4 };

static lf_context *ctx;
static lf_dataset *ds, *more_classes, *other_shape, *same_size;
static lf_model *mlp, *cnn;
static uint64_t mlp_hash, cnn_hash, ds_hash;
static char dir[256];

static lf_dataset *blobs(size_t n, int32_t classes, int32_t c, int32_t h, int32_t w)
{
    return lf_test_blobs(ctx, n, classes, c, h, w, 3);
}

static lf_model *model(const char *arch, const lf_dataset *d)
{
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    ck_assert_lf_ok(lf_model_config_from_dataset(&cfg, d));
    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_create(&m, ctx, arch, &cfg));
    return m;
}

static void setup(void)
{
    ctx = lf_test_context(LF_BACKEND_REFERENCE);
    ds = blobs(N, CLASSES, 1, SIDE, SIDE);
    more_classes = blobs(N, CLASSES + 2, 1, SIDE, SIDE);
    other_shape = blobs(N, CLASSES, 1, SIDE + 1, SIDE);
    same_size = blobs(N, CLASSES, 1, 2, 2 * SIDE);   /* as many values as ds, another shape */
    mlp = model("mlp", ds);
    cnn = model("convnet", ds);
    mlp_hash = model_hash(mlp);
    cnn_hash = model_hash(cnn);
    ds_hash = dataset_hash(ds);
    snprintf(dir, sizeof dir, "%s", lf_test_tmpdir());
}

static void teardown(void)
{
    lf_model_destroy(mlp);
    lf_model_destroy(cnn);
    lf_dataset_destroy(ds);
    lf_dataset_destroy(more_classes);
    lf_dataset_destroy(other_shape);
    lf_dataset_destroy(same_size);
    lf_context_destroy(ctx);
}

/* Every test ends here: nothing the caller owns has changed. */
static void assert_unchanged(void)
{
    ck_assert_uint_eq(model_hash(mlp), mlp_hash);
    ck_assert_uint_eq(model_hash(cnn), cnn_hash);
    ck_assert_uint_eq(dataset_hash(ds), ds_hash);
}

START_TEST(create)
{
    lf_model *m = JUNK_PTR;
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    ck_assert_lf_ok(lf_model_config_from_dataset(&cfg, ds));
    MISUSE(lf_model_create(NULL, ctx, "mlp", &cfg), LF_E_INVALID_ARG, "out");
    MISUSE(lf_model_create(&m, NULL, "mlp", &cfg), LF_E_INVALID_ARG, "ctx");
    ck_assert_ptr_null(m);
    MISUSE(lf_model_create(&m, ctx, NULL, &cfg), LF_E_INVALID_ARG, "arch");
    MISUSE(lf_model_create(&m, ctx, "mlp", NULL), LF_E_INVALID_ARG, "config");
    MISUSE(lf_model_create(&m, ctx, "nope", &cfg), LF_E_UNKNOWN_ARCH, "'nope'");
    MISUSE(lf_model_create(&m, ctx, "", &cfg), LF_E_UNKNOWN_ARCH, "''");
    MISUSE(lf_model_create(&m, ctx, "MLP", &cfg), LF_E_UNKNOWN_ARCH, "'MLP'");

    /* one bad field at a time */
    struct { int field; int64_t value; lf_status want; const char *needle; } cases[] = {
        { 0, 0, LF_E_ABI, "struct_size" },
        { 0, 7, LF_E_ABI, "struct_size" },
        { 0, 8, LF_E_ABI, "struct_size" },
        { 1, 0, LF_E_OUT_OF_RANGE, "channels" },
        { 1, -1, LF_E_OUT_OF_RANGE, "channels" },
        { 1, 65537, LF_E_OUT_OF_RANGE, "channels" },
        { 2, 0, LF_E_OUT_OF_RANGE, "height" },
        { 3, INT32_MIN, LF_E_OUT_OF_RANGE, "width" },
        { 4, 0, LF_E_OUT_OF_RANGE, "num_classes" },
        { 4, 1, LF_E_OUT_OF_RANGE, "num_classes" },
        { 4, -5, LF_E_OUT_OF_RANGE, "num_classes" },
        { 5, 65536, LF_E_OUT_OF_RANGE, "values per sample" },   /* 1 × 65536 × 65536 */
    };
    const char *archs[] = { "mlp", "convnet", "resnet18" };
    for (size_t a = 0; a < 3; a++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            lf_model_config c = cfg;
            switch (cases[i].field) {
            case 0: c.struct_size = (uint32_t)cases[i].value; break;
            case 1: c.channels = (int32_t)cases[i].value; break;
            case 2: c.height = (int32_t)cases[i].value; break;
            case 3: c.width = (int32_t)cases[i].value; break;
            case 4: c.num_classes = (int32_t)cases[i].value; break;
            case 5: c.height = c.width = (int32_t)cases[i].value; break;
            }
            char what[64];
            snprintf(what, sizeof what, "%s, case %zu", archs[a], i);
            m = JUNK_PTR;
            misuse_sentinel();
            lf_status st = lf_model_create(&m, ctx, archs[a], &c);
            misuse_check(st, cases[i].want, cases[i].needle, what);
            ck_assert_ptr_null(m);
        }
    /* a larger struct: a zero tail is fine, a set one is refused */
    union { lf_model_config c; unsigned char b[sizeof(lf_model_config) + 8]; } big;
    memset(&big, 0, sizeof big);
    big.c = cfg;
    big.c.struct_size = sizeof big.b;
    ck_assert_lf_ok(lf_model_create(&m, ctx, "mlp", &big.c));
    lf_model_destroy(m);
    big.b[sizeof big.b - 1] = 1;
    MISUSE(lf_model_create(&m, ctx, "mlp", &big.c), LF_E_UNSUPPORTED, "lf_model_config");
    ck_assert_ptr_null(m);
    assert_unchanged();
}
END_TEST

/* Inputs too small for an architecture's pooling stages must be refused, not crash. */
START_TEST(create_tiny_inputs)
{
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = 1;
    cfg.height = cfg.width = 1;
    cfg.num_classes = 2;
    lf_model *m = JUNK_PTR;
    misuse_sentinel();
    lf_status st = lf_model_create(&m, ctx, "convnet", &cfg);
    ck_assert_msg(st != LF_OK, "a 1x1 input for convnet was accepted");
    misuse_check(st, st, "convnet", "convnet 1x1");
    ck_assert_ptr_null(m);
    /* the MLP takes any input size, resnet18 pools globally */
    ck_assert_lf_ok(lf_model_create(&m, ctx, "mlp", &cfg));
    lf_model_destroy(m);
}
END_TEST

START_TEST(config_and_archs)
{
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    MISUSE(lf_model_config_from_dataset(NULL, ds), LF_E_INVALID_ARG, "config");
    MISUSE(lf_model_config_from_dataset(&cfg, NULL), LF_E_INVALID_ARG, "ds");
    cfg.struct_size = 6;
    MISUSE(lf_model_config_from_dataset(&cfg, ds), LF_E_ABI, "struct_size");
    cfg.struct_size = 8;
    MISUSE(lf_model_config_from_dataset(&cfg, ds), LF_E_ABI, "struct_size");
    cfg.struct_size = 0;   /* documented: taken as today's layout */
    ck_assert_lf_ok(lf_model_config_from_dataset(&cfg, ds));
    ck_assert_ptr_null(lf_arch_name(lf_arch_count()));
    ck_assert_ptr_null(lf_arch_name(SIZE_MAX));
}
END_TEST

START_TEST(load_and_save)
{
    char path[512], junk[512], empty[512];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    snprintf(junk, sizeof junk, "%s/junk.safetensors", dir);
    snprintf(empty, sizeof empty, "%s/empty.safetensors", dir);
    ck_assert_lf_ok(lf_model_save(mlp, path));
    lf_test_write_file(junk, "not a safetensors file at all", 29);
    lf_test_write_file(empty, "", 0);

    MISUSE(lf_model_save(NULL, path), LF_E_INVALID_ARG, "model");
    MISUSE(lf_model_save(mlp, NULL), LF_E_INVALID_ARG, "path");
    MISUSE(lf_model_save(mlp, ""), LF_E_IO, NULL);
    MISUSE(lf_model_save(mlp, "/nonexistent-dir/m.safetensors"), LF_E_IO, "/nonexistent-dir/m.safetensors");
    MISUSE(lf_model_save(mlp, dir), LF_E_IO, dir);   /* a folder: the rename fails */

    lf_model *m = JUNK_PTR;
    MISUSE(lf_model_load(NULL, ctx, path, NULL), LF_E_INVALID_ARG, "out");
    MISUSE(lf_model_load(&m, NULL, path, NULL), LF_E_INVALID_ARG, "ctx");
    ck_assert_ptr_null(m);
    MISUSE(lf_model_load(&m, ctx, NULL, NULL), LF_E_INVALID_ARG, "path");
    MISUSE(lf_model_load(&m, ctx, "/nonexistent-dir/m.safetensors", NULL), LF_E_IO, "/nonexistent-dir");
    MISUSE(lf_model_load(&m, ctx, dir, NULL), LF_E_IO, dir);
    MISUSE(lf_model_load(&m, ctx, junk, NULL), LF_E_FORMAT, junk);
    MISUSE(lf_model_load(&m, ctx, empty, NULL), LF_E_FORMAT, empty);
    lf_model_load_options o = LF_MODEL_LOAD_OPTIONS_INIT;
    o.struct_size = 2;
    MISUSE(lf_model_load(&m, ctx, path, &o), LF_E_ABI, "lf_model_load_options");
    o = (lf_model_load_options)LF_MODEL_LOAD_OPTIONS_INIT;
    o.arch = "nope";
    MISUSE(lf_model_load(&m, ctx, path, &o), LF_E_UNKNOWN_ARCH, "nope");
    o.arch = "convnet";   /* an MLP's tensors under another architecture */
    misuse_sentinel();
    lf_status st = lf_model_load(&m, ctx, path, &o);
    ck_assert_msg(st != LF_OK, "an mlp file loaded as convnet");
    misuse_check(st, st, path, "mlp file as convnet");
    ck_assert_ptr_null(m);

    MISUSE(lf_model_clone(NULL, mlp), LF_E_INVALID_ARG, "out");
    MISUSE(lf_model_clone(&m, NULL), LF_E_INVALID_ARG, "src");
    ck_assert_ptr_null(m);
    lf_model_destroy(NULL);
    unlink(path);
    unlink(junk);
    unlink(empty);
    assert_unchanged();
}
END_TEST

START_TEST(accessors)
{
    ck_assert_ptr_null(lf_model_arch(NULL));
    ck_assert_int_eq(lf_model_num_classes(NULL), 0);
    ck_assert_uint_eq(lf_model_num_params(NULL), 0);
    lf_model_set_user_data(NULL, &ctx);
    ck_assert_ptr_null(lf_model_get_user_data(NULL));
    int32_t c = -9;
    MISUSE(lf_model_input_shape(NULL, &c, &c, &c), LF_E_INVALID_ARG, "model");
    ck_assert_int_eq(c, -9);
    ck_assert_lf_ok(lf_model_input_shape(mlp, NULL, NULL, NULL));
    double sp = -1;
    MISUSE(lf_model_sparsity(NULL, &sp), LF_E_INVALID_ARG, "model");
    MISUSE(lf_model_sparsity(mlp, NULL), LF_E_INVALID_ARG, "out");
    assert_unchanged();
}
END_TEST

START_TEST(params)
{
    size_t n = lf_model_num_params(mlp);
    float *p = malloc((n + 1) * sizeof *p);
    MISUSE(lf_model_get_params(NULL, p, n), LF_E_INVALID_ARG, "model");
    MISUSE(lf_model_get_params(mlp, NULL, n), LF_E_INVALID_ARG, "dst");
    MISUSE(lf_model_get_params(mlp, p, n - 1), LF_E_SHAPE, "parameters");
    MISUSE(lf_model_get_params(mlp, p, n + 1), LF_E_SHAPE, "parameters");
    MISUSE(lf_model_get_params(mlp, p, 0), LF_E_SHAPE, "n = 0");
    ck_assert_lf_ok(lf_model_get_params(mlp, p, n));
    MISUSE(lf_model_set_params(NULL, p, n), LF_E_INVALID_ARG, "model");
    MISUSE(lf_model_set_params(mlp, NULL, n), LF_E_INVALID_ARG, "src");
    MISUSE(lf_model_set_params(mlp, p, n + 1), LF_E_SHAPE, "parameters");
    MISUSE(lf_model_set_params(mlp, p, 0), LF_E_SHAPE, "n = 0");
    /* a NaN or infinity anywhere in the caller's parameters is refused, the model unchanged */
    const float bad[] = { NAN, INFINITY, -INFINITY };
    const size_t where[] = { 0, n / 2, n - 1 };
    for (size_t b = 0; b < 3; b++)
        for (size_t w = 0; w < 3; w++) {
            float keep = p[where[w]];
            p[where[w]] = bad[b];
            char needle[64];
            snprintf(needle, sizeof needle, "src[%zu]", where[w]);
            MISUSE(lf_model_set_params(mlp, p, n), LF_E_NUMERIC, needle);
            p[where[w]] = keep;
        }
    free(p);
    assert_unchanged();
}
END_TEST

START_TEST(normalization_and_metadata)
{
    float mean[2] = { 0.5f, 0.5f }, std[2] = { 0.25f, 0.25f };
    MISUSE(lf_model_set_normalization(NULL, mean, std, 1), LF_E_INVALID_ARG, "model");
    MISUSE(lf_model_set_normalization(mlp, NULL, std, 1), LF_E_INVALID_ARG, "mean");
    MISUSE(lf_model_set_normalization(mlp, mean, NULL, 1), LF_E_INVALID_ARG, "std");
    MISUSE(lf_model_set_normalization(mlp, mean, std, 2), LF_E_SHAPE, "n = 2");
    MISUSE(lf_model_set_normalization(mlp, mean, std, 0), LF_E_SHAPE, "n = 0");
    const float bad_std[] = { 0.0f, -1.0f, NAN, INFINITY, -0.0f };
    for (size_t i = 0; i < sizeof bad_std / sizeof bad_std[0]; i++) {
        float s = bad_std[i];
        MISUSE(lf_model_set_normalization(mlp, mean, &s, 1), LF_E_OUT_OF_RANGE, "std[0]");
    }
    const float bad_mean[] = { NAN, INFINITY, -INFINITY };
    for (size_t i = 0; i < 3; i++) {
        float m = bad_mean[i];
        MISUSE(lf_model_set_normalization(mlp, &m, std, 1), LF_E_OUT_OF_RANGE, "mean[0]");
    }
    int has = -1;
    MISUSE(lf_model_get_normalization(NULL, mean, std, 1, &has), LF_E_INVALID_ARG, "model");
    MISUSE(lf_model_get_normalization(mlp, mean, std, 2, &has), LF_E_SHAPE, "n = 2");
    ck_assert_int_eq(has, -1);
    ck_assert_lf_ok(lf_model_get_normalization(mlp, NULL, NULL, 0, NULL));

    const char *v = JUNK_PTR;
    MISUSE(lf_model_set_metadata(NULL, "k", "v"), LF_E_INVALID_ARG, "model");
    MISUSE(lf_model_set_metadata(mlp, NULL, "v"), LF_E_INVALID_ARG, "key");
    MISUSE(lf_model_set_metadata(mlp, "", "v"), LF_E_INVALID_ARG, "key");
    MISUSE(lf_model_set_metadata(mlp, "k", NULL), LF_E_INVALID_ARG, "'k'");
    MISUSE(lf_model_set_metadata(mlp, "libforget.arch", "convnet"), LF_E_INVALID_ARG, "reserved");
    MISUSE(lf_model_get_metadata(mlp, "k", NULL), LF_E_INVALID_ARG, "value");
    MISUSE(lf_model_get_metadata(NULL, "k", &v), LF_E_INVALID_ARG, "model");
    ck_assert_ptr_null(v);
    v = JUNK_PTR;
    MISUSE(lf_model_get_metadata(mlp, NULL, &v), LF_E_INVALID_ARG, "key");
    ck_assert_ptr_null(v);
    v = JUNK_PTR;
    MISUSE(lf_model_get_metadata(mlp, "absent", &v), LF_E_INVALID_ARG, "'absent'");
    ck_assert_ptr_null(v);
    assert_unchanged();
}
END_TEST

START_TEST(inference)
{
    enum { ROWS = 3, D = SIDE * SIDE };
    float x[ROWS * D], logits[ROWS * CLASSES], probs[ROWS * CLASSES];
    for (size_t i = 0; i < ROWS * D; i++)
        x[i] = 0.5f;
    MISUSE(lf_model_forward(NULL, x, ROWS, logits), LF_E_INVALID_ARG, "model");
    MISUSE(lf_model_forward(mlp, NULL, ROWS, logits), LF_E_INVALID_ARG, "images");
    MISUSE(lf_model_forward(mlp, x, ROWS, NULL), LF_E_INVALID_ARG, "logits");
    ck_assert_lf_ok(lf_model_forward(mlp, x, 0, logits));   /* n = 0: nothing to do */
    /* NaN or infinite pixels from the caller are refused, naming the sample */
    const float bad[] = { NAN, INFINITY, -INFINITY };
    for (size_t b = 0; b < 3; b++) {
        x[D + 2] = bad[b];
        MISUSE(lf_model_forward(mlp, x, ROWS, logits), LF_E_NUMERIC, "sample 1");
        MISUSE(lf_model_forward(cnn, x, ROWS, logits), LF_E_NUMERIC, "sample 1");
    }
    x[D + 2] = 0.5f;

    MISUSE(lf_model_predict(NULL, ds, 0, 1, logits, probs), LF_E_INVALID_ARG, "model");
    MISUSE(lf_model_predict(mlp, NULL, 0, 1, logits, probs), LF_E_INVALID_ARG, "ds");
    MISUSE(lf_model_predict(mlp, ds, 0, 1, NULL, NULL), LF_E_INVALID_ARG, "both NULL");
    MISUSE(lf_model_predict(mlp, ds, N, 1, logits, NULL), LF_E_OUT_OF_RANGE, "outside");
    MISUSE(lf_model_predict(mlp, ds, N + 1, 0, logits, NULL), LF_E_OUT_OF_RANGE, "outside");
    MISUSE(lf_model_predict(mlp, ds, SIZE_MAX, 2, logits, NULL), LF_E_OUT_OF_RANGE, "outside");
    MISUSE(lf_model_predict(mlp, ds, 1, SIZE_MAX, logits, NULL), LF_E_OUT_OF_RANGE, "outside");
    MISUSE(lf_model_predict(mlp, other_shape, 0, 1, logits, NULL), LF_E_SHAPE, "5 x 4");
    MISUSE(lf_model_predict(cnn, same_size, 0, 1, logits, NULL), LF_E_SHAPE, "2 x 8");

    double acc = -1;
    MISUSE(lf_model_accuracy(mlp, ds, NULL), LF_E_INVALID_ARG, "accuracy");
    MISUSE(lf_model_accuracy(NULL, ds, &acc), LF_E_INVALID_ARG, "model");
    MISUSE(lf_model_accuracy(mlp, NULL, &acc), LF_E_INVALID_ARG, "ds");
    MISUSE(lf_model_accuracy(mlp, more_classes, &acc), LF_E_SHAPE, "5 classes");
    MISUSE(lf_model_accuracy(mlp, other_shape, &acc), LF_E_SHAPE, "5 x 4");
    MISUSE(lf_model_accuracy(cnn, same_size, &acc), LF_E_SHAPE, "2 x 8");
    /* the MLP flattens its input: the same number of values fits */
    ck_assert_lf_ok(lf_model_accuracy(mlp, same_size, &acc));
    assert_unchanged();
}
END_TEST

/* Table of bad training options; each refused before any step, the model untouched. */
START_TEST(train)
{
    lf_train_options ok = LF_TRAIN_OPTIONS_INIT;
    ok.epochs = 1;
    lf_train_result r = LF_TRAIN_RESULT_INIT;
    MISUSE(lf_model_train(NULL, ds, &ok, &r), LF_E_INVALID_ARG, "model");
    MISUSE(lf_model_train(mlp, NULL, &ok, &r), LF_E_INVALID_ARG, "ds");
    MISUSE(lf_model_train(mlp, more_classes, &ok, &r), LF_E_SHAPE, "5 classes");
    MISUSE(lf_model_train(mlp, other_shape, &ok, &r), LF_E_SHAPE, "5 x 4");
    MISUSE(lf_model_train(cnn, same_size, &ok, &r), LF_E_SHAPE, "2 x 8");
    r.struct_size = 0;
    MISUSE(lf_model_train(mlp, ds, &ok, &r), LF_E_ABI, "lf_train_result");
    r.struct_size = 6;
    MISUSE(lf_model_train(mlp, ds, &ok, &r), LF_E_ABI, "lf_train_result");

    struct { int field; double value; const char *needle; } cases[] = {
        { 0, 0, "struct_size" }, { 0, 4, "struct_size" }, { 0, 10, "struct_size" },
        { 1, -1, "epochs" }, { 1, 100001, "epochs" },
        { 2, -1, "batch_size" }, { 2, (1 << 20) + 1, "batch_size" },
        { 3, 3, "schedule" }, { 3, -1, "schedule" },
        { 4, -0.1, "lr" }, { 4, NAN, "lr" }, { 4, INFINITY, "lr" }, { 4, 1e39, "lr" },
        { 5, 1.5, "momentum" }, { 5, NAN, "momentum" }, { 5, INFINITY, "momentum" },
        { 6, NAN, "weight_decay" }, { 6, INFINITY, "weight_decay" },
        { 7, -0.5, "gamma" }, { 7, NAN, "gamma" },
        { 8, -2, "milestones[3]" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lf_train_options o = ok;
        double v = cases[i].value;
        switch (cases[i].field) {
        case 0: o.struct_size = (uint32_t)v; break;
        case 1: o.epochs = (int32_t)v; break;
        case 2: o.batch_size = (int32_t)v; break;
        case 3: o.schedule = (int32_t)v; break;
        case 4: o.lr = v; break;
        case 5: o.momentum = v; break;
        case 6: o.weight_decay = v; break;
        case 7: o.gamma = v; break;
        case 8: o.milestones[3] = (int32_t)v; break;
        }
        lf_train_result res = LF_TRAIN_RESULT_INIT;
        char what[64];
        snprintf(what, sizeof what, "train options case %zu", i);
        misuse_sentinel();
        lf_status st = lf_model_train(cnn, ds, &o, &res);
        misuse_check(st, cases[i].field == 0 ? LF_E_ABI : LF_E_OUT_OF_RANGE, cases[i].needle, what);
        ck_assert_int_eq(res.steps, 0);
    }
    assert_unchanged();
}
END_TEST

START_TEST(prune)
{
    MISUSE(lf_model_prune(NULL, 0.5), LF_E_INVALID_ARG, "model");
    const double bad[] = { -0.1, 1.0, 1.5, NAN, INFINITY, -INFINITY };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        MISUSE(lf_model_prune(cnn, bad[i]), LF_E_OUT_OF_RANGE, "sparsity");
    MISUSE(lf_model_prune(mlp, 0.5), LF_E_UNSUPPORTED, "'mlp'");
    double sp = -1;
    ck_assert_lf_ok(lf_model_sparsity(cnn, &sp));
    ck_assert(sp == 0.0);
    assert_unchanged();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("misuse_model");
    TCase *tc = tcase_create("misuse_model");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, create);
    tcase_add_test(tc, create_tiny_inputs);
    tcase_add_test(tc, config_and_archs);
    tcase_add_test(tc, load_and_save);
    tcase_add_test(tc, accessors);
    tcase_add_test(tc, params);
    tcase_add_test(tc, normalization_and_metadata);
    tcase_add_test(tc, inference);
    tcase_add_test(tc, train);
    tcase_add_test(tc, prune);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(suite)
