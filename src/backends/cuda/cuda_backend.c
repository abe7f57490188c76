/* The CUDA backend's lifecycle, memory and shared helpers, and its operation table.
 *
 * One device (the current one when the context is created), one non-blocking stream and one
 * cuBLAS handle per backend instance: operations are queued on the stream in call order, and
 * only what hands results to the host (downloads, reductions, label checks) waits for it.
 * cuBLAS runs in plain FP32 (CUBLAS_DEFAULT_MATH, TF32 off) so results agree with the reference
 * backend within float tolerance. */
#include <limits.h>
#include <stdlib.h>

#include "backends/cuda/cuda_common.h"

static int cuda_probe(void)
{
    int count = 0;
    /* cudaGetDeviceCount fails without a driver or a device: either way, not usable */
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return count > 0;
}

lf_status lf__cuda_check(cudaError_t err, const char *op)
{
    if (err == cudaSuccess)
        return LF_OK;
    (void)cudaGetLastError();   /* clear a non-sticky error so the next call starts clean */
    return lf__error(err == cudaErrorMemoryAllocation ? LF_E_NOMEM : LF_E_BACKEND,
                     "cuda: %s: %s (%s)", op, cudaGetErrorString(err), cudaGetErrorName(err));
}

lf_status lf__cuda_check_blas(cublasStatus_t st, const char *op)
{
    if (st == CUBLAS_STATUS_SUCCESS)
        return LF_OK;
    return lf__error(st == CUBLAS_STATUS_ALLOC_FAILED ? LF_E_NOMEM : LF_E_BACKEND,
                     "cuda: %s: cuBLAS status %d (%s)", op, (int)st, cublasGetStatusString(st));
}

unsigned lf__cuda_blocks(int64_t n)
{
    const int64_t threads = 256, max_blocks = 65535;
    int64_t b = (n + threads - 1) / threads;
    return (unsigned)(b < 1 ? 1 : b > max_blocks ? max_blocks : b);
}

lf_status lf__cuda_scratch(lf__cuda *cu, size_t bytes, void **out)
{
    *out = NULL;
    if (bytes <= cu->scratch_bytes && cu->scratch) {
        *out = cu->scratch;
        return LF_OK;
    }
    /* kernels queued earlier may still read the old buffer: finish them before freeing it */
    LF__TRY(lf__cuda_check(cudaStreamSynchronize(cu->stream), "scratch"));
    if (cu->scratch)
        (void)cudaFree(cu->scratch);
    cu->scratch = NULL;
    cu->scratch_bytes = 0;
    size_t grown = bytes < 1024 ? 1024 : bytes + bytes / 4;
    lf_status st = lf__cuda_check(cudaMalloc(&cu->scratch, grown), "scratch");
    if (st != LF_OK) {
        cu->scratch = NULL;
        return lf__error(st, "cuda: scratch: no device memory for %zu bytes", grown);
    }
    cu->scratch_bytes = grown;
    *out = cu->scratch;
    return LF_OK;
}

lf_status lf__cuda_take_flag(lf__cuda *cu, int32_t *flag_host, const char *op)
{
    const int32_t clear = INT32_MAX;
    LF__TRY(lf__cuda_check(cudaMemcpyAsync(flag_host, cu->flag, sizeof *flag_host,
                                           cudaMemcpyDeviceToHost, cu->stream), op));
    LF__TRY(lf__cuda_check(cudaMemcpyAsync(cu->flag, &clear, sizeof clear, cudaMemcpyHostToDevice,
                                           cu->stream), op));
    return lf__cuda_check(cudaStreamSynchronize(cu->stream), op);
}

static void cuda_destroy(void *priv)
{
    lf__cuda *cu = priv;
    if (!cu)
        return;
    if (cu->stream)
        (void)cudaStreamSynchronize(cu->stream);
    if (cu->blas)
        (void)cublasDestroy(cu->blas);
    if (cu->flag)
        (void)cudaFree(cu->flag);
    if (cu->scratch)
        (void)cudaFree(cu->scratch);
    if (cu->stream)
        (void)cudaStreamDestroy(cu->stream);
    free(cu);
}

