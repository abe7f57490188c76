/* The convnet: names, shapes and PyTorch's initialisation statistics, num_batches_tracked as an
 * I64 buffer through save / load, training on small synthetic images, pruning (exact global
 * sparsity over conv weights only, masks kept through training, files and clones, malformed
 * masks), inferring the architecture from a metadata-free file, and shape / name errors.
 * White-box where a test reads buffers, masks or the file's tensors. */
#include "lf_test.h"
#include "core/fileio.h"
#include "core/io/safetensors.h"
#include "core/nn/nn_internal.h"

static lf_model *new_convnet(lf_context *ctx, int32_t c, int32_t h, int32_t w, int32_t classes, uint64_t seed)
{
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = c;
    cfg.height = h;
    cfg.width = w;
    cfg.num_classes = classes;
    cfg.seed = seed;
    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_create(&m, ctx, "convnet", &cfg));
    return m;
}

static float *download(const lf_model *m, const char *name, size_t *numel)
{
    const lf__tensor_desc *t = lf__model_find_tensor(m, name);
    ck_assert_msg(t != NULL, "no tensor %s", name);
    float *v = malloc(t->numel * sizeof *v);
    ck_assert_lf_ok(lf__model_download(m, t, v));
    if (numel)
        *numel = t->numel;
    return v;
}

static uint8_t *download_mask(const lf_model *m, const char *name)
{
    const lf__tensor_desc *t = lf__model_find_tensor(m, name);
    uint8_t *dev = lf__model_mask_ptr(m, t);
    ck_assert_ptr_nonnull(dev);
    uint8_t *v = malloc(t->numel);
    ck_assert_lf_ok(LF__BE(m->ctx, mem_download, v, dev, t->numel));
    return v;
}

