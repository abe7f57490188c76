/* resnet18: torchvision's names, shapes and parameter count, torchvision's initialisation
 * statistics (kaiming normal fan_out convs, BN 1/0, default Linear fc), train and eval forward
 * on tiny inputs (shapes, features, running statistics, eval-mode row independence), backward
 * reaching every part (after eval-mode forwards too, with or without kept activations), save / load (with and without metadata), pruning over every conv weight
 * including the downsample shortcuts, and a few training steps of a pruned model.
 * White-box where a test reads buffers, masks or drives forward / backward directly. */
#include "lf_test.h"
#include "core/fileio.h"
#include "core/io/safetensors.h"
#include "core/nn/nn_internal.h"

static lf_model *new_resnet(lf_context *ctx, int32_t c, int32_t hw, int32_t classes, uint64_t seed)
{
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = c;
    cfg.height = cfg.width = hw;
    cfg.num_classes = classes;
    cfg.seed = seed;
    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_create(&m, ctx, "resnet18", &cfg));
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

static float scalar(const lf_model *m, const char *name)
{
    float *v = download(m, name, NULL), r = v[0];
    free(v);
    return r;
}

/* torchvision's resnet18 state_dict, written out independently of the library's table */
typedef struct want_tensor {
    char    name[64];
    int     kind, ndim;
    int64_t s[4];
} want_tensor;

static size_t add(want_tensor *w, size_t n, const char *name, int kind, int ndim, int64_t a, int64_t b,
                  int64_t c, int64_t d)
{
    snprintf(w[n].name, sizeof w[n].name, "%s", name);
    w[n].kind = kind;
    w[n].ndim = ndim;
    w[n].s[0] = a;
    w[n].s[1] = b;
    w[n].s[2] = c;
    w[n].s[3] = d;
    return n + 1;
}

static size_t add_bn(want_tensor *w, size_t n, const char *prefix, int64_t c)
{
    static const char *const suffix[5] = { "weight", "bias", "running_mean", "running_var",
                                           "num_batches_tracked" };
    char name[64];
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "%s.%s", prefix, suffix[i]);
        n = add(w, n, name, i < 2 ? LF__TENSOR_PARAM : LF__TENSOR_BUFFER, i == 4 ? 0 : 1, c, 0, 0, 0);
    }
    return n;
}

