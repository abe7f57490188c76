/* train_mlp — a complete libforget program: train an MLP, save it, load it back.
 *
 * Uses only the installed public API. Build it against an installed libforget with
 *
 *     cc train_mlp.c $(pkg-config --cflags --libs libforget) -o train_mlp
 *
 * and run it as
 *
 *     ./train_mlp [DATA_DIR|fashion-mnist] [EPOCHS] [MODEL_PATH]
 *
 * DATA_DIR is a folder holding the four IDX files of the MNIST family (train-images-idx3-ubyte,
 * train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each optionally .gz);
 * the default is the built-in Fashion-MNIST. EPOCHS defaults to 1, MODEL_PATH to
 * mlp.safetensors. The exit status is 0 on success, 1 on any failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libforget/libforget.h>

/* Every fallible libforget call returns a status; on failure, lf_last_error_message() says
 * what was wrong and where (file, byte offset, argument). */
static int failed(lf_status status, const char *what)
{
    if (status == LF_OK)
        return 0;
    fprintf(stderr, "train_mlp: %s: %s: %s\n", what, lf_status_name(status), lf_last_error_message());
    return 1;
}

/* DATA_DIR/name.gz if it exists, else DATA_DIR/name. */
static void idx_path(char *path, size_t size, const char *dir, const char *name)
{
    snprintf(path, size, "%s/%s.gz", dir, name);
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    else
        snprintf(path, size, "%s/%s", dir, name);
}

static lf_status load_data(lf_context *ctx, const char *data, lf_dataset **pool, lf_dataset **test)
{
    if (strcmp(data, "fashion-mnist") == 0)
        return lf_dataset_load_builtin(pool, test, ctx, "fashion-mnist");
    char images[4096], labels[4096];
    idx_path(images, sizeof images, data, "train-images-idx3-ubyte");
    idx_path(labels, sizeof labels, data, "train-labels-idx1-ubyte");
    lf_status st = lf_dataset_load_idx(pool, ctx, images, labels, 0 /* classes: max label + 1 */);
    if (st != LF_OK)
        return st;
    idx_path(images, sizeof images, data, "t10k-images-idx3-ubyte");
    idx_path(labels, sizeof labels, data, "t10k-labels-idx1-ubyte");
    return lf_dataset_load_idx(test, ctx, images, labels, lf_dataset_num_classes(*pool));
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : "fashion-mnist";
    int epochs = argc > 2 ? atoi(argv[2]) : 1;
    const char *model_path = argc > 3 ? argv[3] : "mlp.safetensors";
    if (epochs < 1) {
        fprintf(stderr, "usage: train_mlp [DATA_DIR|fashion-mnist] [EPOCHS >= 1] [MODEL_PATH]\n");
        return 1;
    }

    /* The headers this program was compiled with should match the library it runs with. */
    if (lf_version_number() / 100 != LF_VERSION_NUMBER / 100)
        fprintf(stderr, "train_mlp: warning: built with libforget %s, running with %s\n",
                LF_VERSION_STRING, lf_version_string());

    lf_context *ctx = NULL;
    lf_dataset *pool = NULL, *test = NULL, *train = NULL, *val = NULL;
    lf_model *model = NULL, *reloaded = NULL;
    int rc = 1;

    /* 1. A context: the backend (AUTO = the fastest built), threads and the default seed.
     *    Options structs start with struct_size; the _INIT macro sets it, zeros mean defaults. */
    lf_context_options opts = LF_CONTEXT_OPTIONS_INIT;
    opts.seed = 42;
    if (failed(lf_context_create(&ctx, &opts), "creating the context"))
        goto done;
    printf("libforget %s, %s backend, %d threads\n", lf_version_string(),
           lf_backend_name(lf_context_backend(ctx)), (int)lf_context_threads(ctx));

    /* 2. The data: the train pool and the test set. Samples are floats in [0, 1]. */
    if (failed(load_data(ctx, data, &pool, &test), "loading the data"))
        goto done;

    /* 3. Hold out 10% of each class of the pool for validation. The two results are views:
     *    index subsets sharing the pool's storage. */
    if (failed(lf_dataset_split_holdout(&train, &val, pool, 0.1, 42), "splitting off validation"))
        goto done;
    printf("train %zu, validation %zu, test %zu samples\n", lf_dataset_size(train),
           lf_dataset_size(val), lf_dataset_size(test));

    /* 4. An MLP sized for the data (input shape and class count from the data set). */
    lf_model_config config = LF_MODEL_CONFIG_INIT;
    if (failed(lf_model_config_from_dataset(&config, train), "reading the data's shape") ||
        failed(lf_model_create(&model, ctx, "mlp", &config), "creating the model"))
        goto done;

    /* 5. Train: SGD with momentum; zero fields take the library's defaults (lr 0.05, batch 128). */
    lf_train_options topts = LF_TRAIN_OPTIONS_INIT;
    topts.epochs = epochs;
    lf_train_result result = LF_TRAIN_RESULT_INIT;
    if (failed(lf_model_train(model, train, &topts, &result), "training"))
        goto done;
    double test_accuracy = 0.0;
    if (failed(lf_model_accuracy(model, test, &test_accuracy), "evaluating"))
        goto done;
    printf("trained %d epochs in %.2f s: final loss %.4f, test accuracy %.2f%%\n",
           (int)result.epochs, result.seconds, result.final_loss, 100.0 * test_accuracy);

    /* 6. Save (safetensors, written atomically), load it back, and check that the reloaded model
     *    predicts exactly as the trained one did. */
    if (failed(lf_model_save(model, model_path), "saving the model") ||
        failed(lf_model_load(&reloaded, ctx, model_path, NULL), "loading the model back"))
        goto done;
    double reloaded_accuracy = 0.0;
    if (failed(lf_model_accuracy(reloaded, test, &reloaded_accuracy), "evaluating the reloaded model"))
        goto done;
    if (reloaded_accuracy != test_accuracy) {
        fprintf(stderr, "train_mlp: the reloaded model scores %.4f%%, the trained one %.4f%%\n",
                100.0 * reloaded_accuracy, 100.0 * test_accuracy);
        goto done;
    }
    printf("saved %s; the reloaded model scores the same %.2f%%\n", model_path, 100.0 * reloaded_accuracy);
    rc = 0;

done:
    /* 7. Clean up: models and data sets before the context they belong to. destroy(NULL) is a
     *    no-op, so one exit path serves every failure. */
    lf_model_destroy(reloaded);
    lf_model_destroy(model);
    lf_dataset_destroy(val);
    lf_dataset_destroy(train);
    lf_dataset_destroy(test);
    lf_dataset_destroy(pool);
    lf_context_destroy(ctx);
    return rc;
}