START_TEST(names_shapes_and_init)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model *m = new_convnet(ctx, 1, 28, 28, 10, 5);
    const struct { const char *name; int kind, ndim; int64_t s[4]; } want[] = {
        { "conv1.weight", LF__TENSOR_PARAM, 4, { 32, 1, 3, 3 } },
        { "bn1.weight", LF__TENSOR_PARAM, 1, { 32 } },
        { "bn1.bias", LF__TENSOR_PARAM, 1, { 32 } },
        { "bn1.running_mean", LF__TENSOR_BUFFER, 1, { 32 } },
        { "bn1.running_var", LF__TENSOR_BUFFER, 1, { 32 } },
        { "bn1.num_batches_tracked", LF__TENSOR_BUFFER, 0, { 0 } },
        { "conv2.weight", LF__TENSOR_PARAM, 4, { 64, 32, 3, 3 } },
        { "bn2.weight", LF__TENSOR_PARAM, 1, { 64 } },
        { "bn2.bias", LF__TENSOR_PARAM, 1, { 64 } },
        { "bn2.running_mean", LF__TENSOR_BUFFER, 1, { 64 } },
        { "bn2.running_var", LF__TENSOR_BUFFER, 1, { 64 } },
        { "bn2.num_batches_tracked", LF__TENSOR_BUFFER, 0, { 0 } },
        { "fc1.weight", LF__TENSOR_PARAM, 2, { 128, 64 * 7 * 7 } },
        { "fc1.bias", LF__TENSOR_PARAM, 1, { 128 } },
        { "fc2.weight", LF__TENSOR_PARAM, 2, { 10, 128 } },
        { "fc2.bias", LF__TENSOR_PARAM, 1, { 10 } },
    };
    ck_assert_uint_eq(m->n_tensors, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < m->n_tensors; i++) {
        const lf__tensor_desc *t = &m->tensors[i];   /* state_dict order */
        ck_assert_str_eq(t->name, want[i].name);
        ck_assert_int_eq(t->kind, want[i].kind);
        ck_assert_int_eq(t->ndim, want[i].ndim);
        for (int d = 0; d < t->ndim; d++)
            ck_assert_int_eq(t->shape[d], want[i].s[d]);
        ck_assert_int_eq(t->file_dtype, strstr(t->name, "num_batches") ? LF__FILE_I64 : LF__FILE_F32);
        ck_assert_int_eq(t->maskable, strstr(t->name, "conv") != NULL);
    }
    ck_assert_uint_eq(lf_model_num_params(m), 288 + 64 + 18432 + 128 + 128 * 3136 + 128 + 1280 + 10);
    ck_assert_uint_eq(m->n_mask, 288 + 18432);

    /* U(±1/√fan_in): in bounds, mean ≈ 0, variance ≈ bound²/3 */
    const struct { const char *name; double fan_in; } uni[] = {
        { "conv1.weight", 9 }, { "conv2.weight", 288 }, { "fc1.weight", 3136 }, { "fc1.bias", 3136 },
        { "fc2.weight", 128 }, { "fc2.bias", 128 },
    };
    for (size_t i = 0; i < sizeof uni / sizeof uni[0]; i++) {
        size_t n;
        float *v = download(m, uni[i].name, &n);
        double bound = 1.0 / sqrt(uni[i].fan_in), sum = 0, sq = 0;
        for (size_t j = 0; j < n; j++) {
            ck_assert_msg(fabs(v[j]) <= bound * (1 + 1e-6), "%s[%zu] = %g outside ±%g", uni[i].name, j,
                          (double)v[j], bound);
            sum += v[j];
            sq += (double)v[j] * v[j];
        }
        double mean = sum / n, var = sq / n - mean * mean, want_var = bound * bound / 3;
        ck_assert_msg(fabs(mean) < 4 * sqrt(want_var / n) + 1e-12, "%s mean %g", uni[i].name, mean);
        if (n >= 200)
            ck_assert_msg(fabs(var - want_var) < 0.15 * want_var, "%s variance %g, want %g", uni[i].name, var,
                          want_var);
        free(v);
    }
    const struct { const char *name; float value; } fixed[] = {
        { "bn1.weight", 1 }, { "bn1.bias", 0 }, { "bn1.running_mean", 0 }, { "bn1.running_var", 1 },
        { "bn1.num_batches_tracked", 0 }, { "bn2.weight", 1 }, { "bn2.bias", 0 },
        { "bn2.running_mean", 0 }, { "bn2.running_var", 1 }, { "bn2.num_batches_tracked", 0 },
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        size_t n;
        float *v = download(m, fixed[i].name, &n);
        for (size_t j = 0; j < n; j++)
            ck_assert_float_eq(v[j], fixed[i].value);
        free(v);
    }
    /* another seed, other weights; the same seed, the same */
    lf_model *a = new_convnet(ctx, 1, 28, 28, 10, 5), *b = new_convnet(ctx, 1, 28, 28, 10, 6);
    size_t np = lf_model_num_params(m);
    float *pm = malloc(np * 4), *pa = malloc(np * 4), *pb = malloc(np * 4);
    ck_assert_lf_ok(lf_model_get_params(m, pm, np));
    ck_assert_lf_ok(lf_model_get_params(a, pa, np));
    ck_assert_lf_ok(lf_model_get_params(b, pb, np));
    ck_assert(memcmp(pm, pa, np * 4) == 0);
    ck_assert(memcmp(pm, pb, np * 4) != 0);
    free(pm);
    free(pa);
    free(pb);
    lf_model_destroy(a);
    lf_model_destroy(b);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

static void set_buffer(lf_model *m, const char *name, float value)
{
    const lf__tensor_desc *t = lf__model_find_tensor(m, name);
    float v[64];
    for (size_t j = 0; j < t->numel; j++)
        v[j] = value;
    ck_assert_lf_ok(lf__model_upload(m, t, v));
}

/* The file's tensor `name` (its dtype and ndim). */
static void file_tensor(const char *path, const char *name, int32_t *dtype, int32_t *ndim, int *present)
{
    uint8_t *bytes;
    size_t size;
    ck_assert_lf_ok(lf__read_file(NULL, path, (size_t)1 << 30, &bytes, &size));
    lf__safetensors_file f;
    ck_assert_lf_ok(lf__safetensors_parse(&f, NULL, path, bytes, size));
    const lf__safetensors_tensor *t = lf__safetensors_find(&f, name);
    *present = t != NULL;
    if (t) {
        *dtype = t->dtype;
        *ndim = t->ndim;
    }
    lf__safetensors_free(&f);
    lf__free(NULL, bytes, size + 1);
}

