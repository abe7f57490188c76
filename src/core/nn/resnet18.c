/* The `resnet18` architecture (DESIGN §5): torchvision's ResNet-18 with the CIFAR stem and
 * torchvision's names, so its state_dict loads as is.
 *
 *   conv1 3×3, C → 64, stride 1, pad 1, no bias; bn1; ReLU (no max-pool)
 *   layer1..layer4: two BasicBlocks each, widths 64, 128, 256, 512. A block is
 *       relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)),
 *     3×3 convs without bias (pad 1), conv1 of stride 2 in the first block of layers 2-4, whose
 *     shortcut is downsample.0 (1×1 conv, stride 2, no bias) + downsample.1 (BN); else identity
 *   global average pool → the penultimate features (512 per sample) → fc 512 → classes
 *
 * Spatial sizes: H×W in the stem and layer1, then ⌊(h − 1)/2⌋ + 1 per stride-2 stage
 * (28 → 14 → 7 → 4; 32 → 16 → 8 → 4).
 *
 * Initialisation as torchvision's ResNet.__init__: conv weights N(0, 2/fan_out), fan_out =
 * c_out·k·k (kaiming_normal_, mode='fan_out', nonlinearity='relu'), element k of the params
 * block being std·lf__rng_normal_at(seed, LF__STREAM_INIT, k) in float arithmetic; batch norm
 * weight 1, bias 0, running_mean 0, running_var 1, num_batches_tracked 0; fc as
 * torch.nn.Linear's default (U(±1/√512) for weight and bias, lf__init_uniform_fan_in).
 *
 * Memory, which bounds the batch a GPU can train (the budget is PyTorch's peak): a keeping
 * forward stores what backward needs and nothing else, as PyTorch's autograd with in-place ReLU
 * does: per conv + BN the conv output (BN's input), per ReLU its output, a block's input being
 * the previous block's output. Gradients and the shortcut BN's output use three scratch buffers
 * of the largest activation, rotated block by block. Train mode always keeps. Eval mode keeps
 * when the rows fit the activations already allocated; otherwise (evaluating 1024 rows, say) it
 * runs lean, in chunks through the scratch buffers (eval-mode batch norm treats rows
 * independently), and a backward after it forwards again and goes back chunk by chunk, so
 * eval-mode gradients (the methods') work at any row count without activations for all rows. */
#include <math.h>

#include "core/nn/nn_internal.h"

#define STEM_C     64
#define FEAT       512            /* the last stage's width: the features and fc's input */
#define N_STAGES   4
#define N_UNITS    20             /* conv + batch norm pairs */
#define N_BLOCKS   8
#define EVAL_CHUNK 128            /* rows per eval-mode pass unless a training batch was larger */

/* The conv + batch norm pairs in state_dict order. c_in 0 stands for the input's channels;
 * stage: the spatial size of the output (0 = the input's). */
static const struct unit_desc {
    const char *conv, *bn;
    int         c_in, c_out, k, stride, stage;
} units[N_UNITS] = {
    { "conv1", "bn1", 0, 64, 3, 1, 0 },
    { "layer1.0.conv1", "layer1.0.bn1", 64, 64, 3, 1, 0 },
    { "layer1.0.conv2", "layer1.0.bn2", 64, 64, 3, 1, 0 },
    { "layer1.1.conv1", "layer1.1.bn1", 64, 64, 3, 1, 0 },
    { "layer1.1.conv2", "layer1.1.bn2", 64, 64, 3, 1, 0 },
    { "layer2.0.conv1", "layer2.0.bn1", 64, 128, 3, 2, 1 },
    { "layer2.0.conv2", "layer2.0.bn2", 128, 128, 3, 1, 1 },
    { "layer2.0.downsample.0", "layer2.0.downsample.1", 64, 128, 1, 2, 1 },
    { "layer2.1.conv1", "layer2.1.bn1", 128, 128, 3, 1, 1 },
    { "layer2.1.conv2", "layer2.1.bn2", 128, 128, 3, 1, 1 },
    { "layer3.0.conv1", "layer3.0.bn1", 128, 256, 3, 2, 2 },
    { "layer3.0.conv2", "layer3.0.bn2", 256, 256, 3, 1, 2 },
    { "layer3.0.downsample.0", "layer3.0.downsample.1", 128, 256, 1, 2, 2 },
    { "layer3.1.conv1", "layer3.1.bn1", 256, 256, 3, 1, 2 },
    { "layer3.1.conv2", "layer3.1.bn2", 256, 256, 3, 1, 2 },
    { "layer4.0.conv1", "layer4.0.bn1", 256, 512, 3, 2, 3 },
    { "layer4.0.conv2", "layer4.0.bn2", 512, 512, 3, 1, 3 },
    { "layer4.0.downsample.0", "layer4.0.downsample.1", 256, 512, 1, 2, 3 },
    { "layer4.1.conv1", "layer4.1.bn1", 512, 512, 3, 1, 3 },
    { "layer4.1.conv2", "layer4.1.bn2", 512, 512, 3, 1, 3 },
};

