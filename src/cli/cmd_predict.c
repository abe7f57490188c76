/* forget predict: run a saved model on the first samples of a split and report their accuracy,
 * optionally writing the logits as a .npy file. The train/validation split is rebuilt from the
 * recipe `forget train` stored in the model's metadata. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct predict_args {
    const char *model;
    const char *data;
    const char *split;
    const char *npy;
    int32_t     limit;   /* 0 = the whole split */
    cli_runtime rt;
} predict_args;

static predict_args predict_defaults(void)
{
    predict_args a;
    memset(&a, 0, sizeof a);
    a.split = "test";
    return a;
}

typedef struct predict_table {
    cli_option options[12];
} predict_table;

static predict_table predict_options(predict_args *a)
{
    predict_table t = { {
        { "--model", "-m", CLI_OPT_STRING, &a->model, 0, 0, 0, "FILE", "the model, .safetensors (required)" },
        { "--data", NULL, CLI_OPT_STRING, &a->data, 0, 0, 0, "NAME|DIR",
          "data set (default: the one the model was trained on)" },
        { "--split", NULL, CLI_OPT_STRING, &a->split, 0, 0, 0, "NAME", "train, val or test (default test)" },
        { "--limit", NULL, CLI_OPT_INT, &a->limit, 1, INT32_MAX, 0, "N",
          "only the first N samples of the split (default all)" },
        { "--npy", NULL, CLI_OPT_STRING, &a->npy, 0, 0, 0, "FILE",
          "write the logits as float32 .npy, shape (samples, classes)" },
        CLI_RUNTIME_OPTIONS(&a->rt),
        CLI_OPTIONS_END,
    } };
    return t;
}

void cmd_predict_usage(FILE *out)
{
    predict_args a = predict_defaults();
    predict_table t = predict_options(&a);
    fputs("usage: forget predict --model FILE [--data NAME|DIR] [--split train|val|test]\n"
          "                      [--limit N] [--npy FILE] [options]\n\n"
          "Runs the model on the first samples of a split (train and val are rebuilt from the\n"
          "split recipe in the model's metadata) and prints their accuracy.\n\noptions:\n", out);
    cli_print_options(out, t.options);
}

/* The split named by --split into *out; for train and val the holdout views are made into
 * *train_view and *val_view, which the caller destroys. */
static int select_split(const char *name, const lf_model *model, const char *model_path,
                        const lf_dataset *pool, lf_dataset *test, lf_dataset **train_view,
                        lf_dataset **val_view, const lf_dataset **out)
{
    if (strcmp(name, "test") == 0) {
        *out = test;
        return CLI_EXIT_OK;
    }
    cli_split_recipe recipe;
    int rc = cli_split_recipe_from_model(model, model_path, &recipe);
    if (rc == CLI_EXIT_OK)
        rc = cli_split_holdout(pool, &recipe, train_view, val_view);
    if (rc == CLI_EXIT_OK)
        *out = strcmp(name, "train") == 0 ? *train_view : *val_view;
    return rc;
}

/* Index of the largest logit (the first one on ties, like numpy.argmax). */
static int32_t argmax(const float *row, int32_t n)
{
    int32_t best = 0;
    for (int32_t c = 1; c < n; c++)
        if (row[c] > row[best])
            best = c;
    return best;
}

static void print_result(const predict_args *a, size_t count, size_t correct, int32_t classes,
                         double seconds)
{
    double accuracy = 100.0 * (double)correct / (double)count;
    if (a->rt.json) {
        cli_json j;
        cli_json_begin(&j, stdout);
        cli_json_str(&j, "split", a->split);
        cli_json_int(&j, "samples", (long long)count);
        cli_json_int(&j, "correct", (long long)correct);
        cli_json_num(&j, "accuracy", accuracy);
        cli_json_int(&j, "classes", classes);
        cli_json_str(&j, "npy", a->npy);
        cli_json_num(&j, "seconds", seconds);
        cli_json_end(&j);
        return;
    }
    printf("%s accuracy: %.2f%% (%zu of %zu samples)\n", a->split, accuracy, correct, count);
    if (a->npy)
        printf("wrote %s (%zu x %d logits)\n", a->npy, count, (int)classes);
}