START_TEST(num_batches_tracked_round_trip)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model *m = new_convnet(ctx, 3, 8, 8, 4, 1);
    set_buffer(m, "bn1.num_batches_tracked", 1234567);
    set_buffer(m, "bn2.num_batches_tracked", 3);
    set_buffer(m, "bn2.running_var", 2.5f);
    char path[512];
    snprintf(path, sizeof path, "%s/c.safetensors", lf_test_tmpdir());
    ck_assert_lf_ok(lf_model_save(m, path));
    int32_t dtype = -1, ndim = -1;
    int present = 0;
    file_tensor(path, "bn1.num_batches_tracked", &dtype, &ndim, &present);
    ck_assert(present);
    ck_assert_int_eq(dtype, LF__ST_I64);
    ck_assert_int_eq(ndim, 0);
    file_tensor(path, "conv1.weight_mask", &dtype, &ndim, &present);
    ck_assert(!present);   /* a dense model writes no masks */

    lf_model *l = NULL;
    ck_assert_lf_ok(lf_model_load(&l, ctx, path, NULL));
    ck_assert_str_eq(lf_model_arch(l), "convnet");
    float *v = download(l, "bn1.num_batches_tracked", NULL);
    ck_assert_float_eq(v[0], 1234567.0f);
    free(v);
    v = download(l, "bn2.num_batches_tracked", NULL);
    ck_assert_float_eq(v[0], 3.0f);
    free(v);
    v = download(l, "bn2.running_var", NULL);
    ck_assert_float_eq(v[63], 2.5f);
    free(v);
    ck_assert_ptr_null(l->masks);
    lf_model_destroy(l);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

/* Rewrites the safetensors file `in` as `out` without its metadata and with `extra` appended
 * (may be NULL). */
static void rewrite(const char *in, const char *out, int keep_meta, const lf__safetensors_out *extra)
{
    uint8_t *bytes;
    size_t size;
    ck_assert_lf_ok(lf__read_file(NULL, in, (size_t)1 << 30, &bytes, &size));
    lf__safetensors_file f;
    ck_assert_lf_ok(lf__safetensors_parse(&f, NULL, in, bytes, size));
    lf__safetensors_out *o = calloc(f.n_tensors + 1, sizeof *o);
    size_t n = 0;
    for (size_t i = 0; i < f.n_tensors; i++) {
        const lf__safetensors_tensor *t = &f.tensors[i];
        if (extra && strcmp(extra->name, t->name) == 0)
            continue;   /* replaced */
        o[n++] = (lf__safetensors_out){ t->name, t->dtype, t->ndim, t->shape, lf__safetensors_raw(&f, t) };
    }
    if (extra)
        o[n++] = *extra;
    ck_assert_lf_ok(lf__safetensors_write(NULL, out, o, n, (const char *const *)f.meta_keys,
                                          (const char *const *)f.meta_values, keep_meta ? f.n_meta : 0));
    free(o);
    lf__safetensors_free(&f);
    lf__free(NULL, bytes, size + 1);
}

