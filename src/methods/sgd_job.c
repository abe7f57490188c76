/* Pieces shared by the methods that run SGD (retrain, ft, ga): options from the parameters and
 * the result's bookkeeping. */
#include "methods/method.h"

lf_train_options lf__job_train_options(const lf__unlearn_job *job, int32_t schedule)
{
    lf_train_options o = LF_TRAIN_OPTIONS_INIT;
    o.epochs = (int32_t)lf__job_param(job, "epochs");
    o.lr = lf__job_param(job, "lr");
    o.batch_size = (int32_t)lf__job_param(job, "batch");
    o.schedule = schedule;
    o.momentum = 0.9;
    o.weight_decay = 5e-4;
    o.seed = job->seed;
    o.progress = job->progress;
    o.progress_user = job->progress_user;
    return o;
}

void lf__job_add_training(lf__unlearn_job *job, const lf_train_result *r)
{
    job->result->epochs += r->epochs;
    job->result->steps += r->steps;
    job->result->final_loss = r->final_loss;
}
