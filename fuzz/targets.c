/* The fuzz targets (see targets.h): input splitting, temporary files and one call per parser. */
#include "targets.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libforget/libforget.h>

#include "cli.h"

static lf_context *fuzz_ctx;
static char fuzz_dir[256];
static size_t input_size;   /* of the input being run: bounds what the library may allocate */

/* The context's allocator. An input may make the library allocate in proportion to it (IDX bytes
 * become floats; a gzip stream of up to 4 KiB inflates to a few MiB), but a block beyond
 * 64 MiB or 64 times the input means a size taken from a header that no data backs: that is a
 * bug (a few bytes must not commit gigabytes), so it aborts, and libFuzzer keeps the input. */
static void *bounded_alloc(void *user, size_t size, size_t alignment)
{
    (void)user;
    size_t limit = (size_t)64 << 20;
    if (input_size > limit / 64)
        limit = 64 * input_size;
    if (size > limit) {
        fprintf(stderr, "fuzz: a %zu-byte input asked for a %zu-byte block\n", input_size, size);
        abort();
    }
    void *p = NULL;
    return posix_memalign(&p, alignment < sizeof(void *) ? sizeof(void *) : alignment, size ? size : 1) == 0
               ? p : NULL;
}

static void bounded_free(void *user, void *ptr, size_t size)
{
    (void)user, (void)size;
    free(ptr);
}

void lf_fuzz_cleanup(void)
{
    lf_context_destroy(fuzz_ctx);
    fuzz_ctx = NULL;
    if (fuzz_dir[0]) {
        static const char *const names[] = { "a", "b" };
        char path[300];
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            snprintf(path, sizeof path, "%s/%s", fuzz_dir, names[i]);
            unlink(path);
        }
        rmdir(fuzz_dir);
        fuzz_dir[0] = '\0';
    }
}

/* One reference-backend, single-thread context for the whole run: loading needs no speed, and
 * the same input must give the same outcome. Aborts only on a broken setup (not on an input). */
static lf_context *context(void)
{
    if (!fuzz_ctx) {
        lf_context_options o = LF_CONTEXT_OPTIONS_INIT;
        o.backend = LF_BACKEND_REFERENCE;
        o.threads = 1;
        o.allocator.struct_size = (uint32_t)sizeof o.allocator;
        o.allocator.alloc = bounded_alloc;
        o.allocator.free = bounded_free;
        if (lf_context_create(&fuzz_ctx, &o) != LF_OK)
            abort();
        atexit(lf_fuzz_cleanup);
    }
    return fuzz_ctx;
}

/* Writes bytes to the temporary file `name` and returns its path (static storage per name). */
static const char *temp_file(const char *name, const uint8_t *data, size_t size)
{
    static char paths[2][300];
    char *path = paths[name[0] == 'b'];
    if (!fuzz_dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/lf-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(fuzz_dir))
            abort();
    }
    snprintf(path, sizeof paths[0], "%s/%s", fuzz_dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        abort();
    for (size_t done = 0; done < size;) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0)
            abort();
        done += (size_t)w;
    }
    close(fd);
    return path;
}

/* [option byte][u32 LE length of part a][a][b]; a short input is all option and a. */
typedef struct two_parts {
    unsigned       option;
    const uint8_t *a, *b;
    size_t         na, nb;
} two_parts;

static two_parts split(const uint8_t *data, size_t size)
{
    two_parts p = { 0, data, data, 0, 0 };
    if (size == 0)
        return p;
    p.option = data[0];
    data++, size--;
    if (size < 4) {
        p.a = data, p.na = size;
        return p;
    }
    size_t len = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16 | (size_t)data[3] << 24;
    data += 4, size -= 4;
    p.a = data;
    p.na = len < size ? len : size;
    p.b = data + p.na;
    p.nb = size - p.na;
    return p;
}

