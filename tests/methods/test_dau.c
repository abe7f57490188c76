/* DAU: its host-side terms against finite differences in double (Barlow Twins, the sensitivity
 * term, the attacker's cross-entropy), and its behaviour on small synthetic problems: the
 * attacker learns membership on a random-label memoriser and, after dau, a freshly trained one
 * tells forget from validation samples less well while retain accuracy holds; the input model
 * is untouched; same seed, same model; abort, a missing holdout, the class-wise schedule and a
 * sparse model's masks. */
#include <math.h>
#include <string.h>

#include "lf_test.h"
#include "core/nn/nn_internal.h"
#include "methods/dau_terms.h"

#define FD_STEP 1e-3

/* ---- the terms ---- */

static void random_floats(float *x, size_t n, double lo, double hi, unsigned long long *s)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(lo + (hi - lo) * lf_test_u01(s));
}

/* Central difference of f at x[j] with the step the float grid actually takes. */
typedef double (*scalar_fn)(void *ctx, float *x);
static double central_diff(scalar_fn f, void *ctx, float *x, size_t j)
{
    float x0 = x[j];
    x[j] = x0 + (float)FD_STEP;
    double up = f(ctx, x), hu = x[j];
    x[j] = x0 - (float)FD_STEP;
    double dn = f(ctx, x), hd = x[j];
    x[j] = x0;
    return (up - dn) / (hu - hd);
}

enum { BT_B = 5, BT_D = 4 };

typedef struct bt_case {
    float  hf[BT_B * BT_D], hv[BT_B * BT_D];
    double offdiag;
    double scratch[2 * BT_B * BT_D + 2 * BT_D * BT_D + 2 * BT_D];
} bt_case;

static double bt_of(void *ctx, float *x)
{
    (void)x;   /* x points into the case's hf or hv */
    bt_case *c = ctx;
    return lf__dau_barlow_twins(c->hf, c->hv, BT_B, BT_D, c->offdiag, NULL, NULL, c->scratch);
}

START_TEST(barlow_twins_gradient_matches_finite_differences)
{
    bt_case c;
    unsigned long long s = 21;
    ck_assert_uint_eq(lf__dau_bt_scratch_doubles(BT_B, BT_D), sizeof c.scratch / sizeof(double));
    random_floats(c.hf, BT_B * BT_D, 0.0, 2.0, &s);
    random_floats(c.hv, BT_B * BT_D, -1.0, 1.0, &s);
    c.offdiag = 0.3;   /* large enough that the off-diagonal part matters */
    double dhf[BT_B * BT_D], dhv[BT_B * BT_D];
    double loss = lf__dau_barlow_twins(c.hf, c.hv, BT_B, BT_D, c.offdiag, dhf, dhv, c.scratch);
    ck_assert(isfinite(loss) && loss > 0);
    double worst = 0;
    for (size_t j = 0; j < BT_B * BT_D; j++) {
        double ef = fabs(central_diff(bt_of, &c, c.hf, j) - dhf[j]);
        double ev = fabs(central_diff(bt_of, &c, c.hv, j) - dhv[j]);
        worst = fmax(worst, fmax(ef / fmax(1.0, fabs(dhf[j])), ev / fmax(1.0, fabs(dhv[j]))));
    }
    ck_assert_msg(worst < 1e-5, "Barlow Twins gradient off by %g", worst);

    /* identical features: C_ii = (1/B)·Σ_b h̃² = (B−1)/B with torch.std's unbiased std (up to
     * the 1e-5 in the denominator), so without off-diagonal terms L = D/B² */
    memcpy(c.hv, c.hf, sizeof c.hf);
    loss = lf__dau_barlow_twins(c.hf, c.hv, BT_B, BT_D, 0.0, NULL, NULL, c.scratch);
    ck_assert_msg(fabs(loss - (double)BT_D / (BT_B * BT_B)) < 1e-4,
                  "L_BT(h, h) without off-diagonal terms = %g, want %g", loss,
                  (double)BT_D / (BT_B * BT_B));

    /* a constant dimension (a dead ReLU unit) keeps everything finite */
    for (int b = 0; b < BT_B; b++)
        c.hf[b * BT_D + 1] = 0.0f;
    loss = lf__dau_barlow_twins(c.hf, c.hv, BT_B, BT_D, c.offdiag, dhf, dhv, c.scratch);
    ck_assert(isfinite(loss));
    for (size_t j = 0; j < BT_B * BT_D; j++)
        ck_assert(isfinite(dhf[j]) && isfinite(dhv[j]));
}
END_TEST

