/* The attacker network's layers against an independent float64 implementation written here
 * (linear, layer norm, GELU, softmax attention, dropout with the masks regenerated from
 * core/rng.h's uniform_at, batch norm):
 *  - multi-head attention on two tokens by hand (one head and two heads);
 *  - forward outputs of attention, the encoder layer and the whole SAMIA attacker;
 *  - gradients against central differences of the float64 forward (loss Σ R ⊙ output with a
 *    fixed random R): every parameter and input of small attention and encoder layers (dropout
 *    off, and on with its masks fixed by the seed), and for the whole attacker (C = 2 classes,
 *    3 samples) every input u and up to K_PER_TENSOR elements of every parameter tensor, in
 *    train mode (batch statistics, dropout) and in eval mode (running statistics).
 * Pass rule: |analytic − numeric| <= 1e-4 + 1e-3·|numeric|. Runs on every backend built. */
#include "lf_test.h"
#include "core/nn/attacker_internal.h"

static const double H = 1e-6;
enum { K_PER_TENSOR = 8 };

static const lf_backend_kind backends[] = { LF_BACKEND_REFERENCE, LF_BACKEND_CPU };

static lf_context *ctx_for(int which)
{
    if (backends[which] == LF_BACKEND_CPU && !lf_backend_is_available(LF_BACKEND_CPU))
        return NULL;
    return lf_test_context(backends[which]);
}

/* ---- float64 reference ---- */

/* y[rows×out] = x·Wᵀ + b */
static void linear64(double *y, const double *x, const double *W, const double *b, int rows,
                     int in, int out)
{
    for (int r = 0; r < rows; r++)
        for (int o = 0; o < out; o++) {
            double a = b ? b[o] : 0;
            for (int i = 0; i < in; i++)
                a += x[r * in + i] * W[o * in + i];
            y[r * out + o] = a;
        }
}

static void layernorm64(double *y, const double *x, const double *g, const double *b, int rows, int d)
{
    for (int r = 0; r < rows; r++) {
        double m = 0, v = 0;
        for (int c = 0; c < d; c++)
            m += x[r * d + c];
        m /= d;
        for (int c = 0; c < d; c++)
            v += (x[r * d + c] - m) * (x[r * d + c] - m);
        double is = 1 / sqrt(v / d + 1e-5);
        for (int c = 0; c < d; c++)
            y[r * d + c] = (x[r * d + c] - m) * is * g[c] + b[c];
    }
}

static double gelu64(double x)
{
    return 0.5 * x * (1 + erf(x / sqrt(2.0)));
}

/* x ⊙= mask/(1 − p), the mask of draws offset.. (none when p == 0) */
static void dropout64(double *x, int n, float p, uint64_t seed, uint64_t offset)
{
    if (p == 0.0f)
        return;
    const double scale = 1.0f / (1.0f - p);
    for (int j = 0; j < n; j++)
        x[j] *= lf__rng_uniform_at(seed, LF__STREAM_DROPOUT, offset + (uint64_t)j) >= p ? scale : 0.0;
}

/* An encoder layer's parameters as one array, in PyTorch's order (the SAMIA block's too). */
typedef struct enc_offsets {
    int in_w, in_b, out_w, out_b, l1w, l1b, l2w, l2b, n1w, n1b, n2w, n2b, total;
} enc_offsets;

static enc_offsets enc_layout(int d, int ff)
{
    enc_offsets o;
    int at = 0;
    o.in_w = at, at += 3 * d * d;
    o.in_b = at, at += 3 * d;
    o.out_w = at, at += d * d;
    o.out_b = at, at += d;
    o.l1w = at, at += ff * d;
    o.l1b = at, at += ff;
    o.l2w = at, at += d * ff;
    o.l2b = at, at += d;
    o.n1w = at, at += d;
    o.n1b = at, at += d;
    o.n2w = at, at += d;
    o.n2b = at, at += d;
    o.total = at;
    return o;
}

typedef struct shape {
    int n, T, d, heads, ff;
} shape;

