/* The module side of cuda_module.h: the exported entry point, and lf__error, which the module's
 * files call as if they were inside libforget, forwarded to the services libforget handed
 * over. */
#include <stddef.h>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_module.h"

static const lf__cuda_services *services;

__attribute__((visibility("default")))
const lf__backend_iface *lf_cuda_backend_module_v1(const lf__cuda_services *s);

const lf__backend_iface *lf_cuda_backend_module_v1(const lf__cuda_services *s)
{
    if (!s || s->version != LF__CUDA_SERVICES_VERSION || !s->error_v)
        return NULL;
    services = s;
    return lf__cuda_backend_iface();
}

lf_status lf__error(lf_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lf_status st = services->error_v(status, fmt, ap);
    va_end(ap);
    return st;
}
