/* libforget — evaluation: how well a model forgot (spec/EVALUATION.md).
 *
 * Model level: lf_evaluate gives the seed papers' metrics (UA, RA, TA, MIA-Efficacy) and the
 * Song & Mittal metric attacks for a model and the sets D_f, D_r, D_test; lf_metrics_disparity
 * compares two of them; lf_report collects rows and prints the seed paper's table, JSON and CSV.
 *
 * Array level: the same mathematics on the caller's own numbers (features from probabilities,
 * the MIA-Efficacy SVM, the attacks, the NeurIPS 2023 challenge's forgetting quality), so hosts
 * and tests can check every step. Array-level functions allocate their scratch memory with the
 * C library's allocator (they take no context).
 *
 * Units: accuracies, UA, MIA-Efficacy, TPR, TNR and attack accuracies are percentages in [0, 100]. */
#ifndef LIBFORGET_EVAL_H
#define LIBFORGET_EVAL_H

#include "libforget/context.h"
#include "libforget/dataset.h"
#include "libforget/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Per-sample features of a probability vector p (softmax output) and its label y ----
 * log(v) is taken as log(max(v, 1e-30)) (Song & Mittal). Explicit values: ABI. */
typedef enum lf_feature {
    LF_FEATURE_CONFIDENCE           = 0, /* p_y: the MIA-Efficacy SVM's feature in the spec */
    LF_FEATURE_ENTROPY              = 1, /* H = -sum_k p_k log p_k */
    LF_FEATURE_NEG_ENTROPY          = 2, /* -H (larger = more member-like) */
    LF_FEATURE_MODIFIED_ENTROPY     = 3, /* Mentr = -(1-p_y) log p_y - sum_{k!=y} p_k log(1-p_k) */
    LF_FEATURE_NEG_MODIFIED_ENTROPY = 4, /* -Mentr */
    LF_FEATURE_CORRECTNESS          = 5  /* 1 when argmax p = y (the first maximum wins), else 0 */
} lf_feature;

/* Short static name ("confidence", "entropy", "neg_entropy", "modified_entropy",
 * "neg_modified_entropy", "correctness"); "unknown" for other values. */
LF_API const char *lf_feature_name(lf_feature feature);

/* out[i] = feature of row i of probs (n × classes, row-major) with label labels[i].
 * Errors: NULL pointers or classes < 1 -> LF_E_INVALID_ARG; a NaN or infinite probability ->
 * LF_E_NUMERIC; a probability outside [0, 1] or a label outside [0, classes) -> LF_E_OUT_OF_RANGE
 * (each naming the row). n = 0 is a no-op. */
LF_API lf_status lf_features_from_probs(double *out, const float *probs, const int32_t *labels,
                                        size_t n, int32_t classes, lf_feature feature);

/* ---- MIA-Efficacy: a membership-inference SVM (libsvm C-SVC, RBF kernel, C = 3, gamma = 1,
 * tolerance 1e-3, shrinking on: scikit-learn's SVC(C=3, gamma='auto') on one feature) ----
 * Trains on members (label 1) and non-members (label 0) and classifies the targets; a target is
 * "member" when the SVM predicts label 1 (its decision value favours label 1).
 *   *efficacy = 100 × (targets predicted non-member) / n_targets.
 * is_member (may be NULL) receives n_targets values, 1 = member, 0 = non-member.
 * cache_mb is libsvm's kernel cache in MB (0 = 200, as scikit-learn's default; at most 65536).
 * Errors: an empty set -> LF_E_INVALID_ARG; a NaN or infinite value -> LF_E_NUMERIC.
 * Note: libsvm's message printer is process-wide; this call silences it. */
LF_API lf_status lf_mia_efficacy(double *efficacy, int32_t *is_member,
                                 const double *members, size_t n_members,
                                 const double *nonmembers, size_t n_nonmembers,
                                 const double *targets, size_t n_targets, double cache_mb);

/* ---- Metric-based membership inference (Song & Mittal, USENIX Security 2021) ---- */

