/* The safetensors container, independent of models: a strict parser into a table of tensors
 * (name, dtype, shape, byte range) plus the string metadata, element conversion to float32, and
 * a writer of the canonical layout. Never installed.
 *
 * Layout: an 8-byte little-endian u64 N, N bytes of UTF-8 JSON (an object: tensor name ->
 * {"dtype", "shape", "data_offsets": [begin, end]} with offsets relative to the data buffer,
 * plus an optional "__metadata__" object of string -> string), then the data buffer, whose
 * tensors (little-endian, C order) cover it exactly: contiguous, no overlaps, no gaps, no
 * trailing bytes (huggingface/safetensors). */
#ifndef LF_CORE_IO_SAFETENSORS_H
#define LF_CORE_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

/* The reference implementation's limit; real headers are a few MB at most. */
#define LF__SAFETENSORS_MAX_HEADER 100000000u
/* More dimensions than any tensor of a vision classifier needs. */
#define LF__SAFETENSORS_MAX_DIMS 8

/* The element types of the format; a file naming any other dtype is rejected. */
typedef enum lf__safetensors_dtype {
    LF__ST_BOOL = 0,
    LF__ST_U8,
    LF__ST_I8,
    LF__ST_I16,
    LF__ST_U16,
    LF__ST_F16,
    LF__ST_BF16,
    LF__ST_I32,
    LF__ST_U32,
    LF__ST_F32,
    LF__ST_F64,
    LF__ST_I64,
    LF__ST_U64,
    LF__ST_F8_E5M2,
    LF__ST_F8_E4M3,
    LF__ST_DTYPE_COUNT
} lf__safetensors_dtype;

/* "F32", "BF16", ... ("?" for values out of range). */
const char *lf__safetensors_dtype_name(lf__safetensors_dtype dtype);
/* Bytes per element (0 for values out of range). */
size_t      lf__safetensors_dtype_size(lf__safetensors_dtype dtype);

typedef struct lf__safetensors_tensor {
    char    *name;
    int32_t  dtype;                              /* lf__safetensors_dtype */
    int32_t  ndim;                               /* 0: a scalar */
    int64_t  shape[LF__SAFETENSORS_MAX_DIMS];
    size_t   numel;
    size_t   begin, end;                         /* byte range in the data buffer */
} lf__safetensors_tensor;

/* A parsed file. The tensor data stays in the caller's bytes, which must outlive the table. */
typedef struct lf__safetensors_file {
    const lf_context       *ctx;
    char                   *path;        /* copy, for messages */
    const uint8_t          *data;        /* the data buffer (borrowed) */
    size_t                  data_size;
    size_t                  data_start;  /* file offset of data[0]: 8 + header length */
    lf__safetensors_tensor *tensors;     /* in header order */
    size_t                  n_tensors;
    char                  **meta_keys;   /* __metadata__, in header order */
    char                  **meta_values;
    size_t                  n_meta;
} lf__safetensors_file;

/* Parses and checks the whole of bytes[0, size) (the file's contents): every violation of the
 * format is LF_E_FORMAT with a message naming path and the offending tensor and/or byte offset.
 * On failure f is left empty (lf__safetensors_free is still safe). */
lf_status lf__safetensors_parse(lf__safetensors_file *f, const lf_context *ctx, const char *path,
                                const uint8_t *bytes, size_t size);
/* Frees the table (not the bytes). Safe on a zeroed or already freed file. */
void      lf__safetensors_free(lf__safetensors_file *f);

/* The tensor called name, or NULL. */
const lf__safetensors_tensor *lf__safetensors_find(const lf__safetensors_file *f, const char *name);
/* The __metadata__ value of key, or NULL. */
const char *lf__safetensors_metadata(const lf__safetensors_file *f, const char *key);

/* The tensor's elements as float32 into dst (numel floats): F32 as is, F16 and BF16 exactly,
 * F64 rounded to nearest (out-of-range values become ±inf), I64 rounded to nearest. Other dtypes:
 * LF_E_FORMAT naming the tensor and its dtype. */
lf_status lf__safetensors_read_f32(const lf__safetensors_file *f, const lf__safetensors_tensor *t,
                                   float *dst);
/* The tensor's raw bytes (end - begin of them), e.g. U8 masks. */
const uint8_t *lf__safetensors_raw(const lf__safetensors_file *f, const lf__safetensors_tensor *t);

/* "[256, 784]" into buf (truncated to size), for messages; returns buf. */
const char *lf__safetensors_shape_text(char *buf, size_t size, int32_t ndim, const int64_t *shape);

/* IEEE half and bfloat16 bit patterns to float (exact: every such value is a float). */
float lf__safetensors_f16_to_f32(uint16_t bits);
float lf__safetensors_bf16_to_f32(uint16_t bits);

/* A tensor to write: data holds numel elements of dtype, little-endian, C order. */
typedef struct lf__safetensors_out {
    const char    *name;
    int32_t        dtype;   /* lf__safetensors_dtype */
    int32_t        ndim;
    const int64_t *shape;   /* ndim entries, each >= 0 */
    const void    *data;
} lf__safetensors_out;

/* Writes the canonical layout atomically (lf__atomic_open / commit: a failure never leaves a
 * partial file, and an existing file at path is replaced only by a complete one): the header as
 * compact JSON with "__metadata__" first (omitted when n_meta is 0) and the tensors in the
 * order given, padded with spaces to a multiple of 8 bytes; the data in the same order,
 * contiguous. Bad arguments (duplicate or reserved names, invalid UTF-8, negative dimensions,
 * sizes that overflow) are LF_E_INVALID_ARG; write failures LF_E_IO; both name path. */
lf_status lf__safetensors_write(const lf_context *ctx, const char *path,
                                const lf__safetensors_out *tensors, size_t n_tensors,
                                const char *const *meta_keys, const char *const *meta_values,
                                size_t n_meta);

#endif
