/* libforget — unlearn requests: make a trained model forget part of its training set.
 *
 *   lf_request *req;
 *   lf_request_create(&req, ctx, "ft");                    // a method by name
 *   lf_request_set_train(req, train);                      // the set the model was trained on
 *   lf_request_set_forget(req, &spec);                     // which of its samples to forget
 *   lf_request_set_holdout(req, val);                      // never-trained-on samples (optional)
 *   lf_request_set_double(req, "lr", 0.01);                // typed, validated hyperparameters
 *   lf_unlearn(req, model, &forgotten, &result);           // a NEW model; `model` is untouched
 *
 * Methods and their parameters are discoverable (lf_method_*), so a host or a command line can
 * list them with types, defaults, bounds and documentation. */
#ifndef LIBFORGET_UNLEARN_H
#define LIBFORGET_UNLEARN_H

#include "libforget/context.h"
#include "libforget/dataset.h"
#include "libforget/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Methods and their parameter schemas ---- */

typedef enum lf_param_type {
    LF_PARAM_INT    = 1, /* int64 in [min, max] */
    LF_PARAM_DOUBLE = 2, /* finite double in [min, max] */
    LF_PARAM_CHOICE = 3  /* one of the '|'-separated words of `choices` */
} lf_param_type;

typedef struct lf_param_info {
    uint32_t    struct_size;
    int32_t     type;           /* lf_param_type */
    const char *name;           /* the key of the setters: "lr", "epochs", ... */
    const char *doc;            /* one line */
    double      default_value;  /* INT, DOUBLE */
    double      min_value;      /* INT, DOUBLE: inclusive bounds */
    double      max_value;
    const char *default_choice; /* CHOICE */
    const char *choices;        /* CHOICE: e.g. "cg|woodfisher" */
} lf_param_info;
#define LF_PARAM_INFO_INIT { (uint32_t)sizeof(lf_param_info), 0, 0, 0, 0.0, 0.0, 0.0, 0, 0 }

/* The built-in methods, in a fixed order; lf_method_name returns NULL past the end. Strings are
 * static. */
LF_API size_t      lf_method_count(void);
LF_API const char *lf_method_name(size_t i);
/* One-line description; NULL for an unknown method. */
LF_API const char *lf_method_summary(const char *method);
/* Number of parameters of `method` (0 for an unknown one) and the i-th one's description. */
LF_API size_t      lf_method_param_count(const char *method);
LF_API lf_status   lf_method_param_info(const char *method, size_t i, lf_param_info *info);

/* ---- Requests ---- */

typedef struct lf_request lf_request;

/* LF_E_UNKNOWN_METHOD for a name not in lf_method_name. Parameters start at their defaults;
 * the seed at the context's. */
LF_API lf_status lf_request_create(lf_request **out, lf_context *ctx, const char *method);
/* NULL is a no-op. */
LF_API void      lf_request_destroy(lf_request *req);
LF_API const char *lf_request_method(const lf_request *req);

/* The data sets are borrowed: they must outlive the request (or be set again). */
/* The set the model was trained on: retain ∪ forget. Required. */
LF_API lf_status lf_request_set_train(lf_request *req, const lf_dataset *train);
/* Which samples of the train set to forget (random, stratified, class or indices; see
 * dataset.h). Required. The split is made when lf_unlearn runs, so the spec may come before
 * the train set. */
LF_API lf_status lf_request_set_forget(lf_request *req, const lf_forget_spec *spec);
/* Samples the model never saw, from its distribution (the validation split): used by methods
 * that compare forget with unseen samples (DAU, ReMI). Optional for the others. */
LF_API lf_status lf_request_set_holdout(lf_request *req, const lf_dataset *holdout);

/* Typed setters, checked against the method's schema: LF_E_UNKNOWN_PARAM for a key the method
 * does not have, LF_E_INVALID_ARG for a type mismatch (an INT parameter accepts
 * lf_request_set_double only with an integral value), LF_E_OUT_OF_RANGE naming the bounds. */
