/* Gradient checks: the float kernels' backward passes against central finite differences of
 * float64 forwards written here, independently of the kernels. Each check uses a scalar loss
 * L = Σ R ⊙ f(inputs) with a fixed random R (the upstream gradient) unless f is a loss itself.
 * Pass rule: |analytic − numeric| ≤ 1e-4 + 1e-3·|numeric|. Runs on the reference backend and,
 * when built, the cpu backend (the kernels are called the way the layers call them). */
#include "lf_test.h"
#include "core/internal.h"
#include "core/rng.h"

static const double H = 1e-6;   /* central-difference step, in double */

static void check_grad(const char *what, const float *analytic, const double *numeric, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        double a = analytic[i], num = numeric[i];
        ck_assert_msg(fabs(a - num) <= 1e-4 + 1e-3 * fabs(num),
                      "%s[%lld]: analytic %.9g, numeric %.9g", what, (long long)i, a, num);
    }
}

/* uniform in [lo, hi) from a fixed generator */
static void fill(lf__rng *r, float *x, int64_t n, double lo, double hi)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(lo + (hi - lo) * lf__rng_uniform(r));
}

/* uniform with |x| in [0.1, 1]: away from ReLU's kink at 0, so ±H never crosses it */
static void fill_away_from_zero(lf__rng *r, float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        double mag = 0.1 + 0.9 * lf__rng_uniform(r);
        x[i] = (float)(lf__rng_uniform(r) < 0.5 ? -mag : mag);
    }
}

/* Central difference of f over each element of p (a double copy of a float tensor). */
typedef double (*loss_fn)(void *env);
static void numeric_grad(double *grad, double *p, int64_t n, loss_fn f, void *env)
{
    for (int64_t i = 0; i < n; i++) {
        double keep = p[i];
        p[i] = keep + H;
        double up = f(env);
        p[i] = keep - H;
        double down = f(env);
        p[i] = keep;
        grad[i] = (up - down) / (2 * H);
    }
}

static void to_double(double *dst, const float *src, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        dst[i] = src[i];
}

static const lf__backend_iface *backend_at(int which)
{
    return which == 0 ? lf__backend_reference_iface() : lf__backend_cpu_iface();
}

/* ---- linear: y = x·Wᵀ + b, x: N×IN, W: OUT×IN (PyTorch layout), b: OUT ---- */

enum { N = 5, IN = 7, OUT = 4 };

typedef struct linear_env {
    double x[N * IN], w[OUT * IN], b[OUT], r[N * OUT];
} linear_env;

static double linear_loss(void *p)
{
    const linear_env *e = p;
    double loss = 0;
    for (int i = 0; i < N; i++)
        for (int o = 0; o < OUT; o++) {
            double y = e->b[o];
            for (int j = 0; j < IN; j++)
                y += e->x[i * IN + j] * e->w[o * IN + j];
            loss += e->r[i * OUT + o] * y;
        }
    return loss;
}

