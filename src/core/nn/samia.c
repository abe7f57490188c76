/* The SAMIA attacker (Yuan & Zhang, USENIX Security 2022) as DAU uses it (METHODS.md): a small
 * transformer classifying u = [logits, one-hot label, sensitivity] as member / non-member.
 * It is no lf_model (no file format, no masks, Adam instead of SGD): one params block with a
 * PyTorch-named tensor table, gradients and Adam's moments in the same layout, activations
 * sized for the largest batch seen. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/nn/attacker_internal.h"

#define ADAM_BETA1 0.9
#define ADAM_BETA2 0.999
#define ADAM_EPS   1e-8f

/* Dropout draws of one forward start at step << DROPOUT_STEP_SHIFT, so forwards never share
 * draws while a forward takes fewer than 2^40 of them and steps stay below 2^24. */
#define DROPOUT_STEP_SHIFT 40

/* Per-layer tensors in PyTorch's order (TransformerEncoderLayer.named_parameters()). */
enum {
    L_IN_W, L_IN_B, L_OUT_W, L_OUT_B, L_LIN1_W, L_LIN1_B, L_LIN2_W, L_LIN2_B,
    L_NORM1_W, L_NORM1_B, L_NORM2_W, L_NORM2_B, L_COUNT
};
static const char *const layer_suffix[L_COUNT] = {
    "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
    "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
    "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"
};

/* The whole table: bn, embed, the layers, fc1, fc2, then the buffers. */
enum {
    T_BN_W, T_BN_B, T_EMBED_W, T_EMBED_B, T_LAYER0,
    T_FC1_W = T_LAYER0 + LF__SAMIA_LAYERS * L_COUNT, T_FC1_B, T_FC2_W, T_FC2_B,
    T_BN_MEAN, T_BN_VAR, T_BN_COUNT, T_TOTAL
};
#define N_PARAM_TENSORS T_BN_MEAN

/* Activations of the last forward and the backward's scratch: one backend block. */
struct lf__samia_state {
    int64_t          capacity;      /* samples the block holds */
    float           *block;
    float           *bn_out;        /* n × 3C */
    float           *bn_save;       /* 2 × 3C: batch mean, then 1/std */
    float           *tokens;        /* n·C × 3 */
    float           *e_pre, *e;     /* n·C × 64: embed's output, its GELU (layer 0's input) */
    lf__encoder_acts layers[LF__SAMIA_LAYERS];
    float           *h;             /* n × 64: relu(fc1) */
    float           *one;           /* 1.0f for num_batches_tracked += 1 */
    lf__encoder_scratch scratch;
    float           *g_a, *g_b;     /* n·C × 64 gradient ping-pong */
    float           *g_tok;         /* n·C × 3 */
    float           *g_bn;          /* n × 3C */
    float           *g_h;           /* n × 64 */
    const float     *u;             /* the last forward's input (kept alive by the caller) */
    int64_t          n;             /* rows of the last forward; -1: none */
    int              train;
    float            p;             /* the last forward's dropout rate */
    uint64_t         seed, offset;  /* and its draws */
};

/* ---- the tensor table ---- */

static lf_status add_tensor(lf__samia *s, const char *name, int32_t ndim, int64_t d0, int64_t d1,
                            int buffer)
{
    lf__tensor_desc *t = &s->tensors[s->n_tensors++];
    if ((size_t)snprintf(t->name, sizeof t->name, "%s", name) >= sizeof t->name)
        return lf__error(LF_E_INVALID_ARG, "samia: tensor name '%s' is too long", name);
    t->kind = buffer ? LF__TENSOR_BUFFER : LF__TENSOR_PARAM;
    t->file_dtype = LF__FILE_F32;
    t->ndim = ndim;
    t->shape[0] = d0;
    t->shape[1] = d1;
    t->numel = (size_t)(ndim == 0 ? 1 : ndim == 1 ? d0 : d0 * d1);
    size_t *count = buffer ? &s->n_buffers : &s->n_params;
    t->offset = *count;
    *count += t->numel;
    return LF_OK;
}

