/* The `convnet` architecture (DESIGN §5), with PyTorch's names:
 *
 *   conv1 3×3, C → 32, pad 1, no bias   conv1.weight [32, C, 3, 3]
 *   bn1 + ReLU + maxpool 2              bn1.weight/bias/running_mean/running_var/num_batches_tracked
 *   conv2 3×3, 32 → 64, pad 1, no bias  conv2.weight [64, 32, 3, 3]
 *   bn2 + ReLU + maxpool 2              bn2.*
 *   flatten → fc1 → 128 + ReLU          fc1.weight [128, 64·(H/4)·(W/4)], fc1.bias
 *   fc2 → classes                       fc2.weight [classes, 128], fc2.bias
 *
 * (H/4 rounds down, as two floor-mode 2×2 poolings do; H and W must be at least 4.) The
 * penultimate features are fc1's ReLU output (128 per sample).
 *
 * Initialisation as PyTorch's defaults: conv and linear weights and the linear biases
 * U(±1/√fan_in) (fan_in = c_in·3·3 for the convs), drawn as lf__init_uniform_fan_in documents
 * (element k of the params block takes draw k); batch norm weight 1, bias 0, running_mean 0,
 * running_var 1, num_batches_tracked 0. */
#include <math.h>

#include "core/nn/nn_internal.h"

#define C1     32
#define C2     64
#define HIDDEN 128
#define KSIZE  3
#define POOL   2

/* Activations kept from forward for backward (backend memory), sized for `capacity` rows of
 * the model's input shape. */
typedef struct convnet_state {
    int64_t      capacity;
    float       *block;                /* one allocation for everything below but idx */
    float       *c1, *a1, *p1;         /* conv1 out; relu(bn1(c1)); maxpool(a1) */
    float       *c2, *a2, *p2;         /* the same for conv2 / bn2; p2 is fc1's input */
    float       *h;                    /* relu(fc1(p2)): the penultimate features */
    float       *g_a, *g_b;            /* gradient ping-pong buffers, each of the largest activation */
    float       *save1, *save2;        /* bn1 / bn2 batch mean then 1/std: 2·C1, 2·C2 floats */
    float       *one;                  /* 1.0f, for num_batches_tracked += 1 */
    int32_t     *idx;                  /* maxpool indices: idx1 then idx2 */
    int32_t     *idx1, *idx2;
    const float *x;                    /* the input of the last forward (kept alive by the caller) */
    int64_t      n;                    /* rows of the last forward; -1 = none */
    int          train;                /* the last forward was in train mode */
    int          infer;                /* ... or an inference forward: no backward can follow */
} convnet_state;

/* Sizes per sample. */
typedef struct convnet_dims {
    int64_t h, w, h2, w2, h4, w4;
    size_t  s1, p1, s2, s3;   /* C1·h·w, C1·h2·w2, C2·h2·w2, C2·h4·w4 (= fc1's input) */
    size_t  grad;         /* the largest activation: the gradient buffers' size */
} convnet_dims;

static convnet_dims dims_of(const lf_model *m)
{
    convnet_dims d;
    d.h = m->in_height;
    d.w = m->in_width;
    d.h2 = d.h / POOL;
    d.w2 = d.w / POOL;
    d.h4 = d.h2 / POOL;
    d.w4 = d.w2 / POOL;
    d.s1 = (size_t)(C1 * d.h * d.w);
    d.p1 = (size_t)(C1 * d.h2 * d.w2);
    d.s2 = (size_t)(C2 * d.h2 * d.w2);
    d.s3 = (size_t)(C2 * d.h4 * d.w4);
    d.grad = d.s1 > d.s2 ? d.s1 : d.s2;
    if (d.grad < HIDDEN)
        d.grad = HIDDEN;
    return d;
}

/* The bound layers of m. */
typedef struct convnet_layers {
    lf__conv_layer conv1, conv2;
    lf__bn_layer   bn1, bn2;
    const float   *W1, *b1, *W2, *b2;   /* fc1, fc2 */
    float         *dW1, *db1, *dW2, *db2;
    int64_t        fc_in, classes;
} convnet_layers;

