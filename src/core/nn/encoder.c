/* The post-LN transformer encoder layer (torch.nn.TransformerEncoderLayer with norm_first=False,
 * GELU): self-attention and a two-layer feed-forward block, each added back to its input and
 * normalised. Forward keeps what backward needs; the dropout masks are regenerated from their
 * sites instead of being stored. */
#include "core/nn/attacker_internal.h"

/* The four dropout sites of one forward, in forward order, and where their draws start. */
enum { SITE_ATTN, SITE_1, SITE_FF, SITE_2, N_SITES };

static void sites_of(const lf__encoder *L, int64_t n, int64_t T, float p, uint64_t seed,
                     uint64_t offset, lf__dropout_site site[N_SITES])
{
    const uint64_t rows = (uint64_t)(n * T);
    const uint64_t draws[N_SITES] = { rows * (uint64_t)(L->attn.heads * T), rows * (uint64_t)L->d,
                                      rows * (uint64_t)L->ff, rows * (uint64_t)L->d };
    for (int i = 0; i < N_SITES; i++) {
        site[i] = (lf__dropout_site){ p, seed, offset };
        offset += draws[i];
    }
}

uint64_t lf__encoder_draws(const lf__encoder *L, int64_t n, int64_t T)
{
    return (uint64_t)(n * T) * (uint64_t)(L->attn.heads * T + 2 * L->d + L->ff);
}

size_t lf__encoder_acts_floats(const lf__encoder *L, int64_t n, int64_t T)
{
    const size_t rows = (size_t)(n * T), d = (size_t)L->d;
    return rows * (3 * d)                                /* qkv */
           + 2 * rows * (size_t)(L->attn.heads * T)      /* probs, probs_drop */
           + rows * d                                    /* heads */
           + 4 * rows * d                                /* r1, x1, r2, y */
           + 2 * rows * (size_t)L->ff                    /* f, g */
           + 4 * rows;                                   /* stats1, stats2 */
}

/* Hands out consecutive pieces of a block. */
static float *take(float **cursor, size_t count)
{
    float *p = *cursor;
    *cursor += count;
    return p;
}

void lf__encoder_acts_carve(const lf__encoder *L, lf__encoder_acts *a, float *block, int64_t n,
                            int64_t T)
{
    const size_t rows = (size_t)(n * T), d = (size_t)L->d, pr = rows * (size_t)(L->attn.heads * T);
    a->attn.qkv = take(&block, rows * 3 * d);
    a->attn.probs = take(&block, pr);
    a->attn.probs_drop = take(&block, pr);
    a->attn.heads = take(&block, rows * d);
    a->r1 = take(&block, rows * d);
    a->x1 = take(&block, rows * d);
    a->r2 = take(&block, rows * d);
    a->y = take(&block, rows * d);
    a->f = take(&block, rows * (size_t)L->ff);
    a->g = take(&block, rows * (size_t)L->ff);
    a->stats1 = take(&block, 2 * rows);
    a->stats2 = take(&block, 2 * rows);
}

size_t lf__encoder_scratch_floats(const lf__encoder *L, int64_t n, int64_t T)
{
    const size_t rows = (size_t)(n * T), d = (size_t)L->d;
    return rows * d + rows * 3 * d + rows * (size_t)(L->attn.heads * T)   /* attention's */
           + 2 * rows * d + rows * (size_t)L->ff;
}

void lf__encoder_scratch_carve(const lf__encoder *L, lf__encoder_scratch *s, float *block,
                               int64_t n, int64_t T)
{
    const size_t rows = (size_t)(n * T), d = (size_t)L->d;
    s->attn.dheads = take(&block, rows * d);
    s->attn.dqkv = take(&block, rows * 3 * d);
    s->attn.dprobs = take(&block, rows * (size_t)(L->attn.heads * T));
    s->d1 = take(&block, rows * d);
    s->d2 = take(&block, rows * d);
    s->dff = take(&block, rows * (size_t)L->ff);
}

