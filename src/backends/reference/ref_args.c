/* Every operation's argument checks (ref_args.h says who runs them). Sizes and pointers only:
 * nothing here reads a buffer, and nothing but lf__error is called, so the file builds into
 * libforget and into the CUDA module alike. */
#include <stdint.h>

#include "core/error.h"
#include "backends/reference/ref_args.h"
#include "backends/reference/ref_check.h"

/* A pointer argument, its name, and the element count above which it may not be NULL. */
typedef struct arg_ptr {
    const char *name;
    const void *p;
    int64_t     n;
} arg_ptr;

/* check_ptr over the arguments in order (the first failure is the one reported). */
static lf_status check_ptrs(const char *op, const arg_ptr *args, size_t count)
{
    for (size_t i = 0; i < count; i++)
        LF__TRY(check_ptr(op, args[i].name, args[i].p, args[i].n));
    return LF_OK;
}

/* check_ptrs(op, {name, pointer, count}, ...): the list as written. The counts are evaluated
 * before any pointer is checked, so they may only use sizes already checked. */
#define CHECK_PTRS(op, ...)                                                                    \
    check_ptrs(op, (const arg_ptr[]){ __VA_ARGS__ },                                          \
               sizeof((const arg_ptr[]){ __VA_ARGS__ }) / sizeof(arg_ptr))

/* ---- shape checks shared by several operations ---- */

static lf_status check_stride(const char *op, const char *what, int64_t ld, int64_t row_len)
{
    int64_t need = row_len > 1 ? row_len : 1;
    if (ld < need)
        return lf__error(LF_E_SHAPE, "%s: %s = %lld is less than the row length %lld", op, what,
                         (long long)ld, (long long)need);
    return LF_OK;
}

lf_status lf__ref_gemm_check(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                             const float *a, int64_t lda, const float *b, int64_t ldb,
                             const float *c, int64_t ldc)
{
    LF__TRY(check_count("gemm", "m", m));
    LF__TRY(check_count("gemm", "n", n));
    LF__TRY(check_count("gemm", "k", k));
    /* as stored: A is m×k (k×m transposed), B is k×n (n×k transposed), C is m×n */
    LF__TRY(check_stride("gemm", "lda", lda, trans_a ? m : k));
    LF__TRY(check_stride("gemm", "ldb", ldb, trans_b ? k : n));
    LF__TRY(check_stride("gemm", "ldc", ldc, n));
    int64_t a_rows = trans_a ? k : m, b_rows = trans_b ? n : k;
    if ((a_rows > 0 && lda > INT64_MAX / a_rows) || (b_rows > 0 && ldb > INT64_MAX / b_rows) ||
        (m > 0 && ldc > INT64_MAX / m))
        return lf__error(LF_E_INVALID_ARG, "gemm: matrix extent overflows");
    LF__TRY(check_ptr("gemm", "A", a, m > 0 && k > 0));
    LF__TRY(check_ptr("gemm", "B", b, k > 0 && n > 0));
    LF__TRY(check_ptr("gemm", "C", c, m > 0 && n > 0));
    return LF_OK;
}

/* x + i·s + j·gs for the last product stays representable past an extent of e. */
static int grid_fits(int64_t count, int64_t group, int64_t s, int64_t gs, int64_t e)
{
    int64_t room = INT64_MAX - e;
    if (group > 1) {
        if (gs > room / (group - 1))
            return 0;
        room -= (group - 1) * gs;
    }
    return count <= 1 || s <= room / (count - 1);
}

