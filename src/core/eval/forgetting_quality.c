/* Forgetting quality of the NeurIPS 2023 Machine Unlearning Challenge (spec/EVALUATION.md; the
 * organisers' metric.py is the reference for the details the spec leaves open, noted below).
 *
 * Per forget example, N confidences under Retrain and N under the unlearning method are two
 * samples; every threshold attack of two families gives (FPR, FNR), each an epsilon, and the
 * example's epsilon is the largest. Because both samples have N values, FPR = fp/N and
 * FNR = fn/N: epsilon depends only on the counts (fp, fn), so it is tabulated once per call and
 * every threshold costs a lookup. Counts come from sorted samples and monotone cursors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/eval/eval_internal.h"

#define DELTA                 1e-5
#define EPSILON_CAP           50.0
#define THRESHOLDS_PER_UNIT   100.0
#define INTERVAL_BUFFER       2.0   /* the interval family's search margin */
#define DEGENERATE_RATIO      0.01
#define BIN_WIDTH             0.5
#define MAX_MODELS            2048  /* keeps the (N+1)^2 epsilon table under 34 MB */

double lf__fq_linspace_at(double start, double stop, int64_t num, int64_t i)
{
    if (num <= 1)
        return start;
    if (i == num - 1)
        return stop;
    double delta = stop - start;
    double step = delta / (double)(num - 1);
    if (step == 0.0)   /* numpy's branch for a step that underflows */
        return (double)i / (double)(num - 1) * delta + start;
    return (double)i * step + start;
}

/* ceil(x · 100) as the number of linspace points (0 for x <= 0). */
static int64_t threshold_count(double span)
{
    double c = ceil(span * THRESHOLDS_PER_UNIT);
    return c > 0.0 ? (int64_t)c : 0;
}

double lf__fq_bin_score(double eps, size_t n_models, int32_t *n_bins)
{
    double max_epsilon = n_models >= 2 ? ceil(log((double)n_models - 1.0)) : 0.0;
    double points = 1.0, score = 0.0;
    int found = 0;
    int32_t bins = 0;
    for (double start = 0.0; start + BIN_WIDTH <= max_epsilon; start += BIN_WIDTH) {
        if (!found && eps < start + BIN_WIDTH) {
            score = points;
            found = 1;
        }
        points /= 2.0;
        bins++;
    }
    if (n_bins)
        *n_bins = bins;
    return score;
}

/* epsilon of one threshold from its counts (NaN = discarded): both rates 0 -> infinity; exactly
 * one 0 -> discarded (a sign of too few samples); else the larger of the two bounds, where a
 * bound whose log argument is negative does not exist (rate 1: NaN in the reference, which
 * drops the threshold when both are missing), clipped below at 0. */
static double threshold_epsilon(size_t fp, size_t fn, size_t n)
{
    if (fp == 0 && fn == 0)
        return INFINITY;
    if (fp == 0 || fn == 0)
        return NAN;
    double fpr = (double)fp / (double)n, fnr = (double)fn / (double)n;
    double a = 1.0 - DELTA - fpr, b = 1.0 - DELTA - fnr;
    double e1 = a >= 0.0 ? log(a) - log(fnr) : NAN;
    double e2 = b >= 0.0 ? log(b) - log(fpr) : NAN;
    double e = isnan(e1) ? e2 : isnan(e2) ? e1 : fmax(e1, e2);
    return isnan(e) ? NAN : fmax(e, 0.0);
}

typedef struct fq_work {
    size_t  n;
    double *retrained, *unlearned;   /* sorted samples of the current example */
    double *table;                   /* (n+1)^2: epsilon of (fp, fn), NaN = discarded */
} fq_work;

size_t lf__fq_scratch_size(size_t n_models)
{
    return (2 * n_models + (n_models + 1) * (n_models + 1)) * sizeof(double);
}

