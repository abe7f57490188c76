/* k×k max pooling with stride k on the caller's NCHW tensors: OpenMP over the n·c planes, the
 * common 2×2 window as a vectorised loop along each output row. idx holds what the reference's
 * does (each maximum's offset within its h×w plane; the first maximum in row-major window
 * order wins, and NaN never wins over a number, as with a plain > comparison), so the results
 * are the reference's bit for bit. This replaced oneDNN's pooling, whose kernels transpose
 * plain layouts through a blocked copy: they took a fifth of oneDNN's time in a convnet
 * training step (bench/bench_ops.c). */
#include "core/internal.h"
#include "backends/reference/ref_kernels.h"
#include "backends/cpu/cpu_ops.h"

/* The maximum of a 2×2 window a b / c d and its offset (a at `at`, rows w apart). */
static inline float max4(float a, float b, float c, float d, int32_t at, int32_t w, int32_t *where)
{
    float m = a;
    int32_t i = at;
    const int tb = b > m;   /* selects, not branches: the loop vectorises */
    m = tb ? b : m;
    i = tb ? at + 1 : i;
    const int tc = c > m;
    m = tc ? c : m;
    i = tc ? at + w : i;
    const int td = d > m;
    m = td ? d : m;
    i = td ? at + w + 1 : i;
    *where = i;
    return m;
}

/* Outputs j0..j0+3 of a row of 2×2 windows: rows r0, r1 of the input (r0 at offset base in
 * its plane); idx may be NULL. A fixed count of four vectorises without a remainder loop. */
static inline void quad_max2(float *y, int32_t *idx, const float *r0, const float *r1, int64_t j0,
                             int32_t base, int32_t w)
{
    if (idx) {
#pragma omp simd
        for (int64_t j = j0; j < j0 + 4; j++)
            y[j] = max4(r0[2 * j], r0[2 * j + 1], r1[2 * j], r1[2 * j + 1],
                        base + 2 * (int32_t)j, w, &idx[j]);
    } else {
#pragma omp simd
        for (int64_t j = j0; j < j0 + 4; j++) {
            int32_t unused;
            y[j] = max4(r0[2 * j], r0[2 * j + 1], r1[2 * j], r1[2 * j + 1],
                        base + 2 * (int32_t)j, w, &unused);
        }
    }
}

/* One output row of 2×2 windows (idx may be NULL), four outputs at a time; the last four
 * overlap the ones before when wo is not a multiple of 4 (they are written twice, with the
 * same values). The convnet's rows are 14 and 7 outputs long: a vectorised loop with a
 * scalar remainder spent most of its time in the remainder. */
static void row_max2(float *y, int32_t *idx, const float *r0, const float *r1, int64_t wo,
                     int32_t base, int32_t w)
{
    if (wo < 4) {
        for (int64_t j = 0; j < wo; j++) {
            int32_t at;
            y[j] = max4(r0[2 * j], r0[2 * j + 1], r1[2 * j], r1[2 * j + 1],
                        base + 2 * (int32_t)j, w, &at);
            if (idx)
                idx[j] = at;
        }
        return;
    }
    int64_t j = 0;
    for (; j + 4 <= wo; j += 4)
        quad_max2(y, idx, r0, r1, j, base, w);
    if (j < wo)
        quad_max2(y, idx, r0, r1, wo - 4, base, w);
}

/* One plane, any k (the reference's loop). */
static void plane_max(float *y, int32_t *idx, const float *x, int64_t h, int64_t w, int64_t k)
{
    const int64_t ho = h / k, wo = w / k;
    if (k == 2) {
        for (int64_t oh = 0; oh < ho; oh++) {
            const float *r0 = x + 2 * oh * w;
            row_max2(y + oh * wo, idx ? idx + oh * wo : NULL, r0, r0 + w, wo,
                     (int32_t)(2 * oh * w), (int32_t)w);
        }
        return;
    }
    for (int64_t oh = 0; oh < ho; oh++)
        for (int64_t ow = 0; ow < wo; ow++) {
            int64_t best = oh * k * w + ow * k;
            for (int64_t i = 0; i < k; i++)
                for (int64_t j = 0; j < k; j++) {
                    const int64_t at = (oh * k + i) * w + ow * k + j;
                    if (x[at] > x[best])
                        best = at;
                }
            y[oh * wo + ow] = x[best];
            if (idx)
                idx[oh * wo + ow] = (int32_t)best;
        }
}

lf_status lf__cpu_maxpool2d_fwd(void *priv, float *y, int32_t *idx, const float *x, int64_t n,
                                int64_t c, int64_t h, int64_t w, int64_t k)
{
    if (n < 1 || c < 1 || !y || !x || lf__ref_maxpool2d_check("maxpool2d_fwd", n, c, h, w, k) != LF_OK)
        return lf__ref_maxpool2d_fwd(priv, y, idx, x, n, c, h, w, k);
    const int64_t planes = n * c, out = (h / k) * (w / k);
    const int t = lf__cpu_threads_for(priv, planes * h * w);
#pragma omp parallel for num_threads(t) if (t > 1) schedule(static)
    for (int64_t p = 0; p < planes; p++)
        plane_max(y + p * out, idx ? idx + p * out : NULL, x + p * h * w, h, w, k);
    return LF_OK;
}

/* ---- fused with the eval-mode batch norm and ReLU before it (inference) ---- */

