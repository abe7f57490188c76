/* 2-D convolution through oneDNN: forward, backward data, backward weights. The caller's
 * tensors are plain NCHW / OIHW; the primitives get oneDNN's preferred (blocked) layouts, with
 * reorders as steps of the plan, except where that layout would pad channels up to the SIMD
 * block (c_in = 1 becomes 16 channels of work): those use the plain layouts (im2col + GEMM).
 * Measured on the convnet's shapes (bench/bench_ops.c), blocked direct convolutions with the
 * reorders beat plain ones, and padded ones lose several times. The backward passes of 3×3
 * stride-1 convolutions, and their inference forwards, use Winograd where oneDNN has it
 * (conv_pd_best says why not training forwards).
 * Backward weights overwrites its output in oneDNN, so it writes a scratch buffer that a
 * reorder with a sum post-op adds into the caller's dw (and dbias). */
#include "core/internal.h"
#include "backends/reference/ref_kernels.h"
#include "backends/cpu/cpu_dnnl.h"
#include "backends/cpu/cpu_ops.h"

typedef struct conv_mds {
    dnnl_memory_desc_t x, w, b, y;
} conv_mds;

static lf_status conv_mds_init(conv_mds *m, const lf__conv2d_shape *s, dnnl_format_tag_t act,
                               dnnl_format_tag_t wei)
{
    const int64_t x[] = { s->n, s->c_in, s->h_in, s->w_in };
    const int64_t w[] = { s->c_out, s->c_in, s->kh, s->kw };
    const int64_t y[] = { s->n, s->c_out, s->h_out, s->w_out };
    LF__TRY(lf__dnnl_md(&m->x, 4, x, act));
    LF__TRY(lf__dnnl_md(&m->w, 4, w, wei));
    LF__TRY(lf__dnnl_md(&m->b, 1, &s->c_out, dnnl_x));
    return lf__dnnl_md(&m->y, 4, y, act);
}

enum { FWD, BWD_DATA, BWD_WEIGHTS };

/* The primitive descriptor of op for s with tensors described by m; a backward op also gets
 * *hint, the forward pd it was created from (the caller destroys both). */
static lf_status conv_pd(lf__cpu_dnnl *d, int op, const lf__conv2d_shape *s, int bias,
                         const conv_mds *m, dnnl_alg_kind_t alg, dnnl_primitive_desc_t *pd,
                         dnnl_primitive_desc_t *hint)
{
    const dnnl_dims_t strides = { s->stride, s->stride }, pad = { s->pad, s->pad };
    const dnnl_memory_desc_t *b = bias ? &m->b : NULL;
    dnnl_convolution_desc_t fwd, bwd;
    /* inference forwards too: with dnnl_forward_inference oneDNN 2.6 chose kernels that made
     * resnet18 inference 1.7× slower (bench_train --mode infer: 313-349 against 601 images/s) */
    LF__DNNL_TRY(dnnl_convolution_forward_desc_init(&fwd, dnnl_forward_training, alg, &m->x,
                                                    &m->w, b, &m->y, strides, pad, pad));
    if (op == FWD)
        return lf__dnnl_pd(d, pd, &fwd, NULL);
    if (op == BWD_DATA)
        LF__DNNL_TRY(dnnl_convolution_backward_data_desc_init(&bwd, alg, &m->x, &m->w, &m->y,
                                                              strides, pad, pad));
    else
        LF__DNNL_TRY(dnnl_convolution_backward_weights_desc_init(&bwd, alg, &m->x, &m->w, b,
                                                                 &m->y, strides, pad, pad));
    LF__TRY(lf__dnnl_pd(d, hint, &fwd, NULL));
    return lf__dnnl_pd(d, pd, &bwd, *hint);
}

/* 1 when pd pads a tensor (its channels up to the block size). */
static int pd_pads(const_dnnl_primitive_desc_t pd)
{
    static const int args[] = { DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST, DNNL_ARG_DIFF_SRC,
                                DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_DST };
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
        const dnnl_memory_desc_t *md = lf__dnnl_pd_md(pd, args[i]);
        for (int k = 0; md && k < md->ndims; k++)
            if (md->padded_dims[k] != md->dims[k])
                return 1;
    }
    return 0;
}

/* conv_pd with alg and oneDNN's choice of layouts, if it has an implementation that does not
 * pad; *pd, *hint NULL otherwise. */
