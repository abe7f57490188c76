/* The attacker network of DAU (METHODS.md, section DAU): layers over token sequences, the
 * post-LN transformer encoder layer and the SAMIA attacker built from them. llm.c style, like
 * nn_internal.h: backend memory, outputs first, explicit shapes, input gradients overwritten,
 * parameter gradients accumulated. A batch of n sequences of T tokens of d features is n·T rows
 * of d floats, sequence after sequence (PyTorch's batch_first layout). Never installed. */
#ifndef LF_CORE_NN_ATTACKER_INTERNAL_H
#define LF_CORE_NN_ATTACKER_INTERNAL_H

#include "core/nn/nn_internal.h"

/* ---- linear over token rows (seq_linear.c): torch.nn.Linear on the last dim ---- */
typedef struct lf__seq_linear {
    const float *W, *b;      /* W [out][in] (torch layout), b [out] */
    float       *dW, *db;
    int64_t      in, out;
} lf__seq_linear;
/* y[rows×out] = x[rows×in]·Wᵀ + b */
lf_status lf__seq_linear_fwd(lf_context *ctx, const lf__seq_linear *L, float *y, const float *x,
                             int64_t rows);
/* dW, db += ; dx = dy·W (overwritten; NULL: not needed) */
lf_status lf__seq_linear_bwd(lf_context *ctx, const lf__seq_linear *L, float *dx, const float *dy,
                             const float *x, int64_t rows);

/* ---- layer norm over the last dim (layernorm.c): torch.nn.LayerNorm(d), eps 1e-5 ---- */
typedef struct lf__layernorm {
    const float *gamma, *beta;
    float       *dgamma, *dbeta;
    int64_t      d;
} lf__layernorm;
/* y = LN(x) over rows × d; stats = 2·rows floats (the row means, then 1/std) for backward */
lf_status lf__layernorm_fwd(lf_context *ctx, const lf__layernorm *L, float *y, float *stats,
                            const float *x, int64_t rows);
/* dx overwritten (may be dy); dgamma, dbeta += */
lf_status lf__layernorm_bwd(lf_context *ctx, const lf__layernorm *L, float *dx, const float *dy,
                            const float *x, const float *stats, int64_t rows);

/* ---- dropout (dropout.c) ---- */
/* One dropout site of a forward pass. p == 0 is the identity (eval mode). Otherwise element j
 * is kept iff uniform_at(seed, LF__STREAM_DROPOUT, offset + j) >= p, so the backward pass
 * regenerates the mask from the same site instead of storing it. */
typedef struct lf__dropout_site {
    float    p;
    uint64_t seed, offset;
} lf__dropout_site;
/* y = dropout(x) over n floats; y may be x (then p == 0 does nothing) */
lf_status lf__dropout_fwd(lf_context *ctx, const lf__dropout_site *s, float *y, const float *x,
                          int64_t n);
/* dx = dropout'(dy): the same mask and scale; dx may be dy */
lf_status lf__dropout_bwd(lf_context *ctx, const lf__dropout_site *s, float *dx, const float *dy,
                          int64_t n);

/* ---- multi-head self-attention (attention.c) ----
 * torch.nn.MultiheadAttention(d, heads, dropout=p, batch_first=True) called as attn(x, x, x)
 * without masks: [q | k | v] = x·in_proj_weightᵀ + in_proj_bias (each d wide, head h owning
 * columns h·dh .. h·dh + dh − 1 of each, dh = d/heads); per sequence and head
 * P = softmax(QKᵀ/√dh) over keys, P' = dropout(P), O = P'·V; the heads side by side go through
 * out_proj. One batched backend gemm per product, over the n sequences and the heads. */