lf_status lf__ref_gemm_batched_check(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                                     const float *a, int64_t lda, const float *b, int64_t ldb,
                                     const float *c, int64_t ldc, const lf__gemm_batch *batch)
{
    const char *op = "gemm_batched";
    LF__TRY(check_ptr(op, "batch", batch, 1));
    const lf__gemm_batch *g = batch;
    LF__TRY(check_count(op, "count", g->count));
    LF__TRY(check_count(op, "group", g->group));
    LF__TRY(check_count(op, "stride_a", g->stride_a));
    LF__TRY(check_count(op, "stride_b", g->stride_b));
    LF__TRY(check_count(op, "stride_c", g->stride_c));
    LF__TRY(check_count(op, "group_stride_a", g->group_stride_a));
    LF__TRY(check_count(op, "group_stride_b", g->group_stride_b));
    LF__TRY(check_count(op, "group_stride_c", g->group_stride_c));
    if (g->count == 0 || g->group == 0)
        return LF_OK;
    LF__TRY(lf__ref_gemm_check(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc));
    /* one matrix's extent is bounded by gemm_check; the last product's end must be too */
    const int64_t a_rows = trans_a ? k : m, b_rows = trans_b ? n : k;
    if (!grid_fits(g->count, g->group, g->stride_a, g->group_stride_a, a_rows * lda) ||
        !grid_fits(g->count, g->group, g->stride_b, g->group_stride_b, b_rows * ldb) ||
        !grid_fits(g->count, g->group, g->stride_c, g->group_stride_c, m * ldc))
        return lf__error(LF_E_INVALID_ARG, "%s: %lld x %lld products overflow the index range", op,
                         (long long)g->count, (long long)g->group);
    if (m == 0 || n == 0)
        return LF_OK;
    /* the products are independent (and may run in parallel) only if no C is another's */
    const int64_t extent = (m - 1) * ldc + n;
    int64_t group_extent = extent;
    if (g->group > 1) {
        const int64_t gs = g->group_stride_c;
        if (!(gs >= extent || (gs >= n && (g->group - 1) * gs + n <= ldc)))
            return lf__error(LF_E_INVALID_ARG,
                             "%s: group_stride_c = %lld makes the C matrices of a group (%lld x "
                             "%lld, ldc %lld) overlap", op, (long long)gs, (long long)m,
                             (long long)n, (long long)ldc);
        group_extent = (g->group - 1) * gs + extent;
    }
    if (g->count > 1 && g->stride_c < group_extent)
        return lf__error(LF_E_INVALID_ARG,
                         "%s: stride_c = %lld makes groups of C matrices (%lld floats each) overlap",
                         op, (long long)g->stride_c, (long long)group_extent);
    return LF_OK;
}

lf_status lf__ref_conv2d_check(const char *op, const lf__conv2d_shape *s)
{
    if (!s)
        return lf__error(LF_E_INVALID_ARG, "%s: shape is NULL", op);
    if (s->n < 0 || s->c_in < 1 || s->h_in < 1 || s->w_in < 1 || s->c_out < 1 || s->kh < 1 ||
        s->kw < 1 || s->stride < 1 || s->pad < 0)
        return lf__error(LF_E_SHAPE,
                         "%s: bad sizes (n %lld, c_in %lld, %lldx%lld, c_out %lld, kernel "
                         "%lldx%lld, stride %lld, pad %lld)",
                         op, (long long)s->n, (long long)s->c_in, (long long)s->h_in,
                         (long long)s->w_in, (long long)s->c_out, (long long)s->kh,
                         (long long)s->kw, (long long)s->stride, (long long)s->pad);
    /* every size below is far from overflowing once each factor is < 2^20 */
    const int64_t lim = INT64_C(1) << 20;
    if (s->c_in > lim || s->h_in > lim || s->w_in > lim || s->c_out > lim || s->kh > lim ||
        s->kw > lim || s->pad > lim || s->n > INT32_MAX)
        return lf__error(LF_E_INVALID_ARG, "%s: sizes too large", op);
    if (s->inference != 0 && s->inference != 1)
        return lf__error(LF_E_INVALID_ARG, "%s: inference is %lld, not 0 or 1", op,
                         (long long)s->inference);
    if (s->h_in + 2 * s->pad < s->kh || s->w_in + 2 * s->pad < s->kw)
        return lf__error(LF_E_SHAPE, "%s: kernel %lldx%lld is larger than the padded input", op,
                         (long long)s->kh, (long long)s->kw);
    int64_t h_out = (s->h_in + 2 * s->pad - s->kh) / s->stride + 1;
    int64_t w_out = (s->w_in + 2 * s->pad - s->kw) / s->stride + 1;
    if (s->h_out != h_out || s->w_out != w_out)
        return lf__error(LF_E_SHAPE, "%s: output %lldx%lld, expected %lldx%lld", op,
                         (long long)s->h_out, (long long)s->w_out, (long long)h_out,
                         (long long)w_out);
    return LF_OK;
}