int cmd_predict(int argc, char **argv)
{
    predict_args a = predict_defaults();
    predict_table t = predict_options(&a);
    int rc = cli_parse("predict", argc, argv, t.options);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (!a.model)
        return cli_usage_error("predict", "missing --model FILE");
    if (strcmp(a.split, "train") != 0 && strcmp(a.split, "val") != 0 && strcmp(a.split, "test") != 0)
        return cli_usage_error("predict", "--split: '%s' is not train, val or test", a.split);
    if (a.npy && cli_check_output_folder(a.npy) != CLI_EXIT_OK)
        return CLI_EXIT_RUNTIME;

    lf_context *ctx = NULL;
    lf_model *model = NULL;
    lf_dataset *pool = NULL, *test = NULL, *train = NULL, *val = NULL;
    float *logits = NULL;
    if ((rc = cli_context_create(&ctx, &a.rt, CLI_DEFAULT_SEED, "predict")) != CLI_EXIT_OK)
        goto done;
    lf_status st = lf_model_load(&model, ctx, a.model, NULL);
    if (st != LF_OK) {
        rc = cli_lib_error(st, "cannot load the model '%s'", a.model);
        goto done;
    }
    if (!a.data && lf_model_get_metadata(model, CLI_META_DATA_NAME, &a.data) != LF_OK) {
        rc = cli_usage_error("predict", "missing --data (the model does not name its data set)");
        goto done;
    }
    if ((rc = cli_load_data(ctx, a.data, &pool, &test)) != CLI_EXIT_OK)
        goto done;
    const lf_dataset *ds = NULL;
    if ((rc = select_split(a.split, model, a.model, pool, test, &train, &val, &ds)) != CLI_EXIT_OK)
        goto done;

    size_t count = lf_dataset_size(ds);
    if (a.limit > 0 && (size_t)a.limit < count)
        count = (size_t)a.limit;
    int32_t classes = lf_model_num_classes(model);
    if (count == 0 || classes <= 0) {
        cli_error("the %s split of '%s' is empty", a.split, a.data);
        rc = CLI_EXIT_RUNTIME;
        goto done;
    }
    logits = calloc(count, (size_t)classes * sizeof *logits);
    if (!logits) {
        cli_error("out of memory for %zu x %d logits", count, (int)classes);
        rc = CLI_EXIT_RUNTIME;
        goto done;
    }
    double t0 = cli_now();
    st = lf_model_predict(model, ds, 0, count, logits, NULL);
    double seconds = cli_now() - t0;
    if (st != LF_OK) {
        rc = cli_lib_error(st, "cannot run '%s' on the %s split of '%s'", a.model, a.split, a.data);
        goto done;
    }
    size_t correct = 0;
    for (size_t i = 0; i < count; i++) {
        int32_t label = -1;
        st = lf_dataset_get(ds, i, NULL, &label);
        if (st != LF_OK) {
            rc = cli_lib_error(st, "cannot read the label of sample %zu", i);
            goto done;
        }
        correct += argmax(logits + i * (size_t)classes, classes) == label;
    }
    if (a.npy && (rc = cli_write_npy_f32(a.npy, logits, count, (size_t)classes)) != CLI_EXIT_OK)
        goto done;
    print_result(&a, count, correct, classes, seconds);

done:
    free(logits);
    lf_dataset_destroy(val);
    lf_dataset_destroy(train);
    lf_dataset_destroy(test);
    lf_dataset_destroy(pool);
    lf_model_destroy(model);
    lf_context_destroy(ctx);
    return rc;
}
