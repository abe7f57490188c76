/* Gradient and Hessian-vector product checks for FF's Fisher diagonal and IU's Hessian-vector
 * products on a tiny MLP, against an independent float64 implementation written here
 * (forward and hand-written backward):
 *  - the Fisher diagonal of METHODS.md (batches of 32, the last one partial, every class's
 *    gradient squared and weighted by its mean probability) for every parameter;
 *  - H·u by central differences of the library's float gradients (ε = 1e-3/‖u‖) against
 *    central differences of float64 gradients with a tiny step (an exact H·u but for rounding),
 *    for a u that crosses no ReLU kink (see hvp_matches_float64);
 *  - uᵀH·u against the second difference of the float64 loss;
 *  - FF end to end: the new weights are θ₀ + √var ⊙ ε with var from that Fisher by METHODS.md's
 *    rules (written again here) and ε the library RNG's normals.
 * Runs on every backend built. */
#include "lf_test.h"
#include "core/nn/nn_internal.h"
#include "methods/grad_tools.h"
#include "core/rng.h"

enum { IN_C = 1, IN_H = 2, IN_W = 2, IN = IN_C * IN_H * IN_W, HID = 256, C = 3, N = 40 };

enum {
    W1 = 0, B1 = W1 + HID * IN, W2 = B1 + HID, B2 = W2 + HID * HID, W3 = B2 + HID, B3 = W3 + C * HID,
    N_PARAMS = B3 + C
};

static const lf_backend_kind backends[] = { LF_BACKEND_REFERENCE, LF_BACKEND_CPU };

/* ---- the float64 reference ---- */

typedef struct ref_act {
    double h1[HID], h2[HID], z[C], p[C];
} ref_act;

static void ref_forward(const double *p, const double *x, ref_act *a)
{
    for (int u = 0; u < HID; u++) {
        double s = p[B1 + u];
        for (int j = 0; j < IN; j++)
            s += p[W1 + u * IN + j] * x[j];
        a->h1[u] = s > 0 ? s : 0;
    }
    for (int u = 0; u < HID; u++) {
        double s = p[B2 + u];
        for (int j = 0; j < HID; j++)
            s += p[W2 + u * HID + j] * a->h1[j];
        a->h2[u] = s > 0 ? s : 0;
    }
    double mx = -INFINITY, sum = 0;
    for (int k = 0; k < C; k++) {
        double s = p[B3 + k];
        for (int j = 0; j < HID; j++)
            s += p[W3 + k * HID + j] * a->h2[j];
        a->z[k] = s;
        mx = s > mx ? s : mx;
    }
    for (int k = 0; k < C; k++)
        sum += exp(a->z[k] - mx);
    for (int k = 0; k < C; k++)
        a->p[k] = exp(a->z[k] - mx) / sum;
}

/* grad += backprop of dz through the sample's activations */
static void ref_backward(const double *p, const double *x, const ref_act *a, const double *dz,
                         double *grad)
{
    double d2[HID] = { 0 }, d1[HID] = { 0 };
    for (int k = 0; k < C; k++) {
        grad[B3 + k] += dz[k];
        for (int j = 0; j < HID; j++) {
            grad[W3 + k * HID + j] += dz[k] * a->h2[j];
            d2[j] += dz[k] * p[W3 + k * HID + j];
        }
    }
    for (int u = 0; u < HID; u++) {
        if (a->h2[u] <= 0)
            continue;
        grad[B2 + u] += d2[u];
        for (int j = 0; j < HID; j++) {
            grad[W2 + u * HID + j] += d2[u] * a->h1[j];
            d1[j] += d2[u] * p[W2 + u * HID + j];
        }
    }
    for (int u = 0; u < HID; u++) {
        if (a->h1[u] <= 0)
            continue;
        grad[B1 + u] += d1[u];
        for (int j = 0; j < IN; j++)
            grad[W1 + u * IN + j] += d1[u] * x[j];
    }
}

/* Mean loss and its gradient over samples idx[0..n) (label y, or the true labels when y < 0). */
static double ref_grad(const double *p, const double *x, const int32_t *labels, const int *idx,
                       int n, int y, double *grad)
{
    memset(grad, 0, N_PARAMS * sizeof *grad);
    double loss = 0;
    for (int r = 0; r < n; r++) {
        int i = idx[r], t = y >= 0 ? y : labels[i];
        ref_act a;
        ref_forward(p, x + i * IN, &a);
        loss -= log(a.p[t]) / n;
        double dz[C];
        for (int k = 0; k < C; k++)
            dz[k] = (a.p[k] - (k == t)) / n;
        ref_backward(p, x + i * IN, &a, dz, grad);
    }
    return loss;
}