static size_t torchvision_names(want_tensor *w, int64_t channels, int64_t classes)
{
    size_t n = 0;
    char p[16], name[64];
    n = add(w, n, "conv1.weight", LF__TENSOR_PARAM, 4, 64, channels, 3, 3);
    n = add_bn(w, n, "bn1", 64);
    for (int layer = 1; layer <= 4; layer++) {
        int64_t width = 64 << (layer - 1);
        for (int block = 0; block < 2; block++) {
            int64_t c_in = block == 1 || layer == 1 ? width : width / 2;
            snprintf(p, sizeof p, "layer%d.%d", layer, block);
            snprintf(name, sizeof name, "%s.conv1.weight", p);
            n = add(w, n, name, LF__TENSOR_PARAM, 4, width, c_in, 3, 3);
            snprintf(name, sizeof name, "%s.bn1", p);
            n = add_bn(w, n, name, width);
            snprintf(name, sizeof name, "%s.conv2.weight", p);
            n = add(w, n, name, LF__TENSOR_PARAM, 4, width, width, 3, 3);
            snprintf(name, sizeof name, "%s.bn2", p);
            n = add_bn(w, n, name, width);
            if (layer > 1 && block == 0) {
                snprintf(name, sizeof name, "%s.downsample.0.weight", p);
                n = add(w, n, name, LF__TENSOR_PARAM, 4, width, c_in, 1, 1);
                snprintf(name, sizeof name, "%s.downsample.1", p);
                n = add_bn(w, n, name, width);
            }
        }
    }
    n = add(w, n, "fc.weight", LF__TENSOR_PARAM, 2, classes, 512, 0, 0);
    return add(w, n, "fc.bias", LF__TENSOR_PARAM, 1, classes, 0, 0, 0);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int is_conv_weight(const char *name)
{
    return strstr(name, "conv") || strstr(name, "downsample.0");
}

START_TEST(names_shapes_and_init)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model *m = new_resnet(ctx, 3, 32, 10, 5);   /* CIFAR-10 */
    want_tensor want[128];
    size_t nwant = torchvision_names(want, 3, 10);
    ck_assert_uint_eq(nwant, 122);
    ck_assert_uint_eq(m->n_tensors, nwant);
    size_t params = 0, conv = 0;
    for (size_t i = 0; i < m->n_tensors; i++) {
        const lf__tensor_desc *t = &m->tensors[i];   /* state_dict order */
        ck_assert_str_eq(t->name, want[i].name);
        ck_assert_int_eq(t->kind, want[i].kind);
        ck_assert_int_eq(t->ndim, want[i].ndim);
        for (int d = 0; d < t->ndim; d++)
            ck_assert_int_eq(t->shape[d], want[i].s[d]);
        ck_assert_int_eq(t->file_dtype, strstr(t->name, "num_batches") ? LF__FILE_I64 : LF__FILE_F32);
        int is_conv = is_conv_weight(t->name) && strstr(t->name, ".weight") && t->ndim == 4;
        ck_assert_int_eq(t->maskable, is_conv);
        params += t->kind == LF__TENSOR_PARAM ? t->numel : 0;
        conv += is_conv ? t->numel : 0;
    }
    /* torchvision.models.resnet18(num_classes=10) with the 3×3 CIFAR stem */
    ck_assert_uint_eq(lf_model_num_params(m), 11173962);
    ck_assert_uint_eq(params, 11173962);
    ck_assert_uint_eq(m->n_mask, conv);

    /* kaiming_normal_(fan_out, relu): mean 0, std √(2/fan_out), normal (kurtosis 3) */
    const struct { const char *name; double fan_out, tol; } conv_init[] = {
        { "conv1.weight", 64 * 9, 0.08 },
        { "layer2.0.downsample.0.weight", 128, 0.05 },
        { "layer3.1.conv1.weight", 256 * 9, 0.01 },
        { "layer4.1.conv2.weight", 512 * 9, 0.005 },
    };
    for (size_t i = 0; i < sizeof conv_init / sizeof conv_init[0]; i++) {
        size_t n;
        float *v = download(m, conv_init[i].name, &n);
        double sum = 0, sq = 0, q4 = 0, want_std = sqrt(2.0 / conv_init[i].fan_out);
        for (size_t j = 0; j < n; j++) {
            double z = v[j] / want_std;
            sum += z;
            sq += z * z;
            q4 += z * z * z * z;
        }
        double mean = sum / n, var = sq / n - mean * mean;
        ck_assert_msg(fabs(mean) < 4 / sqrt((double)n), "%s: mean %g std", conv_init[i].name, mean);
        ck_assert_msg(fabs(sqrt(var) - 1) < conv_init[i].tol, "%s: std %g of the wanted", conv_init[i].name,
                      sqrt(var));
        if (n > 100000)   /* a normal, not a uniform (kurtosis 1.8) */
            ck_assert_msg(fabs(q4 / n - 3) < 0.05, "%s: kurtosis %g", conv_init[i].name, q4 / n);
        free(v);
    }
    /* fc: torch.nn.Linear's U(±1/√512) */
    const char *fc[2] = { "fc.weight", "fc.bias" };
    for (int i = 0; i < 2; i++) {
        size_t n;
        float *v = download(m, fc[i], &n);
        double bound = 1 / sqrt(512.0), sq = 0;
        for (size_t j = 0; j < n; j++) {
            ck_assert_msg(fabs(v[j]) <= bound * (1 + 1e-6), "%s[%zu] = %g", fc[i], j, (double)v[j]);
            sq += (double)v[j] * v[j];
        }
        if (i == 0)
            ck_assert_double_eq_tol(sq / n, bound * bound / 3, 0.1 * bound * bound / 3);
        free(v);
    }
    /* every batch norm: weight 1, bias 0, running 0 / 1, nothing tracked */
    int bn_tensors = 0;
    for (size_t i = 0; i < m->n_tensors; i++) {
        const lf__tensor_desc *t = &m->tensors[i];
        float want_v;
        if (t->kind == LF__TENSOR_PARAM && t->ndim == 1 && strncmp(t->name, "fc.", 3) != 0)
            want_v = ends_with(t->name, ".weight") ? 1.0f : 0.0f;
        else if (t->kind == LF__TENSOR_BUFFER)
            want_v = ends_with(t->name, ".running_var") ? 1.0f : 0.0f;
        else
            continue;
        float *v = download(m, t->name, NULL);
        size_t bad = 0;   /* counted, not asserted per element: each Check assertion costs a write */
        for (size_t j = 0; j < t->numel; j++)
            bad += v[j] != want_v;
        ck_assert_msg(bad == 0, "%s: %zu values are not %g", t->name, bad, (double)want_v);
        free(v);
        bn_tensors++;
    }
    ck_assert_int_eq(bn_tensors, 20 * 5);
    /* the documented draws: element k of the params block is std·normal_at(seed, INIT, k) for
     * the convs, U(±1/√512) from uniform_at(seed, INIT, k) for fc (so the seed decides) */
    const char *drawn[3] = { "conv1.weight", "layer3.0.downsample.0.weight", "fc.weight" };
    for (int i = 0; i < 3; i++) {
        const lf__tensor_desc *t = lf__model_find_tensor(m, drawn[i]);
        float *v = download(m, drawn[i], NULL);
        int is_fc = i == 2;
        float std = (float)sqrt(2.0 / (double)(t->shape[0] * t->shape[2] * t->shape[3]));
        float hi = (float)(1 / sqrt(512.0)), lo = -hi;
        for (size_t j = 0; j < t->numel; j += 7) {
            uint64_t k = t->offset + j;
            float want_v = is_fc ? lo + (hi - lo) * lf__rng_uniform_at(5, LF__STREAM_INIT, k)
                                 : std * lf__rng_normal_at(5, LF__STREAM_INIT, k);
            ck_assert_msg(v[j] == want_v, "%s[%zu] = %.9g, want %.9g", drawn[i], j, (double)v[j], (double)want_v);
        }
        free(v);
    }
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

/* ---- tests that run the convolution kernels (tiny inputs: 1×8×8, batch 2) ---- */

enum { N = 2, HW = 8, K = 4, IN = N * HW * HW, FEAT = 512 };

typedef struct dev_batch {
    float *x, *logits, *dlogits, *dx, *dfeat;
} dev_batch;

static dev_batch dev_batch_new(lf_context *ctx, const float *x_host)
{
    dev_batch b;
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&b.x, IN, sizeof(float), 0, "x"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&b.dx, IN, sizeof(float), 0, "dx"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&b.logits, N * K, sizeof(float), 0, "logits"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&b.dlogits, N * K, sizeof(float), 0, "dlogits"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&b.dfeat, N * FEAT, sizeof(float), 0, "dfeat"));
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, b.x, x_host, IN * sizeof(float)));
    float dl[N * K], df[N * FEAT];
    for (int i = 0; i < N * K; i++)
        dl[i] = (i % K == 1 ? -0.5f : 0.25f) / N;
    for (int i = 0; i < N * FEAT; i++)
        df[i] = 0.01f * (float)((i * 37) % 11 - 5);
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, b.dlogits, dl, sizeof dl));
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, b.dfeat, df, sizeof df));
    return b;
}

