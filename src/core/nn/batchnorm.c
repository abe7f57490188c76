/* BatchNorm2d over the backend's batch-norm ops, with PyTorch's names, defaults (momentum 0.1,
 * eps 1e-5) and bookkeeping: train mode normalises with the batch statistics, updates the
 * running ones and counts the batch in num_batches_tracked; eval mode uses the running ones. */
#include "core/nn/nn_internal.h"

#define BN_MOMENTUM 0.1f
#define BN_EPS      1e-5f

static const char *const bn_param_suffix[2] = { "weight", "bias" };
static const char *const bn_buffer_suffix[3] = { "running_mean", "running_var", "num_batches_tracked" };

lf_status lf__bn_declare(lf_model *m, const char *prefix, int64_t c)
{
    char name[LF__MAX_NAME];
    int64_t shape[1] = { c };
    for (int i = 0; i < 2; i++) {
        LF__TRY(lf__nn_tensor_name(name, prefix, bn_param_suffix[i]));
        LF__TRY(lf__model_add_tensor(m, name, LF__TENSOR_PARAM, LF__FILE_F32, 1, shape));
    }
    for (int i = 0; i < 3; i++) {
        LF__TRY(lf__nn_tensor_name(name, prefix, bn_buffer_suffix[i]));
        int scalar = i == 2;   /* num_batches_tracked: a 0-d I64 tensor in PyTorch */
        LF__TRY(lf__model_add_tensor(m, name, LF__TENSOR_BUFFER, scalar ? LF__FILE_I64 : LF__FILE_F32,
                                     scalar ? 0 : 1, shape));
    }
    return LF_OK;
}

/* The five tensors of "<prefix>" in the order weight, bias, running_mean, running_var,
 * num_batches_tracked; LF_E_STATE when one is missing or misshapen. */
static lf_status bn_tensors(const lf_model *m, const char *prefix, const lf__tensor_desc *t[5])
{
    char name[LF__MAX_NAME];
    for (int i = 0; i < 5; i++) {
        LF__TRY(lf__nn_tensor_name(name, prefix, i < 2 ? bn_param_suffix[i] : bn_buffer_suffix[i - 2]));
        t[i] = lf__model_find_tensor(m, name);
        int want_ndim = i == 4 ? 0 : 1;
        if (!t[i] || t[i]->ndim != want_ndim || (i < 4 && t[i]->shape[0] != t[0]->shape[0]))
            return lf__error(LF_E_STATE, "%s: batch norm tensor '%s' is missing or misshapen",
                             m->arch->name, name);
    }
    return LF_OK;
}

lf_status lf__bn_bind(const lf_model *m, const char *prefix, lf__bn_layer *out)
{
    const lf__tensor_desc *t[5];
    LF__TRY(bn_tensors(m, prefix, t));
    *out = (lf__bn_layer){ lf__model_tensor_ptr(m, t[0]), lf__model_tensor_ptr(m, t[1]),
                           lf__model_grad_ptr(m, t[0]), lf__model_grad_ptr(m, t[1]),
                           lf__model_tensor_ptr(m, t[2]), lf__model_tensor_ptr(m, t[3]),
                           lf__model_tensor_ptr(m, t[4]), t[0]->shape[0] };
    return LF_OK;
}

void lf__bn_init_default(const lf_model *m, const char *prefix, float *params_host, float *buffers_host)
{
    const lf__tensor_desc *t[5];
    if (bn_tensors(m, prefix, t) != LF_OK)
        return;
    for (size_t j = 0; j < t[0]->numel; j++) {
        params_host[t[0]->offset + j] = 1.0f;    /* weight */
        params_host[t[1]->offset + j] = 0.0f;    /* bias */
        buffers_host[t[2]->offset + j] = 0.0f;   /* running_mean */
        buffers_host[t[3]->offset + j] = 1.0f;   /* running_var */
    }
    buffers_host[t[4]->offset] = 0.0f;           /* num_batches_tracked */
}

/* num_batches_tracked += 1, in backend memory */
static lf_status count_batch(lf_context *ctx, const lf__bn_layer *L, const float *one_dev)
{
    return LF__BE(ctx, axpby, L->num_batches_tracked, 1.0f, one_dev, 1.0f, 1);
}