START_TEST(linear_gradients)
{
    const lf__backend_iface *be = backend_at(_i);
    if (!be)
        return;   /* cpu backend not built */
    lf__rng rng;
    lf__rng_init(&rng, 11, 0);
    float x[N * IN], w[OUT * IN], b[OUT], dy[N * OUT], y[N * OUT];
    fill(&rng, x, N * IN, -1, 1);
    fill(&rng, w, OUT * IN, -1, 1);
    fill(&rng, b, OUT, -1, 1);
    fill(&rng, dy, N * OUT, -1, 1);

    /* forward as a linear layer does: y = x·Wᵀ, then + b */
    ck_assert_lf_ok(be->gemm(NULL, 0, 1, N, OUT, IN, 1.0f, x, IN, w, IN, 0.0f, y, OUT));
    ck_assert_lf_ok(be->bias_add_fwd(NULL, y, b, N, OUT));

    /* backward: dW += dyᵀ·x, db += Σ dy, dx = dy·W. dW and db start non-zero: they accumulate */
    float dw[OUT * IN], db[OUT], dx[N * IN];
    for (int i = 0; i < OUT * IN; i++)
        dw[i] = 0.25f;
    for (int i = 0; i < OUT; i++)
        db[i] = -0.5f;
    for (int i = 0; i < N * IN; i++)
        dx[i] = NAN;   /* overwritten */
    ck_assert_lf_ok(be->gemm(NULL, 1, 0, OUT, IN, N, 1.0f, dy, OUT, x, IN, 1.0f, dw, IN));
    ck_assert_lf_ok(be->bias_bwd(NULL, db, dy, N, OUT));
    ck_assert_lf_ok(be->gemm(NULL, 0, 0, N, IN, OUT, 1.0f, dy, OUT, w, IN, 0.0f, dx, IN));
    for (int i = 0; i < OUT * IN; i++)
        dw[i] -= 0.25f;
    for (int i = 0; i < OUT; i++)
        db[i] += 0.5f;

    linear_env e;
    to_double(e.x, x, N * IN);
    to_double(e.w, w, OUT * IN);
    to_double(e.b, b, OUT);
    to_double(e.r, dy, N * OUT);
    /* the forward output itself against the double forward */
    for (int i = 0; i < N; i++)
        for (int o = 0; o < OUT; o++) {
            double want = e.b[o];
            for (int j = 0; j < IN; j++)
                want += e.x[i * IN + j] * e.w[o * IN + j];
            ck_assert_msg(fabs(y[i * OUT + o] - want) <= 1e-5, "y[%d][%d] = %g, want %g", i, o,
                          y[i * OUT + o], want);
        }
    double num_w[OUT * IN], num_b[OUT], num_x[N * IN];
    numeric_grad(num_w, e.w, OUT * IN, linear_loss, &e);
    numeric_grad(num_b, e.b, OUT, linear_loss, &e);
    numeric_grad(num_x, e.x, N * IN, linear_loss, &e);
    check_grad("dW", dw, num_w, OUT * IN);
    check_grad("db", db, num_b, OUT);
    check_grad("dx", dx, num_x, N * IN);
}
END_TEST

/* ---- relu ---- */

enum { RN = 64 };

typedef struct relu_env {
    double x[RN], r[RN];
} relu_env;

static double relu_loss(void *p)
{
    const relu_env *e = p;
    double loss = 0;
    for (int i = 0; i < RN; i++)
        loss += e->r[i] * (e->x[i] > 0 ? e->x[i] : 0.0);
    return loss;
}

START_TEST(relu_gradients)
{
    const lf__backend_iface *be = backend_at(_i);
    if (!be)
        return;
    lf__rng rng;
    lf__rng_init(&rng, 12, 0);
    float x[RN], y[RN], dy[RN], dx[RN];
    fill_away_from_zero(&rng, x, RN);
    fill(&rng, dy, RN, -1, 1);
    ck_assert_lf_ok(be->relu_fwd(NULL, y, x, RN));
    ck_assert_lf_ok(be->relu_bwd(NULL, dx, dy, y, RN));
    relu_env e;
    to_double(e.x, x, RN);
    to_double(e.r, dy, RN);
    double num[RN];
    numeric_grad(num, e.x, RN, relu_loss, &e);
    check_grad("relu dx", dx, num, RN);
    /* both sides of the kink were exercised */
    int pos = 0;
    for (int i = 0; i < RN; i++)
        pos += x[i] > 0;
    ck_assert(pos > 0 && pos < RN);
}
END_TEST

/* ---- softmax cross-entropy with per-sample weights: L = Σ_i w_i · (logsumexp_i − z_i[y_i]) ---- */

enum { SN = 6, SC = 5 };

typedef struct xent_env {
    double z[SN * SC], w[SN];
    int32_t labels[SN];
} xent_env;

static double xent_row(const double *z, int32_t label)
{
    double mx = z[0];
    for (int c = 1; c < SC; c++)
        mx = z[c] > mx ? z[c] : mx;
    double s = 0;
    for (int c = 0; c < SC; c++)
        s += exp(z[c] - mx);
    return mx + log(s) - z[label];
}

static double xent_loss(void *p)
{
    const xent_env *e = p;
    double loss = 0;
    for (int i = 0; i < SN; i++)
        loss += e->w[i] * xent_row(e->z + i * SC, e->labels[i]);
    return loss;
}

