/* Whole-resnet18 checks against an independent float64 implementation written here
 * (convolution of any stride and padding, batch norm, ReLU, residual add, global average pool,
 * linear, mean softmax cross-entropy) on a 4 × 1×8×8 batch:
 *  - train mode: the loss plus a linear term on the penultimate features, Σ r·features, whose
 *    gradient the library receives through backward's dfeatures; gradients against central
 *    finite differences: sampled entries of a spread of tensors (the stem, downsample convs and
 *    BNs, layer4's batch norm, fc) and of the input, and for every parameter tensor a random
 *    direction (so each of the 62 tensors is checked whole);
 *  - logits, features, the running-statistics update and num_batches_tracked;
 *  - eval mode (running statistics set near the batch's): logits, features and gradients of a
 *    few tensors and the input (batch norm backward with fixed statistics); and a call over
 *    more rows than one eval chunk agreeing with separate calls.
 * Batch 4, not 2: layer4 runs at 1×1, where batch norm over 2 values per channel normalises to
 * ±1 and passes almost no gradient back, which would leave the earlier layers unchecked.
 * Runs on every backend built; the float64 side is computed once. Finite differences only
 * re-run the network from the block holding the perturbed tensor (checks go from the last
 * block to the input, so the cached block inputs stay those of the unperturbed parameters). */
#include "lf_test.h"
#include "core/nn/nn_internal.h"

enum { N = 4, CIN = 1, H = 8, W = 8, K = 5, FEAT = 512, NU = 20, NB = 8, IN = N * CIN * H * W };
enum { MAXACT = N * 64 * H * W };   /* the largest activation */
#define EPS 1e-5
#define MOMENTUM 0.1

/* ---- the float64 reference ---- */

typedef struct ref_unit {
    char   conv[40], bn[40];
    size_t w, g, b;               /* offsets of conv weight, BN weight, BN bias in params */
    int    cin, cout, k, stride, h_in, h_out, block;   /* block −1: the stem */
} ref_unit;

static ref_unit U[NU];
static int blk_c1[NB], blk_c2[NB], blk_ds[NB];   /* unit indices; ds −1: identity */
static size_t fc_w, fc_b;

/* batch statistics of a train-mode pass, per unit */
static double bmean[NU][FEAT], bvar[NU][FEAT];

/* torchvision's layout (written independently of the library) */
static void ref_layout(void)
{
    int u = 0, h = H;
    U[u++] = (ref_unit){ "conv1", "bn1", 0, 0, 0, CIN, 64, 3, 1, H, H, -1 };
    for (int layer = 1, b = 0; layer <= 4; layer++)
        for (int j = 0; j < 2; j++, b++) {
            int width = 64 << (layer - 1), stride = layer > 1 && j == 0 ? 2 : 1;
            int cin = stride == 2 ? width / 2 : width, h_out = (h - 1) / stride + 1;
            ref_unit *c1 = &U[u], *c2 = &U[u + 1];
            *c1 = (ref_unit){ "", "", 0, 0, 0, cin, width, 3, stride, h, h_out, b };
            *c2 = (ref_unit){ "", "", 0, 0, 0, width, width, 3, 1, h_out, h_out, b };
            snprintf(c1->conv, 40, "layer%d.%d.conv1", layer, j);
            snprintf(c1->bn, 40, "layer%d.%d.bn1", layer, j);
            snprintf(c2->conv, 40, "layer%d.%d.conv2", layer, j);
            snprintf(c2->bn, 40, "layer%d.%d.bn2", layer, j);
            blk_c1[b] = u;
            blk_c2[b] = u + 1;
            blk_ds[b] = -1;
            u += 2;
            if (stride == 2) {
                U[u] = (ref_unit){ "", "", 0, 0, 0, cin, width, 1, 2, h, h_out, b };
                snprintf(U[u].conv, 40, "layer%d.%d.downsample.0", layer, j);
                snprintf(U[u].bn, 40, "layer%d.%d.downsample.1", layer, j);
                blk_ds[b] = u++;
            }
            h = h_out;
        }
    ck_assert_int_eq(u, NU);
}

/* conv weights transposed to [c_in·k·k][c_out], per unit; stale after the weights changed */
static double *wt_cache[NU];
static int     wt_stale[NU];

/* y = conv(x, w) of unit ui (k×k, stride, pad k/2), as im2col and a product whose inner loop
 * runs over the output channels (this is nearly all of the test's time; zero inputs, half of
 * them after a ReLU, are skipped) */
