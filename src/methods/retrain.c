/* Retrain — the gold standard (METHODS.md): a fresh initialisation of the same architecture
 * (the original's pruning mask kept, so a sparse model is retrained sparse), trained on the
 * retain set only with the original recipe, train mode. The parameters default to the recipe
 * of `forget train` (10 epochs, lr 0.05, cosine, batch 128); pass the original's own recipe
 * when it differs. */
#include "methods/method.h"
#include "core/model_internal.h"
#include "core/nn/nn_internal.h"

static const lf__param_spec retrain_params[] = {
    LF__PARAM_EPOCHS(10, "passes over the retain set (use the original model's)"),
    LF__PARAM_LR(0.05, "initial SGD learning rate, momentum 0.9, weight decay 5e-4"),
    LF__PARAM_BATCH(128),
    { LF_PARAM_CHOICE, "schedule", "learning-rate schedule (per epoch)", 0, 0, 0,
      "cosine|constant", "cosine" },
};

/* Replaces job->model's parameters and buffers with a fresh initialisation (the clone keeps
 * its metadata, normalisation and masks). */
static lf_status reinitialise(lf__unlearn_job *job)
{
    lf_model *m = job->model;
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = m->in_channels;
    cfg.height = m->in_height;
    cfg.width = m->in_width;
    cfg.num_classes = m->num_classes;
    cfg.seed = job->seed;
    lf_model *fresh = NULL;
    LF__TRY(lf_model_create(&fresh, job->ctx, lf_model_arch(m), &cfg));
    lf_status st = LF_OK;
    if (fresh->n_params != m->n_params || fresh->n_buffers != m->n_buffers)
        st = lf__error(LF_E_SHAPE, "retrain: a fresh '%s' model has %zu parameters, the "
                       "original %zu", lf_model_arch(m), fresh->n_params, m->n_params);
    if (st == LF_OK)
        st = LF__BE(job->ctx, mem_copy, m->params, fresh->params, m->n_params * sizeof(float));
    if (st == LF_OK && m->n_buffers)
        st = LF__BE(job->ctx, mem_copy, m->buffers, fresh->buffers, m->n_buffers * sizeof(float));
    if (st == LF_OK && m->masks)
        st = lf__model_apply_masks(m, m->params);
    lf_model_destroy(fresh);
    return st;
}

static lf_status retrain_run(lf__unlearn_job *job)
{
    LF__TRY(reinitialise(job));
    int32_t schedule = lf__job_param(job, "schedule") == 0 ? LF_LR_COSINE : LF_LR_CONSTANT;
    lf_train_options o = lf__job_train_options(job, schedule);
    lf_train_result r = LF_TRAIN_RESULT_INIT;
    LF__TRY(lf__model_train_signed(job->model, job->retain, &o, 1.0f, "retrain", &r));
    lf__job_add_training(job, &r);
    return LF_OK;
}

const lf__method lf__method_retrain = {
    "retrain", "retrain from scratch on the retain set (the gold standard)",
    retrain_params, sizeof retrain_params / sizeof retrain_params[0], retrain_run, 0,
};