static lf_status declare(lf__samia *s)
{
    const int64_t c3 = 3 * s->classes, d = LF__SAMIA_D, ff = LF__SAMIA_FF, hid = LF__SAMIA_HIDDEN;
    LF__TRY(add_tensor(s, "bn.weight", 1, c3, 0, 0));
    LF__TRY(add_tensor(s, "bn.bias", 1, c3, 0, 0));
    LF__TRY(add_tensor(s, "embed.weight", 2, d, 3, 0));
    LF__TRY(add_tensor(s, "embed.bias", 1, d, 0, 0));
    const int64_t shapes[L_COUNT][3] = {   /* ndim, d0, d1 */
        { 2, 3 * d, d }, { 1, 3 * d, 0 }, { 2, d, d }, { 1, d, 0 }, { 2, ff, d }, { 1, ff, 0 },
        { 2, d, ff }, { 1, d, 0 }, { 1, d, 0 }, { 1, d, 0 }, { 1, d, 0 }, { 1, d, 0 }
    };
    for (int l = 0; l < LF__SAMIA_LAYERS; l++)
        for (int i = 0; i < L_COUNT; i++) {
            char name[LF__MAX_NAME];
            snprintf(name, sizeof name, "layers.%d.%s", l, layer_suffix[i]);
            LF__TRY(add_tensor(s, name, (int32_t)shapes[i][0], shapes[i][1], shapes[i][2], 0));
        }
    LF__TRY(add_tensor(s, "fc1.weight", 2, hid, d * s->classes, 0));
    LF__TRY(add_tensor(s, "fc1.bias", 1, hid, 0, 0));
    LF__TRY(add_tensor(s, "fc2.weight", 2, 2, hid, 0));
    LF__TRY(add_tensor(s, "fc2.bias", 1, 2, 0, 0));
    LF__TRY(add_tensor(s, "bn.running_mean", 1, c3, 0, 1));
    LF__TRY(add_tensor(s, "bn.running_var", 1, c3, 0, 1));
    return add_tensor(s, "bn.num_batches_tracked", 0, 0, 0, 1);
}

const lf__tensor_desc *lf__samia_find_tensor(const lf__samia *s, const char *name)
{
    for (size_t i = 0; i < s->n_tensors; i++)
        if (strcmp(s->tensors[i].name, name) == 0)
            return &s->tensors[i];
    return NULL;
}

/* ---- binding the layers to the blocks ---- */

static float *param(const lf__samia *s, int t)
{
    return s->params + s->tensors[t].offset;
}

static float *grad(const lf__samia *s, int t)
{
    return s->grads + s->tensors[t].offset;
}

static lf__seq_linear bind_linear(const lf__samia *s, int w)
{
    const lf__tensor_desc *t = &s->tensors[w];
    return (lf__seq_linear){ param(s, w), param(s, w + 1), grad(s, w), grad(s, w + 1),
                             t->shape[1], t->shape[0] };
}

static lf__layernorm bind_norm(const lf__samia *s, int w)
{
    return (lf__layernorm){ param(s, w), param(s, w + 1), grad(s, w), grad(s, w + 1), LF__SAMIA_D };
}

