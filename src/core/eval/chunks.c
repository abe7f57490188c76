/* Batched eval-mode inference over a whole data set, shared by lf_evaluate and
 * lf_model_logit_confidences: the caller sees each chunk's logits, probabilities and labels. */
#include "core/eval/eval_internal.h"
#include "core/model_internal.h"

lf_status lf__eval_for_each_chunk(lf_model *model, const lf_dataset *ds, size_t chunk, int want_probs,
                                  lf__eval_rows_fn fn, void *user)
{
    const lf_context *ctx = model->ctx;
    size_t n = lf_dataset_size(ds);
    size_t classes = (size_t)lf_model_num_classes(model);
    if (n == 0)
        return LF_OK;
    if (chunk > n)
        chunk = n;
    if (chunk > SIZE_MAX / classes / 2)
        return lf__error(LF_E_OUT_OF_RANGE, "batch of %zu rows × %zu classes overflows", chunk, classes);
    int32_t *labels = lf__calloc(ctx, n, sizeof *labels, "labels");
    float *out = lf__calloc(ctx, chunk * classes, 2 * sizeof *out, "logits and probabilities");
    lf_status st = labels && out ? LF_OK : LF_E_NOMEM;
    if (st == LF_OK)
        st = lf_dataset_labels(ds, labels, n);
    float *logits = out, *probs = want_probs && out ? out + chunk * classes : NULL;
    for (size_t first = 0; st == LF_OK && first < n; first += chunk) {
        size_t count = n - first < chunk ? n - first : chunk;
        st = lf_model_predict(model, ds, first, count, logits, probs);
        if (st == LF_OK)
            st = fn(user, first, count, logits, probs, labels + first);
    }
    lf__free(ctx, labels, n * sizeof *labels);
    lf__free(ctx, out, chunk * classes * 2 * sizeof *out);
    return st;
}