static void dev_batch_free(lf_context *ctx, dev_batch *b)
{
    void *p[] = { b->x, b->logits, b->dlogits, b->dx, b->dfeat };
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        lf__nn_dev_free(ctx, p[i]);
}

static void input(float *x)
{
    unsigned long long s = 17;
    for (int i = 0; i < IN; i++)
        x[i] = (float)(2 * lf_test_u01(&s) - 1);
}

static double grad_norm(const lf_model *m, const char *name)
{
    const lf__tensor_desc *t = lf__model_find_tensor(m, name);
    ck_assert_ptr_nonnull(t);
    float *g = malloc(t->numel * sizeof *g);
    ck_assert_lf_ok(LF__BE(m->ctx, mem_download, g, lf__model_grad_ptr(m, t), t->numel * sizeof *g));
    double s = 0;
    for (size_t i = 0; i < t->numel; i++)
        s += (double)g[i] * g[i];
    free(g);
    ck_assert_msg(isfinite(s), "%s: non-finite gradients", name);
    return sqrt(s);
}

START_TEST(forward_backward_train_and_eval)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model *m = new_resnet(ctx, 1, HW, K, 9);
    float x[IN];
    input(x);
    dev_batch b = dev_batch_new(ctx, x);
    const float *feat = NULL;
    int64_t dim = 0;
    ck_assert_lf_status(lf__model_features(m, &feat, &dim), LF_E_STATE);
    ck_assert_lf_status(m->arch->backward(m, b.dlogits, N, NULL, NULL), LF_E_STATE);

    /* eval mode on a fresh model: a lean forward (no activations allocated yet), whose
     * backward forwards again chunk by chunk, then one that keeps its activations (they exist
     * now): the same logits, gradients and input gradient; nothing counted as a batch */
    size_t np = lf_model_num_params(m);
    float *g[2] = { malloc(np * sizeof(float)), malloc(np * sizeof(float)) };
    float ze0[2][N * K], dx0[2][IN];
    ck_assert_lf_ok(lf__model_ensure_grads(m));
    for (int pass = 0; pass < 2; pass++) {
        ck_assert_lf_ok(m->arch->forward(m, b.x, N, 0, b.logits));
        ck_assert_lf_ok(LF__BE(ctx, mem_download, ze0[pass], b.logits, sizeof ze0[pass]));
        ck_assert_lf_ok(lf__model_zero_grads(m));
        ck_assert_lf_ok(m->arch->backward(m, b.dlogits, N, b.dfeat, b.dx));
        ck_assert_lf_ok(LF__BE(ctx, mem_download, g[pass], m->grads, np * sizeof(float)));
        ck_assert_lf_ok(LF__BE(ctx, mem_download, dx0[pass], b.dx, sizeof dx0[pass]));
        ck_assert_lf_ok(lf__model_features(m, &feat, &dim));   /* still those of the forward */
    }
    for (int i = 0; i < N * K; i++)
        ck_assert_float_eq(ze0[0][i], ze0[1][i]);
    for (int i = 0; i < IN; i++)
        ck_assert_float_eq_tol(dx0[0][i], dx0[1][i], 1e-6f * (1 + fabsf(dx0[1][i])));
    size_t differ = 0;
    for (size_t i = 0; i < np; i++)
        differ += !(fabsf(g[0][i] - g[1][i]) <= 1e-6f * (1 + fabsf(g[1][i])));
    ck_assert_msg(differ == 0, "%zu gradients differ between the lean and the keeping eval pass", differ);
    ck_assert_double_gt(grad_norm(m, "conv1.weight"), 0);
    ck_assert_double_gt(grad_norm(m, "layer3.0.downsample.0.weight"), 0);
    ck_assert_float_eq(scalar(m, "layer2.0.bn1.num_batches_tracked"), 0.0f);
    free(g[0]);
    free(g[1]);

    /* train mode */
    ck_assert_lf_ok(m->arch->forward(m, b.x, N, 1, b.logits));
    float zt[N * K], f[N * FEAT];
    ck_assert_lf_ok(LF__BE(ctx, mem_download, zt, b.logits, sizeof zt));
    for (int i = 0; i < N * K; i++)
        ck_assert(isfinite(zt[i]));
    ck_assert_lf_ok(lf__model_features(m, &feat, &dim));
    ck_assert_int_eq(dim, FEAT);
    ck_assert_lf_ok(LF__BE(ctx, mem_download, f, feat, sizeof f));
    int positive = 0;
    for (int i = 0; i < N * FEAT; i++) {
        ck_assert(f[i] >= 0);   /* averages of ReLU outputs */
        positive += f[i] > 0;
    }
    ck_assert_int_gt(positive, N * FEAT / 8);
    /* the logits are fc(features) */
    float *W = download(m, "fc.weight", NULL), *bias = download(m, "fc.bias", NULL);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < K; k++) {
            double z = bias[k];
            for (int j = 0; j < FEAT; j++)
                z += (double)W[k * FEAT + j] * f[i * FEAT + j];
            ck_assert_double_eq_tol(zt[i * K + k], z, 1e-4 + 1e-4 * fabs(z));
        }
    free(W);
    free(bias);
    /* every batch norm counted the batch and moved its running mean */
    int bns = 0;
    for (size_t i = 0; i < m->n_tensors; i++) {
        const char *name = m->tensors[i].name;
        if (strstr(name, "num_batches_tracked")) {
            ck_assert_msg(scalar(m, name) == 1.0f, "%s = %g", name, (double)scalar(m, name));
            bns++;
        }
    }
    ck_assert_int_eq(bns, 20);
    size_t nrm;
    float *rm = download(m, "layer4.0.downsample.1.running_mean", &nrm);
    double moved = 0;
    for (size_t j = 0; j < nrm; j++)
        moved += fabs(rm[j]);
    ck_assert_double_gt(moved, 0);
    free(rm);

    /* backward reaches every part: stem, each stage's convs, the shortcuts, batch norm, fc, input */
    ck_assert_lf_ok(lf__model_ensure_grads(m));
    ck_assert_lf_ok(lf__model_zero_grads(m));
    ck_assert_lf_ok(m->arch->backward(m, b.dlogits, N, b.dfeat, b.dx));
    const char *reached[] = { "conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer1.1.conv2.weight",
                              "layer2.0.downsample.0.weight", "layer2.0.downsample.1.weight",
                              "layer3.0.downsample.0.weight", "layer3.1.bn1.bias",
                              "layer4.0.downsample.0.weight", "layer4.1.conv2.weight", "fc.weight", "fc.bias" };
    for (size_t i = 0; i < sizeof reached / sizeof reached[0]; i++)
        ck_assert_msg(grad_norm(m, reached[i]) > 0, "no gradient reaches %s", reached[i]);
    float dx[IN];
    ck_assert_lf_ok(LF__BE(ctx, mem_download, dx, b.dx, sizeof dx));
    double dxn = 0;
    for (int i = 0; i < IN; i++) {
        ck_assert(isfinite(dx[i]));
        dxn += fabs(dx[i]);
    }
    ck_assert_double_gt(dxn, 0);
    /* without dx (the stem's input gradient is skipped) */
    ck_assert_lf_ok(m->arch->forward(m, b.x, N, 1, b.logits));
    ck_assert_lf_ok(m->arch->backward(m, b.dlogits, N, NULL, NULL));
    ck_assert_lf_status(m->arch->backward(m, b.dlogits, N - 1, NULL, NULL), LF_E_STATE);

    /* eval mode: the running statistics, nothing tracked, other logits; row by row the same */
    float ze[N * K], z1[K];
    ck_assert_lf_ok(m->arch->forward(m, b.x, N, 0, b.logits));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, ze, b.logits, sizeof ze));
    ck_assert_float_eq(scalar(m, "layer3.1.bn2.num_batches_tracked"), 2.0f);
    double diff = 0;
    for (int i = 0; i < N * K; i++)
        diff += fabs(ze[i] - zt[i]);
    ck_assert_double_gt(diff, 1e-3);
    float fe[N * FEAT];
    ck_assert_lf_ok(lf__model_features(m, &feat, &dim));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, fe, feat, sizeof fe));
    for (int i = 0; i < N; i++) {
        ck_assert_lf_ok(m->arch->forward(m, b.x + i * HW * HW, 1, 0, b.logits));
        ck_assert_lf_ok(LF__BE(ctx, mem_download, z1, b.logits, sizeof z1));
        for (int k = 0; k < K; k++)
            ck_assert_float_eq_tol(z1[k], ze[i * K + k], 1e-5f);
    }
    ck_assert_lf_ok(lf__model_features(m, &feat, &dim));
    float f1[FEAT];
    ck_assert_lf_ok(LF__BE(ctx, mem_download, f1, feat, sizeof f1));
    for (int j = 0; j < FEAT; j++)
        ck_assert_float_eq_tol(f1[j], fe[FEAT + j], 1e-5f);
    /* backward over the rows of the last forward only */
    ck_assert_lf_ok(m->arch->backward(m, b.dlogits, 1, NULL, NULL));
    ck_assert_lf_status(m->arch->backward(m, b.dlogits, N, NULL, NULL), LF_E_STATE);
    /* convolutions need the exact input shape: 1×4×16 has as many values but does not fit */
    lf_dataset *other = lf_test_blobs(ctx, 4, K, 1, 4, 16, 1);
    double acc;
    ck_assert_lf_status(lf_model_accuracy(m, other, &acc), LF_E_SHAPE);
    lf_dataset_destroy(other);

    dev_batch_free(ctx, &b);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