lf_status lf__ref_batchnorm_check(const char *op, int64_t n, int64_t c, int64_t s)
{
    LF__TRY(check_matrix(op, n, c));
    LF__TRY(check_count(op, "spatial size", s));
    if (c > 0 && s > 0 && n * c > INT64_MAX / s)
        return lf__error(LF_E_INVALID_ARG, "%s: %lld x %lld x %lld elements overflow", op,
                         (long long)n, (long long)c, (long long)s);
    return LF_OK;
}

lf_status lf__ref_maxpool2d_check(const char *op, int64_t n, int64_t c, int64_t h, int64_t w,
                                  int64_t k)
{
    LF__TRY(check_matrix(op, n, c));
    if (h < 1 || w < 1 || k < 1 || h < k || w < k)
        return lf__error(LF_E_SHAPE, "%s: window %lld does not fit the %lldx%lld input", op,
                         (long long)k, (long long)h, (long long)w);
    if (h > INT32_MAX / w)   /* idx holds offsets within one h×w plane */
        return lf__error(LF_E_INVALID_ARG, "%s: a %lldx%lld plane is too large", op,
                         (long long)h, (long long)w);
    if (c > 0 && n * c > INT64_MAX / (h * w))
        return lf__error(LF_E_INVALID_ARG, "%s: input size overflows", op);
    return LF_OK;
}

/* ---- dense algebra and element-wise ---- */

lf_status lf__ref_bias_add_fwd_args(const float *y, const float *bias, int64_t rows,
                                    int64_t cols)
{
    LF__TRY(check_matrix("bias_add_fwd", rows, cols));
    return CHECK_PTRS("bias_add_fwd", { "y", y, rows * cols }, { "bias", bias, cols });
}

lf_status lf__ref_bias_bwd_args(const float *dbias, const float *dy, int64_t rows, int64_t cols)
{
    LF__TRY(check_matrix("bias_bwd", rows, cols));
    return CHECK_PTRS("bias_bwd", { "dbias", dbias, cols }, { "dy", dy, rows * cols });
}

/* An element-wise op y = f(x) over n elements. */
static lf_status map_args(const char *op, const float *y, const float *x, int64_t n)
{
    LF__TRY(check_count(op, "n", n));
    return CHECK_PTRS(op, { "y", y, n }, { "x", x, n });
}

/* Its backward dx = dy·f'(t), t the saved tensor the derivative is taken from (x or y). */
static lf_status map_bwd_args(const char *op, const float *dx, const float *dy,
                              const char *t_name, const float *t, int64_t n)
{
    LF__TRY(check_count(op, "n", n));
    return CHECK_PTRS(op, { "dx", dx, n }, { "dy", dy, n }, { t_name, t, n });
}

lf_status lf__ref_axpby_args(const float *y, const float *x, int64_t n)
{
    return map_args("axpby", y, x, n);
}

lf_status lf__ref_relu_fwd_args(const float *y, const float *x, int64_t n)
{
    return map_args("relu_fwd", y, x, n);
}

lf_status lf__ref_relu_bwd_args(const float *dx, const float *dy, const float *y, int64_t n)
{
    return map_bwd_args("relu_bwd", dx, dy, "y", y, n);
}

lf_status lf__ref_normalize_fwd_args(const float *y, const float *x, const float *mean_host,
                                     const float *inv_std_host, int64_t n, int64_t channels,
                                     int64_t spatial)
{
    const char *op = "normalize_fwd";
    LF__TRY(check_matrix(op, n, channels));
    LF__TRY(check_matrix(op, n * channels, spatial));
    const int64_t total = n * channels * spatial;
    return CHECK_PTRS(op, { "y", y, total }, { "x", x, total },
                      { "mean_host", mean_host, channels },
                      { "inv_std_host", inv_std_host, channels });
}

lf_status lf__ref_apply_mask_args(const float *x, const uint8_t *mask, int64_t n)
{
    LF__TRY(check_count("apply_mask", "n", n));
    return CHECK_PTRS("apply_mask", { "x", x, n }, { "mask", mask, n });
}

lf_status lf__ref_gelu_fwd_args(const float *y, const float *x, int64_t n)
{
    return map_args("gelu_fwd", y, x, n);
}

lf_status lf__ref_gelu_bwd_args(const float *dx, const float *dy, const float *x, int64_t n)
{
    return map_bwd_args("gelu_bwd", dx, dy, "x", x, n);
}

