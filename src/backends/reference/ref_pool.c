/* Reference pooling (k×k max pooling with stride k, global average pooling) and weight masks. */
#include <stdint.h>

#include "core/internal.h"
#include "backends/reference/ref_kernels.h"
#include "backends/reference/ref_args.h"

/* idx[o] = offset of the maximum within its h×w plane (the first one in row-major window
 * order on ties; NaN never wins over a number, as a plain > comparison gives). */
lf_status lf__ref_maxpool2d_fwd(void *priv, float *y, int32_t *idx, const float *x, int64_t n,
                                int64_t c, int64_t h, int64_t w, int64_t k)
{
    (void)priv;
    LF__TRY(lf__ref_maxpool2d_fwd_args(y, x, n, c, h, w, k));
    const int64_t ho = h / k, wo = w / k;
    for (int64_t p = 0; p < n * c; p++) {
        const float *plane = x + p * h * w;
        for (int64_t oh = 0; oh < ho; oh++)
            for (int64_t ow = 0; ow < wo; ow++) {
                int64_t best = oh * k * w + ow * k;
                for (int64_t i = 0; i < k; i++)
                    for (int64_t j = 0; j < k; j++) {
                        int64_t at = (oh * k + i) * w + ow * k + j;
                        if (plane[at] > plane[best])
                            best = at;
                    }
                int64_t o = (p * ho + oh) * wo + ow;
                y[o] = plane[best];
                if (idx)
                    idx[o] = (int32_t)best;
            }
    }
    return LF_OK;
}

/* The composition itself, a plane at a time: batchnorm_relu_fwd_eval of the plane (as a batch
 * of one sample of one channel) into a scratch plane, then maxpool2d_fwd of that. */
lf_status lf__ref_batchnorm_relu_maxpool_fwd_eval(void *priv, float *y, const float *x,
                                                  const float *gamma, const float *beta,
                                                  const float *running_mean,
                                                  const float *running_var, int64_t n, int64_t c,
                                                  int64_t h, int64_t w, int64_t k, float eps)
{
    LF__TRY(lf__ref_batchnorm_relu_maxpool_fwd_eval_args(y, x, gamma, beta, running_mean,
                                                         running_var, n, c, h, w, k));
    if (n == 0 || c == 0)
        return LF_OK;
    float *plane = NULL;   /* backend memory: from the context's allocator */
    LF__TRY(lf__ref_mem_alloc(priv, (void **)&plane, (size_t)(h * w) * sizeof(float)));
    const int64_t out = (h / k) * (w / k);
    lf_status st = LF_OK;
    for (int64_t p = 0; st == LF_OK && p < n * c; p++) {
        const int64_t ch = p % c;
        st = lf__ref_batchnorm_relu_fwd_eval(priv, plane, x + p * h * w, gamma + ch, beta + ch,
                                             running_mean + ch, running_var + ch, 1, 1, h * w,
                                             eps);
        if (st == LF_OK)
            st = lf__ref_maxpool2d_fwd(priv, y + p * out, NULL, plane, 1, 1, h, w, k);
    }
    lf__ref_mem_free(priv, plane);
    return st;
}

lf_status lf__ref_maxpool2d_bwd(void *priv, float *dx, const float *dy, const int32_t *idx,
                                int64_t n, int64_t c, int64_t h, int64_t w, int64_t k)
{
    (void)priv;
    LF__TRY(lf__ref_maxpool2d_bwd_args(dx, dy, idx, n, c, h, w, k));
    const int64_t ho = h / k, wo = w / k;
    for (int64_t p = 0; p < n * c; p++) {
        float *plane = dx + p * h * w;
        for (int64_t at = 0; at < h * w; at++)
            plane[at] = 0.0f;
        for (int64_t o = p * ho * wo; o < (p + 1) * ho * wo; o++) {
            if (idx[o] < 0 || idx[o] >= h * w)
                return lf__error(LF_E_INVALID_ARG, "maxpool2d_bwd: index %d at %lld is outside "
                                 "the %lldx%lld plane", (int)idx[o], (long long)o, (long long)h,
                                 (long long)w);
            plane[idx[o]] += dy[o];   /* windows do not overlap: one writer per element */
        }
    }
    return LF_OK;
}

lf_status lf__ref_avgpool_global_fwd(void *priv, float *y, const float *x, int64_t n, int64_t c,
                                     int64_t s)
{
    (void)priv;
    LF__TRY(lf__ref_avgpool_global_fwd_args(y, x, n, c, s));
    for (int64_t p = 0; p < n * c; p++) {
        double sum = 0.0;
        for (int64_t k = 0; k < s; k++)
            sum += x[p * s + k];
        y[p] = (float)(sum / (double)s);
    }
    return LF_OK;
}

lf_status lf__ref_avgpool_global_bwd(void *priv, float *dx, const float *dy, int64_t n, int64_t c,
                                     int64_t s)
{
    (void)priv;
    LF__TRY(lf__ref_avgpool_global_bwd_args(dx, dy, n, c, s));
    for (int64_t p = 0; p < n * c; p++) {
        const float g = (float)((double)dy[p] / (double)s);
        for (int64_t k = 0; k < s; k++)
            dx[p * s + k] = g;
    }
    return LF_OK;
}

lf_status lf__ref_apply_mask(void *priv, float *x, const uint8_t *mask, int64_t n)
{
    (void)priv;
    LF__TRY(lf__ref_apply_mask_args(x, mask, n));
    for (int64_t i = 0; i < n; i++)
        if (!mask[i])
            x[i] = 0.0f;
    return LF_OK;
}