/* Rewrites the safetensors file `in` as `out` without its metadata. */
static void strip_metadata(const char *in, const char *out)
{
    uint8_t *bytes;
    size_t size;
    ck_assert_lf_ok(lf__read_file(NULL, in, (size_t)1 << 30, &bytes, &size));
    lf__safetensors_file f;
    ck_assert_lf_ok(lf__safetensors_parse(&f, NULL, in, bytes, size));
    lf__safetensors_out *o = calloc(f.n_tensors, sizeof *o);
    for (size_t i = 0; i < f.n_tensors; i++) {
        const lf__safetensors_tensor *t = &f.tensors[i];
        o[i] = (lf__safetensors_out){ t->name, t->dtype, t->ndim, t->shape, lf__safetensors_raw(&f, t) };
    }
    ck_assert_lf_ok(lf__safetensors_write(NULL, out, o, f.n_tensors, NULL, NULL, 0));
    free(o);
    lf__safetensors_free(&f);
    lf__free(NULL, bytes, size + 1);
}

static void assert_same_blocks(const lf_model *a, const lf_model *b)
{
    ck_assert_uint_eq(a->n_params, b->n_params);
    ck_assert_uint_eq(a->n_buffers, b->n_buffers);
    size_t n = a->n_params > a->n_buffers ? a->n_params : a->n_buffers;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    ck_assert_lf_ok(LF__BE(a->ctx, mem_download, x, a->params, a->n_params * sizeof *x));
    ck_assert_lf_ok(LF__BE(b->ctx, mem_download, y, b->params, b->n_params * sizeof *y));
    ck_assert(memcmp(x, y, a->n_params * sizeof *x) == 0);
    ck_assert_lf_ok(LF__BE(a->ctx, mem_download, x, a->buffers, a->n_buffers * sizeof *x));
    ck_assert_lf_ok(LF__BE(b->ctx, mem_download, y, b->buffers, b->n_buffers * sizeof *y));
    ck_assert(memcmp(x, y, a->n_buffers * sizeof *x) == 0);
    free(x);
    free(y);
}