static void conv(int ui, const double *p, const double *x, double *y)
{
    enum { MAX_COL = 64 * 64 * 9, MAX_YT = 64 * 64 };
    static double col[MAX_COL], yt[MAX_YT];
    const ref_unit *u = &U[ui];
    int hi = u->h_in, ho = u->h_out, k = u->k, s = u->stride, pad = k / 2, cout = u->cout;
    int R = u->cin * k * k, P = ho * ho;
    ck_assert(P * R <= MAX_COL && P * cout <= MAX_YT);
    if (!wt_cache[ui]) {
        wt_cache[ui] = malloc((size_t)R * cout * sizeof(double));
        wt_stale[ui] = 1;
    }
    double *wt = wt_cache[ui];
    if (wt_stale[ui]) {
        const double *w = p + u->w;
        for (int co = 0; co < cout; co++)
            for (int q = 0; q < R; q++)
                wt[(size_t)q * cout + co] = w[(size_t)co * R + q];
        wt_stale[ui] = 0;
    }
    for (int n = 0; n < N; n++) {
        const double *xn = x + (size_t)n * u->cin * hi * hi;
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < ho; j++)
                for (int ci = 0; ci < u->cin; ci++)
                    for (int ki = 0; ki < k; ki++)
                        for (int kj = 0; kj < k; kj++) {
                            int ii = i * s + ki - pad, jj = j * s + kj - pad;
                            int in = ii >= 0 && ii < hi && jj >= 0 && jj < hi;
                            col[(size_t)(i * ho + j) * R + (ci * k + ki) * k + kj] =
                                in ? xn[((size_t)ci * hi + ii) * hi + jj] : 0;
                        }
        for (int pix = 0; pix < P; pix++) {
            double *yr = yt + (size_t)pix * cout;
            const double *cr = col + (size_t)pix * R;
            for (int co = 0; co < cout; co++)
                yr[co] = 0;
            for (int q = 0; q < R; q++) {
                double c = cr[q];
                if (c == 0)
                    continue;
                const double *wr = wt + (size_t)q * cout;
                for (int co = 0; co < cout; co++)
                    yr[co] += c * wr[co];
            }
        }
        for (int co = 0; co < cout; co++)
            for (int pix = 0; pix < P; pix++)
                y[((size_t)n * cout + co) * P + pix] = yt[(size_t)pix * cout + co];
    }
}

/* in place: batch norm (train: batch statistics, kept in bmean/bvar; else rmean/rvar), then
 * ReLU when relu */
static void bn(int ui, const double *p, double *x, int train, const double *rmean, const double *rvar,
               int relu)
{
    const ref_unit *u = &U[ui];
    int c = u->cout, s = u->h_out * u->h_out;
    for (int ch = 0; ch < c; ch++) {
        double m, v;
        if (train) {
            m = v = 0;
            for (int n = 0; n < N; n++)
                for (int i = 0; i < s; i++)
                    m += x[((size_t)n * c + ch) * s + i];
            m /= N * s;
            for (int n = 0; n < N; n++)
                for (int i = 0; i < s; i++) {
                    double d = x[((size_t)n * c + ch) * s + i] - m;
                    v += d * d;
                }
            v /= N * s;
            bmean[ui][ch] = m;
            bvar[ui][ch] = v;
        } else {
            m = rmean[ch];
            v = rvar[ch];
        }
        double scale = p[u->g + ch] / sqrt(v + EPS), shift = p[u->b + ch];
        for (int n = 0; n < N; n++)
            for (int i = 0; i < s; i++) {
                double *q = &x[((size_t)n * c + ch) * s + i];
                *q = scale * (*q - m) + shift;
                if (relu && *q < 0)
                    *q = 0;
            }
    }
}

/* running statistics per unit, for eval mode */
static double rmean[NU][FEAT], rvar[NU][FEAT];

/* block inputs of the last pass (act[b] = the input of block b, act[NB] = the last output) */
static double act[NB + 1][MAXACT];

static size_t act_size(int ui)
{
    return (size_t)N * U[ui].cout * U[ui].h_out * U[ui].h_out;
}

