/* The cpu backend's kernels of the attacker network (version 4 of the table) and the row-wise
 * ops around them (softmax, bias), on the context's threads: chunks of rows or elements per
 * thread, column ranges for the sums over rows (the parameter gradients). The arithmetic is
 * the reference's, vectorised, so the results are its own bits, with one exception: layer
 * norm's sums along a row run in double lanes, in another order (the same floats out bar a
 * rare last-bit difference). Column sums keep the reference's order (each column over the rows
 * one by one). Softmax takes each exp once (the reference takes it twice). Small
 * inputs stay on the calling thread; arguments outside the plain case go to the reference
 * kernel there, which handles or rejects them (a worker thread's error detail would be lost). */
#include <math.h>

#include "core/internal.h"
#include "backends/reference/ref_kernels.h"
#include "backends/cpu/cpu_ops.h"

void lf__cpu_chunk(int64_t count, int t, int i, int64_t *lo, int64_t *hi)
{
    *lo = count / t * i + (i < count % t ? i : count % t);
    *hi = *lo + count / t + (i < count % t ? 1 : 0);
}

lf_status lf__cpu_chunk_failed(const char *op)
{
    return lf__error(LF_E_BACKEND, "%s: a worker thread's chunk failed", op);
}

/* ---- Adam: the reference per chunk of elements ---- */

lf_status lf__cpu_adam_step(void *priv, float *w, float *m, float *v, const float *grad, int64_t n,
                            float lr, double beta1, double beta2, float eps, float weight_decay,
                            int64_t step)
{
    const int t = lf__cpu_threads_for(priv, n);
    if (t == 1 || !w || !m || !v || !grad || step < 1 || !(beta1 >= 0.0 && beta1 < 1.0) ||
        !(beta2 >= 0.0 && beta2 < 1.0))
        return lf__ref_adam_step(priv, w, m, v, grad, n, lr, beta1, beta2, eps, weight_decay, step);
    LF__CPU_PARALLEL_CHUNKS("adam_step", n,
                            lf__ref_adam_step(priv, w + lo, m + lo, v + lo, grad + lo, hi - lo, lr,
                                              beta1, beta2, eps, weight_decay, step));
}

/* ---- row-wise ---- */

/* 1 when a rows × cols matrix is the plain case of the row kernels below. */
static int plain_matrix(int64_t rows, int64_t cols)
{
    return rows >= 1 && cols >= 1 && rows <= INT64_MAX / cols;
}

/* ---- layer norm ---- */

/* The reference's formulas for rows [r0, r1); each row's sums are vectorised (double lanes
 * added in another order than the reference's one by one: the same floats out, bar a rare
 * last-bit difference). */
static void layernorm_fwd_rows(float *y, float *save_mean, float *save_invstd, const float *x,
                               const float *gamma, const float *beta, int64_t r0, int64_t r1,
                               int64_t cols, float eps)
{
    for (int64_t r = r0; r < r1; r++) {
        const float *xr = x + r * cols;
        double sum = 0.0;
#pragma omp simd reduction(+ : sum)
        for (int64_t c = 0; c < cols; c++)
            sum += xr[c];
        const double mean = sum / (double)cols;
        double sq = 0.0;   /* centred second pass: no cancellation */
#pragma omp simd reduction(+ : sq)
        for (int64_t c = 0; c < cols; c++) {
            const double d = xr[c] - mean;
            sq += d * d;
        }
        const double invstd = 1.0 / sqrt(sq / (double)cols + eps);
        float *yr = y + r * cols;
#pragma omp simd
        for (int64_t c = 0; c < cols; c++)
            yr[c] = (float)((xr[c] - mean) * invstd * gamma[c] + beta[c]);
        save_mean[r] = (float)mean;
        save_invstd[r] = (float)invstd;
    }
}

lf_status lf__cpu_layernorm_fwd(void *priv, float *y, float *save_mean, float *save_invstd,
                                const float *x, const float *gamma, const float *beta,
                                int64_t rows, int64_t cols, float eps)
{
    if (!plain_matrix(rows, cols) || !y || !save_mean || !save_invstd || !x || !gamma || !beta)
        return lf__ref_layernorm_fwd(priv, y, save_mean, save_invstd, x, gamma, beta, rows, cols,
                                     eps);
    const int t = lf__cpu_threads_for(priv, rows * cols);
#pragma omp parallel for num_threads(t) if (t > 1) schedule(static)
    for (int i = 0; i < t; i++) {
        int64_t lo, hi;
        lf__cpu_chunk(rows, t, i, &lo, &hi);
        layernorm_fwd_rows(y, save_mean, save_invstd, x, gamma, beta, lo, hi, cols, eps);
    }
    return LF_OK;
}

