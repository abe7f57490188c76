/* Batch normalisation through oneDNN, x of n×c×s seen as n×c×s×1 NCHW. When c is a multiple
 * of 8 the primitive runs on channels blocked by 8 (nChw8c, reorders in and out as plan
 * steps): oneDNN's JIT kernels for it (AVX2 and up) took half the time of its plain-layout
 * kernel, reorders included, on the convnet's shapes (bench/bench_ops.c); 16-channel blocks
 * were no faster and need AVX-512.
 * oneDNN keeps the biased variance where the interface keeps invstd = 1/sqrt(var + eps), and
 * it neither updates running statistics nor accumulates dgamma/dbeta, so the conversions and
 * the running update (c values) are done here and the parameter gradients are added in by
 * reorder sum steps. */
#include <math.h>

#include "core/internal.h"
#include "backends/reference/ref_kernels.h"
#include "backends/cpu/cpu_dnnl.h"
#include "backends/cpu/cpu_ops.h"

typedef struct bn_arg {
    int64_t n, c, s;
    float   eps;
} bn_arg;

typedef struct bn_mds {
    dnnl_memory_desc_t data;   /* the caller's n×c×s×1 NCHW */
    dnnl_memory_desc_t prim;   /* the primitive's: channels blocked by 8 when c allows */
    dnnl_memory_desc_t chan;   /* one value per channel */
} bn_mds;

static lf_status bn_mds_init(bn_mds *m, const bn_arg *a)
{
    const int64_t dims[] = { a->n, a->c, a->s, 1 };
    LF__TRY(lf__dnnl_md(&m->data, 4, dims, dnnl_nchw));
    LF__TRY(lf__dnnl_md(&m->prim, 4, dims, a->c % 8 == 0 ? dnnl_aBcd8b : dnnl_nchw));
    return lf__dnnl_md(&m->chan, 1, &a->c, dnnl_x);
}

static lf_status bn_fwd_pd(lf__cpu_dnnl *d, dnnl_primitive_desc_t *pd, const bn_mds *m,
                           dnnl_prop_kind_t prop, float eps, unsigned flags)
{
    dnnl_batch_normalization_desc_t bd;
    LF__DNNL_TRY(dnnl_batch_normalization_forward_desc_init(&bd, prop, &m->prim, eps,
                                                            flags | dnnl_use_scale | dnnl_use_shift));
    return lf__dnnl_pd(d, pd, &bd, NULL);
}

static void bn_key(int64_t key[LF__DNNL_KEY_LEN], int64_t op, const bn_arg *a)
{
    union { float f; uint32_t u; } eps = { a->eps };   /* eps is baked into the primitive */
    const int64_t k[LF__DNNL_KEY_LEN] = { op, a->n, a->c, a->s, eps.u };
    for (int i = 0; i < LF__DNNL_KEY_LEN; i++)
        key[i] = k[i];
}

enum { CHAN, DATA_IN, DATA_OUT };   /* the kinds of a bn_step argument */

/* Adds user memories for the caller's pointers, in order, and one step running pd with them
 * as the execution arguments args[i]; data tensors are reordered in and out of the
 * primitive's layout around it. */
static lf_status bn_step(lf__cpu_dnnl *d, lf__dnnl_plan *p, const_dnnl_primitive_desc_t pd,
                         const bn_mds *m, int n_args, const int *args, const int *kind)
{
    dnnl_exec_arg_t ea[LF__DNNL_MAX_ARGS];
    dnnl_memory_t user[LF__DNNL_MAX_ARGS];
    for (int i = 0; i < n_args; i++) {
        ea[i].arg = args[i];
        LF__TRY(lf__dnnl_user(d, p, kind[i] == CHAN ? &m->chan : &m->data, &user[i]));
        if (kind[i] == CHAN)
            ea[i].memory = user[i];
        else if (kind[i] == DATA_IN)
            LF__TRY(lf__dnnl_input(d, p, user[i], &m->prim, &ea[i].memory));
        else
            LF__TRY(lf__dnnl_output(d, p, user[i], &m->prim, &ea[i].memory));
    }
    LF__TRY(lf__dnnl_step_add(d, p, pd, n_args, ea));
    for (int i = 0; i < n_args; i++)
        if (kind[i] == DATA_OUT)
            LF__TRY(lf__dnnl_reorder(d, p, ea[i].memory, user[i], 0));
    return LF_OK;
}

/* ---- training forward: mean into save_mean, the biased variance into save_invstd ---- */

