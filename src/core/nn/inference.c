/* Eval-mode inference: raw images or data set samples go through the model in batches of at
 * most EVAL_BATCH rows (bounded memory whatever the count), normalised on the way in. No
 * backward follows these forwards, so they run in LF__FWD_INFER mode (the backend's fastest
 * convolutions). */
#include <math.h>
#include <string.h>

#include "core/nn/nn_internal.h"
#include "core/dataset_internal.h"

#define EVAL_BATCH 1024

static int64_t batch_rows(size_t count)
{
    return count < EVAL_BATCH ? (int64_t)count : EVAL_BATCH;
}

lf_status lf_model_forward(lf_model *model, const float *images, size_t n, float *logits)
{
    LF__CHECK_ARG(model, "lf_model_forward: model is NULL");
    if (n == 0)
        return LF_OK;
    LF__CHECK_ARG(images, "lf_model_forward: images is NULL");
    LF__CHECK_ARG(logits, "lf_model_forward: logits is NULL");
    /* the caller's pixels, unlike a data set's, were never checked: a NaN would only come
     * back as NaN logits */
    size_t d = (size_t)model->in_channels * (size_t)model->in_height * (size_t)model->in_width;
    LF__CHECK_ARG(n <= SIZE_MAX / sizeof(float) / d, "lf_model_forward: %zu samples of %zu values "
                  "overflow the address space", n, d);
    for (size_t i = 0; i < n * d; i++)
        if (!isfinite(images[i]))
            return lf__error(LF_E_NUMERIC, "lf_model_forward: sample %zu, value %zu is %g", i / d,
                             i % d, (double)images[i]);
    lf_context *ctx = model->ctx;
    lf__batch b;
    lf_status st = lf__batch_init(&b, model, batch_rows(n));
    size_t C = (size_t)model->num_classes;
    for (size_t done = 0; st == LF_OK && done < n;) {
        int64_t rows = batch_rows(n - done);
        st = lf__batch_load_images(&b, images + done * b.sample_size, rows);
        if (st == LF_OK)
            st = model->arch->forward(model, b.x, rows, LF__FWD_INFER, b.logits);
        if (st == LF_OK)
            st = LF__BE(ctx, mem_download, logits + done * C, b.logits, (size_t)rows * C * sizeof(float));
        done += (size_t)rows;
    }
    lf__batch_free(&b);
    if (st != LF_OK)
        lf__error_prefix("lf_model_forward");
    return st;
}

/* Runs samples [first, first+count) of ds through the model, calling fn after each batch with
 * the batch (logits and labels in backend memory) and the rows done before it. */
typedef lf_status (*batch_fn)(void *user, lf_model *m, const lf__batch *b, size_t done, int64_t rows);

static lf_status for_each_batch(lf_model *m, const lf_dataset *ds, size_t first, size_t count,
                                batch_fn fn, void *user)
{
    lf__batch b;
    lf_status st = lf__batch_init(&b, m, batch_rows(count));
    for (size_t done = 0; st == LF_OK && done < count;) {
        int64_t rows = batch_rows(count - done);
        st = lf__batch_load_dataset(&b, ds, NULL, first + done, rows);
        if (st == LF_OK)
            st = m->arch->forward(m, b.x, rows, LF__FWD_INFER, b.logits);
        if (st == LF_OK)
            st = fn(user, m, &b, done, rows);
        done += (size_t)rows;
    }
    lf__batch_free(&b);
    return st;
}

typedef struct predict_out {
    float *logits, *probs;   /* caller's host buffers, either may be NULL */
    float *probs_dev;        /* backend scratch for the softmax of one batch */
} predict_out;

static lf_status predict_batch(void *user, lf_model *m, const lf__batch *b, size_t done, int64_t rows)
{
    predict_out *o = user;
    size_t C = (size_t)m->num_classes, bytes = (size_t)rows * C * sizeof(float);
    if (o->logits)
        LF__TRY(LF__BE(m->ctx, mem_download, o->logits + done * C, b->logits, bytes));
    if (o->probs) {
        LF__TRY(LF__BE(m->ctx, softmax_fwd, o->probs_dev, b->logits, rows, (int64_t)C));
        LF__TRY(LF__BE(m->ctx, mem_download, o->probs + done * C, o->probs_dev, bytes));
    }
    return LF_OK;
}

lf_status lf_model_predict(lf_model *model, const lf_dataset *ds, size_t first, size_t count,
                           float *logits, float *probs)
{
    LF__CHECK_ARG(model, "lf_model_predict: model is NULL");
    LF__CHECK_ARG(ds, "lf_model_predict: ds is NULL");
    LF__CHECK_ARG(logits || probs, "lf_model_predict: logits and probs are both NULL");
    if (first > ds->n || count > ds->n - first)
        return lf__error(LF_E_OUT_OF_RANGE, "lf_model_predict: samples [%zu, %zu + %zu) are outside "
                         "the data set's [0, %zu)", first, first, count, ds->n);
    LF__TRY(lf__model_check_input(model, ds->channels, ds->height, ds->width, "lf_model_predict"));
    if (count == 0)
        return LF_OK;
    predict_out o = { logits, probs, NULL };
    lf_status st = LF_OK;
    if (probs)
        st = lf__nn_dev_alloc(model->ctx, (void **)&o.probs_dev,
                              (size_t)batch_rows(count) * (size_t)model->num_classes, sizeof(float), 0,
                              "probabilities");
    if (st == LF_OK)
        st = for_each_batch(model, ds, first, count, predict_batch, &o);
    lf__nn_dev_free(model->ctx, o.probs_dev);
    if (st != LF_OK)
        lf__error_prefix("lf_model_predict");
    return st;
}

static lf_status count_batch(void *user, lf_model *m, const lf__batch *b, size_t done, int64_t rows)
{
    (void)done;
    int64_t correct = 0;
    LF__TRY(LF__BE(m->ctx, count_correct, &correct, b->logits, b->labels, rows, m->num_classes));
    *(int64_t *)user += correct;
    return LF_OK;
}

lf_status lf_model_accuracy(lf_model *model, const lf_dataset *ds, double *accuracy)
{
    LF__CHECK_ARG(accuracy, "lf_model_accuracy: accuracy is NULL");
    *accuracy = 0.0;
    LF__CHECK_ARG(model, "lf_model_accuracy: model is NULL");
    LF__CHECK_ARG(ds, "lf_model_accuracy: ds is NULL");
    LF__CHECK_ARG(ds->n > 0, "lf_model_accuracy: the data set is empty");
    LF__TRY(lf__model_check_input(model, ds->channels, ds->height, ds->width, "lf_model_accuracy"));
    if (ds->num_classes > model->num_classes)
        return lf__error(LF_E_SHAPE, "lf_model_accuracy: the data set has %d classes, the model %d",
                         (int)ds->num_classes, (int)model->num_classes);
    int64_t correct = 0;
    lf_status st = for_each_batch(model, ds, 0, ds->n, count_batch, &correct);
    if (st != LF_OK) {
        lf__error_prefix("lf_model_accuracy");
        return st;
    }
    *accuracy = (double)correct / (double)ds->n;
    return LF_OK;
}
