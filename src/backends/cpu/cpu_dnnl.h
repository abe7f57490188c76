/* The cpu backend's oneDNN state (the backend's private pointer when built with oneDNN): one
 * CPU engine and stream, the context's thread count, and a cache of "plans".
 *
 * A plan is what one backend op runs for one shape: a few oneDNN primitives executed in order
 * (e.g. reorder the weights to a blocked layout, convolve, add into the caller's gradient),
 * memory objects that wrap the caller's pointers (handles set on every call), small buffers
 * the plan keeps, and scratch buffers (blocked copies of activations) that live only during
 * a run: those are carved from one arena per backend instance, sized for the largest plan, so
 * memory does not grow with the number of shapes cached. Plans are keyed by the op and its
 * sizes: a training step calls the same shapes every batch, so oneDNN primitive creation (and
 * its JIT) happens once per shape.
 *
 * Threads: Debian's oneDNN runs on OpenMP, whose thread count is a per-thread setting of the
 * calling thread. Building and running a plan sets it to the context's count and restores the
 * caller's value afterwards, so contexts with different counts do not disturb each other or
 * the host application's own OpenMP code. */
#ifndef LF_BACKENDS_CPU_CPU_DNNL_H
#define LF_BACKENDS_CPU_CPU_DNNL_H

#include <stdint.h>

#include <dnnl.h>

#include "backends/backend.h"

/* oneDNN 3 removed the operation descriptors (dnnl_*_desc_init) used here */
#if DNNL_VERSION_MAJOR != 2
#error "the cpu backend's oneDNN code needs the oneDNN 2 C API; configure with -Ddnnl=disabled"
#endif

enum {
    LF__DNNL_KEY_LEN     = 12,  /* op tag + sizes and flags */
    LF__DNNL_MAX_USER    = 8,   /* caller pointers per plan */
    LF__DNNL_MAX_OWNED   = 4,   /* buffers a plan keeps */
    LF__DNNL_MAX_SCRATCH = 8,   /* buffers valid during one run */
    LF__DNNL_MAX_STEPS   = 6,   /* primitives per plan */
    LF__DNNL_MAX_ARGS    = 10   /* execution arguments per primitive */
};

/* Op tags: key[0] of a plan. */
enum {
    LF__DNNL_OP_CONV_FWD = 1,
    LF__DNNL_OP_CONV_BWD_DATA,
    LF__DNNL_OP_CONV_BWD_WEIGHTS
};

typedef struct lf__cpu_dnnl lf__cpu_dnnl;

typedef struct lf__dnnl_step {
    dnnl_primitive_t prim;
    int              n_args;
    dnnl_exec_arg_t  args[LF__DNNL_MAX_ARGS];
} lf__dnnl_step;

typedef struct lf__dnnl_plan {
    int64_t        key[LF__DNNL_KEY_LEN];
    int            n_user, n_owned, n_scratch, n_steps;
    dnnl_memory_t  user[LF__DNNL_MAX_USER];    /* handle = the caller's pointer, set per run */
    dnnl_memory_t  owned[LF__DNNL_MAX_OWNED];  /* buffers allocated by oneDNN */
    dnnl_memory_t  scratch[LF__DNNL_MAX_SCRATCH];   /* handle = arena + offset, set per run */
    size_t         scratch_at[LF__DNNL_MAX_SCRATCH], scratch_bytes;
    lf__dnnl_step  steps[LF__DNNL_MAX_STEPS];
    struct lf__dnnl_plan *next;
} lf__dnnl_plan;

/* Fills a plan (empty on entry) for the op and sizes of its key; arg is the op's own data. */
typedef lf_status (*lf__dnnl_build_fn)(lf__cpu_dnnl *d, lf__dnnl_plan *p, const void *arg);

/* The state (its plans and arena too) comes from cfg's allocator: it begins with the
 * lf__host_mem the shared host-memory functions read (ref_kernels.h). oneDNN's own objects come
 * from oneDNN's allocator. */
lf_status lf__cpu_dnnl_create(lf__cpu_dnnl **out, const lf__backend_config *cfg);
void      lf__cpu_dnnl_destroy(lf__cpu_dnnl *d);
/* The context's thread count (the cpu backend's own OpenMP loops use it too); 1 for NULL. */
int32_t   lf__cpu_dnnl_threads(const lf__cpu_dnnl *d);

/* C = alpha·op(A)·op(B) + beta·C through dnnl_sgemm (row-major, the gemm entry's arguments,
 * already checked), on the same OpenMP threads as the primitives: a second pool (OpenBLAS's)
 * would spin against them for the same cores. */