LF_API lf_status lf_request_set_int(lf_request *req, const char *key, int64_t value);
LF_API lf_status lf_request_set_double(lf_request *req, const char *key, double value);
LF_API lf_status lf_request_set_choice(lf_request *req, const char *key, const char *value);
/* Parses `value` as the parameter's type ("0.01", "5", "cg"): for command lines. */
LF_API lf_status lf_request_set_param(lf_request *req, const char *key, const char *value);
/* The current value (INT and DOUBLE parameters), e.g. to print what will run. */
LF_API lf_status lf_request_get_double(const lf_request *req, const char *key, double *value);

/* Seed of everything random in the method (init, shuffling, noise); 0 = the context's. */
LF_API lf_status lf_request_set_seed(lf_request *req, uint64_t seed);
/* Called after every step (phase names the stage); a non-zero return aborts: LF_E_ABORTED. */
LF_API lf_status lf_request_set_progress(lf_request *req, lf_progress_fn fn, void *user);

/* ---- Membership scorers ("privacy approximators", for ReMI) ---- */

/* Scores n samples as training members from their logits (n × classes, row-major) and labels:
 * scores[i] in [0, 1] is the estimated probability that sample i was trained on, and
 * dscores[i·classes + c] = ∂scores[i]/∂logits[i][c]. The buffers are host memory owned by the
 * library, valid during the call only. Return 0 on success; any other value fails the request
 * with LF_E_ABORTED. Called from the thread that runs lf_unlearn. */
typedef int (*lf_privacy_approximator_fn)(void *user, const float *logits, const int32_t *labels,
                                          int64_t n, int32_t classes, float *scores,
                                          float *dscores);
/* Replaces the built-in approximator of methods that use one (ReMI: a small MLP on the
 * logit-scaled confidence, entropy and top-2 margin, fitted to the original model); fn NULL
 * restores the built-in one. LF_E_UNSUPPORTED for a method that scores no membership. */
LF_API lf_status lf_request_set_privacy_approximator(lf_request *req, lf_privacy_approximator_fn fn,
                                                     void *user);

/* ---- Running ---- */

/* A method-specific figure of a run, e.g. ReMI's "remi.acc_bound"; the name is static. */
typedef struct lf_unlearn_figure {
    const char *name;
    double      value;
} lf_unlearn_figure;
#define LF_UNLEARN_MAX_FIGURES 12

typedef struct lf_unlearn_result {
    uint32_t struct_size;
    int32_t  epochs;        /* passes over the method's main data set (0 when not epoch-based) */
    int64_t  steps;         /* optimizer steps, or solver iterations */
    double   seconds;       /* wall time of lf_unlearn */
    double   final_loss;    /* the method's objective at the end (NaN when it has none) */
    int64_t  retain_size;   /* samples in the retain and forget sets the request resolved to */
    int64_t  forget_size;
    /* ---- appended in 0.1: method-specific figures (see each method's documentation) ---- */
    int32_t  n_figures;
    lf_unlearn_figure figures[LF_UNLEARN_MAX_FIGURES];
} lf_unlearn_result;
#define LF_UNLEARN_RESULT_INIT { (uint32_t)sizeof(lf_unlearn_result), 0, 0, 0.0, 0.0, 0, 0, 0, \
                                 { { 0, 0.0 } } }

/* Runs the request on `model` and returns a new model in *out (the caller destroys it). `model`
 * is never modified, on success, error or abort. Sparse models stay sparse: every method keeps
 * masked weights at exactly 0. result may be NULL. Errors: LF_E_STATE (no train set or forget
 * spec), LF_E_SHAPE (data and model disagree), LF_E_INVALID_ARG (empty forget or retain set),
 * LF_E_NUMERIC (a method diverged; the message names the step), LF_E_ABORTED. */
LF_API lf_status lf_unlearn(lf_request *req, const lf_model *model, lf_model **out,
                            lf_unlearn_result *result);

#ifdef __cplusplus
}
#endif
#endif