typedef struct lf__mha {
    const float *in_w, *in_b, *out_w, *out_b;       /* [3d][d], [3d], [d][d], [d] */
    float       *d_in_w, *d_in_b, *d_out_w, *d_out_b;
    int64_t      d, heads;
} lf__mha;
/* Kept from forward for backward (n sequences of T tokens). */
typedef struct lf__mha_acts {
    float *qkv;        /* n·T × 3d: the input projections */
    float *probs;      /* n·heads·T × T: P, row = (sequence, head, query) */
    float *probs_drop; /* n·heads·T × T: P' (the scores before the softmax; P' = P when p == 0) */
    float *heads;      /* n·T × d: O of every head side by side (out_proj's input) */
} lf__mha_acts;
/* Backward scratch. */
typedef struct lf__mha_scratch {
    float *dheads;     /* n·T × d */
    float *dqkv;       /* n·T × 3d */
    float *dprobs;     /* n·heads·T × T */
} lf__mha_scratch;
/* y[n·T × d] = attn(x); dropout on P with site *drop (n·heads·T·T draws) */
lf_status lf__mha_fwd(lf_context *ctx, const lf__mha *L, float *y, lf__mha_acts *a, const float *x,
                      int64_t n, int64_t T, const lf__dropout_site *drop);
/* dx overwritten (may not be dy); parameter gradients +=. x, a and drop as in the forward. */
lf_status lf__mha_bwd(lf_context *ctx, const lf__mha *L, float *dx, const float *dy,
                      const lf__mha_acts *a, const lf__mha_scratch *s, const float *x, int64_t n,
                      int64_t T, const lf__dropout_site *drop);

/* ---- the post-LN transformer encoder layer (encoder.c) ----
 * torch.nn.TransformerEncoderLayer(d, heads, ff, dropout=p, activation='gelu',
 * batch_first=True, norm_first=False), eval and train mode:
 *   r1 = x + dropout1(attn(x));  x1 = norm1(r1)
 *   r2 = x1 + dropout2(linear2(dropout(gelu(linear1(x1)))));  y = norm2(r2)
 * with the attention's own dropout on its probabilities: four dropout sites, all of rate p. */
typedef struct lf__encoder {
    lf__mha        attn;
    lf__seq_linear linear1, linear2;   /* d → ff, ff → d */
    lf__layernorm  norm1, norm2;
    int64_t        d, ff;
} lf__encoder;
/* Kept from forward for backward; each n·T rows wide as noted. */
typedef struct lf__encoder_acts {
    lf__mha_acts attn;
    float *r1, *x1, *r2, *y;   /* × d */
    float *f, *g;              /* × ff: linear1's output; dropout(gelu(f)) */
    float *stats1, *stats2;    /* 2 per row */
} lf__encoder_acts;
typedef struct lf__encoder_scratch {
    lf__mha_scratch attn;
    float *d1, *d2;            /* n·T × d */
    float *dff;                /* n·T × ff */
} lf__encoder_scratch;
/* Floats that lf__encoder_acts / lf__encoder_scratch need for n sequences of T tokens, and
 * carving them out of a block of that size. */
size_t lf__encoder_acts_floats(const lf__encoder *L, int64_t n, int64_t T);
void   lf__encoder_acts_carve(const lf__encoder *L, lf__encoder_acts *a, float *block, int64_t n,
                              int64_t T);
size_t lf__encoder_scratch_floats(const lf__encoder *L, int64_t n, int64_t T);
void   lf__encoder_scratch_carve(const lf__encoder *L, lf__encoder_scratch *s, float *block,
                                 int64_t n, int64_t T);
/* Dropout draws one forward takes: sites at offset, offset + n·heads·T·T, ... in forward order. */
uint64_t lf__encoder_draws(const lf__encoder *L, int64_t n, int64_t T);
/* a->y = layer(x). p = 0: no dropout (eval); otherwise the sites draw from seed, starting at
 * offset (lf__encoder_draws of them). */
lf_status lf__encoder_fwd(lf_context *ctx, const lf__encoder *L, lf__encoder_acts *a,
                          const float *x, int64_t n, int64_t T, float p, uint64_t seed,
                          uint64_t offset);
/* dx overwritten (may not be dy); parameter gradients +=. Arguments as in the forward. */
lf_status lf__encoder_bwd(lf_context *ctx, const lf__encoder *L, float *dx, const float *dy,
                          const lf__encoder_acts *a, const lf__encoder_scratch *s, const float *x,
                          int64_t n, int64_t T, float p, uint64_t seed, uint64_t offset);

