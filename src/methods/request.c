/* Unlearn requests: what to forget, with which method and parameters, and lf_unlearn, which
 * resolves the request into a job (forget/retain views, a private clone of the model) and runs
 * the method on the clone. The caller's model is only ever read. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "methods/method.h"
#include "core/model_internal.h"
#include "core/dataset_internal.h"

struct lf_request {
    lf_context       *ctx;
    const lf__method *method;
    double           *params;       /* n_params values, schema order */
    const lf_dataset *train, *holdout;
    lf_forget_spec    spec;         /* spec.indices points into indices (owned) */
    int64_t          *indices;
    int               has_spec;
    uint64_t          seed;
    lf_progress_fn    progress;
    void             *progress_user;
    lf_privacy_approximator_fn approximator;
    void             *approximator_user;
};

LF_API lf_status lf_request_create(lf_request **out, lf_context *ctx, const char *method)
{
    LF__CHECK_ARG(out, "lf_request_create: out is NULL");
    *out = NULL;
    LF__CHECK_ARG(ctx, "lf_request_create: ctx is NULL");
    LF__CHECK_ARG(method, "lf_request_create: method is NULL");
    const lf__method *m = lf__method_find(method);
    if (!m)
        return lf__error(LF_E_UNKNOWN_METHOD, "lf_request_create: no method '%s' (see "
                         "lf_method_name for the list)", method);
    lf_request *r = lf__calloc(ctx, 1, sizeof *r, "an unlearn request");
    if (!r)
        return LF_E_NOMEM;
    r->ctx = ctx;
    r->method = m;
    r->params = lf__calloc(ctx, m->n_params ? m->n_params : 1, sizeof(double), "request parameters");
    if (!r->params) {
        lf__free(ctx, r, sizeof *r);
        return LF_E_NOMEM;
    }
    for (size_t i = 0; i < m->n_params; i++)
        r->params[i] = m->params[i].default_value;
    *out = r;
    return LF_OK;
}

static void free_indices(lf_request *r)
{
    if (r->indices)
        lf__free(r->ctx, r->indices, r->spec.n_indices * sizeof(int64_t));
    r->indices = NULL;
}

LF_API void lf_request_destroy(lf_request *req)
{
    if (!req)
        return;
    free_indices(req);
    lf__free(req->ctx, req->params, (req->method->n_params ? req->method->n_params : 1) * sizeof(double));
    lf__free(req->ctx, req, sizeof *req);
}

LF_API const char *lf_request_method(const lf_request *req)
{
    return req ? req->method->name : NULL;
}

LF_API lf_status lf_request_set_train(lf_request *req, const lf_dataset *train)
{
    LF__CHECK_ARG(req, "lf_request_set_train: req is NULL");
    LF__CHECK_ARG(train, "lf_request_set_train: train is NULL");
    req->train = train;
    return LF_OK;
}

LF_API lf_status lf_request_set_holdout(lf_request *req, const lf_dataset *holdout)
{
    LF__CHECK_ARG(req, "lf_request_set_holdout: req is NULL");
    req->holdout = holdout;   /* NULL clears it */
    return LF_OK;
}

LF_API lf_status lf_request_set_forget(lf_request *req, const lf_forget_spec *spec)
{
    LF__CHECK_ARG(req, "lf_request_set_forget: req is NULL");
    LF__CHECK_ARG(spec, "lf_request_set_forget: spec is NULL");
    lf_forget_spec s;
    LF__TRY(lf__copy_struct_in(&s, sizeof s, spec, sizeof s, "lf_forget_spec"));
    if (s.kind < LF_FORGET_RANDOM || s.kind > LF_FORGET_INDICES)
        return lf__error(LF_E_OUT_OF_RANGE, "lf_request_set_forget: kind %d is not an "
                         "lf_forget_kind (1..4)", (int)s.kind);
    int64_t *copy = NULL;
    if (s.kind == LF_FORGET_INDICES) {
        LF__CHECK_ARG(s.n_indices > 0, "lf_request_set_forget: the forget set is empty "
                      "(n_indices = 0)");
        LF__CHECK_ARG(s.indices, "lf_request_set_forget: indices is NULL");
        copy = lf__calloc(req->ctx, s.n_indices, sizeof *copy, "the forget indices");
        if (!copy)
            return LF_E_NOMEM;
        memcpy(copy, s.indices, s.n_indices * sizeof *copy);
        s.indices = copy;
    }
    free_indices(req);
    req->indices = copy;
    req->spec = s;
    req->has_spec = 1;
    return LF_OK;
}

LF_API lf_status lf_request_set_seed(lf_request *req, uint64_t seed)
{
    LF__CHECK_ARG(req, "lf_request_set_seed: req is NULL");
    req->seed = seed;
    return LF_OK;
}

