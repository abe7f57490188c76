/* The metric-based membership-inference attacks of Song & Mittal (USENIX Security 2021):
 * correctness, and per-class thresholds on a feature where larger means "member". The threshold
 * rule follows the authors' code (membership_inference_attacks.py, _thre_setting): candidates
 * are the class's shadow values in the order members then non-members, and the first candidate
 * with the strictly largest (mean(in >= t) + mean(out < t)) / 2 wins, starting from t = 0. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/eval/eval_internal.h"

static const char *const k_attack_names[LF_ATTACK_COUNT] = {
    "correctness", "confidence", "entropy", "modified_entropy"
};

const char *lf_attack_name(lf_attack attack)
{
    if ((int)attack < 0 || (int)attack >= LF_ATTACK_COUNT)
        return "unknown";
    return k_attack_names[attack];
}

static lf_status check_set(lf__scored s, int32_t num_classes, int need_labels, const char *name)
{
    if (s.n > 0 && !s.values)
        return lf__error(LF_E_INVALID_ARG, "lf_attack: %s values are NULL", name);
    if (need_labels && s.n > 0 && !s.labels)
        return lf__error(LF_E_INVALID_ARG, "lf_attack: %s labels are NULL", name);
    for (size_t i = 0; i < s.n; i++) {
        if (!isfinite(s.values[i]))
            return lf__error(LF_E_NUMERIC, "lf_attack: %s[%zu] is %g", name, i, s.values[i]);
        if (need_labels && (s.labels[i] < 0 || s.labels[i] >= num_classes))
            return lf__error(LF_E_OUT_OF_RANGE, "lf_attack: %s label [%zu] = %d is outside [0, %d)",
                             name, i, (int)s.labels[i], (int)num_classes);
    }
    return LF_OK;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Number of sorted[0..n) strictly below v. */