/* ---- fixtures ---- */

typedef struct fixture {
    lf_context *ctx;
    lf_dataset *ds;
    lf_model   *m;
    double      p[N_PARAMS];
    double      x[N * IN];    /* the inputs the model sees (normalised) */
    int32_t     y[N];
} fixture;

static fixture fx;

static int setup_on(lf_backend_kind kind)
{
    memset(&fx, 0, sizeof fx);
    if (!lf_backend_is_available(kind))
        return 0;
    fx.ctx = lf_test_context(kind);
    float xf[N * IN];
    unsigned long long s = 777;
    for (int i = 0; i < N * IN; i++)
        xf[i] = (float)lf_test_u01(&s);
    for (int i = 0; i < N; i++)
        fx.y[i] = (int32_t)(lf_test_u01(&s) * C) % C;
    ck_assert_lf_ok(lf_dataset_from_memory(&fx.ds, fx.ctx, xf, fx.y, N, IN_C, IN_H, IN_W, C, 0));
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    ck_assert_lf_ok(lf_model_config_from_dataset(&cfg, fx.ds));
    cfg.seed = 99;
    ck_assert_lf_ok(lf_model_create(&fx.m, fx.ctx, "mlp", &cfg));
    ck_assert_uint_eq(lf_model_num_params(fx.m), N_PARAMS);
    ck_assert_uint_eq(lf__model_find_tensor(fx.m, "fc3.bias")->offset, B3);
    /* larger output weights than the default init make the loss less flat */
    static float pf[N_PARAMS];
    ck_assert_lf_ok(lf_model_get_params(fx.m, pf, N_PARAMS));
    for (int i = W3; i < N_PARAMS; i++)
        pf[i] *= 8.0f;
    ck_assert_lf_ok(lf_model_set_params(fx.m, pf, N_PARAMS));
    for (int i = 0; i < N_PARAMS; i++)
        fx.p[i] = pf[i];
    for (int i = 0; i < N * IN; i++) {   /* the model's normalisation, if any */
        int c = (i % IN) / (IN_H * IN_W);
        fx.x[i] = fx.m->has_norm ? (xf[i] - fx.m->norm_mean[c]) / fx.m->norm_std[c] : xf[i];
    }
    return 1;
}

static void teardown_fx(void)
{
    lf_model_destroy(fx.m);
    lf_dataset_destroy(fx.ds);
    lf_context_destroy(fx.ctx);
}

/* ---- the Fisher diagonal ---- */

START_TEST(fisher_diagonal_matches_float64)
{
    if (!setup_on(backends[_i]))
        return;
    static double lib[N_PARAMS], ref[N_PARAMS], g[N_PARAMS];
    lf__grad_pass pass;
    ck_assert_lf_ok(lf__grad_pass_init(&pass, fx.m, 32));
    lf__grad_progress pr = { NULL, NULL, "test", 0, 0, NAN };
    ck_assert_lf_ok(lf__grad_fisher_diag(&pass, fx.ds, lib, &pr));
    lf__grad_pass_free(&pass);
    ck_assert_int_eq(pr.step, 2);   /* 40 samples: 32 + 8 */

    int idx[N];
    for (int i = 0; i < N; i++)
        idx[i] = i;
    memset(ref, 0, sizeof ref);
    const int starts[2] = { 0, 32 }, sizes[2] = { 32, 8 };
    for (int b = 0; b < 2; b++)
        for (int y = 0; y < C; y++) {
            double w = 0;
            for (int r = 0; r < sizes[b]; r++) {
                ref_act a;
                ref_forward(fx.p, fx.x + (starts[b] + r) * IN, &a);
                w += a.p[y] / sizes[b];
            }
            ref_grad(fx.p, fx.x, fx.y, idx + starts[b], sizes[b], y, g);
            for (int j = 0; j < N_PARAMS; j++)
                ref[j] += w * g[j] * g[j] / 2.0;
        }
    double peak = 0;
    int nonzero = 0;
    for (int j = 0; j < N_PARAMS; j++) {
        peak = fmax(peak, ref[j]);
        nonzero += ref[j] > 0;
    }
    ck_assert_msg(nonzero > N_PARAMS / 2, "only %d of %d Fisher entries are non-zero", nonzero,
                  N_PARAMS);
    for (int j = 0; j < N_PARAMS; j++)
        ck_assert_msg(fabs(lib[j] - ref[j]) <= 1e-6 * peak + 1e-3 * ref[j],
                      "F[%d]: library %.9g, float64 %.9g (peak %.3g)", j, lib[j], ref[j], peak);
    teardown_fx();
}
END_TEST