/* From block `from` (−1: the stem; NB: fc only) to the logits and features. */
static void ref_forward(const double *p, const double *x, int from, int train, double *logits, double *feat)
{
    static double t[MAXACT], t2[MAXACT], d[MAXACT];
    if (from < 0) {
        conv(0, p, x, act[0]);
        bn(0, p, act[0], train, rmean[0], rvar[0], 1);
    }
    for (int b = from < 0 ? 0 : from; b < NB; b++) {
        int c1 = blk_c1[b], c2 = blk_c2[b], ds = blk_ds[b];
        conv(c1, p, act[b], t);
        bn(c1, p, t, train, rmean[c1], rvar[c1], 1);
        conv(c2, p, t, t2);
        bn(c2, p, t2, train, rmean[c2], rvar[c2], 0);
        const double *shortcut = act[b];
        if (ds >= 0) {
            conv(ds, p, act[b], d);
            bn(ds, p, d, train, rmean[ds], rvar[ds], 0);
            shortcut = d;
        }
        size_t len = act_size(c2);
        for (size_t i = 0; i < len; i++) {
            double v = t2[i] + shortcut[i];
            act[b + 1][i] = v > 0 ? v : 0;
        }
    }
    int s = U[NU - 1].h_out * U[NU - 1].h_out;
    for (int n = 0; n < N; n++) {
        for (int c = 0; c < FEAT; c++) {
            double a = 0;
            for (int i = 0; i < s; i++)
                a += act[NB][((size_t)n * FEAT + c) * s + i];
            feat[n * FEAT + c] = a / s;
        }
        for (int k = 0; k < K; k++) {
            double a = p[fc_b + k];
            for (int j = 0; j < FEAT; j++)
                a += p[fc_w + (size_t)k * FEAT + j] * feat[n * FEAT + j];
            logits[n * K + k] = a;
        }
    }
}

/* from block `from`, in train or eval mode: mean cross-entropy + Σ r·features */
static double ref_objective(const double *p, const double *x, int from, int train, const int32_t *y,
                            const double *r)
{
    double z[N * K], f[N * FEAT], total = 0;
    ref_forward(p, x, from, train, z, f);
    for (int n = 0; n < N; n++) {
        double mx = z[n * K];
        for (int k = 1; k < K; k++)
            mx = z[n * K + k] > mx ? z[n * K + k] : mx;
        double s = 0;
        for (int k = 0; k < K; k++)
            s += exp(z[n * K + k] - mx);
        total += (mx + log(s) - z[n * K + y[n]]) / N;
    }
    for (int i = 0; i < N * FEAT; i++)
        total += r[i] * f[i];
    return total;
}

/* ---- the library, on each backend ---- */

static const lf_backend_kind backends[] = { LF_BACKEND_REFERENCE, LF_BACKEND_CPU };
#define N_BACKENDS (sizeof backends / sizeof backends[0])

/* One backend's model with the batch in its memory. */
typedef struct lib_run {
    int         ran;
    lf_context *ctx;
    lf_model   *m;
    float      *xd, *logits, *loss, *probs, *dlogits, *dx, *dfeat;
    int32_t    *yd;
} lib_run;

/* What a forward + backward gave (host copies). */
typedef struct lib_pass {
    float *grads;   /* n_params */
    float  dx[IN], z[N * K], feat[N * FEAT];
} lib_pass;

typedef struct lib_result {
    lib_run  run;
    lib_pass train, eval;
    float    rmean[NU][FEAT], rvar[NU][FEAT], tracked[NU];   /* after the train pass */
} lib_result;

static lib_result results[N_BACKENDS];

static size_t offset_of(const lf_model *m, const char *prefix, const char *suffix)
{
    char name[LF__MAX_NAME];
    snprintf(name, sizeof name, "%s%s%s", prefix, suffix[0] ? "." : "", suffix);
    const lf__tensor_desc *t = lf__model_find_tensor(m, name);
    ck_assert_msg(t != NULL, "no tensor %s", name);
    return t->offset;
}

static const lf__tensor_desc *bn_buffer(const lf_model *m, const char *prefix, const char *suffix)
{
    char name[LF__MAX_NAME];
    snprintf(name, sizeof name, "%s.%s", prefix, suffix);
    const lf__tensor_desc *t = lf__model_find_tensor(m, name);
    ck_assert_msg(t != NULL, "no tensor %s", name);
    return t;
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
    ck_assert_lf_ok(lf_model_create(&m, ctx, "resnet18", &cfg));
    for (int u = 0; u < NU; u++) {
        U[u].w = offset_of(m, U[u].conv, "weight");
        U[u].g = offset_of(m, U[u].bn, "weight");
        U[u].b = offset_of(m, U[u].bn, "bias");
    }
    fc_w = offset_of(m, "fc.weight", "");
    fc_b = offset_of(m, "fc.bias", "");
    /* non-trivial batch norm affine parameters and a larger fc than torchvision's init, so
     * that every gradient is clearly non-zero */
    size_t np = lf_model_num_params(m);
    float *p = malloc(np * sizeof *p);
    ck_assert_lf_ok(lf_model_get_params(m, p, np));
    unsigned long long s = 99;
    for (int u = 0; u < NU; u++)
        for (int c = 0; c < U[u].cout; c++) {
            p[U[u].g + c] = (float)(0.5 + lf_test_u01(&s));
            p[U[u].b + c] = (float)(lf_test_u01(&s) - 0.5);
        }
    for (size_t i = fc_w; i < fc_w + (size_t)K * FEAT; i++)
        p[i] *= 4.0f;
    ck_assert_lf_ok(lf_model_set_params(m, p, np));
    free(p);
    return m;
}