enum { S_B = 3, S_C = 4, S_M = 3 };
#define S_SIGMA 0.1

typedef struct sens_case {
    float  logits[(1 + S_M) * S_B * S_C];
    double dz[S_B * S_C], ds[S_B * S_C];
} sens_case;

/* Σ dz·z + Σ ds·s */
static double sens_of(void *ctx, float *x)
{
    sens_case *c = ctx;
    double s[S_B * S_C], v = 0;
    lf__dau_sensitivity(x, S_B, S_C, S_M, S_SIGMA, s);
    for (int j = 0; j < S_B * S_C; j++)
        v += c->dz[j] * x[j] + c->ds[j] * s[j];
    return v;
}

START_TEST(sensitivity_value_and_gradient)
{
    sens_case c;
    unsigned long long st = 5;
    random_floats(c.logits, S_B * S_C, -2.0, 2.0, &st);
    /* copies differ from the clean row by at least 0.02 either way: no kink within FD_STEP */
    for (int k = 1; k <= S_M; k++)
        for (int j = 0; j < S_B * S_C; j++) {
            double d = 0.02 + 0.2 * lf_test_u01(&st);
            c.logits[k * S_B * S_C + j] = c.logits[j] + (float)(lf_test_u01(&st) < 0.5 ? -d : d);
        }
    for (int j = 0; j < S_B * S_C; j++) {
        c.dz[j] = 2 * lf_test_u01(&st) - 1;
        c.ds[j] = 2 * lf_test_u01(&st) - 1;
    }
    double s[S_B * S_C];
    lf__dau_sensitivity(c.logits, S_B, S_C, S_M, S_SIGMA, s);
    for (int j = 0; j < S_B * S_C; j++) {
        double want = 0;
        for (int k = 1; k <= S_M; k++)
            want += fabs((double)c.logits[k * S_B * S_C + j] - c.logits[j]);
        want /= S_M * S_SIGMA;
        ck_assert_double_eq_tol(s[j], want, 1e-12);
    }
    double grad[(1 + S_M) * S_B * S_C];
    lf__dau_sensitivity_bwd(c.logits, S_B, S_C, S_M, S_SIGMA, c.dz, c.ds, grad);
    for (size_t j = 0; j < (1 + S_M) * S_B * S_C; j++) {
        double fd = central_diff(sens_of, &c, c.logits, j);
        ck_assert_msg(fabs(fd - grad[j]) < 1e-4 * fmax(1.0, fabs(grad[j])),
                      "d/dlogits[%zu]: %g, finite differences %g", j, grad[j], fd);
    }
    /* dz NULL: only the sensitivity's part */
    double g2[(1 + S_M) * S_B * S_C];
    lf__dau_sensitivity_bwd(c.logits, S_B, S_C, S_M, S_SIGMA, NULL, c.ds, g2);
    for (int j = 0; j < S_B * S_C; j++)
        ck_assert_double_eq_tol(g2[j], grad[j] - c.dz[j], 1e-12);
}
END_TEST

typedef struct ce_case {
    float logits[12];
} ce_case;

static double ce_of(void *ctx, float *x)
{
    (void)ctx;
    return lf__dau_attacker_ce(x, 6, 4, 1, 1.0, NULL, NULL);
}

START_TEST(attacker_ce_value_gradient_and_accuracy)
{
    ce_case c;
    unsigned long long s = 9;
    random_floats(c.logits, 12, -3.0, 3.0, &s);
    float d[12];
    int64_t correct = -1;
    double loss = lf__dau_attacker_ce(c.logits, 6, 4, 1, 2.0, d, &correct);
    double want = 0;
    int64_t ok = 0;
    for (int i = 0; i < 6; i++) {
        int y = i < 4 ? 1 : 0;
        double a = c.logits[2 * i], b = c.logits[2 * i + 1];
        want += log(exp(a) + exp(b)) - (y ? b : a);
        ok += (b > a) == y;
    }
    ck_assert_double_eq_tol(loss, want / 6, 1e-12);
    ck_assert_int_eq(correct, ok);
    for (size_t j = 0; j < 12; j++)   /* weight 2 scales the gradient */
        ck_assert_double_eq_tol(d[j], 2.0 * central_diff(ce_of, &c, c.logits, j), 1e-5);
}
END_TEST

/* ---- behaviour ---- */

enum { N_TRAIN = 200, N_HOLD = 200, CLASSES = 4, SIDE = 4 };

