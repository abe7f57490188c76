/* Supervised training with SGD in PyTorch's semantics: per epoch a seeded shuffle, mini-batches
 * including the final partial one (drop_last=False), mean cross-entropy, one SGD step over the
 * whole parameter block (weight decay on every parameter, biases included, as torch.optim.SGD
 * does), and a per-epoch learning-rate schedule.
 *
 * The model is changed only on success: the parameters and buffers are snapshotted first and
 * copied back on any failure or abort. */
#include <math.h>
#include <string.h>

#include "core/nn/nn_internal.h"
#include "core/dataset_internal.h"

/* Defaults (model.h) and bounds. */
#define DEFAULT_EPOCHS       10
#define DEFAULT_BATCH        128
#define DEFAULT_LR           0.05
#define DEFAULT_MOMENTUM     0.9
#define DEFAULT_WEIGHT_DECAY 5e-4
#define DEFAULT_GAMMA        0.1
#define MAX_EPOCHS           100000
#define MAX_BATCH            (1 << 20)
#define MAX_FLOAT_PARAM      3.0e38   /* hyperparameters are applied as float */

static lf_status out_of_range_f(const char *field, double v, const char *bounds)
{
    return lf__error(LF_E_OUT_OF_RANGE, "lf_train_options.%s = %g: must be %s", field, v, bounds);
}

lf_status lf__train_options_resolve(lf_train_options *o, const lf_train_options *opts,
                                    const lf_context *ctx)
{
    LF__TRY(lf__copy_struct_in(o, sizeof *o, opts, sizeof *o, "lf_train_options"));
    if (o->epochs == 0)
        o->epochs = DEFAULT_EPOCHS;
    if (o->batch_size == 0)
        o->batch_size = DEFAULT_BATCH;
    if (o->lr == 0.0)
        o->lr = DEFAULT_LR;
    if (o->momentum == 0.0)
        o->momentum = DEFAULT_MOMENTUM;
    else if (o->momentum < 0.0)
        o->momentum = 0.0;   /* none */
    if (o->weight_decay == 0.0)
        o->weight_decay = DEFAULT_WEIGHT_DECAY;
    else if (o->weight_decay < 0.0)
        o->weight_decay = 0.0;   /* none */
    if (o->gamma == 0.0)
        o->gamma = DEFAULT_GAMMA;
    if (o->seed == 0)
        o->seed = ctx->opts.seed;

    if (o->epochs < 1 || o->epochs > MAX_EPOCHS)
        return lf__error(LF_E_OUT_OF_RANGE, "lf_train_options.epochs = %d: must be in [1, %d] (0 = %d)",
                         (int)o->epochs, MAX_EPOCHS, DEFAULT_EPOCHS);
    if (o->batch_size < 1 || o->batch_size > MAX_BATCH)
        return lf__error(LF_E_OUT_OF_RANGE, "lf_train_options.batch_size = %d: must be in [1, %d] (0 = %d)",
                         (int)o->batch_size, MAX_BATCH, DEFAULT_BATCH);
    if (o->schedule != LF_LR_CONSTANT && o->schedule != LF_LR_MULTISTEP && o->schedule != LF_LR_COSINE)
        return lf__error(LF_E_OUT_OF_RANGE, "lf_train_options.schedule = %d: must be %d (constant), "
                         "%d (multistep) or %d (cosine)", (int)o->schedule, LF_LR_CONSTANT,
                         LF_LR_MULTISTEP, LF_LR_COSINE);
    /* the negated comparisons reject NaN too */
    if (!(o->lr > 0.0 && o->lr <= MAX_FLOAT_PARAM))
        return out_of_range_f("lr", o->lr, "in (0, 3e38] (0 = 0.05)");
    if (!(o->momentum <= 1.0))
        return out_of_range_f("momentum", o->momentum, "at most 1 (0 = 0.9, negative = none)");
    if (!(o->weight_decay <= MAX_FLOAT_PARAM))
        return out_of_range_f("weight_decay", o->weight_decay, "at most 3e38 (0 = 5e-4, negative = none)");
    if (!(o->gamma > 0.0 && o->gamma <= MAX_FLOAT_PARAM))
        return out_of_range_f("gamma", o->gamma, "in (0, 3e38] (0 = 0.1)");
    for (int i = 0; i < 4; i++)
        if (o->milestones[i] < 0)
            return lf__error(LF_E_OUT_OF_RANGE, "lf_train_options.milestones[%d] = %d: must be >= 0 "
                             "(0 = unused)", i, (int)o->milestones[i]);
    return LF_OK;
}

