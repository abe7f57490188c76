/* Built-in data sets by name: files from a Debian package, or from $LF_DATA_DIR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/dataset_internal.h"

typedef struct builtin_set {
    const char *name;
    const char *default_dir;
    const char *package;
    int32_t     classes;
} builtin_set;

static const builtin_set builtins[] = {
    { "fashion-mnist", "/usr/share/datasets/fashion-mnist", "dataset-fashion-mnist", 10 },
};

/* "<dir>/<stem>" or "<dir>/<stem>.gz", whichever exists (raw first). */
static lf_status find_file(char *buf, size_t cap, const char *dir, const char *stem, const builtin_set *b)
{
    snprintf(buf, cap, "%s/%s", dir, stem);
    if (access(buf, R_OK) == 0)
        return LF_OK;
    snprintf(buf, cap, "%s/%s.gz", dir, stem);
    if (access(buf, R_OK) == 0)
        return LF_OK;
    return lf__error(LF_E_IO, "%s: %s/%s(.gz) not found; install Debian's %s package or set LF_DATA_DIR "
                     "to a folder holding the IDX files", b->name, dir, stem, b->package);
}

static lf_status load_part(lf_dataset **out, lf_context *ctx, const char *dir, const char *prefix,
                           const builtin_set *b)
{
    char images[4096], labels[4096], stem[64];
    snprintf(stem, sizeof stem, "%s-images-idx3-ubyte", prefix);
    LF__TRY(find_file(images, sizeof images, dir, stem, b));
    snprintf(stem, sizeof stem, "%s-labels-idx1-ubyte", prefix);
    LF__TRY(find_file(labels, sizeof labels, dir, stem, b));
    return lf_dataset_load_idx(out, ctx, images, labels, b->classes);
}

lf_status lf_dataset_load_builtin(lf_dataset **train_out, lf_dataset **test_out, lf_context *ctx,
                                  const char *name)
{
    if (train_out)
        *train_out = NULL;
    if (test_out)
        *test_out = NULL;
    LF__CHECK_ARG(ctx, "lf_dataset_load_builtin: ctx is NULL");
    LF__CHECK_ARG(name, "lf_dataset_load_builtin: name is NULL");
    LF__CHECK_ARG(train_out || test_out, "lf_dataset_load_builtin: both out-pointers are NULL");
    const builtin_set *b = NULL;
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (strcmp(builtins[i].name, name) == 0)
            b = &builtins[i];
    if (!b)
        return lf__error(LF_E_INVALID_ARG, "unknown built-in data set '%s' (known: fashion-mnist)", name);
    const char *env = getenv("LF_DATA_DIR");
    const char *dir = env && env[0] ? env : b->default_dir;
    lf_dataset *train = NULL, *test = NULL;
    if (train_out)
        LF__TRY(load_part(&train, ctx, dir, "train", b));
    if (test_out) {
        lf_status st = load_part(&test, ctx, dir, "t10k", b);
        if (st != LF_OK) {
            lf_dataset_destroy(train);
            return st;
        }
    }
    if (train_out)
        *train_out = train;
    if (test_out)
        *test_out = test;
    return LF_OK;
}