/* The blocks as indices into units (ds −1: identity shortcut); stage: the output's. */
static const struct block_desc {
    int c1, c2, ds, stage;
} blocks[N_BLOCKS] = {
    { 1, 2, -1, 0 }, { 3, 4, -1, 0 }, { 5, 6, 7, 1 }, { 8, 9, -1, 1 },
    { 10, 11, 12, 2 }, { 13, 14, -1, 2 }, { 15, 16, 17, 3 }, { 18, 19, -1, 3 },
};

/* Sizes per sample. */
typedef struct rn_dims {
    int64_t h[N_STAGES], w[N_STAGES];
    size_t  s[N_STAGES];  /* floats of one activation of stage k: (64 << k)·h·w */
    size_t  grad;         /* a scratch buffer: the largest activation (or the features) */
    size_t  train;        /* everything a keeping forward stores */
} rn_dims;

static rn_dims dims_of(const lf_model *m)
{
    rn_dims d;
    d.h[0] = m->in_height;
    d.w[0] = m->in_width;
    for (int k = 1; k < N_STAGES; k++) {   /* 3×3 pad 1 and 1×1 pad 0, both of stride 2 */
        d.h[k] = (d.h[k - 1] - 1) / 2 + 1;
        d.w[k] = (d.w[k - 1] - 1) / 2 + 1;
    }
    d.grad = FEAT;
    for (int k = 0; k < N_STAGES; k++) {
        d.s[k] = (size_t)((int64_t)STEM_C << k) * (size_t)(d.h[k] * d.w[k]);
        d.grad = d.s[k] > d.grad ? d.s[k] : d.grad;
    }
    d.train = 2 * d.s[0];                  /* stem: conv output, ReLU output */
    for (int b = 0; b < N_BLOCKS; b++)     /* t1, u1, t2, out (+ d) */
        d.train += (blocks[b].ds >= 0 ? 5 : 4) * d.s[blocks[b].stage];
    return d;
}

/* ---- state: activations and scratch in backend memory ---- */

typedef struct rn_state {
    float       *scratch;      /* 3 buffers of scratch_rows × dims.grad */
    int64_t      scratch_rows;
    float       *acts;         /* kept activations: act_rows × dims.train, tensor by tensor */
    int64_t      act_rows;
    float       *pooled;       /* the features of the last forward: pooled_rows × FEAT */
    int64_t      pooled_rows;
    float       *fixed;        /* batch norm save_mean / save_invstd per unit, then 1.0f */
    const float *x;            /* the input of the last forward (kept alive by the caller) */
    int64_t      n;            /* rows of the last forward; -1 = none */
    int          train;        /* the last forward was in train mode */
    int          kept;         /* it kept its activations in acts (else backward recomputes) */
} rn_state;

/* A keeping forward's activations (pointers into acts). */
typedef struct rn_acts {
    float *c0, *a0;            /* stem: conv1 output; relu(bn1(c0)) = layer1.0's input */
    struct {
        float *t1, *u1, *t2;   /* conv1 output, relu(bn1(t1)), conv2 output */
        float *d;              /* downsample.0's output (NULL without) */
        float *out;            /* the block's output */
    } b[N_BLOCKS];
} rn_acts;