static void make_batch(float *x, int32_t *y, double *r)
{
    unsigned long long s = 4242;
    for (int i = 0; i < IN; i++)
        x[i] = (float)(3.0 * lf_test_u01(&s) - 1.5);
    for (int i = 0; i < N; i++)
        y[i] = (i + 1) % K;
    for (int i = 0; i < N * FEAT; i++)
        r[i] = 0.02 * (lf_test_u01(&s) - 0.5);
}

/* The model and the batch on backend `kind` (run->ran 0 when its kernels are missing); the
 * first one also gives the parameters as float64. */
static void lib_open(lib_run *run, lf_backend_kind kind, const float *x, const int32_t *y, const double *r,
                     double **params)
{
    memset(run, 0, sizeof *run);
    if (!lf_backend_is_available(kind))
        return;
    lf_context *ctx = lf_test_context(kind);
    const lf__backend_iface *be = ctx->backend.iface;
    if (!be->conv2d_fwd || !be->batchnorm_fwd_train || !be->avgpool_global_fwd || !be->batchnorm_bwd_eval) {
        lf_context_destroy(ctx);   /* kernels still missing on this backend */
        return;
    }
    run->ctx = ctx;
    run->m = make_model(ctx);
    float **f[] = { &run->xd, &run->dx, &run->logits, &run->probs, &run->dlogits, &run->loss, &run->dfeat };
    const size_t len[] = { IN, IN, N * K, N * K, N * K, N, N * FEAT };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)f[i], len[i], sizeof(float), 0, "batch"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&run->yd, N, sizeof(int32_t), 0, "labels"));
    static float rf[N * FEAT];
    for (int i = 0; i < N * FEAT; i++)
        rf[i] = (float)r[i];
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, run->xd, x, IN * sizeof(float)));
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, run->yd, y, N * sizeof(int32_t)));
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, run->dfeat, rf, sizeof rf));
    if (!*params) {
        size_t np = lf_model_num_params(run->m);
        float *pf = malloc(np * sizeof *pf);
        *params = malloc(np * sizeof **params);
        ck_assert_lf_ok(lf_model_get_params(run->m, pf, np));
        for (size_t i = 0; i < np; i++)
            (*params)[i] = pf[i];
        free(pf);
    }
    run->ran = 1;
}

static void lib_close(lib_run *run)
{
    if (!run->ran)
        return;
    void *bufs[] = { run->xd, run->dx, run->logits, run->probs, run->dlogits, run->loss, run->dfeat, run->yd };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        lf__nn_dev_free(run->ctx, bufs[i]);
    lf_model_destroy(run->m);
    lf_context_destroy(run->ctx);
}

/* Forward (train or eval), mean cross-entropy, backward with dfeatures = r and the input
 * gradient. */
static void lib_pass_run(const lib_run *run, int train, lib_pass *out)
{
    lf_context *ctx = run->ctx;
    lf_model *m = run->m;
    ck_assert_lf_ok(m->arch->forward(m, run->xd, N, train, run->logits));
    const float *feat = NULL;
    int64_t dim = 0;
    ck_assert_lf_ok(lf__model_features(m, &feat, &dim));
    ck_assert_int_eq(dim, FEAT);
    ck_assert_lf_ok(LF__BE(ctx, mem_download, out->feat, feat, sizeof out->feat));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, out->z, run->logits, sizeof out->z));
    ck_assert_lf_ok(LF__BE(ctx, softmax_xent_fwd, run->loss, run->probs, run->logits, run->yd, N, K));
    float weight[N];
    for (int i = 0; i < N; i++)
        weight[i] = 1.0f / N;
    ck_assert_lf_ok(lf__model_ensure_grads(m));
    ck_assert_lf_ok(lf__model_zero_grads(m));
    ck_assert_lf_ok(LF__BE(ctx, softmax_xent_bwd, run->dlogits, run->probs, run->yd, weight, N, K));
    ck_assert_lf_ok(m->arch->backward(m, run->dlogits, N, run->dfeat, run->dx));
    size_t np = lf_model_num_params(m);
    out->grads = malloc(np * sizeof *out->grads);
    ck_assert_lf_ok(LF__BE(ctx, mem_download, out->grads, m->grads, np * sizeof *out->grads));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, out->dx, run->dx, sizeof out->dx));
}