START_TEST(infers_convnet_from_tensors)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    const int32_t sizes[2][2] = { { 1, 28 }, { 3, 32 } };
    for (int i = 0; i < 2; i++) {
        lf_model *m = new_convnet(ctx, sizes[i][0], sizes[i][1], sizes[i][1], 7, 1);
        const char *dir = lf_test_tmpdir();
        char a[512], b[512];
        snprintf(a, sizeof a, "%s/a.safetensors", dir);
        snprintf(b, sizeof b, "%s/b.safetensors", dir);
        ck_assert_lf_ok(lf_model_save(m, a));
        rewrite(a, b, 0, NULL);
        lf_model *l = NULL;
        ck_assert_lf_ok(lf_model_load(&l, ctx, b, NULL));
        ck_assert_str_eq(lf_model_arch(l), "convnet");
        int32_t c, h, w;
        ck_assert_lf_ok(lf_model_input_shape(l, &c, &h, &w));
        ck_assert_int_eq(c, sizes[i][0]);
        ck_assert_int_eq(h, sizes[i][1]);
        ck_assert_int_eq(w, sizes[i][1]);
        ck_assert_int_eq(lf_model_num_classes(l), 7);
        lf_model_destroy(l);
        lf_model_destroy(m);
    }
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(shape_and_name_errors)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = 1;
    cfg.height = 3;   /* too small for two poolings */
    cfg.width = 8;
    cfg.num_classes = 3;
    lf_model *m = (lf_model *)1;
    ck_assert_lf_status(lf_model_create(&m, ctx, "convnet", &cfg), LF_E_SHAPE);
    ck_assert_ptr_null(m);
    cfg.height = 8;
    ck_assert_lf_status(lf_model_create(&m, ctx, "convnet2", &cfg), LF_E_UNKNOWN_ARCH);
    ck_assert(strstr(lf_last_error_message(), "convnet") != NULL);   /* the known names are listed */

    /* convolutions need the exact shape: 1×8×8 data fits, 1×4×16 and 64×1×1 do not */
    m = new_convnet(ctx, 1, 8, 8, 3, 1);
    lf_dataset *flat = lf_test_blobs(ctx, 6, 3, 64, 1, 1, 1), *other = lf_test_blobs(ctx, 6, 3, 1, 4, 16, 1);
    double acc;
    ck_assert_lf_status(lf_model_accuracy(m, flat, &acc), LF_E_SHAPE);
    ck_assert_lf_status(lf_model_accuracy(m, other, &acc), LF_E_SHAPE);
    lf_train_options o = LF_TRAIN_OPTIONS_INIT;
    o.epochs = 1;
    ck_assert_lf_status(lf_model_train(m, other, &o, NULL), LF_E_SHAPE);
    const float *feat;
    int64_t dim;
    ck_assert_lf_status(lf__model_features(m, &feat, &dim), LF_E_STATE);
    lf_dataset_destroy(flat);
    lf_dataset_destroy(other);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

/* ---- tests that run the convolution kernels ---- */

START_TEST(trains_to_full_accuracy)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_dataset *ds = lf_test_blobs(ctx, 120, 3, 1, 8, 8, 9);
    lf_model *m = new_convnet(ctx, 1, 8, 8, 3, 3);
    lf_train_options o = LF_TRAIN_OPTIONS_INIT;
    o.epochs = 4;
    o.batch_size = 20;
    o.lr = 0.02;
    lf_train_result r = LF_TRAIN_RESULT_INIT;
    ck_assert_lf_ok(lf_model_train(m, ds, &o, &r));
    double acc = 0;
    ck_assert_lf_ok(lf_model_accuracy(m, ds, &acc));   /* eval mode: running statistics */
    ck_assert_double_eq(acc, 1.0);
    ck_assert_int_eq(r.steps, 4 * 6);
    /* every train-mode forward counted; eval forwards not */
    float *v = download(m, "bn1.num_batches_tracked", NULL);
    ck_assert_float_eq(v[0], 24.0f);
    free(v);
    float logits[3 * 3];
    float img[3 * 64];
    for (int i = 0; i < 3 * 64; i++)
        img[i] = 0.5f;
    ck_assert_lf_ok(lf_model_forward(m, img, 3, logits));
    for (int k = 0; k < 3; k++)   /* eval mode: each sample on its own, identical inputs agree */
        ck_assert_float_eq(logits[k], logits[3 + k]);
    lf_model_destroy(m);
    lf_dataset_destroy(ds);
    lf_context_destroy(ctx);
}
END_TEST

/* Inference forwards (lf_model_forward) pool with the backend's fused batch norm + ReLU + max
 * pool; without that op core composes the separate ops, and both must give the eval-mode
 * forward's logits bit for bit (14×14 inputs: pooled rows of 7 and 3). No backward may follow
 * an inference forward: it keeps no pooling indices. */
