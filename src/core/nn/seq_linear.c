/* torch.nn.Linear over token rows: a sequence batch of n·T tokens is n·T rows for the fully
 * connected layer (lf__linear_fwd/bwd), so nothing here but binding a layer's tensors. */
#include "core/nn/attacker_internal.h"

lf_status lf__seq_linear_fwd(lf_context *ctx, const lf__seq_linear *L, float *y, const float *x,
                             int64_t rows)
{
    return lf__linear_fwd(ctx, y, x, L->W, L->b, rows, L->in, L->out);
}

lf_status lf__seq_linear_bwd(lf_context *ctx, const lf__seq_linear *L, float *dx, const float *dy,
                             const float *x, int64_t rows)
{
    return lf__linear_bwd(ctx, dx, L->dW, L->db, dy, x, L->W, rows, L->in, L->out);
}
