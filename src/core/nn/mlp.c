/* The `mlp` architecture: flatten → fc1 (C·H·W → 256) → ReLU → fc2 (256 → 256) → ReLU →
 * fc3 (256 → classes), with PyTorch's names (fc1.weight [256, in], fc1.bias [256], ...), so the
 * state_dict of a PyTorch module whose self.fc1/fc2/fc3 are nn.Linear layers loads as is.
 *
 * Initialisation (torch.nn.Linear.reset_parameters: kaiming_uniform_(a=√5) on the weight, which
 * reduces to U(−1/√fan_in, 1/√fan_in), and the same bound for the bias): every parameter is
 *     lo + (hi − lo) · lf__rng_uniform_at(seed, LF__STREAM_INIT, k),   lo = −hi, hi = 1/√fan_in
 * in float arithmetic (the backends' rng_uniform), where k is the parameter's index in the
 * params block: tensors in declaration order (fc1.weight, fc1.bias, fc2.weight, fc2.bias,
 * fc3.weight, fc3.bias), elements in row-major order. */
#include <math.h>

#include "core/nn/nn_internal.h"

#define HIDDEN 256
#define N_LAYERS 3

/* Activations kept from forward for backward, in backend memory, sized for the largest batch
 * seen so far. */
typedef struct mlp_state {
    int64_t      capacity;   /* rows each buffer holds */
    float       *block;      /* one allocation: h1, h2, d1, d2 */
    float       *h1, *h2;    /* post-ReLU outputs of fc1 and fc2, capacity × HIDDEN */
    float       *d1, *d2;    /* their gradients during backward */
    const float *x;          /* the input of the last forward (the caller keeps it alive) */
    int64_t      n;          /* rows of the last forward; -1 = none to go backward through */
} mlp_state;

/* One layer's tensors in backend memory. */
typedef struct mlp_layer {
    const float *W, *b;
    float       *dW, *db;    /* NULL until grads exist */
    int64_t      in, out;
} mlp_layer;

static const char *const weight_names[N_LAYERS] = { "fc1.weight", "fc2.weight", "fc3.weight" };
static const char *const bias_names[N_LAYERS] = { "fc1.bias", "fc2.bias", "fc3.bias" };

static int64_t input_size(const lf_model *m)
{
    return (int64_t)m->in_channels * m->in_height * m->in_width;
}

static lf_status mlp_declare(lf_model *m)
{
    int64_t dims[N_LAYERS + 1] = { input_size(m), HIDDEN, HIDDEN, m->num_classes };
    for (int l = 0; l < N_LAYERS; l++) {
        int64_t w_shape[2] = { dims[l + 1], dims[l] }, b_shape[1] = { dims[l + 1] };
        LF__TRY(lf__model_add_tensor(m, weight_names[l], LF__TENSOR_PARAM, LF__FILE_F32, 2, w_shape));
        LF__TRY(lf__model_add_tensor(m, bias_names[l], LF__TENSOR_PARAM, LF__FILE_F32, 1, b_shape));
    }
    return LF_OK;
}

static lf_status mlp_layers(const lf_model *m, mlp_layer layers[N_LAYERS])
{
    for (int l = 0; l < N_LAYERS; l++) {
        const lf__tensor_desc *w = lf__model_find_tensor(m, weight_names[l]);
        const lf__tensor_desc *b = lf__model_find_tensor(m, bias_names[l]);
        if (!w || !b || w->ndim != 2 || b->ndim != 1 || b->shape[0] != w->shape[0])
            return lf__error(LF_E_STATE, "mlp: tensors '%s' / '%s' are missing or misshapen",
                             weight_names[l], bias_names[l]);
        layers[l] = (mlp_layer){ lf__model_tensor_ptr(m, w), lf__model_tensor_ptr(m, b),
                                 lf__model_grad_ptr(m, w), lf__model_grad_ptr(m, b),
                                 w->shape[1], w->shape[0] };
    }
    return LF_OK;
}

