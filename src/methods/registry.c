/* The built-in methods and their discovery functions (lf_method_*). */
#include <math.h>
#include <string.h>

#include "methods/method.h"

static const lf__method *const methods[] = {
    &lf__method_retrain,
    &lf__method_ft,
    &lf__method_ga,
    &lf__method_l1sparse,
    &lf__method_ff,
    &lf__method_iu,
    &lf__method_remi,
    &lf__method_dau,
};
enum { N_METHODS = sizeof methods / sizeof methods[0] };

const lf__method *lf__method_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < N_METHODS; i++)
        if (strcmp(methods[i]->name, name) == 0)
            return methods[i];
    return NULL;
}

int lf__method_param_index(const lf__method *m, const char *key)
{
    if (!key)
        return -1;
    for (size_t i = 0; i < m->n_params; i++)
        if (strcmp(m->params[i].name, key) == 0)
            return (int)i;
    return -1;
}

double lf__job_param(const lf__unlearn_job *job, const char *key)
{
    int i = lf__method_param_index(job->method, key);
    return i < 0 ? NAN : job->params[i];
}

LF_API size_t lf_method_count(void)
{
    return N_METHODS;
}

LF_API const char *lf_method_name(size_t i)
{
    return i < N_METHODS ? methods[i]->name : NULL;
}

LF_API const char *lf_method_summary(const char *method)
{
    const lf__method *m = lf__method_find(method);
    return m ? m->summary : NULL;
}

LF_API size_t lf_method_param_count(const char *method)
{
    const lf__method *m = lf__method_find(method);
    return m ? m->n_params : 0;
}

LF_API lf_status lf_method_param_info(const char *method, size_t i, lf_param_info *info)
{
    LF__CHECK_ARG(method, "lf_method_param_info: method is NULL");
    LF__CHECK_ARG(info, "lf_method_param_info: info is NULL");
    const lf__method *m = lf__method_find(method);
    if (!m)
        return lf__error(LF_E_UNKNOWN_METHOD, "lf_method_param_info: no method '%s'", method);
    if (i >= m->n_params)
        return lf__error(LF_E_OUT_OF_RANGE, "lf_method_param_info: method '%s' has %zu "
                         "parameters, index %zu asked", method, m->n_params, i);
    const lf__param_spec *p = &m->params[i];
    lf_param_info out = LF_PARAM_INFO_INIT;
    out.type = p->type;
    out.name = p->name;
    out.doc = p->doc;
    out.default_value = p->default_value;
    out.min_value = p->min_value;
    out.max_value = p->max_value;
    if (p->type == LF_PARAM_CHOICE) {
        out.choices = p->choices;
        out.default_choice = p->default_choice;
    }
    return lf__copy_struct_out(info, &out, sizeof out, "lf_param_info");
}