lf_status lf__encoder_fwd(lf_context *ctx, const lf__encoder *L, lf__encoder_acts *a,
                          const float *x, int64_t n, int64_t T, float p, uint64_t seed,
                          uint64_t offset)
{
    lf__dropout_site site[N_SITES];
    sites_of(L, n, T, p, seed, offset, site);
    const int64_t rows = n * T, nd = rows * L->d;
    /* r1 = x + dropout1(attn(x)); x1 = norm1(r1) */
    LF__TRY(lf__mha_fwd(ctx, &L->attn, a->r1, &a->attn, x, n, T, &site[SITE_ATTN]));
    LF__TRY(lf__dropout_fwd(ctx, &site[SITE_1], a->r1, a->r1, nd));
    LF__TRY(LF__BE(ctx, axpby, a->r1, 1.0f, x, 1.0f, nd));
    LF__TRY(lf__layernorm_fwd(ctx, &L->norm1, a->x1, a->stats1, a->r1, rows));
    /* r2 = x1 + dropout2(linear2(dropout(gelu(linear1(x1))))); y = norm2(r2) */
    LF__TRY(lf__seq_linear_fwd(ctx, &L->linear1, a->f, a->x1, rows));
    LF__TRY(LF__BE(ctx, gelu_fwd, a->g, a->f, rows * L->ff));
    LF__TRY(lf__dropout_fwd(ctx, &site[SITE_FF], a->g, a->g, rows * L->ff));
    LF__TRY(lf__seq_linear_fwd(ctx, &L->linear2, a->r2, a->g, rows));
    LF__TRY(lf__dropout_fwd(ctx, &site[SITE_2], a->r2, a->r2, nd));
    LF__TRY(LF__BE(ctx, axpby, a->r2, 1.0f, a->x1, 1.0f, nd));
    return lf__layernorm_fwd(ctx, &L->norm2, a->y, a->stats2, a->r2, rows);
}

lf_status lf__encoder_bwd(lf_context *ctx, const lf__encoder *L, float *dx, const float *dy,
                          const lf__encoder_acts *a, const lf__encoder_scratch *s, const float *x,
                          int64_t n, int64_t T, float p, uint64_t seed, uint64_t offset)
{
    lf__dropout_site site[N_SITES];
    sites_of(L, n, T, p, seed, offset, site);
    const int64_t rows = n * T, nd = rows * L->d;
    /* d1 = dr2; d2 = d(linear2 output) */
    LF__TRY(lf__layernorm_bwd(ctx, &L->norm2, s->d1, dy, a->r2, a->stats2, rows));
    LF__TRY(lf__dropout_bwd(ctx, &site[SITE_2], s->d2, s->d1, nd));
    /* dff = d(linear1 output) through the dropout and the GELU, in place */
    LF__TRY(lf__seq_linear_bwd(ctx, &L->linear2, s->dff, s->d2, a->g, rows));
    LF__TRY(lf__dropout_bwd(ctx, &site[SITE_FF], s->dff, s->dff, rows * L->ff));
    LF__TRY(LF__BE(ctx, gelu_bwd, s->dff, s->dff, a->f, rows * L->ff));
    /* d2 = dx1 = linear1's input gradient + the residual's dr2 */
    LF__TRY(lf__seq_linear_bwd(ctx, &L->linear1, s->d2, s->dff, a->x1, rows));
    LF__TRY(LF__BE(ctx, axpby, s->d2, 1.0f, s->d1, 1.0f, nd));
    /* d1 = dr1; d2 = d(attention output) */
    LF__TRY(lf__layernorm_bwd(ctx, &L->norm1, s->d1, s->d2, a->r1, a->stats1, rows));
    LF__TRY(lf__dropout_bwd(ctx, &site[SITE_1], s->d2, s->d1, nd));
    /* dx = attention's input gradient + the residual's dr1 */
    LF__TRY(lf__mha_bwd(ctx, &L->attn, dx, s->d2, &a->attn, &s->attn, x, n, T, &site[SITE_ATTN]));
    return LF__BE(ctx, axpby, dx, 1.0f, s->d1, 1.0f, nd);
}