static lf_status mlp_init(lf_model *m, float *params_host, float *buffers_host, uint64_t seed)
{
    (void)buffers_host;   /* the MLP has no buffers */
    for (int l = 0; l < N_LAYERS; l++) {
        const lf__tensor_desc *w = lf__model_find_tensor(m, weight_names[l]);
        const lf__tensor_desc *b = lf__model_find_tensor(m, bias_names[l]);
        float hi = (float)(1.0 / sqrt((double)w->shape[1])), lo = -hi;
        const lf__tensor_desc *ts[2] = { w, b };
        for (int i = 0; i < 2; i++)
            for (size_t j = 0; j < ts[i]->numel; j++) {
                size_t k = ts[i]->offset + j;
                params_host[k] = lo + (hi - lo) * lf__rng_uniform_at(seed, LF__STREAM_INIT, k);
            }
    }
    return LF_OK;
}

static void mlp_release(lf_model *m)
{
    mlp_state *st = m->arch_state;
    if (!st)
        return;
    lf__nn_dev_free(m->ctx, st->block);
    lf__free(m->ctx, st, sizeof *st);
    m->arch_state = NULL;
}

/* The state with buffers for at least n rows (previous activations are dropped on growth). */
static lf_status ensure_state(lf_model *m, int64_t n, mlp_state **out)
{
    mlp_state *st = m->arch_state;
    if (!st) {
        st = lf__calloc(m->ctx, 1, sizeof *st, "MLP activations");
        if (!st)
            return LF_E_NOMEM;
        st->n = -1;
        m->arch_state = st;
    }
    if (n > st->capacity) {
        lf__nn_dev_free(m->ctx, st->block);
        st->block = NULL;
        st->capacity = 0;
        st->n = -1;
        float *block = NULL;
        if ((uint64_t)n > SIZE_MAX / (4 * HIDDEN))
            return lf__error(LF_E_NOMEM, "mlp: batch of %lld rows is too large", (long long)n);
        LF__TRY(lf__nn_dev_alloc(m->ctx, (void **)&block, (size_t)n * 4 * HIDDEN, sizeof(float), 0,
                                 "MLP activations"));
        st->block = block;
        st->capacity = n;
        st->h1 = block;
        st->h2 = block + (size_t)n * HIDDEN;
        st->d1 = block + 2 * (size_t)n * HIDDEN;
        st->d2 = block + 3 * (size_t)n * HIDDEN;
    }
    *out = st;
    return LF_OK;
}

static lf_status mlp_forward(lf_model *m, const float *x, int64_t n, int mode, float *logits)
{
    (void)mode;   /* no dropout, batch norm or convolution: every mode computes the same */
    mlp_layer L[N_LAYERS];
    mlp_state *st = NULL;
    LF__TRY(mlp_layers(m, L));
    LF__TRY(ensure_state(m, n, &st));
    st->n = -1;   /* valid again only once the whole pass succeeded */
    lf_context *ctx = m->ctx;
    LF__TRY(lf__linear_fwd(ctx, st->h1, x, L[0].W, L[0].b, n, L[0].in, L[0].out));
    LF__TRY(LF__BE(ctx, relu_fwd, st->h1, st->h1, n * HIDDEN));
    LF__TRY(lf__linear_fwd(ctx, st->h2, st->h1, L[1].W, L[1].b, n, L[1].in, L[1].out));
    LF__TRY(LF__BE(ctx, relu_fwd, st->h2, st->h2, n * HIDDEN));
    LF__TRY(lf__linear_fwd(ctx, logits, st->h2, L[2].W, L[2].b, n, L[2].in, L[2].out));
    st->x = x;
    st->n = n;
    return LF_OK;
}