static lf_context *ctx;
static lf_dataset *train, *holdout, *blobs, *blobs_hold;
static lf_model *memoriser, *cnn;

static lf_dataset *random_labels(size_t n, unsigned long long seed)
{
    return lf_test_random_labels(ctx, n, CLASSES, SIDE, seed);
}

static void setup(void)
{
    ctx = lf_test_context(LF_BACKEND_AUTO);
    train = random_labels(N_TRAIN, 1234);
    holdout = random_labels(N_HOLD, 99);
    memoriser = lf_test_trained(ctx, "mlp", train, 150, LF_LR_COSINE);
    blobs = lf_test_blobs(ctx, 96, CLASSES, 1, 8, 8, 5);
    blobs_hold = lf_test_blobs(ctx, 48, CLASSES, 1, 8, 8, 6);
    cnn = lf_test_trained(ctx, "convnet", blobs, 2, LF_LR_COSINE);
}

static void teardown(void)
{
    lf_model_destroy(cnn);
    lf_model_destroy(memoriser);
    lf_dataset_destroy(blobs_hold);
    lf_dataset_destroy(blobs);
    lf_dataset_destroy(holdout);
    lf_dataset_destroy(train);
    lf_context_destroy(ctx);
}

/* A dau request with test-sized settings, pinned so that the shipped defaults can move: 3
 * epochs at lr 0.01, 150 pre-training steps, 4 copies, and the spec's B' = min(B, n_f, |D_v|)
 * (no side_batch cap). */
static lf_request *dau_request(const lf_dataset *tr, const lf_dataset *ho, lf_forget_spec spec)
{
    lf_request *req = NULL;
    ck_assert_lf_ok(lf_request_create(&req, ctx, "dau"));
    ck_assert_lf_ok(lf_request_set_train(req, tr));
    if (ho)
        ck_assert_lf_ok(lf_request_set_holdout(req, ho));
    ck_assert_lf_ok(lf_request_set_forget(req, &spec));
    ck_assert_lf_ok(lf_request_set_seed(req, 3));
    ck_assert_lf_ok(lf_request_set_int(req, "batch", 32));
    ck_assert_lf_ok(lf_request_set_int(req, "dau.pretrain_steps", 150));
    ck_assert_lf_ok(lf_request_set_int(req, "dau.sens_copies", 4));
    ck_assert_lf_ok(lf_request_set_double(req, "dau.sens_sigma", 1e-2));
    ck_assert_lf_ok(lf_request_set_int(req, "dau.side_batch", 0));
    ck_assert_lf_ok(lf_request_set_int(req, "epochs", 3));
    ck_assert_lf_ok(lf_request_set_double(req, "lr", 0.01));
    return req;
}

/* A freshly pre-trained attacker's accuracy on the first forget/validation batch under m: a
 * dau run that pre-trains and takes one step at a negligible learning rate. */
static double fresh_attacker_acc(const lf_model *m, lf_forget_spec spec)
{
    lf_request *req = dau_request(train, holdout, spec);
    ck_assert_lf_ok(lf_request_set_double(req, "lr", 1e-8));
    ck_assert_lf_ok(lf_request_set_int(req, "epochs", 1));
    ck_assert_lf_ok(lf_request_set_int(req, "batch", 160));
    lf_model *out = NULL;
    lf_unlearn_result r = LF_UNLEARN_RESULT_INIT;
    ck_assert_lf_ok(lf_unlearn(req, m, &out, &r));
    ck_assert_int_eq(r.steps, 1);
    double acc = lf_test_figure(&r, "dau.attacker_acc_first");
    lf_model_destroy(out);
    lf_request_destroy(req);
    return acc;
}

