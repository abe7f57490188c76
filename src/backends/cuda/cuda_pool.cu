/* k×k max pooling with stride k and global average pooling on NCHW device tensors, with the
 * reference's semantics (ref_pool.c): idx holds each maximum's offset within its h×w plane,
 * the first maximum in row-major window order wins (a plain > comparison, so NaN never wins
 * over a number), and the sums of the average run in double. */
#include "backends/cuda/cuda_sum.cuh"

/* One thread per output: the reference's window scan, comparison for comparison. */
static __global__ void maxpool2d_fwd_kernel(float *y, int32_t *idx, const float *x, int64_t total,
                                            int64_t h, int64_t w, int64_t k)
{
    const int64_t ho = h / k, wo = w / k;
    for (int64_t o = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; o < total;
         o += (int64_t)gridDim.x * blockDim.x) {
        const int64_t p = o / (ho * wo), r = o - p * (ho * wo), oh = r / wo, ow = r - oh * wo;
        const float *plane = x + p * h * w;
        int64_t best = oh * k * w + ow * k;
        float m = plane[best];
        for (int64_t i = 0; i < k; i++)
            for (int64_t j = 0; j < k; j++) {
                const int64_t at = (oh * k + i) * w + ow * k + j;
                const float v = plane[at];
                if (v > m) {
                    m = v;
                    best = at;
                }
            }
        y[o] = m;
        if (idx)
            idx[o] = (int32_t)best;
    }
}

/* dx (zeroed before) gets dy[o] at idx[o] of o's plane. Indices from the forward pass never
 * collide (windows do not overlap); the add is atomic only so that forged ones still sum.
 * An index outside its plane is skipped and the smallest such o − base (clamped below
 * INT32_MAX) reported into *flag. */
static __global__ void maxpool2d_bwd_kernel(float *dx, const float *dy, const int32_t *idx,
                                            int64_t total, int64_t base, int64_t plane_out,
                                            int64_t hw, int32_t *flag)
{
    for (int64_t o = base + blockIdx.x * (int64_t)blockDim.x + threadIdx.x; o < total;
         o += (int64_t)gridDim.x * blockDim.x) {
        const int32_t at = idx[o];
        if (at < 0 || at >= hw) {
            const int64_t rel = o - base;
            atomicMin(flag, rel < INT32_MAX - 1 ? (int32_t)rel : INT32_MAX - 1);
            continue;
        }
        if (dx)
            atomicAdd(dx + (o / plane_out) * hw + at, dy[o]);
    }
}

extern "C" lf_status lf__cuda_maxpool2d_fwd(void *priv, float *y, int32_t *idx, const float *x,
                                            int64_t n, int64_t c, int64_t h, int64_t w, int64_t k)
{
    lf__cuda *cu = (lf__cuda *)priv;
    LF__TRY(lf__ref_maxpool2d_fwd_args(y, x, n, c, h, w, k));
    const int64_t total = n * c * (h / k) * (w / k);
    if (total == 0)
        return LF_OK;
    maxpool2d_fwd_kernel<<<lf__cuda_blocks(total), LF__SUM_THREADS, 0, cu->stream>>>(y, idx, x,
                                                                                     total, h, w, k);
    return lf__cuda_check(cudaGetLastError(), "maxpool2d_fwd");
}