START_TEST(softmax_xent_gradients)
{
    const lf__backend_iface *be = backend_at(_i);
    if (!be)
        return;
    lf__rng rng;
    lf__rng_init(&rng, 13, 0);
    float z[SN * SC], loss[SN], probs[SN * SC], dz[SN * SC];
    fill(&rng, z, SN * SC, -3, 3);
    for (int c = 0; c < SC; c++)
        z[SC + c] += 60.0f;   /* a row of large logits: max-subtraction matters */
    /* a batch mean (1/n) for most rows, one gradient-ascent row, one zero-weight row */
    const float w[SN] = { 1.0f / SN, 1.0f / SN, -1.0f / SN, 1.0f / SN, 0.0f, 0.5f };
    const int32_t labels[SN] = { 0, 4, 2, 1, 3, 2 };
    ck_assert_lf_ok(be->softmax_xent_fwd(NULL, loss, probs, z, labels, SN, SC));
    ck_assert_lf_ok(be->softmax_xent_bwd(NULL, dz, probs, labels, w, SN, SC));

    xent_env e;
    to_double(e.z, z, SN * SC);
    to_double(e.w, w, SN);
    memcpy(e.labels, labels, sizeof labels);
    for (int i = 0; i < SN; i++) {
        double want = xent_row(e.z + i * SC, labels[i]);
        ck_assert_msg(fabs(loss[i] - want) <= 1e-6 + 1e-6 * fabs(want), "loss[%d] = %.9g, want %.9g",
                      i, loss[i], want);
    }
    double num[SN * SC];
    numeric_grad(num, e.z, SN * SC, xent_loss, &e);
    check_grad("dlogits", dz, num, SN * SC);
}
END_TEST

/* ---- the three composed: linear → relu → linear → weighted cross-entropy, dW1 and dx ---- */

enum { MN = 4, MI = 6, MH = 8, MC = 3 };

typedef struct mlp_env {
    double x[MN * MI], w1[MH * MI], b1[MH], w2[MC * MH], b2[MC], wt[MN];
    int32_t labels[MN];
} mlp_env;

static double mlp_loss(void *p)
{
    const mlp_env *e = p;
    double loss = 0;
    for (int i = 0; i < MN; i++) {
        double h[MH], z[MC];
        for (int o = 0; o < MH; o++) {
            double a = e->b1[o];
            for (int j = 0; j < MI; j++)
                a += e->x[i * MI + j] * e->w1[o * MI + j];
            h[o] = a > 0 ? a : 0;
        }
        for (int c = 0; c < MC; c++) {
            double a = e->b2[c];
            for (int o = 0; o < MH; o++)
                a += h[o] * e->w2[c * MH + o];
            z[c] = a;
        }
        double mx = z[0];
        for (int c = 1; c < MC; c++)
            mx = z[c] > mx ? z[c] : mx;
        double s = 0;
        for (int c = 0; c < MC; c++)
            s += exp(z[c] - mx);
        loss += e->wt[i] * (mx + log(s) - z[e->labels[i]]);
    }
    return loss;
}

