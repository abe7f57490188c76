/* The backend ops of the attacker network (version 4 of the table), on every host backend built:
 *  - layer norm against a float64 hand computation, GELU against PyTorch's values;
 *  - layer norm, GELU and softmax backward against central differences of float64 forwards
 *    written here (loss Σ R ⊙ f(x) with a fixed random R; pass |a − n| <= 1e-5 + 1e-4·|n|);
 *  - dropout: the mask is uniform_at >= p, reproducible from (seed, stream, offset), the keep
 *    fraction is 1 − p, kept values are scaled by 1/(1 − p), p = 0 / 1 / out of range;
 *  - the batched transpose;
 *  - Adam against three steps of torch.optim.Adam (torch 1.13, lr 0.01, bias correction). */
#include "lf_test.h"
#include "core/internal.h"
#include "core/rng.h"

static const double H = 1e-6;

static const lf__backend_iface *be;
static void *priv;

/* loop index 0: reference, 1: cpu (skipped inside the test when not built) */
static int use_backend(int which)
{
    be = which == 0 ? lf__backend_reference_iface() : lf__backend_cpu_iface();
    if (!be)
        return 0;
    lf__backend_config cfg = { .threads = 1 };
    ck_assert_lf_ok(be->create(&priv, &cfg));
    return 1;
}

static void done_backend(void)
{
    be->destroy(priv);
}

static double max_err_seen;   /* the largest |analytic − numeric| of a test, for the log */

static void check_grad(const char *what, const float *analytic, const double *numeric, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        double a = analytic[i], num = numeric[i], err = fabs(a - num);
        max_err_seen = fmax(max_err_seen, err);
        ck_assert_msg(err <= 1e-5 + 1e-4 * fabs(num), "%s %s[%lld]: analytic %.9g, numeric %.9g",
                      be->name, what, (long long)i, a, num);
    }
}

static void fill(lf__rng *r, float *x, int64_t n, double lo, double hi)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(lo + (hi - lo) * lf__rng_uniform(r));
}

/* ---- layer norm ---- */

enum { LR = 3, LC = 5 };

typedef struct ln_env {
    double x[LR * LC], g[LC], b[LC], r[LR * LC];
} ln_env;

static void ln_ref(const ln_env *e, double *y, double *mean, double *invstd)
{
    for (int i = 0; i < LR; i++) {
        double m = 0, v = 0;
        for (int c = 0; c < LC; c++)
            m += e->x[i * LC + c];
        m /= LC;
        for (int c = 0; c < LC; c++)
            v += (e->x[i * LC + c] - m) * (e->x[i * LC + c] - m);
        double is = 1 / sqrt(v / LC + 1e-5);
        for (int c = 0; c < LC; c++)
            y[i * LC + c] = (e->x[i * LC + c] - m) * is * e->g[c] + e->b[c];
        if (mean)
            mean[i] = m, invstd[i] = is;
    }
}

static double ln_loss(ln_env *e)
{
    double y[LR * LC], loss = 0;
    ln_ref(e, y, NULL, NULL);
    for (int i = 0; i < LR * LC; i++)
        loss += e->r[i] * y[i];
    return loss;
}

static void numeric(double *grad, double *p, int64_t n, ln_env *e)
{
    for (int64_t i = 0; i < n; i++) {
        double keep = p[i];
        p[i] = keep + H;
        double up = ln_loss(e);
        p[i] = keep - H;
        double down = ln_loss(e);
        p[i] = keep;
        grad[i] = (up - down) / (2 * H);
    }
}

