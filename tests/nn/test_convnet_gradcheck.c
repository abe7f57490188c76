/* Whole-convnet checks against an independent float64 implementation written here (convolution,
 * batch norm, ReLU, max pooling, linear, mean softmax cross-entropy):
 *  - train mode: the loss plus a linear term on the penultimate features, Σ r·features, whose
 *    gradient the library receives through backward's dfeatures; parameter and input gradients
 *    against central finite differences (batch norm with batch statistics is differentiated
 *    through, as PyTorch's autograd does);
 *  - the features themselves, the running-statistics update and num_batches_tracked;
 *  - eval mode: logits from the running statistics, differing from train mode.
 * Runs on every backend built. */
#include "lf_test.h"
#include "core/nn/nn_internal.h"

enum { N = 3, CIN = 1, H = 8, W = 8, C1 = 32, C2 = 64, HID = 128, K = 4 };
enum { H2 = H / 2, W2 = W / 2, H4 = H / 4, W4 = W / 4, FC_IN = C2 * H4 * W4 };
#define EPS 1e-5
#define MOMENTUM 0.1

/* offsets of the tensors in the params block, read from the model's table */
typedef struct offsets {
    size_t conv1, bn1w, bn1b, conv2, bn2w, bn2b, fc1w, fc1b, fc2w, fc2b;
} offsets;

static offsets O;

/* running statistics a train-mode pass computes (for the update check) */
typedef struct batch_stats {
    double mean1[C1], var1[C1], mean2[C2], var2[C2];   /* biased batch variance */
} batch_stats;

static void conv3x3(const double *w, const double *x, double *y, int cin, int cout, int h, int wd)
{
    for (int n = 0; n < N; n++)
        for (int co = 0; co < cout; co++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < wd; j++) {
                    double a = 0;
                    for (int ci = 0; ci < cin; ci++)
                        for (int ki = 0; ki < 3; ki++)
                            for (int kj = 0; kj < 3; kj++) {
                                int ii = i + ki - 1, jj = j + kj - 1;
                                if (ii >= 0 && ii < h && jj >= 0 && jj < wd)
                                    a += w[((co * cin + ci) * 3 + ki) * 3 + kj] *
                                         x[((n * cin + ci) * h + ii) * wd + jj];
                            }
                    y[((n * cout + co) * h + i) * wd + j] = a;
                }
}

/* batch norm (train: batch statistics into mean/var; eval: the given running ones) + ReLU */
static void bn_relu(const double *gamma, const double *beta, double *x, int c, int s, int train,
                    double *mean, double *var)
{
    for (int ch = 0; ch < c; ch++) {
        if (train) {
            double m = 0, v = 0;
            for (int n = 0; n < N; n++)
                for (int k = 0; k < s; k++)
                    m += x[(n * c + ch) * s + k];
            m /= N * s;
            for (int n = 0; n < N; n++)
                for (int k = 0; k < s; k++)
                    v += (x[(n * c + ch) * s + k] - m) * (x[(n * c + ch) * s + k] - m);
            mean[ch] = m;
            var[ch] = v / (N * s);
        }
        for (int n = 0; n < N; n++)
            for (int k = 0; k < s; k++) {
                double *p = &x[(n * c + ch) * s + k];
                double y = gamma[ch] * (*p - mean[ch]) / sqrt(var[ch] + EPS) + beta[ch];
                *p = y > 0 ? y : 0;
            }
    }
}

static void maxpool2(const double *x, double *y, int c, int h, int wd)
{
    for (int n = 0; n < N; n++)
        for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < h / 2; i++)
                for (int j = 0; j < wd / 2; j++) {
                    double m = -INFINITY;
                    for (int a = 0; a < 2; a++)
                        for (int b = 0; b < 2; b++) {
                            double v = x[((n * c + ch) * h + 2 * i + a) * wd + 2 * j + b];
                            m = v > m ? v : m;
                        }
                    y[((n * c + ch) * (h / 2) + i) * (wd / 2) + j] = m;
                }
}

/* logits (N × K) and features (N × HID). train: batch statistics (returned in bs when not
 * NULL); else the running statistics rs. */