static void bind(lf__samia *s)
{
    float *buf = s->buffers;
    s->bn = (lf__bn_layer){ param(s, T_BN_W), param(s, T_BN_B), grad(s, T_BN_W), grad(s, T_BN_B),
                            buf + s->tensors[T_BN_MEAN].offset, buf + s->tensors[T_BN_VAR].offset,
                            buf + s->tensors[T_BN_COUNT].offset, 3 * s->classes };
    s->embed = bind_linear(s, T_EMBED_W);
    s->fc1 = bind_linear(s, T_FC1_W);
    s->fc2 = bind_linear(s, T_FC2_W);
    for (int l = 0; l < LF__SAMIA_LAYERS; l++) {
        int t0 = T_LAYER0 + l * L_COUNT;
        lf__encoder *E = &s->layers[l];
        E->attn = (lf__mha){ param(s, t0 + L_IN_W), param(s, t0 + L_IN_B), param(s, t0 + L_OUT_W),
                             param(s, t0 + L_OUT_B), grad(s, t0 + L_IN_W), grad(s, t0 + L_IN_B),
                             grad(s, t0 + L_OUT_W), grad(s, t0 + L_OUT_B), LF__SAMIA_D,
                             LF__SAMIA_HEADS };
        E->linear1 = bind_linear(s, t0 + L_LIN1_W);
        E->linear2 = bind_linear(s, t0 + L_LIN2_W);
        E->norm1 = bind_norm(s, t0 + L_NORM1_W);
        E->norm2 = bind_norm(s, t0 + L_NORM2_W);
        E->d = LF__SAMIA_D;
        E->ff = LF__SAMIA_FF;
    }
}

/* ---- initialisation (host arrays laid out as the blocks) ---- */

static void fill(float *host, const lf__tensor_desc *t, float value)
{
    for (size_t j = 0; j < t->numel; j++)
        host[t->offset + j] = value;
}

/* torch.nn.init.xavier_uniform_: U(±√(6/(fan_in + fan_out))), drawn like lf__init_uniform_fan_in */
static void xavier_uniform(float *host, const lf__tensor_desc *t, uint64_t seed)
{
    float hi = (float)sqrt(6.0 / (double)(t->shape[0] + t->shape[1])), lo = -hi;
    for (size_t j = 0; j < t->numel; j++) {
        size_t k = t->offset + j;
        host[k] = lo + (hi - lo) * lf__rng_uniform_at(seed, LF__STREAM_INIT, k);
    }
}

/* nn.Linear.reset_parameters: weight and bias U(±1/√fan_in) */
static void linear_default(float *host, const lf__samia *s, int w, uint64_t seed)
{
    int64_t fan_in = s->tensors[w].shape[1];
    lf__init_uniform_fan_in(host, &s->tensors[w], fan_in, seed);
    lf__init_uniform_fan_in(host, &s->tensors[w + 1], fan_in, seed);
}

static void init_host(const lf__samia *s, float *params, float *buffers, uint64_t seed)
{
    fill(params, &s->tensors[T_BN_W], 1.0f);
    fill(params, &s->tensors[T_BN_B], 0.0f);
    linear_default(params, s, T_EMBED_W, seed);
    for (int l = 0; l < LF__SAMIA_LAYERS; l++) {
        int t0 = T_LAYER0 + l * L_COUNT;
        /* MultiheadAttention._reset_parameters: xavier in_proj, zero biases; out_proj keeps
         * its Linear weight init */
        xavier_uniform(params, &s->tensors[t0 + L_IN_W], seed);
        fill(params, &s->tensors[t0 + L_IN_B], 0.0f);
        lf__init_uniform_fan_in(params, &s->tensors[t0 + L_OUT_W], LF__SAMIA_D, seed);
        fill(params, &s->tensors[t0 + L_OUT_B], 0.0f);
        linear_default(params, s, t0 + L_LIN1_W, seed);
        linear_default(params, s, t0 + L_LIN2_W, seed);
        for (int i = L_NORM1_W; i <= L_NORM2_B; i++)
            fill(params, &s->tensors[t0 + i], (i - L_NORM1_W) % 2 == 0 ? 1.0f : 0.0f);
    }
    linear_default(params, s, T_FC1_W, seed);
    linear_default(params, s, T_FC2_W, seed);
    fill(buffers, &s->tensors[T_BN_MEAN], 0.0f);
    fill(buffers, &s->tensors[T_BN_VAR], 1.0f);
    fill(buffers, &s->tensors[T_BN_COUNT], 0.0f);
}

/* ---- lifecycle ---- */

static void free_state(lf__samia *s)
{
    if (s->state) {
        lf__nn_dev_free(s->ctx, s->state->block);
        lf__free(s->ctx, s->state, sizeof *s->state);
        s->state = NULL;
    }
}