/* The maximum of relu(bn(v)) over a 2×2 window's values a b / c d, in the reference's order. */
static inline float bn_relu_max4(float a, float b, float c, float d, float mean, float scale,
                                 float shift)
{
    float m = lf__cpu_bn_relu_value(a, mean, scale, shift);
    const float vb = lf__cpu_bn_relu_value(b, mean, scale, shift);
    m = vb > m ? vb : m;
    const float vc = lf__cpu_bn_relu_value(c, mean, scale, shift);
    m = vc > m ? vc : m;
    const float vd = lf__cpu_bn_relu_value(d, mean, scale, shift);
    return vd > m ? vd : m;
}

/* Outputs j0..j0+3 of a row of 2×2 windows over relu(bn(rows r0, r1)). */
static inline void quad_bn_relu_max2(float *y, const float *r0, const float *r1, int64_t j0,
                                     float mean, float scale, float shift)
{
#pragma omp simd
    for (int64_t j = j0; j < j0 + 4; j++)
        y[j] = bn_relu_max4(r0[2 * j], r0[2 * j + 1], r1[2 * j], r1[2 * j + 1], mean, scale, shift);
}

/* One plane: 2×2 windows four outputs at a time as row_max2 does, any other window (or rows
 * under four outputs) one by one. */
static void plane_bn_relu_max(float *y, const float *x, int64_t h, int64_t w, int64_t k,
                              float mean, float scale, float shift)
{
    const int64_t ho = h / k, wo = w / k;
    if (k == 2 && wo >= 4) {
        for (int64_t oh = 0; oh < ho; oh++) {
            const float *r0 = x + 2 * oh * w;
            float *yo = y + oh * wo;
            int64_t j = 0;
            for (; j + 4 <= wo; j += 4)
                quad_bn_relu_max2(yo, r0, r0 + w, j, mean, scale, shift);
            if (j < wo)
                quad_bn_relu_max2(yo, r0, r0 + w, wo - 4, mean, scale, shift);
        }
        return;
    }
    for (int64_t oh = 0; oh < ho; oh++)
        for (int64_t ow = 0; ow < wo; ow++) {
            const float *win = x + oh * k * w + ow * k;
            float m = lf__cpu_bn_relu_value(win[0], mean, scale, shift);
            for (int64_t i = 0; i < k; i++)
                for (int64_t j = 0; j < k; j++) {
                    const float v = lf__cpu_bn_relu_value(win[i * w + j], mean, scale, shift);
                    m = v > m ? v : m;
                }
            y[oh * wo + ow] = m;
        }
}

/* The convnet's inference between a convolution and the next: reads the convolution's output
 * once and writes only the pooled planes, where the separate ops write and read two full-size
 * tensors (and the indices) in between. */
lf_status lf__cpu_batchnorm_relu_maxpool_fwd_eval(void *priv, float *y, const float *x,
                                                  const float *gamma, const float *beta,
                                                  const float *running_mean,
                                                  const float *running_var, int64_t n, int64_t c,
                                                  int64_t h, int64_t w, int64_t k, float eps)
{
    if (n < 1 || c < 1 || !y || !x || !gamma || !beta || !running_mean || !running_var ||
        lf__ref_maxpool2d_check("batchnorm_relu_maxpool_fwd_eval", n, c, h, w, k) != LF_OK)
        return lf__ref_batchnorm_relu_maxpool_fwd_eval(priv, y, x, gamma, beta, running_mean,
                                                       running_var, n, c, h, w, k, eps);
    const int64_t planes = n * c, out = (h / k) * (w / k);
    const int t = lf__cpu_threads_for(priv, planes * h * w);
#pragma omp parallel for num_threads(t) if (t > 1) schedule(static)
    for (int64_t p = 0; p < planes; p++) {
        const int64_t ch = p % c;
        plane_bn_relu_max(y + p * out, x + p * h * w, h, w, k, running_mean[ch],
                          lf__cpu_bn_eval_scale(gamma[ch], running_var[ch], eps), beta[ch]);
    }
    return LF_OK;
}

lf_status lf__cpu_maxpool2d_bwd(void *priv, float *dx, const float *dy, const int32_t *idx,
                                int64_t n, int64_t c, int64_t h, int64_t w, int64_t k)
{
    if (n < 1 || c < 1 || !dx || !dy || !idx ||
        lf__ref_maxpool2d_check("maxpool2d_bwd", n, c, h, w, k) != LF_OK)
        return lf__ref_maxpool2d_bwd(priv, dx, dy, idx, n, c, h, w, k);
    const int64_t planes = n * c, hw = h * w, out = (h / k) * (w / k);
    const int t = lf__cpu_threads_for(priv, planes * hw);
    int64_t bad = -1;   /* the last output whose index is outside its plane */
#pragma omp parallel for num_threads(t) if (t > 1) schedule(static) reduction(max : bad)
    for (int64_t p = 0; p < planes; p++) {
        /* a plane at a time: zeroed, then scattered into while it is in cache */
        float *plane = dx + p * hw;
        for (int64_t at = 0; at < hw; at++)
            plane[at] = 0.0f;
        for (int64_t o = p * out; o < (p + 1) * out; o++) {
            if (idx[o] < 0 || idx[o] >= hw)
                bad = o;
            else
                plane[idx[o]] += dy[o];   /* windows do not overlap: one writer per element */
        }
    }
    if (bad >= 0)
        return lf__error(LF_E_INVALID_ARG, "maxpool2d_bwd: index %d at %lld is outside the "
                         "%lldx%lld plane", (int)idx[bad], (long long)bad, (long long)h,
                         (long long)w);
    return LF_OK;
}