/* ---- the checks ---- */

static int tolerable(double lib, double num)
{
    return fabs(lib - num) <= 2e-4 + 2e-3 * fabs(num);
}

/* one parameter tensor to check: sampled entries and a random direction */
typedef struct check_tensor {
    size_t offset, count;
    int    stage;      /* the block whose forward it enters (−1 stem, NB fc) */
    int    samples;    /* entries checked one by one */
    int    conv;       /* the unit whose conv weight it is, else −1 */
    char   name[64];
} check_tensor;

/* the objective after tensor c changed (its cached transpose, if a conv, is dropped) */
static double objective_after(const check_tensor *c, const double *p, const double *x, int train,
                              const int32_t *y, const double *r)
{
    if (c->conv >= 0)
        wt_stale[c->conv] = 1;
    return ref_objective(p, x, c->stage, train, y, r);
}

static const float *pass_grads(size_t b, int train)
{
    return train ? results[b].train.grads : results[b].eval.grads;
}

/* Checks tensors ts[0..nt) (ordered from fc back to the stem, see the file comment) against
 * finite differences of the train- or eval-mode objective; the cached block inputs must be
 * those of that mode's unperturbed pass. Returns the sampled entries with a non-zero gradient;
 * *checked counts them all. */
static int check_tensors(const check_tensor *ts, int nt, double *p, const double *xr, int train,
                         const int32_t *y, const double *r, unsigned long long *s, int *checked)
{
    const double h = 1e-6;
    size_t most = 0;
    for (int t = 0; t < nt; t++)
        most = ts[t].count > most ? ts[t].count : most;
    signed char *dir = malloc(most);
    double *keep = malloc(most * sizeof *keep);
    const char *mode = train ? "train" : "eval";
    int nonzero = 0;
    for (int t = 0; t < nt; t++) {
        const check_tensor *c = &ts[t];
        /* sampled entries */
        for (int k = 0; k < c->samples; k++) {
            size_t j = (size_t)(lf_test_u01(s) * (double)c->count), i = c->offset + j;
            double saved = p[i];
            p[i] = saved + h;
            double up = objective_after(c, p, xr, train, y, r);
            p[i] = saved - h;
            double down = objective_after(c, p, xr, train, y, r);
            p[i] = saved;
            if (c->conv >= 0)
                wt_stale[c->conv] = 1;
            double num = (up - down) / (2 * h);
            for (size_t b = 0; b < N_BACKENDS; b++)
                ck_assert_msg(!results[b].run.ran || tolerable(pass_grads(b, train)[i], num),
                              "backend %d, %s mode: %s[%zu]: library %.9g, finite differences %.9g",
                              (int)backends[b], mode, c->name, j, (double)pass_grads(b, train)[i], num);
            nonzero += fabs(num) > 1e-6;
            (*checked)++;
        }
        /* the whole tensor along a random ±1 direction (a smaller step: every ReLU downstream
         * moves, and a step of 1e-6 along the stem's direction already crosses kinks) */
        const double hd = 1e-8;
        double *q = p + c->offset;
        memcpy(keep, q, c->count * sizeof *q);
        for (size_t j = 0; j < c->count; j++) {
            dir[j] = lf_test_u01(s) < 0.5 ? -1 : 1;
            q[j] = keep[j] + hd * dir[j];
        }
        double up = objective_after(c, p, xr, train, y, r);
        for (size_t j = 0; j < c->count; j++)
            q[j] = keep[j] - hd * dir[j];
        double down = objective_after(c, p, xr, train, y, r);
        memcpy(q, keep, c->count * sizeof *q);
        if (c->conv >= 0)
            wt_stale[c->conv] = 1;
        double num = (up - down) / (2 * hd);
        for (size_t b = 0; b < N_BACKENDS; b++) {
            if (!results[b].run.ran)
                continue;
            const float *g = pass_grads(b, train) + c->offset;
            double lib = 0, norm = 0;
            for (size_t j = 0; j < c->count; j++) {
                lib += (double)g[j] * dir[j];
                norm += (double)g[j] * g[j];
            }
            norm = sqrt(norm);   /* the size of lib for a random direction */
            ck_assert_msg(norm > 0, "backend %d, %s mode: no gradient reaches %s", (int)backends[b], mode,
                          c->name);
            ck_assert_msg(fabs(lib - num) <= 1e-6 + 1e-3 * norm,
                          "backend %d, %s mode: %s along a random direction: library %.9g, finite "
                          "differences %.9g (|g| %.3g)", (int)backends[b], mode, c->name, lib, num, norm);
        }
    }
    free(dir);
    free(keep);
    return nonzero;
}