static rn_acts acts_of(const rn_state *st, const rn_dims *d)
{
    rn_acts a;
    size_t rows = (size_t)st->act_rows;
    float *p = st->acts;
    a.c0 = p;   p += rows * d->s[0];
    a.a0 = p;   p += rows * d->s[0];
    for (int b = 0; b < N_BLOCKS; b++) {
        size_t s = rows * d->s[blocks[b].stage];
        a.b[b].t1 = p;    p += s;
        a.b[b].u1 = p;    p += s;
        a.b[b].t2 = p;    p += s;
        a.b[b].d = NULL;
        if (blocks[b].ds >= 0) {
            a.b[b].d = p;
            p += s;
        }
        a.b[b].out = p;   p += s;
    }
    return a;
}

static float *scratch_at(const rn_state *st, const rn_dims *d, int i)
{
    return st->scratch + (size_t)i * (size_t)st->scratch_rows * d->grad;
}

/* Floats of batch norm statistics saved for backward (2 per channel of every unit). */
static size_t save_floats(void)
{
    size_t n = 0;
    for (int u = 0; u < N_UNITS; u++)
        n += 2 * (size_t)units[u].c_out;
    return n;
}

static void resnet_release(lf_model *m)
{
    rn_state *st = m->arch_state;
    if (!st)
        return;
    lf__nn_dev_free(m->ctx, st->scratch);
    lf__nn_dev_free(m->ctx, st->acts);
    lf__nn_dev_free(m->ctx, st->pooled);
    lf__nn_dev_free(m->ctx, st->fixed);
    lf__free(m->ctx, st, sizeof *st);
    m->arch_state = NULL;
}

/* *buf with room for rows × per_row floats; its contents are dropped when it grows. */
static lf_status reserve(lf_context *ctx, float **buf, int64_t *cap, int64_t rows, size_t per_row,
                         const char *what)
{
    if (rows <= *cap)
        return LF_OK;
    lf__nn_dev_free(ctx, *buf);
    *buf = NULL;
    *cap = 0;
    if ((uint64_t)rows > SIZE_MAX / sizeof(float) / per_row)
        return lf__error(LF_E_NOMEM, "resnet18: %s for %lld rows are too large", what, (long long)rows);
    LF__TRY(lf__nn_dev_alloc(ctx, (void **)buf, (size_t)rows * per_row, sizeof(float), 0, what));
    *cap = rows;
    return LF_OK;
}

static lf_status ensure_state(lf_model *m, rn_state **out)
{
    rn_state *st = m->arch_state;
    if (!st) {
        st = lf__calloc(m->ctx, 1, sizeof *st, "resnet18 state");
        if (!st)
            return LF_E_NOMEM;
        st->n = -1;
        m->arch_state = st;
    }
    if (!st->fixed) {
        size_t nsave = save_floats();
        LF__TRY(lf__nn_dev_alloc(m->ctx, (void **)&st->fixed, nsave + 1, sizeof(float), 0,
                                 "resnet18 batch norm statistics"));
        const float one = 1.0f;   /* for num_batches_tracked += 1 */
        lf_status s = LF__BE(m->ctx, mem_upload, st->fixed + nsave, &one, sizeof one);
        if (s != LF_OK) {
            lf__nn_dev_free(m->ctx, st->fixed);
            st->fixed = NULL;
            return s;
        }
    }
    *out = st;
    return LF_OK;
}

/* ---- layers ---- */

/* A bound conv + batch norm pair; save: its 2·c floats of batch statistics. */
typedef struct rn_unit {
    lf__conv_layer conv;
    lf__bn_layer   bn;
    float         *save;
} rn_unit;

typedef struct rn_layers {
    rn_unit      u[N_UNITS];
    const float *fc_w, *fc_b;
    float       *fc_dw, *fc_db;   /* NULL until grads exist */
    int64_t      classes;
    const float *one;             /* 1.0f in backend memory */
} rn_layers;