double lf__lr_at_epoch(const lf_train_options *o, int32_t epoch)
{
    switch (o->schedule) {
    case LF_LR_MULTISTEP: {
        /* MultiStepLR: one factor of gamma per milestone already reached (repeats count twice,
         * as PyTorch's Counter of milestones does) */
        double lr = o->lr;
        for (int i = 0; i < 4; i++)
            if (o->milestones[i] > 0 && o->milestones[i] <= epoch)
                lr *= o->gamma;
        return lr;
    }
    case LF_LR_COSINE:
        return o->lr * (1.0 + cos(M_PI * (double)epoch / (double)o->epochs)) / 2.0;
    default:
        return o->lr;
    }
}

/* Everything a run allocates, so one function frees it on every path. */
typedef struct train_run {
    lf_model         *m;
    const lf_dataset *ds;
    lf__batch  batch;
    float     *probs, *loss, *dlogits;     /* backend: batch × classes, batch, batch × classes */
    float     *loss_host, *weight_host;    /* host: batch */
    int64_t   *order;                      /* host: the epoch's sample order */
    float      loss_sign;                  /* +1 minimises the cross-entropy, -1 maximises it */
    const char *phase;                     /* progress phase name */
    lf__grad_hook hook;                    /* extra gradient terms (may be NULL) */
    void      *hook_user;
    float     *saved_params, *saved_buffers;   /* backend: the snapshot */
    int        saved;                          /* the snapshot has been taken */
    size_t     n_samples;
} train_run;

static lf_status run_alloc(train_run *r, lf_model *m, const lf_dataset *ds, int64_t batch)
{
    memset(r, 0, sizeof *r);
    r->m = m;
    r->ds = ds;
    r->n_samples = ds->n;
    size_t n_samples = ds->n;
    lf_context *ctx = m->ctx;
    size_t B = (size_t)batch, C = (size_t)m->num_classes;
    LF__TRY(lf__batch_init(&r->batch, m, batch));
    LF__TRY(lf__nn_dev_alloc(ctx, (void **)&r->probs, B * C, sizeof(float), 0, "training probabilities"));
    LF__TRY(lf__nn_dev_alloc(ctx, (void **)&r->loss, B, sizeof(float), 0, "training losses"));
    LF__TRY(lf__nn_dev_alloc(ctx, (void **)&r->dlogits, B * C, sizeof(float), 0, "logit gradients"));
    LF__TRY(lf__nn_dev_alloc(ctx, (void **)&r->saved_params, m->n_params, sizeof(float), 0,
                             "the parameter snapshot"));
    LF__TRY(lf__nn_dev_alloc(ctx, (void **)&r->saved_buffers, m->n_buffers, sizeof(float), 0,
                             "the buffer snapshot"));
    r->loss_host = lf__calloc(ctx, B, sizeof(float), "training losses (host)");
    r->weight_host = lf__calloc(ctx, B, sizeof(float), "loss weights");
    r->order = lf__calloc(ctx, n_samples, sizeof(int64_t), "the sample order");
    if (!r->loss_host || !r->weight_host || !r->order)
        return LF_E_NOMEM;
    return LF_OK;
}

static void run_free(train_run *r)
{
    if (!r->m)
        return;
    lf_context *ctx = r->m->ctx;
    size_t B = (size_t)r->batch.capacity;
    lf__batch_free(&r->batch);
    lf__nn_dev_free(ctx, r->probs);
    lf__nn_dev_free(ctx, r->loss);
    lf__nn_dev_free(ctx, r->dlogits);
    lf__nn_dev_free(ctx, r->saved_params);
    lf__nn_dev_free(ctx, r->saved_buffers);
    lf__free(ctx, r->loss_host, B * sizeof(float));
    lf__free(ctx, r->weight_host, B * sizeof(float));
    lf__free(ctx, r->order, r->n_samples * sizeof(int64_t));
}