/* ---- Hessian-vector products ---- */

START_TEST(hvp_matches_float64)
{
    if (!setup_on(backends[_i]))
        return;
    /* S: 25 of the 40 samples, through the index path */
    enum { NS = 25 };
    int64_t idx64[NS];
    int idx[NS];
    for (int r = 0; r < NS; r++)
        idx[r] = (int)(idx64[r] = (r * 7) % N);
    static float u[N_PARAMS], hu[N_PARAMS];
    static double ud[N_PARAMS], ref[N_PARAMS], gp[N_PARAMS], gm[N_PARAMS], q[N_PARAMS];
    unsigned long long s = 4242;
    double uu = 0;
    /* u moves the output layer only: the hidden ReLUs see no change, so no kink is crossed
     * and the library's step (1e-3) and the reference's (1e-7) see the same smooth loss. H·u
     * still reaches every parameter (fc1 and fc2's gradients depend on fc3). */
    for (int j = 0; j < N_PARAMS; j++) {
        double a = lf_test_u01(&s), b = lf_test_u01(&s);
        u[j] = j >= W3 ? (float)(sqrt(-2 * log(a + 1e-300)) * cos(2 * M_PI * b)) : 0.0f;
        ud[j] = u[j];
        uu += ud[j] * ud[j];
    }

    lf__grad_pass pass;
    ck_assert_lf_ok(lf__grad_pass_init(&pass, fx.m, 16));   /* batches 16 + 9 */
    lf__hvp h;
    ck_assert_lf_ok(lf__hvp_init(&h, &pass, fx.ds, idx64, NS, 1e-3));
    ck_assert_lf_ok(lf__hvp_apply(&h, u, hu));
    /* the parameters are θ₀ again */
    static float after[N_PARAMS];
    ck_assert_lf_ok(lf_model_get_params(fx.m, after, N_PARAMS));
    for (int j = 0; j < N_PARAMS; j++)
        ck_assert_msg(after[j] == (float)fx.p[j], "parameter %d not restored", j);
    lf__hvp_free(&h);
    lf__grad_pass_free(&pass);

    /* exact H·u but for rounding: float64 gradients, step 1e-7/‖u‖ */
    double hstep = 1e-7 / sqrt(uu);
    for (int j = 0; j < N_PARAMS; j++)
        q[j] = fx.p[j] + hstep * ud[j];
    ref_grad(q, fx.x, fx.y, idx, NS, -1, gp);
    for (int j = 0; j < N_PARAMS; j++)
        q[j] = fx.p[j] - hstep * ud[j];
    ref_grad(q, fx.x, fx.y, idx, NS, -1, gm);
    double err = 0, norm = 0, uhu_lib = 0;
    for (int j = 0; j < N_PARAMS; j++) {
        ref[j] = (gp[j] - gm[j]) / (2 * hstep);
        err += (hu[j] - ref[j]) * (hu[j] - ref[j]);
        norm += ref[j] * ref[j];
        uhu_lib += ud[j] * hu[j];
    }
    err = sqrt(err);
    norm = sqrt(norm);
    ck_assert_msg(norm > 1e-3, "|Hu| = %g: a vacuous check", norm);
    double below = 0;   /* H·u outside the output layer: the cross terms */
    for (int j = 0; j < W3; j++)
        below += ref[j] * ref[j];
    ck_assert_msg(sqrt(below) > 0.1 * norm, "|Hu| outside fc3 is %g of %g", sqrt(below), norm);
    ck_assert_msg(err <= 5e-3 * norm, "|Hu_lib - Hu_ref| = %g, |Hu_ref| = %g", err, norm);

    /* uᵀHu against the second difference of the float64 loss */
    double l0, lp, lm, step = 1e-4 / sqrt(uu);
    l0 = ref_grad(fx.p, fx.x, fx.y, idx, NS, -1, gp);
    for (int j = 0; j < N_PARAMS; j++)
        q[j] = fx.p[j] + step * ud[j];
    lp = ref_grad(q, fx.x, fx.y, idx, NS, -1, gp);
    for (int j = 0; j < N_PARAMS; j++)
        q[j] = fx.p[j] - step * ud[j];
    lm = ref_grad(q, fx.x, fx.y, idx, NS, -1, gp);
    double uhu = (lp - 2 * l0 + lm) / (step * step);
    ck_assert_msg(fabs(uhu_lib - uhu) <= 1e-2 * fabs(uhu), "u'Hu: library %.6g, loss second "
                  "difference %.6g", uhu_lib, uhu);

    /* the zero vector gives zero */
    memset(u, 0, sizeof u);
    ck_assert_lf_ok(lf__grad_pass_init(&pass, fx.m, 16));
    ck_assert_lf_ok(lf__hvp_init(&h, &pass, fx.ds, idx64, NS, 1e-3));
    ck_assert_lf_ok(lf__hvp_apply(&h, u, hu));
    for (int j = 0; j < N_PARAMS; j++)
        ck_assert(hu[j] == 0.0f);
    lf__hvp_free(&h);
    lf__grad_pass_free(&pass);
    teardown_fx();
}
END_TEST

