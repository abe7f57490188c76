/* The cpu backend: host memory like the reference backend, GEMM through OpenBLAS's
 * cblas_sgemm, convolution, batch norm and max pooling through oneDNN when built with it
 * (cpu_dnnl.h: the private state is then its engine, stream and primitive cache), every other
 * operation from the reference kernels (they are memory-bound and small next to the GEMMs and
 * convolutions of a training step).
 *
 * Threads: OpenBLAS keeps ONE thread pool per process. create() sets its size from the
 * context's thread count with openblas_set_num_threads(), so with several cpu contexts in one
 * process the most recently created one decides the count for all of them, and a host
 * application that uses OpenBLAS itself shares (and may resize) the same pool. oneDNN runs on
 * OpenMP with the context's count set around each call (cpu_dnnl.h), so it needs no global.
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
    *priv = NULL;   /* without oneDNN no per-instance state: the BLAS pool is process-global */
    int32_t threads = cfg && cfg->threads >= 1 ? cfg->threads : 1;
    if (cfg && cfg->threads >= 1)
        openblas_set_num_threads(cfg->threads);
#if LF_HAVE_DNNL
    lf__cpu_dnnl *d = NULL;
    LF__TRY(lf__cpu_dnnl_create(&d, threads));
    *priv = d;
#else
    (void)threads;
#endif
    return LF_OK;
}

static void cpu_destroy(void *priv)
{
#if LF_HAVE_DNNL
    lf__cpu_dnnl_destroy(priv);
#else
    (void)priv;
#endif
}

static int fits_blasint(int64_t v)
{
    return v <= INT_MAX;   /* the Debian OpenBLAS uses 32-bit blasint */
}

static lf_status cpu_gemm(void *priv, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                          float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                          float beta, float *c, int64_t ldc)
{
    LF__TRY(lf__ref_gemm_check(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc));
    if (m == 0 || n == 0)
        return LF_OK;
    /* k == 0 (C = beta·C) and sizes beyond 32-bit BLAS indices go to the reference kernel,
     * which handles them exactly */
    if (k == 0 || !fits_blasint(m) || !fits_blasint(n) || !fits_blasint(k) ||
        !fits_blasint(lda) || !fits_blasint(ldb) || !fits_blasint(ldc))
        return lf__ref_gemm(priv, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n, (blasint)k, alpha,
                a, (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
    return LF_OK;
}

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
    .bias_add_fwd = lf__ref_bias_add_fwd,
    .bias_bwd = lf__ref_bias_bwd,
    .axpby = lf__ref_axpby,
    .relu_fwd = lf__ref_relu_fwd,
    .relu_bwd = lf__ref_relu_bwd,
    .normalize_fwd = lf__ref_normalize_fwd,
    .softmax_xent_fwd = lf__ref_softmax_xent_fwd,
    .softmax_xent_bwd = lf__ref_softmax_xent_bwd,
    .softmax_fwd = lf__ref_softmax_fwd,
    .sgd_step = lf__ref_sgd_step,
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
    .apply_mask = lf__ref_apply_mask,
    .batchnorm_bwd_eval = lf__ref_batchnorm_bwd_eval,   /* FF/IU/ReMI only: not on the training path */
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
