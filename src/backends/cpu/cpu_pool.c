/* k×k max pooling with stride k through oneDNN. The training forward keeps oneDNN's workspace
 * (the position of each maximum within its window: one byte per output for windows of up to
 * 255 elements, four bytes beyond) in the caller's idx buffer of one int32 per output, which
 * the backward reads back. oneDNN, like the reference, keeps the first maximum of a window. */
#include "core/internal.h"
#include "backends/reference/ref_kernels.h"
#include "backends/cpu/cpu_dnnl.h"
#include "backends/cpu/cpu_ops.h"

typedef struct pool_arg {
    int64_t n, c, h, w, k;
    int     train;   /* forward: keep the workspace for backward */
} pool_arg;

/* The forward primitive descriptor (the op, or the backward's hint) and the src/dst layouts. */
static lf_status pool_fwd_pd(lf__cpu_dnnl *d, dnnl_primitive_desc_t *pd, dnnl_memory_desc_t *src,
                             dnnl_memory_desc_t *dst, const pool_arg *a, dnnl_prop_kind_t prop)
{
    const int64_t xd[] = { a->n, a->c, a->h, a->w }, yd[] = { a->n, a->c, a->h / a->k, a->w / a->k };
    LF__TRY(lf__dnnl_md(src, 4, xd, dnnl_nchw));
    LF__TRY(lf__dnnl_md(dst, 4, yd, dnnl_nchw));
    const dnnl_dims_t kernel = { a->k, a->k }, pad = { 0, 0 };
    dnnl_pooling_desc_t pdesc;
    LF__DNNL_TRY(dnnl_pooling_forward_desc_init(&pdesc, prop, dnnl_pooling_max, src, dst, kernel,
                                                kernel, pad, pad));
    LF__TRY(lf__dnnl_pd(d, pd, &pdesc, NULL));
    if (prop == dnnl_forward_training) {
        const dnnl_memory_desc_t *ws = dnnl_primitive_desc_query_md(*pd, dnnl_query_workspace_md, 0);
        const size_t outputs = (size_t)(a->n * a->c * (a->h / a->k) * (a->w / a->k));
        if (dnnl_memory_desc_get_size(ws) > outputs * sizeof(int32_t)) {
            dnnl_primitive_desc_destroy(*pd);
            *pd = NULL;
            return lf__error(LF_E_BACKEND, "oneDNN max pooling workspace of %zu bytes does not "
                             "fit idx", dnnl_memory_desc_get_size(ws));
        }
    }
    return LF_OK;
}

static void pool_key(int64_t key[LF__DNNL_KEY_LEN], int64_t op, const pool_arg *a)
{
    const int64_t k[LF__DNNL_KEY_LEN] = { op, a->n, a->c, a->h, a->w, a->k, a->train };
    for (int i = 0; i < LF__DNNL_KEY_LEN; i++)
        key[i] = k[i];
}

/* ---- forward: user memories y, x[, idx as the workspace] ---- */

static lf_status fwd_steps(lf__cpu_dnnl *d, lf__dnnl_plan *p, const_dnnl_primitive_desc_t pd,
                           const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst, int train)
{
    dnnl_exec_arg_t args[3];
    args[0].arg = DNNL_ARG_DST;
    args[1].arg = DNNL_ARG_SRC;
    args[2].arg = DNNL_ARG_WORKSPACE;
    LF__TRY(lf__dnnl_user(d, p, dst, &args[0].memory));
    LF__TRY(lf__dnnl_user(d, p, src, &args[1].memory));
    if (train)
        LF__TRY(lf__dnnl_user(d, p, dnnl_primitive_desc_query_md(pd, dnnl_query_workspace_md, 0),
                              &args[2].memory));
    return lf__dnnl_step_add(d, p, pd, train ? 3 : 2, args);
}