lf_status lf__cpu_dnnl_sgemm(lf__cpu_dnnl *d, int trans_a, int trans_b, int64_t m, int64_t n,
                             int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                             int64_t ldb, float beta, float *c, int64_t ldc);

/* The cached plan for key (unused trailing entries must be 0), built with build(d, p, arg) on
 * first use. what names the op in error details (with the key's sizes). */
lf_status lf__cpu_dnnl_plan(lf__cpu_dnnl *d, const int64_t key[LF__DNNL_KEY_LEN],
                            lf__dnnl_build_fn build, const void *arg, const char *what,
                            lf__dnnl_plan **out);

/* Runs a plan: user memory i gets the handle ptrs[i] (p->n_user entries), scratch memories
 * their place in the arena (grown if needed), then every step executes in order and the
 * stream is waited on. */
lf_status lf__cpu_dnnl_run(lf__cpu_dnnl *d, lf__dnnl_plan *p, void *const *ptrs, const char *what);

/* ---- plan building (for the build functions) ---- */

/* A plain f32 memory descriptor of ndims sizes in the given layout (dnnl_format_tag_any lets
 * a primitive choose). */
lf_status lf__dnnl_md(dnnl_memory_desc_t *md, int ndims, const int64_t *dims,
                      dnnl_format_tag_t tag);
/* A primitive descriptor from an op descriptor (hint: the forward pd of a backward op, or
 * NULL). The caller destroys it. */
lf_status lf__dnnl_pd(lf__cpu_dnnl *d, dnnl_primitive_desc_t *pd, const void *op_desc,
                      const_dnnl_primitive_desc_t hint);
/* The memory descriptor a pd wants for an execution argument (DNNL_ARG_SRC, ...). */
const dnnl_memory_desc_t *lf__dnnl_pd_md(const_dnnl_primitive_desc_t pd, int arg);

/* Adds memory for the caller's pointer number p->n_user (the order of run()'s ptrs). */
lf_status lf__dnnl_user(lf__cpu_dnnl *d, lf__dnnl_plan *p, const dnnl_memory_desc_t *md,
                        dnnl_memory_t *mem);
/* Adds a buffer the plan keeps (allocated by oneDNN; the op may fill it before a run). */
lf_status lf__dnnl_owned(lf__cpu_dnnl *d, lf__dnnl_plan *p, const dnnl_memory_desc_t *md,
                         dnnl_memory_t *mem);
/* Adds a buffer from the arena, valid only while the plan runs. */
lf_status lf__dnnl_scratch(lf__cpu_dnnl *d, lf__dnnl_plan *p, const dnnl_memory_desc_t *md,
                           dnnl_memory_t *mem);
/* Memory in the layout want for a primitive's input: user itself when the layouts agree,
 * otherwise a scratch buffer filled from user by a reorder step added now. */
lf_status lf__dnnl_input(lf__cpu_dnnl *d, lf__dnnl_plan *p, dnnl_memory_t user,
                         const dnnl_memory_desc_t *want, dnnl_memory_t *mem);
/* Memory in the layout want for a primitive's output that must end in user: user itself when
 * the layouts agree, otherwise a scratch buffer (copy it out with lf__dnnl_reorder after the
 * primitive's step). */
lf_status lf__dnnl_output(lf__cpu_dnnl *d, lf__dnnl_plan *p, dnnl_memory_t user,
                          const dnnl_memory_desc_t *want, dnnl_memory_t *mem);
/* Adds a step dst = src (accumulate == 0) or dst += src (accumulate != 0), converting the
 * layout; nothing when src and dst are the same memory and accumulate == 0. */
lf_status lf__dnnl_reorder(lf__cpu_dnnl *d, lf__dnnl_plan *p, dnnl_memory_t src,
                           dnnl_memory_t dst, int accumulate);
/* Adds a step running pd's primitive with n_args (argument, memory) pairs. */
lf_status lf__dnnl_step_add(lf__cpu_dnnl *d, lf__dnnl_plan *p, const_dnnl_primitive_desc_t pd,
                            int n_args, const dnnl_exec_arg_t *args);

/* LF_OK for dnnl_success; otherwise LF_E_NOMEM / LF_E_BACKEND naming the oneDNN function
 * (call's text up to its '(') and oneDNN's status. */
lf_status lf__dnnl_check(dnnl_status_t st, const char *call);
#define LF__DNNL_TRY(call) LF__TRY(lf__dnnl_check((call), #call))

/* The data pointer of a plan-owned memory (host memory on the CPU engine). */
float *lf__dnnl_data(dnnl_memory_t mem);

#endif