START_TEST(inference_fused_and_composed_agree)
{
    const lf_backend_kind kinds[] = { LF_BACKEND_REFERENCE, LF_BACKEND_CPU };
    for (size_t b = 0; b < sizeof kinds / sizeof kinds[0]; b++) {
        if (!lf_backend_is_available(kinds[b]))
            continue;   /* the cpu backend is optional in a build; the reference is not */
        lf_context *ctx = lf_test_context_threads(kinds[b], 2);
        lf_dataset *ds = lf_test_blobs(ctx, 60, 3, 1, 14, 14, 21);
        lf_model *m = new_convnet(ctx, 1, 14, 14, 3, 5);
        lf_train_options o = LF_TRAIN_OPTIONS_INIT;
        o.epochs = 1;
        o.batch_size = 20;
        o.lr = 0.02;
        ck_assert_lf_ok(lf_model_train(m, ds, &o, NULL));   /* running statistics away from 0 / 1 */
        const size_t n = 6, d = 14 * 14;
        float img[6 * 14 * 14], fused[6 * 3], composed[6 * 3], eval[6 * 3];
        unsigned long long state = 77;
        for (size_t i = 0; i < n * d; i++)
            img[i] = (float)(2.0 * lf_test_u01(&state) - 1.0);
        ck_assert_ptr_nonnull(ctx->backend.iface->batchnorm_relu_maxpool_fwd_eval);
        ck_assert_lf_ok(lf_model_forward(m, img, n, fused));

        const lf__backend_iface *own = ctx->backend.iface;
        lf__backend_iface without = *own;
        without.batchnorm_relu_maxpool_fwd_eval = NULL;
        ctx->backend.iface = &without;
        ck_assert_lf_ok(lf_model_forward(m, img, n, composed));
        ctx->backend.iface = own;
        ck_assert_int_eq(memcmp(fused, composed, sizeof fused), 0);

        /* the eval-mode forward (direct convolutions on the cpu backend: within 1e-4 there) */
        float *x_dev = NULL, *logits_dev = NULL;
        ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&x_dev, n * d, sizeof(float), 0, "x"));
        ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&logits_dev, n * 3, sizeof(float), 0, "y"));
        ck_assert_lf_ok(LF__BE(ctx, mem_upload, x_dev, img, sizeof img));
        ck_assert_lf_ok(m->arch->forward(m, x_dev, (int64_t)n, LF__FWD_EVAL, logits_dev));
        ck_assert_lf_ok(LF__BE(ctx, mem_download, eval, logits_dev, sizeof eval));
        for (size_t i = 0; i < n * 3; i++)
            ck_assert_msg(fabsf(eval[i] - fused[i]) <= (kinds[b] == LF_BACKEND_REFERENCE ? 0.0f : 1e-4f),
                          "logit %zu: eval %g, inference %g", i, (double)eval[i], (double)fused[i]);

        ck_assert_lf_ok(m->arch->forward(m, x_dev, (int64_t)n, LF__FWD_INFER, logits_dev));
        ck_assert_int_eq(m->arch->backward(m, logits_dev, (int64_t)n, NULL, NULL), LF_E_STATE);
        ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "inference forward"));
        lf__nn_dev_free(ctx, x_dev);
        lf__nn_dev_free(ctx, logits_dev);
        lf_model_destroy(m);
        lf_dataset_destroy(ds);
        lf_context_destroy(ctx);
    }
}
END_TEST

/* The cpu backend runs inference forwards with Winograd where it can and training forwards
 * direct: the two must never share a cached plan, whatever ran first in the context. Logits
 * of an inference after a training step at the same batch size equal a fresh context's, and
 * a training step after an inference at that size equals one without it, to the bit. */
