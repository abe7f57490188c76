/* Reference pooling (k×k max pooling with stride k, global average pooling) and weight masks. */
#include <stdint.h>

#include "core/internal.h"
#include "backends/reference/ref_kernels.h"
#include "backends/reference/ref_check.h"

lf_status lf__ref_maxpool2d_check(const char *op, int64_t n, int64_t c, int64_t h, int64_t w,
                                  int64_t k)
{
    LF__TRY(check_matrix(op, n, c));
    if (h < 1 || w < 1 || k < 1 || h < k || w < k)
        return lf__error(LF_E_SHAPE, "%s: window %lld does not fit the %lldx%lld input", op,
                         (long long)k, (long long)h, (long long)w);
    if (h > INT32_MAX / w)   /* idx holds offsets within one h×w plane */
        return lf__error(LF_E_INVALID_ARG, "%s: a %lldx%lld plane is too large", op,
                         (long long)h, (long long)w);
    if (c > 0 && n * c > INT64_MAX / (h * w))
        return lf__error(LF_E_INVALID_ARG, "%s: input size overflows", op);
    return LF_OK;
}

/* idx[o] = offset of the maximum within its h×w plane (the first one in row-major window
 * order on ties; NaN never wins over a number, as a plain > comparison gives). */
lf_status lf__ref_maxpool2d_fwd(void *priv, float *y, int32_t *idx, const float *x, int64_t n,
                                int64_t c, int64_t h, int64_t w, int64_t k)
{
    (void)priv;
    LF__TRY(lf__ref_maxpool2d_check("maxpool2d_fwd", n, c, h, w, k));
    LF__TRY(check_ptr("maxpool2d_fwd", "x", x, n * c));
    LF__TRY(check_ptr("maxpool2d_fwd", "y", y, n * c));
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

lf_status lf__ref_maxpool2d_bwd(void *priv, float *dx, const float *dy, const int32_t *idx,
                                int64_t n, int64_t c, int64_t h, int64_t w, int64_t k)
{
    (void)priv;
    LF__TRY(lf__ref_maxpool2d_check("maxpool2d_bwd", n, c, h, w, k));
    LF__TRY(check_ptr("maxpool2d_bwd", "dx", dx, n * c));
    LF__TRY(check_ptr("maxpool2d_bwd", "dy", dy, n * c));
    LF__TRY(check_ptr("maxpool2d_bwd", "idx", idx, n * c));
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
    LF__TRY(lf__ref_batchnorm_check("avgpool_global_fwd", n, c, s));
    if (s < 1)
        return lf__error(LF_E_SHAPE, "avgpool_global_fwd: empty spatial size");
    LF__TRY(check_ptr("avgpool_global_fwd", "x", x, n * c));
    LF__TRY(check_ptr("avgpool_global_fwd", "y", y, n * c));
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
    LF__TRY(lf__ref_batchnorm_check("avgpool_global_bwd", n, c, s));
    if (s < 1)
        return lf__error(LF_E_SHAPE, "avgpool_global_bwd: empty spatial size");
    LF__TRY(check_ptr("avgpool_global_bwd", "dx", dx, n * c));
    LF__TRY(check_ptr("avgpool_global_bwd", "dy", dy, n * c));
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
    LF__TRY(check_count("apply_mask", "n", n));
    LF__TRY(check_ptr("apply_mask", "x", x, n));
    LF__TRY(check_ptr("apply_mask", "mask", mask, n));
    for (int64_t i = 0; i < n; i++)
        if (!mask[i])
            x[i] = 0.0f;
    return LF_OK;
}