void lf__samia_destroy(lf__samia *s)
{
    if (!s)
        return;
    free_state(s);
    lf__nn_dev_free(s->ctx, s->params);
    lf__nn_dev_free(s->ctx, s->grads);
    lf__nn_dev_free(s->ctx, s->adam_m);
    lf__nn_dev_free(s->ctx, s->adam_v);
    lf__nn_dev_free(s->ctx, s->buffers);
    lf__free(s->ctx, s->tensors, T_TOTAL * sizeof *s->tensors);
    lf__free(s->ctx, s, sizeof *s);
}

static lf_status create(lf__samia *s, uint64_t seed)
{
    LF__TRY(declare(s));
    float **blocks[4] = { &s->params, &s->grads, &s->adam_m, &s->adam_v };
    for (int i = 0; i < 4; i++)
        LF__TRY(lf__nn_dev_alloc(s->ctx, (void **)blocks[i], s->n_params, sizeof(float), 1,
                                 "samia: parameter block"));
    LF__TRY(lf__nn_dev_alloc(s->ctx, (void **)&s->buffers, s->n_buffers, sizeof(float), 0,
                             "samia: buffers"));
    float *host = lf__calloc(s->ctx, s->n_params + s->n_buffers, sizeof *host, "samia: initial values");
    if (!host)
        return LF_E_NOMEM;
    init_host(s, host, host + s->n_params, seed);
    lf_status st = LF__BE(s->ctx, mem_upload, s->params, host, s->n_params * sizeof *host);
    if (st == LF_OK)
        st = LF__BE(s->ctx, mem_upload, s->buffers, host + s->n_params, s->n_buffers * sizeof *host);
    lf__free(s->ctx, host, (s->n_params + s->n_buffers) * sizeof *host);
    bind(s);
    return st;
}

lf_status lf__samia_create(lf__samia **out, lf_context *ctx, int64_t classes, uint64_t seed)
{
    LF__CHECK_ARG(out != NULL, "lf__samia_create: out is NULL");
    *out = NULL;
    LF__CHECK_ARG(ctx != NULL, "lf__samia_create: ctx is NULL");
    if (classes < 1 || classes > (1 << 20))
        return lf__error(LF_E_OUT_OF_RANGE, "samia: classes = %lld is outside [1, 2^20]",
                         (long long)classes);
    lf__samia *s = lf__calloc(ctx, 1, sizeof *s, "samia");
    if (!s)
        return LF_E_NOMEM;
    s->ctx = ctx;
    s->classes = classes;
    s->dropout = LF__SAMIA_DROPOUT;
    s->tensors = lf__calloc(ctx, T_TOTAL, sizeof *s->tensors, "samia: tensor table");
    lf_status st = s->tensors ? create(s, seed) : LF_E_NOMEM;
    if (st != LF_OK) {
        lf__samia_destroy(s);
        return st;
    }
    *out = s;
    return LF_OK;
}

/* ---- activations ---- */