extern "C" lf_status lf__cuda_maxpool2d_bwd(void *priv, float *dx, const float *dy,
                                            const int32_t *idx, int64_t n, int64_t c, int64_t h,
                                            int64_t w, int64_t k)
{
    lf__cuda *cu = (lf__cuda *)priv;
    const char *op = "maxpool2d_bwd";
    LF__TRY(lf__ref_maxpool2d_bwd_args(dx, dy, idx, n, c, h, w, k));
    if (n * c == 0)
        return LF_OK;
    const int64_t hw = h * w, plane_out = (h / k) * (w / k), total = n * c * plane_out;
    LF__TRY(lf__cuda_check(cudaMemsetAsync(dx, 0, (size_t)(n * c * hw) * sizeof(float),
                                           cu->stream), op));
    /* The scatter reports the first bad index; the report is 32-bit, so a bad one past 2^31
     * outputs is found by rescanning from there (dx NULL: report only). */
    int64_t base = 0;
    float *target = dx;
    for (;;) {
        maxpool2d_bwd_kernel<<<lf__cuda_blocks(total - base), LF__SUM_THREADS, 0, cu->stream>>>(
            target, dy, idx, total, base, plane_out, hw, cu->flag);
        LF__TRY(lf__cuda_check(cudaGetLastError(), op));
        int32_t bad;
        LF__TRY(lf__cuda_take_flag(cu, &bad, op));
        if (bad == INT32_MAX)
            return LF_OK;
        if (bad == INT32_MAX - 1) {
            base += INT32_MAX - 1;
            target = NULL;
            continue;
        }
        const int64_t o = base + bad;
        int32_t at;
        LF__TRY(lf__cuda_check(cudaMemcpyAsync(&at, idx + o, sizeof at, cudaMemcpyDeviceToHost,
                                               cu->stream), op));
        LF__TRY(lf__cuda_check(cudaStreamSynchronize(cu->stream), op));
        return lf__error(LF_E_INVALID_ARG, "maxpool2d_bwd: index %d at %lld is outside the "
                         "%lldx%lld plane", (int)at, (long long)o, (long long)h, (long long)w);
    }
}

/* One warp per plane: y[p] = Σ x[p·s + k] / s in double. */
static __global__ void avgpool_global_fwd_kernel(float *y, const float *x, int64_t planes,
                                                 int64_t s)
{
    const int lane = threadIdx.x & 31;
    const int64_t warps = (int64_t)gridDim.x * (blockDim.x >> 5);
    for (int64_t p = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5; p < planes;
         p += warps) {
        double sum = 0.0;
        for (int64_t k = lane; k < s; k += 32)
            sum += x[p * s + k];
        sum = lf__warp_sum(sum);
        if (lane == 0)
            y[p] = (float)(sum / (double)s);
    }
}

static __global__ void avgpool_global_bwd_kernel(float *dx, const float *dy, int64_t total,
                                                 int64_t s)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x)
        dx[i] = (float)((double)dy[i / s] / (double)s);
}

extern "C" lf_status lf__cuda_avgpool_global_fwd(void *priv, float *y, const float *x, int64_t n,
                                                 int64_t c, int64_t s)
{
    lf__cuda *cu = (lf__cuda *)priv;
    LF__TRY(lf__ref_avgpool_global_fwd_args(y, x, n, c, s));
    const int64_t planes = n * c;
    if (planes == 0)
        return LF_OK;
    /* 32 threads a plane; lf__cuda_blocks caps the grid and the loop strides over the rest */
    const int64_t threads = planes < INT64_MAX / 32 ? planes * 32 : INT64_MAX;
    avgpool_global_fwd_kernel<<<lf__cuda_blocks(threads), LF__SUM_THREADS, 0, cu->stream>>>(
        y, x, planes, s);
    return lf__cuda_check(cudaGetLastError(), "avgpool_global_fwd");
}

extern "C" lf_status lf__cuda_avgpool_global_bwd(void *priv, float *dx, const float *dy,
                                                 int64_t n, int64_t c, int64_t s)
{
    lf__cuda *cu = (lf__cuda *)priv;
    LF__TRY(lf__ref_avgpool_global_bwd_args(dx, dy, n, c, s));
    const int64_t total = n * c * s;
    if (total == 0)
        return LF_OK;
    avgpool_global_bwd_kernel<<<lf__cuda_blocks(total), LF__SUM_THREADS, 0, cu->stream>>>(
        dx, dy, total, s);
    return lf__cuda_check(cudaGetLastError(), "avgpool_global_bwd");
}