static void conv_pd_any(lf__cpu_dnnl *d, int op, const lf__conv2d_shape *s, int bias,
                        const conv_mds *any, dnnl_alg_kind_t alg, dnnl_primitive_desc_t *pd,
                        dnnl_primitive_desc_t *hint)
{
    if (conv_pd(d, op, s, bias, any, alg, pd, hint) == LF_OK && !pd_pads(*pd))
        return;
    lf__error_clear();
    dnnl_primitive_desc_destroy(*pd);
    dnnl_primitive_desc_destroy(*hint);
    *pd = *hint = NULL;
}

/* The backward passes of 3×3 stride-1 convolutions try Winograd first: it took 30-40 % less
 * time than the direct kernels on the convnet's conv2 (bench/bench_ops.c). So do inference
 * forwards (s->inference: resnet18 inference 1.5× faster, bench/RESULTS.md). Training forwards
 * stay direct: Winograd's rounding (~1e-5 relative per layer) compounds through a deep forward
 * (resnet18's features moved by 3e-4), beyond what the training step's agreement with the
 * reference allows, while a gradient's error does not feed the next layer's input. Then the
 * direct algorithm with oneDNN's layouts, or with the plain ones where those pad. */
static lf_status conv_pd_best(lf__cpu_dnnl *d, int op, const lf__conv2d_shape *s, int bias,
                              const conv_mds *user, dnnl_primitive_desc_t *pd,
                              dnnl_primitive_desc_t *hint)
{
    conv_mds any;
    LF__TRY(conv_mds_init(&any, s, dnnl_format_tag_any, dnnl_format_tag_any));
    *pd = *hint = NULL;
    if ((op != FWD || s->inference) && s->kh == 3 && s->kw == 3 && s->stride == 1)
        conv_pd_any(d, op, s, bias, &any, dnnl_convolution_winograd, pd, hint);
    if (!*pd)
        conv_pd_any(d, op, s, bias, &any, dnnl_convolution_direct, pd, hint);
    if (*pd)
        return LF_OK;
    return conv_pd(d, op, s, bias, user, dnnl_convolution_direct, pd, hint);
}

typedef struct conv_arg {
    const lf__conv2d_shape *s;
    int                     bias;   /* bias (forward) or dbias (backward weights) given */
} conv_arg;

/* op is a plan tag (LF__DNNL_OP_CONV_*). The inference flag is part of a forward's key: an
 * inference plan (Winograd where it exists) and a training one (direct) of the same shape are
 * different plans, whichever is built first. */
static void conv_key(int64_t key[LF__DNNL_KEY_LEN], int64_t op, const lf__conv2d_shape *s, int bias)
{
    const int64_t k[LF__DNNL_KEY_LEN] = { op, s->n, s->c_in, s->h_in, s->w_in, s->c_out, s->kh,
                                          s->kw, s->stride, s->pad, bias,
                                          op == LF__DNNL_OP_CONV_FWD && s->inference };
    for (int i = 0; i < LF__DNNL_KEY_LEN; i++)
        key[i] = k[i];
}

/* ---- forward: user memories y, x, w[, bias] ---- */

static lf_status fwd_steps(lf__cpu_dnnl *d, lf__dnnl_plan *p, const_dnnl_primitive_desc_t pd,
                           const conv_mds *user, int bias)
{
    dnnl_memory_t y, x, w, b = NULL, xi, wi, bi = NULL, yi;
    LF__TRY(lf__dnnl_user(d, p, &user->y, &y));
    LF__TRY(lf__dnnl_user(d, p, &user->x, &x));
    LF__TRY(lf__dnnl_user(d, p, &user->w, &w));
    LF__TRY(lf__dnnl_input(d, p, x, lf__dnnl_pd_md(pd, DNNL_ARG_SRC), &xi));
    LF__TRY(lf__dnnl_input(d, p, w, lf__dnnl_pd_md(pd, DNNL_ARG_WEIGHTS), &wi));
    if (bias) {
        LF__TRY(lf__dnnl_user(d, p, &user->b, &b));
        LF__TRY(lf__dnnl_input(d, p, b, lf__dnnl_pd_md(pd, DNNL_ARG_BIAS), &bi));
    }
    LF__TRY(lf__dnnl_output(d, p, y, lf__dnnl_pd_md(pd, DNNL_ARG_DST), &yi));
    const dnnl_exec_arg_t args[] = { { DNNL_ARG_SRC, xi }, { DNNL_ARG_WEIGHTS, wi },
                                     { DNNL_ARG_DST, yi }, { DNNL_ARG_BIAS, bi } };
    LF__TRY(lf__dnnl_step_add(d, p, pd, bias ? 4 : 3, args));
    return lf__dnnl_reorder(d, p, yi, y, 0);
}