/* multi-head self-attention of x (n·T × d) into y; dropout on the probabilities at offset */
static void mha64(double *y, const double *x, const double *P, shape s, float p, uint64_t seed,
                  uint64_t offset)
{
    enc_offsets o = enc_layout(s.d, s.ff);
    const int rows = s.n * s.T, d = s.d, dh = d / s.heads;
    double *qkv = malloc(sizeof(double) * rows * 3 * d), *heads = malloc(sizeof(double) * rows * d);
    double *prob = malloc(sizeof(double) * s.n * s.heads * s.T * s.T);
    linear64(qkv, x, P + o.in_w, P + o.in_b, rows, d, 3 * d);
    for (int b = 0; b < s.n; b++)
        for (int h = 0; h < s.heads; h++) {
            double *pr = prob + (b * s.heads + h) * s.T * s.T;
            for (int i = 0; i < s.T; i++) {
                double mx = -INFINITY, sum = 0;
                for (int j = 0; j < s.T; j++) {
                    double a = 0;
                    for (int c = 0; c < dh; c++)
                        a += qkv[(b * s.T + i) * 3 * d + h * dh + c] * qkv[(b * s.T + j) * 3 * d + d + h * dh + c];
                    pr[i * s.T + j] = a / sqrt((double)dh);
                    mx = fmax(mx, pr[i * s.T + j]);
                }
                for (int j = 0; j < s.T; j++)
                    sum += pr[i * s.T + j] = exp(pr[i * s.T + j] - mx);
                for (int j = 0; j < s.T; j++)
                    pr[i * s.T + j] /= sum;
            }
        }
    dropout64(prob, s.n * s.heads * s.T * s.T, p, seed, offset);
    for (int b = 0; b < s.n; b++)
        for (int h = 0; h < s.heads; h++)
            for (int i = 0; i < s.T; i++)
                for (int c = 0; c < dh; c++) {
                    double a = 0;
                    for (int j = 0; j < s.T; j++)
                        a += prob[((b * s.heads + h) * s.T + i) * s.T + j] *
                             qkv[(b * s.T + j) * 3 * d + 2 * d + h * dh + c];
                    heads[(b * s.T + i) * d + h * dh + c] = a;
                }
    linear64(y, heads, P + o.out_w, P + o.out_b, rows, d, d);
    free(qkv), free(heads), free(prob);
}

static uint64_t enc_draws(shape s)
{
    return (uint64_t)(s.n * s.T) * (uint64_t)(s.heads * s.T + 2 * s.d + s.ff);
}

/* post-LN encoder layer, dropout sites in forward order from offset */
static void encoder64(double *y, const double *x, const double *P, shape s, float p, uint64_t seed,
                      uint64_t offset)
{
    enc_offsets o = enc_layout(s.d, s.ff);
    const int rows = s.n * s.T, nd = rows * s.d, nf = rows * s.ff;
    double *a = malloc(sizeof(double) * nd), *x1 = malloc(sizeof(double) * nd);
    double *f = malloc(sizeof(double) * nf), *r2 = malloc(sizeof(double) * nd);
    mha64(a, x, P, s, p, seed, offset);
    offset += (uint64_t)(s.n * s.heads * s.T * s.T);
    dropout64(a, nd, p, seed, offset);
    offset += (uint64_t)nd;
    for (int i = 0; i < nd; i++)
        a[i] += x[i];
    layernorm64(x1, a, P + o.n1w, P + o.n1b, rows, s.d);
    linear64(f, x1, P + o.l1w, P + o.l1b, rows, s.d, s.ff);
    for (int i = 0; i < nf; i++)
        f[i] = gelu64(f[i]);
    dropout64(f, nf, p, seed, offset);
    offset += (uint64_t)nf;
    linear64(r2, f, P + o.l2w, P + o.l2b, rows, s.ff, s.d);
    dropout64(r2, nd, p, seed, offset);
    for (int i = 0; i < nd; i++)
        r2[i] += x1[i];
    layernorm64(y, r2, P + o.n2w, P + o.n2b, rows, s.d);
    free(a), free(x1), free(f), free(r2);
}

