/* Bounded whole-file reads (transparently gunzipped) and atomic writes. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/fileio.h"

#define CHUNK (1u << 20)

lf_status lf__read_file(const lf_context *ctx, const char *path, size_t max_size, uint8_t **data,
                        size_t *size)
{
    *data = NULL;
    *size = 0;
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return lf__error(LF_E_IO, "%s: cannot open: %s", path, strerror(errno));
    /* a small file gets a small buffer (the size + 1, so EOF needs no growth); gzip content and
     * files whose size is unknown (a pipe) grow from there */
    size_t cap = CHUNK;
    struct stat sb;
    if (fstat(fileno(probe), &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size < CHUNK)
        cap = (size_t)sb.st_size + 1 < 4096 ? 4096 : (size_t)sb.st_size + 1;
    fclose(probe);

    /* gzread passes non-gzip content through unchanged, so one path serves both */
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return lf__error(LF_E_IO, "%s: cannot open: %s", path, strerror(errno));
    gzbuffer(gz, cap < CHUNK ? 8192 : 128 * 1024);   /* 8 KiB is zlib's default */

    size_t len = 0;
    uint8_t *buf = lf__alloc(ctx, cap + 1, path);
    lf_status st = LF_OK;
    if (!buf) {
        gzclose(gz);
        return LF_E_NOMEM;
    }
    for (;;) {
        if (len == cap) {
            if (cap > max_size) {
                st = lf__error(LF_E_FORMAT, "%s: larger than the %zu-byte limit for this kind of file",
                               path, max_size);
                break;
            }
            size_t ncap = cap * 2;
            uint8_t *nbuf = lf__alloc(ctx, ncap + 1, path);
            if (!nbuf) {
                st = LF_E_NOMEM;
                break;
            }
            memcpy(nbuf, buf, len);
            lf__free(ctx, buf, cap + 1);
            buf = nbuf;
            cap = ncap;
        }
        size_t want = cap - len;
        if (want > (1u << 30))
            want = 1u << 30;
        int got = gzread(gz, buf + len, (unsigned)want);
        if (got < 0) {
            int zerr;
            const char *msg = gzerror(gz, &zerr);
            st = lf__error(zerr == Z_ERRNO ? LF_E_IO : LF_E_FORMAT, "%s: read failed after %zu bytes: %s",
                           path, len, zerr == Z_ERRNO ? strerror(errno) : msg);
            break;
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    if (st == LF_OK && len > max_size)
        st = lf__error(LF_E_FORMAT, "%s: %zu bytes exceeds the %zu-byte limit for this kind of file",
                       path, len, max_size);
    if (st == LF_OK) {
        /* a truncated gzip stream reads short without an error from gzread; gzclose_r reports it */
        int zerr;
        gzerror(gz, &zerr);
        if (zerr != Z_OK && zerr != Z_STREAM_END)
            st = lf__error(LF_E_FORMAT, "%s: corrupt or truncated gzip data after %zu bytes", path, len);
    }
    int cerr = gzclose(gz);
    if (st == LF_OK && cerr != Z_OK && cerr != Z_BUF_ERROR)
        st = lf__error(LF_E_FORMAT, "%s: corrupt or truncated gzip data after %zu bytes", path, len);
    if (st == LF_OK && cerr == Z_BUF_ERROR)
        st = lf__error(LF_E_FORMAT, "%s: truncated gzip stream after %zu bytes", path, len);
    if (st != LF_OK) {
        lf__free(ctx, buf, cap + 1);
        return st;
    }
    /* shrink: callers free with size + 1 */
    uint8_t *exact = lf__alloc(ctx, len + 1, path);
    if (!exact) {
        lf__free(ctx, buf, cap + 1);
        return LF_E_NOMEM;
    }
    memcpy(exact, buf, len);
    exact[len] = 0;
    lf__free(ctx, buf, cap + 1);
    *data = exact;
    *size = len;
    return LF_OK;
}

/* ".tmp.<pid>.<n>": 5 + 10 + 1 + 20 characters and the NUL */
#define TMP_SUFFIX_MAX 40

static _Atomic unsigned long tmp_serial;   /* threads of one process never pick the same name */

lf_status lf__atomic_open(lf__atomic_file *af, const lf_context *ctx, const char *path)
{
    memset(af, 0, sizeof *af);
    af->ctx = ctx;
    size_t n = strlen(path);
    af->path = lf__strdup(ctx, path);
    if (!af->path)
        return LF_E_NOMEM;
    af->tmp_path = lf__alloc(ctx, n + TMP_SUFFIX_MAX, path);
    if (!af->tmp_path) {
        lf__atomic_abort(af);
        return LF_E_NOMEM;
    }
    /* O_EXCL with mode 0666, not mkstemp + fchmod: the file gets fopen's permissions (0666
     * less the umask) without reading the umask, which umask() can only do by changing it,
     * process-wide (threads saving at once raced on it) */
    int fd = -1;
    for (int attempt = 0; fd < 0 && attempt < 100; attempt++) {
        snprintf(af->tmp_path, n + TMP_SUFFIX_MAX, "%s.tmp.%ld.%lu", path, (long)getpid(),
                 atomic_fetch_add(&tmp_serial, 1));
        fd = open(af->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        lf_status st = lf__error(LF_E_IO, "%s: cannot create a temporary file beside it: %s", path,
                                 strerror(errno));
        af->tmp_path[0] = '\0';
        lf__atomic_abort(af);
        return st;
    }
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        lf_status st = lf__error(LF_E_IO, "%s: %s", af->tmp_path, strerror(errno));
        close(fd);
        lf__atomic_abort(af);
        return st;
    }
    return LF_OK;
}

static void release(lf__atomic_file *af)
{
    /* tmp_path exists only beside path (lf__atomic_open), so its size follows from path's */
    if (af->tmp_path)
        lf__free(af->ctx, af->tmp_path, strlen(af->path) + TMP_SUFFIX_MAX);
    if (af->path)
        lf__free(af->ctx, af->path, strlen(af->path) + 1);
    af->tmp_path = af->path = NULL;
}

lf_status lf__atomic_commit(lf__atomic_file *af)
{
    lf_status st = LF_OK;
    if (fflush(af->fp) != 0 || ferror(af->fp))
        st = lf__error(LF_E_IO, "%s: write failed: %s", af->path, strerror(errno));
    else if (fsync(fileno(af->fp)) != 0)
        st = lf__error(LF_E_IO, "%s: fsync failed: %s", af->path, strerror(errno));
    if (fclose(af->fp) != 0 && st == LF_OK)
        st = lf__error(LF_E_IO, "%s: close failed: %s", af->path, strerror(errno));
    af->fp = NULL;
    if (st == LF_OK && rename(af->tmp_path, af->path) != 0)
        st = lf__error(LF_E_IO, "%s: cannot rename the temporary file into place: %s", af->path,
                       strerror(errno));
    if (st != LF_OK)
        unlink(af->tmp_path);
    release(af);
    return st;
}

void lf__atomic_abort(lf__atomic_file *af)
{
    if (af->fp)
        fclose(af->fp);
    af->fp = NULL;
    if (af->tmp_path && af->tmp_path[0])
        unlink(af->tmp_path);
    release(af);
}