/* Reads the first and last sample of a loaded set: its storage must cover what it claims. */
static int touch(lf_dataset *ds, lf_status st)
{
    if (st == LF_OK) {
        int32_t c = 0, h = 0, w = 0, label = 0;
        lf_dataset_shape(ds, &c, &h, &w);
        size_t n = lf_dataset_size(ds);
        float *image = malloc((size_t)c * h * w * sizeof *image);
        if (!image)
            abort();
        if (lf_dataset_get(ds, 0, image, &label) != LF_OK || lf_dataset_get(ds, n - 1, image, &label) != LF_OK)
            abort();   /* a loaded set whose samples cannot be read is a bug */
        free(image);
    }
    lf_dataset_destroy(ds);
    return st;
}

int lf_fuzz_idx(const uint8_t *data, size_t size)
{
    input_size = size;
    two_parts p = split(data, size);
    const char *images = temp_file("a", p.a, p.na), *labels = temp_file("b", p.b, p.nb);
    lf_dataset *ds = NULL;
    lf_status st = lf_dataset_load_idx(&ds, context(), images, labels, p.option & 1 ? 10 : 0);
    return touch(ds, st);
}

int lf_fuzz_npy(const uint8_t *data, size_t size)
{
    input_size = size;
    two_parts p = split(data, size);
    const char *images = temp_file("a", p.a, p.na), *labels = temp_file("b", p.b, p.nb);
    lf_dataset *ds = NULL;
    lf_status st = lf_dataset_load_npy(&ds, context(), images, labels, p.option & 1 ? 10 : 0);
    return touch(ds, st);
}

int lf_fuzz_cifar(const uint8_t *data, size_t size)
{
    input_size = size;
    two_parts p = split(data, size);
    const char *paths[2] = { temp_file("a", p.a, p.na), temp_file("b", p.b, p.nb) };
    lf_dataset *ds = NULL;
    lf_status st = lf_dataset_load_cifar(&ds, context(), paths, p.option & 2 ? 2 : 1,
                                         p.option & 1 ? 100 : 10);
    return touch(ds, st);
}

int lf_fuzz_safetensors(const uint8_t *data, size_t size)
{
    input_size = size;
    static const char *const archs[4] = { NULL, "mlp", "convnet", "resnet18" };
    lf_model_load_options o = LF_MODEL_LOAD_OPTIONS_INIT;
    o.arch = size ? archs[data[0] % 4] : NULL;
    const char *path = size ? temp_file("a", data + 1, size - 1) : temp_file("a", data, 0);
    lf_model *m = NULL;
    lf_status st = lf_model_load(&m, context(), path, &o);
    lf_model_destroy(m);
    return st;
}

int lf_fuzz_forget_spec(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    int rc = CLI_EXIT_USAGE;
    /* indices:PATH would open whatever path the input names (/dev/zero, a FIFO): the indices
     * target parses those files' contents instead */
    if (strncmp(text, "indices:", 8) != 0) {
        cli_forget f;
        rc = cli_forget_parse("fuzz", text, 1, &f);
        if (rc == CLI_EXIT_OK)
            cli_forget_free(&f);
    }
    free(text);
    return rc;
}

int lf_fuzz_indices(const uint8_t *data, size_t size)
{
    char spec[320];
    snprintf(spec, sizeof spec, "indices:%s", temp_file("a", data, size));
    cli_forget f;
    int rc = cli_forget_parse("fuzz", spec, 1, &f);
    if (rc == CLI_EXIT_OK)
        cli_forget_free(&f);
    return rc;
}

const lf_fuzz_target lf_fuzz_targets[] = {
    { "idx", lf_fuzz_idx, 0 },
    { "cifar", lf_fuzz_cifar, 0 },
    { "npy", lf_fuzz_npy, 0 },
    { "safetensors", lf_fuzz_safetensors, 0 },
    { "forget_spec", lf_fuzz_forget_spec, 1 },
    { "indices", lf_fuzz_indices, 1 },
};
const size_t lf_fuzz_n_targets = sizeof lf_fuzz_targets / sizeof lf_fuzz_targets[0];