/* ---- the SAMIA attacker (samia.c) ----
 * Yuan & Zhang's transformer membership classifier over u = [z, onehot(y), s] ∈ R^{3C}:
 *   BatchNorm1d(3C) → C tokens, token c = (u[c], u[C+c], u[2C+c]) → Linear(3→64) + GELU →
 *   3 encoder layers (d 64, 4 heads, feed-forward 128, dropout 0.2) → flatten (64C) →
 *   Linear(64C→64) + ReLU → Linear(64→2).
 * Train mode: batch statistics (running ones updated) and dropout (rate s->dropout); eval:
 * running statistics, no dropout. Parameters, gradients and Adam's two moments are four blocks
 * of one layout; the tensor table lists them in the order and with the names of the PyTorch
 * module (bn, embed, layers.<l>.<TransformerEncoderLayer's names>, fc1, fc2), then the buffers. */
#define LF__SAMIA_D      64
#define LF__SAMIA_HEADS  4
#define LF__SAMIA_FF     128
#define LF__SAMIA_LAYERS 3
#define LF__SAMIA_HIDDEN 64
#define LF__SAMIA_DROPOUT 0.2f

typedef struct lf__samia_state lf__samia_state;

typedef struct lf__samia {
    lf_context      *ctx;
    int64_t          classes;          /* C: tokens per sample; the input is 3C wide */
    lf__tensor_desc *tensors;          /* host table: parameters then buffers */
    size_t           n_tensors, n_params, n_buffers;
    float           *params, *grads, *adam_m, *adam_v;   /* backend, n_params floats each */
    float           *buffers;          /* backend: bn running_mean, running_var, num_batches_tracked */
    int64_t          adam_steps;       /* Adam steps taken (the next is adam_steps + 1) */
    float            dropout;          /* train-mode rate in [0, 1), LF__SAMIA_DROPOUT at create */
    lf__bn_layer     bn;
    lf__seq_linear   embed, fc1, fc2;
    lf__encoder      layers[LF__SAMIA_LAYERS];
    lf__samia_state *state;            /* activations of the last forward */
} lf__samia;

/* A new attacker for `classes` in [1, 2^20], initialised as PyTorch's defaults from seed
 * (draws as lf__init_uniform_fan_in: element k of the params block takes draw k of
 * LF__STREAM_INIT):
 * linear layers kaiming-uniform(a=√5) weight and U(±1/√fan_in) bias; in_proj_weight
 * xavier-uniform, in_proj_bias and out_proj.bias 0; layer and batch norms 1 / 0, running
 * statistics 0 / 1. Gradients and Adam moments zeroed. */
lf_status lf__samia_create(lf__samia **out, lf_context *ctx, int64_t classes, uint64_t seed);
void      lf__samia_destroy(lf__samia *s);                 /* NULL is a no-op */
/* logits[n×2] = A(u[n×3C]), both backend memory; u must stay unchanged until the matching
 * backward. Train mode needs n >= 2 (batch statistics); its dropout masks are drawn from
 * (seed, step): the same pair gives the same masks, different steps independent ones
 * (step < 2^24). */
lf_status lf__samia_forward(lf__samia *s, float *logits, const float *u, int64_t n, int train,
                            uint64_t seed, uint64_t step);
/* Backward of the last forward: parameter gradients += from dlogits[n×2]; du[n×3C] (NULL: not
 * needed) is overwritten with the input gradient. */
lf_status lf__samia_backward(lf__samia *s, float *du, const float *dlogits);
lf_status lf__samia_zero_grads(lf__samia *s);
/* One Adam step (β 0.9 / 0.999, eps 1e-8, no weight decay) over every parameter. */
lf_status lf__samia_adam_step(lf__samia *s, float lr);
/* The tensor named `name` (PyTorch's, e.g. "layers.0.self_attn.in_proj_weight"), NULL if none. */
const lf__tensor_desc *lf__samia_find_tensor(const lf__samia *s, const char *name);

#endif