START_TEST(layernorm_forward_by_hand)
{
    if (!use_backend(_i))
        return;
    /* row 0 = 1 2 3 4: mean 2.5, biased variance 1.25; row 1 constant: variance 0, y = beta */
    const float x[8] = { 1, 2, 3, 4, 7, 7, 7, 7 };
    const float gamma[4] = { 1.0f, 2.0f, 0.5f, -1.0f }, beta[4] = { 0.0f, 0.1f, -0.2f, 0.3f };
    float y[8], mean[2], invstd[2];
    ck_assert_lf_ok(be->layernorm_fwd(priv, y, mean, invstd, x, gamma, beta, 2, 4, 1e-5f));
    const double is0 = 1 / sqrt(1.25 + 1e-5), is1 = 1 / sqrt(1e-5);
    const double want0[4] = { -1.5 * is0 * 1 + 0, -0.5 * is0 * 2 + 0.1, 0.5 * is0 * 0.5 - 0.2,
                              1.5 * is0 * -1 + 0.3 };
    for (int c = 0; c < 4; c++) {
        ck_assert_msg(fabs(y[c] - want0[c]) <= 1e-6 * fabs(want0[c]) + 1e-7, "y[%d] %.9g vs %.9g", c,
                      y[c], want0[c]);
        ck_assert_msg(fabs(y[4 + c] - beta[c]) <= 1e-7, "constant row: y %.9g vs beta %.9g", y[4 + c], beta[c]);
    }
    ck_assert(fabs(mean[0] - 2.5) <= 1e-7 && fabs(mean[1] - 7.0) <= 1e-6);
    ck_assert(fabs(invstd[0] - is0) <= 1e-6 * is0 && fabs(invstd[1] - is1) <= 1e-6 * is1);
    /* y may not be x is not enforced, but bad shapes are rejected */
    ck_assert_lf_status(be->layernorm_fwd(priv, y, mean, invstd, x, gamma, beta, 2, -4, 1e-5f),
                        LF_E_INVALID_ARG);
    ck_assert_lf_status(be->layernorm_fwd(priv, y, mean, invstd, x, NULL, beta, 2, 4, 1e-5f),
                        LF_E_INVALID_ARG);
    done_backend();
}
END_TEST

START_TEST(layernorm_gradcheck)
{
    if (!use_backend(_i))
        return;
    lf__rng r;
    lf__rng_init(&r, 11, 0);
    float x[LR * LC], g[LC], b[LC], rr[LR * LC];
    fill(&r, x, LR * LC, -2, 2);
    fill(&r, g, LC, 0.5, 1.5);
    fill(&r, b, LC, -0.5, 0.5);
    fill(&r, rr, LR * LC, -1, 1);
    ln_env e;
    for (int i = 0; i < LR * LC; i++)
        e.x[i] = x[i], e.r[i] = rr[i];
    for (int c = 0; c < LC; c++)
        e.g[c] = g[c], e.b[c] = b[c];
    float y[LR * LC], stats[2 * LR], dx[LR * LC], dg[LC], db[LC];
    ck_assert_lf_ok(be->layernorm_fwd(priv, y, stats, stats + LR, x, g, b, LR, LC, 1e-5f));
    for (int c = 0; c < LC; c++)
        dg[c] = 0.25f, db[c] = -0.5f;   /* accumulated onto */
    ck_assert_lf_ok(be->layernorm_bwd(priv, dx, dg, db, rr, x, g, stats, stats + LR, LR, LC));
    double nx[LR * LC], ng[LC], nb[LC];
    numeric(nx, e.x, LR * LC, &e);
    numeric(ng, e.g, LC, &e);
    numeric(nb, e.b, LC, &e);
    for (int c = 0; c < LC; c++)
        ng[c] += 0.25, nb[c] -= 0.5;
    max_err_seen = 0;
    check_grad("layernorm dx", dx, nx, LR * LC);
    check_grad("layernorm dgamma", dg, ng, LC);
    check_grad("layernorm dbeta", db, nb, LC);
    fprintf(stderr, "# %s layernorm gradcheck: max |analytic - numeric| = %.3g\n", be->name, max_err_seen);
    /* dx may be dy */
    float alias[LR * LC];
    memcpy(alias, rr, sizeof alias);
    ck_assert_lf_ok(be->layernorm_bwd(priv, alias, dg, db, alias, x, g, stats, stats + LR, LR, LC));
    ck_assert(memcmp(alias, dx, sizeof dx) == 0);
    done_backend();
}
END_TEST

/* ---- GELU ---- */

static double gelu64(double x)
{
    return 0.5 * x * (1 + erf(x / sqrt(2.0)));
}