/* ---- helpers over backend memory ---- */

static float *dev_floats(lf_context *ctx, size_t n)
{
    void *p = NULL;
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, &p, n ? n : 1, sizeof(float), 1, "test"));
    return p;
}

static void upload_d(lf_context *ctx, float *dev, const double *src, size_t n)
{
    float *h = malloc(n * sizeof *h);
    for (size_t i = 0; i < n; i++)
        h[i] = (float)src[i];
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, dev, h, n * sizeof *h));
    free(h);
}

static float *download(lf_context *ctx, const float *dev, size_t n)
{
    float *h = malloc(n * sizeof *h);
    ck_assert_lf_ok(LF__BE(ctx, mem_download, h, dev, n * sizeof *h));
    return h;
}

/* doubles uniform in [lo, hi), rounded to float (the values the library sees) */
static void fill_rounded(lf__rng *r, double *x, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(lo + (hi - lo) * lf__rng_uniform(r));
}

static double max_err_seen;

static void check_one(const char *what, size_t i, double a, double num)
{
    double err = fabs(a - num);
    max_err_seen = fmax(max_err_seen, err);
    ck_assert_msg(err <= 1e-4 + 1e-3 * fabs(num), "%s[%zu]: analytic %.9g, numeric %.9g", what, i, a, num);
}

/* ---- attention by hand ---- */

/* Two tokens a = (1, 0), b = (0, 1), in_proj = [I; I; I] (q = k = v = x), out_proj = I with
 * bias (0.1, −0.2): one head of dh = 2 gives softmax rows over ±a·b/√2, two heads of dh = 1
 * see one coordinate each. σ is the logistic function. */
START_TEST(attention_two_tokens_by_hand)
{
    lf_context *ctx = ctx_for(_i);
    if (!ctx)
        return;
    const int d = 2;
    enc_offsets o = enc_layout(d, 1);
    double P[64] = { 0 };
    for (int k = 0; k < 3; k++)
        for (int c = 0; c < d; c++)
            P[o.in_w + (k * d + c) * d + c] = 1;
    P[o.out_w + 0] = P[o.out_w + 3] = 1;
    P[o.out_b + 0] = 0.1, P[o.out_b + 1] = -0.2;
    const double x[4] = { 1, 0, 0, 1 };
    const double s1 = 1 / (1 + exp(-1 / sqrt(2.0))), s2 = 1 / (1 + exp(-1.0));
    const double want[2][4] = { { s1 + 0.1, 1 - s1 - 0.2, 1 - s1 + 0.1, s1 - 0.2 },
                                { s2 + 0.1, 0.5 - 0.2, 0.5 + 0.1, s2 - 0.2 } };
    float *par = dev_floats(ctx, (size_t)o.total), *xd = dev_floats(ctx, 4), *y = dev_floats(ctx, 4);
    float *act = dev_floats(ctx, 64);
    upload_d(ctx, par, P, (size_t)o.total);
    upload_d(ctx, xd, x, 4);
    for (int heads = 1; heads <= 2; heads++) {
        lf__mha L = { par + o.in_w, par + o.in_b, par + o.out_w, par + o.out_b, NULL, NULL, NULL,
                      NULL, d, heads };
        lf__mha_acts a = { act, act + 12, act + 20, act + 28 };
        lf__dropout_site off = { 0.0f, 0, 0 };
        ck_assert_lf_ok(lf__mha_fwd(ctx, &L, y, &a, xd, 1, 2, &off));
        float *yh = download(ctx, y, 4);
        double y64[4];
        mha64(y64, x, P, (shape){ 1, 2, d, heads, 1 }, 0.0f, 0, 0);
        for (int i = 0; i < 4; i++) {
            ck_assert_msg(fabs(yh[i] - want[heads - 1][i]) <= 1e-6, "%d heads: y[%d] %.9g, want %.9g",
                          heads, i, yh[i], want[heads - 1][i]);
            ck_assert(fabs(y64[i] - want[heads - 1][i]) <= 1e-12);
        }
        free(yh);
    }
    lf__nn_dev_free(ctx, par), lf__nn_dev_free(ctx, xd), lf__nn_dev_free(ctx, y), lf__nn_dev_free(ctx, act);
    lf_context_destroy(ctx);
}
END_TEST

