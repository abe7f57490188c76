/* Random fills and seeded dropout on the CUDA backend: the draws of core/rng.h bit for bit.
 * Draw i of (seed, stream) comes from Philox4x32-10 block i/4 (uniform, dropout: word i%4) or
 * block i/2 (normal: words 2(i%2), 2(i%2)+1); a thread draws one block and writes every element
 * of it in range, instead of drawing a block per element as lf__rng_uniform_at does.
 *
 * The uniform draws and dropout's masks are integer arithmetic and exact float operations, so
 * they equal the reference's exactly. The normal draws use double log, cos and sqrt as
 * lf__rng_normal_at does: sqrt is correctly rounded on both sides, CUDA's log and cos are within
 * 1 and 2 ulp of the exact value (glibc's within 1), so the double results can differ in their
 * last bits and the float result only when it lies that close to a float rounding boundary (a
 * chance of about 2^-28 a draw). */
#include <math.h>

#include "backends/cuda/cuda_common.h"
#include "core/rng.h"   /* lf__philox4x32_inline, compiled for the device too */

enum { THREADS = 256 };   /* lf__cuda_blocks sizes grids for 256 threads a block */

/* 24 random bits -> [0, 1), exact in float (core/rng.c's word_to_unit) */
static __device__ __forceinline__ float word_to_unit(uint32_t w)
{
    return (float)(w >> 8) * (1.0f / 16777216.0f);
}

/* 24 random bits -> (0, 1), never 0 so log() is finite (core/rng.c's word_to_open_unit) */
static __device__ __forceinline__ double word_to_open_unit(uint32_t w)
{
    return ((double)(w >> 8) + 0.5) * (1.0 / 16777216.0);
}

/* What each op does with its draws. Element j (0 <= j < n) takes draw `k` (0 <= k < per_block)
 * of its Philox block w. */
struct uniform_fill {
    static constexpr int per_block = 4;
    float *out;
    float lo, span;
    __device__ void operator()(uint64_t j, const uint32_t w[4], int k) const
    {
        out[j] = __fadd_rn(lo, __fmul_rn(span, word_to_unit(w[k])));
    }
};

struct normal_fill {
    static constexpr int per_block = 2;
    float *out;
    float mean, std;
    __device__ void operator()(uint64_t j, const uint32_t w[4], int k) const
    {
        const double u1 = word_to_open_unit(w[2 * k]), u2 = word_to_open_unit(w[2 * k + 1]);
        const float z = (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
        out[j] = __fadd_rn(mean, __fmul_rn(std, z));
    }
};

struct dropout_fill {
    static constexpr int per_block = 4;
    float *y;
    const float *x;
    float p, scale;
    __device__ void operator()(uint64_t j, const uint32_t w[4], int k) const
    {
        y[j] = word_to_unit(w[k]) >= p ? __fmul_rn(x[j], scale) : 0.0f;
    }
};

/* Element j is draw i = offset + j (mod 2^64, as the reference's uint64_t sum wraps). With
 * lead = offset % per and base = offset − lead, element j lies in group t = (j + lead) / per,
 * whose Philox block is (base + per·t) / per, at draw k = (j + lead) % per: base + per·t is a
 * multiple of per even where it wraps (per divides 2^64), so this is i / per and i % per. */
template <class Fill>
static __global__ void rng_kernel(Fill fill, int64_t n, uint64_t seed, uint64_t stream,
                                  uint64_t offset)
{
    constexpr int per = Fill::per_block;
    const uint64_t lead = offset % per, base = offset - lead;
    const uint64_t groups = ((uint64_t)n + lead + per - 1) / per;
    for (uint64_t t = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; t < groups;
         t += (uint64_t)gridDim.x * blockDim.x) {
        uint32_t w[4];
        lf__philox4x32_inline(w, seed, stream, (base + per * t) / per);
        for (int k = 0; k < per; k++) {
            const uint64_t pos = per * t + k;   /* = j + lead */
            if (pos >= lead && pos - lead < (uint64_t)n)
                fill(pos - lead, w, k);
        }
    }
}

/* Groups of per draws covering n elements that start `offset % per` into a group. */
static int64_t rng_groups(int64_t n, uint64_t offset, int per)
{
    return (int64_t)(((uint64_t)n + offset % (uint64_t)per + (uint64_t)per - 1) / (uint64_t)per);
}

lf_status lf__cuda_rng_uniform(void *priv, float *out, int64_t n, uint64_t seed, uint64_t stream,
                               uint64_t offset, float lo, float hi)
{
    lf__cuda *cu = (lf__cuda *)priv;
    LF__TRY(lf__ref_rng_uniform_args(out, n));
    if (n == 0)
        return LF_OK;
    const uniform_fill fill = { out, lo, hi - lo };
    const unsigned blocks = lf__cuda_blocks(rng_groups(n, offset, uniform_fill::per_block));
    rng_kernel<<<blocks, THREADS, 0, cu->stream>>>(fill, n, seed, stream, offset);
    return lf__cuda_check(cudaGetLastError(), "rng_uniform");
}

lf_status lf__cuda_rng_normal(void *priv, float *out, int64_t n, uint64_t seed, uint64_t stream,
                              uint64_t offset, float mean, float std)
{
    lf__cuda *cu = (lf__cuda *)priv;
    LF__TRY(lf__ref_rng_normal_args(out, n));
    if (n == 0)
        return LF_OK;
    const normal_fill fill = { out, mean, std };
    const unsigned blocks = lf__cuda_blocks(rng_groups(n, offset, normal_fill::per_block));
    rng_kernel<<<blocks, THREADS, 0, cu->stream>>>(fill, n, seed, stream, offset);
    return lf__cuda_check(cudaGetLastError(), "rng_normal");
}

lf_status lf__cuda_dropout(void *priv, float *y, const float *x, int64_t n, float p, uint64_t seed,
                           uint64_t stream, uint64_t offset)
{
    lf__cuda *cu = (lf__cuda *)priv;
    LF__TRY(lf__ref_dropout_args(y, x, n, p, offset));
    if (n == 0)
        return LF_OK;
    /* 1/(1 − p) in float, as torch's noise.div_(1 − p); unused when p == 1 (nothing is kept:
     * a draw is < 1) */
    const float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    const dropout_fill fill = { y, x, p, scale };
    const unsigned blocks = lf__cuda_blocks(rng_groups(n, offset, dropout_fill::per_block));
    rng_kernel<<<blocks, THREADS, 0, cu->stream>>>(fill, n, seed, stream, offset);
    return lf__cuda_check(cudaGetLastError(), "dropout");
}
