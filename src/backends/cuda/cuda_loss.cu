/* Softmax, cross-entropy and accuracy on the CUDA backend. One warp per row (rows are short:
 * 10 classes, or a sequence's attention scores), the row's maximum and Σ exp(x − max) in double
 * as the reference's softmax_row_stats (ref_kernels.c), so every lane of a warp holds the same
 * statistics and the results match the reference within rounding of the sum's order. Labels are
 * checked on the device first (the smallest bad row lands in cu->flag) and a bad batch is
 * rejected with the reference's message before any output is written. */
#include <math.h>
#include <string.h>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_sum.cuh"

/* lf__cuda_blocks sizes grids for 256 threads a block; a warp is 32 */
enum { THREADS = LF__SUM_THREADS, WARP = 32, ROWS_PER_BLOCK = THREADS / WARP };

/* Blocks for one warp per row. */
static unsigned warp_row_grid(int64_t rows)
{
    return lf__sum_grid(rows / ROWS_PER_BLOCK + (rows % ROWS_PER_BLOCK != 0));
}

/* Row loop of a warp: every lane of the warp sees the same rows, so the shuffles inside see a
 * full warp. */
#define WARP_ROWS(i, rows)                                                                     \
    const int lane = threadIdx.x % WARP;                                                       \
    for (int64_t i = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) / WARP; i < (rows);     \
         i += (int64_t)gridDim.x * ROWS_PER_BLOCK)

/* ---- the labels' range (the other checks are the reference's, ref_args.c) ---- */

/* Labels are checked LABEL_CHUNK rows at a time, so a row's index within its chunk fits the
 * int32 flag. */
static constexpr int64_t LABEL_CHUNK = (int64_t)1 << 30;

/* The smallest row of labels[0 .. len − 1] outside [0, classes), into *flag (atomicMin). */
static __global__ void check_labels_kernel(int32_t *flag, const int32_t *labels, int64_t len,
                                           int64_t classes)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < len;
         i += (int64_t)gridDim.x * blockDim.x)
        if (labels[i] < 0 || labels[i] >= classes)
            atomicMin(flag, (int32_t)i);
}

/* The reference's check_labels: the first row whose label is outside [0, classes), named with
 * its label. Waits for the stream (the answer is needed before anything is written). */
static lf_status check_labels(lf__cuda *cu, const char *op, const int32_t *labels, int64_t n,
                              int64_t classes)
{
    for (int64_t base = 0; base < n; base += LABEL_CHUNK) {
        const int64_t len = n - base < LABEL_CHUNK ? n - base : LABEL_CHUNK;
        check_labels_kernel<<<lf__cuda_blocks(len), THREADS, 0, cu->stream>>>(
            cu->flag, labels + base, len, classes);
        LF__TRY(lf__cuda_check(cudaGetLastError(), op));
        int32_t bad = INT32_MAX;
        LF__TRY(lf__cuda_take_flag(cu, &bad, op));
        if (bad != INT32_MAX) {
            const int64_t row = base + bad;
            int32_t label = 0;
            LF__TRY(lf__cuda_check(cudaMemcpyAsync(&label, labels + row, sizeof label,
                                                   cudaMemcpyDeviceToHost, cu->stream), op));
            LF__TRY(lf__cuda_check(cudaStreamSynchronize(cu->stream), op));
            return lf__error(LF_E_INVALID_ARG, "%s: row %lld: label %d is outside [0, %lld)", op,
                             (long long)row, (int)label, (long long)classes);
        }
    }
    return LF_OK;
}

/* ---- softmax ---- */

/* The row's maximum (NaN ignored, as the reference's `>` ignores it past row[0]; a NaN anywhere
 * makes the sum NaN either way) and Σ exp(x − max) in double, the same in every lane. */
static __device__ void row_stats(const float *row, int64_t classes, int lane, double *max_out,
                                 double *sum_out)
{
    float mx = -INFINITY;
    for (int64_t c = lane; c < classes; c += WARP)
        if (row[c] > mx)
            mx = row[c];
    for (int off = WARP / 2; off > 0; off >>= 1) {
        const float other = __shfl_xor_sync(0xffffffffu, mx, off);
        if (other > mx)
            mx = other;
    }
    double sum = 0.0;
    for (int64_t c = lane; c < classes; c += WARP)
        sum += exp((double)row[c] - (double)mx);
    *max_out = mx;
    *sum_out = lf__warp_sum(sum);
}

