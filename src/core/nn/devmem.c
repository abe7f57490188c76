/* Backend memory for models, batches and training state: sizes checked for overflow before the
 * backend sees them, and a free that tolerates NULL so cleanup paths stay simple. */
#include <stdint.h>

#include "core/nn/nn_internal.h"

lf_status lf__nn_dev_alloc(lf_context *ctx, void **p, size_t count, size_t elem_size, int zero,
                           const char *what)
{
    *p = NULL;
    if (elem_size && count > SIZE_MAX / elem_size)
        return lf__error(LF_E_NOMEM, "%s: %zu x %zu bytes overflow", what, count, elem_size);
    size_t bytes = count * elem_size;
    lf_status st = LF__BE(ctx, mem_alloc, p, bytes);
    if (st != LF_OK) {
        *p = NULL;
        lf__error_prefix("%s (%zu bytes)", what, bytes);
        return st;
    }
    if (zero) {
        st = LF__BE(ctx, mem_zero, *p, bytes);
        if (st != LF_OK) {
            lf__nn_dev_free(ctx, *p);
            *p = NULL;
            return st;
        }
    }
    return LF_OK;
}

void lf__nn_dev_free(lf_context *ctx, void *p)
{
    if (p && ctx->backend.iface->mem_free)
        ctx->backend.iface->mem_free(ctx->backend.priv, p);
}
