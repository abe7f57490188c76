/* oneDNN engine, stream, plan cache and plan building for the cpu backend (see cpu_dnnl.h). */
#include <stdio.h>
#include <string.h>

#include <dnnl_debug.h>
#include <omp.h>

#include "core/internal.h"
#include "backends/cpu/cpu_dnnl.h"
#include "backends/reference/ref_kernels.h"

struct lf__cpu_dnnl {
    lf__host_mem   mem;     /* first: the host-memory functions read it through priv */
    dnnl_engine_t  engine;
    dnnl_stream_t  stream;
    int32_t        threads;
    lf__dnnl_plan *plans;   /* a short list: a model has a handful of distinct shapes */
    void          *arena;   /* the scratch buffers of the running plan */
    size_t         arena_bytes;
};

lf_status lf__dnnl_check(dnnl_status_t st, const char *call)
{
    if (st == dnnl_success)
        return LF_OK;
    int name_len = (int)strcspn(call, "(");
    return lf__error(st == dnnl_out_of_memory ? LF_E_NOMEM : LF_E_BACKEND, "oneDNN %.*s: %s",
                     name_len, call, dnnl_status2str(st));
}

/* The OpenMP thread count of the calling thread, set for a oneDNN call and restored after. */
static int threads_enter(const lf__cpu_dnnl *d)
{
    int old = omp_get_max_threads();
    if (old != lf__cpu_dnnl_threads(d))
        omp_set_num_threads(lf__cpu_dnnl_threads(d));
    return old;
}

static void threads_leave(const lf__cpu_dnnl *d, int old)
{
    if (old != lf__cpu_dnnl_threads(d))
        omp_set_num_threads(old);
}

lf_status lf__cpu_dnnl_create(lf__cpu_dnnl **out, const lf__backend_config *cfg)
{
    *out = NULL;
    lf__cpu_dnnl *d = lf__host_state_alloc(cfg, sizeof *d, "the cpu backend's state");
    if (!d)
        return LF_E_NOMEM;
    d->threads = cfg && cfg->threads >= 1 ? cfg->threads : 1;
    lf_status st = lf__dnnl_check(dnnl_engine_create(&d->engine, dnnl_cpu, 0), "dnnl_engine_create");
    if (st == LF_OK)
        st = lf__dnnl_check(dnnl_stream_create(&d->stream, d->engine, dnnl_stream_default_flags),
                            "dnnl_stream_create");
    if (st != LF_OK) {
        lf__cpu_dnnl_destroy(d);
        return st;
    }
    *out = d;
    return LF_OK;
}

int32_t lf__cpu_dnnl_threads(const lf__cpu_dnnl *d)
{
    return d ? d->threads : 1;   /* NULL: kernels called without an instance (tests) run on one */
}

lf_status lf__cpu_dnnl_sgemm(lf__cpu_dnnl *d, int trans_a, int trans_b, int64_t m, int64_t n,
                             int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                             int64_t ldb, float beta, float *c, int64_t ldc)
{
    int old = threads_enter(d);
    dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda,
                                  b, ldb, beta, c, ldc);
    threads_leave(d, old);
    return lf__dnnl_check(st, "dnnl_sgemm");
}

static void plan_free(const lf__cpu_dnnl *d, lf__dnnl_plan *p)
{
    for (int i = 0; i < p->n_steps; i++)
        dnnl_primitive_destroy(p->steps[i].prim);
    for (int i = 0; i < p->n_user; i++)
        dnnl_memory_destroy(p->user[i]);
    for (int i = 0; i < p->n_owned; i++)
        dnnl_memory_destroy(p->owned[i]);
    for (int i = 0; i < p->n_scratch; i++)
        dnnl_memory_destroy(p->scratch[i]);
    lf__free_with(&d->mem.allocator, p, sizeof *p);
}

void lf__cpu_dnnl_destroy(lf__cpu_dnnl *d)
{
    if (!d)
        return;
    while (d->plans) {
        lf__dnnl_plan *next = d->plans->next;
        plan_free(d, d->plans);
        d->plans = next;
    }
    lf__free_with(&d->mem.allocator, d->arena, d->arena_bytes);
    if (d->stream)
        dnnl_stream_destroy(d->stream);
    if (d->engine)
        dnnl_engine_destroy(d->engine);
    lf__host_state_free(d, sizeof *d);
}

/* "cpu backend, conv2d_fwd [sizes...]: " before a failure's detail */
static void prefix_error(const char *what, const int64_t *key)
{
    char sizes[LF__DNNL_KEY_LEN * 21] = "";
    size_t len = 0;
    for (int i = 1; i < LF__DNNL_KEY_LEN && len < sizeof sizes; i++)
        len += (size_t)snprintf(sizes + len, sizeof sizes - len, i > 1 ? " %lld" : "%lld",
                                (long long)key[i]);
    lf__error_prefix("cpu backend, %s [%s]", what, sizes);
}