/* The mean gradient of the batching loop against float64 (batches 16 + 16 + 8). */
START_TEST(mean_gradient_matches_float64)
{
    if (!setup_on(backends[_i]))
        return;
    static float lib[N_PARAMS];
    static double ref[N_PARAMS];
    lf__grad_pass pass;
    ck_assert_lf_ok(lf__grad_pass_init(&pass, fx.m, 16));
    double loss = 0;
    ck_assert_lf_ok(lf__grad_mean(&pass, fx.ds, NULL, N, &loss, NULL));
    ck_assert_lf_ok(lf__grad_download(fx.m, lib));
    lf__grad_pass_free(&pass);
    int idx[N];
    for (int i = 0; i < N; i++)
        idx[i] = i;
    double ref_loss = ref_grad(fx.p, fx.x, fx.y, idx, N, -1, ref);
    ck_assert_msg(fabs(loss - ref_loss) <= 1e-5 * ref_loss, "loss %.9g vs %.9g", loss, ref_loss);
    double peak = 0;
    for (int j = 0; j < N_PARAMS; j++)
        peak = fmax(peak, fabs(ref[j]));
    for (int j = 0; j < N_PARAMS; j++)
        ck_assert_msg(fabs(lib[j] - ref[j]) <= 1e-5 * peak + 1e-3 * fabs(ref[j]),
                      "g[%d]: library %.9g, float64 %.9g", j, lib[j], ref[j]);
    teardown_fx();
}
END_TEST

/* ---- FF end to end: Fisher → the variance rules (written again here from METHODS.md) → noise ---- */

/* var of a tensor at [off, off + rows·cols) from the Fisher, per METHODS.md FF step 2 (and its
 * deviation: the per-unit mean over live entries only; mask may be NULL). */
static void expected_var(const double *F, double *var, size_t off, size_t rows, size_t cols,
                         int ndim, int last, double alpha, const uint8_t *mask)
{
    for (size_t r = 0; r < rows; r++) {
        double sum = 0;
        int live = 0;
        for (size_t c = 0; c < cols; c++) {
            size_t j = off + r * cols + c;
            double v = 1.0 / (F[j] + 1e-8);
            v = v < 1e3 ? v : 1e3;
            if (last)
                v = v < 1e2 ? v : 1e2;
            var[j] = alpha * v;
            if (!mask || mask[r * cols + c]) {
                sum += var[j];
                live++;
            }
        }
        for (size_t c = 0; c < cols; c++) {
            size_t j = off + r * cols + c;
            if (ndim > 1)
                var[j] = live ? sum / live : 0;
            if (mask && !mask[r * cols + c])
                var[j] = 0;
            if (last || ndim == 1)
                var[j] *= 10;
        }
    }
}

