/* l1-sparse FT (METHODS.md's optional baseline): FT on the retain set with the loss
 * CE + γ_t·‖θ‖₁ over all parameters, γ_t = γ·(1 − e/E) for 0-based epoch e of E. The L1 term's
 * subgradient γ_t·sign(θ) (sign(0) = 0) is added to the gradient after every backward, before
 * the SGD step, so momentum and weight decay see it as PyTorch's autograd would. The reported
 * loss is the cross-entropy alone.
 *
 * The backend has no sign operation: sign(θ) = [θ > 0] − [θ < 0], each indicator being a ReLU
 * backward of ones (relu_bwd: dx = dy·[y > 0]) through θ and −θ. Three backend blocks of
 * n_params floats, no host round trip. */
#include <math.h>

#include "methods/method.h"
#include "core/nn/nn_internal.h"

static const lf__param_spec l1sparse_params[] = {
    /* defaults from the Fashion-MNIST convnet sweep (bench/RESULTS.md; reference: 10 epochs,
     * lr 0.01, gamma 1e-4) */
    LF__PARAM_EPOCHS(2, "passes over the retain set"),
    LF__PARAM_LR(0.04, "SGD learning rate (constant), momentum 0.9, weight decay 5e-4"),
    LF__PARAM_BATCH(256),
    { LF_PARAM_DOUBLE, "gamma", "L1 weight at the first epoch, decaying linearly: "
      "gamma * (1 - epoch/epochs)", 3e-4, 0.0, 1.0, NULL, NULL },
};

typedef struct l1_state {
    double gamma;
    float *ones, *ind, *neg;   /* backend, n_params each */
} l1_state;

/* grads += γ_t·sign(θ) */
static lf_status add_l1_subgradient(void *user, lf_model *m, int32_t epoch, int32_t epochs)
{
    l1_state *s = user;
    float g = (float)(s->gamma * (1.0 - (double)epoch / (double)epochs));
    if (g == 0.0f)
        return LF_OK;
    int64_t n = (int64_t)m->n_params;
    LF__TRY(LF__BE(m->ctx, relu_bwd, s->ind, s->ones, m->params, n));          /* [θ > 0] */
    LF__TRY(LF__BE(m->ctx, axpby, m->grads, g, s->ind, 1.0f, n));
    LF__TRY(LF__BE(m->ctx, axpby, s->neg, -1.0f, m->params, 0.0f, n));       /* −θ */
    LF__TRY(LF__BE(m->ctx, relu_bwd, s->ind, s->ones, s->neg, n));           /* [θ < 0] */
    return LF__BE(m->ctx, axpby, m->grads, -g, s->ind, 1.0f, n);
}

static lf_status fill_ones(lf_model *m, float *dev)
{
    size_t n = m->n_params;
    float *host = lf__alloc(m->ctx, n * sizeof(float), "ones (host)");
    if (!host)
        return LF_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        host[i] = 1.0f;
    lf_status st = LF__BE(m->ctx, mem_upload, dev, host, n * sizeof(float));
    lf__free(m->ctx, host, n * sizeof(float));
    return st;
}

static lf_status l1sparse_run(lf__unlearn_job *job)
{
    lf_model *m = job->model;
    l1_state s = { lf__job_param(job, "gamma"), NULL, NULL, NULL };
    float **bufs[3] = { &s.ones, &s.ind, &s.neg };
    lf_status st = LF_OK;
    for (int k = 0; st == LF_OK && k < 3; k++)
        st = lf__nn_dev_alloc(job->ctx, (void **)bufs[k], m->n_params, sizeof(float), 0,
                              "L1 subgradient work");
    if (st == LF_OK)
        st = fill_ones(m, s.ones);
    lf_train_options o = lf__job_train_options(job, LF_LR_CONSTANT);
    lf_train_result r = LF_TRAIN_RESULT_INIT;
    if (st == LF_OK)
        st = lf__model_train_hooked(m, job->retain, &o, 1.0f, "l1sparse", add_l1_subgradient, &s,
                                    &r);
    if (st == LF_OK)
        lf__job_add_training(job, &r);
    for (int k = 0; k < 3; k++)
        lf__nn_dev_free(job->ctx, *bufs[k]);
    return st;
}

const lf__method lf__method_l1sparse = {
    "l1sparse", "fine-tune on the retain set with a decaying L1 penalty on the weights",
    l1sparse_params, sizeof l1sparse_params / sizeof l1sparse_params[0], l1sparse_run, 0,
};