/* ---- attention and encoder layers: every gradient ---- */

typedef struct layer_env {
    shape s;
    double *P, *x, *R;
    float p;
    int encoder;   /* else attention alone */
} layer_env;

static double layer_loss(const layer_env *e)
{
    const int nd = e->s.n * e->s.T * e->s.d;
    double *y = malloc(sizeof(double) * nd), loss = 0;
    if (e->encoder)
        encoder64(y, e->x, e->P, e->s, e->p, 77, 5);
    else
        mha64(y, e->x, e->P, e->s, e->p, 77, 5);
    for (int i = 0; i < nd; i++)
        loss += e->R[i] * y[i];
    free(y);
    return loss;
}

static double numeric_at(layer_env *e, double *v)
{
    double keep = *v;
    *v = keep + H;
    double up = layer_loss(e);
    *v = keep - H;
    double down = layer_loss(e);
    *v = keep;
    return (up - down) / (2 * H);
}

/* loop index: bit 0 backend, bit 1 dropout on, bit 2 whole encoder layer */
START_TEST(layer_gradcheck)
{
    lf_context *ctx = ctx_for(_i & 1);
    if (!ctx)
        return;
    layer_env e = { { 2, 3, 8, 2, 12 }, NULL, NULL, NULL, (_i & 2) ? 0.3f : 0.0f, (_i & 4) != 0 };
    const shape s = e.s;
    enc_offsets o = enc_layout(s.d, s.ff);
    const int nd = s.n * s.T * s.d;
    lf__rng r;
    lf__rng_init(&r, 21 + (uint64_t)_i, 0);
    e.P = malloc(sizeof(double) * o.total);
    e.x = malloc(sizeof(double) * nd);
    e.R = malloc(sizeof(double) * nd);
    fill_rounded(&r, e.P, (size_t)o.total, -0.5, 0.5);
    for (int c = 0; c < s.d; c++)   /* norm weights near 1 */
        e.P[o.n1w + c] += 1, e.P[o.n2w + c] += 1;
    fill_rounded(&r, e.x, (size_t)nd, -1, 1);
    fill_rounded(&r, e.R, (size_t)nd, -1, 1);

    float *par = dev_floats(ctx, (size_t)o.total), *grad = dev_floats(ctx, (size_t)o.total);
    float *xd = dev_floats(ctx, (size_t)nd), *dy = dev_floats(ctx, (size_t)nd), *dx = dev_floats(ctx, (size_t)nd);
    upload_d(ctx, par, e.P, (size_t)o.total);
    upload_d(ctx, xd, e.x, (size_t)nd);
    upload_d(ctx, dy, e.R, (size_t)nd);
    lf__encoder L = {
        { par + o.in_w, par + o.in_b, par + o.out_w, par + o.out_b, grad + o.in_w, grad + o.in_b,
          grad + o.out_w, grad + o.out_b, s.d, s.heads },
        { par + o.l1w, par + o.l1b, grad + o.l1w, grad + o.l1b, s.d, s.ff },
        { par + o.l2w, par + o.l2b, grad + o.l2w, grad + o.l2b, s.ff, s.d },
        { par + o.n1w, par + o.n1b, grad + o.n1w, grad + o.n1b, s.d },
        { par + o.n2w, par + o.n2b, grad + o.n2w, grad + o.n2b, s.d },
        s.d, s.ff
    };
    size_t na = lf__encoder_acts_floats(&L, s.n, s.T), ns = lf__encoder_scratch_floats(&L, s.n, s.T);
    float *ab = dev_floats(ctx, na), *sb = dev_floats(ctx, ns), *y = dev_floats(ctx, (size_t)nd);
    lf__encoder_acts a;
    lf__encoder_scratch sc;
    lf__encoder_acts_carve(&L, &a, ab, s.n, s.T);
    lf__encoder_scratch_carve(&L, &sc, sb, s.n, s.T);
    lf__dropout_site site = { e.p, 77, 5 };
    const float *out = e.encoder ? a.y : y;
    if (e.encoder) {
        ck_assert_lf_ok(lf__encoder_fwd(ctx, &L, &a, xd, s.n, s.T, e.p, 77, 5));
        ck_assert_lf_ok(lf__encoder_bwd(ctx, &L, dx, dy, &a, &sc, xd, s.n, s.T, e.p, 77, 5));
    } else {
        ck_assert_lf_ok(lf__mha_fwd(ctx, &L.attn, y, &a.attn, xd, s.n, s.T, &site));
        ck_assert_lf_ok(lf__mha_bwd(ctx, &L.attn, dx, dy, &a.attn, &sc.attn, xd, s.n, s.T, &site));
    }
    /* forward against float64 */
    float *yh = download(ctx, out, (size_t)nd);
    double *y64 = malloc(sizeof(double) * nd);
    if (e.encoder)
        encoder64(y64, e.x, e.P, s, e.p, 77, 5);
    else
        mha64(y64, e.x, e.P, s, e.p, 77, 5);
    for (int i = 0; i < nd; i++)
        ck_assert_msg(fabs(yh[i] - y64[i]) <= 1e-5 * (1 + fabs(y64[i])), "y[%d]: %.9g vs %.9g", i,
                      yh[i], y64[i]);
    /* gradients */
    float *gh = download(ctx, grad, (size_t)o.total), *dxh = download(ctx, dx, (size_t)nd);
    max_err_seen = 0;
    const int checked = e.encoder ? o.total : o.l1w;   /* attention alone: its four tensors */
    for (int i = 0; i < checked; i++)
        check_one("dparams", (size_t)i, gh[i], numeric_at(&e, &e.P[i]));
    for (int i = 0; i < nd; i++)
        check_one("dx", (size_t)i, dxh[i], numeric_at(&e, &e.x[i]));
    if (!e.encoder)
        for (int i = o.l1w; i < o.total; i++)
            ck_assert(gh[i] == 0.0f);
    fprintf(stderr, "# %s %s dropout %.1f: %d params + %d inputs, max |analytic - numeric| = %.3g\n",
            ctx->backend.iface->name, e.encoder ? "encoder" : "attention", (double)e.p, checked, nd,
            max_err_seen);
    free(yh), free(y64), free(gh), free(dxh), free(e.P), free(e.x), free(e.R);
    lf__nn_dev_free(ctx, par), lf__nn_dev_free(ctx, grad), lf__nn_dev_free(ctx, xd);
    lf__nn_dev_free(ctx, dy), lf__nn_dev_free(ctx, dx), lf__nn_dev_free(ctx, ab), lf__nn_dev_free(ctx, sb);
    lf__nn_dev_free(ctx, y);
    lf_context_destroy(ctx);
}
END_TEST

