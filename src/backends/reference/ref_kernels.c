/* The reference kernels: plain C loops over host memory, written to be obviously right. They
 * are the oracle the other backends are tested against, so clarity wins over speed; reductions
 * accumulate in double. The contract of each op is in backends/backend.h. */
#include <math.h>
#include <stdint.h>

#include "core/internal.h"
#include "core/rng.h"
#include "backends/reference/ref_kernels.h"
#include "backends/reference/ref_args.h"

/* Columns accumulated at once in double by gemm and bias_bwd: a stack buffer instead of a
 * hidden allocation, small enough to stay in L1. */
enum { ACC_BLOCK = 256 };

/* ---- the check that reads data (the others are in ref_args.c) ---- */

/* Every label in [0, classes): the losses index rows by label. */
static lf_status check_labels(const char *op, const int32_t *labels, int64_t n, int64_t classes)
{
    for (int64_t i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= classes)
            return lf__error(LF_E_INVALID_ARG, "%s: row %lld: label %d is outside [0, %lld)", op,
                             (long long)i, (int)labels[i], (long long)classes);
    return LF_OK;
}

/* ---- dense algebra ---- */

/* C[i][j] = alpha·acc + beta·C[i][j], with C not read when beta == 0 (it may hold NaN). */
static float gemm_out(double acc, float alpha, float beta, float c_old)
{
    double r = (double)alpha * acc;
    if (beta != 0.0f)
        r += (double)beta * c_old;
    return (float)r;
}

lf_status lf__ref_gemm(void *priv, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                       float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                       float beta, float *c, int64_t ldc)
{
    (void)priv;
    LF__TRY(lf__ref_gemm_check(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc));
    /* op(A)[i][p] and op(B)[p][j] as stored */
#define OP_A(i, p) (trans_a ? a[(p) * lda + (i)] : a[(i) * lda + (p)])
#define OP_B(p, j) (trans_b ? b[(j) * ldb + (p)] : b[(p) * ldb + (j)])
    if (!trans_b) {
        /* i-k-j order: the inner loop walks a row of B and a block of double accumulators */
        double acc[ACC_BLOCK];
        for (int64_t i = 0; i < m; i++) {
            for (int64_t j0 = 0; j0 < n; j0 += ACC_BLOCK) {
                int64_t jn = n - j0 < ACC_BLOCK ? n - j0 : ACC_BLOCK;
                for (int64_t j = 0; j < jn; j++)
                    acc[j] = 0.0;
                for (int64_t p = 0; p < k; p++) {
                    double aip = OP_A(i, p);
                    const float *brow = b + p * ldb + j0;
                    for (int64_t j = 0; j < jn; j++)
                        acc[j] += aip * brow[j];
                }
                float *crow = c + i * ldc + j0;
                for (int64_t j = 0; j < jn; j++)
                    crow[j] = gemm_out(acc[j], alpha, beta, beta != 0.0f ? crow[j] : 0.0f);
            }
        }
    } else {
        /* Bᵀ: row j of B is column j of op(B), so each C element is a contiguous dot product */
        for (int64_t i = 0; i < m; i++) {
            for (int64_t j = 0; j < n; j++) {
                double acc = 0.0;
                for (int64_t p = 0; p < k; p++)
                    acc += (double)OP_A(i, p) * OP_B(p, j);
                float *cij = c + i * ldc + j;
                *cij = gemm_out(acc, alpha, beta, beta != 0.0f ? *cij : 0.0f);
            }
        }
    }
#undef OP_A
#undef OP_B
    return LF_OK;
}

lf_status lf__ref_bias_add_fwd(void *priv, float *y, const float *bias, int64_t rows, int64_t cols)
{
    (void)priv;
    LF__TRY(lf__ref_bias_add_fwd_args(y, bias, rows, cols));
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < cols; j++)
            y[r * cols + j] += bias[j];
    return LF_OK;
}