static lf_status mlp_backward(lf_model *m, const float *dlogits, int64_t n, const float *dfeatures,
                              float *dx)
{
    mlp_state *st = m->arch_state;
    if (!st || st->n != n)
        return lf__error(LF_E_STATE, "mlp: backward over %lld rows without a forward over them",
                         (long long)n);
    LF__TRY(lf__model_ensure_grads(m));
    mlp_layer L[N_LAYERS];
    LF__TRY(mlp_layers(m, L));
    lf_context *ctx = m->ctx;
    /* reverse order of forward; ReLU backward uses the kept outputs (y > 0 ⇔ x > 0) */
    LF__TRY(lf__linear_bwd(ctx, st->d2, L[2].dW, L[2].db, dlogits, st->h2, L[2].W, n, L[2].in, L[2].out));
    if (dfeatures)   /* the features are h2, fc3's input */
        LF__TRY(LF__BE(ctx, axpby, st->d2, 1.0f, dfeatures, 1.0f, n * HIDDEN));
    LF__TRY(LF__BE(ctx, relu_bwd, st->d2, st->d2, st->h2, n * HIDDEN));
    LF__TRY(lf__linear_bwd(ctx, st->d1, L[1].dW, L[1].db, st->d2, st->h1, L[1].W, n, L[1].in, L[1].out));
    LF__TRY(LF__BE(ctx, relu_bwd, st->d1, st->d1, st->h1, n * HIDDEN));
    LF__TRY(lf__linear_bwd(ctx, dx, L[0].dW, L[0].db, st->d1, st->x, L[0].W, n, L[0].in, L[0].out));
    return LF_OK;
}

static lf_status mlp_features(const lf_model *m, const float **feat, int64_t *dim)
{
    const mlp_state *st = m->arch_state;
    if (!st || st->n < 0)
        return lf__error(LF_E_STATE, "mlp: no forward pass to take features from");
    *feat = st->h2;
    *dim = HIDDEN;
    return LF_OK;
}

/* A k×k image when in = k², a 3-channel k×k one when in = 3k², else a flat 1×1×in vector; for
 * the MLP only C·H·W matters (flat_input), so a wrong guess never blocks a data set. */
static void guess_input_shape(int64_t in, lf_model_config *cfg)
{
    int64_t k = (int64_t)llround(sqrt((double)in));
    int64_t k3 = (int64_t)llround(sqrt((double)in / 3.0));
    if (k * k == in) {
        cfg->channels = 1;
        cfg->height = cfg->width = (int32_t)k;
    } else if (3 * k3 * k3 == in) {
        cfg->channels = 3;
        cfg->height = cfg->width = (int32_t)k3;
    } else {
        cfg->channels = 1;
        cfg->height = 1;
        cfg->width = (int32_t)in;
    }
}

static lf_status mlp_infer(lf_model_config *cfg,
                           int (*find)(void *file, const char *name, int32_t *ndim, int64_t shape[LF__MAX_DIMS]),
                           void *file)
{
    int32_t nd[N_LAYERS];
    int64_t s[N_LAYERS][LF__MAX_DIMS];
    for (int l = 0; l < N_LAYERS; l++)
        if (!find(file, weight_names[l], &nd[l], s[l]) || nd[l] != 2)
            return lf__error(LF_E_UNKNOWN_ARCH, "mlp: no 2-d tensor '%s'", weight_names[l]);
    int64_t in = s[0][1], classes = s[2][0];
    if (s[0][0] != HIDDEN || s[1][0] != HIDDEN || s[1][1] != HIDDEN || s[2][1] != HIDDEN)
        return lf__error(LF_E_UNKNOWN_ARCH, "mlp: fc1/fc2/fc3 weights are [%lld, %lld], [%lld, %lld], "
                         "[%lld, %lld], not [256, in], [256, 256], [classes, 256]",
                         (long long)s[0][0], (long long)s[0][1], (long long)s[1][0], (long long)s[1][1],
                         (long long)s[2][0], (long long)s[2][1]);
    if (in < 1 || in > INT32_MAX || classes < 2 || classes > INT32_MAX)
        return lf__error(LF_E_UNKNOWN_ARCH, "mlp: input size %lld or class count %lld is out of range",
                         (long long)in, (long long)classes);
    guess_input_shape(in, cfg);
    cfg->num_classes = (int32_t)classes;
    return LF_OK;
}

const lf__arch lf__arch_mlp = {
    .name = "mlp",
    .declare = mlp_declare,
    .init = mlp_init,
    .forward = mlp_forward,
    .backward = mlp_backward,
    .release = mlp_release,
    .infer = mlp_infer,
    .flat_input = 1,
    .features = mlp_features,
};