static __global__ void softmax_xent_fwd_kernel(float *loss, float *probs, const float *logits,
                                               const int32_t *labels, int64_t n, int64_t classes)
{
    WARP_ROWS(i, n) {
        const float *row = logits + i * classes;
        const float picked = row[labels[i]];
        double mx, sum;
        row_stats(row, classes, lane, &mx, &sum);
        /* −log p = logsumexp − logit: finite even where p rounds to 0 */
        if (lane == 0)
            loss[i] = (float)(mx + log(sum) - (double)picked);
        __syncwarp();   /* every lane has read the row before any writes probs (it may be logits) */
        if (probs)
            for (int64_t c = lane; c < classes; c += WARP)
                probs[i * classes + c] = (float)(exp((double)row[c] - mx) / sum);
    }
}

lf_status lf__cuda_softmax_xent_fwd(void *priv, float *loss, float *probs, const float *logits,
                                    const int32_t *labels, int64_t n, int64_t classes)
{
    lf__cuda *cu = (lf__cuda *)priv;
    const char *op = "softmax_xent_fwd";
    LF__TRY(lf__ref_softmax_xent_fwd_args(loss, logits, labels, n, classes));
    if (n == 0)
        return LF_OK;
    /* all labels first, so a bad batch leaves the outputs untouched */
    LF__TRY(check_labels(cu, op, labels, n, classes));
    softmax_xent_fwd_kernel<<<warp_row_grid(n), THREADS, 0, cu->stream>>>(
        loss, probs, logits, labels, n, classes);
    return lf__cuda_check(cudaGetLastError(), op);
}

/* The per-row weights travel by value in the launch, a chunk of rows per launch: the caller
 * rewrites its host array every step, and a kernel argument is copied when the kernel is
 * queued, so nothing has to wait. 2 KiB, inside the 4 KiB argument limit. */
static constexpr int64_t WEIGHT_ROWS = 512;
struct row_weights {
    float w[WEIGHT_ROWS];
};

/* Rows row0 .. row0 + rows − 1. */
static __global__ void softmax_xent_bwd_kernel(float *dlogits, const float *probs,
                                               const int32_t *labels,
                                               const __grid_constant__ row_weights wt,
                                               int64_t row0, int64_t rows, int64_t classes)
{
    const int64_t total = rows * classes;
    for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < total;
         k += (int64_t)gridDim.x * blockDim.x) {
        const int64_t r = k / classes, c = k % classes;
        const int64_t at = row0 * classes + k;
        const float target = c == labels[row0 + r] ? 1.0f : 0.0f;
        dlogits[at] = __fmul_rn(wt.w[r], __fsub_rn(probs[at], target));
    }
}

lf_status lf__cuda_softmax_xent_bwd(void *priv, float *dlogits, const float *probs,
                                    const int32_t *labels, const float *weight_host, int64_t n,
                                    int64_t classes)
{
    lf__cuda *cu = (lf__cuda *)priv;
    const char *op = "softmax_xent_bwd";
    LF__TRY(lf__ref_softmax_xent_bwd_args(dlogits, probs, labels, weight_host, n, classes));
    if (n == 0)
        return LF_OK;
    LF__TRY(check_labels(cu, op, labels, n, classes));
    for (int64_t row0 = 0; row0 < n; row0 += WEIGHT_ROWS) {
        const int64_t rows = n - row0 < WEIGHT_ROWS ? n - row0 : WEIGHT_ROWS;
        row_weights wt;
        memcpy(wt.w, weight_host + row0, (size_t)rows * sizeof(float));
        softmax_xent_bwd_kernel<<<lf__cuda_blocks(rows * classes), THREADS, 0, cu->stream>>>(
            dlogits, probs, labels, wt, row0, rows, classes);
        LF__TRY(lf__cuda_check(cudaGetLastError(), op));
    }
    return LF_OK;
}

static __global__ void softmax_fwd_kernel(float *probs, const float *logits, int64_t n,
                                          int64_t classes)
{
    WARP_ROWS(i, n) {
        const float *row = logits + i * classes;
        double mx, sum;
        row_stats(row, classes, lane, &mx, &sum);
        for (int64_t c = lane; c < classes; c += WARP)
            probs[i * classes + c] = (float)(exp((double)row[c] - mx) / sum);
    }
}

lf_status lf__cuda_softmax_fwd(void *priv, float *probs, const float *logits, int64_t n,
                               int64_t classes)
{
    lf__cuda *cu = (lf__cuda *)priv;
    const char *op = "softmax_fwd";
    LF__TRY(lf__ref_softmax_fwd_args(probs, logits, n, classes));
    if (n == 0)
        return LF_OK;
    softmax_fwd_kernel<<<warp_row_grid(n), THREADS, 0, cu->stream>>>(probs, logits, n, classes);
    return lf__cuda_check(cudaGetLastError(), op);
}

