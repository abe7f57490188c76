/* Inverted dropout over the backend's seeded dropout op. Rate 0 (eval mode) is the identity and
 * costs at most a copy; otherwise the mask is a function of the site (seed, offset), so the
 * backward pass applies the same op to the gradient. */
#include "core/nn/attacker_internal.h"

static lf_status apply(lf_context *ctx, const lf__dropout_site *s, float *y, const float *x,
                       int64_t n)
{
    if (s->p == 0.0f)
        return y == x ? LF_OK : LF__BE(ctx, mem_copy, y, x, (size_t)n * sizeof *y);
    return LF__BE(ctx, dropout, y, x, n, s->p, s->seed, LF__STREAM_DROPOUT, s->offset);
}

lf_status lf__dropout_fwd(lf_context *ctx, const lf__dropout_site *s, float *y, const float *x,
                          int64_t n)
{
    return apply(ctx, s, y, x, n);
}

lf_status lf__dropout_bwd(lf_context *ctx, const lf__dropout_site *s, float *dx, const float *dy,
                          int64_t n)
{
    return apply(ctx, s, dx, dy, n);
}
