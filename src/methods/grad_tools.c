/* Eval-mode cross-entropy gradients over data sets (see grad_tools.h): the batch loop, the
 * Fisher diagonal of FF and the finite-difference Hessian-vector products of IU.
 *
 * The backend has no element-wise product, so the Fisher's squares are accumulated on the host
 * from a download of the gradient block (in double). */
#include <math.h>
#include <string.h>

#include "methods/grad_tools.h"
#include "core/dataset_internal.h"

lf_status lf__grad_tick(lf__grad_progress *p, const char *who)
{
    if (!p)
        return LF_OK;
    p->step++;
    if (!p->fn)
        return LF_OK;
    lf_progress pr = { (uint32_t)sizeof pr, -1, p->step, p->total, p->loss, NAN, p->phase };
    if (p->fn(p->user, &pr) != 0)
        return lf__error(LF_E_ABORTED, "%s: aborted by the progress callback at step %lld (%s)",
                         who, (long long)p->step, p->phase);
    return LF_OK;
}

/* ---- batches ---- */

lf_status lf__grad_pass_init(lf__grad_pass *g, lf_model *m, int64_t capacity)
{
    memset(g, 0, sizeof *g);
    g->m = m;
    g->class_of_labels = -1;
    g->rows = -1;
    size_t B = (size_t)capacity, C = (size_t)m->num_classes;
    lf_status st = lf__batch_init(&g->batch, m, capacity);
    if (st == LF_OK)
        st = lf__nn_dev_alloc(m->ctx, (void **)&g->probs, B * C, sizeof(float), 0, "probabilities");
    if (st == LF_OK)
        st = lf__nn_dev_alloc(m->ctx, (void **)&g->loss, B, sizeof(float), 0, "losses");
    if (st == LF_OK)
        st = lf__nn_dev_alloc(m->ctx, (void **)&g->dlogits, B * C, sizeof(float), 0, "logit gradients");
    if (st == LF_OK)
        st = lf__nn_dev_alloc(m->ctx, (void **)&g->class_labels, B, sizeof(int32_t), 0,
                              "class labels");
    if (st == LF_OK) {
        g->weight_host = lf__calloc(m->ctx, B, sizeof(float), "loss weights");
        g->label_host = lf__calloc(m->ctx, B, sizeof(int32_t), "class labels (host)");
        g->loss_host = lf__calloc(m->ctx, B, sizeof(float), "losses (host)");
        if (!g->weight_host || !g->label_host || !g->loss_host)
            st = LF_E_NOMEM;
    }
    if (st == LF_OK)
        st = lf__model_ensure_grads(m);
    if (st != LF_OK)
        lf__grad_pass_free(g);
    return st;
}

void lf__grad_pass_free(lf__grad_pass *g)
{
    if (!g->m)
        return;
    lf_context *ctx = g->m->ctx;
    size_t B = (size_t)g->batch.capacity;
    lf__nn_dev_free(ctx, g->probs);
    lf__nn_dev_free(ctx, g->loss);
    lf__nn_dev_free(ctx, g->dlogits);
    lf__nn_dev_free(ctx, g->class_labels);
    lf__free(ctx, g->weight_host, B * sizeof(float));
    lf__free(ctx, g->label_host, B * sizeof(int32_t));
    lf__free(ctx, g->loss_host, B * sizeof(float));
    lf__batch_free(&g->batch);
    memset(g, 0, sizeof *g);
}

lf_status lf__grad_pass_forward_mode(lf__grad_pass *g, const lf_dataset *ds, const int64_t *idx,
                                     size_t first, int64_t rows, int train)
{
    lf_model *m = g->m;
    lf__batch *b = &g->batch;
    g->rows = -1;
    LF__TRY(lf__batch_load_dataset(b, ds, idx, first, rows));
    LF__TRY(m->arch->forward(m, b->x, rows, train ? LF__FWD_TRAIN : LF__FWD_EVAL, b->logits));
    LF__TRY(LF__BE(m->ctx, softmax_xent_fwd, g->loss, g->probs, b->logits, b->labels, rows,
                   m->num_classes));
    g->rows = rows;
    g->fresh = 1;
    g->train = train;
    return LF_OK;
}

lf_status lf__grad_pass_forward(lf__grad_pass *g, const lf_dataset *ds, const int64_t *idx,
                                size_t first, int64_t rows)
{
    return lf__grad_pass_forward_mode(g, ds, idx, first, rows, 0);
}

/* An eval-mode forward can be run again from the staged inputs; a train-mode one cannot (it
 * would update the running statistics twice). */
static lf_status ensure_fresh(lf__grad_pass *g)
{
    lf_model *m = g->m;
    if (g->rows < 1)
        return lf__error(LF_E_STATE, "gradient pass: backward without a forward");
    if (!g->fresh) {
        if (g->train)
            return lf__error(LF_E_STATE, "gradient pass: a second backward after a train-mode forward");
        LF__TRY(m->arch->forward(m, g->batch.x, g->rows, LF__FWD_EVAL, g->batch.logits));
    }
    g->fresh = 0;
    return LF_OK;
}

