/* The cpu backend: host memory like the reference backend. Built with oneDNN (cpu_dnnl.h: the
 * private state is then its engine, stream and primitive cache), GEMM goes through dnnl_sgemm
 * (tiny products and the batched per-head ones of attention through cpu_gemm.c), convolution
 * through oneDNN primitives, batch norm (plain and fused with ReLU), max pooling, the large
 * element-wise ops and the attacker network's kernels through the backend's own OpenMP loops
 * (cpu_batchnorm.c, cpu_pool.c, cpu_elementwise.c, cpu_transformer.c); every other operation
 * comes from the reference kernels (they are small next to the convolutions of a training
 * step). Without oneDNN, GEMM goes
 * through OpenBLAS's cblas_sgemm and everything else through the reference kernels.
 *
 * Threads: with oneDNN, everything runs on ONE pool, OpenMP's, with the context's thread count
 * set around each call (cpu_dnnl.h), so no global is touched. OpenBLAS is then not called at
 * all: its own pthread pool, spinning between calls, fought the OpenMP threads for the same
 * cores (a third of a convnet training step went to idle spinning). Without oneDNN, OpenBLAS
 * keeps ONE thread pool per process: create() sets its size from the context's thread count
 * with openblas_set_num_threads(), so with several cpu contexts in one process the most
 * recently created one decides the count for all of them, and a host application that uses
 * OpenBLAS itself shares (and may resize) the same pool.
 *
 * Built without OpenBLAS, lf__backend_cpu_iface() returns NULL and LF_BACKEND_AUTO falls back
 * to the reference backend. */
#include <limits.h>

#include "lf_config.h"
#include "core/internal.h"

#if LF_HAVE_OPENBLAS

#include <cblas.h>

#include "backends/reference/ref_kernels.h"
#if LF_HAVE_DNNL
#include "backends/cpu/cpu_dnnl.h"
#include "backends/cpu/cpu_ops.h"
#endif

static int cpu_probe(void)
{
    return 1;
}

static lf_status cpu_create(void **priv, const lf__backend_config *cfg)
{
    *priv = NULL;
#if LF_HAVE_DNNL
    lf__cpu_dnnl *d = NULL;
    LF__TRY(lf__cpu_dnnl_create(&d, cfg));
    *priv = d;
#else
    /* the only state is the allocator: the BLAS pool is process-global */
    *priv = lf__host_state_alloc(cfg, sizeof(lf__host_mem), "the cpu backend's state");
    if (!*priv)
        return LF_E_NOMEM;
    if (cfg && cfg->threads >= 1)
        openblas_set_num_threads(cfg->threads);
#endif
    return LF_OK;
}

static void cpu_destroy(void *priv)
{
#if LF_HAVE_DNNL
    lf__cpu_dnnl_destroy(priv);
#else
    lf__host_state_free(priv, sizeof(lf__host_mem));
#endif
}

#if !LF_HAVE_DNNL
static int fits_blasint(int64_t v)
{
    return v <= INT_MAX;   /* the Debian OpenBLAS uses 32-bit blasint */
}
#endif