static lf_status bind_linear(const lf_model *m, const char *prefix, int64_t out, int64_t in,
                             const float **W, const float **b, float **dW, float **db)
{
    char wn[LF__MAX_NAME], bn[LF__MAX_NAME];
    LF__TRY(lf__nn_tensor_name(wn, prefix, "weight"));
    LF__TRY(lf__nn_tensor_name(bn, prefix, "bias"));
    const lf__tensor_desc *w = lf__model_find_tensor(m, wn), *bt = lf__model_find_tensor(m, bn);
    if (!w || !bt || w->ndim != 2 || w->shape[0] != out || w->shape[1] != in || bt->ndim != 1 ||
        bt->shape[0] != out)
        return lf__error(LF_E_STATE, "convnet: linear layer '%s' is missing or misshapen", prefix);
    *W = lf__model_tensor_ptr(m, w);
    *b = lf__model_tensor_ptr(m, bt);
    *dW = lf__model_grad_ptr(m, w);
    *db = lf__model_grad_ptr(m, bt);
    return LF_OK;
}

static lf_status bind_layers(const lf_model *m, convnet_layers *L)
{
    convnet_dims d = dims_of(m);
    L->fc_in = (int64_t)d.s3;
    L->classes = m->num_classes;
    LF__TRY(lf__conv_bind(m, "conv1", 1, 1, &L->conv1));
    LF__TRY(lf__conv_bind(m, "conv2", 1, 1, &L->conv2));
    LF__TRY(lf__bn_bind(m, "bn1", &L->bn1));
    LF__TRY(lf__bn_bind(m, "bn2", &L->bn2));
    LF__TRY(bind_linear(m, "fc1", HIDDEN, L->fc_in, &L->W1, &L->b1, &L->dW1, &L->db1));
    LF__TRY(bind_linear(m, "fc2", L->classes, HIDDEN, &L->W2, &L->b2, &L->dW2, &L->db2));
    return LF_OK;
}

static lf_status declare_linear(lf_model *m, const char *prefix, int64_t out, int64_t in)
{
    char name[LF__MAX_NAME];
    int64_t w_shape[2] = { out, in }, b_shape[1] = { out };
    LF__TRY(lf__nn_tensor_name(name, prefix, "weight"));
    LF__TRY(lf__model_add_tensor(m, name, LF__TENSOR_PARAM, LF__FILE_F32, 2, w_shape));
    LF__TRY(lf__nn_tensor_name(name, prefix, "bias"));
    return lf__model_add_tensor(m, name, LF__TENSOR_PARAM, LF__FILE_F32, 1, b_shape);
}

static lf_status convnet_declare(lf_model *m)
{
    if (m->in_height < POOL * POOL || m->in_width < POOL * POOL)
        return lf__error(LF_E_SHAPE, "convnet: input %d x %d x %d is too small (height and width must "
                         "be at least 4 for two 2x2 poolings)", (int)m->in_channels, (int)m->in_height,
                         (int)m->in_width);
    convnet_dims d = dims_of(m);
    /* PyTorch's state_dict order */
    LF__TRY(lf__conv_declare(m, "conv1", C1, m->in_channels, KSIZE, 0));
    LF__TRY(lf__bn_declare(m, "bn1", C1));
    LF__TRY(lf__conv_declare(m, "conv2", C2, C1, KSIZE, 0));
    LF__TRY(lf__bn_declare(m, "bn2", C2));
    LF__TRY(declare_linear(m, "fc1", HIDDEN, (int64_t)d.s3));
    LF__TRY(declare_linear(m, "fc2", m->num_classes, HIDDEN));
    return LF_OK;
}

static lf_status convnet_init(lf_model *m, float *params_host, float *buffers_host, uint64_t seed)
{
    lf__conv_init_default(m, "conv1", params_host, seed);
    lf__bn_init_default(m, "bn1", params_host, buffers_host);
    lf__conv_init_default(m, "conv2", params_host, seed);
    lf__bn_init_default(m, "bn2", params_host, buffers_host);
    const char *const fc[4] = { "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias" };
    for (int i = 0; i < 4; i++) {
        const lf__tensor_desc *t = lf__model_find_tensor(m, fc[i]);
        const lf__tensor_desc *w = lf__model_find_tensor(m, fc[i & ~1]);   /* the layer's weight */
        if (!t || !w)
            return lf__error(LF_E_STATE, "convnet: tensor '%s' is missing", fc[i]);
        lf__init_uniform_fan_in(params_host, t, w->shape[1], seed);
    }
    return LF_OK;
}