static lf_status snapshot(train_run *r)
{
    lf_model *m = r->m;
    LF__TRY(LF__BE(m->ctx, mem_copy, r->saved_params, m->params, m->n_params * sizeof(float)));
    LF__TRY(LF__BE(m->ctx, mem_copy, r->saved_buffers, m->buffers, m->n_buffers * sizeof(float)));
    r->saved = 1;
    return LF_OK;
}

/* Puts the snapshot back, keeping the detail message of the failure that caused it. */
static void restore(train_run *r)
{
    lf_model *m = r->m;
    if (r->saved) {
        LF__BE(m->ctx, mem_copy, m->params, r->saved_params, m->n_params * sizeof(float));
        LF__BE(m->ctx, mem_copy, m->buffers, r->saved_buffers, m->n_buffers * sizeof(float));
    }
    m->opt_steps = 0;
}

/* The epoch's order: a Fisher-Yates shuffle of 0..n-1 seeded with (seed, epoch) — the epoch
 * goes into the high half of the stream, so every epoch has its own independent sequence and
 * any epoch can be reproduced alone. */
static void shuffle_epoch(train_run *r, uint64_t seed, int32_t epoch)
{
    for (size_t i = 0; i < r->n_samples; i++)
        r->order[i] = (int64_t)i;
    lf__rng rng;
    lf__rng_init(&rng, seed, LF__STREAM_SHUFFLE | ((uint64_t)(uint32_t)epoch << 32));
    lf__rng_shuffle_i64(&rng, r->order, r->n_samples);
}

/* Figures of the running epoch. */
typedef struct epoch_stats {
    double  loss_sum;
    int64_t correct, seen;
} epoch_stats;

/* One SGD step on the samples order[first .. first+rows). */
static lf_status train_step(train_run *r, const lf_train_options *o, float lr, size_t first,
                            int64_t rows, int32_t epoch, int64_t step, epoch_stats *es)
{
    lf_model *m = r->m;
    lf_context *ctx = m->ctx;
    lf__batch *b = &r->batch;
    int64_t C = m->num_classes;
    LF__TRY(lf__batch_load_dataset(b, r->ds, r->order + first, 0, rows));
    LF__TRY(m->arch->forward(m, b->x, rows, LF__FWD_TRAIN, b->logits));
    LF__TRY(LF__BE(ctx, softmax_xent_fwd, r->loss, r->probs, b->logits, b->labels, rows, C));
    LF__TRY(LF__BE(ctx, mem_download, r->loss_host, r->loss, (size_t)rows * sizeof(float)));
    double sum = 0.0;
    for (int64_t i = 0; i < rows; i++)
        sum += r->loss_host[i];
    if (!isfinite(sum))
        return lf__error(LF_E_NUMERIC, "lf_model_train: epoch %d, step %lld: the loss is %g "
                         "(learning rate %g too high?)", (int)epoch, (long long)step,
                         sum / (double)rows, (double)lr);
    int64_t correct = 0;
    LF__TRY(LF__BE(ctx, count_correct, &correct, b->logits, b->labels, rows, C));

    /* the batch mean: each sample's loss weighs 1/rows, like reduction='mean' (negated for
     * gradient ascent) */
    for (int64_t i = 0; i < rows; i++)
        r->weight_host[i] = r->loss_sign / (float)rows;
    LF__TRY(lf__model_zero_grads(m));
    LF__TRY(LF__BE(ctx, softmax_xent_bwd, r->dlogits, r->probs, b->labels, r->weight_host, rows, C));
    LF__TRY(m->arch->backward(m, r->dlogits, rows, NULL, NULL));
    if (r->hook)
        LF__TRY(r->hook(r->hook_user, m, epoch, o->epochs));
    LF__TRY(lf__model_sgd_step(m, lr, (float)o->momentum, (float)o->weight_decay));

    es->loss_sum += sum;
    es->correct += correct;
    es->seen += rows;
    return LF_OK;
}

static lf_status check_params_finite(lf_model *m, int32_t epoch)
{
    int64_t bad = 0;
    LF__TRY(LF__BE(m->ctx, count_nonfinite, &bad, m->params, (int64_t)m->n_params));
    if (bad)
        return lf__error(LF_E_NUMERIC, "lf_model_train: epoch %d: %lld parameters became non-finite",
                         (int)epoch, (long long)bad);
    return LF_OK;
}