START_TEST(gelu_values_and_gradcheck)
{
    if (!use_backend(_i))
        return;
    /* torch.nn.functional.gelu (exact) of these, torch 1.13. Its float erf loses relative
     * accuracy in the negative tail (1 + erf cancels: gelu(−3) is −0.00404969409 exactly), so
     * torch is matched to 3e-7 absolute and the float64 formula to 1e-6 relative. */
    const float x[7] = { -3.0f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 3.0f };
    const float want[7] = { -0.00404986739f, -0.158655286f, -0.154268786f, 0.0f, 0.345731199f,
                            0.841344714f, 2.99595022f };
    float y[7];
    ck_assert_lf_ok(be->gelu_fwd(priv, y, x, 7));
    for (int i = 0; i < 7; i++) {
        ck_assert_msg(fabs(y[i] - want[i]) <= 3e-7, "gelu(%g) = %.9g, torch %.9g", x[i], y[i], want[i]);
        ck_assert_msg(fabs(y[i] - gelu64(x[i])) <= 1e-6 * fabs(gelu64(x[i])), "gelu(%g) = %.9g, exact %.9g",
                      x[i], y[i], gelu64(x[i]));
    }
    lf__rng r;
    lf__rng_init(&r, 12, 0);
    enum { N = 64 };
    float xs[N], dy[N], dx[N];
    fill(&r, xs, N, -4, 4);
    fill(&r, dy, N, -1, 1);
    ck_assert_lf_ok(be->gelu_bwd(priv, dx, dy, xs, N));
    double num[N];
    for (int i = 0; i < N; i++)
        num[i] = dy[i] * (gelu64(xs[i] + H) - gelu64(xs[i] - H)) / (2 * H);
    max_err_seen = 0;
    check_grad("gelu dx", dx, num, N);
    fprintf(stderr, "# %s gelu gradcheck: max |analytic - numeric| = %.3g\n", be->name, max_err_seen);
    ck_assert_lf_ok(be->gelu_bwd(priv, dy, dy, xs, N));   /* dx may be dy */
    ck_assert(memcmp(dy, dx, sizeof dx) == 0);
    ck_assert_lf_ok(be->gelu_fwd(priv, xs, xs, N));       /* y may be x */
    done_backend();
}
END_TEST

/* ---- softmax backward ---- */

enum { SR = 4, SC = 6 };

static double softmax_loss(const double *x, const float *r)
{
    double loss = 0;
    for (int i = 0; i < SR; i++) {
        double mx = x[i * SC], sum = 0;
        for (int c = 1; c < SC; c++)
            mx = fmax(mx, x[i * SC + c]);
        for (int c = 0; c < SC; c++)
            sum += exp(x[i * SC + c] - mx);
        for (int c = 0; c < SC; c++)
            loss += r[i * SC + c] * exp(x[i * SC + c] - mx) / sum;
    }
    return loss;
}

START_TEST(softmax_bwd_gradcheck)
{
    if (!use_backend(_i))
        return;
    lf__rng r;
    lf__rng_init(&r, 13, 0);
    float x[SR * SC], rr[SR * SC], y[SR * SC], dx[SR * SC];
    fill(&r, x, SR * SC, -3, 3);
    fill(&r, rr, SR * SC, -1, 1);
    ck_assert_lf_ok(be->softmax_fwd(priv, y, x, SR, SC));
    ck_assert_lf_ok(be->softmax_bwd(priv, dx, rr, y, SR, SC));
    double xd[SR * SC], num[SR * SC];
    for (int i = 0; i < SR * SC; i++)
        xd[i] = x[i];
    for (int i = 0; i < SR * SC; i++) {
        double keep = xd[i];
        xd[i] = keep + H;
        double up = softmax_loss(xd, rr);
        xd[i] = keep - H;
        double down = softmax_loss(xd, rr);
        xd[i] = keep;
        num[i] = (up - down) / (2 * H);
    }
    max_err_seen = 0;
    check_grad("softmax dx", dx, num, SR * SC);
    fprintf(stderr, "# %s softmax_bwd gradcheck: max |analytic - numeric| = %.3g\n", be->name, max_err_seen);
    ck_assert_lf_ok(be->softmax_bwd(priv, rr, rr, y, SR, SC));   /* dx may be dy */
    ck_assert(memcmp(rr, dx, sizeof dx) == 0);
    done_backend();
}
END_TEST

/* ---- dropout ---- */

