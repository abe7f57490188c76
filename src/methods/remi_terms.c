/* ReMI's loss terms and their gradients (see remi_terms.h). */
#include <math.h>
#include <stdlib.h>

#include "methods/remi_terms.h"

#define LEAK_EPS 1e-6

/* φ here is the exact stable form, differentiable everywhere; the evaluation's
 * lf_logit_confidences keeps the reference's log(p + 1e-45) form, which saturates. */
void lf__remi_stats(const float *logits, int32_t y, int32_t classes, double z[LF__REMI_STATS],
                    double *grad)
{
    /* softmax(ℓ) and the softmax over j ≠ y, both max-subtracted, in double */
    double max_all = -INFINITY, max_other = -INFINITY;
    int32_t top = 0, second = -1;
    for (int32_t j = 0; j < classes; j++) {
        double v = logits[j];
        if (v > max_all)
            max_all = v;
        if (j != y && v > max_other)
            max_other = v;
        if (v > logits[top])
            top = j;
    }
    for (int32_t j = 0; j < classes; j++)
        if (j != top && (second < 0 || logits[j] > logits[second]))
            second = j;
    double sum_all = 0.0, sum_other = 0.0;
    for (int32_t j = 0; j < classes; j++) {
        sum_all += exp(logits[j] - max_all);
        if (j != y)
            sum_other += exp(logits[j] - max_other);
    }
    double lse_all = max_all + log(sum_all), lse_other = max_other + log(sum_other);
    double entropy = 0.0;
    for (int32_t j = 0; j < classes; j++) {
        double logp = logits[j] - lse_all;
        entropy -= exp(logp) * logp;
    }
    z[0] = logits[y] - lse_other;
    z[1] = entropy;
    z[2] = (double)logits[top] - (double)logits[second];
    if (!grad)
        return;
    double *g_phi = grad, *g_h = grad + classes, *g_d = grad + 2 * classes;
    for (int32_t j = 0; j < classes; j++) {
        double logp = logits[j] - lse_all;
        /* ∂φ/∂ℓ_j = −softmax_{≠y}(ℓ)_j for j ≠ y, 1 for y; ∂H/∂ℓ_j = −p_j (log p_j + H) */
        g_phi[j] = j == y ? 1.0 : -exp(logits[j] - lse_other);
        g_h[j] = -exp(logp) * (logp + entropy);
        g_d[j] = j == top ? 1.0 : (j == second ? -1.0 : 0.0);
    }
}

double lf__remi_gauss_kl(int dir, double m_f, double v_f, double m_o, double v_o, double *dm,
                         double *dv)
{
    double diff2 = (m_f - m_o) * (m_f - m_o);
    /* KL(F‖O) = ½ log(v_o/v_f) + (v_f + (m_f − m_o)²)/(2 v_o) − ½ */
    double fwd = 0.5 * log(v_o / v_f) + (v_f + diff2) / (2.0 * v_o) - 0.5;
    double fwd_dm = (m_f - m_o) / v_o, fwd_dv = -0.5 / v_f + 0.5 / v_o;
    /* KL(O‖F) = ½ log(v_f/v_o) + (v_o + (m_o − m_f)²)/(2 v_f) − ½ */
    double rev = 0.5 * log(v_f / v_o) + (v_o + diff2) / (2.0 * v_f) - 0.5;
    double rev_dm = (m_f - m_o) / v_f, rev_dv = 0.5 / v_f - (v_o + diff2) / (2.0 * v_f * v_f);
    double kl, d_m, d_v;
    if (dir == LF__KL_REVERSE) {
        kl = rev, d_m = rev_dm, d_v = rev_dv;
    } else if (dir == LF__KL_SYMMETRIC) {
        kl = 0.5 * (fwd + rev), d_m = 0.5 * (fwd_dm + rev_dm), d_v = 0.5 * (fwd_dv + rev_dv);
    } else {
        kl = fwd, d_m = fwd_dm, d_v = fwd_dv;
    }
    if (dm)
        *dm = d_m;
    if (dv)
        *dv = d_v;
    return kl;
}

void lf__remi_moments(const double *x, size_t n, double *mean, double *var)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    double m = n ? s / (double)n : 0.0, ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - m) * (x[i] - m);
    *mean = m;
    *var = fmax(n ? ss / (double)n : 0.0, LF__REMI_VAR_FLOOR);
}

double lf__remi_kl_term(int dir, const double *phi, size_t n, double m_o, double v_o, double *dphi)
{
    double m_f, v_f;
    lf__remi_moments(phi, n, &m_f, &v_f);
    int var_has_grad = n >= 2 && v_f > LF__REMI_VAR_FLOOR;
    if (n < 2)   /* one sample has no spread: compare its confidence with O's mean alone */
        v_f = v_o;
    double dm, dv;
    double kl = lf__remi_gauss_kl(dir, m_f, v_f, m_o, v_o, &dm, &dv);
    if (dphi)
        for (size_t i = 0; i < n; i++)
            /* ∂m/∂φ_i = 1/n, ∂v/∂φ_i = 2(φ_i − m)/n (biased variance) */
            dphi[i] = (dm + (var_has_grad ? dv * 2.0 * (phi[i] - m_f) : 0.0)) / (double)n;
    return kl;
}

double lf__remi_leak_term(const double *a, size_t n, double *da)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double q = 1.0 - a[i] + LEAK_EPS;
        s -= log(q);
        if (da)
            da[i] = 1.0 / (q * (double)n);
    }
    return s / (double)n;
}

double lf__remi_acc_bound(double kl)
{
    if (!(kl > 0.0))
        return 0.5;
    double tv = fmin(1.0, fmin(sqrt(kl / 2.0), sqrt(1.0 - exp(-kl))));
    return 0.5 + 0.5 * tv;
}

typedef struct scored_side {
    double v;
    int    pos;
} scored_side;

static int by_value(const void *a, const void *b)
{
    double x = ((const scored_side *)a)->v, y = ((const scored_side *)b)->v;
    return (x > y) - (x < y);
}

size_t lf__remi_auc_scratch_size(size_t np, size_t nn)
{
    return (np + nn) * sizeof(scored_side);
}

double lf__remi_auc(const double *pos, size_t np, const double *neg, size_t nn, void *scratch)
{
    if (np == 0 || nn == 0)
        return NAN;
    scored_side *all = scratch;
    size_t n = np + nn;
    for (size_t i = 0; i < np; i++)
        all[i] = (scored_side){ pos[i], 1 };
    for (size_t i = 0; i < nn; i++)
        all[np + i] = (scored_side){ neg[i], 0 };
    qsort(all, n, sizeof *all, by_value);
    /* Mann–Whitney: the sum of the positives' ranks (ties share their mean rank) */
    double rank_sum = 0.0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        size_t pos_in_tie = 0;
        while (j < n && all[j].v == all[i].v)
            pos_in_tie += (size_t)all[j++].pos;
        double mean_rank = 0.5 * ((double)(i + 1) + (double)j);
        rank_sum += mean_rank * (double)pos_in_tie;
        i = j;
    }
    return (rank_sum - 0.5 * (double)np * (double)(np + 1)) / ((double)np * (double)nn);
}
