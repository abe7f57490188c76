/* The reference backend: host memory and the plain-C kernels (ref_kernels.c). It is always
 * built and is the oracle every other backend is tested against. */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

static int ref_probe(void)
{
    return 1;
}

static lf_status ref_create(void **priv, const lf__backend_config *cfg)
{
    (void)cfg;
    *priv = NULL;   /* stateless */
    return LF_OK;
}

static void ref_destroy(void *priv)
{
    (void)priv;
}

static lf_status ref_mem_alloc(void *priv, void **ptr, size_t nbytes)
{
    (void)priv;
    *ptr = aligned_alloc(64, (nbytes + 63) / 64 * 64 + 64);
    if (!*ptr)
        return lf__error(LF_E_NOMEM, "reference backend: out of memory allocating %zu bytes", nbytes);
    return LF_OK;
}

static void ref_mem_free(void *priv, void *ptr)
{
    (void)priv;
    free(ptr);
}

static lf_status ref_mem_copy(void *priv, void *dst, const void *src, size_t nbytes)
{
    (void)priv;
    if (nbytes)
        memmove(dst, src, nbytes);
    return LF_OK;
}

static lf_status ref_mem_zero(void *priv, void *dst, size_t nbytes)
{
    (void)priv;
    if (nbytes)
        memset(dst, 0, nbytes);
    return LF_OK;
}

static lf_status ref_synchronize(void *priv)
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
    .mem_alloc = ref_mem_alloc,
    .mem_free = ref_mem_free,
    .mem_upload = ref_mem_copy,
    .mem_download = ref_mem_copy,
    .mem_copy = ref_mem_copy,
    .mem_zero = ref_mem_zero,
    .synchronize = ref_synchronize,
};

const lf__backend_iface *lf__backend_reference_iface(void)
{
    return &reference_iface;
}
