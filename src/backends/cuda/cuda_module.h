/* The boundary between libforget and its CUDA backend module (libforget-cuda.so), shared by
 * both sides: the one symbol the module exports, and the services libforget hands it.
 *
 * Why a module: linking cudart and cuBLAS into libforget.so would load ~600 MB of CUDA
 * libraries into every program, GPU or not (and under valgrind each test start took 14 s).
 * As a module, they load only when a program asks for the CUDA backend (cuda_loader.c). */
#ifndef LF_BACKENDS_CUDA_CUDA_MODULE_H
#define LF_BACKENDS_CUDA_CUDA_MODULE_H

#include <stdarg.h>
#include <stdint.h>

#include "backends/backend.h"

/* Bump when lf__cuda_services changes; the module refuses another version. (2: the argument
 * checks left the table; the module compiles the reference's ref_args.c in.) */
#define LF__CUDA_SERVICES_VERSION 2

/* libforget's functions the module calls back: its thread-local error slot, so a failure in
 * the module reads back through lf_last_error_message like any other. */
typedef struct lf__cuda_services {
    uint32_t version;   /* LF__CUDA_SERVICES_VERSION */
    lf_status (*error_v)(lf_status status, const char *fmt, va_list ap);
} lf__cuda_services;

/* The module's entry point: its operation table, or NULL when services is NULL or of another
 * version. Called once, before any other use of the module. */
#define LF__CUDA_MODULE_ENTRY "lf_cuda_backend_module_v1"
typedef const lf__backend_iface *(*lf__cuda_module_entry_fn)(const lf__cuda_services *services);

#endif