lf_status lf__ref_transpose_args(const float *y, const float *x, int64_t batch, int64_t rows,
                                 int64_t cols)
{
    const char *op = "transpose";
    LF__TRY(check_matrix(op, rows, cols));
    LF__TRY(check_matrix(op, batch, rows * cols));
    const int64_t total = batch * rows * cols;
    LF__TRY(CHECK_PTRS(op, { "y", y, total }, { "x", x, total }));
    if (y == x && total > 0)
        return lf__error(LF_E_INVALID_ARG, "%s: y may not be x", op);
    return LF_OK;
}

/* ---- losses, softmax, reductions (the labels' range is the kernels' to check) ---- */

static lf_status check_classes(const char *op, int64_t n, int64_t classes)
{
    LF__TRY(check_matrix(op, n, classes));
    if (n > 0 && classes < 1)
        return lf__error(LF_E_INVALID_ARG, "%s: classes = %lld, need at least 1", op,
                         (long long)classes);
    return LF_OK;
}

lf_status lf__ref_softmax_xent_fwd_args(const float *loss, const float *logits,
                                        const int32_t *labels, int64_t n, int64_t classes)
{
    const char *op = "softmax_xent_fwd";
    LF__TRY(check_classes(op, n, classes));
    return CHECK_PTRS(op, { "loss", loss, n }, { "logits", logits, n * classes },
                      { "labels", labels, n });
}

lf_status lf__ref_softmax_xent_bwd_args(const float *dlogits, const float *probs,
                                        const int32_t *labels, const float *weight_host,
                                        int64_t n, int64_t classes)
{
    const char *op = "softmax_xent_bwd";
    LF__TRY(check_classes(op, n, classes));
    return CHECK_PTRS(op, { "dlogits", dlogits, n * classes }, { "probs", probs, n * classes },
                      { "labels", labels, n }, { "weight_host", weight_host, n });
}

lf_status lf__ref_softmax_fwd_args(const float *probs, const float *logits, int64_t n,
                                   int64_t classes)
{
    const char *op = "softmax_fwd";
    LF__TRY(check_classes(op, n, classes));
    return CHECK_PTRS(op, { "probs", probs, n * classes }, { "logits", logits, n * classes });
}

lf_status lf__ref_softmax_bwd_args(const float *dx, const float *dy, const float *y,
                                   int64_t rows, int64_t cols)
{
    const char *op = "softmax_bwd";
    LF__TRY(check_matrix(op, rows, cols));
    const int64_t total = rows * cols;
    return CHECK_PTRS(op, { "dx", dx, total }, { "dy", dy, total }, { "y", y, total });
}

lf_status lf__ref_sum_squares_args(const double *out_host, const float *x, int64_t n)
{
    LF__TRY(check_count("sum_squares", "n", n));
    return CHECK_PTRS("sum_squares", { "out_host", out_host, 1 }, { "x", x, n });
}

lf_status lf__ref_count_nonfinite_args(const int64_t *out_host, const float *x, int64_t n)
{
    LF__TRY(check_count("count_nonfinite", "n", n));
    return CHECK_PTRS("count_nonfinite", { "out_host", out_host, 1 }, { "x", x, n });
}

lf_status lf__ref_count_correct_args(const int64_t *out_host, const float *logits,
                                     const int32_t *labels, int64_t n, int64_t classes)
{
    const char *op = "count_correct";
    LF__TRY(check_classes(op, n, classes));
    return CHECK_PTRS(op, { "out_host", out_host, 1 }, { "logits", logits, n * classes },
                      { "labels", labels, n });
}

/* ---- optimizers ---- */

lf_status lf__ref_sgd_step_args(const float *w, const float *buf, const float *grad, int64_t n,
                                float momentum)
{
    LF__TRY(check_count("sgd_step", "n", n));
    /* buf is used (and checked) only with momentum */
    return CHECK_PTRS("sgd_step", { "w", w, n }, { "grad", grad, n },
                      { "buf", buf, momentum != 0.0f ? n : 0 });
}