static lf_status build_fwd_train(lf__cpu_dnnl *d, lf__dnnl_plan *p, const void *arg)
{
    const bn_arg *a = arg;
    bn_mds m;
    LF__TRY(bn_mds_init(&m, a));
    dnnl_primitive_desc_t pd = NULL;
    LF__TRY(bn_fwd_pd(d, &pd, &m, dnnl_forward_training, a->eps, 0));
    static const int args[] = { DNNL_ARG_DST, DNNL_ARG_SRC, DNNL_ARG_MEAN, DNNL_ARG_VARIANCE,
                                DNNL_ARG_SCALE, DNNL_ARG_SHIFT };
    static const int kind[] = { DATA_OUT, DATA_IN, CHAN, CHAN, CHAN, CHAN };
    lf_status st = bn_step(d, p, pd, &m, 6, args, kind);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

lf_status lf__cpu_batchnorm_fwd_train(void *priv, float *y, float *save_mean, float *save_invstd,
                                      float *running_mean, float *running_var, const float *x,
                                      const float *gamma, const float *beta, int64_t n, int64_t c,
                                      int64_t s, float momentum, float eps)
{
    if (n < 1 || c < 1 || s < 1 || !y || !save_mean || !save_invstd || !x || !gamma || !beta ||
        lf__ref_batchnorm_check("batchnorm_fwd_train", n, c, s) != LF_OK || n * s < 2)
        return lf__ref_batchnorm_fwd_train(priv, y, save_mean, save_invstd, running_mean,
                                           running_var, x, gamma, beta, n, c, s, momentum, eps);
    const bn_arg a = { n, c, s, eps };
    int64_t key[LF__DNNL_KEY_LEN];
    bn_key(key, LF__DNNL_OP_BN_FWD_TRAIN, &a);
    lf__dnnl_plan *p = NULL;
    LF__TRY(lf__cpu_dnnl_plan(priv, key, build_fwd_train, &a, "batchnorm_fwd_train", &p));
    void *const ptrs[] = { y, (void *)x, save_mean, save_invstd, (void *)gamma, (void *)beta };
    LF__TRY(lf__cpu_dnnl_run(priv, p, ptrs, "batchnorm_fwd_train"));
    const double count = (double)(n * s);
    for (int64_t ch = 0; ch < c; ch++) {
        const double mean = save_mean[ch], var = save_invstd[ch];
        save_invstd[ch] = (float)(1.0 / sqrt(var + eps));
        if (running_mean)
            running_mean[ch] = (float)((1.0 - momentum) * running_mean[ch] + momentum * mean);
        if (running_var)
            running_var[ch] = (float)((1.0 - momentum) * running_var[ch] +
                                      momentum * var * count / (count - 1.0));
    }
    return LF_OK;
}

/* ---- evaluation forward: the running statistics ---- */

static lf_status build_fwd_eval(lf__cpu_dnnl *d, lf__dnnl_plan *p, const void *arg)
{
    const bn_arg *a = arg;
    bn_mds m;
    LF__TRY(bn_mds_init(&m, a));
    dnnl_primitive_desc_t pd = NULL;
    LF__TRY(bn_fwd_pd(d, &pd, &m, dnnl_forward_inference, a->eps, dnnl_use_global_stats));
    static const int args[] = { DNNL_ARG_DST, DNNL_ARG_SRC, DNNL_ARG_MEAN, DNNL_ARG_VARIANCE,
                                DNNL_ARG_SCALE, DNNL_ARG_SHIFT };
    static const int kind[] = { DATA_OUT, DATA_IN, CHAN, CHAN, CHAN, CHAN };
    lf_status st = bn_step(d, p, pd, &m, 6, args, kind);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

lf_status lf__cpu_batchnorm_fwd_eval(void *priv, float *y, const float *x, const float *gamma,
                                     const float *beta, const float *running_mean,
                                     const float *running_var, int64_t n, int64_t c, int64_t s,
                                     float eps)
{
    if (n < 1 || c < 1 || s < 1 || !y || !x || !gamma || !beta || !running_mean || !running_var ||
        lf__ref_batchnorm_check("batchnorm_fwd_eval", n, c, s) != LF_OK)
        return lf__ref_batchnorm_fwd_eval(priv, y, x, gamma, beta, running_mean, running_var, n,
                                          c, s, eps);
    const bn_arg a = { n, c, s, eps };
    int64_t key[LF__DNNL_KEY_LEN];
    bn_key(key, LF__DNNL_OP_BN_FWD_EVAL, &a);
    lf__dnnl_plan *p = NULL;
    LF__TRY(lf__cpu_dnnl_plan(priv, key, build_fwd_eval, &a, "batchnorm_fwd_eval", &p));
    void *const ptrs[] = { y, (void *)x, (void *)running_mean, (void *)running_var,
                           (void *)gamma, (void *)beta };
    return lf__cpu_dnnl_run(priv, p, ptrs, "batchnorm_fwd_eval");
}

/* ---- backward: owned[0] holds var = 1/invstd² (the primitive runs with eps = 0, so it
 * recovers invstd); oneDNN overwrites dgamma, dbeta in scratch buffers added into the
 * caller's ---- */

static lf_status bwd_steps(lf__cpu_dnnl *d, lf__dnnl_plan *p, const_dnnl_primitive_desc_t pd,
                           const bn_mds *m)
{
    dnnl_memory_t dx, dy, x, gamma, mean, dgamma, dbeta, var, dxi, dyi, xi, dgi, dbi;
    LF__TRY(lf__dnnl_user(d, p, &m->data, &dx));
    LF__TRY(lf__dnnl_user(d, p, &m->data, &dy));
    LF__TRY(lf__dnnl_user(d, p, &m->data, &x));
    LF__TRY(lf__dnnl_user(d, p, &m->chan, &gamma));
    LF__TRY(lf__dnnl_user(d, p, &m->chan, &mean));
    LF__TRY(lf__dnnl_user(d, p, &m->chan, &dgamma));
    LF__TRY(lf__dnnl_user(d, p, &m->chan, &dbeta));
    LF__TRY(lf__dnnl_owned(d, p, &m->chan, &var));
    LF__TRY(lf__dnnl_input(d, p, dy, &m->prim, &dyi));
    LF__TRY(lf__dnnl_input(d, p, x, &m->prim, &xi));
    LF__TRY(lf__dnnl_output(d, p, dx, &m->prim, &dxi));
    LF__TRY(lf__dnnl_scratch(d, p, &m->chan, &dgi));
    LF__TRY(lf__dnnl_scratch(d, p, &m->chan, &dbi));
    /* oneDNN 2.6 wants SHIFT whenever use_shift is set, though backward does not read it */
    const dnnl_exec_arg_t args[] = { { DNNL_ARG_SRC, xi },         { DNNL_ARG_DIFF_DST, dyi },
                                     { DNNL_ARG_MEAN, mean },      { DNNL_ARG_VARIANCE, var },
                                     { DNNL_ARG_SCALE, gamma },    { DNNL_ARG_DIFF_SRC, dxi },
                                     { DNNL_ARG_DIFF_SCALE, dgi }, { DNNL_ARG_DIFF_SHIFT, dbi },
                                     { DNNL_ARG_SHIFT, gamma } };
    LF__TRY(lf__dnnl_step_add(d, p, pd, 9, args));
    LF__TRY(lf__dnnl_reorder(d, p, dxi, dx, 0));
    LF__TRY(lf__dnnl_reorder(d, p, dgi, dgamma, 1));
    return lf__dnnl_reorder(d, p, dbi, dbeta, 1);
}

static lf_status build_bwd(lf__cpu_dnnl *d, lf__dnnl_plan *p, const void *arg)
{
    const bn_arg *a = arg;
    bn_mds m;
    LF__TRY(bn_mds_init(&m, a));
    const unsigned flags = dnnl_use_scale | dnnl_use_shift;
    dnnl_batch_normalization_desc_t bd;
    LF__DNNL_TRY(dnnl_batch_normalization_backward_desc_init(&bd, dnnl_backward, &m.prim, &m.prim,
                                                             0.0f, flags));
    dnnl_primitive_desc_t hint = NULL, pd = NULL;
    LF__TRY(bn_fwd_pd(d, &hint, &m, dnnl_forward_training, 0.0f, 0));
    lf_status st = lf__dnnl_pd(d, &pd, &bd, hint);
    if (st == LF_OK)
        st = bwd_steps(d, p, pd, &m);
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_desc_destroy(hint);
    return st;
}

lf_status lf__cpu_batchnorm_bwd(void *priv, float *dx, float *dgamma, float *dbeta, const float *dy,
                                const float *x, const float *gamma, const float *save_mean,
                                const float *save_invstd, int64_t n, int64_t c, int64_t s)
{
    if (n < 1 || c < 1 || s < 1 || !dx || !dgamma || !dbeta || !dy || !x || !gamma ||
        !save_mean || !save_invstd || lf__ref_batchnorm_check("batchnorm_bwd", n, c, s) != LF_OK)
        return lf__ref_batchnorm_bwd(priv, dx, dgamma, dbeta, dy, x, gamma, save_mean,
                                     save_invstd, n, c, s);
    const bn_arg a = { n, c, s, 0.0f };
    int64_t key[LF__DNNL_KEY_LEN];
    bn_key(key, LF__DNNL_OP_BN_BWD, &a);
    lf__dnnl_plan *p = NULL;
    LF__TRY(lf__cpu_dnnl_plan(priv, key, build_bwd, &a, "batchnorm_bwd", &p));
    float *var = lf__dnnl_data(p->owned[0]);
    for (int64_t ch = 0; ch < c; ch++) {
        const double invstd = save_invstd[ch];
        var[ch] = (float)(1.0 / (invstd * invstd));
    }
    void *const ptrs[] = { dx, (void *)dy, (void *)x, (void *)gamma, (void *)save_mean, dgamma, dbeta };
    return lf__cpu_dnnl_run(priv, p, ptrs, "batchnorm_bwd");
}