lf_status lf__ref_bias_bwd(void *priv, float *dbias, const float *dy, int64_t rows, int64_t cols)
{
    (void)priv;
    LF__TRY(lf__ref_bias_bwd_args(dbias, dy, rows, cols));
    /* a block of columns at a time, walking dy row by row (cache-friendly), sums in double */
    double acc[ACC_BLOCK];
    for (int64_t j0 = 0; j0 < cols; j0 += ACC_BLOCK) {
        int64_t jn = cols - j0 < ACC_BLOCK ? cols - j0 : ACC_BLOCK;
        for (int64_t j = 0; j < jn; j++)
            acc[j] = 0.0;
        for (int64_t r = 0; r < rows; r++) {
            const float *row = dy + r * cols + j0;
            for (int64_t j = 0; j < jn; j++)
                acc[j] += row[j];
        }
        for (int64_t j = 0; j < jn; j++)
            dbias[j0 + j] = (float)((double)dbias[j0 + j] + acc[j]);
    }
    return LF_OK;
}

lf_status lf__ref_axpby(void *priv, float *y, float a, const float *x, float b, int64_t n)
{
    (void)priv;
    LF__TRY(lf__ref_axpby_args(y, x, n));
    /* b == 0 overwrites y without reading it, like gemm's beta == 0 */
    for (int64_t i = 0; i < n; i++)
        y[i] = b != 0.0f ? a * x[i] + b * y[i] : a * x[i];
    return LF_OK;
}

/* ---- element-wise ---- */

lf_status lf__ref_relu_fwd(void *priv, float *y, const float *x, int64_t n)
{
    (void)priv;
    LF__TRY(lf__ref_relu_fwd_args(y, x, n));
    /* NaN passes through (as in torch.relu) so divergence stays visible */
    for (int64_t i = 0; i < n; i++)
        y[i] = (x[i] > 0.0f || isnan(x[i])) ? x[i] : 0.0f;
    return LF_OK;
}

lf_status lf__ref_relu_bwd(void *priv, float *dx, const float *dy, const float *y, int64_t n)
{
    (void)priv;
    LF__TRY(lf__ref_relu_bwd_args(dx, dy, y, n));
    for (int64_t i = 0; i < n; i++)
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    return LF_OK;
}

lf_status lf__ref_normalize_fwd(void *priv, float *y, const float *x, const float *mean_host,
                                const float *inv_std_host, int64_t n, int64_t channels,
                                int64_t spatial)
{
    (void)priv;
    LF__TRY(lf__ref_normalize_fwd_args(y, x, mean_host, inv_std_host, n, channels, spatial));
    for (int64_t i = 0; i < n; i++)
        for (int64_t ch = 0; ch < channels; ch++) {
            int64_t base = (i * channels + ch) * spatial;
            for (int64_t s = 0; s < spatial; s++)
                y[base + s] = (x[base + s] - mean_host[ch]) * inv_std_host[ch];
        }
    return LF_OK;
}

/* ---- losses ---- */

/* The row's maximum and Σ exp(x − max) in double: the stable pieces of softmax and logsumexp. */
static void softmax_row_stats(const float *row, int64_t classes, double *max_out, double *sum_out)
{
    double mx = row[0];
    for (int64_t c = 1; c < classes; c++)
        if (row[c] > mx)
            mx = row[c];
    double sum = 0.0;
    for (int64_t c = 0; c < classes; c++)
        sum += exp((double)row[c] - mx);
    *max_out = mx;
    *sum_out = sum;
}

lf_status lf__ref_softmax_xent_fwd(void *priv, float *loss, float *probs, const float *logits,
                                   const int32_t *labels, int64_t n, int64_t classes)
{
    (void)priv;
    LF__TRY(lf__ref_softmax_xent_fwd_args(loss, logits, labels, n, classes));
    /* all labels first, so a bad batch leaves the outputs untouched */
    LF__TRY(check_labels("softmax_xent_fwd", labels, n, classes));
    for (int64_t i = 0; i < n; i++) {
        const float *row = logits + i * classes;
        double mx, sum;
        softmax_row_stats(row, classes, &mx, &sum);
        /* −log p = logsumexp − logit: finite even where p rounds to 0 */
        loss[i] = (float)(mx + log(sum) - (double)row[labels[i]]);
        if (probs)
            for (int64_t c = 0; c < classes; c++)
                probs[i * classes + c] = (float)(exp((double)row[c] - mx) / sum);
    }
    return LF_OK;
}

lf_status lf__ref_softmax_xent_bwd(void *priv, float *dlogits, const float *probs,
                                   const int32_t *labels, const float *weight_host, int64_t n,
                                   int64_t classes)
{
    (void)priv;
    LF__TRY(lf__ref_softmax_xent_bwd_args(dlogits, probs, labels, weight_host, n, classes));
    LF__TRY(check_labels("softmax_xent_bwd", labels, n, classes));
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < classes; c++) {
            float target = c == labels[i] ? 1.0f : 0.0f;
            dlogits[i * classes + c] = weight_host[i] * (probs[i * classes + c] - target);
        }
    return LF_OK;
}