LF_API lf_status lf_request_set_progress(lf_request *req, lf_progress_fn fn, void *user)
{
    LF__CHECK_ARG(req, "lf_request_set_progress: req is NULL");
    req->progress = fn;
    req->progress_user = user;
    return LF_OK;
}

/* ---- parameters ---- */

static lf_status find_param(const lf_request *req, const char *key, const char *fn,
                            const lf__param_spec **out, int *index)
{
    LF__CHECK_ARG(req, "%s: req is NULL", fn);
    LF__CHECK_ARG(key, "%s: key is NULL", fn);
    int i = lf__method_param_index(req->method, key);
    if (i < 0)
        return lf__error(LF_E_UNKNOWN_PARAM, "%s: method '%s' has no parameter '%s'", fn,
                         req->method->name, key);
    *out = &req->method->params[i];
    *index = i;
    return LF_OK;
}

static lf_status set_number(lf_request *req, const char *key, double value, const char *fn)
{
    const lf__param_spec *p = NULL;
    int i = -1;
    LF__TRY(find_param(req, key, fn, &p, &i));
    if (p->type == LF_PARAM_CHOICE)
        return lf__error(LF_E_INVALID_ARG, "%s: '%s' of method '%s' is a choice (%s), not a "
                         "number", fn, key, req->method->name, p->choices);
    if (!isfinite(value))
        return lf__error(LF_E_OUT_OF_RANGE, "%s: '%s' = %g is not finite", fn, key, value);
    if (p->type == LF_PARAM_INT && value != floor(value))
        return lf__error(LF_E_INVALID_ARG, "%s: '%s' of method '%s' is an integer; %g is not",
                         fn, key, req->method->name, value);
    if (value < p->min_value || value > p->max_value)
        return lf__error(LF_E_OUT_OF_RANGE, "%s: '%s' = %g is outside [%g, %g]", fn, key, value,
                         p->min_value, p->max_value);
    req->params[i] = value;
    return LF_OK;
}

LF_API lf_status lf_request_set_int(lf_request *req, const char *key, int64_t value)
{
    return set_number(req, key, (double)value, "lf_request_set_int");
}

LF_API lf_status lf_request_set_double(lf_request *req, const char *key, double value)
{
    return set_number(req, key, value, "lf_request_set_double");
}

/* Index of word in the '|'-separated list, or -1. */
static int choice_index(const char *choices, const char *word)
{
    size_t len = strlen(word);
    int i = 0;
    for (const char *p = choices;; i++) {
        size_t n = strcspn(p, "|");
        if (n == len && strncmp(p, word, n) == 0)
            return i;
        if (!p[n])
            return -1;
        p += n + 1;
    }
}

LF_API lf_status lf_request_set_choice(lf_request *req, const char *key, const char *value)
{
    const lf__param_spec *p = NULL;
    int i = -1;
    LF__TRY(find_param(req, key, "lf_request_set_choice", &p, &i));
    LF__CHECK_ARG(value, "lf_request_set_choice: value is NULL");
    if (p->type != LF_PARAM_CHOICE)
        return lf__error(LF_E_INVALID_ARG, "lf_request_set_choice: '%s' of method '%s' is a "
                         "number", key, req->method->name);
    int c = choice_index(p->choices, value);
    if (c < 0)
        return lf__error(LF_E_OUT_OF_RANGE, "lf_request_set_choice: '%s' = '%s' is not one of %s",
                         key, value, p->choices);
    req->params[i] = c;
    return LF_OK;
}

LF_API lf_status lf_request_set_param(lf_request *req, const char *key, const char *value)
{
    const lf__param_spec *p = NULL;
    int i = -1;
    LF__TRY(find_param(req, key, "lf_request_set_param", &p, &i));
    LF__CHECK_ARG(value, "lf_request_set_param: value is NULL");
    if (p->type == LF_PARAM_CHOICE)
        return lf_request_set_choice(req, key, value);
    char *end = NULL;
    errno = 0;
    double v = strtod(value, &end);
    if (end == value || *end != '\0' || errno == ERANGE)
        return lf__error(LF_E_INVALID_ARG, "lf_request_set_param: '%s' = '%s' is not a number",
                         key, value);
    return set_number(req, key, v, "lf_request_set_param");
}

LF_API lf_status lf_request_get_double(const lf_request *req, const char *key, double *value)
{
    const lf__param_spec *p = NULL;
    int i = -1;
    LF__TRY(find_param(req, key, "lf_request_get_double", &p, &i));
    LF__CHECK_ARG(value, "lf_request_get_double: value is NULL");
    *value = req->params[i];
    return LF_OK;
}

