/* Counter-based random numbers (Philox4x32-10): value i of a stream depends only on
 * (seed, stream, i), so every backend and thread count draws the same numbers. */
#ifndef LF_CORE_RNG_H
#define LF_CORE_RNG_H

#include <stddef.h>
#include <stdint.h>

/* The one Philox definition serves the host and the CUDA kernels (backends/cuda/cuda_rng.cu):
 * there it is compiled for both. */
#ifdef __CUDACC__
#  define LF__HOST_DEVICE __host__ __device__
#else
#  define LF__HOST_DEVICE
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Streams keep different uses of one seed independent. Values are part of reproducibility:
 * never renumber. */
enum {
    LF__STREAM_INIT    = 1, /* parameter initialisation */
    LF__STREAM_SHUFFLE = 2, /* epoch shuffling */
    LF__STREAM_SPLIT   = 3, /* data set splits */
    LF__STREAM_NOISE   = 4, /* input / weight noise */
    LF__STREAM_DROPOUT = 5,
    LF__STREAM_REMI    = 6  /* ReMI's splits, samplers and approximator (use in the high word) */
};

/* One Philox4x32-10 block: key = seed, counter = (block, stream). */
void lf__philox4x32(uint32_t out[4], uint64_t seed, uint64_t stream, uint64_t block);

/* The same block, inline: loops over many blocks (the cpu backend's dropout) vectorise it. */
static inline LF__HOST_DEVICE void lf__philox4x32_inline(uint32_t out[4], uint64_t seed,
                                                         uint64_t stream, uint64_t block)
{
    uint32_t c0 = (uint32_t)block, c1 = (uint32_t)(block >> 32);
    uint32_t c2 = (uint32_t)stream, c3 = (uint32_t)(stream >> 32);
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int round = 0; round < 10; round++) {
        const uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c0 = n0;
        c1 = (uint32_t)p1;
        c2 = n2;
        c3 = (uint32_t)p0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* Element-indexed draws, the definition every backend implements:
 *   uniform_at(i) = (word[i%4] of block i/4 >> 8) * 2^-24            in [0, 1)
 *   normal_at(i)  = Box-Muller of words 2(i%2), 2(i%2)+1 of block i/2, each mapped to
 *                   ((w >> 8) + 0.5) * 2^-24 in (0, 1): sqrt(-2 ln u1) * cos(2 pi u2), in double. */
float lf__rng_uniform_at(uint64_t seed, uint64_t stream, uint64_t i);
float lf__rng_normal_at(uint64_t seed, uint64_t stream, uint64_t i);

/* A sequential generator for host-side decisions (shuffles, splits). */
typedef struct lf__rng {
    uint64_t seed, stream, block;
    uint32_t buf[4];
    int      avail;
} lf__rng;

void     lf__rng_init(lf__rng *r, uint64_t seed, uint64_t stream);
uint32_t lf__rng_u32(lf__rng *r);
uint64_t lf__rng_u64(lf__rng *r);
double   lf__rng_uniform(lf__rng *r);            /* [0, 1), 53 bits */
uint64_t lf__rng_below(lf__rng *r, uint64_t n);  /* unbiased in [0, n); n > 0 */
double   lf__rng_normal(lf__rng *r);             /* standard normal (Box-Muller, double) */
void     lf__rng_shuffle_i64(lf__rng *r, int64_t *a, size_t n);  /* Fisher-Yates */

#ifdef __cplusplus
}
#endif

#endif
