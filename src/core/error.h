/* The library's error detail: lf__error and friends, and the LF__TRY / LF__CHECK_ARG guards.
 * Split from internal.h so code compiled as C++ (the CUDA backend's .cu files, through
 * backends/cuda/cuda_common.h) can share them: nothing here needs C11 atomics. Never installed. */
#ifndef LF_CORE_ERROR_H
#define LF_CORE_ERROR_H

#include <stdarg.h>

#include "libforget/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#  define LF__PRINTF(fmt_idx, args_idx) __attribute__((format(printf, fmt_idx, args_idx)))
#else
#  define LF__PRINTF(fmt_idx, args_idx)
#endif

/* Sets the calling thread's detail message (printf-style) and returns status, so failures read
 * `return lf__error(LF_E_FORMAT, "%s: offset %zu: bad magic", path, off);`. */
lf_status lf__error(lf_status status, const char *fmt, ...) LF__PRINTF(2, 3);
lf_status lf__error_v(lf_status status, const char *fmt, va_list ap);
/* Prefixes the current detail message with "<prefix>: " (adds context while unwinding). */
void      lf__error_prefix(const char *fmt, ...) LF__PRINTF(1, 2);
void      lf__error_clear(void);

/* Guards for public entry points. */
#define LF__CHECK_ARG(cond, ...) \
    do { if (!(cond)) return lf__error(LF_E_INVALID_ARG, __VA_ARGS__); } while (0)
#define LF__TRY(expr) \
    do { lf_status lf__st_ = (expr); if (lf__st_ != LF_OK) return lf__st_; } while (0)

#ifdef __cplusplus
}
#endif

#endif
