/* Host memory through the context's allocator hook (64-byte aligned for vectorised kernels). */
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

#define LF__ALIGN 64

static size_t round_up(size_t size)
{
    return (size + LF__ALIGN - 1) / LF__ALIGN * LF__ALIGN;
}

void *lf__alloc_with(const lf_allocator *a, size_t size, const char *what)
{
    if (size == 0)
        size = 1;
    if (size > SIZE_MAX - LF__ALIGN) {
        lf__error(LF_E_NOMEM, "out of memory allocating %zu bytes for %s", size, what);
        return NULL;
    }
    void *p;
    if (a && a->alloc)
        p = a->alloc(a->user, size, LF__ALIGN);
    else
        p = aligned_alloc(LF__ALIGN, round_up(size));
    if (!p)
        lf__error(LF_E_NOMEM, "out of memory allocating %zu bytes for %s", size, what);
    return p;
}

void lf__free_with(const lf_allocator *a, void *ptr, size_t size)
{
    if (!ptr)
        return;
    if (a && a->free)
        a->free(a->user, ptr, size ? size : 1);
    else
        free(ptr);
}

void *lf__alloc(const lf_context *ctx, size_t size, const char *what)
{
    return lf__alloc_with(ctx ? &ctx->opts.allocator : NULL, size, what);
}

void *lf__calloc(const lf_context *ctx, size_t count, size_t elem_size, const char *what)
{
    if (elem_size && count > SIZE_MAX / elem_size) {
        lf__error(LF_E_NOMEM, "size overflow allocating %zu x %zu bytes for %s", count, elem_size, what);
        return NULL;
    }
    void *p = lf__alloc(ctx, count * elem_size, what);
    if (p)
        memset(p, 0, count * elem_size > 0 ? count * elem_size : 1);
    return p;
}

void lf__free(const lf_context *ctx, void *ptr, size_t size)
{
    lf__free_with(ctx ? &ctx->opts.allocator : NULL, ptr, size);
}

char *lf__strdup(const lf_context *ctx, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = lf__alloc(ctx, n, "a string");
    if (p)
        memcpy(p, s, n);
    return p;
}