static lf_status build_fwd(lf__cpu_dnnl *d, lf__dnnl_plan *p, const void *arg)
{
    const pool_arg *a = arg;
    dnnl_memory_desc_t src, dst;
    dnnl_primitive_desc_t pd = NULL;
    LF__TRY(pool_fwd_pd(d, &pd, &src, &dst, a,
                        a->train ? dnnl_forward_training : dnnl_forward_inference));
    lf_status st = fwd_steps(d, p, pd, &src, &dst, a->train);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

lf_status lf__cpu_maxpool2d_fwd(void *priv, float *y, int32_t *idx, const float *x, int64_t n,
                                int64_t c, int64_t h, int64_t w, int64_t k)
{
    if (n < 1 || c < 1 || !y || !x || lf__ref_maxpool2d_check("maxpool2d_fwd", n, c, h, w, k) != LF_OK)
        return lf__ref_maxpool2d_fwd(priv, y, idx, x, n, c, h, w, k);
    const pool_arg a = { n, c, h, w, k, idx != NULL };
    int64_t key[LF__DNNL_KEY_LEN];
    pool_key(key, LF__DNNL_OP_POOL_FWD, &a);
    lf__dnnl_plan *p = NULL;
    LF__TRY(lf__cpu_dnnl_plan(priv, key, build_fwd, &a, "maxpool2d_fwd", &p));
    void *const ptrs[] = { y, (void *)x, idx };
    return lf__cpu_dnnl_run(priv, p, ptrs, "maxpool2d_fwd");
}

/* ---- backward: user memories dx, dy, idx ---- */

static lf_status bwd_steps(lf__cpu_dnnl *d, lf__dnnl_plan *p, const_dnnl_primitive_desc_t pd,
                           const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst)
{
    dnnl_exec_arg_t args[3];
    args[0].arg = DNNL_ARG_DIFF_SRC;
    args[1].arg = DNNL_ARG_DIFF_DST;
    args[2].arg = DNNL_ARG_WORKSPACE;
    LF__TRY(lf__dnnl_user(d, p, src, &args[0].memory));
    LF__TRY(lf__dnnl_user(d, p, dst, &args[1].memory));
    LF__TRY(lf__dnnl_user(d, p, dnnl_primitive_desc_query_md(pd, dnnl_query_workspace_md, 0),
                          &args[2].memory));
    return lf__dnnl_step_add(d, p, pd, 3, args);
}

static lf_status build_bwd(lf__cpu_dnnl *d, lf__dnnl_plan *p, const void *arg)
{
    const pool_arg *a = arg;
    dnnl_memory_desc_t src, dst;
    dnnl_primitive_desc_t hint = NULL, pd = NULL;
    LF__TRY(pool_fwd_pd(d, &hint, &src, &dst, a, dnnl_forward_training));
    const dnnl_dims_t kernel = { a->k, a->k }, pad = { 0, 0 };
    dnnl_pooling_desc_t pdesc;
    lf_status st = lf__dnnl_check(dnnl_pooling_backward_desc_init(&pdesc, dnnl_pooling_max, &src,
                                                                  &dst, kernel, kernel, pad, pad),
                                  "dnnl_pooling_backward_desc_init");
    if (st == LF_OK)
        st = lf__dnnl_pd(d, &pd, &pdesc, hint);
    if (st == LF_OK)
        st = bwd_steps(d, p, pd, &src, &dst);
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_desc_destroy(hint);
    return st;
}

lf_status lf__cpu_maxpool2d_bwd(void *priv, float *dx, const float *dy, const int32_t *idx,
                                int64_t n, int64_t c, int64_t h, int64_t w, int64_t k)
{
    if (n < 1 || c < 1 || !dx || !dy || !idx ||
        lf__ref_maxpool2d_check("maxpool2d_bwd", n, c, h, w, k) != LF_OK)
        return lf__ref_maxpool2d_bwd(priv, dx, dy, idx, n, c, h, w, k);
    const pool_arg a = { n, c, h, w, k, 1 };
    int64_t key[LF__DNNL_KEY_LEN];
    pool_key(key, LF__DNNL_OP_POOL_BWD, &a);
    lf__dnnl_plan *p = NULL;
    LF__TRY(lf__cpu_dnnl_plan(priv, key, build_bwd, &a, "maxpool2d_bwd", &p));
    void *const ptrs[] = { dx, (void *)dy, (void *)idx };
    return lf__cpu_dnnl_run(priv, p, ptrs, "maxpool2d_bwd");
}
