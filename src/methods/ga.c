/* GA — gradient ascent on the forget set (METHODS.md): SGD on −CE over D_f from the original
 * weights, train mode. It diverges easily: a non-finite loss or weight stops it with
 * LF_E_NUMERIC naming the step (lf_unlearn then returns no model; the input is untouched). */
#include "methods/method.h"
#include "core/nn/nn_internal.h"

static const lf__param_spec ga_params[] = {
    /* defaults from the Fashion-MNIST convnet sweep (bench/RESULTS.md; reference: 5 epochs,
     * lr 1e-4, which destroys this model on class-wise forgetting) */
    LF__PARAM_EPOCHS(1, "passes over the forget set"),
    LF__PARAM_LR(5e-4, "SGD learning rate (constant), momentum 0.9, weight decay 5e-4"),
    LF__PARAM_BATCH(256),
};

static lf_status ga_run(lf__unlearn_job *job)
{
    lf_train_options o = lf__job_train_options(job, LF_LR_CONSTANT);
    lf_train_result r = LF_TRAIN_RESULT_INIT;
    LF__TRY(lf__model_train_signed(job->model, job->forget, &o, -1.0f, "ga", &r));
    lf__job_add_training(job, &r);
    return LF_OK;
}

const lf__method lf__method_ga = {
    "ga", "gradient ascent on the forget set",
    ga_params, sizeof ga_params / sizeof ga_params[0], ga_run, 0,
};