static void forward_and_train(int inference_first, float *logits, float *params)
{
    lf_context *ctx = lf_test_context_threads(LF_BACKEND_CPU, 2);
    lf_dataset *ds = lf_test_blobs(ctx, 6, 3, 1, 14, 14, 23);
    lf_model *m = new_convnet(ctx, 1, 14, 14, 3, 7), *c = NULL;
    float img[6 * 14 * 14];
    unsigned long long state = 91;
    for (size_t i = 0; i < sizeof img / sizeof img[0]; i++)
        img[i] = (float)lf_test_u01(&state);
    if (inference_first)
        ck_assert_lf_ok(lf_model_forward(m, img, 6, logits));
    ck_assert_lf_ok(lf_model_clone(&c, m));
    lf_train_options o = LF_TRAIN_OPTIONS_INIT;
    o.epochs = 1;
    o.batch_size = 6;   /* the inference's batch size */
    ck_assert_lf_ok(lf_model_train(c, ds, &o, NULL));
    ck_assert_lf_ok(lf_model_get_params(c, params, lf_model_num_params(c)));
    if (!inference_first)
        ck_assert_lf_ok(lf_model_forward(m, img, 6, logits));
    lf_model_destroy(c);
    lf_model_destroy(m);
    lf_dataset_destroy(ds);
    lf_context_destroy(ctx);
}

START_TEST(inference_and_training_plans_are_apart)
{
    if (!lf_backend_is_available(LF_BACKEND_CPU))
        return;   /* the plans are the cpu backend's */
    size_t np = 0;
    {
        lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
        lf_model *m = new_convnet(ctx, 1, 14, 14, 3, 7);
        np = lf_model_num_params(m);
        lf_model_destroy(m);
        lf_context_destroy(ctx);
    }
    float logits[2][6 * 3];
    float *params[2] = { malloc(np * sizeof(float)), malloc(np * sizeof(float)) };
    forward_and_train(1, logits[0], params[0]);
    forward_and_train(0, logits[1], params[1]);
    ck_assert_msg(memcmp(logits[0], logits[1], sizeof logits[0]) == 0,
                  "an inference after a training step at its batch size gave other logits");
    ck_assert_msg(memcmp(params[0], params[1], np * sizeof(float)) == 0,
                  "a training step after an inference at its batch size gave other parameters");
    free(params[0]);
    free(params[1]);
}
END_TEST

