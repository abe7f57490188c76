/* forget_one_sample — a GDPR erasure request: make a trained model forget one training sample
 * with ReMI, scoring membership with the host's own privacy approximator.
 *
 * Uses only the installed public API. Build it against an installed libforget with
 *
 *     cc forget_one_sample.c $(pkg-config --cflags --libs libforget) -lm -o forget_one_sample
 *
 * and run it on a model made by train_mlp (same data, same validation split) as
 *
 *     ./forget_one_sample MODEL_PATH [DATA_DIR|fashion-mnist] [INDEX] [OUT_PATH]
 *
 * INDEX (default 0) is the sample of the train split to forget; OUT_PATH defaults to
 * forgotten.safetensors. The exit status is 0 on success, 1 on any failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libforget/libforget.h>

static int failed(lf_status status, const char *what)
{
    if (status == LF_OK)
        return 0;
    fprintf(stderr, "forget_one_sample: %s: %s: %s\n", what, lf_status_name(status),
            lf_last_error_message());
    return 1;
}

/* The host's membership scorer: a sample the model is sure about (a large margin of its true
 * class over the runner-up) looks like a training member. score = sigmoid(margin), and its
 * gradient with respect to the two logits involved is ±score·(1 − score). */
typedef struct scorer_stats {
    long calls, rows;
} scorer_stats;

static int margin_scorer(void *user, const float *logits, const int32_t *labels, int64_t n,
                         int32_t classes, float *scores, float *dscores)
{
    scorer_stats *stats = user;
    stats->calls++;
    stats->rows += (long)n;
    for (int64_t i = 0; i < n; i++) {
        const float *row = logits + i * classes;
        int32_t y = labels[i], other = y == 0 ? 1 : 0;
        for (int32_t c = 0; c < classes; c++)
            if (c != y && row[c] > row[other])
                other = c;
        double s = 1.0 / (1.0 + exp(-(double)(row[y] - row[other])));
        scores[i] = (float)s;
        memset(dscores + i * classes, 0, (size_t)classes * sizeof *dscores);
        dscores[i * classes + y] = (float)(s * (1.0 - s));
        dscores[i * classes + other] = (float)(-s * (1.0 - s));
    }
    return 0;   /* non-zero would abort the request with LF_E_ABORTED */
}

static lf_status load_pool(lf_context *ctx, const char *data, lf_dataset **pool)
{
    if (strcmp(data, "fashion-mnist") == 0) {
        lf_dataset *test = NULL;
        lf_status st = lf_dataset_load_builtin(pool, &test, ctx, "fashion-mnist");
        lf_dataset_destroy(test);
        return st;
    }
    char images[4096], labels[4096];
    snprintf(images, sizeof images, "%s/train-images-idx3-ubyte", data);
    snprintf(labels, sizeof labels, "%s/train-labels-idx1-ubyte", data);
    return lf_dataset_load_idx(pool, ctx, images, labels, 0);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: forget_one_sample MODEL_PATH [DATA_DIR|fashion-mnist] [INDEX] "
                        "[OUT_PATH]\n");
        return 1;
    }
    const char *model_path = argv[1];
    const char *data = argc > 2 ? argv[2] : "fashion-mnist";
    int64_t index = argc > 3 ? atoll(argv[3]) : 0;
    const char *out_path = argc > 4 ? argv[4] : "forgotten.safetensors";

    lf_context *ctx = NULL;
    lf_dataset *pool = NULL, *train = NULL, *val = NULL;
    lf_model *model = NULL, *forgotten = NULL;
    lf_request *req = NULL;
    scorer_stats stats = { 0, 0 };
    int rc = 1;

    lf_context_options opts = LF_CONTEXT_OPTIONS_INIT;
    opts.seed = 42;
    if (failed(lf_context_create(&ctx, &opts), "creating the context") ||
        failed(lf_model_load(&model, ctx, model_path, NULL), "loading the model") ||
        failed(load_pool(ctx, data, &pool), "loading the data") ||
        /* the split train_mlp trained on: the validation part is data the model never saw */
        failed(lf_dataset_split_holdout(&train, &val, pool, 0.1, 42), "splitting off validation"))
        goto done;

    /* The request: which method, the data the model was trained on, the one sample to forget,
     * unseen data to compare it with, and the host's membership scorer. */
    lf_forget_spec spec = LF_FORGET_SPEC_INIT;
    spec.kind = LF_FORGET_INDICES;
    spec.indices = &index;
    spec.n_indices = 1;
    if (failed(lf_request_create(&req, ctx, "remi"), "creating the request") ||
        failed(lf_request_set_train(req, train), "setting the train set") ||
        failed(lf_request_set_forget(req, &spec), "setting the forget set") ||
        failed(lf_request_set_holdout(req, val), "setting the held-out set") ||
        failed(lf_request_set_privacy_approximator(req, margin_scorer, &stats),
               "setting the approximator"))
        goto done;

    lf_unlearn_result result = LF_UNLEARN_RESULT_INIT;
    if (failed(lf_unlearn(req, model, &forgotten, &result), "unlearning"))
        goto done;
    printf("forgot sample %lld in %.2f s (%lld steps, %ld scorer calls over %ld rows)\n",
           (long long)index, result.seconds, (long long)result.steps, stats.calls, stats.rows);
    for (int32_t i = 0; i < result.n_figures; i++)
        printf("  %-18s %.4g\n", result.figures[i].name, result.figures[i].value);
    if (failed(lf_model_save(forgotten, out_path), "saving the new model"))
        goto done;
    printf("saved %s (the input model %s is unchanged)\n", out_path, model_path);
    rc = stats.calls > 0 ? 0 : 1;

done:
    lf_request_destroy(req);
    lf_model_destroy(forgotten);
    lf_model_destroy(model);
    lf_dataset_destroy(val);
    lf_dataset_destroy(train);
    lf_dataset_destroy(pool);
    lf_context_destroy(ctx);
    return rc;
}
