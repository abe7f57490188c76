/* Sparse models: per-weight 0/1 pruning masks over the maskable tensors (convolution weights)
 * and global magnitude pruning.
 *
 * Masked weights are kept exactly 0 in the parameters themselves (re-masked after every update
 * and on load), so every forward computes with w ⊙ m without a masked copy, and gradients are
 * masked before each SGD step (lf__model_sgd_step). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/nn/nn_internal.h"

#define DEFAULT_SPARSITY 0.95

lf_status lf__model_ensure_masks(lf_model *m)
{
    if (m->masks)
        return LF_OK;
    if (m->n_mask == 0)
        return lf__error(LF_E_UNSUPPORTED, "model '%s' has no convolution weights to mask", m->arch->name);
    uint8_t *ones = lf__alloc(m->ctx, m->n_mask, "pruning masks (host)");
    if (!ones)
        return LF_E_NOMEM;
    memset(ones, 1, m->n_mask);
    uint8_t *dev = NULL;
    lf_status st = lf__nn_dev_alloc(m->ctx, (void **)&dev, m->n_mask, 1, 0, "pruning masks");
    if (st == LF_OK)
        st = LF__BE(m->ctx, mem_upload, dev, ones, m->n_mask);
    lf__free(m->ctx, ones, m->n_mask);
    if (st != LF_OK) {
        lf__nn_dev_free(m->ctx, dev);
        return st;
    }
    m->masks = dev;
    return LF_OK;
}

uint8_t *lf__model_mask_ptr(const lf_model *m, const lf__tensor_desc *t)
{
    return (m->masks && t->maskable) ? m->masks + t->mask_offset : NULL;
}

lf_status lf__model_apply_masks(lf_model *m, float *block)
{
    if (!m->masks || !block)
        return LF_OK;
    for (size_t i = 0; i < m->n_tensors; i++) {
        const lf__tensor_desc *t = &m->tensors[i];
        if (t->maskable)
            LF__TRY(LF__BE(m->ctx, apply_mask, block + t->offset, m->masks + t->mask_offset,
                           (int64_t)t->numel));
    }
    return LF_OK;
}

/* ---- global magnitude pruning ---- */

/* The maskable weights and masks gathered on the host, in mask order (tensor declaration
 * order, elements row-major): one entry per weight. */
typedef struct prune_work {
    float   *mag;     /* |w| */
    uint8_t *mask;
    size_t  *order;   /* indices sorted by (|w|, index) */
} prune_work;

/* qsort has no context argument: the magnitudes being sorted, set just before the call (a
 * model is used by one thread at a time, but different models may prune in parallel, so this
 * is thread-local). */
static _Thread_local const float *sort_mag;

static int by_magnitude_then_index(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (sort_mag[i] != sort_mag[j])
        return sort_mag[i] < sort_mag[j] ? -1 : 1;
    return i < j ? -1 : i > j;
}

static lf_status gather(lf_model *m, prune_work *w)
{
    float *host = NULL;
    size_t host_n = 0;
    for (size_t i = 0; i < m->n_tensors; i++) {
        const lf__tensor_desc *t = &m->tensors[i];
        if (!t->maskable)
            continue;
        if (t->numel > host_n) {
            lf__free(m->ctx, host, host_n * sizeof *host);
            host_n = t->numel;
            host = lf__alloc(m->ctx, host_n * sizeof *host, "weights being pruned");
            if (!host)
                return LF_E_NOMEM;
        }
        lf_status st = lf__model_download(m, t, host);
        for (size_t j = 0; st == LF_OK && j < t->numel; j++)
            w->mag[t->mask_offset + j] = fabsf(host[j]);
        if (st != LF_OK) {
            lf__free(m->ctx, host, host_n * sizeof *host);
            return st;
        }
    }
    lf__free(m->ctx, host, host_n * sizeof *host);
    return LF__BE(m->ctx, mem_download, w->mask, m->masks, m->n_mask);
}

lf_status lf_model_prune(lf_model *model, double sparsity)
{
    LF__CHECK_ARG(model, "lf_model_prune: model is NULL");
    if (sparsity == 0.0)
        sparsity = DEFAULT_SPARSITY;
    if (!(sparsity > 0.0 && sparsity < 1.0))   /* NaN too */
        return lf__error(LF_E_OUT_OF_RANGE, "lf_model_prune: sparsity = %g: must be in (0, 1) (0 = %g)",
                         sparsity, DEFAULT_SPARSITY);
    if (model->n_mask == 0)
        return lf__error(LF_E_UNSUPPORTED, "lf_model_prune: model '%s' has no convolution weights to "
                         "prune", model->arch->name);
    int had_masks = model->masks != NULL;
    LF__TRY(lf__model_ensure_masks(model));
    size_t n = model->n_mask;
    prune_work w = { 0 };
    w.mag = lf__calloc(model->ctx, n, sizeof *w.mag, "weight magnitudes");
    w.mask = lf__calloc(model->ctx, n, 1, "pruning masks (host)");
    w.order = lf__calloc(model->ctx, n, sizeof *w.order, "the pruning order");
    lf_status st = (w.mag && w.mask && w.order) ? LF_OK : LF_E_NOMEM;
    if (st == LF_OK)
        st = gather(model, &w);
    if (st == LF_OK) {
        /* the smallest round(sparsity·n) magnitudes go; equal magnitudes in mask order (the
         * earlier tensor, then the earlier element, first). Already-masked weights are 0, so they
         * are among the first, and a masked weight is never revived. */
        size_t k = (size_t)llround(sparsity * (double)n);
        for (size_t i = 0; i < n; i++)
            w.order[i] = i;
        sort_mag = w.mag;
        qsort(w.order, n, sizeof *w.order, by_magnitude_then_index);
        sort_mag = NULL;
        for (size_t r = 0; r < k; r++)
            w.mask[w.order[r]] = 0;
        st = LF__BE(model->ctx, mem_upload, model->masks, w.mask, n);
    }
    if (st == LF_OK)
        st = lf__model_apply_masks(model, model->params);
    if (st != LF_OK && !had_masks) {   /* a failed first prune leaves the model dense */
        lf__nn_dev_free(model->ctx, model->masks);
        model->masks = NULL;
    }
    lf__free(model->ctx, w.mag, n * sizeof *w.mag);
    lf__free(model->ctx, w.mask, n);
    lf__free(model->ctx, w.order, n * sizeof *w.order);
    if (st != LF_OK)
        lf__error_prefix("lf_model_prune");
    return st;
}

lf_status lf_model_sparsity(const lf_model *model, double *out)
{
    LF__CHECK_ARG(out, "lf_model_sparsity: out is NULL");
    *out = 0.0;
    LF__CHECK_ARG(model, "lf_model_sparsity: model is NULL");
    if (!model->masks)
        return LF_OK;
    uint8_t *mask = lf__alloc(model->ctx, model->n_mask, "pruning masks (host)");
    if (!mask)
        return LF_E_NOMEM;
    lf_status st = LF__BE(model->ctx, mem_download, mask, model->masks, model->n_mask);
    size_t zeros = 0;
    for (size_t i = 0; st == LF_OK && i < model->n_mask; i++)
        zeros += mask[i] == 0;
    lf__free(model->ctx, mask, model->n_mask);
    if (st != LF_OK)
        return st;
    *out = (double)zeros / (double)model->n_mask;
    return LF_OK;
}
