/* ReMI's built-in privacy approximator (METHODS.md): the standardised membership statistics
 * z = (φ, H, d) into an MLP 3-16-1 with ReLU and sigmoid, fitted once with BCE to tell members
 * from non-members under the ORIGINAL model (Adam 1e-3, weight decay 1e-4, batch 256, up to 50
 * epochs, early stop on a 20% hold-out). 65 weights: host code in double. */
#ifndef LF_METHODS_PRIVACY_MLP_H
#define LF_METHODS_PRIVACY_MLP_H

#include "core/internal.h"
#include "methods/remi_terms.h"

#define LF__PRIVACY_HIDDEN 16
/* theta: W1 [16][3], b1 [16], w2 [16], b2, in this order (one block for Adam) */
#define LF__PRIVACY_W1     0
#define LF__PRIVACY_B1     (LF__PRIVACY_HIDDEN * LF__REMI_STATS)
#define LF__PRIVACY_W2     (LF__PRIVACY_B1 + LF__PRIVACY_HIDDEN)
#define LF__PRIVACY_B2     (LF__PRIVACY_W2 + LF__PRIVACY_HIDDEN)
#define LF__PRIVACY_PARAMS (LF__PRIVACY_B2 + 1)

typedef struct lf__privacy_mlp {
    double mean[LF__REMI_STATS], std[LF__REMI_STATS];   /* standardisation of z */
    double theta[LF__PRIVACY_PARAMS];
    int32_t epochs;            /* epochs run by the fit */
    double  holdout_loss;      /* the best hold-out BCE (the weights kept) */
} lf__privacy_mlp;

/* Fits a to members z_in[n_in][3] (label 1) and non-members z_out[n_out][3] (label 0), seeded
 * (init, split, shuffles). n_in, n_out >= 2. */
lf_status lf__privacy_mlp_fit(lf__privacy_mlp *a, const lf_context *ctx, const double *z_in,
                              size_t n_in, const double *z_out, size_t n_out, uint64_t seed);

/* The membership score of statistics z in (0, 1); dz (may be NULL) = ∂score/∂z. */
double lf__privacy_mlp_score(const lf__privacy_mlp *a, const double z[LF__REMI_STATS],
                             double dz[LF__REMI_STATS]);

#endif
