/* The backends built into this library (ggml-style static registry). */
#include "lf_config.h"
#include "core/internal.h"

const lf__backend_iface *lf__backend_find(int32_t kind)
{
    const lf__backend_iface *b = NULL;
    switch (kind) {
    case LF_BACKEND_REFERENCE: b = lf__backend_reference_iface(); break;
    case LF_BACKEND_CPU:       b = lf__backend_cpu_iface(); break;
    case LF_BACKEND_CUDA:      b = lf__backend_cuda_iface(); break;
    default:                   b = NULL; break;
    }
    /* a table from another interface version would read past its end */
    if (b && b->iface_version != LF__BACKEND_IFACE_VERSION)
        return NULL;
    return b;
}