/* dγ[c] += Σ_r dy·x̂, dβ[c] += Σ_r dy for columns [c0, c1): each column over the rows in order
 * in double, as the reference (the same bits), vectorised across columns. */
static void layernorm_bwd_params(float *dgamma, float *dbeta, const float *dy, const float *x,
                                 const float *save_mean, const float *save_invstd, int64_t rows,
                                 int64_t cols, int64_t c0, int64_t c1)
{
    enum { BLOCK = 64 };
    double acc_g[BLOCK], acc_b[BLOCK];
    for (int64_t b0 = c0; b0 < c1; b0 += BLOCK) {
        const int64_t cn = c1 - b0 < BLOCK ? c1 - b0 : BLOCK;
        for (int64_t c = 0; c < cn; c++)
            acc_g[c] = acc_b[c] = 0.0;
        for (int64_t r = 0; r < rows; r++) {
            const double mean = save_mean[r], invstd = save_invstd[r];
            const float *dyr = dy + r * cols + b0, *xr = x + r * cols + b0;
#pragma omp simd
            for (int64_t c = 0; c < cn; c++) {
                acc_g[c] += dyr[c] * (xr[c] - mean) * invstd;
                acc_b[c] += dyr[c];
            }
        }
        for (int64_t c = 0; c < cn; c++) {
            dgamma[b0 + c] = (float)((double)dgamma[b0 + c] + acc_g[c]);
            dbeta[b0 + c] = (float)((double)dbeta[b0 + c] + acc_b[c]);
        }
    }
}

/* dx = invstd·(g − Σg/D − x̂·Σ(g·x̂)/D), g = dy·γ, for rows [r0, r1); the row sums vectorised
 * as in the forward pass. */
static void layernorm_bwd_rows(float *dx, const float *dy, const float *x, const float *gamma,
                               const float *save_mean, const float *save_invstd, int64_t r0,
                               int64_t r1, int64_t cols)
{
    for (int64_t r = r0; r < r1; r++) {
        const double mean = save_mean[r], invstd = save_invstd[r];
        const float *dyr = dy + r * cols, *xr = x + r * cols;
        double sum_g = 0.0, sum_gx = 0.0;
#pragma omp simd reduction(+ : sum_g, sum_gx)
        for (int64_t c = 0; c < cols; c++) {
            const double g = (double)dyr[c] * gamma[c];
            sum_g += g;
            sum_gx += g * (xr[c] - mean) * invstd;
        }
        const double mean_g = sum_g / (double)cols, mean_gx = sum_gx / (double)cols;
        float *dxr = dx + r * cols;
#pragma omp simd
        for (int64_t c = 0; c < cols; c++) {
            const double xhat = (xr[c] - mean) * invstd;
            dxr[c] = (float)(invstd * ((double)dyr[c] * gamma[c] - mean_g - xhat * mean_gx));
        }
    }
}

lf_status lf__cpu_layernorm_bwd(void *priv, float *dx, float *dgamma, float *dbeta, const float *dy,
                                const float *x, const float *gamma, const float *save_mean,
                                const float *save_invstd, int64_t rows, int64_t cols)
{
    if (!plain_matrix(rows, cols) || !dx || !dgamma || !dbeta || !dy || !x || !gamma ||
        !save_mean || !save_invstd)
        return lf__ref_layernorm_bwd(priv, dx, dgamma, dbeta, dy, x, gamma, save_mean,
                                     save_invstd, rows, cols);
    const int t = lf__cpu_threads_for(priv, rows * cols);
    /* all of dγ and dβ read dy before any dx is written (dx may be dy): the barrier between */
#pragma omp parallel num_threads(t) if (t > 1)
    {
#pragma omp for schedule(static)
        for (int i = 0; i < t; i++) {
            int64_t lo, hi;
            lf__cpu_chunk(cols, t, i, &lo, &hi);
            layernorm_bwd_params(dgamma, dbeta, dy, x, save_mean, save_invstd, rows, cols, lo, hi);
        }
#pragma omp for schedule(static)
        for (int i = 0; i < t; i++) {
            int64_t lo, hi;
            lf__cpu_chunk(rows, t, i, &lo, &hi);
            layernorm_bwd_rows(dx, dy, x, gamma, save_mean, save_invstd, lo, hi, cols);
        }
    }
    return LF_OK;
}

/* ---- softmax ---- */