lf_status lf__cpu_dnnl_plan(lf__cpu_dnnl *d, const int64_t key[LF__DNNL_KEY_LEN],
                            lf__dnnl_build_fn build, const void *arg, const char *what,
                            lf__dnnl_plan **out)
{
    *out = NULL;
    for (lf__dnnl_plan *p = d->plans; p; p = p->next) {
        if (memcmp(p->key, key, sizeof p->key) == 0) {
            *out = p;
            return LF_OK;
        }
    }
    lf__dnnl_plan *p = lf__alloc_with(&d->mem.allocator, sizeof *p, "oneDNN plan");
    if (!p)
        return LF_E_NOMEM;
    memset(p, 0, sizeof *p);
    memcpy(p->key, key, sizeof p->key);
    /* primitive descriptors pick their blocking for the thread count in force */
    int old = threads_enter(d);
    lf_status st = build(d, p, arg);
    threads_leave(d, old);
    if (st != LF_OK) {
        plan_free(d, p);
        prefix_error(what, key);
        return st;
    }
    p->next = d->plans;
    d->plans = p;
    *out = p;
    return LF_OK;
}

static lf_status arena_reserve(lf__cpu_dnnl *d, size_t bytes)
{
    if (bytes <= d->arena_bytes)
        return LF_OK;
    lf__free_with(&d->mem.allocator, d->arena, d->arena_bytes);
    d->arena_bytes = 0;
    d->arena = lf__alloc_with(&d->mem.allocator, bytes, "oneDNN scratch");
    if (!d->arena)
        return LF_E_NOMEM;
    d->arena_bytes = bytes;
    return LF_OK;
}

lf_status lf__cpu_dnnl_run(lf__cpu_dnnl *d, lf__dnnl_plan *p, void *const *ptrs, const char *what)
{
    lf_status st = arena_reserve(d, p->scratch_bytes);
    for (int i = 0; i < p->n_user && st == LF_OK; i++)
        st = lf__dnnl_check(dnnl_memory_set_data_handle(p->user[i], ptrs[i]),
                            "dnnl_memory_set_data_handle");
    for (int i = 0; i < p->n_scratch && st == LF_OK; i++)
        st = lf__dnnl_check(dnnl_memory_set_data_handle(p->scratch[i],
                                                        (char *)d->arena + p->scratch_at[i]),
                            "dnnl_memory_set_data_handle");
    int old = threads_enter(d);
    for (int i = 0; i < p->n_steps && st == LF_OK; i++)
        st = lf__dnnl_check(dnnl_primitive_execute(p->steps[i].prim, d->stream, p->steps[i].n_args,
                                                   p->steps[i].args), "dnnl_primitive_execute");
    if (st == LF_OK)
        st = lf__dnnl_check(dnnl_stream_wait(d->stream), "dnnl_stream_wait");
    threads_leave(d, old);
    if (st != LF_OK)
        prefix_error(what, p->key);
    return st;
}

/* ---- plan building ---- */

lf_status lf__dnnl_md(dnnl_memory_desc_t *md, int ndims, const int64_t *dims, dnnl_format_tag_t tag)
{
    dnnl_dims_t dd;
    for (int i = 0; i < ndims; i++)
        dd[i] = dims[i];
    LF__DNNL_TRY(dnnl_memory_desc_init_by_tag(md, ndims, dd, dnnl_f32, tag));
    return LF_OK;
}

lf_status lf__dnnl_pd(lf__cpu_dnnl *d, dnnl_primitive_desc_t *pd, const void *op_desc,
                      const_dnnl_primitive_desc_t hint)
{
    LF__DNNL_TRY(dnnl_primitive_desc_create(pd, op_desc, NULL, d->engine, hint));
    return LF_OK;
}

const dnnl_memory_desc_t *lf__dnnl_pd_md(const_dnnl_primitive_desc_t pd, int arg)
{
    return dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
}

lf_status lf__dnnl_user(lf__cpu_dnnl *d, lf__dnnl_plan *p, const dnnl_memory_desc_t *md,
                        dnnl_memory_t *mem)
{
    if (p->n_user == LF__DNNL_MAX_USER)
        return lf__error(LF_E_BACKEND, "oneDNN plan: more than %d caller buffers", LF__DNNL_MAX_USER);
    LF__DNNL_TRY(dnnl_memory_create(&p->user[p->n_user], md, d->engine, DNNL_MEMORY_NONE));
    *mem = p->user[p->n_user++];
    return LF_OK;
}

lf_status lf__dnnl_owned(lf__cpu_dnnl *d, lf__dnnl_plan *p, const dnnl_memory_desc_t *md,
                         dnnl_memory_t *mem)
{
    if (p->n_owned == LF__DNNL_MAX_OWNED)
        return lf__error(LF_E_BACKEND, "oneDNN plan: more than %d buffers", LF__DNNL_MAX_OWNED);
    LF__DNNL_TRY(dnnl_memory_create(&p->owned[p->n_owned], md, d->engine, DNNL_MEMORY_ALLOCATE));
    *mem = p->owned[p->n_owned++];
    return LF_OK;
}

