/* Gradient checks of the convolutional-model kernels (conv2d, batchnorm, max pooling, global
 * average pooling, a residual connection): the float kernels' forward against a float64
 * forward written here, and their backward against central finite differences of that float64
 * forward. The scalar loss is L = Σ R ⊙ f(inputs) with a fixed random R (the upstream
 * gradient). Pass rule: |analytic − numeric| ≤ 1e-4 + 1e-3·|numeric|. Runs on the reference
 * backend and, when built, the cpu backend. */
#include "lf_test.h"
#include "core/internal.h"
#include "core/rng.h"

static const double H = 1e-6;   /* central-difference step, in double */

static const lf__backend_iface *backend_at(int which)
{
    return which == 0 ? lf__backend_reference_iface() : lf__backend_cpu_iface();
}

/* A backend instance for the duration of one test (the cpu backend has state). */
typedef struct be_inst {
    const lf__backend_iface *be;
    void *priv;
} be_inst;

static int be_open(be_inst *b, int which)
{
    b->be = backend_at(which);
    b->priv = NULL;
    if (!b->be)
        return 0;   /* cpu backend not built */
    lf__backend_config cfg = {.threads = 2};
    ck_assert_int_eq(b->be->create(&b->priv, &cfg), LF_OK);
    return 1;
}

static void be_close(be_inst *b)
{
    b->be->destroy(b->priv);
}

static void check_close(const char *what, const float *got, const double *want, int64_t n,
                        double abs_tol, double rel_tol)
{
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= abs_tol + rel_tol * fabs(want[i]),
                      "%s[%lld]: got %.9g, want %.9g", what, (long long)i, got[i], want[i]);
}

static void check_grad(const char *what, const float *analytic, const double *numeric, int64_t n)
{
    check_close(what, analytic, numeric, n, 1e-4, 1e-3);
}

static void fill(lf__rng *r, float *x, int64_t n, double lo, double hi)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(lo + (hi - lo) * lf__rng_uniform(r));
}

static double *to_double(const float *src, int64_t n)
{
    double *d = malloc((size_t)n * sizeof *d);
    ck_assert_ptr_nonnull(d);
    for (int64_t i = 0; i < n; i++)
        d[i] = src[i];
    return d;
}

