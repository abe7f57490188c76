/* IU — influence unlearning (METHODS.md), eval mode: one Newton-like jump θ ← θ₀ + α·k with
 * k ≈ H⁻¹v, v = (n_f/n)·(mean_{D_f} ∇ℓ − mean_{D_r} ∇ℓ) over all parameters, H the retain
 * loss's Hessian.
 *
 * Solvers:
 *  cg          (default) conjugate gradients on (H + λI)k = v, Hessian-vector products by
 *              central differences of gradients over a retain subsample S (lf__hvp), starting
 *              from k = 0; stops after `iters` iterations, at a relative residual ‖r‖/‖v‖ <
 *              `tol`, or at non-positive curvature pᵀ(H + λI)p (H need not be positive
 *              definite away from a minimum; a warning is logged). k is the iterate of the
 *              smallest residual, not necessarily the last: CG's residual is not monotone, and
 *              the finite-difference products are noisy (on ReLU nets a step of 1e-3 crosses
 *              activation kinks), which can make late iterates worse.
 *              lf_unlearn_result: steps = CG iterations run, final_loss = the relative residual
 *              of the returned k (CG's recursive one; 1 when no iterate improved on k = 0).
 *  woodfisher  the reference's code: k = v, o = ∇ℓ(r₀); for t = 1..1001: g = ∇ℓ(r_t),
 *              τ = o·g, k −= (k·g)/(N + τ)·o, o ·= N/(N + τ), N = 1000, over the retain samples
 *              in order (fewer when the retain set is smaller). As METHODS.md notes this is
 *              v − β·g₁, not an inverse-Hessian product; kept for comparability.
 *              steps = iterations, final_loss = NaN.
 *
 * Vectors over all parameters are host floats (dot products in double): cg holds six of
 * them, woodfisher three, plus three backend blocks for the products. Sparse models: every
 * gradient is masked, so v, k and the step live on the live weights only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "methods/method.h"
#include "methods/grad_tools.h"
#include "core/dataset_internal.h"

#define GRAD_BATCH 256    /* rows per eval-mode gradient pass (a training batch's memory) */
#define WF_N       1000.0
#define WF_ITERS   1001

enum { SOLVER_CG = 0, SOLVER_WOODFISHER = 1 };

/* The default solver is the reference's WoodFisher loop, not METHODS.md's cg: on the
 * Fashion-MNIST convnet, cg meets non-positive curvature at its second iteration for every
 * damping up to lambda = 1 and returns k = 0 (the original model), while woodfisher at alpha 1
 * has the lowest Avg. Disparity of the sweep (bench/RESULTS.md). */
static const lf__param_spec iu_params[] = {
    { LF_PARAM_CHOICE, "solver", "k ~ H^-1 v by conjugate gradients (cg) or the reference's "
      "WoodFisher loop", SOLVER_WOODFISHER, 0, 0, "cg|woodfisher", "woodfisher" },
    { LF_PARAM_DOUBLE, "alpha", "step scale: theta += alpha * k", 1.0, 0.0, 1e6, NULL, NULL },
    { LF_PARAM_INT, "subsample", "cg: retain samples S of the Hessian-vector products (seeded; "
      "all when larger than the retain set)", 2048, 1, 1e9, NULL, NULL },
    { LF_PARAM_DOUBLE, "lambda", "cg: damping, solves (H + lambda I) k = v", 1e-3, 0.0, 1e6,
      NULL, NULL },
    { LF_PARAM_INT, "iters", "cg: at most this many iterations", 20, 1, 10000, NULL, NULL },
    { LF_PARAM_DOUBLE, "tol", "cg: stop at relative residual |r|/|v| below this", 1e-2, 0.0, 1.0,
      NULL, NULL },
    { LF_PARAM_DOUBLE, "fd_step", "cg: finite-difference step, eps = fd_step/|u|", 1e-3, 1e-8,
      1.0, NULL, NULL },
};

/* Host vectors of n_params floats, freed together. */
typedef struct iu_vecs {
    float *v[6];
    int    count;
    size_t n;
} iu_vecs;

static lf_status vecs_alloc(iu_vecs *w, lf_context *ctx, size_t n, int count)
{
    memset(w, 0, sizeof *w);
    w->n = n;
    w->count = count;
    for (int i = 0; i < count; i++)
        if (!(w->v[i] = lf__calloc(ctx, n, sizeof(float), "an influence vector (host)")))
            return LF_E_NOMEM;
    return LF_OK;
}

static void vecs_free(iu_vecs *w, lf_context *ctx)
{
    for (int i = 0; i < w->count; i++)
        lf__free(ctx, w->v[i], w->n * sizeof(float));
}