lf_status lf__ref_softmax_fwd(void *priv, float *probs, const float *logits, int64_t n,
                              int64_t classes)
{
    (void)priv;
    LF__TRY(lf__ref_softmax_fwd_args(probs, logits, n, classes));
    for (int64_t i = 0; i < n; i++) {
        const float *row = logits + i * classes;
        double mx, sum;
        softmax_row_stats(row, classes, &mx, &sum);
        for (int64_t c = 0; c < classes; c++)
            probs[i * classes + c] = (float)(exp((double)row[c] - mx) / sum);
    }
    return LF_OK;
}

/* ---- optimizer ---- */

lf_status lf__ref_sgd_step(void *priv, float *w, float *buf, const float *grad, int64_t n,
                           float lr, float momentum, float weight_decay, int first_step)
{
    (void)priv;
    LF__TRY(lf__ref_sgd_step_args(w, buf, grad, n, momentum));
    /* torch.optim.SGD (dampening 0, no Nesterov), one float rounding per torch operation:
     * d_p = grad.add(w, alpha=wd) only when wd != 0; buf = clone(d_p) on the first step, else
     * buf.mul_(momentum).add_(d_p); w.add_(buf or d_p, alpha=-lr). */
    for (int64_t i = 0; i < n; i++) {
        float g = grad[i];
        if (weight_decay != 0.0f)
            g = g + weight_decay * w[i];
        if (momentum != 0.0f) {
            if (first_step) {
                buf[i] = g;
            } else {
                float decayed = buf[i] * momentum;
                buf[i] = decayed + g;
            }
            g = buf[i];
        }
        w[i] = w[i] + (-lr) * g;
    }
    return LF_OK;
}

/* ---- reductions ---- */

lf_status lf__ref_sum_squares(void *priv, double *out_host, const float *x, int64_t n)
{
    (void)priv;
    LF__TRY(lf__ref_sum_squares_args(out_host, x, n));
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)x[i] * x[i];
    *out_host = sum;
    return LF_OK;
}

lf_status lf__ref_count_nonfinite(void *priv, int64_t *out_host, const float *x, int64_t n)
{
    (void)priv;
    LF__TRY(lf__ref_count_nonfinite_args(out_host, x, n));
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++)
        count += !isfinite(x[i]);
    *out_host = count;
    return LF_OK;
}

lf_status lf__ref_count_correct(void *priv, int64_t *out_host, const float *logits,
                                const int32_t *labels, int64_t n, int64_t classes)
{
    (void)priv;
    LF__TRY(lf__ref_count_correct_args(out_host, logits, labels, n, classes));
    LF__TRY(check_labels("count_correct", labels, n, classes));
    int64_t correct = 0;
    for (int64_t i = 0; i < n; i++) {
        const float *row = logits + i * classes;
        /* torch.argmax: the first maximum wins, and NaN counts as the maximum */
        int64_t best = 0;
        for (int64_t c = 1; c < classes; c++)
            if (!isnan(row[best]) && (row[c] > row[best] || isnan(row[c])))
                best = c;
        correct += best == labels[i];
    }
    *out_host = correct;
    return LF_OK;
}

/* ---- random fills ---- */

lf_status lf__ref_rng_uniform(void *priv, float *out, int64_t n, uint64_t seed, uint64_t stream,
                              uint64_t offset, float lo, float hi)
{
    (void)priv;
    LF__TRY(lf__ref_rng_uniform_args(out, n));
    float span = hi - lo;
    for (int64_t j = 0; j < n; j++)
        out[j] = lo + span * lf__rng_uniform_at(seed, stream, offset + (uint64_t)j);
    return LF_OK;
}

lf_status lf__ref_rng_normal(void *priv, float *out, int64_t n, uint64_t seed, uint64_t stream,
                             uint64_t offset, float mean, float std)
{
    (void)priv;
    LF__TRY(lf__ref_rng_normal_args(out, n));
    for (int64_t j = 0; j < n; j++)
        out[j] = mean + std * lf__rng_normal_at(seed, stream, offset + (uint64_t)j);
    return LF_OK;
}