static void work_bind(fq_work *w, void *scratch, size_t n)
{
    w->n = n;
    w->retrained = scratch;
    w->unlearned = w->retrained + n;
    w->table = w->unlearned + n;
    for (size_t fp = 0; fp <= n; fp++)
        for (size_t fn = 0; fn <= n; fn++)
            w->table[fp * (n + 1) + fn] = threshold_epsilon(fp, fn, n);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_sorted(const double *v, size_t n)
{
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Running maximum over kept thresholds. */
typedef struct eps_max {
    double value;
    int    any;
} eps_max;

static void take(eps_max *m, const fq_work *w, size_t fp, size_t fn)
{
    double e = w->table[fp * (w->n + 1) + fn];
    if (isnan(e))
        return;
    if (!m->any || e > m->value)
        m->value = e;
    m->any = 1;
}

/* Single thresholds t over linspace(min, max, ceil((max-min)·100)) of the pooled values:
 * "positive" (the larger median) when c >= t. */
static void single_thresholds(eps_max *m, const fq_work *w, const double *pos, const double *neg)
{
    size_t n = w->n;
    double lo = fmin(pos[0], neg[0]), hi = fmax(pos[n - 1], neg[n - 1]);
    int64_t num = threshold_count(hi - lo);
    size_t pos_below = 0, neg_below = 0;
    for (int64_t k = 0; k < num; k++) {
        double t = lf__fq_linspace_at(lo, hi, num, k);
        while (pos_below < n && pos[pos_below] < t)
            pos_below++;
        while (neg_below < n && neg[neg_below] < t)
            neg_below++;
        take(m, w, n - neg_below /* fp: neg >= t */, pos_below /* fn: pos < t */);
    }
}

/* Interval thresholds: "positive" when l <= c <= r, where positive is the peakier sample (range
 * w; on equal ranges the reference swaps, so the larger-median sample is then the negative).
 * r over linspace(pos.min + w - 2, pos.max + 2, ceil((max_r - min_r)·100)), and for each r,
 * l over linspace(r - w - 2, r - w + 2, 400). */
static void interval_thresholds(eps_max *m, const fq_work *w, const double *pos, const double *neg)
{
    size_t n = w->n;
    double pos_range = pos[n - 1] - pos[0], neg_range = neg[n - 1] - neg[0];
    if (pos_range >= neg_range) {
        const double *t = pos;
        pos = neg;
        neg = t;
    }
    double width = fmin(pos_range, neg_range);
    double r_min = pos[0] + width - INTERVAL_BUFFER, r_max = pos[n - 1] + INTERVAL_BUFFER;
    int64_t n_right = threshold_count(r_max - r_min);
    int64_t n_left = threshold_count(2.0 * INTERVAL_BUFFER);
    size_t pos_upto = 0, neg_upto = 0;   /* samples <= r; r increases */
    for (int64_t i = 0; i < n_right; i++) {
        double r = lf__fq_linspace_at(r_min, r_max, n_right, i);
        while (pos_upto < n && pos[pos_upto] <= r)
            pos_upto++;
        while (neg_upto < n && neg[neg_upto] <= r)
            neg_upto++;
        double l_min = r - width - INTERVAL_BUFFER, l_max = r - width + INTERVAL_BUFFER;
        size_t pos_below = 0, neg_below = 0;   /* samples < l; l increases */
        for (int64_t k = 0; k < n_left; k++) {
            double l = lf__fq_linspace_at(l_min, l_max, n_left, k);
            while (pos_below < n && pos[pos_below] < l)
                pos_below++;
            while (neg_below < n && neg[neg_below] < l)
                neg_below++;
            /* inside [l, r]: (<= r) - (< l), or none when l > r */
            size_t tp = pos_upto > pos_below ? pos_upto - pos_below : 0;
            size_t fp = neg_upto > neg_below ? neg_upto - neg_below : 0;
            take(m, w, fp, n - tp);
        }
    }
}

static double example_epsilon(fq_work *w, const double *retrained, const double *unlearned,
                              size_t stride)
{
    size_t n = w->n;
    double *r = w->retrained, *u = w->unlearned;
    for (size_t i = 0; i < n; i++) {
        r[i] = retrained[i * stride];
        u[i] = unlearned[i * stride];
    }
    qsort(r, n, sizeof *r, compare_doubles);
    qsort(u, n, sizeof *u, compare_doubles);
    /* positive = the larger median; on a tie the unlearned sample (the reference's choice) */
    int retrain_positive = median_sorted(r, n) > median_sorted(u, n);
    const double *pos = retrain_positive ? r : u, *neg = retrain_positive ? u : r;
    double pos_range = pos[n - 1] - pos[0], neg_range = neg[n - 1] - neg[0];
    double largest = fmax(pos_range, neg_range), smallest = fmin(pos_range, neg_range);
    /* A sample much peakier than the other: the worst epsilon. Two constant samples (0/0) go on
     * to the attacks, as in the reference. */
    if (largest > 0.0 && smallest / largest < DEGENERATE_RATIO)
        return EPSILON_CAP;
    eps_max m = { 0.0, 0 };
    interval_thresholds(&m, w, pos, neg);
    single_thresholds(&m, w, pos, neg);
    /* no threshold kept (two equal constant samples): no evidence, epsilon 0 */
    return m.any ? fmin(fmax(m.value, 0.0), EPSILON_CAP) : 0.0;
}

double lf__fq_example_epsilon(const double *retrained, const double *unlearned, size_t n_models,
                              void *scratch)
{
    fq_work w;
    work_bind(&w, scratch, n_models);
    return example_epsilon(&w, retrained, unlearned, 1);
}

static lf_status check_array(const double *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return lf__error(LF_E_NUMERIC, "lf_forgetting_quality: %s[%zu] is %g", name, i, v[i]);
    return LF_OK;
}

lf_status lf_forgetting_quality(lf_fq_result *result, double *epsilon, const double *retrained,
                                const double *unlearned, size_t n_models, size_t n_examples,
                                double ra_unlearned, double ra_retrained, double ta_unlearned,
                                double ta_retrained)
{
    LF__CHECK_ARG(result, "lf_forgetting_quality: result is NULL");
    LF__CHECK_ARG(retrained, "lf_forgetting_quality: retrained is NULL");
    LF__CHECK_ARG(unlearned, "lf_forgetting_quality: unlearned is NULL");
    LF__CHECK_ARG(n_models >= 2, "lf_forgetting_quality: %zu models of each kind (at least 2 needed)",
                  n_models);
    LF__CHECK_ARG(n_models <= MAX_MODELS, "lf_forgetting_quality: %zu models of each kind (at most %d)",
                  n_models, MAX_MODELS);
    LF__CHECK_ARG(n_examples > 0, "lf_forgetting_quality: no forget examples");
    LF__CHECK_ARG(n_examples <= SIZE_MAX / n_models, "lf_forgetting_quality: n_models × n_examples overflows");
    double acc[4] = { ra_unlearned, ra_retrained, ta_unlearned, ta_retrained };
    static const char *const acc_names[4] = { "ra_unlearned", "ra_retrained", "ta_unlearned",
                                              "ta_retrained" };
    for (int i = 0; i < 4; i++) {
        if (!isfinite(acc[i]))
            return lf__error(LF_E_NUMERIC, "lf_forgetting_quality: %s is %g", acc_names[i], acc[i]);
        if (acc[i] < 0.0 || ((i == 1 || i == 3) && acc[i] == 0.0))
            return lf__error(LF_E_INVALID_ARG, "lf_forgetting_quality: %s = %g (must be %s)",
                             acc_names[i], acc[i], i == 1 || i == 3 ? "> 0" : ">= 0");
    }
    LF__TRY(check_array(retrained, n_models * n_examples, "retrained"));
    LF__TRY(check_array(unlearned, n_models * n_examples, "unlearned"));

    size_t scratch_size = lf__fq_scratch_size(n_models);
    void *scratch = lf__alloc(NULL, scratch_size, "forgetting quality scratch");
    if (!scratch)
        return LF_E_NOMEM;
    fq_work w;
    work_bind(&w, scratch, n_models);
    lf_fq_result r = LF_FQ_RESULT_INIT;
    double score_sum = 0.0, eps_sum = 0.0;
    for (size_t s = 0; s < n_examples; s++) {
        double eps = example_epsilon(&w, retrained + s, unlearned + s, n_examples);
        if (epsilon)
            epsilon[s] = eps;
        eps_sum += eps;
        score_sum += lf__fq_bin_score(eps, n_models, &r.n_bins);
    }
    lf__free(NULL, scratch, scratch_size);
    r.forget_score = score_sum / (double)n_examples;
    r.final_score = r.forget_score * (ra_unlearned / ra_retrained) * (ta_unlearned / ta_retrained);
    r.mean_epsilon = eps_sum / (double)n_examples;
    r.n_models = (int64_t)n_models;
    r.n_examples = (int64_t)n_examples;
    return lf__copy_struct_out(result, &r, sizeof r, "lf_fq_result");
}
