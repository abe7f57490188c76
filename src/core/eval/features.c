/* Per-sample features of a model's output: the membership-inference features of a probability
 * row (Song & Mittal) and the challenge's logit-scaled confidence of a logits row. */
#include <math.h>

#include "core/eval/eval_internal.h"

static const char *const k_feature_names[] = {
    "confidence", "entropy", "neg_entropy", "modified_entropy", "neg_modified_entropy", "correctness"
};

int lf__eval_feature_valid(int32_t feature)
{
    return feature >= LF_FEATURE_CONFIDENCE && feature <= LF_FEATURE_CORRECTNESS;
}

const char *lf_feature_name(lf_feature feature)
{
    return lf__eval_feature_valid(feature) ? k_feature_names[feature] : "unknown";
}

/* log(max(v, 1e-30)): the floor keeps log(0) finite, as the authors' code does. */
static double floored_log(double v)
{
    return log(v > LF__EVAL_LOG_FLOOR ? v : LF__EVAL_LOG_FLOOR);
}

lf_status lf__eval_check_probs(const float *probs, const int32_t *labels, size_t n, int32_t classes,
                               const char *what)
{
    for (size_t i = 0; i < n; i++) {
        const float *p = probs + i * (size_t)classes;
        if (labels[i] < 0 || labels[i] >= classes)
            return lf__error(LF_E_OUT_OF_RANGE, "%s: row %zu: label %d is outside [0, %d)", what, i,
                             (int)labels[i], (int)classes);
        for (int32_t k = 0; k < classes; k++) {
            if (!isfinite(p[k]))
                return lf__error(LF_E_NUMERIC, "%s: row %zu, class %d: probability is %g", what, i,
                                 (int)k, (double)p[k]);
            if (p[k] < 0.0f || p[k] > 1.0f)
                return lf__error(LF_E_OUT_OF_RANGE, "%s: row %zu, class %d: probability %g is outside "
                                 "[0, 1]", what, i, (int)k, (double)p[k]);
        }
    }
    return LF_OK;
}

static double entropy(const float *p, int32_t classes)
{
    double h = 0.0;
    for (int32_t k = 0; k < classes; k++)
        h -= (double)p[k] * floored_log(p[k]);
    return h;
}

static double modified_entropy(const float *p, int32_t y, int32_t classes)
{
    double py = p[y];
    double m = -(1.0 - py) * floored_log(py);
    for (int32_t k = 0; k < classes; k++)
        if (k != y)
            m -= (double)p[k] * floored_log(1.0 - (double)p[k]);
    return m;
}

/* torch.argmax / numpy.argmax: the first maximum wins. */
static int32_t first_argmax(const float *p, int32_t classes)
{
    int32_t best = 0;
    for (int32_t k = 1; k < classes; k++)
        if (p[k] > p[best])
            best = k;
    return best;
}

double lf__eval_feature(const float *p, int32_t y, int32_t classes, lf_feature feature)
{
    switch (feature) {
    case LF_FEATURE_CONFIDENCE:           return p[y];
    case LF_FEATURE_ENTROPY:              return entropy(p, classes);
    case LF_FEATURE_NEG_ENTROPY:          return -entropy(p, classes);
    case LF_FEATURE_MODIFIED_ENTROPY:     return modified_entropy(p, y, classes);
    case LF_FEATURE_NEG_MODIFIED_ENTROPY: return -modified_entropy(p, y, classes);
    case LF_FEATURE_CORRECTNESS:          return first_argmax(p, classes) == y ? 1.0 : 0.0;
    }
    return NAN;   /* not reached: callers check the feature first */
}

lf_status lf_features_from_probs(double *out, const float *probs, const int32_t *labels, size_t n,
                                 int32_t classes, lf_feature feature)
{
    LF__CHECK_ARG(out || n == 0, "lf_features_from_probs: out is NULL");
    LF__CHECK_ARG(probs || n == 0, "lf_features_from_probs: probs is NULL");
    LF__CHECK_ARG(labels || n == 0, "lf_features_from_probs: labels is NULL");
    LF__CHECK_ARG(classes >= 1, "lf_features_from_probs: classes is %d (must be >= 1)", (int)classes);
    LF__CHECK_ARG(lf__eval_feature_valid(feature), "lf_features_from_probs: unknown feature %d",
                  (int)feature);
    LF__CHECK_ARG(n <= SIZE_MAX / (size_t)classes, "lf_features_from_probs: n × classes overflows");
    LF__TRY(lf__eval_check_probs(probs, labels, n, classes, "lf_features_from_probs"));
    for (size_t i = 0; i < n; i++)
        out[i] = lf__eval_feature(probs + i * (size_t)classes, labels[i], classes, feature);
    return LF_OK;
}

/* The challenge's formula (from the LiRA code): softmax in float64 after removing the largest
 * logit, then log(p_y + 1e-45) - log(sum of the other probabilities + 1e-45). */
double lf__eval_logit_confidence(const float *logits, int32_t y, int32_t classes)
{
    double top = logits[0];
    for (int32_t k = 1; k < classes; k++)
        if (logits[k] > top)
            top = logits[k];
    double total = 0.0;
    for (int32_t k = 0; k < classes; k++)
        total += exp((double)logits[k] - top);
    double correct = exp((double)logits[y] - top) / total;
    double wrong = 0.0;
    for (int32_t k = 0; k < classes; k++)
        if (k != y)
            wrong += exp((double)logits[k] - top) / total;
    return log(correct + 1e-45) - log(wrong + 1e-45);
}

lf_status lf_logit_confidences(double *conf, const float *logits, const int32_t *labels, size_t n,
                               int32_t classes)
{
    LF__CHECK_ARG(conf || n == 0, "lf_logit_confidences: conf is NULL");
    LF__CHECK_ARG(logits || n == 0, "lf_logit_confidences: logits is NULL");
    LF__CHECK_ARG(labels || n == 0, "lf_logit_confidences: labels is NULL");
    LF__CHECK_ARG(classes >= 1, "lf_logit_confidences: classes is %d (must be >= 1)", (int)classes);
    LF__CHECK_ARG(n <= SIZE_MAX / (size_t)classes, "lf_logit_confidences: n × classes overflows");
    for (size_t i = 0; i < n; i++) {
        const float *row = logits + i * (size_t)classes;
        if (labels[i] < 0 || labels[i] >= classes)
            return lf__error(LF_E_OUT_OF_RANGE, "lf_logit_confidences: row %zu: label %d is outside "
                             "[0, %d)", i, (int)labels[i], (int)classes);
        for (int32_t k = 0; k < classes; k++)
            if (!isfinite(row[k]))
                return lf__error(LF_E_NUMERIC, "lf_logit_confidences: row %zu, class %d: logit is %g",
                                 i, (int)k, (double)row[k]);
        conf[i] = lf__eval_logit_confidence(row, labels[i], classes);
    }
    return LF_OK;
}