lf_status lf__bn_fwd(lf_context *ctx, const lf__bn_layer *L, float *y, float *save_mean,
                     float *save_invstd, const float *x, int64_t n, int64_t s, int train,
                     const float *one_dev)
{
    if (!train)
        return LF__BE(ctx, batchnorm_fwd_eval, y, x, L->gamma, L->beta, L->running_mean,
                      L->running_var, n, L->c, s, BN_EPS);
    LF__TRY(LF__BE(ctx, batchnorm_fwd_train, y, save_mean, save_invstd, L->running_mean,
                   L->running_var, x, L->gamma, L->beta, n, L->c, s, BN_MOMENTUM, BN_EPS));
    return count_batch(ctx, L, one_dev);
}

lf_status lf__bn_bwd(lf_context *ctx, const lf__bn_layer *L, float *dx, const float *dy,
                     const float *x, const float *save_mean, const float *save_invstd, int64_t n,
                     int64_t s)
{
    return LF__BE(ctx, batchnorm_bwd, dx, L->dgamma, L->dbeta, dy, x, L->gamma, save_mean,
                  save_invstd, n, L->c, s);
}

lf_status lf__bn_bwd_eval(lf_context *ctx, const lf__bn_layer *L, float *dx, const float *dy,
                          const float *x, int64_t n, int64_t s)
{
    return LF__BE(ctx, batchnorm_bwd_eval, dx, L->dgamma, L->dbeta, dy, x, L->gamma,
                  L->running_mean, L->running_var, n, L->c, s, BN_EPS);
}

/* The fused ops when the backend has them (one pass over the data), else the composition. */

lf_status lf__bn_relu_fwd(lf_context *ctx, const lf__bn_layer *L, float *y, float *save_mean,
                          float *save_invstd, const float *x, int64_t n, int64_t s, int train,
                          const float *one_dev)
{
    const lf__backend_iface *be = ctx->backend.iface;
    if (train ? !be->batchnorm_relu_fwd_train : !be->batchnorm_relu_fwd_eval) {
        LF__TRY(lf__bn_fwd(ctx, L, y, save_mean, save_invstd, x, n, s, train, one_dev));
        return LF__BE(ctx, relu_fwd, y, y, n * L->c * s);
    }
    if (!train)
        return LF__BE(ctx, batchnorm_relu_fwd_eval, y, x, L->gamma, L->beta, L->running_mean,
                      L->running_var, n, L->c, s, BN_EPS);
    LF__TRY(LF__BE(ctx, batchnorm_relu_fwd_train, y, save_mean, save_invstd, L->running_mean,
                   L->running_var, x, L->gamma, L->beta, n, L->c, s, BN_MOMENTUM, BN_EPS));
    return count_batch(ctx, L, one_dev);
}

lf_status lf__bn_relu_maxpool_infer(lf_context *ctx, const lf__bn_layer *L, float *y,
                                    float *scratch, const float *x, int64_t n, int64_t h,
                                    int64_t w, int64_t k)
{
    if (ctx->backend.iface->batchnorm_relu_maxpool_fwd_eval)
        return LF__BE(ctx, batchnorm_relu_maxpool_fwd_eval, y, x, L->gamma, L->beta,
                      L->running_mean, L->running_var, n, L->c, h, w, k, BN_EPS);
    LF__TRY(lf__bn_relu_fwd(ctx, L, scratch, NULL, NULL, x, n, h * w, 0, NULL));
    return LF__BE(ctx, maxpool2d_fwd, y, NULL, scratch, n, L->c, h, w, k);
}

lf_status lf__bn_relu_bwd(lf_context *ctx, const lf__bn_layer *L, float *dx, const float *dy,
                          const float *y, const float *x, const float *save_mean,
                          const float *save_invstd, int64_t n, int64_t s)
{
    if (!ctx->backend.iface->batchnorm_relu_bwd) {
        LF__TRY(LF__BE(ctx, relu_bwd, dx, dy, y, n * L->c * s));
        return lf__bn_bwd(ctx, L, dx, dx, x, save_mean, save_invstd, n, s);
    }
    return LF__BE(ctx, batchnorm_relu_bwd, dx, L->dgamma, L->dbeta, dy, y, x, L->gamma, save_mean,
                  save_invstd, n, L->c, s);
}