/* The reference's softmax of rows [r0, r1) with each exp taken once (the reference takes it
 * for the sum and again for the output): the same bits. Rows wider than the buffer keep the
 * reference's two passes. */
static void softmax_fwd_rows(float *probs, const float *logits, int64_t r0, int64_t r1,
                             int64_t classes)
{
    enum { MAX_COLS = 256 };
    if (classes > MAX_COLS) {
        lf__ref_softmax_fwd(NULL, probs + r0 * classes, logits + r0 * classes, r1 - r0, classes);
        return;
    }
    double e[MAX_COLS];
    for (int64_t r = r0; r < r1; r++) {
        const float *row = logits + r * classes;
        double mx = row[0];
        for (int64_t c = 1; c < classes; c++)
            if (row[c] > mx)
                mx = row[c];
        double sum = 0.0;
        for (int64_t c = 0; c < classes; c++) {
            e[c] = exp((double)row[c] - mx);
            sum += e[c];
        }
        float *out = probs + r * classes;
        for (int64_t c = 0; c < classes; c++)
            out[c] = (float)(e[c] / sum);
    }
}

lf_status lf__cpu_softmax_fwd(void *priv, float *probs, const float *logits, int64_t n,
                              int64_t classes)
{
    if (!plain_matrix(n, classes) || !probs || !logits)
        return lf__ref_softmax_fwd(priv, probs, logits, n, classes);
    const int t = lf__cpu_threads_for(priv, n * classes);
#pragma omp parallel for num_threads(t) if (t > 1) schedule(static)
    for (int i = 0; i < t; i++) {
        int64_t lo, hi;
        lf__cpu_chunk(n, t, i, &lo, &hi);
        softmax_fwd_rows(probs, logits, lo, hi, classes);
    }
    return LF_OK;
}

lf_status lf__cpu_softmax_bwd(void *priv, float *dx, const float *dy, const float *y, int64_t rows,
                              int64_t cols)
{
    if (!plain_matrix(rows, cols) || !dx || !dy || !y)
        return lf__ref_softmax_bwd(priv, dx, dy, y, rows, cols);
    const int t = lf__cpu_threads_for(priv, rows * cols);
    if (t == 1)
        return lf__ref_softmax_bwd(priv, dx, dy, y, rows, cols);
    LF__CPU_PARALLEL_CHUNKS("softmax_bwd", rows,
                            lf__ref_softmax_bwd(priv, dx + lo * cols, dy + lo * cols,
                                                y + lo * cols, hi - lo, cols));
}

/* ---- bias ---- */

lf_status lf__cpu_bias_add_fwd(void *priv, float *y, const float *bias, int64_t rows, int64_t cols)
{
    if (!plain_matrix(rows, cols) || !y || !bias)
        return lf__ref_bias_add_fwd(priv, y, bias, rows, cols);
    const int t = lf__cpu_threads_for(priv, rows * cols);
#pragma omp parallel for num_threads(t) if (t > 1) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        float *yr = y + r * cols;
#pragma omp simd
        for (int64_t c = 0; c < cols; c++)
            yr[c] += bias[c];
    }
    return LF_OK;
}

/* dbias[c] += Σ_r dy[r][c], each column summed over the rows in order in double, as the
 * reference does (the same bits), vectorised across columns; the threads take column ranges. */
lf_status lf__cpu_bias_bwd(void *priv, float *dbias, const float *dy, int64_t rows, int64_t cols)
{
    if (!plain_matrix(rows, cols) || !dbias || !dy)
        return lf__ref_bias_bwd(priv, dbias, dy, rows, cols);
    const int t = lf__cpu_threads_for(priv, rows * cols);
#pragma omp parallel for num_threads(t) if (t > 1) schedule(static)
    for (int i = 0; i < t; i++) {
        int64_t lo, hi;
        lf__cpu_chunk(cols, t, i, &lo, &hi);
        enum { BLOCK = 64 };
        double acc[BLOCK];
        for (int64_t c0 = lo; c0 < hi; c0 += BLOCK) {
            const int64_t cn = hi - c0 < BLOCK ? hi - c0 : BLOCK;
            for (int64_t c = 0; c < cn; c++)
                acc[c] = 0.0;
            for (int64_t r = 0; r < rows; r++) {
                const float *row = dy + r * cols + c0;
#pragma omp simd
                for (int64_t c = 0; c < cn; c++)
                    acc[c] += row[c];
            }
            for (int64_t c = 0; c < cn; c++)
                dbias[c0 + c] = (float)((double)dbias[c0 + c] + acc[c]);
        }
    }
    return LF_OK;
}