START_TEST(ff_end_to_end_follows_the_rules)
{
    if (!setup_on(backends[_i % 2]))
        return;
    int class_wise = _i >= 2;
    const double alpha = 1e-5;
    static const int64_t forget_idx[8] = { 0, 5, 10, 15, 20, 25, 30, 35 };
    lf_forget_spec spec = LF_FORGET_SPEC_INIT;
    if (class_wise) {
        spec.kind = LF_FORGET_CLASS;
        spec.forget_class = 1;
    } else {
        spec.kind = LF_FORGET_INDICES;
        spec.indices = forget_idx;
        spec.n_indices = 8;
    }
    lf_request *req = NULL;
    ck_assert_lf_ok(lf_request_create(&req, fx.ctx, "ff"));
    ck_assert_lf_ok(lf_request_set_train(req, fx.ds));
    ck_assert_lf_ok(lf_request_set_forget(req, &spec));
    ck_assert_lf_ok(lf_request_set_seed(req, 77));
    ck_assert_lf_ok(lf_request_set_double(req, "alpha", alpha));
    lf_model *out = NULL;
    ck_assert_lf_ok(lf_unlearn(req, fx.m, &out, NULL));

    /* the Fisher of the same retain set (checked against float64 above) */
    lf_dataset *retain = NULL, *forget = NULL;
    ck_assert_lf_ok(lf_dataset_split_forget(&retain, &forget, fx.ds, &spec));
    static double F[N_PARAMS], var[N_PARAMS];
    lf__grad_pass pass;
    ck_assert_lf_ok(lf__grad_pass_init(&pass, fx.m, 32));
    ck_assert_lf_ok(lf__grad_fisher_diag(&pass, retain, F, NULL));
    lf__grad_pass_free(&pass);

    expected_var(F, var, W1, HID, IN, 2, 0, alpha, NULL);
    expected_var(F, var, B1, 1, HID, 1, 0, alpha, NULL);
    expected_var(F, var, W2, HID, HID, 2, 0, alpha, NULL);
    expected_var(F, var, B2, 1, HID, 1, 0, alpha, NULL);
    expected_var(F, var, W3, C, HID, 2, 1, alpha, NULL);
    expected_var(F, var, B3, 1, C, 1, 1, alpha, NULL);
    static double mu[N_PARAMS];
    memcpy(mu, fx.p, sizeof mu);
    if (class_wise) {   /* step 3: the forgotten class's row and bias */
        for (int c = 0; c < HID; c++) {
            mu[W3 + 1 * HID + c] = 0;
            var[W3 + 1 * HID + c] = 1e-4;
        }
        mu[B3 + 1] = 0;
        var[B3 + 1] = 1e-4;
    }
    static float got[N_PARAMS];
    ck_assert_lf_ok(lf_model_get_params(out, got, N_PARAMS));
    double moved = 0;
    for (int j = 0; j < N_PARAMS; j++) {
        double want = mu[j] + sqrt(var[j]) * lf__rng_normal_at(77, LF__STREAM_NOISE, (uint64_t)j);
        ck_assert_msg(fabs(got[j] - want) <= 1e-6 * (1 + fabs(want)), "theta[%d] = %.9g, want "
                      "%.9g (mu %.9g, var %.3g)", j, got[j], want, mu[j], var[j]);
        moved += fabs(got[j] - fx.p[j]);
    }
    ck_assert(moved > 0);
    lf_model_destroy(out);
    lf_request_destroy(req);
    lf_dataset_destroy(retain);
    lf_dataset_destroy(forget);
    teardown_fx();
}
END_TEST

/* A pruned convnet: the per-unit variance is the mean over live weights only, and pruned
 * weights stay 0. The tensors come from the model's table; the last layer is fc2. */