static lf_status ensure_state(lf__samia *s, int64_t n)
{
    if (s->state && s->state->capacity >= n)
        return LF_OK;
    free_state(s);
    lf__samia_state *st = lf__calloc(s->ctx, 1, sizeof *st, "samia: state");
    if (!st)
        return LF_E_NOMEM;
    s->state = st;
    st->n = -1;
    const size_t C = (size_t)s->classes, rows = (size_t)n * C, d = LF__SAMIA_D;
    const size_t acts = lf__encoder_acts_floats(&s->layers[0], n, (int64_t)C);
    const size_t scratch = lf__encoder_scratch_floats(&s->layers[0], n, (int64_t)C);
    const size_t total = 4 * rows * 3 + 6 * C + 4 * rows * d + LF__SAMIA_LAYERS * acts + scratch +
                         2 * (size_t)n * LF__SAMIA_HIDDEN + 1;   /* as carved below */
    LF__TRY(lf__nn_dev_alloc(s->ctx, (void **)&st->block, total, sizeof(float), 0,
                             "samia: activations"));
    st->capacity = n;
    float *p = st->block;
    st->bn_out = p, p += rows * 3;
    st->g_bn = p, p += rows * 3;
    st->bn_save = p, p += 6 * C;
    st->tokens = p, p += rows * 3;
    st->g_tok = p, p += rows * 3;
    st->e_pre = p, p += rows * d;
    st->e = p, p += rows * d;
    for (int l = 0; l < LF__SAMIA_LAYERS; l++) {
        lf__encoder_acts_carve(&s->layers[l], &st->layers[l], p, n, (int64_t)C);
        p += acts;
    }
    st->h = p, p += (size_t)n * LF__SAMIA_HIDDEN;
    st->g_h = p, p += (size_t)n * LF__SAMIA_HIDDEN;
    lf__encoder_scratch_carve(&s->layers[0], &st->scratch, p, n, (int64_t)C);
    p += scratch;
    st->g_a = p, p += rows * d;
    st->g_b = p, p += rows * d;
    st->one = p;
    const float one = 1.0f;
    return LF__BE(s->ctx, mem_upload, st->one, &one, sizeof one);
}

/* ---- forward / backward ---- */

static uint64_t dropout_draws(const lf__samia *s, int64_t n)
{
    return LF__SAMIA_LAYERS * lf__encoder_draws(&s->layers[0], n, s->classes);
}

lf_status lf__samia_forward(lf__samia *s, float *logits, const float *u, int64_t n, int train,
                            uint64_t seed, uint64_t step)
{
    LF__CHECK_ARG(s && logits && u, "lf__samia_forward: NULL argument");
    const int64_t C = s->classes, rows = n * C;
    if (n < (train ? 2 : 1))   /* train mode: BatchNorm1d needs a batch variance */
        return lf__error(LF_E_INVALID_ARG, "samia: %lld samples in %s mode, need at least %d",
                         (long long)n, train ? "train" : "eval", train ? 2 : 1);
    if (n > INT64_MAX / (256 * C * C))   /* the largest buffers are n·C·C·heads and n·C·3·64 */
        return lf__error(LF_E_OUT_OF_RANGE, "samia: %lld samples of %lld classes overflow the buffers",
                         (long long)n, (long long)C);
    if (train && (step >> (64 - DROPOUT_STEP_SHIFT) != 0 ||
                  dropout_draws(s, n) >> DROPOUT_STEP_SHIFT != 0))
        return lf__error(LF_E_OUT_OF_RANGE, "samia: dropout step %llu or batch %lld too large",
                         (unsigned long long)step, (long long)n);
    LF__TRY(ensure_state(s, n));
    lf__samia_state *st = s->state;
    st->n = -1;   /* until this forward completes */
    if (!(s->dropout >= 0.0f && s->dropout < 1.0f))
        return lf__error(LF_E_OUT_OF_RANGE, "samia: dropout %g is outside [0, 1)", (double)s->dropout);
    const float p = train ? s->dropout : 0.0f;
    const uint64_t offset = train ? step << DROPOUT_STEP_SHIFT : 0;
    /* BatchNorm1d(3C), then token c = (u[c], u[C + c], u[2C + c]): a 3 × C transpose per sample */
    LF__TRY(lf__bn_fwd(s->ctx, &s->bn, st->bn_out, st->bn_save, st->bn_save + 3 * C, u, n, 1,
                       train, st->one));
    LF__TRY(LF__BE(s->ctx, transpose, st->tokens, st->bn_out, n, 3, C));
    LF__TRY(lf__seq_linear_fwd(s->ctx, &s->embed, st->e_pre, st->tokens, rows));
    LF__TRY(LF__BE(s->ctx, gelu_fwd, st->e, st->e_pre, rows * LF__SAMIA_D));
    const float *x = st->e;
    uint64_t draw = offset;
    for (int l = 0; l < LF__SAMIA_LAYERS; l++) {
        LF__TRY(lf__encoder_fwd(s->ctx, &s->layers[l], &st->layers[l], x, n, C, p, seed, draw));
        draw += lf__encoder_draws(&s->layers[l], n, C);
        x = st->layers[l].y;
    }
    /* flatten: the n × C × 64 output is already n rows of 64C */
    LF__TRY(lf__seq_linear_fwd(s->ctx, &s->fc1, st->h, x, n));
    LF__TRY(LF__BE(s->ctx, relu_fwd, st->h, st->h, n * LF__SAMIA_HIDDEN));
    LF__TRY(lf__seq_linear_fwd(s->ctx, &s->fc2, logits, st->h, n));
    st->u = u;
    st->n = n;
    st->train = train;
    st->p = p;
    st->seed = seed;
    st->offset = offset;
    return LF_OK;
}