START_TEST(prune_exact_global_sparsity)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model *m = new_convnet(ctx, 1, 8, 8, 3, 21);
    size_t n1, n2, nf;
    float *w1 = download(m, "conv1.weight", &n1), *w2 = download(m, "conv2.weight", &n2);
    float *fc = download(m, "fc1.weight", &nf);
    double sp = -1;
    ck_assert_lf_ok(lf_model_sparsity(m, &sp));
    ck_assert_double_eq(sp, 0.0);

    ck_assert_lf_ok(lf_model_prune(m, 0.9));
    size_t total = n1 + n2, k = (size_t)llround(0.9 * (double)total);
    ck_assert_lf_ok(lf_model_sparsity(m, &sp));
    ck_assert_double_eq(sp, (double)k / (double)total);
    /* the masked ones are exactly the k smallest magnitudes over both convs (one threshold) */
    uint8_t *m1 = download_mask(m, "conv1.weight"), *m2 = download_mask(m, "conv2.weight");
    float *p1 = download(m, "conv1.weight", NULL), *p2 = download(m, "conv2.weight", NULL);
    size_t zeros = 0;
    double max_pruned = 0, min_kept = INFINITY;
    for (size_t i = 0; i < total; i++) {
        int first = i < n1;
        uint8_t mk = first ? m1[i] : m2[i - n1];
        float before = first ? w1[i] : w2[i - n1], now = first ? p1[i] : p2[i - n1];
        ck_assert(mk == 0 || mk == 1);
        if (mk == 0) {
            zeros++;
            ck_assert_float_eq(now, 0.0f);
            max_pruned = fmax(max_pruned, fabs(before));
        } else {
            ck_assert_float_eq(now, before);
            min_kept = fmin(min_kept, fabs(before));
        }
    }
    ck_assert_uint_eq(zeros, k);
    ck_assert_double_le(max_pruned, min_kept);
    size_t zeros1 = 0;
    for (size_t i = 0; i < n1; i++)
        zeros1 += m1[i] == 0;
    ck_assert_uint_gt(zeros1, 0);   /* the first conv is pruned too ... */
    ck_assert_uint_lt(zeros1, n1);  /* ... by the global threshold, not per layer */
    /* linear layers untouched */
    float *fc_now = download(m, "fc1.weight", NULL);
    ck_assert(memcmp(fc, fc_now, nf * sizeof *fc) == 0);

    /* pruning again never revives a weight; default sparsity 0.95 */
    ck_assert_lf_ok(lf_model_prune(m, 0));
    ck_assert_lf_ok(lf_model_sparsity(m, &sp));
    ck_assert_double_eq(sp, (double)llround(0.95 * (double)total) / (double)total);

    /* set_params keeps masked weights at 0 */
    size_t np = lf_model_num_params(m);
    float *all = malloc(np * sizeof *all);
    for (size_t i = 0; i < np; i++)
        all[i] = 0.25f;
    ck_assert_lf_ok(lf_model_set_params(m, all, np));
    float *again = download(m, "conv1.weight", NULL);
    uint8_t *m1b = download_mask(m, "conv1.weight");
    for (size_t i = 0; i < n1; i++)
        ck_assert_float_eq(again[i], m1b[i] ? 0.25f : 0.0f);

    /* argument errors */
    ck_assert_lf_status(lf_model_prune(m, 1.0), LF_E_OUT_OF_RANGE);
    ck_assert_lf_status(lf_model_prune(m, -0.5), LF_E_OUT_OF_RANGE);
    ck_assert_lf_status(lf_model_prune(m, NAN), LF_E_OUT_OF_RANGE);
    ck_assert_lf_status(lf_model_prune(NULL, 0.5), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_sparsity(m, NULL), LF_E_INVALID_ARG);
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = 1;
    cfg.height = cfg.width = 4;
    cfg.num_classes = 2;
    lf_model *mlp = NULL;
    ck_assert_lf_ok(lf_model_create(&mlp, ctx, "mlp", &cfg));
    ck_assert_lf_status(lf_model_prune(mlp, 0.5), LF_E_UNSUPPORTED);
    lf_model_destroy(mlp);

    void *bufs[] = { w1, w2, fc, m1, m2, p1, p2, fc_now, all, again, m1b };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

static void assert_zero_where_masked(const lf_model *m)
{
    const char *names[2] = { "conv1.weight", "conv2.weight" };
    for (int t = 0; t < 2; t++) {
        size_t n;
        float *w = download(m, names[t], &n);
        uint8_t *mk = download_mask(m, names[t]);
        size_t kept_nonzero = 0;
        for (size_t i = 0; i < n; i++) {
            if (!mk[i])
                ck_assert_msg(w[i] == 0.0f, "%s[%zu] = %g is masked", names[t], i, (double)w[i]);
            else
                kept_nonzero += w[i] != 0.0f;
        }
        ck_assert_uint_gt(kept_nonzero, 0);
        free(w);
        free(mk);
    }
}

