/* Reference 2-D convolution (NCHW, weights c_out×c_in×kh×kw as PyTorch), forward and both
 * backward passes as direct loops with double accumulators. Each output is one gathered sum,
 * so the code reads like the definition; the oracle is not meant to be fast. */
#include <stdint.h>

#include "core/internal.h"
#include "backends/reference/ref_kernels.h"
#include "backends/reference/ref_args.h"

/* Flat offsets of the four NCHW / OIHW tensors. */
static inline int64_t x_at(const lf__conv2d_shape *s, int64_t n, int64_t c, int64_t h, int64_t w)
{
    return ((n * s->c_in + c) * s->h_in + h) * s->w_in + w;
}
static inline int64_t y_at(const lf__conv2d_shape *s, int64_t n, int64_t c, int64_t h, int64_t w)
{
    return ((n * s->c_out + c) * s->h_out + h) * s->w_out + w;
}
static inline int64_t w_at(const lf__conv2d_shape *s, int64_t o, int64_t i, int64_t h, int64_t w)
{
    return ((o * s->c_in + i) * s->kh + h) * s->kw + w;
}

lf_status lf__ref_conv2d_fwd(void *priv, float *y, const float *x, const float *w,
                             const float *bias, const lf__conv2d_shape *s)
{
    (void)priv;
    LF__TRY(lf__ref_conv2d_fwd_args(y, x, w, s));
    for (int64_t n = 0; n < s->n; n++)
        for (int64_t co = 0; co < s->c_out; co++)
            for (int64_t oh = 0; oh < s->h_out; oh++)
                for (int64_t ow = 0; ow < s->w_out; ow++) {
                    double acc = bias ? bias[co] : 0.0;
                    for (int64_t ci = 0; ci < s->c_in; ci++)
                        for (int64_t i = 0; i < s->kh; i++) {
                            int64_t ih = oh * s->stride - s->pad + i;
                            if (ih < 0 || ih >= s->h_in)
                                continue;
                            for (int64_t j = 0; j < s->kw; j++) {
                                int64_t iw = ow * s->stride - s->pad + j;
                                if (iw < 0 || iw >= s->w_in)
                                    continue;
                                acc += (double)x[x_at(s, n, ci, ih, iw)] *
                                       w[w_at(s, co, ci, i, j)];
                            }
                        }
                    y[y_at(s, n, co, oh, ow)] = (float)acc;
                }
    return LF_OK;
}

/* dx[n][ci][ih][iw] = Σ dy[n][co][oh][ow]·w[co][ci][i][j] over the (oh, ow, i, j) with
 * oh·stride − pad + i = ih and ow·stride − pad + j = iw. */
lf_status lf__ref_conv2d_bwd_data(void *priv, float *dx, const float *dy, const float *w,
                                  const lf__conv2d_shape *s)
{
    (void)priv;
    LF__TRY(lf__ref_conv2d_bwd_data_args(dx, dy, w, s));
    for (int64_t n = 0; n < s->n; n++)
        for (int64_t ci = 0; ci < s->c_in; ci++)
            for (int64_t ih = 0; ih < s->h_in; ih++)
                for (int64_t iw = 0; iw < s->w_in; iw++) {
                    double acc = 0.0;
                    for (int64_t i = 0; i < s->kh; i++) {
                        int64_t t = ih + s->pad - i;   /* = oh·stride */
                        if (t < 0 || t % s->stride || t / s->stride >= s->h_out)
                            continue;
                        int64_t oh = t / s->stride;
                        for (int64_t j = 0; j < s->kw; j++) {
                            int64_t u = iw + s->pad - j;
                            if (u < 0 || u % s->stride || u / s->stride >= s->w_out)
                                continue;
                            int64_t ow = u / s->stride;
                            for (int64_t co = 0; co < s->c_out; co++)
                                acc += (double)dy[y_at(s, n, co, oh, ow)] *
                                       w[w_at(s, co, ci, i, j)];
                        }
                    }
                    dx[x_at(s, n, ci, ih, iw)] = (float)acc;
                }
    return LF_OK;
}

lf_status lf__ref_conv2d_bwd_weights(void *priv, float *dw, float *dbias, const float *dy,
                                     const float *x, const lf__conv2d_shape *s)
{
    (void)priv;
    LF__TRY(lf__ref_conv2d_bwd_weights_args(dw, dy, x, s));
    for (int64_t co = 0; co < s->c_out; co++) {
        for (int64_t ci = 0; ci < s->c_in; ci++)
            for (int64_t i = 0; i < s->kh; i++)
                for (int64_t j = 0; j < s->kw; j++) {
                    double acc = 0.0;
                    for (int64_t n = 0; n < s->n; n++)
                        for (int64_t oh = 0; oh < s->h_out; oh++) {
                            int64_t ih = oh * s->stride - s->pad + i;
                            if (ih < 0 || ih >= s->h_in)
                                continue;
                            for (int64_t ow = 0; ow < s->w_out; ow++) {
                                int64_t iw = ow * s->stride - s->pad + j;
                                if (iw < 0 || iw >= s->w_in)
                                    continue;
                                acc += (double)dy[y_at(s, n, co, oh, ow)] *
                                       x[x_at(s, n, ci, ih, iw)];
                            }
                        }
                    dw[w_at(s, co, ci, i, j)] += (float)acc;
                }
        if (dbias) {
            double acc = 0.0;
            for (int64_t n = 0; n < s->n; n++)
                for (int64_t k = 0; k < s->h_out * s->w_out; k++)
                    acc += dy[y_at(s, n, co, 0, 0) + k];
            dbias[co] += (float)acc;
        }
    }
    return LF_OK;
}