/* Explicit values: ABI (they index the attack arrays of lf_metrics). */
typedef enum lf_attack {
    LF_ATTACK_CORRECTNESS      = 0, /* member when the prediction is right */
    LF_ATTACK_CONFIDENCE       = 1, /* per-class threshold on p_y */
    LF_ATTACK_ENTROPY          = 2, /* per-class threshold on -entropy */
    LF_ATTACK_MODIFIED_ENTROPY = 3  /* per-class threshold on -modified entropy */
} lf_attack;
#define LF_ATTACK_COUNT 4

/* Short static name of an attack ("correctness", "confidence", "entropy", "modified_entropy");
 * "unknown" for other values. */
LF_API const char *lf_attack_name(lf_attack attack);

/* Result of one attack on the target sets. Size-versioned. */
typedef struct lf_attack_result {
    uint32_t struct_size;
    uint32_t reserved;
    double   tpr;       /* % of target members called member */
    double   tnr;       /* % of target non-members called non-member */
    double   accuracy;  /* (tpr + tnr) / 2 */
} lf_attack_result;
#define LF_ATTACK_RESULT_INIT { (uint32_t)sizeof(lf_attack_result), 0, 0.0, 0.0, 0.0 }

/* Correctness attack: the inputs are 0/1 correctness values of the target members (in) and
 * non-members (out): tpr = 100·mean(in), tnr = 100·(1 - mean(out)). Values must lie in [0, 1]. */
LF_API lf_status lf_attack_correctness(lf_attack_result *result, const double *target_in, size_t n_in,
                                       const double *target_out, size_t n_out);

/* Threshold attack on a feature where larger means "member" (confidence, -entropy, -Mentr).
 * For each class c, tau_c is chosen among the shadow values of class c, taken in the order
 * shadow_in then shadow_out, to maximise (mean(shadow_in_c >= tau) + mean(shadow_out_c < tau))/2;
 * the first maximiser wins. A class missing from shadow_in or shadow_out gets tau_c = 0 (as in
 * the authors' code). A target of class y is "member" when its value >= tau_y.
 * thresholds (may be NULL) receives the num_classes thresholds.
 * Errors: an empty target set -> LF_E_INVALID_ARG; non-finite values -> LF_E_NUMERIC; a label
 * outside [0, num_classes) -> LF_E_OUT_OF_RANGE. Shadow sets may be empty. */
LF_API lf_status lf_attack_threshold(lf_attack_result *result, double *thresholds,
                                     const double *shadow_in, const int32_t *shadow_in_labels, size_t n_shadow_in,
                                     const double *shadow_out, const int32_t *shadow_out_labels, size_t n_shadow_out,
                                     const double *target_in, const int32_t *target_in_labels, size_t n_target_in,
                                     const double *target_out, const int32_t *target_out_labels, size_t n_target_out,
                                     int32_t num_classes);

/* ---- Model-level evaluation ---- */

/* Flags of lf_eval_options. */
#define LF_EVAL_SKIP_MIA     0x1u /* no SVM: mia_efficacy = NaN (fast evaluations) */
#define LF_EVAL_SKIP_ATTACKS 0x2u /* no Song & Mittal attacks: their fields = NaN */

/* Size-versioned; zero fields mean the defaults given. */
typedef struct lf_eval_options {
    uint32_t       struct_size;
    int32_t        mia_feature;   /* lf_feature of the MIA-Efficacy SVM; 0 = confidence (the spec's) */
    double         svm_cache_mb;  /* libsvm kernel cache in MB; 0 = 200 */
    int32_t        batch_size;    /* samples per inference call; 0 = 1024 */
    uint32_t       flags;         /* LF_EVAL_* */
    lf_progress_fn progress;      /* phase "eval" after each batch, "mia" before the SVM; may abort */
    void          *progress_user;
} lf_eval_options;
#define LF_EVAL_OPTIONS_INIT { (uint32_t)sizeof(lf_eval_options), 0, 0.0, 0, 0u, 0, 0 }