/* sampled entries of the input gradient */
static void check_input(double *xr, const double *p, int train, const int32_t *y, const double *r,
                        unsigned long long *s, int samples)
{
    const double h = 1e-6;
    for (int k = 0; k < samples; k++) {
        int i = (int)(lf_test_u01(s) * IN);
        double saved = xr[i];
        xr[i] = saved + h;
        double up = ref_objective(p, xr, -1, train, y, r);
        xr[i] = saved - h;
        double down = ref_objective(p, xr, -1, train, y, r);
        xr[i] = saved;
        double num = (up - down) / (2 * h);
        for (size_t b = 0; b < N_BACKENDS; b++) {
            const float *dx = train ? results[b].train.dx : results[b].eval.dx;
            ck_assert_msg(!results[b].run.ran || tolerable(dx[i], num),
                          "backend %d, %s mode: dx[%d]: library %.9g, finite differences %.9g",
                          (int)backends[b], train ? "train" : "eval", i, (double)dx[i], num);
        }
        ck_assert_double_gt(fabs(num), 1e-7);
    }
}

static void check_forward(const lib_pass *ps, size_t b, const double *z, const double *f, const char *mode)
{
    for (int i = 0; i < N * K; i++)
        ck_assert_msg(fabs(ps->z[i] - z[i]) <= 1e-4 + 1e-4 * fabs(z[i]), "backend %d, %s mode: logit %d: %g vs %g",
                      (int)backends[b], mode, i, (double)ps->z[i], z[i]);
    for (int i = 0; i < N * FEAT; i++)
        ck_assert_msg(fabs(ps->feat[i] - f[i]) <= 1e-4 + 1e-4 * fabs(f[i]),
                      "backend %d, %s mode: feature %d: %g vs %g", (int)backends[b], mode, i,
                      (double)ps->feat[i], f[i]);
}