lf_status lf__grad_pass_mean_ce_backward(lf__grad_pass *g, double *mean_loss)
{
    int64_t n = g->rows;
    if (n < 1)
        return lf__error(LF_E_STATE, "gradient pass: backward without a forward");
    LF__TRY(LF__BE(g->m->ctx, mem_download, g->loss_host, g->loss, (size_t)n * sizeof(float)));
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += g->loss_host[i];
    *mean_loss = s / (double)n;
    return lf__grad_pass_backward(g, -1, (float)(1.0 / (double)n));
}

lf_status lf__grad_pass_backward_dlogits(lf__grad_pass *g, const float *dlogits_host)
{
    lf_model *m = g->m;
    LF__TRY(ensure_fresh(g));
    LF__TRY(LF__BE(m->ctx, mem_upload, g->dlogits, dlogits_host,
                   (size_t)g->rows * (size_t)m->num_classes * sizeof(float)));
    return m->arch->backward(m, g->dlogits, g->rows, NULL, NULL);
}

lf_status lf__grad_pass_backward(lf__grad_pass *g, int32_t label, float weight)
{
    lf_model *m = g->m;
    lf__batch *b = &g->batch;
    int64_t rows = g->rows;
    LF__TRY(ensure_fresh(g));
    const int32_t *labels = b->labels;
    if (label >= 0) {
        if (g->class_of_labels != label) {
            for (int64_t i = 0; i < b->capacity; i++)
                g->label_host[i] = label;
            g->class_of_labels = -1;
            LF__TRY(LF__BE(m->ctx, mem_upload, g->class_labels, g->label_host,
                           (size_t)b->capacity * sizeof(int32_t)));
            g->class_of_labels = label;
        }
        labels = g->class_labels;
    }
    for (int64_t i = 0; i < rows; i++)
        g->weight_host[i] = weight;
    LF__TRY(LF__BE(m->ctx, softmax_xent_bwd, g->dlogits, g->probs, labels, g->weight_host, rows,
                   m->num_classes));
    return m->arch->backward(m, g->dlogits, rows, NULL, NULL);
}

lf_status lf__grad_mean(lf__grad_pass *g, const lf_dataset *ds, const int64_t *idx, size_t n,
                        double *mean_loss, lf__grad_progress *p)
{
    lf_model *m = g->m;
    size_t B = (size_t)g->batch.capacity;
    float w = (float)(1.0 / (double)n);
    double sum = 0.0;
    LF__TRY(lf__model_zero_grads(m));
    for (size_t done = 0; done < n; done += B) {
        int64_t rows = (int64_t)(n - done < B ? n - done : B);
        LF__TRY(lf__grad_pass_forward(g, ds, idx ? idx + done : NULL, done, rows));
        if (mean_loss) {
            LF__TRY(LF__BE(m->ctx, mem_download, g->loss_host, g->loss, (size_t)rows * sizeof(float)));
            for (int64_t i = 0; i < rows; i++)
                sum += g->loss_host[i];
        }
        LF__TRY(lf__grad_pass_backward(g, -1, w));
        LF__TRY(lf__grad_tick(p, "gradient pass"));
    }
    if (mean_loss)
        *mean_loss = sum / (double)n;
    return LF_OK;
}

lf_status lf__grad_download(lf_model *m, float *host)
{
    LF__TRY(lf__model_apply_masks(m, m->grads));
    return LF__BE(m->ctx, mem_download, host, m->grads, m->n_params * sizeof(float));
}

/* ---- the Fisher diagonal ---- */

lf_status lf__grad_fisher_diag(lf__grad_pass *g, const lf_dataset *ds, double *fisher,
                               lf__grad_progress *p)
{
    lf_model *m = g->m;
    lf_context *ctx = m->ctx;
    size_t np = m->n_params, B = (size_t)g->batch.capacity, C = (size_t)m->num_classes;
    size_t n = ds->n;
    int64_t batches = lf__grad_batches(n, (int64_t)B);
    float *grad = lf__alloc(ctx, np * sizeof(float), "a gradient (host)");
    float *probs = lf__alloc(ctx, B * C * sizeof(float), "probabilities (host)");
    lf_status st = grad && probs ? LF_OK : LF_E_NOMEM;
    if (st == LF_OK)
        memset(fisher, 0, np * sizeof *fisher);
    for (size_t first = 0; st == LF_OK && first < n; first += B) {
        int64_t rows = (int64_t)(n - first < B ? n - first : B);
        st = lf__grad_pass_forward(g, ds, NULL, first, rows);
        if (st == LF_OK)
            st = LF__BE(ctx, mem_download, probs, g->probs, (size_t)rows * C * sizeof(float));
        for (size_t y = 0; st == LF_OK && y < C; y++) {
            double mean_p = 0.0;   /* the weight of class y: mean_i p_y(x_i) */
            for (int64_t i = 0; i < rows; i++)
                mean_p += probs[(size_t)i * C + y];
            mean_p /= (double)rows;
            st = lf__model_zero_grads(m);
            if (st == LF_OK)   /* ∂ mean_i −log p_y(x_i) */
                st = lf__grad_pass_backward(g, (int32_t)y, (float)(1.0 / (double)rows));
            if (st == LF_OK)
                st = lf__grad_download(m, grad);
            for (size_t j = 0; st == LF_OK && j < np; j++)
                fisher[j] += mean_p * (double)grad[j] * (double)grad[j];
        }
        if (st == LF_OK)
            st = lf__grad_tick(p, "Fisher diagonal");
    }
    if (st == LF_OK)
        for (size_t j = 0; j < np; j++)
            fisher[j] /= (double)batches;
    lf__free(ctx, grad, np * sizeof(float));
    lf__free(ctx, probs, B * C * sizeof(float));
    return st;
}