static void convnet_release(lf_model *m)
{
    convnet_state *st = m->arch_state;
    if (!st)
        return;
    lf__nn_dev_free(m->ctx, st->block);
    lf__nn_dev_free(m->ctx, st->idx);
    lf__free(m->ctx, st, sizeof *st);
    m->arch_state = NULL;
}

/* (Re)allocates the activations for n rows; previous activations are dropped on growth. */
static lf_status grow_state(lf_model *m, convnet_state *st, int64_t n)
{
    convnet_dims d = dims_of(m);
    lf__nn_dev_free(m->ctx, st->block);
    lf__nn_dev_free(m->ctx, st->idx);
    st->block = NULL;
    st->idx = NULL;
    st->capacity = 0;
    st->n = -1;
    /* per row: c1, a1 (s1 each), p1, c2, a2 (s2 each), p2 (s3), h, g_a, g_b */
    size_t per_row = 2 * d.s1 + d.p1 + 2 * d.s2 + d.s3 + HIDDEN + 2 * d.grad;
    size_t fixed = 2 * C1 + 2 * C2 + 1;
    size_t pooled = d.p1 + d.s3;   /* maxpool outputs per row */
    if ((uint64_t)n > (SIZE_MAX / sizeof(float) - fixed) / per_row)
        return lf__error(LF_E_NOMEM, "convnet: a batch of %lld rows is too large", (long long)n);
    size_t rows = (size_t)n;
    float *b = NULL;
    LF__TRY(lf__nn_dev_alloc(m->ctx, (void **)&b, rows * per_row + fixed, sizeof(float), 0,
                             "convnet activations"));
    st->block = b;
    LF__TRY(lf__nn_dev_alloc(m->ctx, (void **)&st->idx, rows * pooled, sizeof(int32_t), 0,
                             "convnet pooling indices"));
    st->c1 = b;                  b += rows * d.s1;
    st->a1 = b;                  b += rows * d.s1;
    st->p1 = b;                  b += rows * d.p1;
    st->c2 = b;                  b += rows * d.s2;
    st->a2 = b;                  b += rows * d.s2;
    st->p2 = b;                  b += rows * d.s3;
    st->h = b;                   b += rows * HIDDEN;
    st->g_a = b;                 b += rows * d.grad;
    st->g_b = b;                 b += rows * d.grad;
    st->save1 = b;               b += 2 * C1;
    st->save2 = b;               b += 2 * C2;
    st->one = b;
    st->idx1 = st->idx;
    st->idx2 = st->idx + rows * d.p1;
    const float one = 1.0f;
    LF__TRY(LF__BE(m->ctx, mem_upload, st->one, &one, sizeof one));
    st->capacity = n;
    return LF_OK;
}

static lf_status ensure_state(lf_model *m, int64_t n, convnet_state **out)
{
    convnet_state *st = m->arch_state;
    if (!st) {
        st = lf__calloc(m->ctx, 1, sizeof *st, "convnet activations");
        if (!st)
            return LF_E_NOMEM;
        st->n = -1;
        m->arch_state = st;
    }
    if (n > st->capacity)
        LF__TRY(grow_state(m, st, n));
    *out = st;
    return LF_OK;
}