static void ref_forward(const double *p, const double *x, int train, const batch_stats *rs,
                        batch_stats *bs, double *logits, double *feat)
{
    static double c1[N * C1 * H * W], p1[N * C1 * H2 * W2], c2[N * C2 * H2 * W2], p2[N * FC_IN];
    batch_stats local;
    batch_stats *st = train ? (bs ? bs : &local) : (batch_stats *)rs;
    conv3x3(p + O.conv1, x, c1, CIN, C1, H, W);
    bn_relu(p + O.bn1w, p + O.bn1b, c1, C1, H * W, train, st->mean1, st->var1);
    maxpool2(c1, p1, C1, H, W);
    conv3x3(p + O.conv2, p1, c2, C1, C2, H2, W2);
    bn_relu(p + O.bn2w, p + O.bn2b, c2, C2, H2 * W2, train, st->mean2, st->var2);
    maxpool2(c2, p2, C2, H2, W2);
    for (int n = 0; n < N; n++) {
        for (int u = 0; u < HID; u++) {
            double a = p[O.fc1b + u];
            for (int j = 0; j < FC_IN; j++)
                a += p[O.fc1w + u * FC_IN + j] * p2[n * FC_IN + j];
            feat[n * HID + u] = a > 0 ? a : 0;
        }
        for (int k = 0; k < K; k++) {
            double a = p[O.fc2b + k];
            for (int j = 0; j < HID; j++)
                a += p[O.fc2w + k * HID + j] * feat[n * HID + j];
            logits[n * K + k] = a;
        }
    }
}

/* mean cross-entropy + Σ r·features; train mode (batch statistics) when rs is NULL, else eval
 * mode with the running statistics rs */
static double ref_objective_mode(const double *p, const double *x, const int32_t *y, const double *r,
                                 const batch_stats *rs)
{
    double z[N * K], f[N * HID], total = 0;
    ref_forward(p, x, rs == NULL, rs, NULL, z, f);
    for (int n = 0; n < N; n++) {
        double mx = z[n * K];
        for (int k = 1; k < K; k++)
            mx = z[n * K + k] > mx ? z[n * K + k] : mx;
        double s = 0;
        for (int k = 0; k < K; k++)
            s += exp(z[n * K + k] - mx);
        total += (mx + log(s) - z[n * K + y[n]]) / N;
    }
    for (int i = 0; i < N * HID && r; i++)
        total += r[i] * f[i];
    return total;
}

static double ref_objective(const double *p, const double *x, const int32_t *y, const double *r)
{
    return ref_objective_mode(p, x, y, r, NULL);
}

static void check_close(double lib, double num, const char *what, int index)
{
    ck_assert_msg(fabs(lib - num) <= 2e-4 + 2e-3 * fabs(num), "%s[%d]: library %.9g, finite differences %.9g",
                  what, index, lib, num);
}

static const lf_backend_kind backends[] = { LF_BACKEND_REFERENCE, LF_BACKEND_CPU };

static size_t offset_of(const lf_model *m, const char *name)
{
    const lf__tensor_desc *t = lf__model_find_tensor(m, name);
    ck_assert_msg(t != NULL, "no tensor %s", name);
    return t->offset;
}

static lf_model *make_model(lf_context *ctx)
{
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = CIN;
    cfg.height = H;
    cfg.width = W;
    cfg.num_classes = K;
    cfg.seed = 77;
    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_create(&m, ctx, "convnet", &cfg));
    O = (offsets){ offset_of(m, "conv1.weight"), offset_of(m, "bn1.weight"), offset_of(m, "bn1.bias"),
                   offset_of(m, "conv2.weight"), offset_of(m, "bn2.weight"), offset_of(m, "bn2.bias"),
                   offset_of(m, "fc1.weight"), offset_of(m, "fc1.bias"), offset_of(m, "fc2.weight"),
                   offset_of(m, "fc2.bias") };
    /* non-trivial batch norm affine parameters and larger output weights than PyTorch's
     * init, so that every gradient is clearly non-zero */
    size_t np = lf_model_num_params(m);
    float *p = malloc(np * sizeof *p);
    ck_assert_lf_ok(lf_model_get_params(m, p, np));
    unsigned long long s = 99;
    for (int c = 0; c < C1; c++) {
        p[O.bn1w + c] = (float)(0.5 + lf_test_u01(&s));
        p[O.bn1b + c] = (float)(lf_test_u01(&s) - 0.5);
    }
    for (int c = 0; c < C2; c++) {
        p[O.bn2w + c] = (float)(0.5 + lf_test_u01(&s));
        p[O.bn2b + c] = (float)(lf_test_u01(&s) - 0.5);
    }
    for (size_t i = O.fc2w; i < O.fc2b + K; i++)
        p[i] *= 8.0f;
    ck_assert_lf_ok(lf_model_set_params(m, p, np));
    free(p);
    return m;
}