/* ---- Hessian-vector products ---- */

lf_status lf__hvp_init(lf__hvp *h, lf__grad_pass *g, const lf_dataset *ds, const int64_t *idx,
                       size_t n, double rel_step)
{
    memset(h, 0, sizeof *h);
    lf_model *m = g->m;
    h->g = g;
    h->ds = ds;
    h->idx = idx;
    h->n = n;
    h->rel_step = rel_step;
    lf_status st = LF_OK;
    float **bufs[3] = { &h->theta0, &h->dir, &h->gplus };
    for (int k = 0; st == LF_OK && k < 3; k++)
        st = lf__nn_dev_alloc(m->ctx, (void **)bufs[k], m->n_params, sizeof(float), 0,
                              "Hessian-vector product work");
    if (st == LF_OK)
        st = LF__BE(m->ctx, mem_copy, h->theta0, m->params, m->n_params * sizeof(float));
    if (st != LF_OK)
        lf__hvp_free(h);
    return st;
}

void lf__hvp_free(lf__hvp *h)
{
    if (!h->g)
        return;
    lf_context *ctx = h->g->m->ctx;
    lf__nn_dev_free(ctx, h->theta0);
    lf__nn_dev_free(ctx, h->dir);
    lf__nn_dev_free(ctx, h->gplus);
    memset(h, 0, sizeof *h);
}

/* m->params = θ₀ + step·dir (masked) */
static lf_status set_params(lf__hvp *h, float step)
{
    lf_model *m = h->g->m;
    LF__TRY(LF__BE(m->ctx, mem_copy, m->params, h->theta0, m->n_params * sizeof(float)));
    LF__TRY(LF__BE(m->ctx, axpby, m->params, step, h->dir, 1.0f, (int64_t)m->n_params));
    return lf__model_apply_masks(m, m->params);
}

static lf_status hvp_apply(lf__hvp *h, const float *u, float *hu)
{
    lf_model *m = h->g->m;
    lf_context *ctx = m->ctx;
    size_t np = m->n_params;
    double ss = 0.0;
    LF__TRY(LF__BE(ctx, mem_upload, h->dir, u, np * sizeof(float)));
    LF__TRY(lf__model_apply_masks(m, h->dir));
    LF__TRY(LF__BE(ctx, sum_squares, &ss, h->dir, (int64_t)np));
    if (!(ss > 0.0)) {
        if (ss != 0.0)
            return lf__error(LF_E_NUMERIC, "Hessian-vector product: the vector's norm is %g", sqrt(ss));
        memset(hu, 0, np * sizeof *hu);
        return LF_OK;
    }
    double eps = h->rel_step / sqrt(ss);
    LF__TRY(set_params(h, (float)eps));
    LF__TRY(lf__grad_mean(h->g, h->ds, h->idx, h->n, NULL, h->progress));
    LF__TRY(LF__BE(ctx, mem_copy, h->gplus, m->grads, np * sizeof(float)));
    LF__TRY(set_params(h, (float)-eps));
    LF__TRY(lf__grad_mean(h->g, h->ds, h->idx, h->n, NULL, h->progress));
    float s = (float)(1.0 / (2.0 * eps));   /* gplus = (∇₊ − ∇₋) / 2ε */
    LF__TRY(LF__BE(ctx, axpby, h->gplus, -s, m->grads, s, (int64_t)np));
    LF__TRY(lf__model_apply_masks(m, h->gplus));
    return LF__BE(ctx, mem_download, hu, h->gplus, np * sizeof(float));
}

lf_status lf__hvp_apply(lf__hvp *h, const float *u, float *hu)
{
    lf_model *m = h->g->m;
    lf_status st = hvp_apply(h, u, hu);
    /* θ₀ back whatever happened */
    lf_status st2 = LF__BE(m->ctx, mem_copy, m->params, h->theta0, m->n_params * sizeof(float));
    return st != LF_OK ? st : st2;
}

double lf__dot(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * (double)b[i];
    return s;
}