static size_t count_below(const double *sorted, size_t n, double v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The values of s grouped by class, in their original order within a class (a stable counting
 * sort): class c occupies [start[c], start[c+1]) of grouped. */
static void group_by_class(double *grouped, size_t *start, lf__scored s, int32_t num_classes)
{
    memset(start, 0, ((size_t)num_classes + 1) * sizeof *start);
    for (size_t i = 0; i < s.n; i++)
        start[s.labels[i] + 1]++;
    for (int32_t c = 0; c < num_classes; c++)
        start[c + 1] += start[c];
    size_t *next = start + num_classes + 1;   /* scratch cursor per class, after start[] */
    memcpy(next, start, (size_t)num_classes * sizeof *next);
    for (size_t i = 0; i < s.n; i++)
        grouped[next[s.labels[i]]++] = s.values[i];
}

/* The authors' _thre_setting for one class: in[0..n_in) and out[0..n_out) in data order, with
 * sorted copies for the counts. */
static double class_threshold(const double *in, const double *in_sorted, size_t n_in,
                              const double *out, const double *out_sorted, size_t n_out)
{
    double best = 0.0, best_acc = 0.0;
    if (n_in == 0 || n_out == 0)
        return best;   /* the authors' code divides 0 by 0 here and keeps t = 0 */
    for (size_t k = 0; k < n_in + n_out; k++) {
        double v = k < n_in ? in[k] : out[k - n_in];
        double in_ratio = (double)(n_in - count_below(in_sorted, n_in, v)) / (double)n_in;
        double out_ratio = (double)count_below(out_sorted, n_out, v) / (double)n_out;
        double acc = 0.5 * (in_ratio + out_ratio);
        if (acc > best_acc) {
            best = v;
            best_acc = acc;
        }
    }
    return best;
}

lf_status lf__eval_attack_threshold(const lf_context *ctx, lf_attack_result *result, double *thresholds,
                                    lf__scored shadow_in, lf__scored shadow_out,
                                    lf__scored target_in, lf__scored target_out, int32_t num_classes)
{
    LF__CHECK_ARG(result, "lf_attack_threshold: result is NULL");
    LF__CHECK_ARG(num_classes >= 1, "lf_attack_threshold: num_classes is %d (must be >= 1)",
                  (int)num_classes);
    LF__CHECK_ARG(target_in.n > 0, "lf_attack_threshold: the target member set is empty");
    LF__CHECK_ARG(target_out.n > 0, "lf_attack_threshold: the target non-member set is empty");
    LF__TRY(check_set(shadow_in, num_classes, 1, "shadow_in"));
    LF__TRY(check_set(shadow_out, num_classes, 1, "shadow_out"));
    LF__TRY(check_set(target_in, num_classes, 1, "target_in"));
    LF__TRY(check_set(target_out, num_classes, 1, "target_out"));

    size_t nc = (size_t)num_classes;
    size_t n_shadow = shadow_in.n + shadow_out.n;
    /* grouped values (in then out), their sorted copies, class starts + cursors, thresholds */
    double *grouped = lf__calloc(ctx, n_shadow, 2 * sizeof *grouped, "attack shadow values");
    size_t *bounds = lf__calloc(ctx, nc + 1, 4 * sizeof *bounds, "attack class bounds");
    double *tau = lf__calloc(ctx, nc, sizeof *tau, "attack thresholds");
    if (!grouped || !bounds || !tau) {
        lf__free(ctx, grouped, n_shadow * 2 * sizeof *grouped);
        lf__free(ctx, bounds, (nc + 1) * 4 * sizeof *bounds);
        lf__free(ctx, tau, nc * sizeof *tau);
        return LF_E_NOMEM;
    }
    double *in_grouped = grouped, *out_grouped = grouped + shadow_in.n;
    double *in_sorted = grouped + n_shadow, *out_sorted = in_sorted + shadow_in.n;
    size_t *in_start = bounds, *out_start = bounds + 2 * (nc + 1);
    group_by_class(in_grouped, in_start, shadow_in, num_classes);
    group_by_class(out_grouped, out_start, shadow_out, num_classes);
    memcpy(in_sorted, in_grouped, n_shadow * sizeof *grouped);
    for (size_t c = 0; c < nc; c++) {
        size_t a = in_start[c], na = in_start[c + 1] - a;
        size_t b = out_start[c], nb = out_start[c + 1] - b;
        qsort(in_sorted + a, na, sizeof(double), compare_doubles);
        qsort(out_sorted + b, nb, sizeof(double), compare_doubles);
        tau[c] = class_threshold(in_grouped + a, in_sorted + a, na, out_grouped + b, out_sorted + b, nb);
    }

    size_t called_in = 0, called_out = 0;
    for (size_t i = 0; i < target_in.n; i++)
        called_in += target_in.values[i] >= tau[target_in.labels[i]];
    for (size_t i = 0; i < target_out.n; i++)
        called_out += target_out.values[i] < tau[target_out.labels[i]];
    lf_attack_result r = LF_ATTACK_RESULT_INIT;
    r.tpr = 100.0 * (double)called_in / (double)target_in.n;
    r.tnr = 100.0 * (double)called_out / (double)target_out.n;
    r.accuracy = 0.5 * (r.tpr + r.tnr);
    if (thresholds)
        memcpy(thresholds, tau, nc * sizeof *tau);
    lf__free(ctx, grouped, n_shadow * 2 * sizeof *grouped);
    lf__free(ctx, bounds, (nc + 1) * 4 * sizeof *bounds);
    lf__free(ctx, tau, nc * sizeof *tau);
    return lf__copy_struct_out(result, &r, sizeof r, "lf_attack_result");
}

lf_status lf__eval_attack_correctness(lf_attack_result *result, lf__scored target_in, lf__scored target_out)
{
    LF__CHECK_ARG(result, "lf_attack_correctness: result is NULL");
    LF__CHECK_ARG(target_in.values && target_in.n > 0, "lf_attack_correctness: the target member set is empty");
    LF__CHECK_ARG(target_out.values && target_out.n > 0,
                  "lf_attack_correctness: the target non-member set is empty");
    const lf__scored *sets[2] = { &target_in, &target_out };
    double mean[2];
    for (int s = 0; s < 2; s++) {
        double sum = 0.0;
        for (size_t i = 0; i < sets[s]->n; i++) {
            double v = sets[s]->values[i];
            if (!(v >= 0.0 && v <= 1.0))   /* also refuses NaN */
                return lf__error(isfinite(v) ? LF_E_OUT_OF_RANGE : LF_E_NUMERIC,
                                 "lf_attack_correctness: %s[%zu] = %g is not a correctness in [0, 1]",
                                 s == 0 ? "target_in" : "target_out", i, v);
            sum += v;
        }
        mean[s] = sum / (double)sets[s]->n;
    }
    lf_attack_result r = LF_ATTACK_RESULT_INIT;
    r.tpr = 100.0 * mean[0];
    r.tnr = 100.0 * (1.0 - mean[1]);
    r.accuracy = 0.5 * (r.tpr + r.tnr);
    return lf__copy_struct_out(result, &r, sizeof r, "lf_attack_result");
}

lf_status lf_attack_correctness(lf_attack_result *result, const double *target_in, size_t n_in,
                                const double *target_out, size_t n_out)
{
    lf__scored in = { target_in, NULL, n_in }, out = { target_out, NULL, n_out };
    return lf__eval_attack_correctness(result, in, out);
}

lf_status lf_attack_threshold(lf_attack_result *result, double *thresholds,
                              const double *shadow_in, const int32_t *shadow_in_labels, size_t n_shadow_in,
                              const double *shadow_out, const int32_t *shadow_out_labels, size_t n_shadow_out,
                              const double *target_in, const int32_t *target_in_labels, size_t n_target_in,
                              const double *target_out, const int32_t *target_out_labels, size_t n_target_out,
                              int32_t num_classes)
{
    lf__scored si = { shadow_in, shadow_in_labels, n_shadow_in };
    lf__scored so = { shadow_out, shadow_out_labels, n_shadow_out };
    lf__scored ti = { target_in, target_in_labels, n_target_in };
    lf__scored to = { target_out, target_out_labels, n_target_out };
    return lf__eval_attack_threshold(NULL, result, thresholds, si, so, ti, to, num_classes);
}
