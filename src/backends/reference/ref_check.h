/* The building blocks of the operations' argument checks (ref_args.c): each returns LF_OK or
 * an error status whose message names the op and the offending argument. */
#ifndef LF_BACKENDS_REFERENCE_REF_CHECK_H
#define LF_BACKENDS_REFERENCE_REF_CHECK_H

#include <stdint.h>

#include "core/error.h"

static inline lf_status check_count(const char *op, const char *what, int64_t n)
{
    if (n < 0)
        return lf__error(LF_E_INVALID_ARG, "%s: %s = %lld is negative", op, what, (long long)n);
    return LF_OK;
}

static inline lf_status check_ptr(const char *op, const char *what, const void *p, int64_t n)
{
    if (n > 0 && !p)
        return lf__error(LF_E_INVALID_ARG, "%s: %s is NULL", op, what);
    return LF_OK;
}

/* rows and cols non-negative, and rows·cols representable (it indexes the buffers). */
static inline lf_status check_matrix(const char *op, int64_t rows, int64_t cols)
{
    LF__TRY(check_count(op, "rows", rows));
    LF__TRY(check_count(op, "columns", cols));
    if (cols > 0 && rows > INT64_MAX / cols)
        return lf__error(LF_E_INVALID_ARG, "%s: %lld x %lld elements overflow", op,
                         (long long)rows, (long long)cols);
    return LF_OK;
}

#endif
