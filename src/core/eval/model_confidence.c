/* lf_model_logit_confidences: the challenge's logit-scaled confidence of every sample of a data
 * set under a model (the input of lf_forgetting_quality). */
#include <math.h>

#include "core/eval/eval_internal.h"

#define CHUNK 1024

typedef struct conf_user {
    double *conf;
    int32_t classes;
} conf_user;

static lf_status conf_chunk(void *user, size_t first, size_t count, const float *logits,
                            const float *probs, const int32_t *labels)
{
    (void)probs;
    conf_user *u = user;
    lf_status st = lf_logit_confidences(u->conf + first, logits, labels, count, u->classes);
    if (st != LF_OK)
        lf__error_prefix("lf_model_logit_confidences: samples from %zu", first);
    return st;
}

lf_status lf_model_logit_confidences(lf_model *model, const lf_dataset *ds, double *conf, size_t n)
{
    LF__CHECK_ARG(model, "lf_model_logit_confidences: model is NULL");
    LF__CHECK_ARG(ds, "lf_model_logit_confidences: ds is NULL");
    LF__CHECK_ARG(conf || n == 0, "lf_model_logit_confidences: conf is NULL");
    LF__CHECK_ARG(n == lf_dataset_size(ds), "lf_model_logit_confidences: n = %zu but the data set has "
                  "%zu samples", n, lf_dataset_size(ds));
    int32_t classes = lf_model_num_classes(model);
    if (lf_dataset_num_classes(ds) > classes)
        return lf__error(LF_E_SHAPE, "lf_model_logit_confidences: the data set has %d classes, the "
                         "model %d", (int)lf_dataset_num_classes(ds), (int)classes);
    conf_user u = { conf, classes };
    return lf__eval_for_each_chunk(model, ds, CHUNK, 0, conf_chunk, &u);
}
