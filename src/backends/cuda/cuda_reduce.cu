/* Reductions with a result on the host: Σ x² in double and the count of non-finite values.
 * The sum is deterministic: a partial sum per block into scratch, then one block adds the
 * partials in a fixed order (no floating-point atomics). The count is an integer, so atomics
 * give the same answer in any order. Both wait for the stream: the caller reads the result. */
#include <math.h>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/cuda_sum.cuh"

enum { THREADS = LF__SUM_THREADS };   /* lf__cuda_blocks sizes grids for 256 threads a block */

static __global__ void sum_squares_kernel(double *partial, const float *x, int64_t n)
{
    double v[1] = { 0.0 };
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        const double xi = x[i];
        v[0] += xi * xi;
    }
    lf__block_sum(v);
    if (threadIdx.x == 0)
        partial[blockIdx.x] = v[0];
}

/* One block: partial[0 .. count − 1] added into *out. */
static __global__ void sum_partials_kernel(double *out, const double *partial, int64_t count)
{
    double v[1] = { 0.0 };
    for (int64_t k = threadIdx.x; k < count; k += blockDim.x)
        v[0] += partial[k];
    lf__block_sum(v);
    if (threadIdx.x == 0)
        *out = v[0];
}

lf_status lf__cuda_sum_squares(void *priv, double *out_host, const float *x, int64_t n)
{
    lf__cuda *cu = (lf__cuda *)priv;
    const char *op = "sum_squares";
    LF__TRY(lf__ref_sum_squares_args(out_host, x, n));
    if (n == 0) {
        *out_host = 0.0;
        return LF_OK;
    }
    const unsigned blocks = lf__cuda_blocks(n);
    void *scratch;
    LF__TRY(lf__cuda_scratch(cu, ((size_t)blocks + 1) * sizeof(double), &scratch));
    double *partial = (double *)scratch, *total = partial + blocks;
    sum_squares_kernel<<<blocks, THREADS, 0, cu->stream>>>(partial, x, n);
    LF__TRY(lf__cuda_check(cudaGetLastError(), op));
    sum_partials_kernel<<<1, THREADS, 0, cu->stream>>>(total, partial, blocks);
    LF__TRY(lf__cuda_check(cudaGetLastError(), op));
    double sum = 0.0;
    LF__TRY(lf__cuda_check(cudaMemcpyAsync(&sum, total, sizeof sum, cudaMemcpyDeviceToHost,
                                           cu->stream), op));
    LF__TRY(lf__cuda_check(cudaStreamSynchronize(cu->stream), op));
    *out_host = sum;
    return LF_OK;
}

static __global__ void count_nonfinite_kernel(unsigned long long *count, const float *x,
                                              int64_t n)
{
    __shared__ unsigned long long block_count;
    if (threadIdx.x == 0)
        block_count = 0;
    __syncthreads();
    unsigned long long mine = 0;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        mine += !isfinite(x[i]);
    if (mine)
        atomicAdd(&block_count, mine);
    __syncthreads();
    if (threadIdx.x == 0 && block_count)
        atomicAdd(count, block_count);
}

lf_status lf__cuda_count_nonfinite(void *priv, int64_t *out_host, const float *x, int64_t n)
{
    lf__cuda *cu = (lf__cuda *)priv;
    const char *op = "count_nonfinite";
    LF__TRY(lf__ref_count_nonfinite_args(out_host, x, n));
    if (n == 0) {
        *out_host = 0;
        return LF_OK;
    }
    void *scratch;
    LF__TRY(lf__cuda_scratch(cu, sizeof(unsigned long long), &scratch));
    unsigned long long *count = (unsigned long long *)scratch;
    LF__TRY(lf__cuda_check(cudaMemsetAsync(count, 0, sizeof *count, cu->stream), op));
    count_nonfinite_kernel<<<lf__cuda_blocks(n), THREADS, 0, cu->stream>>>(count, x, n);
    LF__TRY(lf__cuda_check(cudaGetLastError(), op));
    unsigned long long bad = 0;
    LF__TRY(lf__cuda_check(cudaMemcpyAsync(&bad, count, sizeof bad, cudaMemcpyDeviceToHost,
                                           cu->stream), op));
    LF__TRY(lf__cuda_check(cudaStreamSynchronize(cu->stream), op));
    *out_host = (int64_t)bad;
    return LF_OK;
}
