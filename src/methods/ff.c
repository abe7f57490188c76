/* FF — Fisher forgetting (METHODS.md, the reference's "fisher_new"), eval mode: the diagonal
 * Fisher F of the retain set (batches of 32, every class's gradient weighted by its mean
 * probability) sets a per-parameter noise variance, large where the retain set does not care;
 * the new weights are θ = θ₀ + √var ⊙ ε, ε ~ N(0, I) from the library RNG (stream NOISE, element
 * j of the params block drawn at offset j, so the draw depends only on the seed).
 *
 * Per parameter tensor: var = min(1/(F + 1e-8), 1e3), capped at 1e2 in the last layer; ×α;
 * averaged per output unit (all dims but the first) for tensors of ndim > 1 — over the live
 * weights only on sparse models (METHODS.md's deviation); ×10 for the last layer and 1-D
 * tensors. Class-wise forgetting only: the forgotten class's row and bias of the last layer get
 * μ = 0, var = 1e-4. Pruned weights stay 0 (no noise). Entries of var 0 keep θ₀ bit for bit, so
 * α = 0 returns the original weights (class-wise: but for the forgotten class's row).
 *
 * "The last layer" is the tensors whose first dim is the number of classes in the layer of the
 * last parameter tensor (the reference tests the first dim alone, which would also catch a
 * hidden layer that happens to have C units). */
#include <math.h>
#include <string.h>

#include "methods/method.h"
#include "methods/grad_tools.h"
#include "core/dataset_internal.h"

#define FISHER_BATCH 32
#define VAR_CAP      1e3
#define VAR_CAP_LAST 1e2
#define VAR_RESET    1e-4
#define F_EPS        1e-8

static const lf__param_spec ff_params[] = {
    { LF_PARAM_DOUBLE, "alpha", "noise scale: var = alpha * min(1/(F + 1e-8), 1e3); useful range "
      "about 1e-9..1e-6; 0 keeps the weights", 1e-7, 0.0, 1.0, NULL, NULL },   /* the sweep's best */
};

/* The length of a tensor name's layer prefix ("fc2" of "fc2.weight"). */
static size_t layer_prefix_len(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot ? (size_t)(dot - name) : strlen(name);
}

static int in_last_layer(const lf_model *m, const lf__tensor_desc *t, const lf__tensor_desc *last)
{
    size_t k = layer_prefix_len(last->name);
    return t->shape[0] == m->num_classes && layer_prefix_len(t->name) == k &&
           strncmp(t->name, last->name, k) == 0;
}

/* var (host, the tensor's numel doubles) from the Fisher, in place; mask may be NULL. */
static void tensor_variance(double *v, const lf__tensor_desc *t, const uint8_t *mask, int last,
                            double alpha)
{
    for (size_t j = 0; j < t->numel; j++) {
        double x = fmin(1.0 / (v[j] + F_EPS), VAR_CAP);
        if (last)
            x = fmin(x, VAR_CAP_LAST);
        v[j] = alpha * x;
    }
    if (t->ndim > 1) {   /* one variance per output unit: its live entries' mean */
        size_t rows = (size_t)t->shape[0], cols = t->numel / rows;
        for (size_t r = 0; r < rows; r++) {
            double *row = v + r * cols, sum = 0.0;
            size_t live = 0;
            for (size_t c = 0; c < cols; c++)
                if (!mask || mask[r * cols + c]) {
                    sum += row[c];
                    live++;
                }
            double mean = live ? sum / (double)live : 0.0;
            for (size_t c = 0; c < cols; c++)
                row[c] = (!mask || mask[r * cols + c]) ? mean : 0.0;
        }
    }
    if (last || t->ndim == 1)
        for (size_t j = 0; j < t->numel; j++)
            v[j] *= 10.0;
}

typedef struct ff_work {
    double  *var;     /* host, n_params: the Fisher, then the variance */
    float   *theta;   /* host, n_params: θ₀, then the new weights */
    float   *eps;     /* host, n_params: the noise */
    uint8_t *mask;    /* host, n_mask (NULL for a dense model) */
    float   *eps_dev; /* backend, n_params */
} ff_work;

static lf_status ff_alloc(ff_work *w, lf_model *m)
{
    lf_context *ctx = m->ctx;
    size_t np = m->n_params;
    w->var = lf__calloc(ctx, np, sizeof(double), "the Fisher diagonal");
    w->theta = lf__alloc(ctx, np * sizeof(float), "the weights (host)");
    w->eps = lf__alloc(ctx, np * sizeof(float), "the noise (host)");
    if (!w->var || !w->theta || !w->eps)
        return LF_E_NOMEM;
    if (m->masks) {
        w->mask = lf__alloc(ctx, m->n_mask, "pruning masks (host)");
        if (!w->mask)
            return LF_E_NOMEM;
        LF__TRY(LF__BE(ctx, mem_download, w->mask, m->masks, m->n_mask));
    }
    return lf__nn_dev_alloc(ctx, (void **)&w->eps_dev, np, sizeof(float), 0, "the noise");
}

