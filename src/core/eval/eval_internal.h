/* Declarations shared by the files of src/core/eval (features, the MIA SVM, the metric attacks,
 * forgetting quality, evaluation, reports) and by the white-box tests. Never installed. */
#ifndef LF_CORE_EVAL_INTERNAL_H
#define LF_CORE_EVAL_INTERNAL_H

#include "libforget/eval.h"
#include "core/internal.h"

/* Song & Mittal's floor inside logarithms: log(v) is log(max(v, 1e-30)). */
#define LF__EVAL_LOG_FLOOR 1e-30

/* ---- features.c ---- */

/* Checks a probs block (n × classes) and its labels: finite, in [0, 1], labels in range.
 * Errors name `what` and the row. */
lf_status lf__eval_check_probs(const float *probs, const int32_t *labels, size_t n, int32_t classes,
                               const char *what);
/* The feature of one checked probability row p with label y. */
double    lf__eval_feature(const float *p, int32_t y, int32_t classes, lf_feature feature);
/* The logit-scaled confidence of one logits row (float64, max-subtracted); the caller has
 * checked that the row is finite and y is in range. */
double    lf__eval_logit_confidence(const float *logits, int32_t y, int32_t classes);
/* 1 when v is a known lf_feature. */
int       lf__eval_feature_valid(int32_t feature);

/* ---- chunks.c ---- */

/* Called with rows [first, first + count) of a data set: their logits and probabilities
 * (count × classes; probs NULL unless asked for) and labels. */
typedef lf_status (*lf__eval_rows_fn)(void *user, size_t first, size_t count, const float *logits,
                                      const float *probs, const int32_t *labels);
/* Eval-mode inference over all of ds in chunks of `chunk` rows through lf_model_predict; errors
 * (and callback errors) are returned as they are. */
lf_status lf__eval_for_each_chunk(lf_model *model, const lf_dataset *ds, size_t chunk, int want_probs,
                                  lf__eval_rows_fn fn, void *user);

/* ---- mia_svm.c ---- */

/* lf_mia_efficacy with scratch memory from ctx (may be NULL). */
lf_status lf__eval_mia_svm(const lf_context *ctx, double *efficacy, int32_t *is_member,
                           const double *members, size_t n_members,
                           const double *nonmembers, size_t n_nonmembers,
                           const double *targets, size_t n_targets, double cache_mb);

/* ---- attacks.c ---- */

/* One side of an attack: values (and labels for threshold attacks) of n samples. */
typedef struct lf__scored {
    const double  *values;
    const int32_t *labels;
    size_t         n;
} lf__scored;

/* lf_attack_threshold with scratch memory from ctx (may be NULL); result fields in percent. */
lf_status lf__eval_attack_threshold(const lf_context *ctx, lf_attack_result *result, double *thresholds,
                                    lf__scored shadow_in, lf__scored shadow_out,
                                    lf__scored target_in, lf__scored target_out, int32_t num_classes);
lf_status lf__eval_attack_correctness(lf_attack_result *result, lf__scored target_in,
                                      lf__scored target_out);

/* ---- forgetting_quality.c ---- */

/* numpy.linspace(start, stop, num)[i] (numpy's formula: start + i·step, the last one = stop). */
double    lf__fq_linspace_at(double start, double stop, int64_t num, int64_t i);
/* 2^-j for eps in bin j = [0.5j, 0.5j + 0.5) while the bin's upper edge <= ceil(ln(n_models-1));
 * 0 beyond the last bin. *n_bins (may be NULL) receives the number of bins. */
double    lf__fq_bin_score(double eps, size_t n_models, int32_t *n_bins);
/* epsilon of one forget example from its n_models confidences under Retrain and under the
 * unlearning method (the spec's estimator, clipped to [0, 50]). scratch: 2·n_models doubles and
 * (n_models+1)^2 bytes, from lf__fq_scratch_size. */
size_t    lf__fq_scratch_size(size_t n_models);
double    lf__fq_example_epsilon(const double *retrained, const double *unlearned, size_t n_models,
                                 void *scratch);

#endif