START_TEST(membership_leak_falls_and_the_input_is_untouched)
{
    float *before = lf_test_params(memoriser);
    lf_request *req = dau_request(train, holdout, lf_test_random_spec(0.2));
    ck_assert_lf_ok(lf_request_set_int(req, "epochs", 10));
    lf_model *out = NULL;
    lf_unlearn_result r = LF_UNLEARN_RESULT_INIT;
    ck_assert_lf_ok(lf_unlearn(req, memoriser, &out, &r));
    float *after = lf_test_params(memoriser);
    ck_assert_msg(memcmp(before, after, lf_model_num_params(memoriser) * sizeof(float)) == 0,
                  "dau changed its input model");
    ck_assert_int_eq(r.epochs, 10);
    ck_assert_int_eq(r.steps, 10 * 5);   /* 160 retain samples in batches of 32 */
    ck_assert_int_eq(lf_test_figure(&r, "dau.attacker_steps"), 50);
    ck_assert(isfinite(r.final_loss));
    ck_assert(isfinite(lf_test_figure(&r, "dau.bt_loss")) && isfinite(lf_test_figure(&r, "dau.adv_loss")));
    /* pre-training learns the memoriser's membership signal (chance 0.5) */
    double pre = lf_test_figure(&r, "dau.pretrain_acc");
    ck_assert_msg(pre > 0.75, "pre-trained attacker accuracy %g", pre);

    double leak0 = fresh_attacker_acc(memoriser, lf_test_random_spec(0.2));
    double leak1 = fresh_attacker_acc(out, lf_test_random_spec(0.2));
    ck_assert_msg(leak0 > 0.75, "the memoriser's forget set looks unseen already (%g)", leak0);
    ck_assert_msg(leak1 < leak0 - 0.15, "fresh attacker accuracy %g after dau, %g before", leak1,
                  leak0);

    lf_dataset *retain = NULL, *forget = NULL;
    lf_forget_spec spec = lf_test_random_spec(0.2);
    ck_assert_lf_ok(lf_dataset_split_forget(&retain, &forget, train, &spec));
    double ra0 = lf_test_accuracy(memoriser, retain), ra1 = lf_test_accuracy(out, retain);
    ck_assert_msg(ra1 >= ra0 - 0.1, "retain accuracy %g after dau, %g before", ra1, ra0);
    lf_dataset_destroy(retain);
    lf_dataset_destroy(forget);
    free(before);
    free(after);
    lf_model_destroy(out);
    lf_request_destroy(req);
}
END_TEST

/* Batch norm (train-mode passes, running statistics) and noise: a convnet twice with one seed,
 * once with another. */
START_TEST(same_seed_same_model)
{
    float *p[3];
    float *b[3];
    size_t nb = 0;
    for (int k = 0; k < 3; k++) {
        lf_request *req = dau_request(blobs, blobs_hold, lf_test_random_spec(0.25));
        ck_assert_lf_ok(lf_request_set_int(req, "dau.pretrain_steps", 20));
        if (k == 2)
            ck_assert_lf_ok(lf_request_set_seed(req, 4));
        lf_model *out = NULL;
        ck_assert_lf_ok(lf_unlearn(req, cnn, &out, NULL));
        p[k] = lf_test_params(out);
        nb = out->n_buffers;   /* the running statistics */
        ck_assert_uint_gt(nb, 0);
        b[k] = malloc(nb * sizeof(float));
        ck_assert_lf_ok(LF__BE(ctx, mem_download, b[k], out->buffers, nb * sizeof(float)));
        lf_model_destroy(out);
        lf_request_destroy(req);
    }
    size_t n = lf_model_num_params(cnn);
    ck_assert(memcmp(p[0], p[1], n * sizeof(float)) == 0);
    ck_assert(memcmp(b[0], b[1], nb * sizeof(float)) == 0);
    ck_assert(memcmp(p[0], p[2], n * sizeof(float)) != 0);
    for (int k = 0; k < 3; k++)
        free(p[k]), free(b[k]);
}
END_TEST

/* The parameters of a dau run on blobs with B = 32 and the given side_batch cap. */
static float *run_with_side_batch(int64_t side_batch)
{
    lf_request *req = dau_request(blobs, blobs_hold, lf_test_random_spec(0.25));
    ck_assert_lf_ok(lf_request_set_int(req, "dau.pretrain_steps", 20));
    ck_assert_lf_ok(lf_request_set_int(req, "dau.side_batch", side_batch));
    lf_model *out = NULL;
    ck_assert_lf_ok(lf_unlearn(req, cnn, &out, NULL));
    float *p = lf_test_params(out);
    lf_model_destroy(out);
    lf_request_destroy(req);
    return p;
}

/* dau.side_batch caps B' only: a cap above min(B, n_f, |D_v|) changes nothing, one below it
 * changes the run. */
START_TEST(side_batch_caps_the_forget_and_validation_batch)
{
    size_t n = lf_model_num_params(cnn);
    float *spec = run_with_side_batch(0), *above = run_with_side_batch(64),
          *below = run_with_side_batch(8);
    ck_assert(memcmp(spec, above, n * sizeof(float)) == 0);
    ck_assert(memcmp(spec, below, n * sizeof(float)) != 0);
    free(spec), free(above), free(below);
}
END_TEST