/* Pruning covers all 20 convolutions (the 1×1 shortcuts too) with one threshold; training keeps
 * masked weights at 0 and every batch norm counts the steps; masks and buffers survive save /
 * load; a file without metadata is recognised as resnet18. (One model: pruning sorts 11M
 * weights.) */
START_TEST(prune_train_save_load)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model *m = new_resnet(ctx, 1, HW, 2, 4);
    size_t fc_n, ds_n;
    float *fc_before = download(m, "fc.weight", &fc_n);
    ck_assert_lf_ok(lf_model_prune(m, 0.5));
    size_t total = 0, zeros = 0, masks = 0;
    for (size_t i = 0; i < m->n_tensors; i++) {
        const lf__tensor_desc *t = &m->tensors[i];
        uint8_t *dev = lf__model_mask_ptr(m, t);
        if (!t->maskable) {
            ck_assert_ptr_null(dev);
            continue;
        }
        ck_assert_ptr_nonnull(dev);
        uint8_t *mk = malloc(t->numel);
        ck_assert_lf_ok(LF__BE(ctx, mem_download, mk, dev, t->numel));
        size_t z = 0;
        for (size_t j = 0; j < t->numel; j++)
            z += mk[j] == 0;
        if (strstr(t->name, "downsample"))   /* pruned by the global threshold, not wholly */
            ck_assert_msg(z > 0 && z < t->numel, "%s: %zu of %zu masked", t->name, z, t->numel);
        total += t->numel;
        zeros += z;
        masks++;
        free(mk);
    }
    ck_assert_uint_eq(masks, 20);
    ck_assert_uint_eq(zeros, (size_t)llround(0.5 * (double)total));
    double sp;
    ck_assert_lf_ok(lf_model_sparsity(m, &sp));
    ck_assert_double_eq(sp, (double)zeros / (double)total);
    float *fc_after = download(m, "fc.weight", NULL);
    ck_assert(memcmp(fc_before, fc_after, fc_n * sizeof *fc_before) == 0);

    /* two SGD steps (momentum, weight decay) of lf_model_train */
    const lf__tensor_desc *t = lf__model_find_tensor(m, "layer3.0.downsample.0.weight");
    float *ds_before = download(m, t->name, &ds_n);
    lf_dataset *ds = lf_test_blobs(ctx, 8, 2, 1, HW, HW, 3);
    lf_train_options o = LF_TRAIN_OPTIONS_INIT;
    o.epochs = 1;
    o.batch_size = 4;
    o.lr = 0.05;
    lf_train_result r = LF_TRAIN_RESULT_INIT;
    ck_assert_lf_ok(lf_model_train(m, ds, &o, &r));
    ck_assert_int_eq(r.steps, 2);
    ck_assert(isfinite(r.final_loss));
    ck_assert_float_eq(scalar(m, "bn1.num_batches_tracked"), 2.0f);
    ck_assert_float_eq(scalar(m, "layer4.1.bn2.num_batches_tracked"), 2.0f);
    float *ds_after = download(m, t->name, NULL);
    uint8_t *mk = malloc(ds_n);
    ck_assert_lf_ok(LF__BE(ctx, mem_download, mk, lf__model_mask_ptr(m, t), ds_n));
    size_t changed = 0, revived = 0;
    for (size_t j = 0; j < ds_n; j++) {
        if (!mk[j])
            revived += ds_after[j] != 0.0f;
        else
            changed += ds_after[j] != ds_before[j];
    }
    ck_assert_uint_eq(revived, 0);
    ck_assert_uint_gt(changed, ds_n / 2);
    double acc;
    ck_assert_lf_ok(lf_model_accuracy(m, ds, &acc));   /* eval mode */
    ck_assert(acc >= 0 && acc <= 1);

    /* buffers away from their initial values, an I64 count included */
    t = lf__model_find_tensor(m, "layer3.1.bn2.num_batches_tracked");
    float big = 1234567.0f;
    ck_assert_lf_ok(lf__model_upload(m, t, &big));

    const char *dir = lf_test_tmpdir();
    char path[512], bare[512];
    snprintf(path, sizeof path, "%s/r.safetensors", dir);
    snprintf(bare, sizeof bare, "%s/bare.safetensors", dir);
    ck_assert_lf_ok(lf_model_save(m, path));
    lf_model *l = NULL;
    ck_assert_lf_ok(lf_model_load(&l, ctx, path, NULL));
    ck_assert_str_eq(lf_model_arch(l), "resnet18");
    int32_t c, h, w;
    ck_assert_lf_ok(lf_model_input_shape(l, &c, &h, &w));
    ck_assert_int_eq(c, 1);
    ck_assert_int_eq(h, HW);
    ck_assert_int_eq(w, HW);
    ck_assert_int_eq(lf_model_num_classes(l), 2);
    assert_same_blocks(m, l);
    ck_assert_uint_eq(l->n_mask, m->n_mask);
    uint8_t *ma = malloc(m->n_mask), *mb = malloc(m->n_mask);
    ck_assert_lf_ok(LF__BE(ctx, mem_download, ma, m->masks, m->n_mask));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, mb, l->masks, l->n_mask));
    ck_assert(memcmp(ma, mb, m->n_mask) == 0);
    ck_assert_float_eq(scalar(l, "layer3.1.bn2.num_batches_tracked"), big);
    double acc_l;
    ck_assert_lf_ok(lf_model_accuracy(l, ds, &acc_l));
    ck_assert_double_eq(acc_l, acc);
    lf_model_destroy(l);

    /* no metadata: the tensors say resnet18, 1 channel, 2 classes; the size is taken as 28×28 */
    strip_metadata(path, bare);
    ck_assert_lf_ok(lf_model_load(&l, ctx, bare, NULL));
    ck_assert_str_eq(lf_model_arch(l), "resnet18");
    ck_assert_lf_ok(lf_model_input_shape(l, &c, &h, &w));
    ck_assert_int_eq(c, 1);
    ck_assert_int_eq(h, 28);
    ck_assert_int_eq(w, 28);
    ck_assert_int_eq(lf_model_num_classes(l), 2);
    assert_same_blocks(m, l);
    lf_model_destroy(l);

    void *bufs[] = { fc_before, fc_after, ds_before, ds_after, mk, ma, mb };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    lf_dataset_destroy(ds);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(unknown_names)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = 1;
    cfg.height = cfg.width = HW;
    cfg.num_classes = 3;
    lf_model *m = (lf_model *)1;
    ck_assert_lf_status(lf_model_create(&m, ctx, "resnet19", &cfg), LF_E_UNKNOWN_ARCH);
    ck_assert(strstr(lf_last_error_message(), "resnet18") != NULL);   /* listed among the known */
    ck_assert_ptr_null(m);
    int listed = 0;
    for (size_t i = 0; i < lf_arch_count(); i++)
        listed += strcmp(lf_arch_name(i), "resnet18") == 0;
    ck_assert_int_eq(listed, 1);
    lf_context_destroy(ctx);
}
END_TEST

/* skip the kernel-running tests while the reference backend lacks them */
static int have_conv_kernels(void)
{
    const lf__backend_iface *r = lf__backend_reference_iface();
    return r->conv2d_fwd && r->batchnorm_fwd_train && r->avgpool_global_fwd && r->apply_mask;
}

static Suite *resnet_suite(void)
{
    Suite *s = suite_create("resnet18");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, names_shapes_and_init);
    tcase_add_test(tc, unknown_names);
    if (have_conv_kernels()) {
        tcase_add_test(tc, forward_backward_train_and_eval);
        tcase_add_test(tc, prune_train_save_load);
    }
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(resnet_suite)