START_TEST(two_layer_chain_gradients)
{
    const lf__backend_iface *be = backend_at(_i);
    if (!be)
        return;
    lf__rng rng;
    lf__rng_init(&rng, 14, 0);
    float x[MN * MI], w1[MH * MI], b1[MH], w2[MC * MH], b2[MC];
    const int32_t labels[MN] = { 0, 2, 1, 2 };
    const float wt[MN] = { 0.25f, 0.25f, 0.25f, -0.25f };
    /* retry seeds until no hidden pre-activation sits within 1e-3 of ReLU's kink */
    float h[MN * MH];
    for (int attempt = 0;; attempt++) {
        ck_assert_int_lt(attempt, 100);
        fill(&rng, x, MN * MI, -1, 1);
        fill(&rng, w1, MH * MI, -1, 1);
        fill(&rng, b1, MH, -0.5, 0.5);
        ck_assert_lf_ok(be->gemm(NULL, 0, 1, MN, MH, MI, 1.0f, x, MI, w1, MI, 0.0f, h, MH));
        ck_assert_lf_ok(be->bias_add_fwd(NULL, h, b1, MN, MH));
        int near_kink = 0;
        for (int i = 0; i < MN * MH; i++)
            near_kink += fabsf(h[i]) < 1e-3f;
        if (!near_kink)
            break;
    }
    fill(&rng, w2, MC * MH, -1, 1);
    fill(&rng, b2, MC, -0.5, 0.5);

    /* forward */
    float z[MN * MC], loss[MN], probs[MN * MC];
    ck_assert_lf_ok(be->relu_fwd(NULL, h, h, MN * MH));   /* in place, as a layer may do */
    ck_assert_lf_ok(be->gemm(NULL, 0, 1, MN, MC, MH, 1.0f, h, MH, w2, MH, 0.0f, z, MC));
    ck_assert_lf_ok(be->bias_add_fwd(NULL, z, b2, MN, MC));
    ck_assert_lf_ok(be->softmax_xent_fwd(NULL, loss, probs, z, labels, MN, MC));

    /* backward */
    float dz[MN * MC], dh[MN * MH], dw1[MH * MI] = { 0 }, db1[MH] = { 0 }, dx[MN * MI];
    float dw2[MC * MH] = { 0 }, db2[MC] = { 0 };
    ck_assert_lf_ok(be->softmax_xent_bwd(NULL, dz, probs, labels, wt, MN, MC));
    ck_assert_lf_ok(be->gemm(NULL, 1, 0, MC, MH, MN, 1.0f, dz, MC, h, MH, 1.0f, dw2, MH));
    ck_assert_lf_ok(be->bias_bwd(NULL, db2, dz, MN, MC));
    ck_assert_lf_ok(be->gemm(NULL, 0, 0, MN, MH, MC, 1.0f, dz, MC, w2, MH, 0.0f, dh, MH));
    ck_assert_lf_ok(be->relu_bwd(NULL, dh, dh, h, MN * MH));   /* in place */
    ck_assert_lf_ok(be->gemm(NULL, 1, 0, MH, MI, MN, 1.0f, dh, MH, x, MI, 1.0f, dw1, MI));
    ck_assert_lf_ok(be->bias_bwd(NULL, db1, dh, MN, MH));
    ck_assert_lf_ok(be->gemm(NULL, 0, 0, MN, MI, MH, 1.0f, dh, MH, w1, MI, 0.0f, dx, MI));

    mlp_env e;
    to_double(e.x, x, MN * MI);
    to_double(e.w1, w1, MH * MI);
    to_double(e.b1, b1, MH);
    to_double(e.w2, w2, MC * MH);
    to_double(e.b2, b2, MC);
    to_double(e.wt, wt, MN);
    memcpy(e.labels, labels, sizeof labels);
    double num_w1[MH * MI], num_b1[MH], num_w2[MC * MH], num_b2[MC], num_x[MN * MI];
    numeric_grad(num_w1, e.w1, MH * MI, mlp_loss, &e);
    numeric_grad(num_b1, e.b1, MH, mlp_loss, &e);
    numeric_grad(num_w2, e.w2, MC * MH, mlp_loss, &e);
    numeric_grad(num_b2, e.b2, MC, mlp_loss, &e);
    numeric_grad(num_x, e.x, MN * MI, mlp_loss, &e);
    check_grad("dW1", dw1, num_w1, MH * MI);
    check_grad("db1", db1, num_b1, MH);
    check_grad("dW2", dw2, num_w2, MC * MH);
    check_grad("db2", db2, num_b2, MC);
    check_grad("dx", dx, num_x, MN * MI);
}
END_TEST

static Suite *gradcheck_suite(void)
{
    Suite *s = suite_create("kernel_gradcheck");
    TCase *tc = tcase_create("gradcheck");
    /* loop index 0: reference backend, 1: cpu backend (skipped inside when not built) */
    tcase_add_loop_test(tc, linear_gradients, 0, 2);
    tcase_add_loop_test(tc, relu_gradients, 0, 2);
    tcase_add_loop_test(tc, softmax_xent_gradients, 0, 2);
    tcase_add_loop_test(tc, two_layer_chain_gradients, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(gradcheck_suite)