lf_status lf__samia_backward(lf__samia *s, float *du, const float *dlogits)
{
    LF__CHECK_ARG(s && dlogits, "lf__samia_backward: NULL argument");
    lf__samia_state *st = s->state;
    if (!st || st->n < 0)
        return lf__error(LF_E_STATE, "samia: backward without a completed forward");
    const int64_t n = st->n, C = s->classes, rows = n * C;
    const float p = st->p;
    LF__TRY(lf__seq_linear_bwd(s->ctx, &s->fc2, st->g_h, dlogits, st->h, n));
    LF__TRY(LF__BE(s->ctx, relu_bwd, st->g_h, st->g_h, st->h, n * LF__SAMIA_HIDDEN));
    float *g = st->g_a, *g_next = st->g_b;
    LF__TRY(lf__seq_linear_bwd(s->ctx, &s->fc1, g, st->g_h, st->layers[LF__SAMIA_LAYERS - 1].y, n));
    for (int l = LF__SAMIA_LAYERS - 1; l >= 0; l--) {
        uint64_t draw = st->offset + (uint64_t)l * lf__encoder_draws(&s->layers[l], n, C);
        const float *x = l > 0 ? st->layers[l - 1].y : st->e;
        LF__TRY(lf__encoder_bwd(s->ctx, &s->layers[l], g_next, g, &st->layers[l], &st->scratch, x,
                                n, C, p, st->seed, draw));
        float *t = g;
        g = g_next;
        g_next = t;
    }
    LF__TRY(LF__BE(s->ctx, gelu_bwd, g, g, st->e_pre, rows * LF__SAMIA_D));
    LF__TRY(lf__seq_linear_bwd(s->ctx, &s->embed, st->g_tok, g, st->tokens, rows));
    LF__TRY(LF__BE(s->ctx, transpose, st->g_bn, st->g_tok, n, C, 3));
    /* the batch norm's input gradient goes to g_tok (free again) when the caller wants none */
    float *dx = du ? du : st->g_tok;
    if (st->train)
        return lf__bn_bwd(s->ctx, &s->bn, dx, st->g_bn, st->u, st->bn_save, st->bn_save + 3 * C, n, 1);
    return lf__bn_bwd_eval(s->ctx, &s->bn, dx, st->g_bn, st->u, n, 1);
}

lf_status lf__samia_zero_grads(lf__samia *s)
{
    LF__CHECK_ARG(s != NULL, "lf__samia_zero_grads: s is NULL");
    return LF__BE(s->ctx, mem_zero, s->grads, s->n_params * sizeof(float));
}

lf_status lf__samia_adam_step(lf__samia *s, float lr)
{
    LF__CHECK_ARG(s != NULL, "lf__samia_adam_step: s is NULL");
    LF__TRY(LF__BE(s->ctx, adam_step, s->params, s->adam_m, s->adam_v, s->grads,
                   (int64_t)s->n_params, lr, ADAM_BETA1, ADAM_BETA2, ADAM_EPS, 0.0f,
                   s->adam_steps + 1));
    s->adam_steps++;
    return LF_OK;
}
