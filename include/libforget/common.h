/* libforget — common definitions: export macro, status codes, progress callback.
 * Every public header includes this one. */
#ifndef LIBFORGET_COMMON_H
#define LIBFORGET_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(LF_BUILDING_LIBRARY)
#  define LF_API __declspec(dllexport)
#elif defined(_WIN32) && !defined(LF_STATIC)
#  define LF_API __declspec(dllimport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define LF_API __attribute__((visibility("default")))
#else
#  define LF_API
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define LF_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#  define LF_DEPRECATED(msg)
#endif

/* Status codes. The values are ABI: never renumber, never insert, only append. */
#define LF_STATUS_MAP(XX)                                                          \
    XX(OK,                0, "success")                                            \
    XX(E_INVALID_ARG,    -1, "invalid argument")                                   \
    XX(E_NOMEM,          -2, "out of memory")                                      \
    XX(E_IO,             -3, "I/O error")                                          \
    XX(E_FORMAT,         -4, "malformed model or dataset file")                    \
    XX(E_UNSUPPORTED,    -5, "operation not supported by this build or backend")   \
    XX(E_BACKEND,        -6, "backend (BLAS, oneDNN, CUDA) failure")               \
    XX(E_UNKNOWN_METHOD, -7, "unknown unlearning method")                          \
    XX(E_UNKNOWN_PARAM,  -8, "unknown hyperparameter")                             \
    XX(E_OUT_OF_RANGE,   -9, "value out of range")                                 \
    XX(E_STATE,         -10, "handle in wrong state")                              \
    XX(E_ABORTED,       -11, "aborted by callback")                                \
    XX(E_ABI,           -12, "struct_size or ABI mismatch")                        \
    XX(E_NUMERIC,       -13, "non-finite value encountered")                       \
    XX(E_SHAPE,         -14, "tensor or data set shape mismatch")                  \
    XX(E_UNKNOWN_ARCH,  -15, "unknown model architecture")

typedef enum lf_status {
#define LF__STATUS_ENUM(name, value, msg) LF_##name = value,
    LF_STATUS_MAP(LF__STATUS_ENUM)
#undef LF__STATUS_ENUM
    LF_STATUS_FORCE_INT32_ = 0x7fffffff
} lf_status;

/* A static description of a status ("invalid argument"); never NULL. */
LF_API const char *lf_strerror(lf_status status);
/* The enumerator's name ("LF_E_INVALID_ARG"); never NULL ("LF_E_UNKNOWN_STATUS" for others). */
LF_API const char *lf_status_name(lf_status status);
/* Detail of the last failure on the calling thread: what was wrong and where (file and offset,
 * tensor name, argument, bounds). Each thread has its own: a failure in one thread never
 * changes another's. A successful call may leave it as it was, so read it right after the call
 * that failed; "" before any failure. Valid until the next libforget call on this thread. */
LF_API const char *lf_last_error_message(void);

/* Progress of a long call (training, unlearning, evaluation). Size-versioned: read only fields
 * that lie within struct_size. */
typedef struct lf_progress {
    uint32_t    struct_size;
    int32_t     epoch;       /* 0-based epoch, or -1 when the call has no epochs */
    int64_t     step;        /* steps done so far */
    int64_t     total;       /* steps in the whole call (0 if unknown) */
    double      loss;        /* running mean loss of the current epoch (NaN if none) */
    double      metric;      /* call-specific figure, e.g. running batch accuracy in [0,1] */
    const char *phase;       /* short static name: "train", "eval", ... */
} lf_progress;

/* Return 0 to continue; any other value aborts the call with LF_E_ABORTED, inputs untouched. */
typedef int (*lf_progress_fn)(void *user, const lf_progress *progress);

#ifdef __cplusplus
}
#endif
#endif
