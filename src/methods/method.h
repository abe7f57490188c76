/* The internal interface of an unlearning method: a name, a parameter schema and one run
 * function. request.c resolves the request (splits, clone of the input model, parameters) into
 * an lf__unlearn_job and calls run(); the method changes job->model (a private copy) only.
 * Methods register in registry.c. */
#ifndef LF_METHODS_METHOD_H
#define LF_METHODS_METHOD_H

#include "libforget/unlearn.h"
#include "core/internal.h"

/* One parameter of a method's schema. A CHOICE parameter's value is the index of its word in
 * choices; default_value is the default word's index and the bounds are ignored. */
typedef struct lf__param_spec {
    int32_t     type;   /* lf_param_type */
    const char *name;
    const char *doc;
    double      default_value, min_value, max_value;
    const char *choices;          /* CHOICE: "a|b|c" */
    const char *default_choice;   /* CHOICE: the word of default_value */
} lf__param_spec;

/* What a method works on. Every pointer is valid for the whole run. */
typedef struct lf__method lf__method;

typedef struct lf__unlearn_job {
    const lf__method *method;
    lf_context       *ctx;
    const lf_model   *original;     /* the caller's model: read only */
    lf_model         *model;        /* a clone of original: the method's output */
    const lf_dataset *train;        /* retain ∪ forget */
    const lf_dataset *retain;       /* views of train */
    const lf_dataset *forget;
    const lf_dataset *holdout;      /* may be NULL */
    int32_t           forget_class; /* the forgotten class, -1 unless class-wise forgetting */
    const double     *params;       /* values, in the method's schema order */
    uint64_t          seed;
    lf_progress_fn    progress;     /* may be NULL */
    void             *progress_user;
    lf_unlearn_result *result;      /* the method fills epochs, steps, final_loss, figures */
    lf_privacy_approximator_fn approximator;   /* the caller's membership scorer, or NULL */
    void             *approximator_user;
} lf__unlearn_job;

struct lf__method {
    const char           *name;
    const char           *summary;
    const lf__param_spec *params;
    size_t                n_params;
    lf_status (*run)(lf__unlearn_job *job);
    int                   takes_approximator;   /* uses a privacy approximator (ReMI) */
};

/* registry.c */
const lf__method *lf__method_find(const char *name);
/* Index of key in m's schema, or -1. */
int lf__method_param_index(const lf__method *m, const char *key);
/* The job's value of parameter `key`, which the method's schema must have (a programming error
 * otherwise: the value is NaN). */
double lf__job_param(const lf__unlearn_job *job, const char *key);

/* SGD training options from the job's "epochs", "lr" and "batch" parameters (the schema must
 * have them), momentum 0.9 and weight decay 5e-4 (METHODS.md), the job's seed and progress. */
lf_train_options lf__job_train_options(const lf__unlearn_job *job, int32_t schedule);
/* Adds a training phase's figures to the job's result. */
void lf__job_add_training(lf__unlearn_job *job, const lf_train_result *r);
/* Appends a method-specific figure (name static) to the job's result; ignored past
 * LF_UNLEARN_MAX_FIGURES (a programming error the tests catch). */
void lf__job_add_figure(lf__unlearn_job *job, const char *name, double value);

/* Parameter entries shared by the SGD-based methods. */
#define LF__PARAM_EPOCHS(def, doc) { LF_PARAM_INT, "epochs", doc, def, 1, 10000, NULL, NULL }
#define LF__PARAM_LR(def, doc)     { LF_PARAM_DOUBLE, "lr", doc, def, 1e-8, 10, NULL, NULL }
#define LF__PARAM_BATCH(def)       { LF_PARAM_INT, "batch", "mini-batch size", def, 1, 65536, NULL, NULL }

/* The built-in methods (one file each). */
extern const lf__method lf__method_retrain;
extern const lf__method lf__method_ft;
extern const lf__method lf__method_ga;
extern const lf__method lf__method_l1sparse;
extern const lf__method lf__method_ff;
extern const lf__method lf__method_iu;
extern const lf__method lf__method_remi;
extern const lf__method lf__method_dau;

#endif