/* The metrics of one model. Size-versioned result: set struct_size (LF_METRICS_INIT does). */
typedef struct lf_metrics {
    uint32_t struct_size;
    int32_t  mia_feature;        /* the lf_feature the MIA-Efficacy SVM used */
    double   ua;                 /* 100 - Acc(D_f) */
    double   ra;                 /* Acc(D_r) */
    double   ta;                 /* Acc(D_test) */
    double   mia_efficacy;       /* % of D_f the SVM calls non-member; NaN when skipped */
    double   attack_tpr[LF_ATTACK_COUNT];      /* indexed by lf_attack; NaN when skipped */
    double   attack_tnr[LF_ATTACK_COUNT];
    double   attack_accuracy[LF_ATTACK_COUNT]; /* (tpr + tnr) / 2 */
    int64_t  n_forget;           /* |D_f| */
    int64_t  n_retain;           /* |D_r| */
    int64_t  n_test;             /* |D_test| */
    int64_t  n_mia_members;      /* SVM members: the first min(|D_r|, |D_test|) samples of D_r */
    int64_t  n_shadow_members;   /* retain samples that set the attack thresholds */
    int64_t  n_target_members;   /* held-out retain samples the attacks classify */
    double   seconds;            /* wall time of the whole evaluation */
    double   mia_seconds;        /* of which the SVM (training and prediction) */
} lf_metrics;
#define LF_METRICS_INIT { (uint32_t)sizeof(lf_metrics), 0, 0.0, 0.0, 0.0, 0.0, { 0.0, 0.0, 0.0, 0.0 }, \
                          { 0.0, 0.0, 0.0, 0.0 }, { 0.0, 0.0, 0.0, 0.0 }, 0, 0, 0, 0, 0, 0, 0.0, 0.0 }

/* Evaluates model on D_f = forget, D_r = retain, D_test = test (eval mode, batched inference on
 * the model's backend). For class-wise forgetting pass D_test without the forgotten class
 * (lf_dataset_without_class). Correctness is taken from the logits (first maximum), so UA, RA
 * and TA agree exactly with lf_model_accuracy.
 *   MIA-Efficacy: SVM (lf_mia_efficacy) on opts->mia_feature; members = the first
 *     min(|D_r|, |D_test|) samples of D_r in data set order, non-members = D_test, targets = D_f.
 *   Attacks: the target members are min(|D_f|, floor(|D_r|/2)) retain samples spread evenly
 *     over D_r (positions floor(i·|D_r|/n) for i = 0..n-1: deterministic, no seed, and they
 *     follow D_r's class mix whatever its order); the other retain samples are the shadow
 *     members; shadow non-members = D_test; target non-members = D_f.
 * opts may be NULL. metrics->struct_size must be set. Errors: NULL arguments or an empty set
 * (or |D_r| < 2) -> LF_E_INVALID_ARG; a set with more classes than the model or another input
 * shape -> LF_E_SHAPE; non-finite outputs -> LF_E_NUMERIC; an abort -> LF_E_ABORTED. */
LF_API lf_status lf_evaluate(lf_model *model, const lf_dataset *forget, const lf_dataset *retain,
                             const lf_dataset *test, const lf_eval_options *opts, lf_metrics *metrics);

/* Avg. Disparity = (|UA - UA_r| + |MIA - MIA_r| + |RA - RA_r| + |TA - TA_r|) / 4 in percentage
 * points, against the Retrain model's metrics. A NaN metric (skipped MIA) -> LF_E_NUMERIC. */
LF_API lf_status lf_metrics_disparity(double *disparity, const lf_metrics *metrics,
                                      const lf_metrics *retrain);

/* ---- Forgetting quality (NeurIPS 2023 Machine Unlearning Challenge) ---- */

/* Logit-scaled confidence of each row: after subtracting the row's largest logit, in float64,
 *   conf = log(p_y + 1e-45) - log(sum_{k!=y} p_k + 1e-45).
 * Errors as lf_features_from_probs (for logits). */
LF_API lf_status lf_logit_confidences(double *conf, const float *logits, const int32_t *labels,
                                      size_t n, int32_t classes);