lf_status lf__ref_adam_step_args(const float *w, const float *m, const float *v,
                                 const float *grad, int64_t n, double beta1, double beta2,
                                 int64_t step)
{
    const char *op = "adam_step";
    LF__TRY(check_count(op, "n", n));
    LF__TRY(CHECK_PTRS(op, { "w", w, n }, { "m", m, n }, { "v", v, n }, { "grad", grad, n }));
    if (step < 1)
        return lf__error(LF_E_INVALID_ARG, "%s: step = %lld, the first step is 1", op,
                         (long long)step);
    if (!(beta1 >= 0.0 && beta1 < 1.0) || !(beta2 >= 0.0 && beta2 < 1.0))
        return lf__error(LF_E_INVALID_ARG, "%s: betas (%g, %g) are outside [0, 1)", op, beta1,
                         beta2);
    return LF_OK;
}

/* ---- random fills ---- */

lf_status lf__ref_rng_uniform_args(const float *out, int64_t n)
{
    LF__TRY(check_count("rng_uniform", "n", n));
    return check_ptr("rng_uniform", "out", out, n);
}

lf_status lf__ref_rng_normal_args(const float *out, int64_t n)
{
    LF__TRY(check_count("rng_normal", "n", n));
    return check_ptr("rng_normal", "out", out, n);
}

lf_status lf__ref_dropout_args(const float *y, const float *x, int64_t n, float p,
                               uint64_t offset)
{
    LF__TRY(check_count("dropout", "n", n));
    LF__TRY(CHECK_PTRS("dropout", { "y", y, n }, { "x", x, n }));
    if (!(p >= 0.0f && p <= 1.0f))
        return lf__error(LF_E_INVALID_ARG, "dropout: p = %g is outside [0, 1]", (double)p);
    if ((uint64_t)n > UINT64_MAX - offset)
        return lf__error(LF_E_INVALID_ARG, "dropout: offset %llu + %lld draws overflow",
                         (unsigned long long)offset, (long long)n);
    return LF_OK;
}

/* ---- convolution (the tensors are checked by their first image: s->n) ---- */

lf_status lf__ref_conv2d_fwd_args(const float *y, const float *x, const float *w,
                                  const lf__conv2d_shape *s)
{
    LF__TRY(lf__ref_conv2d_check("conv2d_fwd", s));
    return CHECK_PTRS("conv2d_fwd", { "y", y, s->n }, { "x", x, s->n }, { "w", w, 1 });
}

lf_status lf__ref_conv2d_bwd_data_args(const float *dx, const float *dy, const float *w,
                                       const lf__conv2d_shape *s)
{
    LF__TRY(lf__ref_conv2d_check("conv2d_bwd_data", s));
    return CHECK_PTRS("conv2d_bwd_data", { "dx", dx, s->n }, { "dy", dy, s->n }, { "w", w, 1 });
}

lf_status lf__ref_conv2d_bwd_weights_args(const float *dw, const float *dy, const float *x,
                                          const lf__conv2d_shape *s)
{
    LF__TRY(lf__ref_conv2d_check("conv2d_bwd_weights", s));
    return CHECK_PTRS("conv2d_bwd_weights", { "dw", dw, 1 }, { "dy", dy, s->n }, { "x", x, s->n });
}

/* ---- batch norm ---- */

lf_status lf__ref_batchnorm_fwd_train_args(const float *y, const float *save_mean,
                                           const float *save_invstd, const float *x,
                                           const float *gamma, const float *beta, int64_t n,
                                           int64_t c, int64_t s)
{
    const char *op = "batchnorm_fwd_train";
    LF__TRY(lf__ref_batchnorm_check(op, n, c, s));
    const int64_t count = n * s;
    if (count < 2)   /* as PyTorch: one value per channel has no batch variance */
        return lf__error(LF_E_SHAPE, "%s: training needs more than one value per channel (got %lld)",
                         op, (long long)count);
    return CHECK_PTRS(op, { "x", x, c }, { "y", y, c }, { "gamma", gamma, c }, { "beta", beta, c },
                      { "save_mean", save_mean, c }, { "save_invstd", save_invstd, c });
}

lf_status lf__ref_batchnorm_fwd_eval_args(const float *y, const float *x, const float *gamma,
                                          const float *beta, const float *running_mean,
                                          const float *running_var, int64_t n, int64_t c,
                                          int64_t s)
{
    const char *op = "batchnorm_fwd_eval";
    LF__TRY(lf__ref_batchnorm_check(op, n, c, s));
    const int64_t total = n * c * s;
    return CHECK_PTRS(op, { "x", x, total }, { "y", y, total }, { "gamma", gamma, c },
                      { "beta", beta, c }, { "running_mean", running_mean, c },
                      { "running_var", running_var, c });
}