static lf_status bind_layers(const lf_model *m, const rn_state *st, rn_layers *L)
{
    float *save = st->fixed;
    for (int i = 0; i < N_UNITS; i++) {
        const struct unit_desc *u = &units[i];
        LF__TRY(lf__conv_bind(m, u->conv, u->stride, u->k / 2, &L->u[i].conv));
        LF__TRY(lf__bn_bind(m, u->bn, &L->u[i].bn));
        L->u[i].save = save;
        save += 2 * u->c_out;
    }
    L->one = save;
    const lf__tensor_desc *w = lf__model_find_tensor(m, "fc.weight"), *b = lf__model_find_tensor(m, "fc.bias");
    if (!w || !b || w->ndim != 2 || w->shape[1] != FEAT || b->ndim != 1 || b->shape[0] != w->shape[0])
        return lf__error(LF_E_STATE, "resnet18: fc.weight / fc.bias are missing or misshapen");
    L->fc_w = lf__model_tensor_ptr(m, w);
    L->fc_b = lf__model_tensor_ptr(m, b);
    L->fc_dw = lf__model_grad_ptr(m, w);
    L->fc_db = lf__model_grad_ptr(m, b);
    L->classes = w->shape[0];
    return LF_OK;
}

/* y = bn(c = conv(x)) over n rows of x (h × w), or relu(bn(c)) when relu; train: batch
 * statistics saved for backward. */
static lf_status unit_fwd(lf_context *ctx, const rn_unit *u, float *c, float *y, const float *x,
                          int64_t n, int64_t h, int64_t w, int train, const float *one, int relu)
{
    lf__conv2d_shape s = lf__conv_shape(&u->conv, n, h, w);
    LF__TRY(lf__conv_fwd(ctx, &u->conv, c, x, &s));
    int64_t sp = s.h_out * s.w_out;
    if (relu)
        return lf__bn_relu_fwd(ctx, &u->bn, y, u->save, u->save + u->bn.c, c, n, sp, train, one);
    return lf__bn_fwd(ctx, &u->bn, y, u->save, u->save + u->bn.c, c, n, sp, train, one);
}

/* Backward of unit_fwd: dy → (ReLU, bn) tmp → (conv) dx (NULL: not needed); x, c and train as
 * in forward, relu_y the forward's output when it had the ReLU (else NULL). dx may be dy. */
static lf_status unit_bwd(lf_context *ctx, const rn_unit *u, float *dx, float *tmp, const float *dy,
                          const float *relu_y, const float *x, const float *c, int64_t n, int64_t h,
                          int64_t w, int train)
{
    lf__conv2d_shape s = lf__conv_shape(&u->conv, n, h, w);
    int64_t sp = s.h_out * s.w_out;
    if (train && relu_y) {
        LF__TRY(lf__bn_relu_bwd(ctx, &u->bn, tmp, dy, relu_y, c, u->save, u->save + u->bn.c, n, sp));
    } else if (train) {
        LF__TRY(lf__bn_bwd(ctx, &u->bn, tmp, dy, c, u->save, u->save + u->bn.c, n, sp));
    } else {
        if (relu_y) {
            LF__TRY(LF__BE(ctx, relu_bwd, tmp, dy, relu_y, n * u->bn.c * sp));
            dy = tmp;
        }
        LF__TRY(lf__bn_bwd_eval(ctx, &u->bn, tmp, dy, c, n, sp));
    }
    return lf__conv_bwd(ctx, &u->conv, dx, tmp, x, &s);
}

/* The buffers of one block's forward. The writes come in the order t1, u1, t2, out, d, e, and
 * each buffer is last read before the next write to it, so eval mode may alias t1 = t2 = d,
 * u1 = out and e = in. */
typedef struct rn_block_io {
    const float *in;
    float       *t1, *u1, *t2, *out;
    float       *d, *e;           /* the shortcut's conv and BN outputs (downsampling blocks) */
} rn_block_io;

