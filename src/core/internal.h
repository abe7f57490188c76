/* Internal helpers shared by every part of the library: error detail, logging, host memory,
 * size-versioned struct copies, the context's layout. Never installed. */
#ifndef LF_CORE_INTERNAL_H
#define LF_CORE_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "libforget/context.h"
#include "backends/backend.h"
#include "core/error.h"

struct lf_context {
    lf_context_options opts;      /* the caller's options, defaults filled in */
    lf__backend        backend;   /* the chosen backend instance */
    int32_t            threads;   /* resolved thread count (>= 1) */
    /* 1 for the caller's handle + 1 per model and data set not yet destroyed; the context is
     * freed when it reaches 0. Atomic: a data set shared by threads gets views from all of
     * them at once. */
    _Atomic int64_t    refs;
    void              *user_data;
};

/* Every model and data set holds a reference on its context: a context destroyed while
 * children live is freed when the last child goes (and the early destroy is logged). Both are
 * safe to call from several threads at once. */
void lf__context_retain(lf_context *ctx);
void lf__context_release(lf_context *ctx);

/* Logs through the context's callback when level >= its threshold; ctx may be NULL (no-op). */
void lf__log(const lf_context *ctx, lf_log_level level, const char *fmt, ...) LF__PRINTF(3, 4);

/* Host memory through the context's allocator (ctx may be NULL: the C library's). Blocks are
 * 64-byte aligned. lf__alloc returns NULL on failure after setting an LF_E_NOMEM detail naming
 * `what`. lf__calloc zeroes. lf__free(NULL) is a no-op; size must be the allocation's size. */
void *lf__alloc(const lf_context *ctx, size_t size, const char *what);
void *lf__calloc(const lf_context *ctx, size_t count, size_t elem_size, const char *what);
void  lf__free(const lf_context *ctx, void *ptr, size_t size);
char *lf__strdup(const lf_context *ctx, const char *s);   /* free with lf__free(ctx, p, strlen(p)+1) */
/* The same over an allocator hook directly (a NULL hook or NULL functions: the C library's), for
 * code that holds the hook but no context (the host backends). */
void *lf__alloc_with(const lf_allocator *a, size_t size, const char *what);
void  lf__free_with(const lf_allocator *a, void *ptr, size_t size);

/* Copies a caller's size-versioned struct (first field: uint32_t struct_size) into dst, an
 * internal struct of dst_size bytes. src NULL gives a zeroed dst (all defaults). Errors:
 * struct_size < min_size or not a multiple of 4 -> LF_E_ABI; larger than dst_size with a
 * non-zero byte past dst_size -> LF_E_UNSUPPORTED. dst->struct_size is set to dst_size. */
lf_status lf__copy_struct_in(void *dst, size_t dst_size, const void *src, size_t min_size,
                             const char *what);
/* Writes a result struct back: min(caller's struct_size, src_size) bytes; the caller's
 * struct_size is kept. LF_E_ABI if the caller's struct_size < 8 or not a multiple of 4. */
lf_status lf__copy_struct_out(void *dst, const void *src, size_t src_size, const char *what);


/* Milliseconds-resolution monotonic clock in seconds. */
double lf__now_seconds(void);

#endif