START_TEST(resnet18_gradients_match_finite_differences)
{
    ref_layout();
    static float x[IN];
    static double xr[IN], r[N * FEAT];
    int32_t y[N];
    make_batch(x, y, r);
    for (int i = 0; i < IN; i++)
        xr[i] = x[i];
    double *p = NULL;
    int ran = 0;
    for (size_t b = 0; b < N_BACKENDS; b++) {
        memset(&results[b], 0, sizeof results[b]);
        lib_open(&results[b].run, backends[b], x, y, r, &p);
        ran += results[b].run.ran;
    }
    if (!ran)
        return;   /* the convolution kernels are not there yet */

    /* train mode: logits, features, the running statistics and counts it left */
    for (size_t b = 0; b < N_BACKENDS; b++) {
        lib_result *res = &results[b];
        if (!res->run.ran)
            continue;
        lib_pass_run(&res->run, 1, &res->train);
        for (int u = 0; u < NU; u++) {
            ck_assert_lf_ok(lf__model_download(res->run.m, bn_buffer(res->run.m, U[u].bn, "running_mean"), res->rmean[u]));
            ck_assert_lf_ok(lf__model_download(res->run.m, bn_buffer(res->run.m, U[u].bn, "running_var"), res->rvar[u]));
            ck_assert_lf_ok(lf__model_download(res->run.m, bn_buffer(res->run.m, U[u].bn, "num_batches_tracked"),
                                               &res->tracked[u]));
        }
    }
    double zr[N * K], fr[N * FEAT];
    ref_forward(p, xr, -1, 1, zr, fr);
    int active = 0;
    for (int i = 0; i < N * FEAT; i++)
        active += fr[i] > 0;
    ck_assert_int_gt(active, N * FEAT / 4);
    for (size_t b = 0; b < N_BACKENDS; b++) {
        const lib_result *res = &results[b];
        if (!res->run.ran)
            continue;
        check_forward(&res->train, b, zr, fr, "train");
        for (int u = 0; u < NU; u++) {
            double cnt = (double)N * U[u].h_out * U[u].h_out;
            for (int c = 0; c < U[u].cout; c += 7) {
                double want_mean = MOMENTUM * bmean[u][c];
                double want_var = (1 - MOMENTUM) + MOMENTUM * bvar[u][c] * cnt / (cnt - 1);
                ck_assert_msg(fabs(res->rmean[u][c] - want_mean) <= 1e-5 + 1e-4 * fabs(want_mean) &&
                              fabs(res->rvar[u][c] - want_var) <= 1e-5 + 1e-4 * want_var,
                              "backend %d: %s channel %d: running %g / %g, want %g / %g", (int)backends[b],
                              U[u].bn, c, (double)res->rmean[u][c], (double)res->rvar[u][c], want_mean, want_var);
            }
            ck_assert_float_eq(res->tracked[u], 1.0f);
        }
    }

    /* eval mode, with running statistics near this batch's but not equal to them (so the
     * network is well conditioned and the modes differ) */
    static float rm[FEAT], rv[FEAT];
    for (int u = 0; u < NU; u++)
        for (int c = 0; c < U[u].cout; c++) {
            rmean[u][c] = (float)(bmean[u][c] + 0.05);
            rvar[u][c] = (float)(1.3 * bvar[u][c] + 0.01);
        }
    for (size_t b = 0; b < N_BACKENDS; b++) {
        lib_result *res = &results[b];
        if (!res->run.ran)
            continue;
        for (int u = 0; u < NU; u++) {
            for (int c = 0; c < U[u].cout; c++) {
                rm[c] = (float)rmean[u][c];
                rv[c] = (float)rvar[u][c];
            }
            ck_assert_lf_ok(lf__model_upload(res->run.m, bn_buffer(res->run.m, U[u].bn, "running_mean"), rm));
            ck_assert_lf_ok(lf__model_upload(res->run.m, bn_buffer(res->run.m, U[u].bn, "running_var"), rv));
        }
        lib_pass_run(&res->run, 0, &res->eval);
    }
    double ze[N * K], fe[N * FEAT], diff = 0;
    ref_forward(p, xr, -1, 0, ze, fe);
    for (int i = 0; i < N * K; i++)
        diff += fabs(ze[i] - zr[i]);
    ck_assert_double_gt(diff, 1e-2);   /* the modes really differ */
    for (size_t b = 0; b < N_BACKENDS; b++)
        if (results[b].run.ran)
            check_forward(&results[b].eval, b, ze, fe, "eval");

    /* train-mode gradients: every tensor, from fc back to the stem */
    static check_tensor ts[3 * NU + 2];
    int nt = 0;
    ts[nt++] = (check_tensor){ fc_b, K, NB, K, -1, "fc.bias" };
    ts[nt++] = (check_tensor){ fc_w, (size_t)K * FEAT, NB, 8, -1, "fc.weight" };
    for (int u = NU - 1; u >= 0; u--) {
        int st = U[u].block;
        size_t wn = (size_t)U[u].cout * U[u].cin * U[u].k * U[u].k;
        /* sampled: the stem, every downsample, layer4's batch norm, a conv per stage */
        int ds = strstr(U[u].conv, "downsample") != NULL, l4 = st >= 6;
        int wsamples = ds || u == 0 || l4 || u == 1 || u == 8 || u == 14 ? 4 : 0;
        int bsamples = ds || u == 0 || l4 ? 3 : 0;
        check_tensor g = { U[u].g, (size_t)U[u].cout, st, bsamples, -1, "" }, bt = g;
        check_tensor wt = { U[u].w, wn, st, wsamples, u, "" };
        bt.offset = U[u].b;
        snprintf(g.name, sizeof g.name, "%s.weight", U[u].bn);
        snprintf(bt.name, sizeof bt.name, "%s.bias", U[u].bn);
        snprintf(wt.name, sizeof wt.name, "%s.weight", U[u].conv);
        ts[nt++] = g;
        ts[nt++] = bt;
        ts[nt++] = wt;
    }
    unsigned long long s = 31337;
    int checked = 0;
    ref_forward(p, xr, -1, 1, zr, fr);   /* the cached block inputs of train mode */
    int nonzero = check_tensors(ts, nt, p, xr, 1, y, r, &s, &checked);
    ck_assert_msg(nonzero > checked * 3 / 4, "only %d of %d gradients are non-zero", nonzero, checked);
    check_input(xr, p, 1, y, r, &s, 8);

    /* eval-mode gradients (batch norm with fixed statistics): a few tensors */
    static const char *const eval_names[] = { "fc.weight", "layer4.1.bn2.weight", "layer4.0.downsample.0.weight",
                                              "layer2.0.downsample.1.bias", "layer1.0.conv1.weight", "bn1.weight",
                                              "conv1.weight" };
    check_tensor es[sizeof eval_names / sizeof eval_names[0]];
    int ne = 0;
    for (size_t i = 0; i < sizeof eval_names / sizeof eval_names[0]; i++)
        for (int t = 0; t < nt; t++)
            if (strcmp(ts[t].name, eval_names[i]) == 0) {
                es[ne] = ts[t];
                es[ne++].samples = 3;
            }
    ck_assert_int_eq(ne, (int)(sizeof eval_names / sizeof eval_names[0]));
    ref_forward(p, xr, -1, 0, ze, fe);   /* the cached block inputs of eval mode */
    checked = 0;
    nonzero = check_tensors(es, ne, p, xr, 0, y, r, &s, &checked);
    ck_assert_msg(nonzero > checked * 3 / 4, "eval mode: only %d of %d gradients are non-zero", nonzero, checked);
    check_input(xr, p, 0, y, r, &s, 4);

    free(p);
    for (int u = 0; u < NU; u++) {
        free(wt_cache[u]);
        wt_cache[u] = NULL;
    }
    for (size_t b = 0; b < N_BACKENDS; b++) {
        free(results[b].train.grads);
        free(results[b].eval.grads);
        lib_close(&results[b].run);
    }
}
END_TEST