/* ---- the whole SAMIA attacker ---- */

enum { CLS = 2, NS = 3, U = 3 * CLS, TOK = NS * CLS };

typedef struct samia_env {
    const lf__samia *s;
    double *P;                 /* the params block */
    double run_mean[U], run_var[U];
    double u[NS * U], R[NS * 2];
    int train;
    uint64_t seed, step;
} samia_env;

static const double *tensor64(const samia_env *e, const char *name)
{
    const lf__tensor_desc *t = lf__samia_find_tensor(e->s, name);
    ck_assert_msg(t != NULL, "no tensor %s", name);
    return e->P + t->offset;
}

static void samia64(const samia_env *e, double *logits)
{
    const int d = LF__SAMIA_D;
    double bn[NS * U], tok[TOK * 3];
    const double *g = tensor64(e, "bn.weight"), *b = tensor64(e, "bn.bias");
    for (int c = 0; c < U; c++) {
        double m = 0, v = 0;
        if (e->train) {
            for (int i = 0; i < NS; i++)
                m += e->u[i * U + c];
            m /= NS;
            for (int i = 0; i < NS; i++)
                v += (e->u[i * U + c] - m) * (e->u[i * U + c] - m);
            v /= NS;
        } else {
            m = e->run_mean[c], v = e->run_var[c];
        }
        for (int i = 0; i < NS; i++)
            bn[i * U + c] = (e->u[i * U + c] - m) / sqrt(v + 1e-5) * g[c] + b[c];
    }
    for (int i = 0; i < NS; i++)   /* token c = (u[c], u[C + c], u[2C + c]) */
        for (int c = 0; c < CLS; c++)
            for (int k = 0; k < 3; k++)
                tok[(i * CLS + c) * 3 + k] = bn[i * U + k * CLS + c];
    double *x = malloc(sizeof(double) * TOK * d), *y = malloc(sizeof(double) * TOK * d), h[NS * 64];
    linear64(x, tok, tensor64(e, "embed.weight"), tensor64(e, "embed.bias"), TOK, 3, d);
    for (int i = 0; i < TOK * d; i++)
        x[i] = gelu64(x[i]);
    const shape s = { NS, CLS, d, LF__SAMIA_HEADS, LF__SAMIA_FF };
    const float p = e->train ? LF__SAMIA_DROPOUT : 0.0f;
    for (int l = 0; l < LF__SAMIA_LAYERS; l++) {
        char name[64];
        snprintf(name, sizeof name, "layers.%d.self_attn.in_proj_weight", l);
        encoder64(y, x, tensor64(e, name), s, p, e->seed, (e->step << 40) + (uint64_t)l * enc_draws(s));
        double *t = x;
        x = y;
        y = t;
    }
    linear64(h, x, tensor64(e, "fc1.weight"), tensor64(e, "fc1.bias"), NS, CLS * d, 64);
    for (int i = 0; i < NS * 64; i++)
        h[i] = fmax(h[i], 0);
    linear64(logits, h, tensor64(e, "fc2.weight"), tensor64(e, "fc2.bias"), NS, 64, 2);
    free(x), free(y);
}