typedef struct counter {
    int64_t calls, pretrain, attacked, stop_at;
    double  last_loss;
} counter;

static int count_progress(void *user, const lf_progress *p)
{
    counter *c = user;
    c->calls++;
    if (strcmp(p->phase, "dau-pretrain") == 0) {
        c->pretrain++;
    } else {
        ck_assert_str_eq(p->phase, "dau");
        c->attacked += isfinite(p->metric);
        c->last_loss = p->loss;
    }
    return c->stop_at > 0 && c->calls >= c->stop_at;
}

/* Class-wise: β = 0 after T_s steps, and the attacker stops with it. */
START_TEST(classwise_schedule_stops_the_attacker)
{
    lf_request *req = dau_request(blobs, blobs_hold, lf_test_class_spec(1));
    ck_assert_lf_ok(lf_request_set_int(req, "dau.stop_iter", 3));
    ck_assert_lf_ok(lf_request_set_int(req, "dau.pretrain_steps", 10));
    ck_assert_lf_ok(lf_request_set_int(req, "batch", 16));
    ck_assert_lf_ok(lf_request_set_int(req, "epochs", 2));
    counter c = { 0 };
    ck_assert_lf_ok(lf_request_set_progress(req, count_progress, &c));
    lf_model *out = NULL;
    lf_unlearn_result r = LF_UNLEARN_RESULT_INIT;
    ck_assert_lf_ok(lf_unlearn(req, cnn, &out, &r));
    ck_assert_int_eq(r.forget_size, 24);
    ck_assert_int_eq(r.steps, 2 * 5);   /* 72 retain samples in batches of 16 */
    ck_assert_int_eq(c.pretrain, 10);
    ck_assert_int_eq(c.calls, 10 + r.steps);
    ck_assert_int_eq(c.attacked, 3);
    ck_assert_int_eq(lf_test_figure(&r, "dau.attacker_steps"), 3);
    ck_assert_double_eq(c.last_loss, r.final_loss);
    lf_model_destroy(out);
    lf_request_destroy(req);

    /* the repair schedule acts after T_s only: cosine and constant part ways there */
    float *after[2];
    for (int k = 0; k < 2; k++) {
        req = dau_request(blobs, blobs_hold, lf_test_class_spec(1));
        ck_assert_lf_ok(lf_request_set_int(req, "dau.stop_iter", 3));
        ck_assert_lf_ok(lf_request_set_int(req, "dau.pretrain_steps", 10));
        ck_assert_lf_ok(lf_request_set_int(req, "batch", 16));
        ck_assert_lf_ok(lf_request_set_param(req, "dau.repair_schedule", k ? "cosine" : "constant"));
        ck_assert_lf_ok(lf_unlearn(req, cnn, &out, NULL));
        after[k] = lf_test_params(out);
        lf_model_destroy(out);
        lf_request_destroy(req);
    }
    ck_assert(memcmp(after[0], after[1], lf_model_num_params(cnn) * sizeof(float)) != 0);
    free(after[0]), free(after[1]);

    /* T_s past half the run (30 of 10 steps): the second half still repairs */
    req = dau_request(blobs, blobs_hold, lf_test_class_spec(1));
    ck_assert_lf_ok(lf_request_set_int(req, "dau.stop_iter", 30));
    ck_assert_lf_ok(lf_request_set_int(req, "dau.pretrain_steps", 10));
    ck_assert_lf_ok(lf_request_set_int(req, "batch", 16));
    ck_assert_lf_ok(lf_request_set_int(req, "epochs", 2));
    r = (lf_unlearn_result)LF_UNLEARN_RESULT_INIT;
    ck_assert_lf_ok(lf_unlearn(req, cnn, &out, &r));
    ck_assert_int_eq(r.steps, 10);
    ck_assert_int_eq(lf_test_figure(&r, "dau.attacker_steps"), 5);
    lf_model_destroy(out);
    lf_request_destroy(req);
}
END_TEST

/* Random forgetting: the attacker plays every step unless T_s is given, then the first T_s. */
START_TEST(random_schedule_only_when_given)
{
    for (int k = 0; k < 2; k++) {
        lf_request *req = dau_request(blobs, blobs_hold, lf_test_random_spec(0.25));
        if (k)
            ck_assert_lf_ok(lf_request_set_int(req, "dau.stop_iter", 2));
        ck_assert_lf_ok(lf_request_set_int(req, "dau.pretrain_steps", 10));
        ck_assert_lf_ok(lf_request_set_int(req, "batch", 16));
        lf_model *out = NULL;
        lf_unlearn_result r = LF_UNLEARN_RESULT_INIT;
        ck_assert_lf_ok(lf_unlearn(req, cnn, &out, &r));
        ck_assert_int_gt(r.steps, 4);
        ck_assert_int_eq(lf_test_figure(&r, "dau.attacker_steps"), k ? 2 : r.steps);
        lf_model_destroy(out);
        lf_request_destroy(req);
    }
}
END_TEST