static void make_batch(float *x, int32_t *y, double *r)
{
    unsigned long long s = 4242;
    for (int i = 0; i < N * CIN * H * W; i++)
        x[i] = (float)(3.0 * lf_test_u01(&s) - 1.5);
    for (int i = 0; i < N; i++)
        y[i] = (i + 1) % K;
    for (int i = 0; i < N * HID; i++)
        r[i] = 0.02 * (lf_test_u01(&s) - 0.5);
}

static double *params_f64(const lf_model *m)
{
    size_t np = lf_model_num_params(m);
    float *pf = malloc(np * sizeof *pf);
    double *p = malloc(np * sizeof *p);
    ck_assert_lf_ok(lf_model_get_params(m, pf, np));
    for (size_t i = 0; i < np; i++)
        p[i] = pf[i];
    free(pf);
    return p;
}

static float buffer_value(const lf_model *m, const char *name, int i)
{
    const lf__tensor_desc *t = lf__model_find_tensor(m, name);
    ck_assert_ptr_nonnull(t);
    float v[C2];
    ck_assert_uint_le(t->numel, C2);
    ck_assert_lf_ok(lf__model_download(m, t, v));
    return v[i];
}

START_TEST(convnet_gradients_match_finite_differences)
{
    if (!lf_backend_is_available(backends[_i]))
        return;
    lf_context *ctx = lf_test_context(backends[_i]);
    lf_model *m = make_model(ctx);
    enum { IN = N * CIN * H * W };
    float x[IN];
    int32_t y[N];
    static double r[N * HID];
    make_batch(x, y, r);

    /* the library: train-mode forward, loss, backward with dfeatures = r */
    float *xd, *logits, *loss, *probs, *dlogits, *dx, *dfeat;
    int32_t *yd;
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&xd, IN, sizeof(float), 0, "x"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&dx, IN, sizeof(float), 0, "dx"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&logits, N * K, sizeof(float), 0, "logits"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&probs, N * K, sizeof(float), 0, "probs"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&dlogits, N * K, sizeof(float), 0, "dlogits"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&loss, N, sizeof(float), 0, "loss"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&dfeat, N * HID, sizeof(float), 0, "dfeat"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&yd, N, sizeof(int32_t), 0, "y"));
    float rf[N * HID];
    for (int i = 0; i < N * HID; i++)
        rf[i] = (float)r[i];
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, xd, x, sizeof x));
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, yd, y, sizeof y));
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, dfeat, rf, sizeof rf));

    const float *feat_dev = NULL;
    int64_t dim = 0;
    ck_assert_int_eq(lf__model_features(m, &feat_dev, &dim), LF_E_STATE);   /* no forward yet */
    ck_assert_lf_ok(m->arch->forward(m, xd, N, 1, logits));
    ck_assert_lf_ok(lf__model_features(m, &feat_dev, &dim));
    ck_assert_int_eq(dim, HID);
    float feat[N * HID], z[N * K];
    ck_assert_lf_ok(LF__BE(ctx, mem_download, feat, feat_dev, sizeof feat));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, z, logits, sizeof z));
    ck_assert_lf_ok(LF__BE(ctx, softmax_xent_fwd, loss, probs, logits, yd, N, K));
    float weight[N];
    for (int i = 0; i < N; i++)
        weight[i] = 1.0f / N;
    ck_assert_lf_ok(lf__model_zero_grads(m));
    ck_assert_lf_ok(LF__BE(ctx, softmax_xent_bwd, dlogits, probs, yd, weight, N, K));
    ck_assert_lf_ok(m->arch->backward(m, dlogits, N, dfeat, dx));
    size_t np = lf_model_num_params(m);
    float *grads = malloc(np * sizeof *grads);
    float dxh[IN];
    ck_assert_lf_ok(LF__BE(ctx, mem_download, grads, m->grads, np * sizeof *grads));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, dxh, dx, sizeof dxh));

    /* the float64 reference: logits and features */
    double *p = params_f64(m);
    static double xr[IN];
    for (int i = 0; i < IN; i++)
        xr[i] = x[i];
    double zr[N * K], fr[N * HID];
    batch_stats bs;
    ref_forward(p, xr, 1, NULL, &bs, zr, fr);
    for (int i = 0; i < N * K; i++)
        ck_assert_msg(fabs(z[i] - zr[i]) <= 1e-4 + 1e-4 * fabs(zr[i]), "logit %d: %g vs %g", i, (double)z[i], zr[i]);
    int active = 0;
    for (int i = 0; i < N * HID; i++) {
        ck_assert_msg(fabs(feat[i] - fr[i]) <= 1e-4 + 1e-4 * fabs(fr[i]), "feature %d: %g vs %g", i,
                      (double)feat[i], fr[i]);
        active += fr[i] > 0;
    }
    ck_assert_int_gt(active, N * HID / 4);

    /* parameter gradients: a spread of entries of every tensor */
    const struct { const char *name; size_t offset; int count; } tensors[] = {
        { "conv1.weight", O.conv1, C1 * CIN * 9 }, { "bn1.weight", O.bn1w, C1 }, { "bn1.bias", O.bn1b, C1 },
        { "conv2.weight", O.conv2, C2 * C1 * 9 },  { "bn2.weight", O.bn2w, C2 }, { "bn2.bias", O.bn2b, C2 },
        { "fc1.weight", O.fc1w, HID * FC_IN },     { "fc1.bias", O.fc1b, HID },
        { "fc2.weight", O.fc2w, K * HID },         { "fc2.bias", O.fc2b, K },
    };
    const double h = 1e-6;
    int nonzero = 0, checked = 0;
    for (size_t t = 0; t < sizeof tensors / sizeof tensors[0]; t++) {
        int count = tensors[t].count, samples = count < 24 ? count : 24;
        for (int s = 0; s < samples; s++) {
            int j = (int)(((long long)s * 7919 + 5) % count);
            size_t k = tensors[t].offset + (size_t)j;
            double saved = p[k];
            p[k] = saved + h;
            double up = ref_objective(p, xr, y, r);
            p[k] = saved - h;
            double down = ref_objective(p, xr, y, r);
            p[k] = saved;
            double num = (up - down) / (2 * h);
            check_close(grads[k], num, tensors[t].name, j);
            nonzero += fabs(num) > 1e-6;
            checked++;
        }
    }
    ck_assert_msg(nonzero > checked * 3 / 4, "only %d of %d gradients are non-zero", nonzero, checked);

    /* the input gradient, for every input */
    for (int i = 0; i < IN; i++) {
        double saved = xr[i];
        xr[i] = saved + h;
        double up = ref_objective(p, xr, y, r);
        xr[i] = saved - h;
        double down = ref_objective(p, xr, y, r);
        xr[i] = saved;
        check_close(dxh[i], (up - down) / (2 * h), "dx", i);
    }

    /* the running statistics after this one train-mode forward: (1 − 0.1)·init + 0.1·batch,
     * the variance unbiased (PyTorch), and one batch tracked */
    const int S1 = N * H * W, S2 = N * H2 * W2;
    for (int c = 0; c < C1; c += 5) {
        double want_mean = MOMENTUM * bs.mean1[c];
        double want_var = (1 - MOMENTUM) * 1.0 + MOMENTUM * bs.var1[c] * S1 / (S1 - 1);
        ck_assert_double_eq_tol(buffer_value(m, "bn1.running_mean", c), want_mean, 1e-5 + 1e-4 * fabs(want_mean));
        ck_assert_double_eq_tol(buffer_value(m, "bn1.running_var", c), want_var, 1e-5 * want_var);
    }
    for (int c = 0; c < C2; c += 7) {
        double want_mean = MOMENTUM * bs.mean2[c];
        double want_var = (1 - MOMENTUM) * 1.0 + MOMENTUM * bs.var2[c] * S2 / (S2 - 1);
        ck_assert_double_eq_tol(buffer_value(m, "bn2.running_mean", c), want_mean, 1e-5 + 1e-4 * fabs(want_mean));
        ck_assert_double_eq_tol(buffer_value(m, "bn2.running_var", c), want_var, 1e-5 * want_var);
    }
    ck_assert_float_eq(buffer_value(m, "bn1.num_batches_tracked", 0), 1.0f);
    ck_assert_float_eq(buffer_value(m, "bn2.num_batches_tracked", 0), 1.0f);

    /* eval mode: the running statistics, buffers untouched, logits unlike train mode's */
    batch_stats rs;
    for (int c = 0; c < C1; c++) {
        rs.mean1[c] = buffer_value(m, "bn1.running_mean", c);
        rs.var1[c] = buffer_value(m, "bn1.running_var", c);
    }
    for (int c = 0; c < C2; c++) {
        rs.mean2[c] = buffer_value(m, "bn2.running_mean", c);
        rs.var2[c] = buffer_value(m, "bn2.running_var", c);
    }
    ck_assert_lf_ok(m->arch->forward(m, xd, N, 0, logits));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, z, logits, sizeof z));
    double ze[N * K], fe[N * HID], diff = 0;
    ref_forward(p, xr, 0, &rs, NULL, ze, fe);
    for (int i = 0; i < N * K; i++) {
        ck_assert_msg(fabs(z[i] - ze[i]) <= 1e-4 + 1e-4 * fabs(ze[i]), "eval logit %d: %g vs %g", i,
                      (double)z[i], ze[i]);
        diff += fabs(ze[i] - zr[i]);
    }
    ck_assert_double_gt(diff, 1e-2);   /* the modes really differ */
    ck_assert_float_eq(buffer_value(m, "bn1.num_batches_tracked", 0), 1.0f);
    ck_assert_float_eq(buffer_value(m, "bn1.running_mean", 3), (float)rs.mean1[3]);
    /* backward after the eval-mode forward: through the fixed running statistics (what FF, IU
     * and ReMI differentiate), against finite differences of the eval-mode objective */
    ck_assert_lf_ok(LF__BE(ctx, softmax_xent_fwd, loss, probs, logits, yd, N, K));
    ck_assert_lf_ok(lf__model_zero_grads(m));
    ck_assert_lf_ok(LF__BE(ctx, softmax_xent_bwd, dlogits, probs, yd, weight, N, K));
    ck_assert_lf_ok(m->arch->backward(m, dlogits, N, NULL, dx));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, grads, m->grads, np * sizeof *grads));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, dxh, dx, sizeof dxh));
    for (size_t t = 0; t < sizeof tensors / sizeof tensors[0]; t++) {
        int count = tensors[t].count, samples = count < 8 ? count : 8;
        for (int s = 0; s < samples; s++) {
            int j = (int)(((long long)s * 7919 + 3) % count);
            size_t k = tensors[t].offset + (size_t)j;
            double saved = p[k];
            p[k] = saved + h;
            double up = ref_objective_mode(p, xr, y, NULL, &rs);
            p[k] = saved - h;
            double down = ref_objective_mode(p, xr, y, NULL, &rs);
            p[k] = saved;
            check_close(grads[k], (up - down) / (2 * h), tensors[t].name, j);
        }
    }
    for (int i = 0; i < IN; i += 3) {
        double saved = xr[i];
        xr[i] = saved + h;
        double up = ref_objective_mode(p, xr, y, NULL, &rs);
        xr[i] = saved - h;
        double down = ref_objective_mode(p, xr, y, NULL, &rs);
        xr[i] = saved;
        check_close(dxh[i], (up - down) / (2 * h), "dx (eval mode)", i);
    }

    free(p);
    free(grads);
    void *bufs[] = { xd, dx, logits, probs, dlogits, loss, dfeat, yd };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        lf__nn_dev_free(ctx, bufs[i]);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

static Suite *gradcheck_suite(void)
{
    Suite *s = suite_create("convnet_gradcheck");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, convnet_gradients_match_finite_differences, 0,
                        (int)(sizeof backends / sizeof backends[0]));
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(gradcheck_suite)
