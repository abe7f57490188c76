/* forget train: train a built-in architecture on a data set's train split and save it.
 *
 * The train pool is split into train and validation by a seed (lf_dataset_split_holdout); the
 * recipe goes into the model's metadata so predict/unlearn/eval rebuild the very same split.
 *
 * With --prune, training runs in two phases: the first --prune-epoch epochs dense, then one
 * global magnitude pruning (lf_model_prune), then the remaining epochs with the mask fixed. Each
 * phase has its own learning-rate schedule (a cosine restarts at --lr after pruning, as
 * fine-tuning a pruned network usually does). */
#include <math.h>
#include <string.h>

#include "cli.h"

typedef struct train_args {
    const char *data;
    const char *arch;
    const char *output;
    int32_t     epochs;
    int32_t     batch;
    double      lr;
    double      val_fraction;
    double      data_fraction; /* 1 = the whole train pool */
    uint64_t    seed;
    const char *schedule;
    int         no_normalize;
    double      prune;        /* target sparsity; 0 = dense */
    int32_t     prune_epoch;  /* epochs before pruning; 0 = all of them */
    cli_runtime rt;
} train_args;

/* Defaults: the library's training defaults, written out so the metadata records real values. */
static train_args train_defaults(void)
{
    train_args a;
    memset(&a, 0, sizeof a);
    a.arch = "mlp";
    a.epochs = 10;
    a.batch = 128;
    a.lr = 0.05;
    a.val_fraction = CLI_DEFAULT_VAL_FRACTION;
    a.data_fraction = 1.0;
    a.seed = CLI_DEFAULT_SEED;
    a.schedule = "cosine";
    return a;
}

typedef struct train_table {
    cli_option options[20];
} train_table;

static train_table train_options(train_args *a)
{
    train_table t = { {
        { "--data", NULL, CLI_OPT_STRING, &a->data, 0, 0, 0, "NAME|DIR",
          "fashion-mnist, or a folder of MNIST-style IDX files (required)" },
        { "--arch", NULL, CLI_OPT_STRING, &a->arch, 0, 0, 0, "NAME", "architecture (default mlp)" },
        { "--output", "-o", CLI_OPT_STRING, &a->output, 0, 0, 0, "FILE",
          "where to save the model, .safetensors (required)" },
        { "--epochs", NULL, CLI_OPT_INT, &a->epochs, 1, 100000, 0, "N", "training epochs (default 10)" },
        { "--lr", NULL, CLI_OPT_DOUBLE, &a->lr, 0, 100, CLI_MIN_OPEN, "X",
          "SGD learning rate, momentum 0.9 (default 0.05)" },
        { "--schedule", NULL, CLI_OPT_STRING, &a->schedule, 0, 0, 0, "NAME",
          "learning-rate schedule: constant or cosine (default cosine)" },
        { "--no-normalize", NULL, CLI_OPT_FLAG, &a->no_normalize, 0, 0, 0, NULL,
          "feed raw pixels (default: normalise with the train split's per-channel mean/std)" },
        { "--prune", NULL, CLI_OPT_DOUBLE, &a->prune, 0, 1, CLI_MIN_OPEN | CLI_MAX_OPEN, "F",
          "prune the conv weights to sparsity F by global magnitude (e.g. 0.95)" },
        { "--prune-epoch", NULL, CLI_OPT_INT, &a->prune_epoch, 1, 100000, 0, "K",
          "prune after epoch K, then train the remaining epochs sparse (default: the last)" },
        { "--batch", NULL, CLI_OPT_INT, &a->batch, 1, 1 << 20, 0, "N", "mini-batch size (default 128)" },
        { "--seed", NULL, CLI_OPT_U64, &a->seed, 0, 0, 0, "N",
          "seed of initialisation, shuffling and the split (default 1)" },
        { "--val-fraction", NULL, CLI_OPT_DOUBLE, &a->val_fraction, 0, 1, CLI_MIN_OPEN | CLI_MAX_OPEN, "F",
          "share of each class held out for validation (default 0.1)" },
        { "--data-fraction", NULL, CLI_OPT_DOUBLE, &a->data_fraction, 0, 1, CLI_MIN_OPEN, "F",
          "train on a stratified share of the train pool (quick runs; default 1 = all of it)" },
        CLI_RUNTIME_OPTIONS(&a->rt),
        CLI_OPTIONS_END,
    } };
    return t;
}