START_TEST(abort_and_missing_holdout)
{
    const int64_t stops[2] = { 5, 25 };   /* during pre-training, during unlearning */
    for (int k = 0; k < 2; k++) {
        lf_request *req = dau_request(blobs, blobs_hold, lf_test_random_spec(0.25));
        ck_assert_lf_ok(lf_request_set_int(req, "dau.pretrain_steps", 20));
        counter c = { 0 };
        c.stop_at = stops[k];
        ck_assert_lf_ok(lf_request_set_progress(req, count_progress, &c));
        lf_model *out = (lf_model *)1;
        ck_assert_lf_status(lf_unlearn(req, cnn, &out, NULL), LF_E_ABORTED);
        ck_assert_ptr_null(out);
        ck_assert_int_eq(c.calls, stops[k]);
        lf_request_destroy(req);
    }
    lf_request *req = dau_request(blobs, NULL, lf_test_random_spec(0.25));
    lf_model *out = NULL;
    ck_assert_lf_status(lf_unlearn(req, cnn, &out, NULL), LF_E_STATE);
    ck_assert_ptr_null(out);
    ck_assert(strstr(lf_last_error_message(), "holdout") != NULL);
    lf_request_destroy(req);
}
END_TEST

/* A pruned convnet stays pruned; one forget sample (B' = 1: no Barlow Twins) works. */
START_TEST(sparse_model_and_a_single_sample)
{
    lf_model *sparse = NULL;
    ck_assert_lf_ok(lf_model_clone(&sparse, cnn));
    ck_assert_lf_ok(lf_model_prune(sparse, 0.5));
    float *p0 = lf_test_params(sparse);
    lf_forget_spec one = LF_FORGET_SPEC_INIT;
    int64_t idx = 3;
    one.kind = LF_FORGET_INDICES;
    one.indices = &idx;
    one.n_indices = 1;
    lf_request *req = dau_request(blobs, blobs_hold, one);
    ck_assert_lf_ok(lf_request_set_int(req, "dau.pretrain_steps", 10));
    lf_model *out = NULL;
    lf_unlearn_result r = LF_UNLEARN_RESULT_INIT;
    ck_assert_lf_ok(lf_unlearn(req, sparse, &out, &r));
    ck_assert(isnan(lf_test_figure(&r, "dau.bt_loss")));
    float *p1 = lf_test_params(out);
    size_t n = lf_model_num_params(out), zeros0 = 0, changed = 0;
    for (size_t i = 0; i < n; i++) {
        zeros0 += p0[i] == 0.0f;
        changed += p0[i] != p1[i];
        if (p0[i] == 0.0f && p1[i] != 0.0f)   /* the only exact zeros are pruned weights */
            ck_assert_msg(0, "parameter %zu was 0 (pruned) and is %g after dau", i, p1[i]);
    }
    ck_assert_uint_gt(zeros0, 0);
    ck_assert_uint_gt(changed, 0);
    free(p0);
    free(p1);
    lf_model_destroy(out);
    lf_model_destroy(sparse);
    lf_request_destroy(req);
}
END_TEST

static Suite *dau_suite(void)
{
    Suite *s = suite_create("dau");
    TCase *terms = tcase_create("terms");
    tcase_add_test(terms, barlow_twins_gradient_matches_finite_differences);
    tcase_add_test(terms, sensitivity_value_and_gradient);
    tcase_add_test(terms, attacker_ce_value_gradient_and_accuracy);
    suite_add_tcase(s, terms);
    TCase *tc = tcase_create("behaviour");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, membership_leak_falls_and_the_input_is_untouched);
    tcase_add_test(tc, same_seed_same_model);
    tcase_add_test(tc, side_batch_caps_the_forget_and_validation_batch);
    tcase_add_test(tc, classwise_schedule_stops_the_attacker);
    tcase_add_test(tc, random_schedule_only_when_given);
    tcase_add_test(tc, abort_and_missing_holdout);
    tcase_add_test(tc, sparse_model_and_a_single_sample);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(dau_suite)
