/* DAU's host-side terms (see dau_terms.h). */
#include <math.h>

#include "methods/dau_terms.h"

#define BT_EPS 1e-5

void lf__dau_sensitivity(const float *logits, int64_t B, int32_t C, int32_t m, double sigma,
                         double *s)
{
    size_t n = (size_t)B * (size_t)C;
    for (size_t j = 0; j < n; j++) {
        double z = logits[j], acc = 0.0;
        for (int32_t k = 1; k <= m; k++)
            acc += fabs((double)logits[(size_t)k * n + j] - z);
        s[j] = acc / ((double)m * sigma);
    }
}

static double sign_of(double x)
{
    return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0);
}

void lf__dau_sensitivity_bwd(const float *logits, int64_t B, int32_t C, int32_t m, double sigma,
                             const double *dz, const double *ds, double *dlogits)
{
    size_t n = (size_t)B * (size_t)C;
    double scale = 1.0 / ((double)m * sigma);
    for (size_t j = 0; j < n; j++) {
        double z = logits[j], g = ds[j] * scale, clean = dz ? dz[j] : 0.0;
        for (int32_t k = 1; k <= m; k++) {
            double d = sign_of((double)logits[(size_t)k * n + j] - z) * g;
            dlogits[(size_t)k * n + j] = d;
            clean -= d;
        }
        dlogits[j] = clean;
    }
}

size_t lf__dau_bt_scratch_doubles(int64_t B, int64_t D)
{
    return 2 * (size_t)B * (size_t)D + 2 * (size_t)D * (size_t)D + 2 * (size_t)D;
}

/* t = the standardised columns of h (B × D); sd[i] = column i's unbiased std. */
static void standardise(const float *h, int64_t B, int64_t D, double *t, double *sd)
{
    for (int64_t i = 0; i < D; i++) {
        double mean = 0.0, ss = 0.0;
        for (int64_t b = 0; b < B; b++)
            mean += h[b * D + i];
        mean /= (double)B;
        for (int64_t b = 0; b < B; b++) {
            double c = (double)h[b * D + i] - mean;
            t[b * D + i] = c;
            ss += c * c;
        }
        sd[i] = sqrt(ss / (double)(B - 1));
        for (int64_t b = 0; b < B; b++)
            t[b * D + i] /= sd[i] + BT_EPS;
    }
}

/* In place: g (∂L/∂t, B × D) becomes ∂L/∂h through t = (h − mean)/(sd + ε):
 *   ∂L/∂h_b = (g_b − mean g)/(sd + ε) − t_b·Σ_b' g_b' t_b' / ((B − 1)·sd). */
static void standardise_bwd(double *g, const double *t, const double *sd, int64_t B, int64_t D)
{
    for (int64_t i = 0; i < D; i++) {
        double mean = 0.0, gt = 0.0;
        for (int64_t b = 0; b < B; b++) {
            mean += g[b * D + i];
            gt += g[b * D + i] * t[b * D + i];
        }
        mean /= (double)B;
        double k = sd[i] > 0.0 ? gt / ((double)(B - 1) * sd[i]) : 0.0;
        for (int64_t b = 0; b < B; b++)
            g[b * D + i] = (g[b * D + i] - mean) / (sd[i] + BT_EPS) - k * t[b * D + i];
    }
}

double lf__dau_barlow_twins(const float *hf, const float *hv, int64_t B, int64_t D, double offdiag,
                            double *dhf, double *dhv, double *scratch)
{
    size_t BD = (size_t)B * (size_t)D, DD = (size_t)D * (size_t)D;
    double *tf = scratch, *tv = tf + BD, *cm = tv + BD, *g = cm + DD, *sdf = g + DD, *sdv = sdf + D;
    standardise(hf, B, D, tf, sdf);
    standardise(hv, B, D, tv, sdv);
    for (size_t k = 0; k < DD; k++)
        cm[k] = 0.0;
    for (int64_t b = 0; b < B; b++)   /* C_ij += h̃v[b,i]·h̃f[b,j] */
        for (int64_t i = 0; i < D; i++) {
            double v = tv[b * D + i];
            const double *f = tf + b * D;
            double *row = cm + i * D;
            for (int64_t j = 0; j < D; j++)
                row[j] += v * f[j];
        }
    double loss = 0.0;
    for (int64_t i = 0; i < D; i++)
        for (int64_t j = 0; j < D; j++) {
            double c = cm[i * D + j] / (double)B;
            cm[i * D + j] = c;
            if (i == j) {
                loss += (c - 1.0) * (c - 1.0);
                g[i * D + j] = 2.0 * (c - 1.0);
            } else {
                loss += offdiag * c * c;
                g[i * D + j] = 2.0 * offdiag * c;
            }
        }
    if (!dhf && !dhv)
        return loss;
    /* ∂L/∂h̃v[b,i] = (1/B) Σ_j G_ij h̃f[b,j];  ∂L/∂h̃f[b,j] = (1/B) Σ_i G_ij h̃v[b,i] */
    for (int64_t b = 0; b < B; b++) {
        const double *f = tf + b * D, *v = tv + b * D;
        double *df = dhf + b * D, *dv = dhv + b * D;
        for (int64_t j = 0; j < D; j++)
            df[j] = 0.0;
        for (int64_t i = 0; i < D; i++) {
            const double *gi = g + i * D;
            double acc = 0.0, vi = v[i] / (double)B;
            for (int64_t j = 0; j < D; j++) {
                acc += gi[j] * f[j];
                df[j] += gi[j] * vi;
            }
            dv[i] = acc / (double)B;
        }
    }
    standardise_bwd(dhf, tf, sdf, B, D);
    standardise_bwd(dhv, tv, sdv, B, D);
    return loss;
}

double lf__dau_attacker_ce(const float *logits, int64_t n, int64_t n_first, int first_label,
                           double weight, float *dlogits, int64_t *correct)
{
    double sum = 0.0;
    int64_t ok = 0;
    for (int64_t i = 0; i < n; i++) {
        int y = i < n_first ? first_label : 1 - first_label;
        double a = logits[2 * i], b = logits[2 * i + 1];
        double mx = a > b ? a : b, lse = mx + log(exp(a - mx) + exp(b - mx));
        sum += lse - (y ? b : a);
        ok += (b > a ? 1 : 0) == y;
        if (dlogits) {
            double p1 = exp(b - lse), w = weight / (double)n;
            dlogits[2 * i] = (float)(w * ((1.0 - p1) - (y == 0)));
            dlogits[2 * i + 1] = (float)(w * (p1 - (y == 1)));
        }
    }
    if (correct)
        *correct = ok;
    return sum / (double)n;
}
