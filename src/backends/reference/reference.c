/* The reference backend: host memory and the plain-C kernels (ref_kernels.c). It is always
 * built and is the oracle every other backend is tested against. The memory functions are
 * shared with the cpu backend through ref_kernels.h; both take host memory from the context's
 * allocator hook. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "backends/reference/ref_kernels.h"

static int ref_probe(void)
{
    return 1;
}

static lf_status ref_create(void **priv, const lf__backend_config *cfg)
{
    /* the only state: the allocator */
    *priv = lf__host_state_alloc(cfg, sizeof(lf__host_mem), "the reference backend's state");
    return *priv ? LF_OK : LF_E_NOMEM;
}

static void ref_destroy(void *priv)
{
    lf__host_state_free(priv, sizeof(lf__host_mem));
}

void *lf__host_state_alloc(const lf__backend_config *cfg, size_t size, const char *what)
{
    const lf_allocator *a = cfg ? cfg->allocator : NULL;
    lf__host_mem *state = lf__alloc_with(a, size, what);
    if (!state)
        return NULL;
    memset(state, 0, size);
    if (a)
        state->allocator = *a;
    return state;
}

void lf__host_state_free(void *state, size_t size)
{
    if (!state)
        return;
    lf_allocator a = ((lf__host_mem *)state)->allocator;   /* not read from the freed block */
    lf__free_with(&a, state, size);
}

#define HEADER 64   /* keeps the caller's pointer 64-byte aligned */

lf_status lf__ref_mem_alloc(void *priv, void **ptr, size_t nbytes)
{
    const lf_allocator *a = priv ? &((const lf__host_mem *)priv)->allocator : NULL;
    *ptr = NULL;
    /* the header, whole 64-byte lines, plus one spare line so vectorised tails never touch a
     * foreign page */
    if (nbytes > SIZE_MAX - 64 - HEADER - 64)
        return lf__error(LF_E_NOMEM, "backend memory: %zu bytes is too large to allocate", nbytes);
    size_t total = HEADER + (nbytes + 63) / 64 * 64 + 64;
    unsigned char *block = lf__alloc_with(a, total, "backend memory");
    if (!block)
        return LF_E_NOMEM;
    memcpy(block, &total, sizeof total);
    *ptr = block + HEADER;
    return LF_OK;
}

void lf__ref_mem_free(void *priv, void *ptr)
{
    if (!ptr)
        return;
    const lf_allocator *a = priv ? &((const lf__host_mem *)priv)->allocator : NULL;
    unsigned char *block = (unsigned char *)ptr - HEADER;
    size_t total;
    memcpy(&total, block, sizeof total);
    lf__free_with(a, block, total);
}

lf_status lf__ref_mem_copy(void *priv, void *dst, const void *src, size_t nbytes)
{
    (void)priv;
    if (nbytes)
        memmove(dst, src, nbytes);
    return LF_OK;
}

lf_status lf__ref_mem_zero(void *priv, void *dst, size_t nbytes)
{
    (void)priv;
    if (nbytes)
        memset(dst, 0, nbytes);
    return LF_OK;
}

lf_status lf__ref_synchronize(void *priv)
{
    (void)priv;
    return LF_OK;
}

static const lf__backend_iface reference_iface = {
    .iface_version = LF__BACKEND_IFACE_VERSION,
    .name = "reference",
    .kind = LF_BACKEND_REFERENCE,
    .probe = ref_probe,
    .create = ref_create,
    .destroy = ref_destroy,
    .mem_alloc = lf__ref_mem_alloc,
    .mem_free = lf__ref_mem_free,
    .mem_upload = lf__ref_mem_copy,
    .mem_download = lf__ref_mem_copy,
    .mem_copy = lf__ref_mem_copy,
    .mem_zero = lf__ref_mem_zero,
    .synchronize = lf__ref_synchronize,
    .gemm = lf__ref_gemm,
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
    .conv2d_fwd = lf__ref_conv2d_fwd,
    .conv2d_bwd_data = lf__ref_conv2d_bwd_data,
    .conv2d_bwd_weights = lf__ref_conv2d_bwd_weights,
    .batchnorm_fwd_train = lf__ref_batchnorm_fwd_train,
    .batchnorm_fwd_eval = lf__ref_batchnorm_fwd_eval,
    .batchnorm_bwd = lf__ref_batchnorm_bwd,
    .maxpool2d_fwd = lf__ref_maxpool2d_fwd,
    .maxpool2d_bwd = lf__ref_maxpool2d_bwd,
    .avgpool_global_fwd = lf__ref_avgpool_global_fwd,
    .avgpool_global_bwd = lf__ref_avgpool_global_bwd,
    .apply_mask = lf__ref_apply_mask,
    .batchnorm_bwd_eval = lf__ref_batchnorm_bwd_eval,
    .batchnorm_relu_fwd_train = lf__ref_batchnorm_relu_fwd_train,
    .batchnorm_relu_fwd_eval = lf__ref_batchnorm_relu_fwd_eval,
    .batchnorm_relu_bwd = lf__ref_batchnorm_relu_bwd,
    .layernorm_fwd = lf__ref_layernorm_fwd,
    .layernorm_bwd = lf__ref_layernorm_bwd,
    .gelu_fwd = lf__ref_gelu_fwd,
    .gelu_bwd = lf__ref_gelu_bwd,
    .softmax_bwd = lf__ref_softmax_bwd,
    .dropout = lf__ref_dropout,
    .transpose = lf__ref_transpose,
    .adam_step = lf__ref_adam_step,
    .gemm_batched = lf__ref_gemm_batched,
    .batchnorm_relu_maxpool_fwd_eval = lf__ref_batchnorm_relu_maxpool_fwd_eval,
};

const lf__backend_iface *lf__backend_reference_iface(void)
{
    return &reference_iface;
}
