/* Eval-mode gradients of the cross-entropy for the methods that need more than an SGD loop
 * (FF's Fisher diagonal, IU's gradients and Hessian-vector products): batches staged once and
 * run forward in EVAL mode, backward with a chosen label and weight, accumulating into
 * m->grads. Vectors over all parameters handed to the host are masked first on sparse models,
 * so they live in the space of the live weights. */
#ifndef LF_METHODS_GRAD_TOOLS_H
#define LF_METHODS_GRAD_TOOLS_H

#include "core/nn/nn_internal.h"

/* Progress of a method made of gradient passes: one step per batch (or CG iteration), phase
 * static. fn may be NULL. */
typedef struct lf__grad_progress {
    lf_progress_fn fn;
    void          *user;
    const char    *phase;
    int64_t        step, total;
    double         loss;    /* reported as lf_progress.loss (NaN: none) */
} lf__grad_progress;
/* step++ and calls fn: LF_E_ABORTED (naming `who`) when it returns non-zero. p may be NULL. */
lf_status lf__grad_tick(lf__grad_progress *p, const char *who);

/* Batches of up to `capacity` rows of a model, with the backend buffers a pass needs. */
typedef struct lf__grad_pass {
    lf_model  *m;
    lf__batch  batch;
    float     *probs;         /* backend: capacity × classes, softmax of the last forward */
    float     *loss;          /* backend: capacity */
    float     *dlogits;       /* backend: capacity × classes */
    int32_t   *class_labels;  /* backend: capacity, all = class_of_labels (-1: not filled) */
    int32_t    class_of_labels;
    float     *weight_host;   /* host: capacity */
    int32_t   *label_host;    /* host: capacity */
    float     *loss_host;     /* host: capacity */
    int64_t    rows;          /* rows of the last forward (-1: none) */
    int        fresh;         /* no backward since that forward */
    int        train;         /* that forward ran in train mode */
} lf__grad_pass;

/* Also allocates m->grads. On failure everything is freed. */
lf_status lf__grad_pass_init(lf__grad_pass *g, lf_model *m, int64_t capacity);
/* NULL-safe on a zeroed pass. */
void      lf__grad_pass_free(lf__grad_pass *g);
/* Stages `rows` samples of ds (idx[0..rows) when idx is given, else first..first+rows), runs an
 * eval-mode forward and probs = softmax(logits). rows <= capacity. */
lf_status lf__grad_pass_forward(lf__grad_pass *g, const lf_dataset *ds, const int64_t *idx,
                                size_t first, int64_t rows);
/* lf__grad_pass_forward in train (batch statistics, running statistics updated) or eval mode.
 * After a train-mode forward only one backward may follow. */
lf_status lf__grad_pass_forward_mode(lf__grad_pass *g, const lf_dataset *ds, const int64_t *idx,
                                     size_t first, int64_t rows, int train);
/* m->grads += ∇ Σ_i weight·ℓ(x_i, y_i) over the rows of the last forward, y_i the true labels
 * (label < 0) or `label` for every row. The forward's activations may be used up (the arch
 * contract): forward again before another backward. */
lf_status lf__grad_pass_backward(lf__grad_pass *g, int32_t label, float weight);
/* m->grads += ∇ of the mean cross-entropy over the rows of the last forward (true labels);
 * *mean_loss = that mean. The retain term of the methods with their own loop (remi, dau). */
lf_status lf__grad_pass_mean_ce_backward(lf__grad_pass *g, double *mean_loss);
/* m->grads += the backward of the last forward from a caller-made gradient on its logits
 * (host, rows × classes): for losses computed on the host from downloaded logits. */
lf_status lf__grad_pass_backward_dlogits(lf__grad_pass *g, const float *dlogits_host);

/* m->grads = ∇ mean_i ℓ(x_i, y_i) over samples idx[0..n) of ds (idx NULL: 0..n), eval mode, in
 * batches of the pass's capacity; *mean_loss (may be NULL) = the mean loss. One tick per
 * batch. n > 0. */
lf_status lf__grad_mean(lf__grad_pass *g, const lf_dataset *ds, const int64_t *idx, size_t n,
                        double *mean_loss, lf__grad_progress *p);
/* Downloads m->grads (masked first on sparse models) into host[n_params]. */
lf_status lf__grad_download(lf_model *m, float *host);

/* Number of batches of `batch` rows covering n samples. */
static inline int64_t lf__grad_batches(size_t n, int64_t batch)
{
    return (int64_t)((n + (size_t)batch - 1) / (size_t)batch);
}

/* The diagonal empirical Fisher of METHODS.md's FF over all of ds in order, eval mode, true
 * labels ignored, batches B of the pass's capacity (the last one partial):
 *   fisher[p] = (1/#batches) Σ_B Σ_y [mean_{i∈B} p_y(x_i)] · (∂_p mean_{i∈B} −log p_y(x_i))²
 * (host, n_params doubles; C backward passes per batch, each after its own forward). One tick
 * per batch. */
lf_status lf__grad_fisher_diag(lf__grad_pass *g, const lf_dataset *ds, double *fisher,
                               lf__grad_progress *p);

/* Hessian-vector products of the mean loss over a fixed sample set S (eval mode) by central
 * differences of gradients: Hu ≈ (∇L_S(θ₀ + εu) − ∇L_S(θ₀ − εu)) / (2ε), ε = rel_step/‖u‖.
 * θ₀ is m->params when lf__hvp_init runs; the model's parameters equal θ₀ again after every
 * call (also on error). */
typedef struct lf__hvp {
    lf__grad_pass    *g;
    const lf_dataset *ds;
    const int64_t    *idx;    /* S = samples idx[0..n) of ds (NULL: 0..n) */
    size_t            n;
    double            rel_step;               /* 1e-3 in METHODS.md */
    float            *theta0, *dir, *gplus;   /* backend: n_params each */
    lf__grad_progress *progress;              /* may be NULL; ticks per gradient batch */
} lf__hvp;

lf_status lf__hvp_init(lf__hvp *h, lf__grad_pass *g, const lf_dataset *ds, const int64_t *idx,
                       size_t n, double rel_step);
void      lf__hvp_free(lf__hvp *h);
/* hu = H·u (host, n_params each; u is masked on sparse models before use; u == 0 gives 0). */
lf_status lf__hvp_apply(lf__hvp *h, const float *u, float *hu);

/* Σ a_i·b_i in double. */
double lf__dot(const float *a, const float *b, size_t n);

#endif