static lf_status build_fwd(lf__cpu_dnnl *d, lf__dnnl_plan *p, const void *arg)
{
    const conv_arg *a = arg;
    conv_mds user;
    LF__TRY(conv_mds_init(&user, a->s, dnnl_nchw, dnnl_oihw));
    dnnl_primitive_desc_t pd = NULL, hint = NULL;
    lf_status st = conv_pd_best(d, FWD, a->s, a->bias, &user, &pd, &hint);
    if (st == LF_OK)
        st = fwd_steps(d, p, pd, &user, a->bias);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

lf_status lf__cpu_conv2d_fwd(void *priv, float *y, const float *x, const float *w,
                             const float *bias, const lf__conv2d_shape *s)
{
    if (!s || s->n < 1 || !y || !x || !w || lf__ref_conv2d_check("conv2d_fwd", s) != LF_OK)
        return lf__ref_conv2d_fwd(priv, y, x, w, bias, s);
    int64_t key[LF__DNNL_KEY_LEN];
    conv_key(key, LF__DNNL_OP_CONV_FWD, s, bias != NULL);
    const conv_arg a = { s, bias != NULL };
    lf__dnnl_plan *p = NULL;
    LF__TRY(lf__cpu_dnnl_plan(priv, key, build_fwd, &a, "conv2d_fwd", &p));
    void *const ptrs[] = { y, (void *)x, (void *)w, (void *)bias };
    return lf__cpu_dnnl_run(priv, p, ptrs, "conv2d_fwd");
}

/* ---- backward data: user memories dx, dy, w ---- */

static lf_status bwd_data_steps(lf__cpu_dnnl *d, lf__dnnl_plan *p, const_dnnl_primitive_desc_t pd,
                                const conv_mds *user)
{
    dnnl_memory_t dx, dy, w, dxi, dyi, wi;
    LF__TRY(lf__dnnl_user(d, p, &user->x, &dx));
    LF__TRY(lf__dnnl_user(d, p, &user->y, &dy));
    LF__TRY(lf__dnnl_user(d, p, &user->w, &w));
    LF__TRY(lf__dnnl_input(d, p, dy, lf__dnnl_pd_md(pd, DNNL_ARG_DIFF_DST), &dyi));
    LF__TRY(lf__dnnl_input(d, p, w, lf__dnnl_pd_md(pd, DNNL_ARG_WEIGHTS), &wi));
    LF__TRY(lf__dnnl_output(d, p, dx, lf__dnnl_pd_md(pd, DNNL_ARG_DIFF_SRC), &dxi));
    const dnnl_exec_arg_t args[] = { { DNNL_ARG_DIFF_DST, dyi }, { DNNL_ARG_WEIGHTS, wi },
                                     { DNNL_ARG_DIFF_SRC, dxi } };
    LF__TRY(lf__dnnl_step_add(d, p, pd, 3, args));
    return lf__dnnl_reorder(d, p, dxi, dx, 0);
}

static lf_status build_bwd_data(lf__cpu_dnnl *d, lf__dnnl_plan *p, const void *arg)
{
    const conv_arg *a = arg;
    conv_mds user;
    LF__TRY(conv_mds_init(&user, a->s, dnnl_nchw, dnnl_oihw));
    dnnl_primitive_desc_t pd = NULL, hint = NULL;
    lf_status st = conv_pd_best(d, BWD_DATA, a->s, 0, &user, &pd, &hint);
    if (st == LF_OK)
        st = bwd_data_steps(d, p, pd, &user);
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_desc_destroy(hint);
    return st;
}

lf_status lf__cpu_conv2d_bwd_data(void *priv, float *dx, const float *dy, const float *w,
                                  const lf__conv2d_shape *s)
{
    if (!s || s->n < 1 || !dx || !dy || !w || lf__ref_conv2d_check("conv2d_bwd_data", s) != LF_OK)
        return lf__ref_conv2d_bwd_data(priv, dx, dy, w, s);
    int64_t key[LF__DNNL_KEY_LEN];
    conv_key(key, LF__DNNL_OP_CONV_BWD_DATA, s, 0);
    const conv_arg a = { s, 0 };
    lf__dnnl_plan *p = NULL;
    LF__TRY(lf__cpu_dnnl_plan(priv, key, build_bwd_data, &a, "conv2d_bwd_data", &p));
    void *const ptrs[] = { dx, (void *)dy, (void *)w };
    return lf__cpu_dnnl_run(priv, p, ptrs, "conv2d_bwd_data");
}

/* ---- backward weights: user memories dw, dy, x[, dbias] ---- */

static lf_status bwd_weights_steps(lf__cpu_dnnl *d, lf__dnnl_plan *p,
                                   const_dnnl_primitive_desc_t pd, const conv_mds *user, int bias)
{
    dnnl_memory_t dw, dy, x, db = NULL, dwi, dyi, xi, dbi = NULL;
    LF__TRY(lf__dnnl_user(d, p, &user->w, &dw));
    LF__TRY(lf__dnnl_user(d, p, &user->y, &dy));
    LF__TRY(lf__dnnl_user(d, p, &user->x, &x));
    LF__TRY(lf__dnnl_input(d, p, dy, lf__dnnl_pd_md(pd, DNNL_ARG_DIFF_DST), &dyi));
    LF__TRY(lf__dnnl_input(d, p, x, lf__dnnl_pd_md(pd, DNNL_ARG_SRC), &xi));
    LF__TRY(lf__dnnl_scratch(d, p, lf__dnnl_pd_md(pd, DNNL_ARG_DIFF_WEIGHTS), &dwi));
    if (bias) {
        LF__TRY(lf__dnnl_user(d, p, &user->b, &db));
        LF__TRY(lf__dnnl_scratch(d, p, lf__dnnl_pd_md(pd, DNNL_ARG_DIFF_BIAS), &dbi));
    }
    const dnnl_exec_arg_t args[] = { { DNNL_ARG_DIFF_DST, dyi }, { DNNL_ARG_SRC, xi },
                                     { DNNL_ARG_DIFF_WEIGHTS, dwi }, { DNNL_ARG_DIFF_BIAS, dbi } };
    LF__TRY(lf__dnnl_step_add(d, p, pd, bias ? 4 : 3, args));
    LF__TRY(lf__dnnl_reorder(d, p, dwi, dw, 1));
    return bias ? lf__dnnl_reorder(d, p, dbi, db, 1) : LF_OK;
}

static lf_status build_bwd_weights(lf__cpu_dnnl *d, lf__dnnl_plan *p, const void *arg)
{
    const conv_arg *a = arg;
    conv_mds user;
    LF__TRY(conv_mds_init(&user, a->s, dnnl_nchw, dnnl_oihw));
    dnnl_primitive_desc_t pd = NULL, hint = NULL;
    lf_status st = conv_pd_best(d, BWD_WEIGHTS, a->s, a->bias, &user, &pd, &hint);
    if (st == LF_OK)
        st = bwd_weights_steps(d, p, pd, &user, a->bias);
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_desc_destroy(hint);
    return st;
}

lf_status lf__cpu_conv2d_bwd_weights(void *priv, float *dw, float *dbias, const float *dy,
                                     const float *x, const lf__conv2d_shape *s)
{
    if (!s || s->n < 1 || !dw || !dy || !x || lf__ref_conv2d_check("conv2d_bwd_weights", s) != LF_OK)
        return lf__ref_conv2d_bwd_weights(priv, dw, dbias, dy, x, s);
    int64_t key[LF__DNNL_KEY_LEN];
    conv_key(key, LF__DNNL_OP_CONV_BWD_WEIGHTS, s, dbias != NULL);
    const conv_arg a = { s, dbias != NULL };
    lf__dnnl_plan *p = NULL;
    LF__TRY(lf__cpu_dnnl_plan(priv, key, build_bwd_weights, &a, "conv2d_bwd_weights", &p));
    void *const ptrs[] = { dw, (void *)dy, (void *)x, dbias };
    return lf__cpu_dnnl_run(priv, p, ptrs, "conv2d_bwd_weights");
}