/* batchnorm_bwd and batchnorm_bwd_eval: the same tensors but the statistics (saved batch ones,
 * or running ones). */
static lf_status bwd_args(const char *op, const float *dx, const float *dgamma,
                          const float *dbeta, const float *dy, const float *x, const float *gamma,
                          const char *stat1_name, const float *stat1, const char *stat2_name,
                          const float *stat2, int64_t n, int64_t c, int64_t s)
{
    LF__TRY(lf__ref_batchnorm_check(op, n, c, s));
    const int64_t total = n * c * s;
    return CHECK_PTRS(op, { "dx", dx, total }, { "dy", dy, total }, { "x", x, total },
                      { "gamma", gamma, c }, { "dgamma", dgamma, c }, { "dbeta", dbeta, c },
                      { stat1_name, stat1, c }, { stat2_name, stat2, c });
}

lf_status lf__ref_batchnorm_bwd_args(const float *dx, const float *dgamma, const float *dbeta,
                                     const float *dy, const float *x, const float *gamma,
                                     const float *save_mean, const float *save_invstd, int64_t n,
                                     int64_t c, int64_t s)
{
    return bwd_args("batchnorm_bwd", dx, dgamma, dbeta, dy, x, gamma, "save_mean", save_mean,
                    "save_invstd", save_invstd, n, c, s);
}

lf_status lf__ref_batchnorm_bwd_eval_args(const float *dx, const float *dgamma,
                                          const float *dbeta, const float *dy, const float *x,
                                          const float *gamma, const float *running_mean,
                                          const float *running_var, int64_t n, int64_t c,
                                          int64_t s)
{
    return bwd_args("batchnorm_bwd_eval", dx, dgamma, dbeta, dy, x, gamma, "running_mean",
                    running_mean, "running_var", running_var, n, c, s);
}

/* The fused ops: the sizes and the tensors the fused op names, under its name, then the checks
 * of the batch norm op it composes. */

lf_status lf__ref_batchnorm_relu_fwd_train_args(const float *y, const float *save_mean,
                                                const float *save_invstd, const float *x,
                                                const float *gamma, const float *beta, int64_t n,
                                                int64_t c, int64_t s)
{
    const char *op = "batchnorm_relu_fwd_train";
    LF__TRY(lf__ref_batchnorm_check(op, n, c, s));
    LF__TRY(check_ptr(op, "y", y, n * c * s));
    return lf__ref_batchnorm_fwd_train_args(y, save_mean, save_invstd, x, gamma, beta, n, c, s);
}

lf_status lf__ref_batchnorm_relu_fwd_eval_args(const float *y, const float *x,
                                               const float *gamma, const float *beta,
                                               const float *running_mean,
                                               const float *running_var, int64_t n, int64_t c,
                                               int64_t s)
{
    const char *op = "batchnorm_relu_fwd_eval";
    LF__TRY(lf__ref_batchnorm_check(op, n, c, s));
    LF__TRY(check_ptr(op, "y", y, n * c * s));
    return lf__ref_batchnorm_fwd_eval_args(y, x, gamma, beta, running_mean, running_var, n, c, s);
}

lf_status lf__ref_batchnorm_relu_bwd_args(const float *dx, const float *dgamma,
                                          const float *dbeta, const float *dy, const float *y,
                                          const float *x, const float *gamma,
                                          const float *save_mean, const float *save_invstd,
                                          int64_t n, int64_t c, int64_t s)
{
    const char *op = "batchnorm_relu_bwd";
    LF__TRY(lf__ref_batchnorm_check(op, n, c, s));
    const int64_t total = n * c * s;
    LF__TRY(CHECK_PTRS(op, { "dx", dx, total }, { "dy", dy, total }, { "y", y, total }));
    /* batchnorm_bwd runs on relu_bwd's result: dx is its dy */
    return lf__ref_batchnorm_bwd_args(dx, dgamma, dbeta, dx, x, gamma, save_mean, save_invstd, n,
                                      c, s);
}

/* ---- pooling ---- */