LF_API lf_status lf_request_set_privacy_approximator(lf_request *req, lf_privacy_approximator_fn fn,
                                                     void *user)
{
    LF__CHECK_ARG(req, "lf_request_set_privacy_approximator: req is NULL");
    if (!req->method->takes_approximator)
        return lf__error(LF_E_UNSUPPORTED, "lf_request_set_privacy_approximator: method '%s' "
                         "scores no membership (only remi does)", req->method->name);
    req->approximator = fn;
    req->approximator_user = fn ? user : NULL;
    return LF_OK;
}

/* ---- running ---- */

void lf__job_add_figure(lf__unlearn_job *job, const char *name, double value)
{
    lf_unlearn_result *r = job->result;
    if (r->n_figures >= LF_UNLEARN_MAX_FIGURES)
        return;
    r->figures[r->n_figures].name = name;
    r->figures[r->n_figures].value = value;
    r->n_figures++;
}

static lf_status check_data(const lf_request *req, const lf_model *model)
{
    if (!req->train)
        return lf__error(LF_E_STATE, "lf_unlearn: no train set (lf_request_set_train)");
    if (!req->has_spec)
        return lf__error(LF_E_STATE, "lf_unlearn: no forget set (lf_request_set_forget)");
    if (model->ctx != req->ctx)
        return lf__error(LF_E_INVALID_ARG, "lf_unlearn: the model belongs to another context "
                         "than the request");
    const lf_dataset *sets[2] = { req->train, req->holdout };
    const char *names[2] = { "train set", "holdout set" };
    for (int k = 0; k < 2; k++) {
        if (!sets[k])
            continue;
        LF__TRY(lf__model_check_input(model, sets[k]->channels, sets[k]->height, sets[k]->width,
                                      "lf_unlearn"));
        if (sets[k]->num_classes > model->num_classes)
            return lf__error(LF_E_SHAPE, "lf_unlearn: the %s has %d classes, the model %d",
                             names[k], (int)sets[k]->num_classes, (int)model->num_classes);
    }
    if (req->spec.kind == LF_FORGET_CLASS &&
        (req->spec.forget_class < 0 || req->spec.forget_class >= model->num_classes))
        return lf__error(LF_E_OUT_OF_RANGE, "lf_unlearn: forget class %d is outside [0, %d)",
                         (int)req->spec.forget_class, (int)model->num_classes);
    return LF_OK;
}

LF_API lf_status lf_unlearn(lf_request *req, const lf_model *model, lf_model **out,
                            lf_unlearn_result *result)
{
    LF__CHECK_ARG(out, "lf_unlearn: out is NULL");
    *out = NULL;
    LF__CHECK_ARG(req, "lf_unlearn: req is NULL");
    LF__CHECK_ARG(model, "lf_unlearn: model is NULL");
    lf_unlearn_result res = LF_UNLEARN_RESULT_INIT;
    if (result)   /* a bad struct_size fails now, not after the work */
        LF__TRY(lf__copy_struct_out(result, &res, sizeof res, "lf_unlearn_result"));
    LF__TRY(check_data(req, model));

    double t0 = lf__now_seconds();
    lf_forget_spec spec = req->spec;
    if (spec.seed == 0 && (spec.kind == LF_FORGET_RANDOM || spec.kind == LF_FORGET_STRATIFIED))
        spec.seed = req->seed ? req->seed : req->ctx->opts.seed;
    lf_dataset *retain = NULL, *forget = NULL;
    lf_model *clone = NULL;
    lf_status st = lf_dataset_split_forget(&retain, &forget, req->train, &spec);
    if (st == LF_OK)
        st = lf_model_clone(&clone, model);
    if (st == LF_OK) {
        res.retain_size = (int64_t)retain->n;
        res.forget_size = (int64_t)forget->n;
        lf__unlearn_job job = {
            .method = req->method, .ctx = req->ctx, .original = model, .model = clone,
            .train = req->train, .retain = retain, .forget = forget, .holdout = req->holdout,
            .forget_class = spec.kind == LF_FORGET_CLASS ? spec.forget_class : -1,
            .params = req->params, .seed = req->seed ? req->seed : req->ctx->opts.seed,
            .progress = req->progress, .progress_user = req->progress_user, .result = &res,
            .approximator = req->approximator, .approximator_user = req->approximator_user,
        };
        st = req->method->run(&job);
    }
    if (st == LF_OK)   /* the file says how the model came to be */
        st = lf__model_set_metadata_raw(clone, "libforget.unlearn.method", req->method->name);
    lf_dataset_destroy(retain);
    lf_dataset_destroy(forget);
    if (st != LF_OK) {
        lf_model_destroy(clone);
        return st;
    }
    res.seconds = lf__now_seconds() - t0;
    if (result)
        lf__copy_struct_out(result, &res, sizeof res, "lf_unlearn_result");
    *out = clone;
    return LF_OK;
}