void cmd_train_usage(FILE *out)
{
    train_args a = train_defaults();
    train_table t = train_options(&a);
    fputs("usage: forget train --data NAME|DIR [--arch mlp] -o FILE.safetensors [options]\n\n"
          "Trains a model on the data set's train split (the train pool less a held-out\n"
          "validation split), prints train, validation and test accuracy, and saves the model\n"
          "with the split recipe in its metadata.\n\noptions:\n", out);
    cli_print_options(out, t.options);
    fputs("\narchitectures:", out);
    for (size_t i = 0; i < lf_arch_count(); i++)
        fprintf(out, " %s", lf_arch_name(i));
    fputc('\n', out);
}

static int arch_is_known(const char *arch)
{
    for (size_t i = 0; i < lf_arch_count(); i++)
        if (strcmp(lf_arch_name(i), arch) == 0)
            return 1;
    return 0;
}

/* Top-1 accuracy in percent; NaN for an empty set (a tiny data set may have no validation). */
static int accuracy_percent(lf_model *model, const lf_dataset *ds, const char *which, double *out)
{
    *out = NAN;
    if (lf_dataset_size(ds) == 0)
        return CLI_EXIT_OK;
    double acc = 0.0;
    lf_status st = lf_model_accuracy(model, ds, &acc);
    if (st != LF_OK)
        return cli_lib_error(st, "cannot compute the %s accuracy", which);
    *out = 100.0 * acc;
    return CLI_EXIT_OK;
}

/* The split recipe and training settings, so later commands rebuild the same split. */
static int store_recipe(lf_model *model, const train_args *a)
{
    char seed[32], fraction[CLI_NUMBER_LEN], epochs[16], lr[CLI_NUMBER_LEN], batch[16];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)a->seed);
    cli_format_number(fraction, a->val_fraction);
    snprintf(epochs, sizeof epochs, "%d", (int)a->epochs);
    cli_format_number(lr, a->lr);
    snprintf(batch, sizeof batch, "%d", (int)a->batch);
    const char *entries[][2] = {
        { CLI_META_SPLIT_SEED, seed },       { CLI_META_SPLIT_FRACTION, fraction },
        { CLI_META_DATA_NAME, a->data },     { CLI_META_TRAIN_EPOCHS, epochs },
        { CLI_META_TRAIN_LR, lr },           { CLI_META_TRAIN_BATCH, batch },
        { CLI_META_TRAIN_SCHEDULE, a->schedule },
    };
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        lf_status st = lf_model_set_metadata(model, entries[i][0], entries[i][1]);
        if (st != LF_OK)
            return cli_lib_error(st, "cannot set the model's metadata '%s'", entries[i][0]);
    }
    if (a->data_fraction < 1.0) {
        char data_fraction[CLI_NUMBER_LEN];
        cli_format_number(data_fraction, a->data_fraction);
        lf_status st = lf_model_set_metadata(model, CLI_META_DATA_FRACTION, data_fraction);
        if (st != LF_OK)
            return cli_lib_error(st, "cannot record the data fraction in the model's metadata");
    }
    if (a->prune > 0) {
        char prune[CLI_NUMBER_LEN], prune_epoch[16];
        cli_format_number(prune, a->prune);
        snprintf(prune_epoch, sizeof prune_epoch, "%d", (int)a->prune_epoch);
        lf_status st = lf_model_set_metadata(model, CLI_META_TRAIN_PRUNE, prune);
        if (st == LF_OK)
            st = lf_model_set_metadata(model, CLI_META_TRAIN_PRUNE_EPOCH, prune_epoch);
        if (st != LF_OK)
            return cli_lib_error(st, "cannot record the pruning in the model's metadata");
    }
    return CLI_EXIT_OK;
}

