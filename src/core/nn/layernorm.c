/* torch.nn.LayerNorm(d) over the last dim (eps 1e-5, elementwise affine) on the backend's
 * layer-norm ops; the per-row statistics travel from forward to backward in one stats buffer. */
#include "core/nn/attacker_internal.h"

#define LN_EPS 1e-5f

lf_status lf__layernorm_fwd(lf_context *ctx, const lf__layernorm *L, float *y, float *stats,
                            const float *x, int64_t rows)
{
    return LF__BE(ctx, layernorm_fwd, y, stats, stats + rows, x, L->gamma, L->beta, rows, L->d,
                  LN_EPS);
}

lf_status lf__layernorm_bwd(lf_context *ctx, const lf__layernorm *L, float *dx, const float *dy,
                            const float *x, const float *stats, int64_t rows)
{
    return LF__BE(ctx, layernorm_bwd, dx, L->dgamma, L->dbeta, dy, x, L->gamma, stats,
                  stats + rows, rows, L->d);
}
