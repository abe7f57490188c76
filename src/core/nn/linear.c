/* The fully connected layer over the backend's GEMM, in torch.nn.Linear's layout: W is
 * [out][in], so the forward pass multiplies by Wᵀ. */
#include "core/nn/nn_internal.h"

lf_status lf__linear_fwd(lf_context *ctx, float *y, const float *x, const float *W, const float *b,
                         int64_t n, int64_t in, int64_t out)
{
    /* y[n×out] = x[n×in] · W[out×in]ᵀ */
    LF__TRY(LF__BE(ctx, gemm, 0, 1, n, out, in, 1.0f, x, in, W, in, 0.0f, y, out));
    if (b)
        LF__TRY(LF__BE(ctx, bias_add_fwd, y, b, n, out));
    return LF_OK;
}

lf_status lf__linear_bwd(lf_context *ctx, float *dx, float *dW, float *db, const float *dy,
                         const float *x, const float *W, int64_t n, int64_t in, int64_t out)
{
    /* dW[out×in] += dy[n×out]ᵀ · x[n×in] */
    LF__TRY(LF__BE(ctx, gemm, 1, 0, out, in, n, 1.0f, dy, out, x, in, 1.0f, dW, in));
    if (db)
        LF__TRY(LF__BE(ctx, bias_bwd, db, dy, n, out));
    /* dx[n×in] = dy[n×out] · W[out×in] */
    if (dx)
        LF__TRY(LF__BE(ctx, gemm, 0, 0, n, in, out, 1.0f, dy, out, W, in, 0.0f, dx, in));
    return LF_OK;
}