START_TEST(dropout_mask_and_scale)
{
    if (!use_backend(_i))
        return;
    enum { N = 100000 };
    const float p = 0.2f, scale = 1.0f / (1.0f - p);
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *y2 = malloc(N * sizeof *y2);
    float *u = malloc(N * sizeof *u);
    lf__rng r;
    lf__rng_init(&r, 14, 0);
    fill(&r, x, N, 0.5, 1.5);   /* never 0, so a 0 output means dropped */
    ck_assert_lf_ok(be->dropout(priv, y, x, N, p, 99, LF__STREAM_DROPOUT, 1001));
    ck_assert_lf_ok(be->rng_uniform(priv, u, N, 99, LF__STREAM_DROPOUT, 1001, 0.0f, 1.0f));
    int64_t kept = 0;
    for (int i = 0; i < N; i++) {
        int keep = u[i] >= p;
        kept += keep;
        ck_assert_msg(y[i] == (keep ? x[i] * scale : 0.0f), "dropout[%d]: %.9g from %.9g (u %.9g)", i,
                      y[i], x[i], u[i]);
    }
    /* 1 − p within 5 standard deviations (0.0013) */
    double frac = (double)kept / N;
    ck_assert_msg(fabs(frac - (1 - p)) < 0.0065, "keep fraction %.4f, want %.2f", frac, 1 - p);
    fprintf(stderr, "# %s dropout p=0.2: keep fraction %.5f\n", be->name, frac);
    /* the same (seed, stream, offset) gives the same mask; the mask at offset + k is the tail */
    ck_assert_lf_ok(be->dropout(priv, y2, x, N, p, 99, LF__STREAM_DROPOUT, 1001));
    ck_assert(memcmp(y, y2, N * sizeof *y) == 0);
    ck_assert_lf_ok(be->dropout(priv, y2, x + 7, N - 7, p, 99, LF__STREAM_DROPOUT, 1008));
    ck_assert(memcmp(y + 7, y2, (N - 7) * sizeof *y) == 0);
    /* another seed, stream or offset: another mask */
    const uint64_t other[3][3] = { { 98, LF__STREAM_DROPOUT, 1001 }, { 99, LF__STREAM_NOISE, 1001 },
                                   { 99, LF__STREAM_DROPOUT, 1002 } };
    for (int k = 0; k < 3; k++) {
        ck_assert_lf_ok(be->dropout(priv, y2, x, N, p, other[k][0], other[k][1], other[k][2]));
        int differ = 0;
        for (int i = 0; i < N; i++)
            differ += (y2[i] == 0.0f) != (y[i] == 0.0f);
        ck_assert_msg(differ > N / 10, "case %d: masks differ in only %d places", k, differ);
    }
    /* in place (the backward is this op on the gradient) */
    memcpy(y2, x, N * sizeof *x);
    ck_assert_lf_ok(be->dropout(priv, y2, y2, N, p, 99, LF__STREAM_DROPOUT, 1001));
    ck_assert(memcmp(y, y2, N * sizeof *y) == 0);
    /* p = 0 is the identity, p = 1 drops everything, p outside [0, 1] is rejected */
    ck_assert_lf_ok(be->dropout(priv, y2, x, N, 0.0f, 99, LF__STREAM_DROPOUT, 0));
    ck_assert(memcmp(x, y2, N * sizeof *x) == 0);
    ck_assert_lf_ok(be->dropout(priv, y2, x, N, 1.0f, 99, LF__STREAM_DROPOUT, 0));
    for (int i = 0; i < N; i++)
        ck_assert(y2[i] == 0.0f);
    ck_assert_lf_status(be->dropout(priv, y2, x, N, -0.1f, 99, LF__STREAM_DROPOUT, 0), LF_E_INVALID_ARG);
    ck_assert_lf_status(be->dropout(priv, y2, x, N, 1.5f, 99, LF__STREAM_DROPOUT, 0), LF_E_INVALID_ARG);
    ck_assert_lf_status(be->dropout(priv, y2, x, N, NAN, 99, LF__STREAM_DROPOUT, 0), LF_E_INVALID_ARG);
    ck_assert_lf_status(be->dropout(priv, y2, x, 8, 0.5f, 99, LF__STREAM_DROPOUT, UINT64_MAX - 3),
                        LF_E_INVALID_ARG);
    free(x), free(y), free(y2), free(u);
    done_backend();
}
END_TEST

/* ---- transpose ---- */

START_TEST(transpose_batched)
{
    if (!use_backend(_i))
        return;
    enum { B = 3, R = 4, C = 5 };
    float x[B * R * C], y[B * R * C], back[B * R * C];
    for (int i = 0; i < B * R * C; i++)
        x[i] = (float)i;
    ck_assert_lf_ok(be->transpose(priv, y, x, B, R, C));
    for (int b = 0; b < B; b++)
        for (int i = 0; i < R; i++)
            for (int j = 0; j < C; j++)
                ck_assert(y[(b * C + j) * R + i] == x[(b * R + i) * C + j]);
    ck_assert_lf_ok(be->transpose(priv, back, y, B, C, R));
    ck_assert(memcmp(back, x, sizeof x) == 0);
    ck_assert_lf_status(be->transpose(priv, x, x, B, R, C), LF_E_INVALID_ARG);
    ck_assert_lf_status(be->transpose(priv, y, x, B, -R, C), LF_E_INVALID_ARG);
    done_backend();
}
END_TEST

/* ---- Adam ---- */

