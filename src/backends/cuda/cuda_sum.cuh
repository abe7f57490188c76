/* Double-precision sums shared by the CUDA op files (normalisation, pooling, convolution,
 * losses, bias gradients, reductions): warp and block
 * reductions, and the channel plan that splits each channel's n·s values of an n×c×s tensor
 * over several blocks. Partial sums land in scratch and are added in a fixed order by a later
 * kernel, so every result is deterministic (no floating-point atomics). */
#ifndef LF_BACKENDS_CUDA_CUDA_SUM_CUH
#define LF_BACKENDS_CUDA_CUDA_SUM_CUH

#include "backends/cuda/cuda_common.h"

/* Threads per block of every kernel in these files (a multiple of 32). */
#define LF__SUM_THREADS 256

/* Blocks for a kernel that loops over items block by block (one block per item at a time). */
static inline unsigned lf__sum_grid(int64_t items)
{
    return (unsigned)(items < 65535 ? items : 65535);
}

/* v summed over the 32 lanes of the warp; every lane receives the total. */
static __device__ __forceinline__ double lf__warp_sum(double v)
{
    for (int off = 16; off > 0; off >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}

/* Each v[i] summed over the block (blockDim.x a multiple of 32, at most 1024); every thread
 * receives the totals, added in an order fixed by the block size. It synchronises the block,
 * so all of its threads must call it. */
template <int K>
static __device__ __forceinline__ void lf__block_sum(double (&v)[K])
{
    __shared__ double part[K][32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    for (int i = 0; i < K; i++)
        v[i] = lf__warp_sum(v[i]);
    __syncthreads();   /* a previous call's readers are done with part */
    if (lane == 0)
        for (int i = 0; i < K; i++)
            part[i][warp] = v[i];
    __syncthreads();
    for (int i = 0; i < K; i++)
        v[i] = lf__warp_sum(lane < warps ? part[i][lane] : 0.0);
}

/* Each of the c channels' N = n·s values (value j of channel ch is x[((j/s)·c + ch)·s + j%s])
 * split into parts of `per` consecutive values, the last one shorter; block b of a kernel
 * handles channel b / parts, part b % parts. */
typedef struct lf__chan_plan {
    int64_t n, c, s;
    int64_t parts, per;
} lf__chan_plan;

/* About a thousand blocks in all, each with at least 2048 values when there are that many. */
static inline lf__chan_plan lf__chan_plan_make(int64_t n, int64_t c, int64_t s)
{
    const int64_t N = n * s, want = c >= 1024 ? 1 : (1024 + c - 1) / c;   /* parts per channel */
    int64_t per = (N + want - 1) / want;
    if (per < 2048)
        per = 2048;
    lf__chan_plan p = { n, c, s, (N + per - 1) / per, per };
    return p;
}

/* Calls f(at), at the flat offset in the n×c×s tensor, for every value of channel ch in part
 * `part` that this thread of the block owns (values threadIdx.x, threadIdx.x + blockDim.x, ...
 * of the part: consecutive threads read consecutive addresses within a plane). Steps (i, k)
 * by blockDim.x without a division per value. */
template <class F>
static __device__ __forceinline__ void lf__chan_for_each(const lf__chan_plan &p, int64_t ch,
                                                         int64_t part, F f)
{
    const int64_t N = p.n * p.s, lo = part * p.per;
    const int64_t hi = lo + p.per < N ? lo + p.per : N;
    int64_t j = lo + threadIdx.x;
    if (j >= hi)
        return;
    int64_t i = j / p.s, k = j - i * p.s;
    const int64_t di = blockDim.x / p.s, dk = blockDim.x - di * p.s;
    for (; j < hi; j += blockDim.x) {
        f((i * p.c + ch) * p.s + k);
        i += di;
        k += dk;
        if (k >= p.s) {
            k -= p.s;
            i++;
        }
    }
}

#endif