static lf_status train_loop(train_run *r, const lf_train_options *o, lf_train_result *res)
{
    lf_model *m = r->m;
    size_t n = r->n_samples, B = (size_t)o->batch_size;
    int64_t steps_per_epoch = (int64_t)((n + B - 1) / B);
    int64_t total = steps_per_epoch * o->epochs, step = 0;
    m->opt_steps = 0;   /* a fresh optimizer per call, as a new torch.optim.SGD would be */
    double t0 = lf__now_seconds();
    for (int32_t e = 0; e < o->epochs; e++) {
        float lr = (float)lf__lr_at_epoch(o, e);
        shuffle_epoch(r, o->seed, e);
        epoch_stats es = { 0.0, 0, 0 };
        for (int64_t s = 0; s < steps_per_epoch; s++) {
            size_t first = (size_t)s * B;
            int64_t rows = (int64_t)(n - first < B ? n - first : B);
            LF__TRY(train_step(r, o, lr, first, rows, e, s, &es));
            step++;
            if (o->progress) {
                lf_progress p = { (uint32_t)sizeof p, e, step, total, es.loss_sum / (double)es.seen,
                                  (double)es.correct / (double)es.seen, r->phase };
                if (o->progress(o->progress_user, &p) != 0)
                    return lf__error(LF_E_ABORTED, "lf_model_train: aborted by the progress callback "
                                     "at epoch %d, step %lld", (int)e, (long long)step);
            }
        }
        LF__TRY(check_params_finite(m, e));
        res->epochs = e + 1;
        res->steps = step;
        res->final_loss = es.loss_sum / (double)es.seen;
        res->train_accuracy = (double)es.correct / (double)es.seen;
    }
    res->seconds = lf__now_seconds() - t0;
    return LF_OK;
}

lf_status lf_model_train(lf_model *model, const lf_dataset *ds, const lf_train_options *opts,
                         lf_train_result *result)
{
    return lf__model_train_signed(model, ds, opts, 1.0f, "train", result);
}

lf_status lf__model_train_signed(lf_model *model, const lf_dataset *ds, const lf_train_options *opts,
                                 float loss_sign, const char *phase, lf_train_result *result)
{
    return lf__model_train_hooked(model, ds, opts, loss_sign, phase, NULL, NULL, result);
}

lf_status lf__model_train_hooked(lf_model *model, const lf_dataset *ds, const lf_train_options *opts,
                                 float loss_sign, const char *phase, lf__grad_hook hook,
                                 void *hook_user, lf_train_result *result)
{
    LF__CHECK_ARG(model, "lf_model_train: model is NULL");
    LF__CHECK_ARG(ds, "lf_model_train: ds is NULL");
    lf_train_result res = LF_TRAIN_RESULT_INIT;
    /* a bad result struct_size fails now, not after the training */
    if (result)
        LF__TRY(lf__copy_struct_out(result, &res, sizeof res, "lf_train_result"));
    lf_train_options o;
    LF__TRY(lf__train_options_resolve(&o, opts, model->ctx));
    LF__CHECK_ARG(ds->n > 0, "lf_model_train: the data set is empty");
    LF__TRY(lf__model_check_input(model, ds->channels, ds->height, ds->width, "lf_model_train"));
    if (ds->num_classes > model->num_classes)
        return lf__error(LF_E_SHAPE, "lf_model_train: the data set has %d classes, the model %d",
                         (int)ds->num_classes, (int)model->num_classes);

    int64_t batch = o.batch_size < (int64_t)ds->n ? o.batch_size : (int64_t)ds->n;
    train_run r;
    lf_status st = run_alloc(&r, model, ds, batch);
    r.loss_sign = loss_sign;
    r.phase = phase;
    r.hook = hook;
    r.hook_user = hook_user;
    if (st == LF_OK)
        st = snapshot(&r);
    if (st == LF_OK)
        st = lf__model_ensure_grads(model);
    if (st == LF_OK)
        st = train_loop(&r, &o, &res);
    if (st != LF_OK)
        restore(&r);
    run_free(&r);
    if (st != LF_OK)
        return st;
    if (result)
        LF__TRY(lf__copy_struct_out(result, &res, sizeof res, "lf_train_result"));
    return LF_OK;
}
