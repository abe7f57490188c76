/* What every file of the CUDA backend module shares, in C and in CUDA C++: the backend's private
 * state, the status helpers that turn CUDA and cuBLAS errors into LF_E_BACKEND with a message,
 * the scratch buffer, and the prototypes of the table's operations (cuda_ops.h).
 *
 * The module (libforget-cuda.so) is loaded by libforget only when the CUDA backend is asked for
 * (cuda_loader.c), so a program that never chooses it never loads the CUDA libraries. Inside the
 * module, lf__error forwards to libforget's through the services table it was given
 * (cuda_module.c), so there is one error slot per thread; the argument checks are the
 * reference's own (ref_args.c, compiled into the module), so every backend rejects the same
 * inputs with the same message.
 *
 * Conventions for the op files (one op family per .cu file, llm.c / ggml-cuda style): each
 * operation is an extern "C" function with exactly the signature of its table entry; it checks
 * its arguments on the host (lf__ref_<op>_args first) before anything is written, launches on
 * the context's stream, and returns lf__cuda_check(cudaGetLastError(), "op"). Nothing exits or
 * aborts. Kernels use 64-bit indices and grid-stride loops; reductions accumulate in double, as
 * the reference does. */
#ifndef LF_BACKENDS_CUDA_CUDA_COMMON_H
#define LF_BACKENDS_CUDA_CUDA_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>
#include <cublas_v2.h>

#include "libforget/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#include "backends/backend.h"
#include "backends/reference/ref_args.h"   /* every op's argument checks */
#include "core/error.h"                    /* lf__error (forwarded), LF__TRY */

typedef struct lf__cuda {
    int            device;
    cudaStream_t   stream;      /* every operation runs on it, in order */
    cublasHandle_t blas;        /* bound to stream; FP32 math (no TF32) */
    int32_t       *flag;        /* one device int kernels report into (lf__cuda_take_flag) */
    void          *scratch;     /* lf__cuda_scratch: grown on demand, freed by destroy */
    size_t         scratch_bytes;
    int32_t        threads;     /* host threads (unused by kernels; kept for symmetry) */
} lf__cuda;


/* LF_OK for cudaSuccess, else LF_E_BACKEND ("cuda: <op>: <CUDA's message>"); an out-of-memory
 * error is LF_E_NOMEM. Clears CUDA's sticky last-error state where it can. */
lf_status lf__cuda_check(cudaError_t err, const char *op);
/* The same for cuBLAS statuses. */
lf_status lf__cuda_check_blas(cublasStatus_t st, const char *op);
/* A device scratch buffer of at least bytes (valid until the next call; stream-ordered use
 * only: kernels queued on the context's stream before a regrow are finished first). */
lf_status lf__cuda_scratch(lf__cuda *cu, size_t bytes, void **out);
/* Waits for the stream, reads the report int into *flag_host and resets it to INT32_MAX (clear).
 * Kernels that find a bad input (a label out of range) atomicMin the smallest bad row into
 * cu->flag, so *flag_host == INT32_MAX means none was found. */
lf_status lf__cuda_take_flag(lf__cuda *cu, int32_t *flag_host, const char *op);
/* The module's operation table (cuda_backend.c). */
const lf__backend_iface *lf__cuda_backend_iface(void);
/* Grid size for n elements at 256 threads per block, capped (grid-stride loops do the rest). */
unsigned lf__cuda_blocks(int64_t n);

#include "backends/cuda/cuda_ops.h"

#ifdef __cplusplus
}
#endif

#endif
