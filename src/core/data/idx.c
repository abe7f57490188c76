/* IDX files (MNIST family): big-endian header, uint8 payload; gzip or raw. */
#include <string.h>

#include "core/dataset_internal.h"
#include "core/fileio.h"

#define IDX_MAX_BYTES ((size_t)1 << 32)   /* 4 GiB: far above any MNIST-style set */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Parses an IDX header of `want_dims` dimensions of unsigned bytes; checks the payload size. */
static lf_status parse_header(const uint8_t *data, size_t size, const char *path, uint32_t want_magic,
                              int want_dims, uint32_t dims[3], size_t *payload_offset)
{
    if (size < 4)
        return lf__error(LF_E_FORMAT, "%s: offset 0: file too short for an IDX magic (%zu bytes)", path, size);
    uint32_t magic = be32(data);
    if (magic != want_magic)
        return lf__error(LF_E_FORMAT, "%s: offset 0: magic 0x%08x, expected 0x%08x (IDX %s)", path, magic,
                         want_magic, want_dims == 3 ? "images" : "labels");
    size_t header = 4 + 4 * (size_t)want_dims;
    if (size < header)
        return lf__error(LF_E_FORMAT, "%s: offset %zu: truncated header (%zu of %zu bytes)", path, size,
                         size, header);
    size_t count = 1;
    for (int i = 0; i < want_dims; i++) {
        dims[i] = be32(data + 4 + 4 * i);
        if (dims[i] == 0)
            return lf__error(LF_E_FORMAT, "%s: offset %d: dimension %d is 0", path, 4 + 4 * i, i);
        if (count > SIZE_MAX / dims[i])
            return lf__error(LF_E_FORMAT, "%s: offset %d: dimensions overflow", path, 4 + 4 * i);
        count *= dims[i];
    }
    if (count > size - header)
        return lf__error(LF_E_FORMAT, "%s: offset %zu: truncated: the header promises %zu data bytes, "
                         "the file has %zu", path, size, count, size - header);
    if (count < size - header)
        return lf__error(LF_E_FORMAT, "%s: offset %zu: %zu unexpected bytes after the data", path,
                         header + count, size - header - count);
    *payload_offset = header;
    return LF_OK;
}

lf_status lf_dataset_load_idx(lf_dataset **out, lf_context *ctx, const char *images_path,
                              const char *labels_path, int32_t num_classes)
{
    LF__CHECK_ARG(out, "lf_dataset_load_idx: out is NULL");
    *out = NULL;
    LF__CHECK_ARG(ctx, "lf_dataset_load_idx: ctx is NULL");
    LF__CHECK_ARG(images_path && labels_path, "lf_dataset_load_idx: %s is NULL",
                  images_path ? "labels_path" : "images_path");
    LF__CHECK_ARG(num_classes >= 0 && num_classes <= 256,
                  "lf_dataset_load_idx: num_classes %d is not in [0, 256]", (int)num_classes);

    uint8_t *img = NULL, *lab = NULL;
    size_t img_size = 0, lab_size = 0, img_off = 0, lab_off = 0;
    uint32_t idims[3], ldims[3];
    float *x = NULL;
    int32_t *y = NULL;
    size_t n = 0, d = 0;
    lf_status st = lf__read_file(ctx, images_path, IDX_MAX_BYTES, &img, &img_size);
    if (st == LF_OK)
        st = lf__read_file(ctx, labels_path, IDX_MAX_BYTES, &lab, &lab_size);
    if (st == LF_OK)
        st = parse_header(img, img_size, images_path, 0x00000803u, 3, idims, &img_off);
    if (st == LF_OK)
        st = parse_header(lab, lab_size, labels_path, 0x00000801u, 1, ldims, &lab_off);
    if (st == LF_OK && idims[0] != ldims[0])
        st = lf__error(LF_E_FORMAT, "%s: %u labels, but %s has %u images", labels_path, ldims[0],
                       images_path, idims[0]);
    if (st == LF_OK && (idims[1] > INT32_MAX || idims[2] > INT32_MAX))
        st = lf__error(LF_E_FORMAT, "%s: offset 8: image size %ux%u too large", images_path, idims[1], idims[2]);
    if (st == LF_OK)
        st = lf__dataset_check_shape(idims[0], 1, (int32_t)idims[1], (int32_t)idims[2], images_path);
    if (st == LF_OK) {
        n = idims[0];
        d = (size_t)idims[1] * idims[2];
        x = lf__alloc(ctx, n * d * sizeof *x, images_path);
        y = lf__alloc(ctx, n * sizeof *y, labels_path);
        if (!x || !y)
            st = LF_E_NOMEM;
    }
    if (st == LF_OK) {
        for (size_t i = 0; i < n * d; i++)
            x[i] = (float)img[img_off + i] / 255.0f;
        for (size_t i = 0; i < n; i++) {
            y[i] = lab[lab_off + i];
            if (num_classes > 0 && y[i] >= num_classes) {
                st = lf__error(LF_E_FORMAT, "%s: offset %zu: sample %zu has label %d, not below the class "
                               "count %d", labels_path, lab_off + i, i, (int)y[i], (int)num_classes);
                break;
            }
        }
    }
    lf__free(ctx, img, img_size + 1);
    lf__free(ctx, lab, lab_size + 1);
    if (st != LF_OK) {
        lf__free(ctx, x, n * d * sizeof *x);
        lf__free(ctx, y, n * sizeof *y);
        return st;
    }
    return lf__dataset_adopt(out, ctx, x, y, n, 1, (int32_t)idims[1], (int32_t)idims[2], num_classes,
                             labels_path);
}
