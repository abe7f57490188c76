/* Status strings (from the LF_STATUS_MAP table, so names and messages cannot drift) and the
 * per-thread detail message. */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

#define LF__DETAIL_MAX 1024

static _Thread_local char detail[LF__DETAIL_MAX];

const char *lf_strerror(lf_status status)
{
    switch (status) {
#define LF__CASE(name, value, msg) case LF_##name: return msg;
        LF_STATUS_MAP(LF__CASE)
#undef LF__CASE
    default: return "unknown status";
    }
}

const char *lf_status_name(lf_status status)
{
    switch (status) {
#define LF__CASE(name, value, msg) case LF_##name: return "LF_" #name;
        LF_STATUS_MAP(LF__CASE)
#undef LF__CASE
    default: return "LF_E_UNKNOWN_STATUS";
    }
}

const char *lf_last_error_message(void)
{
    return detail;
}

lf_status lf__error_v(lf_status status, const char *fmt, va_list ap)
{
    if (fmt)
        vsnprintf(detail, sizeof detail, fmt, ap);
    else
        detail[0] = '\0';
    return status;
}

lf_status lf__error(lf_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lf__error_v(status, fmt, ap);
    va_end(ap);
    return status;
}

void lf__error_prefix(const char *fmt, ...)
{
    char old[LF__DETAIL_MAX];
    memcpy(old, detail, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof detail - 2)
        return;
    /* append ": <old detail>" after the prefix, truncating the old detail if needed */
    size_t len = (size_t)n;
    detail[len++] = ':';
    detail[len++] = ' ';
    size_t room = sizeof detail - len - 1, old_len = strlen(old);
    memcpy(detail + len, old, old_len < room ? old_len : room);
    detail[len + (old_len < room ? old_len : room)] = '\0';
}

void lf__error_clear(void)
{
    detail[0] = '\0';
}

void lf__log(const lf_context *ctx, lf_log_level level, const char *fmt, ...)
{
    if (!ctx || !ctx->opts.log || (int32_t)level < ctx->opts.log_level)
        return;
    char msg[LF__DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ctx->opts.log(ctx->opts.log_user, level, msg);
}
