/* libforget — the context: backend choice, threads, seed, logging and host allocator.
 *
 * Threads: a context and everything made from it (models, requests, reports) must be used by
 * one thread at a time — even inference, which uses scratch memory in the model and the
 * backend. Different contexts run in parallel threads and give the same results as run one
 * after another: the library keeps no global mutable state (the one process-wide setting is
 * OpenBLAS's thread count, in a cpu backend built without oneDNN: the most recently created
 * context sets it). Data sets are the exception to one-thread-at-a-time: they are immutable,
 * so one data set (and its views) may be read by any number of threads and contexts at once,
 * and views and splits of it may be made concurrently (see dataset.h). lf_last_error_message()
 * is per thread. */
#ifndef LIBFORGET_CONTEXT_H
#define LIBFORGET_CONTEXT_H

#include "libforget/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lf_context lf_context;

/* Explicit values: ABI. */
typedef enum lf_backend_kind {
    LF_BACKEND_AUTO      = 0, /* the fastest available: cpu if built, else reference */
    LF_BACKEND_REFERENCE = 1, /* plain C, the test oracle; always built */
    LF_BACKEND_CPU       = 2, /* OpenBLAS (+ oneDNN) on host memory */
    LF_BACKEND_CUDA      = 3  /* cuBLAS + libforget kernels */
} lf_backend_kind;

typedef enum lf_log_level {
    LF_LOG_DEBUG = 0,
    LF_LOG_INFO  = 1,
    LF_LOG_WARN  = 2,
    LF_LOG_ERROR = 3,
    LF_LOG_NONE  = 4
} lf_log_level;

typedef void (*lf_log_fn)(void *user, lf_log_level level, const char *message);

/* Host allocator hook (device memory belongs to the backend). NULL functions = the C library's.
 * alloc must return memory aligned to `alignment` (a power of two, >= 64 for tensor blocks).
 * Every host block of the library goes through it (context, data sets, models, the reference
 * and cpu backends' tensors and state), except those of third-party libraries (oneDNN, libsvm,
 * jansson, zlib). It is called from the threads that use the context; when data sets of the
 * context are shared between threads, from several at once, so it must then be thread-safe. */
typedef struct lf_allocator {
    uint32_t struct_size;
    uint32_t reserved;
    void *(*alloc)(void *user, size_t size, size_t alignment);
    void  (*free)(void *user, void *ptr, size_t size);
    void  *user;
} lf_allocator;

/* Size-versioned: set struct_size (LF_CONTEXT_OPTIONS_INIT does); zero fields mean defaults. */
typedef struct lf_context_options {
    uint32_t     struct_size;
    int32_t      backend;    /* lf_backend_kind; 0 = AUTO */
    int32_t      threads;    /* worker threads for CPU backends; 0 = all online cores */
    int32_t      log_level;  /* lf_log_level threshold; 0 = DEBUG (everything the callback wants) */
    uint64_t     seed;       /* default seed for init, shuffling, noise and splits */
    lf_log_fn    log;        /* NULL = no logging; the library never prints */
    void        *log_user;
    lf_allocator allocator;  /* struct_size 0 or NULL functions = malloc/free */
} lf_context_options;

#define LF_CONTEXT_OPTIONS_INIT { (uint32_t)sizeof(lf_context_options), 0, 0, 0, 0, 0, 0, { 0, 0, 0, 0, 0 } }
LF_API lf_status lf_context_options_init(lf_context_options *opts, size_t struct_size);

/* opts may be NULL (defaults). Fails with LF_E_UNSUPPORTED if the backend is not built or not
 * usable on this machine (e.g. CUDA without a device). */
LF_API lf_status lf_context_create(lf_context **out, const lf_context_options *opts);
/* NULL is a no-op. Models and data sets created from the context must be destroyed first. */
LF_API void      lf_context_destroy(lf_context *ctx);

LF_API lf_backend_kind lf_context_backend(const lf_context *ctx);
LF_API int32_t         lf_context_threads(const lf_context *ctx);
LF_API uint64_t        lf_context_seed(const lf_context *ctx);
LF_API void            lf_context_set_user_data(lf_context *ctx, void *user_data);
LF_API void           *lf_context_get_user_data(const lf_context *ctx);

/* "reference", "cpu", "cuda", "auto"; "unknown" for other values. */
LF_API const char *lf_backend_name(lf_backend_kind kind);
/* Parses a backend name; LF_E_INVALID_ARG for an unknown name. */
LF_API lf_status   lf_backend_from_name(const char *name, lf_backend_kind *out);
/* 1 if the backend is built into this library and usable on this machine, else 0. */
LF_API int         lf_backend_is_available(lf_backend_kind kind);

#ifdef __cplusplus
}
#endif
#endif
