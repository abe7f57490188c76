/* The module side of cuda_module.h: the exported entry point, and the functions the module's
 * files call as if they were inside libforget (lf__error, the reference's shape checks),
 * forwarded to the services libforget handed over. */
#include <stddef.h>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_module.h"

static const lf__cuda_services *services;

__attribute__((visibility("default")))
const lf__backend_iface *lf_cuda_backend_module_v1(const lf__cuda_services *s);

const lf__backend_iface *lf_cuda_backend_module_v1(const lf__cuda_services *s)
{
    if (!s || s->version != LF__CUDA_SERVICES_VERSION || !s->error_v || !s->gemm_check ||
        !s->gemm_batched_check || !s->conv2d_check || !s->batchnorm_check || !s->maxpool2d_check)
        return NULL;
    services = s;
    return lf__cuda_backend_iface();
}

lf_status lf__error(lf_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lf_status st = services->error_v(status, fmt, ap);
    va_end(ap);
    return st;
}

lf_status lf__ref_gemm_check(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                             const float *a, int64_t lda, const float *b, int64_t ldb,
                             const float *c, int64_t ldc)
{
    return services->gemm_check(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
}

lf_status lf__ref_gemm_batched_check(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                                     const float *a, int64_t lda, const float *b, int64_t ldb,
                                     const float *c, int64_t ldc, const lf__gemm_batch *batch)
{
    return services->gemm_batched_check(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, batch);
}

lf_status lf__ref_conv2d_check(const char *op, const lf__conv2d_shape *s)
{
    return services->conv2d_check(op, s);
}

lf_status lf__ref_batchnorm_check(const char *op, int64_t n, int64_t c, int64_t s)
{
    return services->batchnorm_check(op, n, c, s);
}

lf_status lf__ref_maxpool2d_check(const char *op, int64_t n, int64_t c, int64_t h, int64_t w,
                                  int64_t k)
{
    return services->maxpool2d_check(op, n, c, h, w, k);
}