START_TEST(ff_sparse_convnet_follows_the_rules)
{
    if (!lf_backend_is_available(backends[_i]))
        return;
    lf_context *ctx = lf_test_context(backends[_i]);
    enum { S = 4, NC = 40 };
    float xf[NC * S * S];
    int32_t y[NC];
    unsigned long long s = 31;
    for (int i = 0; i < NC * S * S; i++)
        xf[i] = (float)lf_test_u01(&s);
    for (int i = 0; i < NC; i++)
        y[i] = i % C;
    lf_dataset *ds = NULL;
    ck_assert_lf_ok(lf_dataset_from_memory(&ds, ctx, xf, y, NC, 1, S, S, C, 0));
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    ck_assert_lf_ok(lf_model_config_from_dataset(&cfg, ds));
    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_create(&m, ctx, "convnet", &cfg));
    ck_assert_lf_ok(lf_model_prune(m, 0.5));
    const float mean = 0.5f, sd = 0.03f;   /* large inputs: conv weights with F above 1e-3 */
    ck_assert_lf_ok(lf_model_set_normalization(m, &mean, &sd, 1));
    size_t np = m->n_params;
    double *F = calloc(np, sizeof *F), *var = calloc(np, sizeof *var);
    float *theta0 = malloc(np * sizeof *theta0), *got = malloc(np * sizeof *got);
    uint8_t *mask = malloc(m->n_mask);
    ck_assert_lf_ok(lf_model_get_params(m, theta0, np));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, mask, m->masks, m->n_mask));

    const double alpha = 1e-5;
    static const int64_t forget_idx[4] = { 1, 2, 3, 4 };
    lf_forget_spec spec = LF_FORGET_SPEC_INIT;
    spec.kind = LF_FORGET_INDICES;
    spec.indices = forget_idx;
    spec.n_indices = 4;
    lf_request *req = NULL;
    ck_assert_lf_ok(lf_request_create(&req, ctx, "ff"));
    ck_assert_lf_ok(lf_request_set_train(req, ds));
    ck_assert_lf_ok(lf_request_set_forget(req, &spec));
    ck_assert_lf_ok(lf_request_set_seed(req, 5));
    ck_assert_lf_ok(lf_request_set_double(req, "alpha", alpha));
    lf_model *out = NULL;
    ck_assert_lf_ok(lf_unlearn(req, m, &out, NULL));
    ck_assert_lf_ok(lf_model_get_params(out, got, np));

    lf_dataset *retain = NULL, *forget = NULL;
    ck_assert_lf_ok(lf_dataset_split_forget(&retain, &forget, ds, &spec));
    lf__grad_pass pass;
    ck_assert_lf_ok(lf__grad_pass_init(&pass, m, 32));
    ck_assert_lf_ok(lf__grad_fisher_diag(&pass, retain, F, NULL));
    lf__grad_pass_free(&pass);
    int masked_tensors = 0;
    for (size_t i = 0; i < m->n_tensors; i++) {
        const lf__tensor_desc *t = &m->tensors[i];
        if (t->kind != LF__TENSOR_PARAM)
            continue;
        size_t rows = (size_t)t->shape[0];
        int last = strncmp(t->name, "fc2.", 4) == 0;
        const uint8_t *tm = t->maskable ? mask + t->mask_offset : NULL;
        masked_tensors += tm != NULL;
        if (t->ndim > 1)
            expected_var(F, var, t->offset, rows, t->numel / rows, t->ndim, last, alpha, tm);
        else
            expected_var(F, var, t->offset, 1, t->numel, 1, last, alpha, NULL);
    }
    ck_assert_int_eq(masked_tensors, 2);
    size_t conv_live = 0, conv_uncapped = 0;   /* not a vacuous check of the live mean */
    for (size_t i = 0; i < m->n_tensors; i++) {
        const lf__tensor_desc *t = &m->tensors[i];
        for (size_t j = 0; t->maskable && j < t->numel; j++)
            if (mask[t->mask_offset + j]) {
                conv_live++;
                conv_uncapped += F[t->offset + j] > 1e-3;
            }
    }
    ck_assert_msg(conv_uncapped > conv_live / 4, "%zu of %zu live conv weights have F > 1e-3",
                  conv_uncapped, conv_live);
    size_t pruned = 0;
    for (size_t j = 0; j < np; j++) {
        double want = theta0[j] + sqrt(var[j]) * lf__rng_normal_at(5, LF__STREAM_NOISE, j);
        ck_assert_msg(fabs(got[j] - want) <= 1e-6 * (1 + fabs(want)), "theta[%zu] = %.9g, want "
                      "%.9g", j, got[j], want);
        if (var[j] == 0) {
            ck_assert_msg(got[j] == 0.0f, "pruned theta[%zu] = %g", j, got[j]);
            pruned++;
        }
    }
    ck_assert_uint_gt(pruned, 0);
    lf_model_destroy(out);
    lf_request_destroy(req);
    lf_dataset_destroy(retain);
    lf_dataset_destroy(forget);
    lf_model_destroy(m);
    lf_dataset_destroy(ds);
    free(F);
    free(var);
    free(theta0);
    free(got);
    free(mask);
    lf_context_destroy(ctx);
}
END_TEST

static Suite *hvp_fisher_suite(void)
{
    Suite *s = suite_create("hvp_fisher");
    TCase *tc = tcase_create("numerics");
    tcase_set_timeout(tc, 120);
    int nb = (int)(sizeof backends / sizeof backends[0]);
    tcase_add_loop_test(tc, mean_gradient_matches_float64, 0, nb);
    tcase_add_loop_test(tc, fisher_diagonal_matches_float64, 0, nb);
    tcase_add_loop_test(tc, hvp_matches_float64, 0, nb);
    tcase_add_loop_test(tc, ff_end_to_end_follows_the_rules, 0, 2 * nb);   /* random, class-wise */
    tcase_add_loop_test(tc, ff_sparse_convnet_follows_the_rules, 0, nb);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(hvp_fisher_suite)
