/* FT — fine-tuning on the retain set (METHODS.md): SGD on the cross-entropy over D_r starting
 * from the original weights, train mode, constant learning rate. Forgetting comes only from
 * catastrophic forgetting of D_f. */
#include "methods/method.h"
#include "core/nn/nn_internal.h"

static const lf__param_spec ft_params[] = {
    /* defaults from the Fashion-MNIST convnet sweep (bench/RESULTS.md; reference: 10 epochs,
     * lr 0.01): the lowest Avg. Disparity at <= 1/5 of Retrain's time */
    LF__PARAM_EPOCHS(2, "passes over the retain set"),
    LF__PARAM_LR(0.08, "SGD learning rate (constant), momentum 0.9, weight decay 5e-4"),
    LF__PARAM_BATCH(256),
};

static lf_status ft_run(lf__unlearn_job *job)
{
    lf_train_options o = lf__job_train_options(job, LF_LR_CONSTANT);
    lf_train_result r = LF_TRAIN_RESULT_INIT;
    LF__TRY(lf__model_train_signed(job->model, job->retain, &o, 1.0f, "ft", &r));
    lf__job_add_training(job, &r);
    return LF_OK;
}

const lf__method lf__method_ft = {
    "ft", "fine-tune on the retain set (forgets by catastrophic forgetting)",
    ft_params, sizeof ft_params / sizeof ft_params[0], ft_run, 0,
};
