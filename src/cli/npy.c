/* NumPy .npy output (format 1.0): what `forget predict --npy` writes, readable with
 * numpy.load(). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "cli.h"

/* The header (magic, version, length, dict, blank padding, '\n') is padded so the data starts at
 * a multiple of 64 bytes: numpy.load can then memory-map it aligned. */
enum { NPY_ALIGN = 64 };

/* Fills buf with the whole header; returns its length, or 0 if buf is too small. */
static size_t npy_header(char *buf, size_t size, size_t rows, size_t cols)
{
    char dict[128];
    int dict_len = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }",
                            rows, cols);
    if (dict_len < 0 || (size_t)dict_len >= sizeof dict)
        return 0;
    const size_t prefix = 10;   /* "\x93NUMPY", major, minor, uint16 little-endian header length */
    size_t total = prefix + (size_t)dict_len + 1;   /* + the closing '\n' */
    total = (total + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    if (total > size || total - prefix > UINT16_MAX)
        return 0;
    size_t header_len = total - prefix;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)(header_len & 0xff);
    buf[9] = (char)(header_len >> 8);
    memcpy(buf + prefix, dict, (size_t)dict_len);
    memset(buf + prefix + dict_len, ' ', total - prefix - (size_t)dict_len - 1);
    buf[total - 1] = '\n';
    return total;
}

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    uint8_t first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* Writes the floats as little-endian ('<f4') whatever the host's byte order. */
static int write_f32_le(FILE *fp, const float *data, size_t count)
{
    if (host_is_little_endian())
        return fwrite(data, sizeof *data, count, fp) == count;
    for (size_t i = 0; i < count; i++) {
        uint32_t bits;
        memcpy(&bits, &data[i], 4);
        unsigned char le[4] = { (unsigned char)bits, (unsigned char)(bits >> 8),
                                (unsigned char)(bits >> 16), (unsigned char)(bits >> 24) };
        if (fwrite(le, 1, 4, fp) != 4)
            return 0;
    }
    return 1;
}

int cli_write_npy_f32(const char *path, const float *data, size_t rows, size_t cols)
{
    char header[256];
    size_t header_len = npy_header(header, sizeof header, rows, cols);
    if (header_len == 0 || (cols != 0 && rows > SIZE_MAX / cols)) {
        cli_error("%s: shape (%zu, %zu) is too large for a .npy header", path, rows, cols);
        return CLI_EXIT_RUNTIME;
    }
    cli_atomic_file af;
    if (cli_atomic_open(&af, path) != CLI_EXIT_OK)
        return CLI_EXIT_RUNTIME;
    if (fwrite(header, 1, header_len, af.fp) != header_len || !write_f32_le(af.fp, data, rows * cols)) {
        int err = errno;
        cli_atomic_abort(&af);
        cli_error("%s: write failed: %s", path, strerror(err));
        return CLI_EXIT_RUNTIME;
    }
    return cli_atomic_commit(&af);
}
