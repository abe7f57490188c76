/* ReMI's loss terms with their gradients (METHODS.md, section ReMI), in double on the host: the
 * per-sample membership statistics of a logits row, the leakage term, the Gaussian KL between
 * the forget set's and out-of-sample data's logit-scaled confidence, the Gaussian-approximate
 * leakage bound and the AUC of a membership score. The batches these see are small (a forget
 * batch of logits), so the host is the simple and exact place for them. */
#ifndef LF_METHODS_REMI_TERMS_H
#define LF_METHODS_REMI_TERMS_H

#include <stddef.h>
#include <stdint.h>

/* Number of membership statistics per sample: z = (φ, H, d). */
#define LF__REMI_STATS 3
/* Floor of every variance (METHODS.md: σ² ≥ 1e-4). */
#define LF__REMI_VAR_FLOOR 1e-4

/* z of one logits row ℓ (C entries, label y): φ = ℓ_y − logsumexp_{j≠y} ℓ_j (logit-scaled
 * confidence, stable form), H = −Σ p log p (entropy of softmax(ℓ)), d = ℓ_(1) − ℓ_(2) (top-2
 * margin; ties: the first maximum is the top one). grad (may be NULL): 3 × C doubles, row k =
 * ∂z_k/∂ℓ (d's is the subgradient +1 at the top logit, −1 at the second). C >= 2. */
void lf__remi_stats(const float *logits, int32_t y, int32_t classes, double z[LF__REMI_STATS],
                    double *grad);

/* Which KL between F (forget) and O (out-of-sample): KL(F‖O), KL(O‖F) or their mean. */
typedef enum lf__kl_direction {
    LF__KL_FORWARD = 0,
    LF__KL_REVERSE = 1,
    LF__KL_SYMMETRIC = 2
} lf__kl_direction;

/* Closed-form KL between N(m_f, v_f) and N(m_o, v_o) in `dir`; dm, dv (may be NULL) receive
 * ∂KL/∂m_f and ∂KL/∂v_f. Variances must be > 0. */
double lf__remi_gauss_kl(int dir, double m_f, double v_f, double m_o, double v_o, double *dm,
                         double *dv);

/* Mean and biased variance of x[0..n), the variance floored at LF__REMI_VAR_FLOOR. */
void lf__remi_moments(const double *x, size_t n, double *mean, double *var);

/* The KL term over the forget batch's confidences phi[0..n) against N(m_o, v_o): the batch's
 * mean and biased variance (floored; gradient 0 where the floor holds) and, when n < 2, v_f =
 * v_o (only the mean carries gradient: the single-sample case). dphi (may be NULL): n doubles,
 * ∂KL/∂phi_i. n >= 1. */
double lf__remi_kl_term(int dir, const double *phi, size_t n, double m_o, double v_o, double *dphi);

/* The leakage term mean_i −log(1 − a_i + 1e-6) over membership scores a[0..n) in [0, 1];
 * da (may be NULL): ∂/∂a_i. n >= 1. */
double lf__remi_leak_term(const double *a, size_t n, double *da);

/* ½ + ½·min(1, √(KL/2), √(1 − e^{−KL})): the accuracy a membership attacker could reach if
 * both confidence distributions were the Gaussians the KL compares (Pinsker and
 * Bretagnolle–Huber bounds on their total variation). An approximation, not a certificate. */
double lf__remi_acc_bound(double kl);

/* Area under the ROC curve of scores that should be higher for pos than for neg (ties count
 * ½): the Mann–Whitney statistic, O((np + nn) log(np + nn)). scratch: np + nn doubles plus as
 * many bytes, see lf__remi_auc_scratch_size. NaN when either side is empty. */
size_t lf__remi_auc_scratch_size(size_t np, size_t nn);
double lf__remi_auc(const double *pos, size_t np, const double *neg, size_t nn, void *scratch);

#endif