/* Eval mode runs in chunks of rows (128 unless a training batch was larger): 130 rows in one
 * call give the logits and features of 128 and 2 rows in separate calls. On 1×2×2 inputs to
 * keep it quick. */
START_TEST(resnet18_eval_chunks_agree)
{
    enum { ROWS = 130, FIRST = 128, SZ = 4, C = 3 };
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    if (!ctx->backend.iface->conv2d_fwd || !ctx->backend.iface->avgpool_global_fwd) {
        lf_context_destroy(ctx);
        return;
    }
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = 1;
    cfg.height = cfg.width = 2;
    cfg.num_classes = C;
    cfg.seed = 3;
    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_create(&m, ctx, "resnet18", &cfg));
    static float x[ROWS * SZ], z_all[ROWS * C], z_part[ROWS * C], f_all[ROWS * FEAT], f_part[ROWS * FEAT];
    unsigned long long s = 5;
    for (int i = 0; i < ROWS * SZ; i++)
        x[i] = (float)lf_test_u01(&s);
    float *xd, *zd;
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&xd, ROWS * SZ, sizeof(float), 0, "x"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&zd, ROWS * C, sizeof(float), 0, "logits"));
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, xd, x, sizeof x));
    const float *feat;
    int64_t dim;
    ck_assert_lf_ok(m->arch->forward(m, xd, ROWS, 0, zd));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, z_all, zd, sizeof z_all));
    ck_assert_lf_ok(lf__model_features(m, &feat, &dim));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, f_all, feat, sizeof f_all));
    const int first[2] = { 0, FIRST }, count[2] = { FIRST, ROWS - FIRST };
    for (int c = 0; c < 2; c++) {
        ck_assert_lf_ok(m->arch->forward(m, xd + first[c] * SZ, count[c], 0, zd));
        ck_assert_lf_ok(LF__BE(ctx, mem_download, z_part + first[c] * C, zd, (size_t)count[c] * C * sizeof(float)));
        ck_assert_lf_ok(lf__model_features(m, &feat, &dim));
        ck_assert_lf_ok(LF__BE(ctx, mem_download, f_part + first[c] * FEAT, feat,
                               (size_t)count[c] * FEAT * sizeof(float)));
    }
    for (int i = 0; i < ROWS * C; i++)
        ck_assert_msg(fabsf(z_all[i] - z_part[i]) <= 1e-5f * (1 + fabsf(z_part[i])), "logit %d: %g vs %g", i,
                      (double)z_all[i], (double)z_part[i]);
    int differ = 0;   /* counted: each Check assertion costs a write */
    for (int i = 0; i < ROWS * FEAT; i++)
        differ += !(fabsf(f_all[i] - f_part[i]) <= 1e-5f * (1 + fabsf(f_part[i])));
    ck_assert_msg(differ == 0, "%d features differ", differ);
    lf__nn_dev_free(ctx, xd);
    lf__nn_dev_free(ctx, zd);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

static Suite *gradcheck_suite(void)
{
    Suite *s = suite_create("resnet18_gradcheck");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, resnet18_gradients_match_finite_differences);
    tcase_add_test(tc, resnet18_eval_chunks_agree);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(gradcheck_suite)