static double samia_loss(const samia_env *e)
{
    double logits[NS * 2], loss = 0;
    samia64(e, logits);
    for (int i = 0; i < NS * 2; i++)
        loss += e->R[i] * logits[i];
    return loss;
}

static double samia_numeric(samia_env *e, double *v)
{
    double keep = *v;
    *v = keep + H;
    double up = samia_loss(e);
    *v = keep - H;
    double down = samia_loss(e);
    *v = keep;
    return (up - down) / (2 * H);
}

/* loop index: bit 0 backend, bit 1 eval mode (after one train-mode forward) */
START_TEST(samia_gradcheck)
{
    lf_context *ctx = ctx_for(_i & 1);
    if (!ctx)
        return;
    const int eval = (_i & 2) != 0;
    lf__samia *s = NULL;
    ck_assert_lf_ok(lf__samia_create(&s, ctx, CLS, 31));
    samia_env e = { s, NULL, { 0 }, { 0 }, { 0 }, { 0 }, 1, 4242, 3 };
    /* the default init, perturbed so biases and norms are not trivial */
    float *ph = download(ctx, s->params, s->n_params);
    lf__rng r;
    lf__rng_init(&r, 32, 0);
    e.P = malloc(sizeof(double) * s->n_params);
    for (size_t k = 0; k < s->n_params; k++)
        e.P[k] = (float)(ph[k] + 0.1 * (lf__rng_uniform(&r) - 0.5));
    upload_d(ctx, s->params, e.P, s->n_params);
    fill_rounded(&r, e.u, NS * U, -2, 2);
    fill_rounded(&r, e.R, NS * 2, -1, 1);
    float *u = dev_floats(ctx, NS * U), *logits = dev_floats(ctx, NS * 2), *dl = dev_floats(ctx, NS * 2);
    float *du = dev_floats(ctx, NS * U);
    upload_d(ctx, u, e.u, NS * U);
    upload_d(ctx, dl, e.R, NS * 2);
    ck_assert_lf_ok(lf__samia_forward(s, logits, u, NS, 1, e.seed, e.step));
    /* the running statistics after one train-mode batch (momentum 0.1, unbiased variance) */
    float *buf = download(ctx, s->buffers, s->n_buffers);
    const lf__tensor_desc *rm = lf__samia_find_tensor(s, "bn.running_mean");
    const lf__tensor_desc *rv = lf__samia_find_tensor(s, "bn.running_var");
    const lf__tensor_desc *nb = lf__samia_find_tensor(s, "bn.num_batches_tracked");
    for (int c = 0; c < U; c++) {
        double m = 0, v = 0;
        for (int i = 0; i < NS; i++)
            m += e.u[i * U + c];
        m /= NS;
        for (int i = 0; i < NS; i++)
            v += (e.u[i * U + c] - m) * (e.u[i * U + c] - m);
        ck_assert(fabs(buf[rm->offset + c] - 0.1 * m) <= 1e-6);
        ck_assert(fabs(buf[rv->offset + c] - (0.9 + 0.1 * v / (NS - 1))) <= 1e-6);
        e.run_mean[c] = buf[rm->offset + c];
        e.run_var[c] = buf[rv->offset + c];
    }
    ck_assert(buf[nb->offset] == 1.0f);
    if (eval) {
        e.train = 0;
        ck_assert_lf_ok(lf__samia_forward(s, logits, u, NS, 0, 0, 0));
    }
    ck_assert_lf_ok(lf__samia_zero_grads(s));
    ck_assert_lf_ok(lf__samia_backward(s, du, dl));
    /* forward against float64 */
    float *lh = download(ctx, logits, NS * 2);
    double l64[NS * 2];
    samia64(&e, l64);
    for (int i = 0; i < NS * 2; i++)
        ck_assert_msg(fabs(lh[i] - l64[i]) <= 1e-4 * (1 + fabs(l64[i])), "logits[%d]: %.9g vs %.9g",
                      i, lh[i], l64[i]);
    /* gradients: every input, K_PER_TENSOR spread elements of every parameter tensor */
    float *gh = download(ctx, s->grads, s->n_params), *duh = download(ctx, du, NS * U);
    max_err_seen = 0;
    for (int i = 0; i < NS * U; i++)
        check_one("du", (size_t)i, duh[i], samia_numeric(&e, &e.u[i]));
    double du_err = max_err_seen;
    int checked = 0;
    for (size_t t = 0; t < s->n_tensors; t++) {
        const lf__tensor_desc *td = &s->tensors[t];
        if (td->kind != LF__TENSOR_PARAM)
            continue;
        size_t k = td->numel < K_PER_TENSOR ? td->numel : K_PER_TENSOR;
        for (size_t j = 0; j < k; j++) {
            size_t at = td->offset + (k > 1 ? j * (td->numel - 1) / (k - 1) : 0);
            check_one(td->name, at - td->offset, gh[at], samia_numeric(&e, &e.P[at]));
            checked++;
        }
    }
    fprintf(stderr, "# %s samia %s: %d inputs (max err %.3g) + %d params, max |analytic - numeric| = %.3g\n",
            ctx->backend.iface->name, eval ? "eval" : "train", NS * U, du_err, checked, max_err_seen);
    free(ph), free(buf), free(lh), free(gh), free(duh), free(e.P);
    lf__nn_dev_free(ctx, u), lf__nn_dev_free(ctx, logits), lf__nn_dev_free(ctx, dl), lf__nn_dev_free(ctx, du);
    lf__samia_destroy(s);
    lf_context_destroy(ctx);
}
END_TEST

static Suite *attacker_gradcheck_suite(void)
{
    Suite *s = suite_create("attacker_gradcheck");
    TCase *tc = tcase_create("gradcheck");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, attention_two_tokens_by_hand, 0, 2);
    tcase_add_loop_test(tc, layer_gradcheck, 0, 8);
    tcase_add_loop_test(tc, samia_gradcheck, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(attacker_gradcheck_suite)
