/* Whole-MLP gradient check: the library's forward + mean softmax cross-entropy + backward,
 * against central finite differences of an independent float64 implementation written here,
 * for a sample of parameters from every tensor and for every input; and the input
 * normalisation path against the same float64 reference. Runs on every backend built. */
#include "lf_test.h"
#include "core/nn/nn_internal.h"

enum { IN_C = 3, IN_H = 2, IN_W = 2, IN = IN_C * IN_H * IN_W, HID = 256, C = 5, N = 6 };

/* Offsets of the tensors in the parameter block (PyTorch's state_dict order). */
enum {
    W1 = 0, B1 = W1 + HID * IN, W2 = B1 + HID, B2 = W2 + HID * HID, W3 = B2 + HID, B3 = W3 + C * HID,
    N_PARAMS = B3 + C
};

/* float64 reference: logits of one sample (x already normalised) */
static void ref_logits(const double *p, const double *x, double *z)
{
    double h1[HID], h2[HID];
    for (int u = 0; u < HID; u++) {
        double a = p[B1 + u];
        for (int j = 0; j < IN; j++)
            a += p[W1 + u * IN + j] * x[j];
        h1[u] = a > 0 ? a : 0;
    }
    for (int u = 0; u < HID; u++) {
        double a = p[B2 + u];
        for (int j = 0; j < HID; j++)
            a += p[W2 + u * HID + j] * h1[j];
        h2[u] = a > 0 ? a : 0;
    }
    for (int k = 0; k < C; k++) {
        double a = p[B3 + k];
        for (int j = 0; j < HID; j++)
            a += p[W3 + k * HID + j] * h2[j];
        z[k] = a;
    }
}

/* mean over the batch of −log softmax(z)[y] */
static double ref_loss(const double *p, const double *x, const int32_t *y)
{
    double total = 0;
    for (int i = 0; i < N; i++) {
        double z[C], mx;
        ref_logits(p, x + i * IN, z);
        mx = z[0];
        for (int k = 1; k < C; k++)
            mx = z[k] > mx ? z[k] : mx;
        double s = 0;
        for (int k = 0; k < C; k++)
            s += exp(z[k] - mx);
        total += mx + log(s) - z[y[i]];
    }
    return total / N;
}

/* |a − n| <= 2e-4 + 2e-3·|n| (llm.c's validate_result rule) */
static void check_close(double lib, double num, const char *what, int index)
{
    ck_assert_msg(fabs(lib - num) <= 2e-4 + 2e-3 * fabs(num), "%s[%d]: library %.9g, finite differences %.9g",
                  what, index, lib, num);
}

static lf_context *context_or_skip(lf_backend_kind kind)
{
    if (!lf_backend_is_available(kind))
        return NULL;
    return lf_test_context(kind);
}

static const lf_backend_kind backends[] = { LF_BACKEND_REFERENCE, LF_BACKEND_CPU };

/* One forward (train mode) + loss + backward through the internal API, as training does. */
typedef struct lib_pass {
    double loss;
    float  grads[N_PARAMS];
    float  dx[N * IN];
} lib_pass;

static void library_pass(lf_model *m, const float *x_host, const int32_t *y_host, int zero_grads,
                         lib_pass *out)
{
    lf_context *ctx = m->ctx;
    float *x, *logits, *loss, *probs, *dlogits, *dx;
    int32_t *y;
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&x, N * IN, sizeof(float), 0, "x"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&dx, N * IN, sizeof(float), 0, "dx"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&logits, N * C, sizeof(float), 0, "logits"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&probs, N * C, sizeof(float), 0, "probs"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&dlogits, N * C, sizeof(float), 0, "dlogits"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&loss, N, sizeof(float), 0, "loss"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&y, N, sizeof(int32_t), 0, "labels"));
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, x, x_host, N * IN * sizeof(float)));
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, y, y_host, N * sizeof(int32_t)));

    ck_assert_lf_ok(m->arch->forward(m, x, N, 1, logits));
    ck_assert_lf_ok(LF__BE(ctx, softmax_xent_fwd, loss, probs, logits, y, N, C));
    float loss_host[N], weight[N];
    ck_assert_lf_ok(LF__BE(ctx, mem_download, loss_host, loss, sizeof loss_host));
    out->loss = 0;
    for (int i = 0; i < N; i++) {
        out->loss += loss_host[i] / (double)N;
        weight[i] = 1.0f / N;
    }
    if (zero_grads)
        ck_assert_lf_ok(lf__model_zero_grads(m));
    ck_assert_lf_ok(LF__BE(ctx, softmax_xent_bwd, dlogits, probs, y, weight, N, C));
    ck_assert_lf_ok(m->arch->backward(m, dlogits, N, NULL, dx));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, out->grads, m->grads, sizeof out->grads));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, out->dx, dx, sizeof out->dx));
    void *bufs[] = { x, dx, logits, probs, dlogits, loss, y };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        lf__nn_dev_free(ctx, bufs[i]);
}