static lf_status block_fwd(lf_context *ctx, const rn_layers *L, int b, const rn_block_io *io,
                           int64_t n, const rn_dims *dm, int train)
{
    const struct block_desc *B = &blocks[b];
    int in_stage = b == 0 ? 0 : blocks[b - 1].stage;
    int64_t hi = dm->h[in_stage], wi = dm->w[in_stage], ho = dm->h[B->stage], wo = dm->w[B->stage];
    int64_t len = n * (int64_t)dm->s[B->stage];
    LF__TRY(unit_fwd(ctx, &L->u[B->c1], io->t1, io->u1, io->in, n, hi, wi, train, L->one, 1));
    LF__TRY(unit_fwd(ctx, &L->u[B->c2], io->t2, io->out, io->u1, n, ho, wo, train, L->one, 0));
    const float *shortcut = io->in;
    if (B->ds >= 0) {
        LF__TRY(unit_fwd(ctx, &L->u[B->ds], io->d, io->e, io->in, n, hi, wi, train, L->one, 0));
        shortcut = io->e;
    }
    LF__TRY(LF__BE(ctx, axpby, io->out, 1.0f, shortcut, 1.0f, len));   /* the residual add */
    return LF__BE(ctx, relu_fwd, io->out, io->out, len);
}

/* Backward through block b: dout (the gradient of its output; overwritten) → din; tmp is
 * scratch. Each of the three holds an activation of the block's input. */
static lf_status block_bwd(lf_context *ctx, const rn_layers *L, int b, const rn_acts *a, const float *in,
                           float *din, float *dout, float *tmp, int64_t n, const rn_dims *dm, int train)
{
    const struct block_desc *B = &blocks[b];
    int in_stage = b == 0 ? 0 : blocks[b - 1].stage;
    int64_t hi = dm->h[in_stage], wi = dm->w[in_stage], ho = dm->h[B->stage], wo = dm->w[B->stage];
    int64_t len = n * (int64_t)dm->s[B->stage];
    LF__TRY(LF__BE(ctx, relu_bwd, dout, dout, a->b[b].out, len));
    /* the main path into din */
    LF__TRY(unit_bwd(ctx, &L->u[B->c2], din, tmp, dout, NULL, a->b[b].u1, a->b[b].t2, n, ho, wo,
                     train));
    LF__TRY(unit_bwd(ctx, &L->u[B->c1], din, tmp, din, a->b[b].u1, in, a->b[b].t1, n, hi, wi, train));
    /* plus the shortcut's: dout itself, or through downsample (into dout, now free) */
    if (B->ds >= 0)
        LF__TRY(unit_bwd(ctx, &L->u[B->ds], dout, tmp, dout, NULL, in, a->b[b].d, n, hi, wi, train));
    return LF__BE(ctx, axpby, din, 1.0f, dout, 1.0f, n * (int64_t)dm->s[in_stage]);
}

/* ---- the lf__arch entries ---- */

static lf_status resnet_declare(lf_model *m)
{
    for (int i = 0; i < N_UNITS; i++) {
        int64_t c_in = units[i].c_in ? units[i].c_in : m->in_channels;
        LF__TRY(lf__conv_declare(m, units[i].conv, units[i].c_out, c_in, units[i].k, 0));
        LF__TRY(lf__bn_declare(m, units[i].bn, units[i].c_out));
    }
    int64_t w_shape[2] = { m->num_classes, FEAT }, b_shape[1] = { m->num_classes };
    LF__TRY(lf__model_add_tensor(m, "fc.weight", LF__TENSOR_PARAM, LF__FILE_F32, 2, w_shape));
    return lf__model_add_tensor(m, "fc.bias", LF__TENSOR_PARAM, LF__FILE_F32, 1, b_shape);
}