static void print_result(const train_args *a, const lf_context *ctx, const lf_train_result *res,
                         const double acc[3], const size_t sizes[3], double total_seconds)
{
    double images_per_second =
        res->seconds > 0 ? (double)sizes[0] * res->epochs / res->seconds : NAN;
    if (a->rt.json) {
        cli_json j;
        cli_json_begin(&j, stdout);
        cli_json_num(&j, "train_accuracy", acc[0]);
        cli_json_num(&j, "val_accuracy", acc[1]);
        cli_json_num(&j, "test_accuracy", acc[2]);
        cli_json_num(&j, "seconds", res->seconds);
        cli_json_num(&j, "total_seconds", total_seconds);
        cli_json_num(&j, "images_per_second", images_per_second);
        cli_json_int(&j, "epochs", res->epochs);
        cli_json_int(&j, "steps", (long long)res->steps);
        cli_json_num(&j, "final_loss", res->final_loss);
        cli_json_int(&j, "train_samples", (long long)sizes[0]);
        cli_json_int(&j, "val_samples", (long long)sizes[1]);
        cli_json_int(&j, "test_samples", (long long)sizes[2]);
        cli_json_str(&j, "arch", a->arch);
        cli_json_str(&j, "data", a->data);
        cli_json_str(&j, "backend", lf_backend_name(lf_context_backend(ctx)));
        cli_json_int(&j, "threads", lf_context_threads(ctx));
        cli_json_int(&j, "batch", a->batch);
        cli_json_num(&j, "lr", a->lr);
        cli_json_uint(&j, "seed", a->seed);
        cli_json_end(&j);
        return;
    }
    printf("train accuracy:      %6.2f%%  (%zu samples)\n", acc[0], sizes[0]);
    if (isfinite(acc[1]))
        printf("validation accuracy: %6.2f%%  (%zu samples)\n", acc[1], sizes[1]);
    else
        printf("validation accuracy:    n/a   (no samples)\n");
    printf("test accuracy:       %6.2f%%  (%zu samples)\n", acc[2], sizes[2]);
    printf("training:            %.2f s, %d epochs, %.0f images/s (%s backend, %d threads)\n",
           res->seconds, (int)res->epochs, images_per_second,
           lf_backend_name(lf_context_backend(ctx)), (int)lf_context_threads(ctx));
    if (a->prune > 0)
        printf("pruned:              %.2f%% of the conv weights after epoch %d\n", 100.0 * a->prune,
               (int)a->prune_epoch);
    printf("saved %s\n", a->output);
}

/* The model carries its input normalisation: the train split's per-channel mean and std (a
 * constant channel keeps std 1 so nothing divides by zero). */
static lf_status normalize_from(lf_model *model, const lf_dataset *train, int32_t channels)
{
    float mean[16], std[16];
    if (channels > 16)
        return LF_OK;   /* more channels than images have: leave the inputs raw */
    lf_status st = lf_dataset_channel_stats(train, mean, std, (size_t)channels);
    for (int32_t c = 0; st == LF_OK && c < channels; c++)
        if (!(std[c] > 0.0f))
            std[c] = 1.0f;
    return st == LF_OK ? lf_model_set_normalization(model, mean, std, (size_t)channels) : st;
}

/* Trains `epochs` epochs (none: nothing to do) and adds them to *total. */
static int train_phase(lf_model *model, const lf_dataset *train, lf_train_options *topts,
                       int32_t epochs, int quiet, lf_train_result *total)
{
    if (epochs <= 0)
        return CLI_EXIT_OK;
    cli_progress progress;
    cli_progress_init(&progress, quiet, epochs);
    topts->epochs = epochs;
    topts->progress = cli_progress_callback;
    topts->progress_user = &progress;
    lf_train_result r = LF_TRAIN_RESULT_INIT;
    lf_status st = lf_model_train(model, train, topts, &r);
    cli_progress_finish(&progress);
    if (st != LF_OK)
        return cli_lib_error(st, "training failed");
    total->epochs += r.epochs;
    total->steps += r.steps;
    total->seconds += r.seconds;
    total->final_loss = r.final_loss;
    total->train_accuracy = r.train_accuracy;
    return CLI_EXIT_OK;
}

