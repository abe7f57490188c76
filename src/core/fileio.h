/* Whole-file reads (raw or gzip, bounded) and atomic writes (temporary file + rename). */
#ifndef LF_CORE_FILEIO_H
#define LF_CORE_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/internal.h"

/* Reads a whole file into a buffer from lf__alloc (free with lf__free(ctx, data, size + 1); a NUL
 * byte follows the data). Gzip content (magic 1f 8b) is decompressed. Files (or decompressed
 * contents) larger than max_size fail with LF_E_FORMAT; a missing or unreadable file with LF_E_IO.
 * Errors name the path. */
lf_status lf__read_file(const lf_context *ctx, const char *path, size_t max_size, uint8_t **data,
                        size_t *size);

/* Atomic write: lf__atomic_open creates "<path>.tmp.<pid>.<n>" beside path; write to af->fp;
 * lf__atomic_commit flushes, fsyncs, closes and renames over path; on any failure, or on
 * lf__atomic_abort, the temporary file is removed and path is untouched. */
typedef struct lf__atomic_file {
    FILE *fp;
    char *tmp_path;
    char *path;
    const lf_context *ctx;
} lf__atomic_file;

lf_status lf__atomic_open(lf__atomic_file *af, const lf_context *ctx, const char *path);
lf_status lf__atomic_commit(lf__atomic_file *af);
void      lf__atomic_abort(lf__atomic_file *af);

#endif