static lf_status cpu_gemm(void *priv, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                          float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                          float beta, float *c, int64_t ldc)
{
    LF__TRY(lf__ref_gemm_check(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc));
    if (m == 0 || n == 0)
        return LF_OK;
    /* k == 0 (C = beta·C) goes to the reference kernel, which handles it exactly */
    if (k == 0)
        return lf__ref_gemm(priv, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#if LF_HAVE_DNNL
    /* tiny products on the calling thread: sgemm's dispatch and thread wake-up cost more */
    if (lf__cpu_gemm_is_small(m, n, k))
        return lf__cpu_gemm_small(priv, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,
                                  ldc);
    return lf__cpu_dnnl_sgemm(priv, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#else
    /* sizes beyond 32-bit BLAS indices too */
    if (!fits_blasint(m) || !fits_blasint(n) || !fits_blasint(k) || !fits_blasint(lda) ||
        !fits_blasint(ldb) || !fits_blasint(ldc))
        return lf__ref_gemm(priv, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n, (blasint)k, alpha,
                a, (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
    return LF_OK;
#endif
}

/* The cpu backend's own kernel where it has one (built with oneDNN and OpenMP), else the
 * reference's. */
#if LF_HAVE_DNNL
#define LF__CPU_OP(op) lf__cpu_##op
#else
#define LF__CPU_OP(op) lf__ref_##op

/* Without oneDNN, one OpenBLAS call per product of the grid: the reference's double loops
 * would be slower than the separate sgemm calls the batch replaces. */
static lf_status cpu_gemm_batched(void *priv, int trans_a, int trans_b, int64_t m, int64_t n,
                                  int64_t k, float alpha, const float *a, int64_t lda,
                                  const float *b, int64_t ldb, float beta, float *c, int64_t ldc,
                                  const lf__gemm_batch *batch)
{
    LF__TRY(lf__ref_gemm_batched_check(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, batch));
    const lf__gemm_batch *g = batch;
    for (int64_t i = 0; i < g->count; i++)
        for (int64_t j = 0; j < g->group; j++)
            LF__TRY(cpu_gemm(priv, trans_a, trans_b, m, n, k, alpha,
                             a + i * g->stride_a + j * g->group_stride_a, lda,
                             b + i * g->stride_b + j * g->group_stride_b, ldb, beta,
                             c + i * g->stride_c + j * g->group_stride_c, ldc));
    return LF_OK;
}
#endif

static const lf__backend_iface cpu_iface = {
    .iface_version = LF__BACKEND_IFACE_VERSION,
    .name = "cpu",
    .kind = LF_BACKEND_CPU,
    .probe = cpu_probe,
    .create = cpu_create,
    .destroy = cpu_destroy,
    .mem_alloc = lf__ref_mem_alloc,
    .mem_free = lf__ref_mem_free,
    .mem_upload = lf__ref_mem_copy,
    .mem_download = lf__ref_mem_copy,
    .mem_copy = lf__ref_mem_copy,
    .mem_zero = lf__ref_mem_zero,
    .synchronize = lf__ref_synchronize,
    .gemm = cpu_gemm,
    .bias_add_fwd = LF__CPU_OP(bias_add_fwd),
    .bias_bwd = LF__CPU_OP(bias_bwd),
    .axpby = LF__CPU_OP(axpby),
    .relu_fwd = LF__CPU_OP(relu_fwd),
    .relu_bwd = LF__CPU_OP(relu_bwd),
    .normalize_fwd = lf__ref_normalize_fwd,
    .softmax_xent_fwd = lf__ref_softmax_xent_fwd,
    .softmax_xent_bwd = lf__ref_softmax_xent_bwd,
    .softmax_fwd = LF__CPU_OP(softmax_fwd),
    .sgd_step = LF__CPU_OP(sgd_step),
    .sum_squares = lf__ref_sum_squares,
    .count_nonfinite = lf__ref_count_nonfinite,
    .count_correct = lf__ref_count_correct,
    .rng_uniform = lf__ref_rng_uniform,
    .rng_normal = lf__ref_rng_normal,
#if LF_HAVE_DNNL
    .conv2d_fwd = lf__cpu_conv2d_fwd,
    .conv2d_bwd_data = lf__cpu_conv2d_bwd_data,
    .conv2d_bwd_weights = lf__cpu_conv2d_bwd_weights,
    .batchnorm_fwd_train = lf__cpu_batchnorm_fwd_train,
    .batchnorm_fwd_eval = lf__cpu_batchnorm_fwd_eval,
    .batchnorm_bwd = lf__cpu_batchnorm_bwd,
    .maxpool2d_fwd = lf__cpu_maxpool2d_fwd,
    .maxpool2d_bwd = lf__cpu_maxpool2d_bwd,
#else
    .conv2d_fwd = lf__ref_conv2d_fwd,
    .conv2d_bwd_data = lf__ref_conv2d_bwd_data,
    .conv2d_bwd_weights = lf__ref_conv2d_bwd_weights,
    .batchnorm_fwd_train = lf__ref_batchnorm_fwd_train,
    .batchnorm_fwd_eval = lf__ref_batchnorm_fwd_eval,
    .batchnorm_bwd = lf__ref_batchnorm_bwd,
    .maxpool2d_fwd = lf__ref_maxpool2d_fwd,
    .maxpool2d_bwd = lf__ref_maxpool2d_bwd,
#endif
    .avgpool_global_fwd = lf__ref_avgpool_global_fwd,
    .avgpool_global_bwd = lf__ref_avgpool_global_bwd,
    .apply_mask = LF__CPU_OP(apply_mask),
    .batchnorm_bwd_eval = LF__CPU_OP(batchnorm_bwd_eval),   /* FF, IU and ReMI's eval-mode gradients */
    .batchnorm_relu_fwd_train = LF__CPU_OP(batchnorm_relu_fwd_train),
    .batchnorm_relu_fwd_eval = LF__CPU_OP(batchnorm_relu_fwd_eval),
    .batchnorm_relu_bwd = LF__CPU_OP(batchnorm_relu_bwd),
    /* the attacker network (the transpose is a few thousand floats per batch) */
    .layernorm_fwd = LF__CPU_OP(layernorm_fwd),
    .layernorm_bwd = LF__CPU_OP(layernorm_bwd),
    .gelu_fwd = LF__CPU_OP(gelu_fwd),
    .gelu_bwd = LF__CPU_OP(gelu_bwd),
    .softmax_bwd = LF__CPU_OP(softmax_bwd),
    .dropout = LF__CPU_OP(dropout),
    .transpose = lf__ref_transpose,
    .adam_step = LF__CPU_OP(adam_step),
#if LF_HAVE_DNNL
    .gemm_batched = lf__cpu_gemm_batched,
#else
    .gemm_batched = cpu_gemm_batched,
#endif
    .batchnorm_relu_maxpool_fwd_eval = LF__CPU_OP(batchnorm_relu_maxpool_fwd_eval),
};

const lf__backend_iface *lf__backend_cpu_iface(void)
{
    return &cpu_iface;
}

#else /* !LF_HAVE_OPENBLAS */

const lf__backend_iface *lf__backend_cpu_iface(void)
{
    return NULL;
}

#endif
