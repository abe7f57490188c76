/* Multi-head self-attention without masks, as torch.nn.MultiheadAttention (batch_first) computes
 * it: one input projection to [q | k | v], per sequence and head a T×T score matrix, a row
 * softmax, dropout on the probabilities, the weighted values, and the output projection.
 * Every per-head matrix is a strided view into the projections (row stride 3d) or the
 * concatenated heads (row stride d), so the heads are never copied apart, and each product
 * runs for all sequences and heads in one batched gemm. */
#include <math.h>

#include "core/nn/attacker_internal.h"

/* Where the per-head matrices of a buffer lie: the one of sequence b and head h starts
 * b·seq + h·head floats in, its rows ld floats apart. */
typedef struct layout {
    int64_t ld, seq, head;
} layout;

/* The T×dh slices of q, k and v in the projections (q at column 0, k at d, v at 2d) */
static layout qkv_layout(const lf__mha *L, int64_t T)
{
    return (layout){ 3 * L->d, T * 3 * L->d, L->d / L->heads };
}

/* the T×dh slices of the heads side by side */
static layout heads_layout(const lf__mha *L, int64_t T)
{
    return (layout){ L->d, T * L->d, L->d / L->heads };
}

/* the T×T probability blocks, row = (sequence, head, query) */
static layout probs_layout(const lf__mha *L, int64_t T)
{
    return (layout){ T, L->heads * T * T, T * T };
}

/* C = alpha·op(A)·op(B) for every sequence and head, in one batched gemm. */
static lf_status per_head_gemm(lf_context *ctx, const lf__mha *L, int64_t n, int trans_a,
                               int trans_b, int64_t m, int64_t cols, int64_t k, float alpha,
                               const float *a, layout la, const float *b, layout lb, float *c,
                               layout lc)
{
    const lf__gemm_batch batch = { .count = n, .group = L->heads,
                                   .stride_a = la.seq, .stride_b = lb.seq, .stride_c = lc.seq,
                                   .group_stride_a = la.head, .group_stride_b = lb.head,
                                   .group_stride_c = lc.head };
    return LF__BE(ctx, gemm_batched, trans_a, trans_b, m, cols, k, alpha, a, la.ld, b, lb.ld, 0.0f,
                  c, lc.ld, &batch);
}

static lf_status check_heads(const lf__mha *L)
{
    if (L->heads < 1 || L->d % L->heads != 0)
        return lf__error(LF_E_SHAPE, "multi-head attention: d = %lld is not a multiple of %lld heads",
                         (long long)L->d, (long long)L->heads);
    return LF_OK;
}

lf_status lf__mha_fwd(lf_context *ctx, const lf__mha *L, float *y, lf__mha_acts *a, const float *x,
                      int64_t n, int64_t T, const lf__dropout_site *drop)
{
    LF__TRY(check_heads(L));
    const int64_t d = L->d, d3 = 3 * d, dh = d / L->heads, rows = n * T;
    const float scale = (float)(1.0 / sqrt((double)dh));
    LF__TRY(lf__linear_fwd(ctx, a->qkv, x, L->in_w, L->in_b, rows, d, d3));
    const layout lq = qkv_layout(L, T), lh = heads_layout(L, T), lp = probs_layout(L, T);
    /* the scores live in probs_drop until the softmax has read them */
    float *scores = a->probs_drop;
    LF__TRY(per_head_gemm(ctx, L, n, 0, 1, T, T, dh, scale, a->qkv, lq, a->qkv + d, lq, scores,
                          lp));
    const int64_t prob_rows = n * L->heads * T;
    LF__TRY(LF__BE(ctx, softmax_fwd, a->probs, scores, prob_rows, T));
    const float *pd = a->probs;
    if (drop->p != 0.0f) {
        LF__TRY(lf__dropout_fwd(ctx, drop, a->probs_drop, a->probs, prob_rows * T));
        pd = a->probs_drop;
    }
    LF__TRY(per_head_gemm(ctx, L, n, 0, 0, T, dh, T, 1.0f, pd, lp, a->qkv + 2 * d, lq, a->heads,
                          lh));
    return lf__linear_fwd(ctx, y, a->heads, L->out_w, L->out_b, rows, d, d);
}

lf_status lf__mha_bwd(lf_context *ctx, const lf__mha *L, float *dx, const float *dy,
                      const lf__mha_acts *a, const lf__mha_scratch *s, const float *x, int64_t n,
                      int64_t T, const lf__dropout_site *drop)
{
    LF__TRY(check_heads(L));
    const int64_t d = L->d, d3 = 3 * d, dh = d / L->heads, rows = n * T;
    const float scale = (float)(1.0 / sqrt((double)dh));
    const float *pd = drop->p != 0.0f ? a->probs_drop : a->probs;
    LF__TRY(lf__linear_bwd(ctx, s->dheads, L->d_out_w, L->d_out_b, dy, a->heads, L->out_w, rows, d, d));
    const layout lq = qkv_layout(L, T), lh = heads_layout(L, T), lp = probs_layout(L, T);
    /* dP' = dO·Vᵀ and dV = P'ᵀ·dO */
    LF__TRY(per_head_gemm(ctx, L, n, 0, 1, T, T, dh, 1.0f, s->dheads, lh, a->qkv + 2 * d, lq,
                          s->dprobs, lp));
    LF__TRY(per_head_gemm(ctx, L, n, 1, 0, T, dh, T, 1.0f, pd, lp, s->dheads, lh, s->dqkv + 2 * d,
                          lq));
    /* back through the dropout and the softmax: dS, in place */
    const int64_t prob_rows = n * L->heads * T;
    LF__TRY(lf__dropout_bwd(ctx, drop, s->dprobs, s->dprobs, prob_rows * T));
    LF__TRY(LF__BE(ctx, softmax_bwd, s->dprobs, s->dprobs, a->probs, prob_rows, T));
    /* S = scale·Q·Kᵀ: dQ = scale·dS·K, dK = scale·dSᵀ·Q */
    LF__TRY(per_head_gemm(ctx, L, n, 0, 0, T, dh, T, scale, s->dprobs, lp, a->qkv + d, lq, s->dqkv,
                          lq));
    LF__TRY(per_head_gemm(ctx, L, n, 1, 0, T, dh, T, scale, s->dprobs, lp, a->qkv, lq, s->dqkv + d,
                          lq));
    return lf__linear_bwd(ctx, dx, L->d_in_w, L->d_in_b, s->dqkv, x, L->in_w, rows, d, d3);
}