/* A deterministic batch: inputs in [−1.5, 1.5] (as normalised pixels are), labels i mod C. */
static void make_batch(float *x, int32_t *y)
{
    unsigned long long s = 12345;
    for (int i = 0; i < N * IN; i++)
        x[i] = (float)(3.0 * lf_test_u01(&s) - 1.5);
    for (int i = 0; i < N; i++)
        y[i] = i % C;
}

static lf_model *make_model(lf_context *ctx)
{
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = IN_C;
    cfg.height = IN_H;
    cfg.width = IN_W;
    cfg.num_classes = C;
    cfg.seed = 2024;
    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_create(&m, ctx, "mlp", &cfg));
    ck_assert_uint_eq(lf_model_num_params(m), N_PARAMS);
    ck_assert_uint_eq(lf__model_find_tensor(m, "fc3.bias")->offset, B3);
    /* larger output weights than PyTorch's init make the loss (and fc1's gradients) less flat */
    float p[N_PARAMS];
    ck_assert_lf_ok(lf_model_get_params(m, p, N_PARAMS));
    for (int i = W3; i < N_PARAMS; i++)
        p[i] *= 8.0f;
    ck_assert_lf_ok(lf_model_set_params(m, p, N_PARAMS));
    return m;
}

START_TEST(mlp_gradients_match_finite_differences)
{
    lf_context *ctx = context_or_skip(backends[_i]);
    if (!ctx)
        return;
    lf_model *m = make_model(ctx);
    float x[N * IN];
    int32_t y[N];
    make_batch(x, y);
    static lib_pass lib, twice;
    library_pass(m, x, y, 1, &lib);

    static double p[N_PARAMS];
    float pf[N_PARAMS];
    ck_assert_lf_ok(lf_model_get_params(m, pf, N_PARAMS));
    for (int i = 0; i < N_PARAMS; i++)
        p[i] = pf[i];
    double xd[N * IN];
    for (int i = 0; i < N * IN; i++)
        xd[i] = x[i];

    double loss = ref_loss(p, xd, y);
    ck_assert_msg(fabs(lib.loss - loss) <= 1e-5 * fabs(loss), "loss: library %.9g, float64 %.9g",
                  lib.loss, loss);

    /* parameters: a spread of entries from every tensor */
    const struct { const char *name; int offset, count; } tensors[] = {
        { "fc1.weight", W1, HID * IN }, { "fc1.bias", B1, HID }, { "fc2.weight", W2, HID * HID },
        { "fc2.bias", B2, HID },        { "fc3.weight", W3, C * HID }, { "fc3.bias", B3, C },
    };
    const double h = 1e-6;
    int nonzero = 0, checked = 0;
    for (size_t t = 0; t < sizeof tensors / sizeof tensors[0]; t++) {
        int count = tensors[t].count, samples = count < 30 ? count : 30;
        for (int s = 0; s < samples; s++) {
            int j = (int)(((long long)s * 7919 + 13) % count);   /* spread over the tensor */
            int k = tensors[t].offset + j;
            double saved = p[k];
            p[k] = saved + h;
            double up = ref_loss(p, xd, y);
            p[k] = saved - h;
            double down = ref_loss(p, xd, y);
            p[k] = saved;
            double num = (up - down) / (2 * h);
            check_close(lib.grads[k], num, tensors[t].name, j);
            nonzero += fabs(num) > 1e-6;
            checked++;
        }
    }
    ck_assert_msg(nonzero > checked / 2, "only %d of %d gradients are non-zero: a vacuous check",
                  nonzero, checked);

    /* the input gradient (dx), for every input */
    for (int i = 0; i < N * IN; i++) {
        double saved = xd[i];
        xd[i] = saved + h;
        double up = ref_loss(p, xd, y);
        xd[i] = saved - h;
        double down = ref_loss(p, xd, y);
        xd[i] = saved;
        check_close(lib.dx[i], (up - down) / (2 * h), "dx", i);
    }

    /* parameter gradients accumulate: a second pass without zeroing doubles them */
    library_pass(m, x, y, 0, &twice);
    for (int i = 0; i < N_PARAMS; i++)
        ck_assert_msg(fabs(twice.grads[i] - 2.0 * lib.grads[i]) <= 1e-6 * fabs(lib.grads[i]) + 1e-12,
                      "grad %d: %g after two passes, %g after one", i, (double)twice.grads[i],
                      (double)lib.grads[i]);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(normalised_forward_matches_float64)
{
    lf_context *ctx = context_or_skip(backends[_i]);
    if (!ctx)
        return;
    lf_model *m = make_model(ctx);
    const float mean[IN_C] = { 0.2f, 0.5f, 0.7f }, std[IN_C] = { 0.3f, 0.1f, 2.0f };
    ck_assert_lf_ok(lf_model_set_normalization(m, mean, std, IN_C));
    float raw[N * IN];
    int32_t y[N];
    make_batch(raw, y);
    for (int i = 0; i < N * IN; i++)
        raw[i] = (raw[i] + 1.5f) / 3.0f;   /* pixels in [0, 1] */
    float logits[N * C];
    ck_assert_lf_ok(lf_model_forward(m, raw, N, logits));

    static double p[N_PARAMS];
    float pf[N_PARAMS];
    ck_assert_lf_ok(lf_model_get_params(m, pf, N_PARAMS));
    for (int i = 0; i < N_PARAMS; i++)
        p[i] = pf[i];
    for (int i = 0; i < N; i++) {
        double x[IN], z[C];
        for (int j = 0; j < IN; j++) {
            int c = j / (IN_H * IN_W);   /* NCHW: the channel of input j */
            x[j] = ((double)raw[i * IN + j] - mean[c]) / std[c];
        }
        ref_logits(p, x, z);
        for (int k = 0; k < C; k++)
            ck_assert_msg(fabs(logits[i * C + k] - z[k]) <= 1e-4 + 1e-5 * fabs(z[k]),
                          "sample %d logit %d: library %.9g, float64 %.9g", i, k,
                          (double)logits[i * C + k], z[k]);
    }
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

/* The penultimate features are fc3's input h2 = relu(fc2(...)); a gradient r on them
 * (backward's dfeatures) adds Σ_i r[i][u]·[h2[i][u] > 0] to fc2.bias's gradient and nothing to
 * fc3's. */
START_TEST(features_and_their_gradient)
{
    lf_context *ctx = context_or_skip(backends[_i]);
    if (!ctx)
        return;
    lf_model *m = make_model(ctx);
    float x_host[N * IN], r[N * HID];
    int32_t y[N];
    make_batch(x_host, y);
    unsigned long long s = 5;
    for (int i = 0; i < N * HID; i++)
        r[i] = (float)(lf_test_u01(&s) - 0.5);
    float *x, *logits, *dlogits, *dfeat;
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&x, N * IN, sizeof(float), 0, "x"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&logits, N * C, sizeof(float), 0, "logits"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&dlogits, N * C, sizeof(float), 1, "dlogits"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&dfeat, N * HID, sizeof(float), 0, "dfeat"));
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, x, x_host, sizeof x_host));
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, dfeat, r, sizeof r));
    const float *feat_dev;
    int64_t dim;
    ck_assert_int_eq(lf__model_features(m, &feat_dev, &dim), LF_E_STATE);
    ck_assert_lf_ok(m->arch->forward(m, x, N, 1, logits));
    ck_assert_lf_ok(lf__model_features(m, &feat_dev, &dim));
    ck_assert_int_eq(dim, HID);
    static float h2[N * HID];
    ck_assert_lf_ok(LF__BE(ctx, mem_download, h2, feat_dev, sizeof h2));
    /* the features are the float64 reference's h2 */
    static double p[N_PARAMS];
    static float pf[N_PARAMS], g[N_PARAMS];
    ck_assert_lf_ok(lf_model_get_params(m, pf, N_PARAMS));
    for (int i = 0; i < N_PARAMS; i++)
        p[i] = pf[i];
    for (int i = 0; i < N; i++) {
        double h1[HID];
        for (int u = 0; u < HID; u++) {
            double a = p[B1 + u];
            for (int j = 0; j < IN; j++)
                a += p[W1 + u * IN + j] * x_host[i * IN + j];
            h1[u] = a > 0 ? a : 0;
        }
        for (int u = 0; u < HID; u++) {
            double a = p[B2 + u];
            for (int j = 0; j < HID; j++)
                a += p[W2 + u * HID + j] * h1[j];
            a = a > 0 ? a : 0;
            ck_assert_msg(fabs(h2[i * HID + u] - a) <= 1e-5 + 1e-5 * fabs(a), "feature %d,%d", i, u);
        }
    }
    /* dlogits = 0: only the features' gradient flows */
    ck_assert_lf_ok(lf__model_zero_grads(m));
    ck_assert_lf_ok(m->arch->backward(m, dlogits, N, dfeat, NULL));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, g, m->grads, sizeof g));
    for (int u = 0; u < HID; u++) {
        double want = 0;
        for (int i = 0; i < N; i++)
            want += h2[i * HID + u] > 0 ? r[i * HID + u] : 0;
        ck_assert_msg(fabs(g[B2 + u] - want) <= 1e-6, "fc2.bias[%d]: %g, want %g", u, (double)g[B2 + u], want);
    }
    for (int i = W3; i < N_PARAMS; i++)
        ck_assert_float_eq(g[i], 0.0f);
    void *bufs[] = { x, logits, dlogits, dfeat };
    for (size_t i = 0; i < 4; i++)
        lf__nn_dev_free(ctx, bufs[i]);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

static Suite *gradcheck_suite(void)
{
    Suite *s = suite_create("mlp_gradcheck");
    TCase *tc = tcase_create("core");
    int n = (int)(sizeof backends / sizeof backends[0]);
    tcase_add_loop_test(tc, mlp_gradients_match_finite_differences, 0, n);
    tcase_add_loop_test(tc, normalised_forward_matches_float64, 0, n);
    tcase_add_loop_test(tc, features_and_their_gradient, 0, n);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(gradcheck_suite)