int cmd_train(int argc, char **argv)
{
    double t0 = cli_now();
    train_args a = train_defaults();
    train_table t = train_options(&a);
    int rc = cli_parse("train", argc, argv, t.options);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (!a.data)
        return cli_usage_error("train", "missing --data NAME|DIR");
    if (!a.output)
        return cli_usage_error("train", "missing -o FILE (where to save the model)");
    int32_t schedule;
    if (strcmp(a.schedule, "constant") == 0)
        schedule = LF_LR_CONSTANT;
    else if (strcmp(a.schedule, "cosine") == 0)
        schedule = LF_LR_COSINE;
    else
        return cli_usage_error("train", "--schedule: unknown schedule '%s' (constant or cosine)", a.schedule);
    if (a.prune_epoch && !(a.prune > 0))
        return cli_usage_error("train", "--prune-epoch needs --prune F");
    if (a.prune > 0 && !a.prune_epoch)
        a.prune_epoch = a.epochs;
    if (a.prune_epoch > a.epochs)
        return cli_usage_error("train", "--prune-epoch %d is after the last epoch (%d)",
                               (int)a.prune_epoch, (int)a.epochs);
    if (!arch_is_known(a.arch))
        return cli_usage_error("train", "--arch: unknown architecture '%s'", a.arch);
    /* Fail before the training, not after it, when the model could not be saved there. */
    if (cli_check_output_folder(a.output) != CLI_EXIT_OK)
        return CLI_EXIT_RUNTIME;

    lf_context *ctx = NULL;
    lf_dataset *pool = NULL, *test = NULL, *train = NULL, *val = NULL;
    lf_model *model = NULL;
    if ((rc = cli_context_create(&ctx, &a.rt, a.seed, "train")) != CLI_EXIT_OK)
        goto done;
    if ((rc = cli_load_data(ctx, a.data, &pool, &test)) != CLI_EXIT_OK)
        goto done;
    cli_split_recipe recipe = { a.seed, a.val_fraction, a.data_fraction };
    if ((rc = cli_split_holdout(pool, &recipe, &train, &val)) != CLI_EXIT_OK)
        goto done;

    lf_model_config config = LF_MODEL_CONFIG_INIT;
    lf_status st = lf_model_config_from_dataset(&config, train);
    if (st == LF_OK) {
        config.seed = a.seed;
        st = lf_model_create(&model, ctx, a.arch, &config);
    }
    if (st == LF_OK && !a.no_normalize)
        st = normalize_from(model, train, config.channels);
    if (st != LF_OK) {
        rc = cli_lib_error(st, "cannot create the %s model", a.arch);
        goto done;
    }

    lf_train_options topts = LF_TRAIN_OPTIONS_INIT;
    topts.batch_size = a.batch;
    topts.lr = a.lr;
    topts.schedule = schedule;
    topts.seed = a.seed;
    lf_train_result result = LF_TRAIN_RESULT_INIT;
    int32_t dense_epochs = a.prune > 0 ? a.prune_epoch : a.epochs;
    if ((rc = train_phase(model, train, &topts, dense_epochs, a.rt.quiet, &result)) != CLI_EXIT_OK)
        goto done;
    if (a.prune > 0) {
        st = lf_model_prune(model, a.prune);
        if (st != LF_OK) {
            rc = cli_lib_error(st, "cannot prune the %s model", a.arch);
            goto done;
        }
        /* a different shuffling seed, so the sparse epochs do not replay the dense ones */
        topts.seed = a.seed + (uint64_t)dense_epochs;
        if ((rc = train_phase(model, train, &topts, a.epochs - dense_epochs, a.rt.quiet,
                              &result)) != CLI_EXIT_OK)
            goto done;
    }

    double acc[3];
    size_t sizes[3] = { lf_dataset_size(train), lf_dataset_size(val), lf_dataset_size(test) };
    if ((rc = accuracy_percent(model, train, "train", &acc[0])) != CLI_EXIT_OK ||
        (rc = accuracy_percent(model, val, "validation", &acc[1])) != CLI_EXIT_OK ||
        (rc = accuracy_percent(model, test, "test", &acc[2])) != CLI_EXIT_OK)
        goto done;

    if ((rc = store_recipe(model, &a)) != CLI_EXIT_OK)
        goto done;
    st = lf_model_save(model, a.output);
    if (st != LF_OK) {
        rc = cli_lib_error(st, "cannot save the model to '%s'", a.output);
        goto done;
    }
    print_result(&a, ctx, &result, acc, sizes, cli_now() - t0);

done:
    lf_model_destroy(model);
    lf_dataset_destroy(val);
    lf_dataset_destroy(train);
    lf_dataset_destroy(test);
    lf_dataset_destroy(pool);
    lf_context_destroy(ctx);
    return rc;
}