/* v = (n_f/n)·(mean_f ∇ℓ − mean_r ∇ℓ); tmp is scratch. */
static lf_status forget_direction(lf__unlearn_job *job, lf__grad_pass *g, float *v, float *tmp,
                                  lf__grad_progress *p)
{
    lf_model *m = job->model;
    size_t nf = job->forget->n, nr = job->retain->n;
    double c = (double)nf / (double)(nf + nr);
    LF__TRY(lf__grad_mean(g, job->forget, NULL, nf, NULL, p));
    LF__TRY(lf__grad_download(m, tmp));
    LF__TRY(lf__grad_mean(g, job->retain, NULL, nr, NULL, p));
    LF__TRY(lf__grad_download(m, v));
    for (size_t j = 0; j < m->n_params; j++)
        v[j] = (float)(c * ((double)tmp[j] - (double)v[j]));
    return LF_OK;
}

/* S: `size` distinct retain indices drawn with the job's seed, ascending (NULL = all). */
static lf_status choose_subsample(const lf__unlearn_job *job, size_t size, int64_t **out)
{
    size_t nr = job->retain->n;
    *out = NULL;
    if (size >= nr)
        return LF_OK;
    int64_t *all = lf__alloc(job->ctx, nr * sizeof(int64_t), "the retain subsample");
    if (!all)
        return LF_E_NOMEM;
    for (size_t i = 0; i < nr; i++)
        all[i] = (int64_t)i;
    lf__rng r;   /* a stream of its own: independent of the forget split's draws */
    lf__rng_init(&r, job->seed, LF__STREAM_SPLIT | ((uint64_t)0x4955u << 32));
    for (size_t i = 0; i < size; i++) {   /* a partial Fisher-Yates shuffle */
        size_t j = i + (size_t)lf__rng_below(&r, nr - i);
        int64_t t = all[i];
        all[i] = all[j];
        all[j] = t;
    }
    *out = all;
    return LF_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* CG on (H + λI)k = v from k = 0; k receives the iterate of the smallest residual. */
static lf_status solve_cg(lf__unlearn_job *job, lf__hvp *h, const float *v, float *k, float *x,
                          float *r, float *p, float *Ap)
{
    size_t np = job->model->n_params;
    double lambda = lf__job_param(job, "lambda"), tol = lf__job_param(job, "tol");
    int64_t iters = (int64_t)lf__job_param(job, "iters");
    double vnorm = sqrt(lf__dot(v, v, np));
    memset(k, 0, np * sizeof *k);
    memset(x, 0, np * sizeof *x);
    job->result->steps = 0;
    job->result->final_loss = 0.0;
    if (vnorm == 0.0)
        return LF_OK;   /* nothing to forget: k = 0 solves it */
    if (!isfinite(vnorm))
        return lf__error(LF_E_NUMERIC, "iu: the forget direction v is not finite");
    memcpy(r, v, np * sizeof *r);
    memcpy(p, v, np * sizeof *p);
    double rs = vnorm * vnorm, rel = 1.0, best = 1.0;
    for (int64_t it = 0; it < iters && rel >= tol; it++) {
        LF__TRY(lf__hvp_apply(h, p, Ap));
        for (size_t j = 0; j < np; j++)
            Ap[j] += (float)(lambda * (double)p[j]);
        double pAp = lf__dot(p, Ap, np);
        if (!(pAp > 0.0) || !isfinite(pAp)) {
            lf__log(job->ctx, LF_LOG_WARN, "iu: cg stopped at iteration %lld: curvature p'(H + "
                    "lambda I)p = %g is not positive (raise lambda?)", (long long)it + 1, pAp);
            break;
        }
        double a = rs / pAp;
        for (size_t j = 0; j < np; j++) {
            x[j] += (float)(a * (double)p[j]);
            r[j] -= (float)(a * (double)Ap[j]);
        }
        double rs_new = lf__dot(r, r, np);
        rel = sqrt(rs_new) / vnorm;
        job->result->steps = it + 1;
        if (rel < best) {
            best = rel;
            memcpy(k, x, np * sizeof *k);
        }
        double beta = rs_new / rs;
        for (size_t j = 0; j < np; j++)
            p[j] = r[j] + (float)(beta * (double)p[j]);
        rs = rs_new;
        if (h->progress)
            h->progress->loss = rel;
    }
    job->result->final_loss = best;
    return LF_OK;
}

static lf_status run_cg(lf__unlearn_job *job, lf__grad_pass *g, iu_vecs *w, lf__grad_progress *pr)
{
    size_t size = (size_t)lf__job_param(job, "subsample");
    int64_t *idx = NULL;
    LF__TRY(choose_subsample(job, size, &idx));
    size_t ns = idx ? size : job->retain->n;
    if (idx)
        qsort(idx, ns, sizeof *idx, cmp_i64);   /* the set matters, not the order */
    lf__hvp h;
    lf_status st = lf__hvp_init(&h, g, job->retain, idx, ns, lf__job_param(job, "fd_step"));
    if (st == LF_OK) {
        h.progress = pr;
        pr->phase = "iu.cg";
        pr->total = pr->step + 2 * (int64_t)lf__job_param(job, "iters") *
                    lf__grad_batches(ns, g->batch.capacity);
        st = solve_cg(job, &h, w->v[0], w->v[1], w->v[2], w->v[3], w->v[4], w->v[5]);
        lf__hvp_free(&h);
    }
    lf__free(job->ctx, idx, job->retain->n * sizeof(int64_t));
    return st;
}

/* The per-sample gradient of retain sample i into host g. */
static lf_status sample_grad(lf__unlearn_job *job, lf__grad_pass *gp, size_t i, float *g)
{
    LF__TRY(lf__model_zero_grads(job->model));
    LF__TRY(lf__grad_pass_forward(gp, job->retain, NULL, i, 1));
    LF__TRY(lf__grad_pass_backward(gp, -1, 1.0f));
    return lf__grad_download(job->model, g);
}

static lf_status run_woodfisher(lf__unlearn_job *job, lf__grad_pass *gp, iu_vecs *w,
                                lf__grad_progress *pr)
{
    size_t np = job->model->n_params, nr = job->retain->n;
    float *k = w->v[0], *o = w->v[1], *g = w->v[2];   /* k starts as v */
    size_t last = nr - 1 < WF_ITERS ? nr - 1 : WF_ITERS;
    pr->phase = "iu.woodfisher";
    pr->total = pr->step + (int64_t)last + 1;
    LF__TRY(sample_grad(job, gp, 0, o));
    LF__TRY(lf__grad_tick(pr, "iu"));
    for (size_t t = 1; t <= last; t++) {
        LF__TRY(sample_grad(job, gp, t, g));
        double tau = lf__dot(o, g, np), kg = lf__dot(k, g, np);
        double a = kg / (WF_N + tau), shrink = WF_N / (WF_N + tau);
        for (size_t j = 0; j < np; j++) {
            k[j] -= (float)(a * (double)o[j]);
            o[j] = (float)(shrink * (double)o[j]);
        }
        job->result->steps = (int64_t)t;
        LF__TRY(lf__grad_tick(pr, "iu"));
    }
    job->result->final_loss = NAN;
    return LF_OK;
}

/* θ = θ₀ + α·k (entries with α·k = 0 keep θ₀ bit for bit); tmp is scratch. */
static lf_status apply_step(lf_model *m, const float *k, double alpha, float *tmp)
{
    size_t np = m->n_params;
    LF__TRY(LF__BE(m->ctx, mem_download, tmp, m->params, np * sizeof(float)));
    for (size_t j = 0; j < np; j++) {
        double d = alpha * (double)k[j];
        if (d != 0.0)
            tmp[j] = (float)((double)tmp[j] + d);
    }
    LF__TRY(LF__BE(m->ctx, mem_upload, m->params, tmp, np * sizeof(float)));
    LF__TRY(lf__model_apply_masks(m, m->params));
    int64_t bad = 0;
    LF__TRY(LF__BE(m->ctx, count_nonfinite, &bad, m->params, (int64_t)np));
    if (bad)
        return lf__error(LF_E_NUMERIC, "iu: the step made %lld weights non-finite (alpha %g)",
                         (long long)bad, alpha);
    return LF_OK;
}

static lf_status iu_run(lf__unlearn_job *job)
{
    lf_model *m = job->model;
    int solver = (int)lf__job_param(job, "solver");
    size_t nf = job->forget->n, nr = job->retain->n, most = nf > nr ? nf : nr;
    int64_t cap = most < GRAD_BATCH ? (int64_t)most : GRAD_BATCH;
    lf__grad_progress pr = { job->progress, job->progress_user, "iu.gradient", 0,
                             lf__grad_batches(nf, cap) + lf__grad_batches(nr, cap), NAN };
    iu_vecs w;
    lf__grad_pass g;
    lf_status st = vecs_alloc(&w, job->ctx, m->n_params, solver == SOLVER_CG ? 6 : 3);
    if (st == LF_OK)
        st = lf__grad_pass_init(&g, m, cap);
    if (st == LF_OK) {
        st = forget_direction(job, &g, w.v[0], w.v[1], &pr);
        if (st == LF_OK)
            st = solver == SOLVER_CG ? run_cg(job, &g, &w, &pr) : run_woodfisher(job, &g, &w, &pr);
        lf__grad_pass_free(&g);
    }
    /* k is in v[1] for cg, v[0] for woodfisher */
    if (st == LF_OK)
        st = apply_step(m, solver == SOLVER_CG ? w.v[1] : w.v[0], lf__job_param(job, "alpha"),
                        w.v[2]);
    vecs_free(&w, job->ctx);
    return st;
}

const lf__method lf__method_iu = {
    "iu", "influence unlearning: one step along the inverse retain Hessian times the forget "
    "gradient",
    iu_params, sizeof iu_params / sizeof iu_params[0], iu_run, 0,
};
