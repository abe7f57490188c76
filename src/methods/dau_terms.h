/* DAU's host-side terms with their gradients (METHODS.md, section DAU), in double: the
 * sensitivity part of the attacker's input, the Barlow Twins loss between forget and validation
 * features and the attacker's two-class cross-entropy. What they see is small (a batch of
 * logits, of 2-way attacker logits, of penultimate features), so the host is the simple and
 * exact place for them; dau.c moves the rows between host and backend. */
#ifndef LF_METHODS_DAU_TERMS_H
#define LF_METHODS_DAU_TERMS_H

#include <stddef.h>
#include <stdint.h>

/* One pass of B samples with m noisy copies is (1+m)·B logits rows of C: rows 0..B−1 the clean
 * z, rows k·B .. k·B + B − 1 copy k = 1..m. s (B × C) = (1/m) Σ_k |z_k − z| / σ. m >= 1. */
void lf__dau_sensitivity(const float *logits, int64_t B, int32_t C, int32_t m, double sigma,
                         double *s);
/* dlogits ((1+m)·B × C) = the gradient of Σ dz·z + Σ ds·s (dz, ds: B × C; dz may be NULL)
 * w.r.t. every logits row: noisy rows sign(z_k − z)·ds/(mσ), clean rows dz − Σ_k of those
 * (|x|'s subgradient at 0 is 0, as PyTorch's). */
void lf__dau_sensitivity_bwd(const float *logits, int64_t B, int32_t C, int32_t m, double sigma,
                             const double *dz, const double *ds, double *dlogits);

/* Doubles of scratch lf__dau_barlow_twins needs. */
size_t lf__dau_bt_scratch_doubles(int64_t B, int64_t D);
/* L_BT of METHODS.md between features hf and hv (B × D each, paired by row; B >= 2):
 *   h̃ = (h − mean_b h) / (std_b h + 1e-5) per dimension, std the unbiased one (torch.std);
 *   C_ij = (1/B) Σ_b h̃v[b,i]·h̃f[b,j];  L = Σ_i (C_ii − 1)² + offdiag·Σ_{i≠j} C_ij².
 * dhf, dhv (B × D; both NULL: no gradient) = ∂L/∂hf, ∂L/∂hv. A constant dimension (std 0, as a
 * dead ReLU unit gives) has h̃ = 0 and takes the gradient through its centring only (the std's
 * derivative at 0, 0/0 in PyTorch, is taken as 0). */
double lf__dau_barlow_twins(const float *hf, const float *hv, int64_t B, int64_t D, double offdiag,
                            double *dhf, double *dhv, double *scratch);

/* Mean two-class cross-entropy of n attacker logits rows (n × 2): rows 0..n_first−1 have label
 * first_label (0 or 1), the rest the other. dlogits (may be NULL) = weight·∂mean/∂logits;
 * *correct (may be NULL) = rows whose larger logit is their label (ties: class 0). */
double lf__dau_attacker_ce(const float *logits, int64_t n, int64_t n_first, int first_label,
                           double weight, float *dlogits, int64_t *correct);

#endif