START_TEST(adam_matches_pytorch)
{
    if (!use_backend(_i))
        return;
    /* torch.optim.Adam([w], lr=0.01) (betas 0.9 / 0.999, eps 1e-8), three steps with these
     * gradients; w, exp_avg and exp_avg_sq printed with %.9g after each step (torch 1.13) */
    float w[4] = { 0.5f, -1.25f, 2.0f, 0.0f }, m[4] = { 0 }, v[4] = { 0 };
    const float g[3][4] = { { 0.1f, -0.2f, 0.0f, 1e-3f }, { -0.3f, 0.25f, 2.0f, 1e-3f },
                            { 0.05f, -1.0f, -0.5f, -2e-3f } };
    const double want_w[3][4] = { { 0.49000001, -1.24000001, 2, -0.00999990012 },
                                  { 0.49494192, -1.24162734, 1.9925586, -0.0199998002 },
                                  { 0.497716904, -1.23592627, 1.98852837, -0.019243313 } };
    const double want_m[3][4] = { { 0.0100000007, -0.0200000014, 0, 0.000100000005 },
                                  { -0.0210000016, 0.00699999928, 0.200000003, 0.000190000006 },
                                  { -0.0139000015, -0.0936999992, 0.129999995, -2.90000062e-05 } };
    const double want_v[3][4] = { { 1.00000007e-05, 4.00000026e-05, 0, 1.00000019e-09 },
                                  { 9.99900076e-05, 0.000102460006, 0.00400000019, 1.9990003e-09 },
                                  { 0.000102390019, 0.00110235764, 0.0042460002, 5.99700201e-09 } };
    double max_rel = 0;
    for (int s = 0; s < 3; s++) {
        ck_assert_lf_ok(be->adam_step(priv, w, m, v, g[s], 4, 0.01f, 0.9, 0.999, 1e-8f, 0.0f, s + 1));
        for (int i = 0; i < 4; i++) {
            const double got[3] = { w[i], m[i], v[i] }, want[3] = { want_w[s][i], want_m[s][i], want_v[s][i] };
            for (int k = 0; k < 3; k++) {
                double rel = fabs(got[k] - want[k]) / fmax(fabs(want[k]), 1e-12);
                max_rel = fmax(max_rel, rel);
                ck_assert_msg(rel <= 1e-6, "step %d [%d] %s: %.9g, torch %.9g", s + 1, i,
                              k == 0 ? "w" : k == 1 ? "m" : "v", got[k], want[k]);
            }
        }
    }
    fprintf(stderr, "# %s adam vs torch: max relative error %.3g\n", be->name, max_rel);
    ck_assert_lf_status(be->adam_step(priv, w, m, v, g[0], 4, 0.01f, 0.9, 0.999, 1e-8f, 0.0f, 0),
                        LF_E_INVALID_ARG);
    ck_assert_lf_status(be->adam_step(priv, w, NULL, v, g[0], 4, 0.01f, 0.9, 0.999, 1e-8f, 0.0f, 1),
                        LF_E_INVALID_ARG);
    done_backend();
}
END_TEST

START_TEST(version4_entries_are_set)
{
    if (!use_backend(_i))
        return;
    ck_assert_uint_ge(be->iface_version, 4);
    const char *first = (const char *)&be->layernorm_fwd;
    const char *end = (const char *)&be->adam_step + sizeof be->adam_step;
    for (const char *p = first; p < end; p += sizeof(void (*)(void))) {
        void (*fn)(void);
        memcpy(&fn, p, sizeof fn);
        ck_assert_msg(fn != NULL, "%s: entry at offset %td is NULL", be->name, p - (const char *)be);
    }
    done_backend();
}
END_TEST

static Suite *attacker_ops_suite(void)
{
    Suite *s = suite_create("attacker_ops");
    TCase *tc = tcase_create("ops");
    tcase_add_loop_test(tc, layernorm_forward_by_hand, 0, 2);
    tcase_add_loop_test(tc, layernorm_gradcheck, 0, 2);
    tcase_add_loop_test(tc, gelu_values_and_gradcheck, 0, 2);
    tcase_add_loop_test(tc, softmax_bwd_gradcheck, 0, 2);
    tcase_add_loop_test(tc, dropout_mask_and_scale, 0, 2);
    tcase_add_loop_test(tc, transpose_batched, 0, 2);
    tcase_add_loop_test(tc, adam_matches_pytorch, 0, 2);
    tcase_add_loop_test(tc, version4_entries_are_set, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(attacker_ops_suite)
