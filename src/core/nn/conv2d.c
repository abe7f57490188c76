/* The 2-D convolution layer over the backend's conv2d ops, in torch.nn.Conv2d's layout (weight
 * [c_out][c_in][k][k], optional bias [c_out]); also the default PyTorch initialisation shared
 * by convolution and linear layers. */
#include <math.h>

#include "core/nn/nn_internal.h"

void lf__init_uniform_fan_in(float *params_host, const lf__tensor_desc *t, int64_t fan_in, uint64_t seed)
{
    float hi = (float)(1.0 / sqrt((double)fan_in)), lo = -hi;
    for (size_t j = 0; j < t->numel; j++) {
        size_t k = t->offset + j;
        params_host[k] = lo + (hi - lo) * lf__rng_uniform_at(seed, LF__STREAM_INIT, k);
    }
}

lf_status lf__conv_declare(lf_model *m, const char *prefix, int64_t c_out, int64_t c_in, int64_t k,
                           int bias)
{
    char name[LF__MAX_NAME];
    int64_t w_shape[4] = { c_out, c_in, k, k }, b_shape[1] = { c_out };
    LF__TRY(lf__nn_tensor_name(name, prefix, "weight"));
    LF__TRY(lf__model_add_tensor(m, name, LF__TENSOR_PARAM, LF__FILE_F32, 4, w_shape));
    LF__TRY(lf__model_set_maskable(m, name));
    if (bias) {
        LF__TRY(lf__nn_tensor_name(name, prefix, "bias"));
        LF__TRY(lf__model_add_tensor(m, name, LF__TENSOR_PARAM, LF__FILE_F32, 1, b_shape));
    }
    return LF_OK;
}

lf_status lf__conv_bind(const lf_model *m, const char *prefix, int64_t stride, int64_t pad,
                        lf__conv_layer *out)
{
    char name[LF__MAX_NAME];
    LF__TRY(lf__nn_tensor_name(name, prefix, "weight"));
    const lf__tensor_desc *w = lf__model_find_tensor(m, name);
    LF__TRY(lf__nn_tensor_name(name, prefix, "bias"));
    const lf__tensor_desc *b = lf__model_find_tensor(m, name);
    if (!w || w->ndim != 4 || w->shape[2] != w->shape[3] || (b && (b->ndim != 1 || b->shape[0] != w->shape[0])))
        return lf__error(LF_E_STATE, "%s: convolution '%s' is missing or misshapen", m->arch->name, prefix);
    *out = (lf__conv_layer){ lf__model_tensor_ptr(m, w), b ? lf__model_tensor_ptr(m, b) : NULL,
                             lf__model_grad_ptr(m, w), b ? lf__model_grad_ptr(m, b) : NULL,
                             w->shape[1], w->shape[0], w->shape[2], stride, pad, 0 };
    return LF_OK;
}

void lf__conv_init_default(const lf_model *m, const char *prefix, float *params_host, uint64_t seed)
{
    char name[LF__MAX_NAME];
    if (lf__nn_tensor_name(name, prefix, "weight") != LF_OK)
        return;
    const lf__tensor_desc *w = lf__model_find_tensor(m, name);
    if (!w)
        return;
    int64_t fan_in = w->shape[1] * w->shape[2] * w->shape[3];
    lf__init_uniform_fan_in(params_host, w, fan_in, seed);
    if (lf__nn_tensor_name(name, prefix, "bias") == LF_OK) {
        const lf__tensor_desc *b = lf__model_find_tensor(m, name);
        if (b)
            lf__init_uniform_fan_in(params_host, b, fan_in, seed);
    }
}

lf__conv2d_shape lf__conv_shape(const lf__conv_layer *L, int64_t n, int64_t h, int64_t w)
{
    lf__conv2d_shape s = { n, L->c_in, h, w, L->c_out, L->k, L->k, L->stride, L->pad, 0, 0,
                           L->infer };
    s.h_out = (h + 2 * L->pad - L->k) / L->stride + 1;
    s.w_out = (w + 2 * L->pad - L->k) / L->stride + 1;
    return s;
}

lf_status lf__conv_fwd(lf_context *ctx, const lf__conv_layer *L, float *y, const float *x,
                       const lf__conv2d_shape *s)
{
    return LF__BE(ctx, conv2d_fwd, y, x, L->w, L->b, s);
}

lf_status lf__conv_bwd(lf_context *ctx, const lf__conv_layer *L, float *dx, const float *dy,
                       const float *x, const lf__conv2d_shape *s)
{
    LF__TRY(LF__BE(ctx, conv2d_bwd_weights, L->dw, L->db, dy, x, s));
    if (dx)
        LF__TRY(LF__BE(ctx, conv2d_bwd_data, dx, dy, L->w, s));
    return LF_OK;
}
