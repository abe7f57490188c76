/* GEMM on cuBLAS. Our matrices are row-major and cuBLAS's column-major: a row-major X with row
 * stride ld is the column-major Xᵀ with the same ld, so C = op(A)·op(B) is computed as
 * Cᵀ = op(B)ᵀ·op(A)ᵀ, i.e. cuBLAS's gemm with the operands swapped and m, n exchanged. */
#include <limits.h>

#include "backends/cuda/cuda_common.h"

static lf_status fits_int(const char *op, int64_t v, const char *what)
{
    if (v > INT_MAX)
        return lf__error(LF_E_UNSUPPORTED, "cuda: %s: %s = %lld exceeds cuBLAS's int range", op,
                         what, (long long)v);
    return LF_OK;
}

static lf_status check_int_sizes(const char *op, int64_t m, int64_t n, int64_t k, int64_t lda,
                                 int64_t ldb, int64_t ldc)
{
    LF__TRY(fits_int(op, m, "m"));
    LF__TRY(fits_int(op, n, "n"));
    LF__TRY(fits_int(op, k, "k"));
    LF__TRY(fits_int(op, lda, "lda"));
    LF__TRY(fits_int(op, ldb, "ldb"));
    return fits_int(op, ldc, "ldc");
}

lf_status lf__cuda_gemm(void *priv, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                        float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                        float beta, float *c, int64_t ldc)
{
    lf__cuda *cu = priv;
    LF__TRY(lf__ref_gemm_check(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc));
    if (m == 0 || n == 0)
        return LF_OK;
    LF__TRY(check_int_sizes("gemm", m, n, k, lda, ldb, ldc));
    return lf__cuda_check_blas(
        cublasSgemm(cu->blas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                    (int)n, (int)m, (int)k, &alpha, b, (int)ldb, a, (int)lda, &beta, c, (int)ldc),
        "gemm");
}

/* One strided-batched call per slice of the grid: along its longer side, so attention's
 * (sequences × heads) takes `heads` calls of `sequences` products each. */
lf_status lf__cuda_gemm_batched(void *priv, int trans_a, int trans_b, int64_t m, int64_t n,
                                int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                                int64_t ldb, float beta, float *c, int64_t ldc,
                                const lf__gemm_batch *batch)
{
    lf__cuda *cu = priv;
    LF__TRY(lf__ref_gemm_batched_check(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, batch));
    if (m == 0 || n == 0 || batch->count == 0 || batch->group == 0)
        return LF_OK;
    LF__TRY(check_int_sizes("gemm_batched", m, n, k, lda, ldb, ldc));
    const int along_count = batch->count >= batch->group;
    const int64_t calls = along_count ? batch->group : batch->count;
    const int64_t per_call = along_count ? batch->count : batch->group;
    LF__TRY(fits_int("gemm_batched", per_call, "batch size"));
    const int64_t sa = along_count ? batch->stride_a : batch->group_stride_a;
    const int64_t sb = along_count ? batch->stride_b : batch->group_stride_b;
    const int64_t sc = along_count ? batch->stride_c : batch->group_stride_c;
    for (int64_t t = 0; t < calls; t++) {
        const int64_t oa = along_count ? t * batch->group_stride_a : t * batch->stride_a;
        const int64_t ob = along_count ? t * batch->group_stride_b : t * batch->stride_b;
        const int64_t oc = along_count ? t * batch->group_stride_c : t * batch->stride_c;
        LF__TRY(lf__cuda_check_blas(
            cublasSgemmStridedBatched(cu->blas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                      trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, (int)n, (int)m, (int)k,
                                      &alpha, b + ob, (int)ldb, (long long)sb, a + oa, (int)lda,
                                      (long long)sa, &beta, c + oc, (int)ldc, (long long)sc,
                                      (int)per_call),
            "gemm_batched"));
    }
    return LF_OK;
}