static lf_status convnet_forward(lf_model *m, const float *x, int64_t n, int mode, float *logits)
{
    convnet_layers L;
    convnet_state *st = NULL;
    int train = mode == LF__FWD_TRAIN;
    LF__TRY(bind_layers(m, &L));
    L.conv1.infer = L.conv2.infer = mode == LF__FWD_INFER;
    LF__TRY(ensure_state(m, n, &st));
    st->n = -1;   /* valid again only once the whole pass succeeded */
    lf_context *ctx = m->ctx;
    convnet_dims d = dims_of(m);

    int infer = mode == LF__FWD_INFER;   /* no backward follows: no a1/a2, no indices kept */

    lf__conv2d_shape s1 = lf__conv_shape(&L.conv1, n, d.h, d.w);
    LF__TRY(lf__conv_fwd(ctx, &L.conv1, st->c1, x, &s1));
    if (infer) {
        LF__TRY(lf__bn_relu_maxpool_infer(ctx, &L.bn1, st->p1, st->a1, st->c1, n, d.h, d.w, POOL));
    } else {
        LF__TRY(lf__bn_relu_fwd(ctx, &L.bn1, st->a1, st->save1, st->save1 + C1, st->c1, n,
                                d.h * d.w, train, st->one));
        LF__TRY(LF__BE(ctx, maxpool2d_fwd, st->p1, st->idx1, st->a1, n, C1, d.h, d.w, POOL));
    }

    lf__conv2d_shape s2 = lf__conv_shape(&L.conv2, n, d.h2, d.w2);
    LF__TRY(lf__conv_fwd(ctx, &L.conv2, st->c2, st->p1, &s2));
    if (infer) {
        LF__TRY(lf__bn_relu_maxpool_infer(ctx, &L.bn2, st->p2, st->a2, st->c2, n, d.h2, d.w2,
                                          POOL));
    } else {
        LF__TRY(lf__bn_relu_fwd(ctx, &L.bn2, st->a2, st->save2, st->save2 + C2, st->c2, n,
                                d.h2 * d.w2, train, st->one));
        LF__TRY(LF__BE(ctx, maxpool2d_fwd, st->p2, st->idx2, st->a2, n, C2, d.h2, d.w2, POOL));
    }

    /* flatten is free in NCHW: p2 is n × fc_in */
    LF__TRY(lf__linear_fwd(ctx, st->h, st->p2, L.W1, L.b1, n, L.fc_in, HIDDEN));
    LF__TRY(LF__BE(ctx, relu_fwd, st->h, st->h, n * HIDDEN));
    LF__TRY(lf__linear_fwd(ctx, logits, st->h, L.W2, L.b2, n, HIDDEN, L.classes));
    st->x = x;
    st->n = n;
    st->train = train;
    st->infer = infer;
    return LF_OK;
}

static lf_status convnet_backward(lf_model *m, const float *dlogits, int64_t n, const float *dfeatures,
                                  float *dx)
{
    convnet_state *st = m->arch_state;
    if (!st || st->n != n)
        return lf__error(LF_E_STATE, "convnet: backward over %lld rows without a forward over them",
                         (long long)n);
    if (st->infer)
        return lf__error(LF_E_STATE, "convnet: backward after an inference forward (it keeps no "
                         "activations for one)");
    LF__TRY(lf__model_ensure_grads(m));
    convnet_layers L;
    LF__TRY(bind_layers(m, &L));
    lf_context *ctx = m->ctx;
    convnet_dims d = dims_of(m);
    float *ga = st->g_a, *gb = st->g_b;

    /* the reverse of forward, alternating between the two gradient buffers */
    LF__TRY(lf__linear_bwd(ctx, ga, L.dW2, L.db2, dlogits, st->h, L.W2, n, HIDDEN, L.classes));
    if (dfeatures)   /* the features are h, fc2's input */
        LF__TRY(LF__BE(ctx, axpby, ga, 1.0f, dfeatures, 1.0f, n * HIDDEN));
    LF__TRY(LF__BE(ctx, relu_bwd, ga, ga, st->h, n * HIDDEN));
    LF__TRY(lf__linear_bwd(ctx, gb, L.dW1, L.db1, ga, st->p2, L.W1, n, L.fc_in, HIDDEN));

    LF__TRY(LF__BE(ctx, maxpool2d_bwd, ga, gb, st->idx2, n, C2, d.h2, d.w2, POOL));
    if (st->train) {
        LF__TRY(lf__bn_relu_bwd(ctx, &L.bn2, gb, ga, st->a2, st->c2, st->save2, st->save2 + C2, n,
                                d.h2 * d.w2));
    } else {
        LF__TRY(LF__BE(ctx, relu_bwd, ga, ga, st->a2, n * (int64_t)d.s2));
        LF__TRY(lf__bn_bwd_eval(ctx, &L.bn2, gb, ga, st->c2, n, d.h2 * d.w2));
    }
    lf__conv2d_shape s2 = lf__conv_shape(&L.conv2, n, d.h2, d.w2);
    LF__TRY(lf__conv_bwd(ctx, &L.conv2, ga, gb, st->p1, &s2));

    LF__TRY(LF__BE(ctx, maxpool2d_bwd, gb, ga, st->idx1, n, C1, d.h, d.w, POOL));
    if (st->train) {
        LF__TRY(lf__bn_relu_bwd(ctx, &L.bn1, ga, gb, st->a1, st->c1, st->save1, st->save1 + C1, n,
                                d.h * d.w));
    } else {
        LF__TRY(LF__BE(ctx, relu_bwd, gb, gb, st->a1, n * (int64_t)d.s1));
        LF__TRY(lf__bn_bwd_eval(ctx, &L.bn1, ga, gb, st->c1, n, d.h * d.w));
    }
    lf__conv2d_shape s1 = lf__conv_shape(&L.conv1, n, d.h, d.w);
    LF__TRY(lf__conv_bwd(ctx, &L.conv1, dx, ga, st->x, &s1));
    return LF_OK;
}

