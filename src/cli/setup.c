/* What every computing sub-command does first: create the context from --backend/--threads and
 * a seed, and load the data set named by --data. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int cli_context_create(lf_context **out, const cli_runtime *rt, uint64_t seed, const char *command)
{
    *out = NULL;
    lf_backend_kind backend = LF_BACKEND_AUTO;
    if (rt->backend && lf_backend_from_name(rt->backend, &backend) != LF_OK)
        return cli_usage_error(command, "--backend: unknown backend '%s' (auto, reference, cpu, cuda)",
                               rt->backend);
    lf_context_options opts = LF_CONTEXT_OPTIONS_INIT;
    opts.backend = backend;
    opts.threads = rt->threads;
    opts.seed = seed;
    lf_status st = lf_context_create(out, &opts);
    if (st != LF_OK)
        return cli_lib_error(st, "cannot use the %s backend", lf_backend_name(backend));
    return CLI_EXIT_OK;
}

/* The file names of the MNIST family, as distributed (gzip) or unpacked. */
static const char *const idx_names[4] = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",  "t10k-labels-idx1-ubyte",
};

/* dir/name.gz if it exists, else dir/name if it exists. */
static int find_idx_file(char *path, size_t size, const char *dir, const char *name)
{
    static const char *const suffixes[2] = { ".gz", "" };
    for (int i = 0; i < 2; i++) {
        int n = snprintf(path, size, "%s/%s%s", dir, name, suffixes[i]);
        if (n < 0 || (size_t)n >= size) {
            cli_error("--data: the folder name '%s' is too long", dir);
            return CLI_EXIT_RUNTIME;
        }
        if (access(path, F_OK) == 0)
            return CLI_EXIT_OK;
    }
    cli_error("--data: %s: found neither %s.gz nor %s", dir, name, name);
    return CLI_EXIT_RUNTIME;
}

static int load_idx_folder(lf_context *ctx, const char *dir, lf_dataset **pool, lf_dataset **test)
{
    char paths[4][PATH_MAX];
    for (int i = 0; i < 4; i++)
        if (find_idx_file(paths[i], sizeof paths[i], dir, idx_names[i]) != CLI_EXIT_OK)
            return CLI_EXIT_RUNTIME;
    lf_status st = lf_dataset_load_idx(pool, ctx, paths[0], paths[1], 0);
    if (st != LF_OK)
        return cli_lib_error(st, "cannot load the training set of '%s'", dir);
    /* The test set takes the training set's class count, so a test set that happens to lack
     * the last class still matches the model. */
    st = lf_dataset_load_idx(test, ctx, paths[2], paths[3], lf_dataset_num_classes(*pool));
    if (st != LF_OK) {
        lf_dataset_destroy(*pool);
        *pool = NULL;
        return cli_lib_error(st, "cannot load the test set of '%s'", dir);
    }
    return CLI_EXIT_OK;
}

int cli_load_data(lf_context *ctx, const char *data, lf_dataset **pool, lf_dataset **test)
{
    *pool = *test = NULL;
    struct stat sb;
    if (stat(data, &sb) == 0 && S_ISDIR(sb.st_mode))
        return load_idx_folder(ctx, data, pool, test);
    if (strchr(data, '/')) {   /* meant as a folder: do not report it as an unknown data set */
        cli_error("--data: '%s' is not a folder", data);
        return CLI_EXIT_RUNTIME;
    }
    lf_status st = lf_dataset_load_builtin(pool, test, ctx, data);
    if (st != LF_OK)
        return cli_lib_error(st, "cannot load the data set '%s'", data);
    return CLI_EXIT_OK;
}

/* A metadata value of the model, or NULL when absent. */
static const char *model_meta(const lf_model *model, const char *key)
{
    const char *value = NULL;
    return lf_model_get_metadata(model, key, &value) == LF_OK ? value : NULL;
}

int cli_split_recipe_from_model(const lf_model *model, const char *path, cli_split_recipe *recipe)
{
    recipe->seed = CLI_DEFAULT_SEED;
    recipe->val_fraction = CLI_DEFAULT_VAL_FRACTION;
    recipe->data_fraction = 1.0;
    const char *seed = model_meta(model, CLI_META_SPLIT_SEED);
    if (seed && !cli_parse_u64(seed, &recipe->seed)) {
        cli_error("%s: metadata %s = '%s' is not a seed", path, CLI_META_SPLIT_SEED, seed);
        return CLI_EXIT_RUNTIME;
    }
    const char *fraction = model_meta(model, CLI_META_SPLIT_FRACTION);
    if (fraction && (!cli_parse_double(fraction, &recipe->val_fraction) ||
                     !(recipe->val_fraction > 0.0 && recipe->val_fraction < 1.0))) {
        cli_error("%s: metadata %s = '%s' is not a fraction in (0, 1)", path,
                  CLI_META_SPLIT_FRACTION, fraction);
        return CLI_EXIT_RUNTIME;
    }
    const char *data_fraction = model_meta(model, CLI_META_DATA_FRACTION);
    if (data_fraction && (!cli_parse_double(data_fraction, &recipe->data_fraction) ||
                          !(recipe->data_fraction > 0.0 && recipe->data_fraction <= 1.0))) {
        cli_error("%s: metadata %s = '%s' is not a fraction in (0, 1]", path,
                  CLI_META_DATA_FRACTION, data_fraction);
        return CLI_EXIT_RUNTIME;
    }
    return CLI_EXIT_OK;
}

int cli_split_holdout(const lf_dataset *pool, const cli_split_recipe *recipe, lf_dataset **train,
                      lf_dataset **val)
{
    /* A subset is the held-out part of a stratified split (views share the pool's storage, so
     * the intermediate views can go at once); seed + 1 keeps it apart from the val split. */
    lf_dataset *rest = NULL, *subset = NULL;
    if (recipe->data_fraction < 1.0) {
        lf_status st = lf_dataset_split_holdout(&rest, &subset, pool, recipe->data_fraction,
                                                recipe->seed + 1);
        if (st != LF_OK)
            return cli_lib_error(st, "cannot take the %g subset of the data", recipe->data_fraction);
    }
    lf_status st = lf_dataset_split_holdout(train, val, subset ? subset : pool,
                                            recipe->val_fraction, recipe->seed);
    lf_dataset_destroy(subset);
    lf_dataset_destroy(rest);
    if (st != LF_OK)
        return cli_lib_error(st, "cannot hold out the validation split");
    return CLI_EXIT_OK;
}