lf_status lf__dnnl_scratch(lf__cpu_dnnl *d, lf__dnnl_plan *p, const dnnl_memory_desc_t *md,
                           dnnl_memory_t *mem)
{
    if (p->n_scratch == LF__DNNL_MAX_SCRATCH)
        return lf__error(LF_E_BACKEND, "oneDNN plan: more than %d scratch buffers",
                         LF__DNNL_MAX_SCRATCH);
    LF__DNNL_TRY(dnnl_memory_create(&p->scratch[p->n_scratch], md, d->engine, DNNL_MEMORY_NONE));
    p->scratch_at[p->n_scratch] = p->scratch_bytes;
    p->scratch_bytes += (dnnl_memory_desc_get_size(md) + 63) / 64 * 64;   /* 64-byte aligned */
    *mem = p->scratch[p->n_scratch++];
    return LF_OK;
}

static const dnnl_memory_desc_t *md_of(dnnl_memory_t mem)
{
    const dnnl_memory_desc_t *md = NULL;
    dnnl_memory_get_memory_desc(mem, &md);
    return md;
}

lf_status lf__dnnl_input(lf__cpu_dnnl *d, lf__dnnl_plan *p, dnnl_memory_t user,
                         const dnnl_memory_desc_t *want, dnnl_memory_t *mem)
{
    if (dnnl_memory_desc_equal(md_of(user), want)) {
        *mem = user;
        return LF_OK;
    }
    LF__TRY(lf__dnnl_scratch(d, p, want, mem));
    return lf__dnnl_reorder(d, p, user, *mem, 0);
}

lf_status lf__dnnl_output(lf__cpu_dnnl *d, lf__dnnl_plan *p, dnnl_memory_t user,
                          const dnnl_memory_desc_t *want, dnnl_memory_t *mem)
{
    if (dnnl_memory_desc_equal(md_of(user), want)) {
        *mem = user;
        return LF_OK;
    }
    return lf__dnnl_scratch(d, p, want, mem);
}

/* A reorder primitive descriptor; accumulate adds a sum post-op (dst = src + 1·dst). */
static lf_status reorder_pd(lf__cpu_dnnl *d, dnnl_primitive_desc_t *pd,
                            const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst,
                            int accumulate)
{
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    lf_status st = LF_OK;
    if (accumulate) {
        st = lf__dnnl_check(dnnl_primitive_attr_create(&attr), "dnnl_primitive_attr_create");
        if (st == LF_OK)
            st = lf__dnnl_check(dnnl_post_ops_create(&ops), "dnnl_post_ops_create");
        if (st == LF_OK)
            st = lf__dnnl_check(dnnl_post_ops_append_sum(ops, 1.0f), "dnnl_post_ops_append_sum");
        if (st == LF_OK)
            st = lf__dnnl_check(dnnl_primitive_attr_set_post_ops(attr, ops),
                                "dnnl_primitive_attr_set_post_ops");
    }
    if (st == LF_OK)
        st = lf__dnnl_check(dnnl_reorder_primitive_desc_create(pd, src, d->engine, dst, d->engine, attr),
                            "dnnl_reorder_primitive_desc_create");
    if (ops)
        dnnl_post_ops_destroy(ops);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return st;
}

lf_status lf__dnnl_reorder(lf__cpu_dnnl *d, lf__dnnl_plan *p, dnnl_memory_t src,
                           dnnl_memory_t dst, int accumulate)
{
    if (src == dst && !accumulate)
        return LF_OK;
    dnnl_primitive_desc_t pd = NULL;
    LF__TRY(reorder_pd(d, &pd, md_of(src), md_of(dst), accumulate));
    dnnl_exec_arg_t args[] = { { DNNL_ARG_FROM, src }, { DNNL_ARG_TO, dst } };
    lf_status st = lf__dnnl_step_add(d, p, pd, 2, args);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

lf_status lf__dnnl_step_add(lf__cpu_dnnl *d, lf__dnnl_plan *p, const_dnnl_primitive_desc_t pd,
                            int n_args, const dnnl_exec_arg_t *args)
{
    (void)d;
    if (p->n_steps == LF__DNNL_MAX_STEPS || n_args > LF__DNNL_MAX_ARGS)
        return lf__error(LF_E_BACKEND, "oneDNN plan: more than %d steps or %d arguments",
                         LF__DNNL_MAX_STEPS, LF__DNNL_MAX_ARGS);
    lf__dnnl_step *s = &p->steps[p->n_steps];
    LF__DNNL_TRY(dnnl_primitive_create(&s->prim, pd));
    s->n_args = n_args;
    memcpy(s->args, args, (size_t)n_args * sizeof *args);
    p->n_steps++;
    return LF_OK;
}

float *lf__dnnl_data(dnnl_memory_t mem)
{
    void *h = NULL;
    dnnl_memory_get_data_handle(mem, &h);
    return h;
}