/* The same for the n = lf_dataset_size(ds) samples of ds under model (eval mode). */
LF_API lf_status lf_model_logit_confidences(lf_model *model, const lf_dataset *ds, double *conf,
                                            size_t n);

/* Size-versioned result. */
typedef struct lf_fq_result {
    uint32_t struct_size;
    int32_t  n_bins;          /* score bins [0.5j, 0.5j + 0.5) with upper edge <= ceil(ln(N-1)) */
    double   forget_score;    /* F = mean over examples of 2^-bin(eps), in [0, 1] */
    double   final_score;     /* F × (ra_unlearned/ra_retrained) × (ta_unlearned/ta_retrained) */
    double   mean_epsilon;
    int64_t  n_models;        /* N */
    int64_t  n_examples;
} lf_fq_result;
#define LF_FQ_RESULT_INIT { (uint32_t)sizeof(lf_fq_result), 0, 0.0, 0.0, 0.0, 0, 0 }

/* retrained and unlearned are [n_models × n_examples] row-major logit-scaled confidences (row i
 * = model i) of the same forget examples. epsilon (may be NULL) receives the n_examples
 * per-example estimates in [0, 50]. The accuracies (any unit, the same for all four) are means
 * over the N models of each kind. Errors: n_models < 2 or > 2048, n_examples = 0, a negative
 * accuracy or a retrained accuracy of 0 -> LF_E_INVALID_ARG; a non-finite value -> LF_E_NUMERIC. */
LF_API lf_status lf_forgetting_quality(lf_fq_result *result, double *epsilon,
                                       const double *retrained, const double *unlearned,
                                       size_t n_models, size_t n_examples,
                                       double ra_unlearned, double ra_retrained,
                                       double ta_unlearned, double ta_retrained);

/* ---- Reports: several (method, model) rows as the seed paper's table, JSON or CSV ---- */

typedef struct lf_report lf_report;

/* One row's description (the metrics are passed beside it). Strings are copied. */
typedef struct lf_report_row {
    uint32_t    struct_size;
    int32_t     threads;      /* worker threads of the unlearning call */
    const char *method;       /* "retrain", "ft", ...; the row named "retrain" is the reference */
    const char *backend;      /* "reference", "cpu", "cuda"; NULL = "" */
    uint64_t    seed;
    double      seconds;      /* wall time of the unlearning call only */
    uint64_t    hash_before;  /* the caller's hash of the model before and after unlearning */
    uint64_t    hash_after;
} lf_report_row;
#define LF_REPORT_ROW_INIT { (uint32_t)sizeof(lf_report_row), 0, 0, 0, 0, 0.0, 0, 0 }

/* Explicit values: ABI. */
typedef enum lf_report_format {
    LF_REPORT_TABLE = 0,  /* the seed paper's table, fixed-width text */
    LF_REPORT_JSON  = 1,
    LF_REPORT_CSV   = 2
} lf_report_format;

LF_API lf_status lf_report_create(lf_report **out, lf_context *ctx);
/* NULL is a no-op. */
LF_API void      lf_report_destroy(lf_report *report);
/* Appends a row (method must be a non-empty string). */
LF_API lf_status lf_report_add(lf_report *report, const lf_report_row *row, const lf_metrics *metrics);
LF_API size_t    lf_report_count(const lf_report *report);

/* Renders the report like snprintf: writes at most size bytes (always NUL-terminated when size >
 * 0; buf may be NULL when size is 0) and sets *needed to the full length without the NUL.
 * Avg. Disparity and the speed-up (Retrain's seconds / the row's) are relative to the row named
 * "retrain" with the same seed, else the first "retrain" row; without one they are left out
 * ("-" in the table, null in JSON, empty in CSV). */
LF_API lf_status lf_report_render(const lf_report *report, lf_report_format format, char *buf,
                                  size_t size, size_t *needed);
/* Writes the rendering to path atomically (temporary file + rename; path is untouched on error). */
LF_API lf_status lf_report_write(const lf_report *report, lf_report_format format, const char *path);

#ifdef __cplusplus
}
#endif
#endif
