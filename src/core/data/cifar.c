/* CIFAR-10/100 binary batches: fixed-size records <label byte(s)><3×32×32 pixel bytes, CHW>. */
#include <string.h>

#include "core/dataset_internal.h"
#include "core/fileio.h"

#define CIFAR_PIXELS 3072u
#define CIFAR_MAX_BYTES ((size_t)1 << 31)

lf_status lf_dataset_load_cifar(lf_dataset **out, lf_context *ctx, const char *const *paths,
                                size_t n_paths, int32_t classes)
{
    LF__CHECK_ARG(out, "lf_dataset_load_cifar: out is NULL");
    *out = NULL;
    LF__CHECK_ARG(ctx, "lf_dataset_load_cifar: ctx is NULL");
    LF__CHECK_ARG(paths && n_paths > 0, "lf_dataset_load_cifar: no files given");
    LF__CHECK_ARG(classes == 10 || classes == 100, "lf_dataset_load_cifar: classes = %d, must be 10 or 100",
                  (int)classes);
    for (size_t f = 0; f < n_paths; f++)
        LF__CHECK_ARG(paths[f], "lf_dataset_load_cifar: paths[%zu] is NULL", f);

    const size_t label_bytes = classes == 10 ? 1 : 2;   /* CIFAR-100: coarse, fine */
    const size_t record = label_bytes + CIFAR_PIXELS;
    uint8_t **files = lf__calloc(ctx, n_paths, sizeof *files, "file list");
    size_t *sizes = lf__calloc(ctx, n_paths, sizeof *sizes, "file list");
    float *x = NULL;
    int32_t *y = NULL;
    size_t n = 0;
    lf_status st = (files && sizes) ? LF_OK : LF_E_NOMEM;
    for (size_t f = 0; st == LF_OK && f < n_paths; f++) {
        st = lf__read_file(ctx, paths[f], CIFAR_MAX_BYTES, &files[f], &sizes[f]);
        if (st == LF_OK && sizes[f] == 0)
            st = lf__error(LF_E_FORMAT, "%s: offset 0: empty file", paths[f]);
        if (st == LF_OK && sizes[f] % record != 0)
            st = lf__error(LF_E_FORMAT, "%s: offset %zu: truncated record (file size %zu is not a multiple "
                           "of the %zu-byte CIFAR-%d record)", paths[f], sizes[f] / record * record,
                           sizes[f], record, (int)classes);
        if (st == LF_OK)
            n += sizes[f] / record;
    }
    if (st == LF_OK) {
        x = lf__alloc(ctx, n * CIFAR_PIXELS * sizeof *x, "CIFAR images");
        y = lf__alloc(ctx, n * sizeof *y, "CIFAR labels");
        if (!x || !y)
            st = LF_E_NOMEM;
    }
    size_t i = 0;
    for (size_t f = 0; st == LF_OK && f < n_paths; f++) {
        for (size_t off = 0; off < sizes[f]; off += record, i++) {
            int32_t label = files[f][off + label_bytes - 1];
            if (label >= classes) {
                st = lf__error(LF_E_FORMAT, "%s: offset %zu: label %d is not below %d", paths[f],
                               off + label_bytes - 1, (int)label, (int)classes);
                break;
            }
            y[i] = label;
            const uint8_t *px = files[f] + off + label_bytes;
            for (size_t k = 0; k < CIFAR_PIXELS; k++)
                x[i * CIFAR_PIXELS + k] = (float)px[k] / 255.0f;
        }
    }
    for (size_t f = 0; files && f < n_paths; f++)
        lf__free(ctx, files[f], sizes[f] + 1);
    lf__free(ctx, files, n_paths * sizeof *files);
    lf__free(ctx, sizes, n_paths * sizeof *sizes);
    if (st != LF_OK) {
        lf__free(ctx, x, n * CIFAR_PIXELS * sizeof *x);
        lf__free(ctx, y, n * sizeof *y);
        return st;
    }
    return lf__dataset_adopt(out, ctx, x, y, n, 3, 32, 32, classes, paths[0]);
}