START_TEST(masks_survive_training_files_and_clones)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_dataset *ds = lf_test_blobs(ctx, 60, 3, 1, 8, 8, 4);
    lf_model *m = new_convnet(ctx, 1, 8, 8, 3, 8);
    ck_assert_lf_ok(lf_model_prune(m, 0.8));
    lf_train_options o = LF_TRAIN_OPTIONS_INIT;
    o.epochs = 2;
    o.batch_size = 20;
    ck_assert_lf_ok(lf_model_train(m, ds, &o, NULL));   /* momentum and weight decay on */
    assert_zero_where_masked(m);
    double sp;
    ck_assert_lf_ok(lf_model_sparsity(m, &sp));
    ck_assert_double_eq_tol(sp, 0.8, 1e-4);

    /* clone */
    lf_model *c = NULL;
    ck_assert_lf_ok(lf_model_clone(&c, m));
    uint8_t *a = download_mask(m, "conv2.weight"), *b = download_mask(c, "conv2.weight");
    ck_assert(memcmp(a, b, 64 * 32 * 9) == 0);
    free(b);
    ck_assert_lf_ok(lf_model_train(c, ds, &o, NULL));
    assert_zero_where_masked(c);

    /* save / load: U8 masks, equal after loading */
    const char *dir = lf_test_tmpdir();
    char path[512], bad[512];
    snprintf(path, sizeof path, "%s/sparse.safetensors", dir);
    snprintf(bad, sizeof bad, "%s/bad.safetensors", dir);
    ck_assert_lf_ok(lf_model_save(m, path));
    int32_t dtype = -1, ndim = -1;
    int present = 0;
    file_tensor(path, "conv2.weight_mask", &dtype, &ndim, &present);
    ck_assert(present);
    ck_assert_int_eq(dtype, LF__ST_U8);
    ck_assert_int_eq(ndim, 4);
    lf_model *l = NULL;
    ck_assert_lf_ok(lf_model_load(&l, ctx, path, NULL));
    b = download_mask(l, "conv2.weight");
    ck_assert(memcmp(a, b, 64 * 32 * 9) == 0);
    free(b);
    assert_zero_where_masked(l);
    lf_model_destroy(l);

    /* a mask with 0 where the weight is not 0: the weight is masked on load */
    static uint8_t mk1[32 * 9];
    int64_t shape1[4] = { 32, 1, 3, 3 };
    memset(mk1, 0, sizeof mk1);
    lf__safetensors_out extra = { "conv1.weight_mask", LF__ST_U8, 4, shape1, mk1 };
    rewrite(path, bad, 1, &extra);
    ck_assert_lf_ok(lf_model_load(&l, ctx, bad, NULL));
    float *w = download(l, "conv1.weight", NULL);
    for (int i = 0; i < 32 * 9; i++)
        ck_assert_float_eq(w[i], 0.0f);
    free(w);
    lf_model_destroy(l);

    /* malformed masks: a value other than 0/1, a wrong shape, a wrong dtype, a mask of a linear layer */
    mk1[17] = 2;
    rewrite(path, bad, 1, &extra);
    ck_assert_lf_status(lf_model_load(&l, ctx, bad, NULL), LF_E_FORMAT);
    ck_assert(strstr(lf_last_error_message(), "conv1.weight_mask") != NULL);
    ck_assert_ptr_null(l);
    mk1[17] = 1;
    int64_t wrong[4] = { 32, 1, 9, 1 };
    extra.shape = wrong;
    rewrite(path, bad, 1, &extra);
    ck_assert_lf_status(lf_model_load(&l, ctx, bad, NULL), LF_E_SHAPE);
    extra.shape = shape1;
    static float fmask[32 * 9];
    lf__safetensors_out as_float = { "conv1.weight_mask", LF__ST_F32, 4, shape1, fmask };
    rewrite(path, bad, 1, &as_float);
    ck_assert_lf_status(lf_model_load(&l, ctx, bad, NULL), LF_E_FORMAT);
    static uint8_t fcmask[3 * 128];
    int64_t fcshape[2] = { 3, 128 };
    lf__safetensors_out fc_mask = { "fc2.weight_mask", LF__ST_U8, 2, fcshape, fcmask };
    rewrite(path, bad, 1, &fc_mask);
    ck_assert_lf_status(lf_model_load(&l, ctx, bad, NULL), LF_E_FORMAT);

    free(a);
    lf_model_destroy(c);
    lf_model_destroy(m);
    lf_dataset_destroy(ds);
    lf_context_destroy(ctx);
}
END_TEST

static Suite *convnet_suite(void)
{
    Suite *s = suite_create("convnet");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, names_shapes_and_init);
    tcase_add_test(tc, num_batches_tracked_round_trip);
    tcase_add_test(tc, infers_convnet_from_tensors);
    tcase_add_test(tc, shape_and_name_errors);
    tcase_add_test(tc, trains_to_full_accuracy);
    tcase_add_test(tc, inference_fused_and_composed_agree);
    tcase_add_test(tc, inference_and_training_plans_are_apart);
    tcase_add_test(tc, prune_exact_global_sparsity);
    tcase_add_test(tc, masks_survive_training_files_and_clones);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(convnet_suite)