lf_status lf__ref_maxpool2d_fwd_args(const float *y, const float *x, int64_t n, int64_t c,
                                     int64_t h, int64_t w, int64_t k)
{
    LF__TRY(lf__ref_maxpool2d_check("maxpool2d_fwd", n, c, h, w, k));
    return CHECK_PTRS("maxpool2d_fwd", { "x", x, n * c }, { "y", y, n * c });
}

/* the indices' range is the kernel's to check */
/* The pooling's shape checks, then the batch norm's tensors (x is n × c × h·w), all under the
 * fused op's name; y holds the pooled planes. */
lf_status lf__ref_batchnorm_relu_maxpool_fwd_eval_args(const float *y, const float *x,
                                                       const float *gamma, const float *beta,
                                                       const float *running_mean,
                                                       const float *running_var, int64_t n,
                                                       int64_t c, int64_t h, int64_t w, int64_t k)
{
    const char *op = "batchnorm_relu_maxpool_fwd_eval";
    LF__TRY(lf__ref_maxpool2d_check(op, n, c, h, w, k));
    return CHECK_PTRS(op, { "x", x, n * c * h * w }, { "y", y, n * c * (h / k) * (w / k) },
                      { "gamma", gamma, c }, { "beta", beta, c },
                      { "running_mean", running_mean, c }, { "running_var", running_var, c });
}

lf_status lf__ref_maxpool2d_bwd_args(const float *dx, const float *dy, const int32_t *idx,
                                     int64_t n, int64_t c, int64_t h, int64_t w, int64_t k)
{
    LF__TRY(lf__ref_maxpool2d_check("maxpool2d_bwd", n, c, h, w, k));
    return CHECK_PTRS("maxpool2d_bwd", { "dx", dx, n * c }, { "dy", dy, n * c },
                      { "idx", idx, n * c });
}

/* avgpool_global_fwd and _bwd: an n×c×s input, s >= 1, and two tensors. */
static lf_status avgpool_args(const char *op, const char *a_name, const float *a,
                              const char *b_name, const float *b, int64_t n, int64_t c, int64_t s)
{
    LF__TRY(lf__ref_batchnorm_check(op, n, c, s));
    if (s < 1)
        return lf__error(LF_E_SHAPE, "%s: empty spatial size", op);
    return CHECK_PTRS(op, { a_name, a, n * c }, { b_name, b, n * c });
}

lf_status lf__ref_avgpool_global_fwd_args(const float *y, const float *x, int64_t n, int64_t c,
                                          int64_t s)
{
    return avgpool_args("avgpool_global_fwd", "x", x, "y", y, n, c, s);
}

lf_status lf__ref_avgpool_global_bwd_args(const float *dx, const float *dy, int64_t n,
                                          int64_t c, int64_t s)
{
    return avgpool_args("avgpool_global_bwd", "dx", dx, "dy", dy, n, c, s);
}

/* ---- layer norm ---- */

lf_status lf__ref_layernorm_fwd_args(const float *y, const float *save_mean,
                                     const float *save_invstd, const float *x, const float *gamma,
                                     const float *beta, int64_t rows, int64_t cols)
{
    const char *op = "layernorm_fwd";
    LF__TRY(check_matrix(op, rows, cols));
    if (rows > 0 && cols < 1)
        return lf__error(LF_E_SHAPE, "%s: a row needs at least one column", op);
    const int64_t total = rows * cols;
    return CHECK_PTRS(op, { "y", y, total }, { "x", x, total }, { "gamma", gamma, cols },
                      { "beta", beta, cols }, { "save_mean", save_mean, rows },
                      { "save_invstd", save_invstd, rows });
}

lf_status lf__ref_layernorm_bwd_args(const float *dx, const float *dgamma, const float *dbeta,
                                     const float *dy, const float *x, const float *gamma,
                                     const float *save_mean, const float *save_invstd,
                                     int64_t rows, int64_t cols)
{
    const char *op = "layernorm_bwd";
    LF__TRY(check_matrix(op, rows, cols));
    const int64_t total = rows * cols;
    return CHECK_PTRS(op, { "dx", dx, total }, { "dy", dy, total }, { "x", x, total },
                      { "gamma", gamma, cols }, { "dgamma", dgamma, cols },
                      { "dbeta", dbeta, cols }, { "save_mean", save_mean, rows },
                      { "save_invstd", save_invstd, rows });
}
