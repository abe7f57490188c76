/* The cpu backend (OpenBLAS GEMM on host memory). Placeholder until its kernels land. */
#include "core/internal.h"

const lf__backend_iface *lf__backend_cpu_iface(void)
{
    return NULL;
}