static lf_status cuda_create(void **priv, const lf__backend_config *cfg)
{
    *priv = NULL;
    /* the state is small and host-side; the context's allocator hook is for bulk host memory */
    lf__cuda *cu = calloc(1, sizeof *cu);
    if (!cu)
        return lf__error(LF_E_NOMEM, "cuda: no memory for the backend's state");
    cu->threads = cfg ? cfg->threads : 1;
    lf_status st = lf__cuda_check(cudaGetDevice(&cu->device), "create: cudaGetDevice");
    if (st == LF_OK)
        st = lf__cuda_check(cudaStreamCreateWithFlags(&cu->stream, cudaStreamNonBlocking),
                            "create: cudaStreamCreate");
    if (st == LF_OK)
        st = lf__cuda_check_blas(cublasCreate(&cu->blas), "create: cublasCreate");
    if (st == LF_OK)
        st = lf__cuda_check_blas(cublasSetStream(cu->blas, cu->stream), "create: cublasSetStream");
    if (st == LF_OK)
        st = lf__cuda_check_blas(cublasSetMathMode(cu->blas, CUBLAS_DEFAULT_MATH),
                                 "create: cublasSetMathMode");
    if (st == LF_OK)
        st = lf__cuda_check(cudaMalloc((void **)&cu->flag, sizeof *cu->flag), "create: report flag");
    if (st == LF_OK) {
        const int32_t clear = INT32_MAX;
        st = lf__cuda_check(cudaMemcpy(cu->flag, &clear, sizeof clear, cudaMemcpyHostToDevice),
                            "create: report flag");
    }
    if (st != LF_OK) {
        cuda_destroy(cu);
        return st;
    }
    *priv = cu;
    return LF_OK;
}

/* ---- memory ---- */

lf_status lf__cuda_mem_alloc(void *priv, void **ptr, size_t nbytes)
{
    (void)priv;
    *ptr = NULL;
    /* cudaMalloc aligns to at least 256 bytes; a 0-byte request still gets a unique block */
    lf_status st = lf__cuda_check(cudaMalloc(ptr, nbytes ? nbytes : 1), "mem_alloc");
    if (st != LF_OK) {
        *ptr = NULL;
        return lf__error(st, "cuda: mem_alloc: no device memory for %zu bytes", nbytes);
    }
    return LF_OK;
}

void lf__cuda_mem_free(void *priv, void *ptr)
{
    (void)priv;
    if (ptr)
        (void)cudaFree(ptr);
}

/* Host copies wait for the stream: the caller may reuse or free its host buffer on return, and
 * a download must see every operation queued before it. */
static lf_status copy_and_wait(lf__cuda *cu, void *dst, const void *src, size_t nbytes,
                               enum cudaMemcpyKind kind, const char *op)
{
    if (nbytes == 0)
        return LF_OK;
    if (!dst || !src)
        return lf__error(LF_E_INVALID_ARG, "cuda: %s: NULL buffer", op);
    LF__TRY(lf__cuda_check(cudaMemcpyAsync(dst, src, nbytes, kind, cu->stream), op));
    return lf__cuda_check(cudaStreamSynchronize(cu->stream), op);
}

lf_status lf__cuda_mem_upload(void *priv, void *dst, const void *src_host, size_t nbytes)
{
    return copy_and_wait(priv, dst, src_host, nbytes, cudaMemcpyHostToDevice, "mem_upload");
}

lf_status lf__cuda_mem_download(void *priv, void *dst_host, const void *src, size_t nbytes)
{
    return copy_and_wait(priv, dst_host, src, nbytes, cudaMemcpyDeviceToHost, "mem_download");
}

lf_status lf__cuda_mem_copy(void *priv, void *dst, const void *src, size_t nbytes)
{
    lf__cuda *cu = priv;
    if (nbytes == 0 || dst == src)
        return LF_OK;
    if (!dst || !src)
        return lf__error(LF_E_INVALID_ARG, "cuda: mem_copy: NULL buffer");
    return lf__cuda_check(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, cu->stream),
                          "mem_copy");
}