static lf_status convnet_features(const lf_model *m, const float **feat, int64_t *dim)
{
    const convnet_state *st = m->arch_state;
    if (!st || st->n < 0)
        return lf__error(LF_E_STATE, "convnet: no forward pass to take features from");
    *feat = st->h;
    *dim = HIDDEN;
    return LF_OK;
}

static lf_status convnet_infer(lf_model_config *cfg,
                               int (*find)(void *file, const char *name, int32_t *ndim, int64_t shape[LF__MAX_DIMS]),
                               void *file)
{
    static const char *const names[4] = { "conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight" };
    static const int32_t want_ndim[4] = { 4, 4, 2, 2 };
    int32_t nd;
    int64_t s[4][LF__MAX_DIMS];
    for (int i = 0; i < 4; i++)
        if (!find(file, names[i], &nd, s[i]) || nd != want_ndim[i])
            return lf__error(LF_E_UNKNOWN_ARCH, "convnet: no %d-d tensor '%s'", (int)want_ndim[i], names[i]);
    int64_t channels = s[0][1], fc_in = s[2][1], classes = s[3][0];
    if (s[0][0] != C1 || s[0][2] != KSIZE || s[0][3] != KSIZE || s[1][0] != C2 || s[1][1] != C1 ||
        s[1][2] != KSIZE || s[1][3] != KSIZE || s[2][0] != HIDDEN || s[3][1] != HIDDEN)
        return lf__error(LF_E_UNKNOWN_ARCH, "convnet: conv1/conv2/fc1/fc2 weights are not [32, C, 3, 3], "
                         "[64, 32, 3, 3], [128, 64*(H/4)*(W/4)], [classes, 128]");
    /* fc1's input 64·k² with a square k×k map after two poolings: a 4k × 4k input */
    int64_t k = fc_in % C2 == 0 ? (int64_t)llround(sqrt((double)(fc_in / C2))) : 0;
    if (k < 1 || C2 * k * k != fc_in || 4 * k > 65536)
        return lf__error(LF_E_UNKNOWN_ARCH, "convnet: fc1 takes %lld inputs, not 64·k² for a square "
                         "input", (long long)fc_in);
    if (channels < 1 || channels > 65536 || classes < 2 || classes > INT32_MAX)
        return lf__error(LF_E_UNKNOWN_ARCH, "convnet: %lld input channels or %lld classes is out of range",
                         (long long)channels, (long long)classes);
    cfg->channels = (int32_t)channels;
    cfg->height = cfg->width = (int32_t)(4 * k);
    cfg->num_classes = (int32_t)classes;
    return LF_OK;
}

const lf__arch lf__arch_convnet = {
    .name = "convnet",
    .declare = convnet_declare,
    .init = convnet_init,
    .forward = convnet_forward,
    .backward = convnet_backward,
    .release = convnet_release,
    .infer = convnet_infer,
    .flat_input = 0,
    .features = convnet_features,
};