static float *falloc(int64_t n)
{
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* Central differences of L = Σ r ⊙ f(env) over each element of p; f writes its output to out. */
typedef void (*forward_fn)(const void *env, double *out);
static void numeric_grad(double *grad, double *p, int64_t n, forward_fn f, const void *env,
                         const double *r, int64_t n_out)
{
    double *out = malloc((size_t)n_out * sizeof *out);
    ck_assert_ptr_nonnull(out);
    for (int64_t i = 0; i < n; i++) {
        double keep = p[i], up = 0, down = 0;
        p[i] = keep + H;
        f(env, out);
        for (int64_t k = 0; k < n_out; k++)
            up += r[k] * out[k];
        p[i] = keep - H;
        f(env, out);
        for (int64_t k = 0; k < n_out; k++)
            down += r[k] * out[k];
        p[i] = keep;
        grad[i] = (up - down) / (2 * H);
    }
    free(out);
}

/* ---- conv2d ---- */

typedef struct conv_env {
    lf__conv2d_shape s;
    double *x, *w, *b;   /* b NULL: no bias */
} conv_env;

static void conv_forward(const void *p, double *y)
{
    const conv_env *e = p;
    const lf__conv2d_shape *s = &e->s;
    for (int64_t n = 0; n < s->n; n++)
        for (int64_t o = 0; o < s->c_out; o++)
            for (int64_t oh = 0; oh < s->h_out; oh++)
                for (int64_t ow = 0; ow < s->w_out; ow++) {
                    double acc = e->b ? e->b[o] : 0;
                    for (int64_t c = 0; c < s->c_in; c++)
                        for (int64_t i = 0; i < s->kh; i++)
                            for (int64_t j = 0; j < s->kw; j++) {
                                int64_t ih = oh * s->stride - s->pad + i;
                                int64_t iw = ow * s->stride - s->pad + j;
                                if (ih >= 0 && ih < s->h_in && iw >= 0 && iw < s->w_in)
                                    acc += e->x[((n * s->c_in + c) * s->h_in + ih) * s->w_in + iw] *
                                           e->w[((o * s->c_in + c) * s->kh + i) * s->kw + j];
                            }
                    y[((n * s->c_out + o) * s->h_out + oh) * s->w_out + ow] = acc;
                }
}

static lf__conv2d_shape conv_shape(int64_t n, int64_t c_in, int64_t h, int64_t w, int64_t c_out,
                                   int64_t kh, int64_t kw, int64_t stride, int64_t pad)
{
    lf__conv2d_shape s = {.n = n, .c_in = c_in, .h_in = h, .w_in = w, .c_out = c_out, .kh = kh,
                          .kw = kw, .stride = stride, .pad = pad};
    s.h_out = (h + 2 * pad - kh) / stride + 1;
    s.w_out = (w + 2 * pad - kw) / stride + 1;
    return s;
}

static const struct {
    int64_t n, c_in, h, w, c_out, kh, kw, stride, pad;
    int bias;
} conv_cases[] = {
    {2, 3, 7, 5, 4, 3, 3, 1, 1, 1},   /* odd sizes, same padding, bias */
    {2, 2, 6, 6, 3, 3, 3, 2, 1, 0},   /* stride 2 (the ResNet downsampling conv) */
    {1, 1, 5, 7, 2, 2, 3, 2, 0, 1},   /* non-square kernel, no padding, a dropped border */
    {2, 3, 4, 4, 5, 1, 1, 2, 0, 0},   /* 1×1 stride-2 shortcut */
    {1, 2, 9, 8, 3, 3, 3, 3, 2, 1},   /* stride 3, padding 2 */
};

START_TEST(conv2d_gradients)
{
    be_inst b;
    if (!be_open(&b, _i / 5))
        return;
    const int which = _i % 5;
    lf__conv2d_shape s = conv_shape(conv_cases[which].n, conv_cases[which].c_in,
                                    conv_cases[which].h, conv_cases[which].w,
                                    conv_cases[which].c_out, conv_cases[which].kh,
                                    conv_cases[which].kw, conv_cases[which].stride,
                                    conv_cases[which].pad);
    const int64_t nx = s.n * s.c_in * s.h_in * s.w_in, nw = s.c_out * s.c_in * s.kh * s.kw,
                  ny = s.n * s.c_out * s.h_out * s.w_out;
    lf__rng rng;
    lf__rng_init(&rng, 100 + (uint64_t)which, 0);
    float *x = falloc(nx), *w = falloc(nw), *bias = falloc(s.c_out), *y = falloc(ny),
          *dy = falloc(ny), *dx = falloc(nx), *dw = falloc(nw), *db = falloc(s.c_out);
    fill(&rng, x, nx, -1, 1);
    fill(&rng, w, nw, -1, 1);
    fill(&rng, bias, s.c_out, -1, 1);
    fill(&rng, dy, ny, -1, 1);
    const int has_bias = conv_cases[which].bias;

    ck_assert_lf_ok(b.be->conv2d_fwd(b.priv, y, x, w, has_bias ? bias : NULL, &s));
    /* dw and db accumulate: start them at known non-zero values and subtract afterwards */
    for (int64_t i = 0; i < nw; i++)
        dw[i] = 0.25f;
    for (int64_t i = 0; i < s.c_out; i++)
        db[i] = -0.5f;
    for (int64_t i = 0; i < nx; i++)
        dx[i] = NAN;   /* overwritten */
    ck_assert_lf_ok(b.be->conv2d_bwd_weights(b.priv, dw, has_bias ? db : NULL, dy, x, &s));
    ck_assert_lf_ok(b.be->conv2d_bwd_data(b.priv, dx, dy, w, &s));
    for (int64_t i = 0; i < nw; i++)
        dw[i] -= 0.25f;
    for (int64_t i = 0; i < s.c_out; i++)
        db[i] += 0.5f;

    conv_env e = {.s = s, .x = to_double(x, nx), .w = to_double(w, nw),
                  .b = has_bias ? to_double(bias, s.c_out) : NULL};
    double *r = to_double(dy, ny), *want = malloc((size_t)ny * sizeof(double));
    double *gx = malloc((size_t)nx * sizeof(double)), *gw = malloc((size_t)nw * sizeof(double)),
           *gb = malloc((size_t)s.c_out * sizeof(double));
    conv_forward(&e, want);
    check_close("y", y, want, ny, 1e-5, 1e-5);
    numeric_grad(gx, e.x, nx, conv_forward, &e, r, ny);
    numeric_grad(gw, e.w, nw, conv_forward, &e, r, ny);
    check_grad("dx", dx, gx, nx);
    check_grad("dw", dw, gw, nw);
    if (has_bias) {
        numeric_grad(gb, e.b, s.c_out, conv_forward, &e, r, ny);
        check_grad("dbias", db, gb, s.c_out);
    } else {
        for (int64_t i = 0; i < s.c_out; i++)
            ck_assert_msg(db[i] == 0.0f, "dbias touched without a bias");
    }
    free(e.x), free(e.w), free(e.b), free(r), free(want), free(gx), free(gw), free(gb);
    free(x), free(w), free(bias), free(y), free(dy), free(dx), free(dw), free(db);
    be_close(&b);
}
END_TEST

START_TEST(conv2d_rejects_bad_shapes)
{
    be_inst b;
    if (!be_open(&b, _i))
        return;
    float buf[64] = {0};
    lf__conv2d_shape s = conv_shape(1, 1, 4, 4, 1, 3, 3, 1, 0);
    s.h_out = 3;   /* inconsistent with the formula (2) */
    ck_assert_lf_status(b.be->conv2d_fwd(b.priv, buf, buf, buf, NULL, &s), LF_E_SHAPE);
    s = conv_shape(1, 1, 2, 2, 1, 5, 5, 1, 0);   /* kernel larger than the input */
    ck_assert_lf_status(b.be->conv2d_bwd_data(b.priv, buf, buf, buf, &s), LF_E_SHAPE);
    s = conv_shape(1, 1, 4, 4, 1, 3, 3, 1, 0);
    s.stride = 0;
    ck_assert_lf_status(b.be->conv2d_bwd_weights(b.priv, buf, NULL, buf, buf, &s), LF_E_SHAPE);
    be_close(&b);
}
END_TEST

/* ---- batch norm (train mode) ---- */

enum { BN_N = 4, BN_C = 3 };

typedef struct bn_env {
    int64_t s;
    double *x, gamma[BN_C], beta[BN_C];
} bn_env;

static void bn_forward(const void *p, double *y)
{
    const bn_env *e = p;
    const double eps = 1e-5, count = (double)(BN_N * e->s);
    for (int c = 0; c < BN_C; c++) {
        double mean = 0, var = 0;
        for (int n = 0; n < BN_N; n++)
            for (int64_t k = 0; k < e->s; k++)
                mean += e->x[(n * BN_C + c) * e->s + k];
        mean /= count;
        for (int n = 0; n < BN_N; n++)
            for (int64_t k = 0; k < e->s; k++)
                var += pow(e->x[(n * BN_C + c) * e->s + k] - mean, 2);
        var /= count;
        for (int n = 0; n < BN_N; n++)
            for (int64_t k = 0; k < e->s; k++) {
                int64_t at = (n * BN_C + c) * e->s + k;
                y[at] = (e->x[at] - mean) / sqrt(var + eps) * e->gamma[c] + e->beta[c];
            }
    }
}

START_TEST(batchnorm_train_gradients_and_running_stats)
{
    be_inst b;
    if (!be_open(&b, _i / 2))
        return;
    const int64_t s = _i % 2 ? 1 : 15;   /* BatchNorm1d and a 5×3 BatchNorm2d */
    const int64_t nx = BN_N * BN_C * s;
    lf__rng rng;
    lf__rng_init(&rng, 200 + (uint64_t)s, 0);
    float *x = falloc(nx), *y = falloc(nx), *dy = falloc(nx), *dx = falloc(nx);
    float gamma[BN_C], beta[BN_C], mean[BN_C], invstd[BN_C], dgamma[BN_C], dbeta[BN_C];
    float rmean[BN_C] = {0.5f, -1.0f, 0.0f}, rvar[BN_C] = {1.0f, 2.0f, 0.5f};
    fill(&rng, x, nx, -2, 3);
    fill(&rng, gamma, BN_C, 0.5, 1.5);
    fill(&rng, beta, BN_C, -1, 1);
    fill(&rng, dy, nx, -1, 1);
    for (int c = 0; c < BN_C; c++)
        dgamma[c] = 1.0f, dbeta[c] = -1.0f;

    ck_assert_lf_ok(b.be->batchnorm_fwd_train(b.priv, y, mean, invstd, rmean, rvar, x, gamma,
                                              beta, BN_N, BN_C, s, 0.1f, 1e-5f));
    ck_assert_lf_ok(b.be->batchnorm_bwd(b.priv, dx, dgamma, dbeta, dy, x, gamma, mean, invstd,
                                        BN_N, BN_C, s));
    for (int c = 0; c < BN_C; c++)
        dgamma[c] -= 1.0f, dbeta[c] += 1.0f;

    bn_env e = {.s = s, .x = to_double(x, nx)};
    for (int c = 0; c < BN_C; c++)
        e.gamma[c] = gamma[c], e.beta[c] = beta[c];
    double *r = to_double(dy, nx), *want = malloc((size_t)nx * sizeof(double)),
           *gx = malloc((size_t)nx * sizeof(double)), gg[BN_C], gb[BN_C];
    bn_forward(&e, want);
    check_close("y", y, want, nx, 1e-5, 1e-5);
    numeric_grad(gx, e.x, nx, bn_forward, &e, r, nx);
    numeric_grad(gg, e.gamma, BN_C, bn_forward, &e, r, nx);
    numeric_grad(gb, e.beta, BN_C, bn_forward, &e, r, nx);
    check_grad("dx", dx, gx, nx);
    check_grad("dgamma", dgamma, gg, BN_C);
    check_grad("dbeta", dbeta, gb, BN_C);

    /* running stats: 0.9·old + 0.1·batch, the variance unbiased (n·s/(n·s − 1)) */
    const double old_mean[BN_C] = {0.5, -1.0, 0.0}, old_var[BN_C] = {1.0, 2.0, 0.5};
    const double count = (double)(BN_N * s);
    for (int c = 0; c < BN_C; c++) {
        double m = 0, v = 0;
        for (int n = 0; n < BN_N; n++)
            for (int64_t k = 0; k < s; k++)
                m += e.x[(n * BN_C + c) * s + k];
        m /= count;
        for (int n = 0; n < BN_N; n++)
            for (int64_t k = 0; k < s; k++)
                v += pow(e.x[(n * BN_C + c) * s + k] - m, 2);
        double want_rm = 0.9 * old_mean[c] + 0.1 * m,
               want_rv = 0.9 * old_var[c] + 0.1 * v / (count - 1);
        ck_assert_msg(fabs(rmean[c] - want_rm) <= 1e-6 + 1e-5 * fabs(want_rm),
                      "running_mean[%d] = %.9g, want %.9g", c, rmean[c], want_rm);
        ck_assert_msg(fabs(rvar[c] - want_rv) <= 1e-6 + 1e-5 * fabs(want_rv),
                      "running_var[%d] = %.9g, want %.9g", c, rvar[c], want_rv);
        ck_assert_msg(fabs(mean[c] - m) <= 1e-6 && fabs(invstd[c] - 1 / sqrt(v / count + 1e-5)) <=
                                                       1e-5 / sqrt(v / count + 1e-5),
                      "saved statistics of channel %d", c);
    }
    free(e.x), free(r), free(want), free(gx), free(x), free(y), free(dy), free(dx);
    be_close(&b);
}
END_TEST

START_TEST(batchnorm_eval_uses_running_stats)
{
    be_inst b;
    if (!be_open(&b, _i))
        return;
    /* hand-computed: (x − 1)/sqrt(4 + 1e-5)·2 + 0.5 */
    const float x[4] = {1.0f, 3.0f, -1.0f, 5.0f}, gamma[1] = {2.0f}, beta[1] = {0.5f},
                rm[1] = {1.0f}, rv[1] = {4.0f};
    float y[4];
    ck_assert_lf_ok(b.be->batchnorm_fwd_eval(b.priv, y, x, gamma, beta, rm, rv, 2, 1, 2, 1e-5f));
    for (int i = 0; i < 4; i++) {
        double want = (x[i] - 1.0) / sqrt(4.0 + 1e-5) * 2.0 + 0.5;
        ck_assert_msg(fabs(y[i] - want) <= 1e-6, "y[%d] = %.9g, want %.9g", i, y[i], want);
    }
    /* one value per channel has no batch variance: refused in training, as in PyTorch */
    float m[1], is[1];
    ck_assert_lf_status(b.be->batchnorm_fwd_train(b.priv, y, m, is, NULL, NULL, x, gamma, beta, 1,
                                                  1, 1, 0.1f, 1e-5f),
                        LF_E_SHAPE);
    be_close(&b);
}
END_TEST

/* ---- max pooling ---- */

typedef struct pool_env {
    int64_t n, c, h, w, k;
    double *x;
} pool_env;

static void maxpool_forward(const void *p, double *y)
{
    const pool_env *e = p;
    const int64_t ho = e->h / e->k, wo = e->w / e->k;
    for (int64_t pl = 0; pl < e->n * e->c; pl++)
        for (int64_t oh = 0; oh < ho; oh++)
            for (int64_t ow = 0; ow < wo; ow++) {
                double best = -INFINITY;
                for (int64_t i = 0; i < e->k; i++)
                    for (int64_t j = 0; j < e->k; j++)
                        best = fmax(best, e->x[pl * e->h * e->w + (oh * e->k + i) * e->w +
                                               ow * e->k + j]);
                y[(pl * ho + oh) * wo + ow] = best;
            }
}

START_TEST(maxpool_gradients)
{
    be_inst b;
    if (!be_open(&b, _i / 2))
        return;
    /* 2×2 on an odd 5×7 input (the last row and column are dropped), and 3×3 on 6×6 */
    pool_env e = {.n = 2, .c = 3, .h = _i % 2 ? 6 : 5, .w = _i % 2 ? 6 : 7, .k = _i % 2 ? 3 : 2};
    const int64_t nx = e.n * e.c * e.h * e.w, ny = e.n * e.c * (e.h / e.k) * (e.w / e.k);
    float *x = falloc(nx), *y = falloc(ny), *dy = falloc(ny), *dx = falloc(nx);
    int32_t *idx = malloc((size_t)ny * sizeof *idx);
    /* a shuffled ramp: distinct values 0.01 apart, so ±H never changes a window's maximum */
    for (int64_t i = 0; i < nx; i++)
        x[i] = (float)(((i * 37) % nx) * 0.01);
    lf__rng rng;
    lf__rng_init(&rng, 300, 0);
    fill(&rng, dy, ny, -1, 1);
    ck_assert_lf_ok(b.be->maxpool2d_fwd(b.priv, y, idx, x, e.n, e.c, e.h, e.w, e.k));
    ck_assert_lf_ok(b.be->maxpool2d_bwd(b.priv, dx, dy, idx, e.n, e.c, e.h, e.w, e.k));
    e.x = to_double(x, nx);
    double *r = to_double(dy, ny), *want = malloc((size_t)ny * sizeof(double)),
           *gx = malloc((size_t)nx * sizeof(double));
    maxpool_forward(&e, want);
    check_close("y", y, want, ny, 0, 0);
    numeric_grad(gx, e.x, nx, maxpool_forward, &e, r, ny);
    check_grad("dx", dx, gx, nx);
    /* eval mode: no index workspace */
    ck_assert_lf_ok(b.be->maxpool2d_fwd(b.priv, y, NULL, x, e.n, e.c, e.h, e.w, e.k));
    check_close("y (no idx)", y, want, ny, 0, 0);
    free(e.x), free(r), free(want), free(gx), free(x), free(y), free(dy), free(dx), free(idx);
    be_close(&b);
}
END_TEST

START_TEST(maxpool_ties_pick_the_first_maximum)
{
    be_inst b;
    if (!be_open(&b, _i))
        return;
    const float x[4] = {2.0f, 2.0f, 2.0f, 1.0f}, dy[1] = {3.0f};
    float y[1], dx[4];
    int32_t idx[1];
    ck_assert_lf_ok(b.be->maxpool2d_fwd(b.priv, y, idx, x, 1, 1, 2, 2, 2));
    ck_assert_lf_ok(b.be->maxpool2d_bwd(b.priv, dx, dy, idx, 1, 1, 2, 2, 2));
    ck_assert_float_eq(y[0], 2.0f);
    ck_assert_float_eq(dx[0], 3.0f);
    ck_assert_float_eq(dx[1] + dx[2] + dx[3], 0.0f);
    be_close(&b);
}
END_TEST

/* ---- global average pooling ---- */

static void avgpool_forward(const void *p, double *y)
{
    const pool_env *e = p;
    const int64_t s = e->h * e->w;
    for (int64_t pl = 0; pl < e->n * e->c; pl++) {
        double sum = 0;
        for (int64_t k = 0; k < s; k++)
            sum += e->x[pl * s + k];
        y[pl] = sum / (double)s;
    }
}

START_TEST(avgpool_gradients)
{
    be_inst b;
    if (!be_open(&b, _i))
        return;
    pool_env e = {.n = 3, .c = 4, .h = 3, .w = 5};
    const int64_t s = e.h * e.w, nx = e.n * e.c * s, ny = e.n * e.c;
    float *x = falloc(nx), *y = falloc(ny), *dy = falloc(ny), *dx = falloc(nx);
    lf__rng rng;
    lf__rng_init(&rng, 400, 0);
    fill(&rng, x, nx, -1, 1);
    fill(&rng, dy, ny, -1, 1);
    ck_assert_lf_ok(b.be->avgpool_global_fwd(b.priv, y, x, e.n, e.c, s));
    ck_assert_lf_ok(b.be->avgpool_global_bwd(b.priv, dx, dy, e.n, e.c, s));
    e.x = to_double(x, nx);
    double *r = to_double(dy, ny), *want = malloc((size_t)ny * sizeof(double)),
           *gx = malloc((size_t)nx * sizeof(double));
    avgpool_forward(&e, want);
    check_close("y", y, want, ny, 1e-6, 1e-6);
    numeric_grad(gx, e.x, nx, avgpool_forward, &e, r, ny);
    check_grad("dx", dx, gx, nx);
    free(e.x), free(r), free(want), free(gx), free(x), free(y), free(dy), free(dx);
    be_close(&b);
}
END_TEST

/* ---- residual: y = conv(x) + x, backward dx = conv_bwd_data(dy) + dy (axpby) ---- */

static void residual_forward(const void *p, double *y)
{
    const conv_env *e = p;
    const int64_t n = e->s.n * e->s.c_in * e->s.h_in * e->s.w_in;
    conv_forward(e, y);
    for (int64_t i = 0; i < n; i++)
        y[i] += e->x[i];
}

START_TEST(residual_gradients)
{
    be_inst b;
    if (!be_open(&b, _i))
        return;
    lf__conv2d_shape s = conv_shape(2, 3, 5, 4, 3, 3, 3, 1, 1);
    const int64_t nx = s.n * s.c_in * s.h_in * s.w_in, nw = s.c_out * s.c_in * 9;
    lf__rng rng;
    lf__rng_init(&rng, 500, 0);
    float *x = falloc(nx), *w = falloc(nw), *y = falloc(nx), *dy = falloc(nx), *dx = falloc(nx);
    fill(&rng, x, nx, -1, 1);
    fill(&rng, w, nw, -1, 1);
    fill(&rng, dy, nx, -1, 1);
    ck_assert_lf_ok(b.be->conv2d_fwd(b.priv, y, x, w, NULL, &s));
    ck_assert_lf_ok(b.be->axpby(b.priv, y, 1.0f, x, 1.0f, nx));
    ck_assert_lf_ok(b.be->conv2d_bwd_data(b.priv, dx, dy, w, &s));
    ck_assert_lf_ok(b.be->axpby(b.priv, dx, 1.0f, dy, 1.0f, nx));
    conv_env e = {.s = s, .x = to_double(x, nx), .w = to_double(w, nw)};
    double *r = to_double(dy, nx), *want = malloc((size_t)nx * sizeof(double)),
           *gx = malloc((size_t)nx * sizeof(double));
    residual_forward(&e, want);
    check_close("y", y, want, nx, 1e-5, 1e-5);
    numeric_grad(gx, e.x, nx, residual_forward, &e, r, nx);
    check_grad("dx", dx, gx, nx);
    free(e.x), free(e.w), free(r), free(want), free(gx), free(x), free(w), free(y), free(dy),
        free(dx);
    be_close(&b);
}
END_TEST

START_TEST(apply_mask_zeroes_masked)
{
    be_inst b;
    if (!be_open(&b, _i))
        return;
    float x[5] = {1, -2, 3, -4, 5};
    const uint8_t m[5] = {1, 0, 1, 0, 2};
    ck_assert_lf_ok(b.be->apply_mask(b.priv, x, m, 5));
    const float want[5] = {1, 0, 3, 0, 5};
    for (int i = 0; i < 5; i++)
        ck_assert_float_eq(x[i], want[i]);
    be_close(&b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("conv_gradcheck");
    TCase *tc = tcase_create("gradcheck");
    /* loop index: backend (0 reference, 1 cpu) × case */
    tcase_add_loop_test(tc, conv2d_gradients, 0, 10);
    tcase_add_loop_test(tc, conv2d_rejects_bad_shapes, 0, 2);
    tcase_add_loop_test(tc, batchnorm_train_gradients_and_running_stats, 0, 4);
    tcase_add_loop_test(tc, batchnorm_eval_uses_running_stats, 0, 2);
    tcase_add_loop_test(tc, maxpool_gradients, 0, 4);
    tcase_add_loop_test(tc, maxpool_ties_pick_the_first_maximum, 0, 2);
    tcase_add_loop_test(tc, avgpool_gradients, 0, 2);
    tcase_add_loop_test(tc, residual_gradients, 0, 2);
    tcase_add_loop_test(tc, apply_mask_zeroes_masked, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(suite)