static lf_status resnet_init(lf_model *m, float *params_host, float *buffers_host, uint64_t seed)
{
    char name[LF__MAX_NAME];
    for (int i = 0; i < N_UNITS; i++) {
        LF__TRY(lf__nn_tensor_name(name, units[i].conv, "weight"));
        const lf__tensor_desc *w = lf__model_find_tensor(m, name);
        if (!w)
            return lf__error(LF_E_STATE, "resnet18: tensor '%s' is missing", name);
        /* kaiming_normal_(mode='fan_out', nonlinearity='relu'): std = √(2 / fan_out) */
        float std = (float)sqrt(2.0 / (double)(w->shape[0] * w->shape[2] * w->shape[3]));
        for (size_t j = 0; j < w->numel; j++)
            params_host[w->offset + j] = std * lf__rng_normal_at(seed, LF__STREAM_INIT, w->offset + j);
        lf__bn_init_default(m, units[i].bn, params_host, buffers_host);
    }
    const lf__tensor_desc *fw = lf__model_find_tensor(m, "fc.weight"), *fb = lf__model_find_tensor(m, "fc.bias");
    if (!fw || !fb)
        return lf__error(LF_E_STATE, "resnet18: fc.weight / fc.bias are missing");
    lf__init_uniform_fan_in(params_host, fw, FEAT, seed);
    lf__init_uniform_fan_in(params_host, fb, FEAT, seed);
    return LF_OK;
}

/* The stem and the blocks over n rows of x, keeping in acts what backward needs (train: batch
 * statistics; eval: the running ones), then pooled = the features. acts and scratch hold n rows. */
static lf_status forward_keep(lf_context *ctx, const rn_state *st, const rn_layers *L, const rn_dims *d,
                              const float *x, int64_t n, int train, float *pooled)
{
    rn_acts a = acts_of(st, d);
    LF__TRY(unit_fwd(ctx, &L->u[0], a.c0, a.a0, x, n, d->h[0], d->w[0], train, L->one, 1));
    const float *in = a.a0;
    for (int b = 0; b < N_BLOCKS; b++) {
        rn_block_io io = { in, a.b[b].t1, a.b[b].u1, a.b[b].t2, a.b[b].out, a.b[b].d, scratch_at(st, d, 0) };
        LF__TRY(block_fwd(ctx, L, b, &io, n, d, train));
        in = a.b[b].out;
    }
    return LF__BE(ctx, avgpool_global_fwd, pooled, in, n, FEAT, d->h[3] * d->w[3]);
}

/* Eval mode keeping nothing: chunks of rows through the three scratch buffers (which hold
 * `chunk` rows) into pooled. */
static lf_status forward_lean(lf_context *ctx, const rn_state *st, const rn_layers *L, const rn_dims *d,
                              const float *x, int64_t n, int64_t chunk, size_t in_size, float *pooled)
{
    for (int64_t r = 0; r < n; r += chunk) {
        int64_t rows = n - r < chunk ? n - r : chunk;
        float *X = scratch_at(st, d, 0), *P = scratch_at(st, d, 1), *Q = scratch_at(st, d, 2);
        LF__TRY(unit_fwd(ctx, &L->u[0], P, X, x + (size_t)r * in_size, rows, d->h[0], d->w[0], 0,
                         NULL, 1));
        for (int b = 0; b < N_BLOCKS; b++) {
            rn_block_io io = { X, P, Q, P, Q, P, X };   /* the aliasing block_fwd allows */
            LF__TRY(block_fwd(ctx, L, b, &io, rows, d, 0));
            float *t = X;
            X = Q;
            Q = t;
        }
        LF__TRY(LF__BE(ctx, avgpool_global_fwd, pooled + (size_t)r * FEAT, X, rows, FEAT, d->h[3] * d->w[3]));
    }
    return LF_OK;
}

/* Backward over n rows kept by forward_keep (x, pooled and dlogits / dfeatures / dx of those
 * rows; dfeatures and dx may be NULL). */