/* dx = y ⊙ (dy − Σ dy·y). The warp's sum is complete (every lane has read its columns) before
 * any lane writes, and a lane rewrites only the columns it read, so dx may be dy. */
static __global__ void softmax_bwd_kernel(float *dx, const float *dy, const float *y,
                                          int64_t rows, int64_t cols)
{
    WARP_ROWS(r, rows) {
        const float *dyr = dy + r * cols, *yr = y + r * cols;
        double dot = 0.0;
        for (int64_t c = lane; c < cols; c += WARP)
            dot += (double)dyr[c] * yr[c];
        dot = lf__warp_sum(dot);
        float *dxr = dx + r * cols;
        for (int64_t c = lane; c < cols; c += WARP)
            dxr[c] = (float)((double)yr[c] * ((double)dyr[c] - dot));
    }
}

lf_status lf__cuda_softmax_bwd(void *priv, float *dx, const float *dy, const float *y, int64_t rows,
                               int64_t cols)
{
    lf__cuda *cu = (lf__cuda *)priv;
    const char *op = "softmax_bwd";
    LF__TRY(lf__ref_softmax_bwd_args(dx, dy, y, rows, cols));
    if (rows * cols == 0)
        return LF_OK;
    softmax_bwd_kernel<<<warp_row_grid(rows), THREADS, 0, cu->stream>>>(dx, dy, y, rows, cols);
    return lf__cuda_check(cudaGetLastError(), op);
}

/* ---- accuracy ---- */

/* torch.argmax's order: (v, c) beats the current best (bv, bc) if it comes first in "the first
 * NaN, else the first maximum". A total order, so the warp may combine candidates in any
 * order and gets the reference's sequential answer. */
static __device__ __forceinline__ bool beats(float v, int64_t c, float bv, int64_t bc)
{
    if (isnan(bv))
        return isnan(v) && c < bc;
    if (isnan(v))
        return true;
    return v > bv || (v == bv && c < bc);
}

static __global__ void count_correct_kernel(unsigned long long *count, const float *logits,
                                            const int32_t *labels, int64_t n, int64_t classes)
{
    __shared__ unsigned long long block_count;
    if (threadIdx.x == 0)
        block_count = 0;
    __syncthreads();
    unsigned long long mine = 0;
    WARP_ROWS(i, n) {
        const float *row = logits + i * classes;
        float best_v = 0.0f;
        long long best_c = -1;   /* -1: this lane has no column (classes < 32) */
        for (int64_t c = lane; c < classes; c += WARP)
            if (best_c < 0 || beats(row[c], c, best_v, best_c)) {
                best_v = row[c];
                best_c = c;
            }
        for (int off = WARP / 2; off > 0; off >>= 1) {
            const float ov = __shfl_xor_sync(0xffffffffu, best_v, off);
            const long long oc = __shfl_xor_sync(0xffffffffu, best_c, off);
            if (oc >= 0 && (best_c < 0 || beats(ov, oc, best_v, best_c))) {
                best_v = ov;
                best_c = oc;
            }
        }
        if (lane == 0 && best_c == labels[i])
            mine++;
    }
    if (mine)
        atomicAdd(&block_count, mine);
    __syncthreads();
    if (threadIdx.x == 0 && block_count)
        atomicAdd(count, block_count);
}

lf_status lf__cuda_count_correct(void *priv, int64_t *out_host, const float *logits,
                                 const int32_t *labels, int64_t n, int64_t classes)
{
    lf__cuda *cu = (lf__cuda *)priv;
    const char *op = "count_correct";
    LF__TRY(lf__ref_count_correct_args(out_host, logits, labels, n, classes));
    if (n == 0) {
        *out_host = 0;
        return LF_OK;
    }
    LF__TRY(check_labels(cu, op, labels, n, classes));
    void *scratch;
    LF__TRY(lf__cuda_scratch(cu, sizeof(unsigned long long), &scratch));
    unsigned long long *count = (unsigned long long *)scratch;
    LF__TRY(lf__cuda_check(cudaMemsetAsync(count, 0, sizeof *count, cu->stream), op));
    count_correct_kernel<<<warp_row_grid(n), THREADS, 0, cu->stream>>>(
        count, logits, labels, n, classes);
    LF__TRY(lf__cuda_check(cudaGetLastError(), op));
    unsigned long long correct = 0;
    LF__TRY(lf__cuda_check(cudaMemcpyAsync(&correct, count, sizeof correct,
                                           cudaMemcpyDeviceToHost, cu->stream), op));
    LF__TRY(lf__cuda_check(cudaStreamSynchronize(cu->stream), op));
    *out_host = (int64_t)correct;
    return LF_OK;
}