static void ff_free(ff_work *w, lf_model *m)
{
    lf_context *ctx = m->ctx;
    size_t np = m->n_params;
    lf__free(ctx, w->var, np * sizeof(double));
    lf__free(ctx, w->theta, np * sizeof(float));
    lf__free(ctx, w->eps, np * sizeof(float));
    lf__free(ctx, w->mask, m->n_mask);
    lf__nn_dev_free(ctx, w->eps_dev);
}

static lf_status fisher(lf__unlearn_job *job, double *F)
{
    lf__grad_progress p = { job->progress, job->progress_user, "ff.fisher", 0,
                            lf__grad_batches(job->retain->n, FISHER_BATCH), NAN };
    lf__grad_pass g;
    LF__TRY(lf__grad_pass_init(&g, job->model, FISHER_BATCH));
    lf_status st = lf__grad_fisher_diag(&g, job->retain, F, &p);
    lf__grad_pass_free(&g);
    job->result->steps = p.step;
    return st;
}

/* var from the Fisher for every parameter tensor, and the class-wise reset. */
static void variances(const lf__unlearn_job *job, ff_work *w, double alpha)
{
    const lf_model *m = job->model;
    const lf__tensor_desc *last = NULL;
    for (size_t i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].kind == LF__TENSOR_PARAM)
            last = &m->tensors[i];
    for (size_t i = 0; i < m->n_tensors; i++) {
        const lf__tensor_desc *t = &m->tensors[i];
        if (t->kind != LF__TENSOR_PARAM)
            continue;
        const uint8_t *mask = (w->mask && t->maskable) ? w->mask + t->mask_offset : NULL;
        int is_last = in_last_layer(m, t, last);
        double *v = w->var + t->offset;
        tensor_variance(v, t, mask, is_last, alpha);
        if (is_last && job->forget_class >= 0) {   /* the forgotten class's row / bias */
            size_t cols = t->numel / (size_t)t->shape[0], r = (size_t)job->forget_class;
            for (size_t c = 0; c < cols; c++) {
                w->theta[t->offset + r * cols + c] = 0.0f;
                v[r * cols + c] = VAR_RESET;
            }
        }
    }
}

static lf_status ff_run(lf__unlearn_job *job)
{
    lf_model *m = job->model;
    lf_context *ctx = m->ctx;
    size_t np = m->n_params;
    double alpha = lf__job_param(job, "alpha");
    ff_work w = { 0 };
    lf_status st = ff_alloc(&w, m);
    if (st == LF_OK)
        st = LF__BE(ctx, mem_download, w.theta, m->params, np * sizeof(float));
    /* with alpha = 0 every variance is 0 whatever the Fisher: skip the passes */
    if (st == LF_OK && alpha > 0.0)
        st = fisher(job, w.var);
    if (st == LF_OK) {
        variances(job, &w, alpha);
        st = LF__BE(ctx, rng_normal, w.eps_dev, (int64_t)np, job->seed, LF__STREAM_NOISE, 0, 0.0f,
                    1.0f);
    }
    if (st == LF_OK)
        st = LF__BE(ctx, mem_download, w.eps, w.eps_dev, np * sizeof(float));
    if (st == LF_OK) {
        for (size_t j = 0; j < np; j++)
            if (w.var[j] > 0.0)
                w.theta[j] = (float)((double)w.theta[j] + sqrt(w.var[j]) * (double)w.eps[j]);
        st = LF__BE(ctx, mem_upload, m->params, w.theta, np * sizeof(float));
    }
    if (st == LF_OK)
        st = lf__model_apply_masks(m, m->params);
    int64_t bad = 0;
    if (st == LF_OK)
        st = LF__BE(ctx, count_nonfinite, &bad, m->params, (int64_t)np);
    if (st == LF_OK && bad)
        st = lf__error(LF_E_NUMERIC, "ff: %lld weights are not finite after the noise (alpha %g)",
                       (long long)bad, alpha);
    ff_free(&w, m);
    job->result->final_loss = NAN;
    return st;
}

const lf__method lf__method_ff = {
    "ff", "Fisher forgetting: Gaussian noise scaled by the inverse retain-set Fisher diagonal",
    ff_params, sizeof ff_params / sizeof ff_params[0], ff_run, 0,
};