static lf_status backward_kept(lf_context *ctx, const rn_state *st, const rn_layers *L, const rn_dims *d,
                               const float *x, const float *pooled, const float *dlogits,
                               const float *dfeatures, float *dx, int64_t n, int train)
{
    rn_acts a = acts_of(st, d);
    float *dout = scratch_at(st, d, 0), *din = scratch_at(st, d, 1), *tmp = scratch_at(st, d, 2);
    /* fc, then the average pool spreads the features' gradient over the last block's output */
    LF__TRY(lf__linear_bwd(ctx, din, L->fc_dw, L->fc_db, dlogits, pooled, L->fc_w, n, FEAT, L->classes));
    if (dfeatures)
        LF__TRY(LF__BE(ctx, axpby, din, 1.0f, dfeatures, 1.0f, n * FEAT));
    LF__TRY(LF__BE(ctx, avgpool_global_bwd, dout, din, n, FEAT, d->h[3] * d->w[3]));
    for (int b = N_BLOCKS - 1; b >= 0; b--) {
        const float *in = b == 0 ? a.a0 : a.b[b - 1].out;
        LF__TRY(block_bwd(ctx, L, b, &a, in, din, dout, tmp, n, d, train));
        float *t = dout;   /* this block's input gradient is the previous block's output gradient */
        dout = din;
        din = t;
    }
    return unit_bwd(ctx, &L->u[0], dx, tmp, dout, a.a0, x, a.c0, n, d->h[0], d->w[0], train);
}

static size_t input_size(const lf_model *m)
{
    return (size_t)m->in_channels * (size_t)m->in_height * (size_t)m->in_width;
}

/* Train mode, and eval mode over rows that fit the activations already allocated, keep what
 * backward needs; other eval-mode passes run lean, in chunks (backward then recomputes). */
static lf_status resnet_forward(lf_model *m, const float *x, int64_t n, int mode, float *logits)
{
    rn_state *st = NULL;
    rn_layers L;
    int train = mode == LF__FWD_TRAIN;
    LF__TRY(ensure_state(m, &st));
    LF__TRY(bind_layers(m, st, &L));
    for (int u = 0; u < N_UNITS; u++)
        L.u[u].conv.infer = mode == LF__FWD_INFER;
    st->n = -1;   /* valid again only once the whole pass succeeded */
    lf_context *ctx = m->ctx;
    rn_dims d = dims_of(m);
    LF__TRY(reserve(ctx, &st->pooled, &st->pooled_rows, n, FEAT, "resnet18 features"));
    int keep = train || n <= st->act_rows;
    if (keep) {
        LF__TRY(reserve(ctx, &st->scratch, &st->scratch_rows, n, 3 * d.grad, "resnet18 scratch buffers"));
        LF__TRY(reserve(ctx, &st->acts, &st->act_rows, n, d.train, "resnet18 activations"));
        LF__TRY(forward_keep(ctx, st, &L, &d, x, n, train, st->pooled));
    } else {
        int64_t chunk = st->scratch_rows > EVAL_CHUNK ? st->scratch_rows : EVAL_CHUNK;
        chunk = n < chunk ? n : chunk;
        LF__TRY(reserve(ctx, &st->scratch, &st->scratch_rows, chunk, 3 * d.grad, "resnet18 scratch buffers"));
        LF__TRY(forward_lean(ctx, st, &L, &d, x, n, chunk, input_size(m), st->pooled));
    }
    LF__TRY(lf__linear_fwd(ctx, logits, st->pooled, L.fc_w, L.fc_b, n, FEAT, L.classes));
    st->x = x;
    st->n = n;
    st->train = train;
    st->kept = keep;
    return LF_OK;
}