lf_status lf__cuda_mem_zero(void *priv, void *dst, size_t nbytes)
{
    lf__cuda *cu = priv;
    if (nbytes == 0)
        return LF_OK;
    if (!dst)
        return lf__error(LF_E_INVALID_ARG, "cuda: mem_zero: NULL buffer");
    return lf__cuda_check(cudaMemsetAsync(dst, 0, nbytes, cu->stream), "mem_zero");
}

lf_status lf__cuda_synchronize(void *priv)
{
    lf__cuda *cu = priv;
    return lf__cuda_check(cudaStreamSynchronize(cu->stream), "synchronize");
}

/* ---- the table ---- */

static const lf__backend_iface cuda_iface = {
    .iface_version = LF__BACKEND_IFACE_VERSION,
    .name = "cuda",
    .kind = LF_BACKEND_CUDA,
    .probe = cuda_probe,
    .create = cuda_create,
    .destroy = cuda_destroy,
    .mem_alloc = lf__cuda_mem_alloc,
    .mem_free = lf__cuda_mem_free,
    .mem_upload = lf__cuda_mem_upload,
    .mem_download = lf__cuda_mem_download,
    .mem_copy = lf__cuda_mem_copy,
    .mem_zero = lf__cuda_mem_zero,
    .synchronize = lf__cuda_synchronize,
    .gemm = lf__cuda_gemm,
    .bias_add_fwd = lf__cuda_bias_add_fwd,
    .bias_bwd = lf__cuda_bias_bwd,
    .axpby = lf__cuda_axpby,
    .relu_fwd = lf__cuda_relu_fwd,
    .relu_bwd = lf__cuda_relu_bwd,
    .normalize_fwd = lf__cuda_normalize_fwd,
    .softmax_xent_fwd = lf__cuda_softmax_xent_fwd,
    .softmax_xent_bwd = lf__cuda_softmax_xent_bwd,
    .softmax_fwd = lf__cuda_softmax_fwd,
    .sgd_step = lf__cuda_sgd_step,
    .sum_squares = lf__cuda_sum_squares,
    .count_nonfinite = lf__cuda_count_nonfinite,
    .count_correct = lf__cuda_count_correct,
    .rng_uniform = lf__cuda_rng_uniform,
    .rng_normal = lf__cuda_rng_normal,
    .conv2d_fwd = lf__cuda_conv2d_fwd,
    .conv2d_bwd_data = lf__cuda_conv2d_bwd_data,
    .conv2d_bwd_weights = lf__cuda_conv2d_bwd_weights,
    .batchnorm_fwd_train = lf__cuda_batchnorm_fwd_train,
    .batchnorm_fwd_eval = lf__cuda_batchnorm_fwd_eval,
    .batchnorm_bwd = lf__cuda_batchnorm_bwd,
    .maxpool2d_fwd = lf__cuda_maxpool2d_fwd,
    .maxpool2d_bwd = lf__cuda_maxpool2d_bwd,
    .avgpool_global_fwd = lf__cuda_avgpool_global_fwd,
    .avgpool_global_bwd = lf__cuda_avgpool_global_bwd,
    .apply_mask = lf__cuda_apply_mask,
    .batchnorm_bwd_eval = lf__cuda_batchnorm_bwd_eval,
    .batchnorm_relu_fwd_train = lf__cuda_batchnorm_relu_fwd_train,
    .batchnorm_relu_fwd_eval = lf__cuda_batchnorm_relu_fwd_eval,
    .batchnorm_relu_bwd = lf__cuda_batchnorm_relu_bwd,
    .layernorm_fwd = lf__cuda_layernorm_fwd,
    .layernorm_bwd = lf__cuda_layernorm_bwd,
    .gelu_fwd = lf__cuda_gelu_fwd,
    .gelu_bwd = lf__cuda_gelu_bwd,
    .softmax_bwd = lf__cuda_softmax_bwd,
    .dropout = lf__cuda_dropout,
    .transpose = lf__cuda_transpose,
    .adam_step = lf__cuda_adam_step,
    .gemm_batched = lf__cuda_gemm_batched,
};

const lf__backend_iface *lf__cuda_backend_iface(void)
{
    return &cuda_iface;
}