static lf_status resnet_backward(lf_model *m, const float *dlogits, int64_t n, const float *dfeatures,
                                 float *dx)
{
    rn_state *st = m->arch_state;
    if (!st || st->n != n)
        return lf__error(LF_E_STATE, "resnet18: backward over %lld rows without a forward over them",
                         (long long)n);
    LF__TRY(lf__model_ensure_grads(m));
    rn_layers L;
    LF__TRY(bind_layers(m, st, &L));
    lf_context *ctx = m->ctx;
    rn_dims d = dims_of(m);
    if (st->kept)
        return backward_kept(ctx, st, &L, &d, st->x, st->pooled, dlogits, dfeatures, dx, n, st->train);

    /* a lean eval-mode forward kept nothing: forward again and go back chunk by chunk (eval
     * mode treats rows independently; parameter gradients accumulate) */
    st->n = -1;
    int64_t chunk = st->act_rows > EVAL_CHUNK ? st->act_rows : EVAL_CHUNK;
    chunk = n < chunk ? n : chunk;
    LF__TRY(reserve(ctx, &st->scratch, &st->scratch_rows, chunk, 3 * d.grad, "resnet18 scratch buffers"));
    LF__TRY(reserve(ctx, &st->acts, &st->act_rows, chunk, d.train, "resnet18 activations"));
    size_t in_size = input_size(m);
    for (int64_t r = 0; r < n; r += chunk) {
        int64_t rows = n - r < chunk ? n - r : chunk;
        const float *xr = st->x + (size_t)r * in_size;
        float *pooled = st->pooled + (size_t)r * FEAT;   /* rewritten with the same values */
        LF__TRY(forward_keep(ctx, st, &L, &d, xr, rows, 0, pooled));
        LF__TRY(backward_kept(ctx, st, &L, &d, xr, pooled, dlogits + (size_t)r * (size_t)L.classes,
                              dfeatures ? dfeatures + (size_t)r * FEAT : NULL,
                              dx ? dx + (size_t)r * in_size : NULL, rows, 0));
    }
    st->n = n;   /* the features are still those of the forward */
    return LF_OK;
}

static lf_status resnet_features(const lf_model *m, const float **feat, int64_t *dim)
{
    const rn_state *st = m->arch_state;
    if (!st || st->n < 0)
        return lf__error(LF_E_STATE, "resnet18: no forward pass to take features from");
    *feat = st->pooled;
    *dim = FEAT;
    return LF_OK;
}

/* The tensors fix the channels and classes but not the input size (global pooling): without
 * metadata, 1-channel models are taken as 28×28 (Fashion-MNIST), others as 32×32 (CIFAR). */
static lf_status resnet_infer(lf_model_config *cfg,
                              int (*find)(void *file, const char *name, int32_t *ndim, int64_t shape[LF__MAX_DIMS]),
                              void *file)
{
    int32_t nd;
    int64_t s[LF__MAX_DIMS];
    char name[LF__MAX_NAME];
    int64_t channels = 0;
    for (int i = 0; i < N_UNITS; i++) {
        LF__TRY(lf__nn_tensor_name(name, units[i].conv, "weight"));
        if (!find(file, name, &nd, s) || nd != 4)
            return lf__error(LF_E_UNKNOWN_ARCH, "resnet18: no 4-d tensor '%s'", name);
        if (i == 0)
            channels = s[1];
        if (s[0] != units[i].c_out || (units[i].c_in && s[1] != units[i].c_in) || s[2] != units[i].k ||
            s[3] != units[i].k)
            return lf__error(LF_E_UNKNOWN_ARCH, "resnet18: '%s' is not [%d, %d, %d, %d]", name,
                             units[i].c_out, units[i].c_in ? units[i].c_in : (int)channels, units[i].k,
                             units[i].k);
    }
    if (!find(file, "fc.weight", &nd, s) || nd != 2 || s[1] != FEAT)
        return lf__error(LF_E_UNKNOWN_ARCH, "resnet18: no tensor 'fc.weight' of [classes, 512]");
    int64_t classes = s[0];
    if (channels < 1 || channels > 65536 || classes < 2 || classes > INT32_MAX)
        return lf__error(LF_E_UNKNOWN_ARCH, "resnet18: %lld input channels or %lld classes is out of range",
                         (long long)channels, (long long)classes);
    cfg->channels = (int32_t)channels;
    cfg->height = cfg->width = channels == 1 ? 28 : 32;
    cfg->num_classes = (int32_t)classes;
    return LF_OK;
}

const lf__arch lf__arch_resnet18 = {
    .name = "resnet18",
    .declare = resnet_declare,
    .init = resnet_init,
    .forward = resnet_forward,
    .backward = resnet_backward,
    .release = resnet_release,
    .infer = resnet_infer,
    .flat_input = 0,
    .features = resnet_features,
};
