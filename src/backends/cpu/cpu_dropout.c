/* Seeded dropout on the cpu backend: the reference's masks and values, bit for bit. The
 * reference draws a whole Philox block for every element (and uses one of its four words);
 * here each block is drawn once, blocks are generated a tile at a time in a vectorised loop
 * (eight at once with AVX2, whose 32 × 32 → 64-bit multiply the compiler does not find by
 * itself), and tiles go to the context's threads. The generator was a third of an attacker
 * training step: the attacker draws 3 million numbers per forward pass and again per backward
 * pass. */
#include <math.h>

#include "core/internal.h"
#include "core/rng.h"
#include "backends/reference/ref_kernels.h"
#include "backends/cpu/cpu_ops.h"

/* Philox blocks per tile (16 KiB of words on the stack). */
enum { TILE_BLOCKS = 1024 };

#if LF__CPU_X86
#include <immintrin.h>

/* hi and lo 32-bit halves of m·c in each of eight lanes */
__attribute__((target("avx2"))) static inline void mulhilo8(__m256i m, __m256i c, __m256i *hi,
                                                             __m256i *lo)
{
    const __m256i even = _mm256_mul_epu32(c, m);                        /* lanes 0, 2, 4, 6 */
    const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(c, 32), m);  /* lanes 1, 3, 5, 7 */
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

/* lf__philox4x32_inline for blocks b0 .. b0 + 8·(blocks / 8) − 1 into words (four per block, in
 * block order); returns how many blocks it did. */
__attribute__((target("avx2"))) static int64_t philox_avx2(uint32_t *words, int64_t blocks,
                                                           uint64_t seed, uint64_t stream,
                                                           uint64_t b0)
{
    const __m256i m0 = _mm256_set1_epi32((int)0xD2511F53u);
    const __m256i m1 = _mm256_set1_epi32((int)0xCD9E8D57u);
    int64_t b = 0;
    for (; b + 8 <= blocks; b += 8) {
        uint32_t lo32[8], hi32[8];
        for (int l = 0; l < 8; l++) {
            const uint64_t block = b0 + (uint64_t)(b + l);
            lo32[l] = (uint32_t)block;
            hi32[l] = (uint32_t)(block >> 32);
        }
        __m256i c0 = _mm256_loadu_si256((const __m256i *)lo32);
        __m256i c1 = _mm256_loadu_si256((const __m256i *)hi32);
        __m256i c2 = _mm256_set1_epi32((int)(uint32_t)stream);
        __m256i c3 = _mm256_set1_epi32((int)(uint32_t)(stream >> 32));
        uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
        for (int round = 0; round < 10; round++) {
            __m256i hi0, lo0, hi1, lo1;
            mulhilo8(m0, c0, &hi0, &lo0);
            mulhilo8(m1, c2, &hi1, &lo1);
            c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32((int)k0));
            c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32((int)k1));
            c1 = lo1;
            c3 = lo0;
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        /* lanes of c0..c3 → four words per block, blocks in order */
        const __m256i t0 = _mm256_unpacklo_epi32(c0, c1), t1 = _mm256_unpackhi_epi32(c0, c1);
        const __m256i t2 = _mm256_unpacklo_epi32(c2, c3), t3 = _mm256_unpackhi_epi32(c2, c3);
        const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
        const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
        __m256i *out = (__m256i *)(words + 4 * b);
        _mm256_storeu_si256(out, _mm256_permute2x128_si256(u0, u1, 0x20));     /* blocks 0, 1 */
        _mm256_storeu_si256(out + 1, _mm256_permute2x128_si256(u2, u3, 0x20)); /* 2, 3 */
        _mm256_storeu_si256(out + 2, _mm256_permute2x128_si256(u0, u1, 0x31)); /* 4, 5 */
        _mm256_storeu_si256(out + 3, _mm256_permute2x128_si256(u2, u3, 0x31)); /* 6, 7 */
    }
    return b;
}
#endif

/* The words of blocks b0 .. b0 + blocks − 1. */
static void philox_blocks(uint32_t *words, int64_t blocks, uint64_t seed, uint64_t stream,
                          uint64_t b0)
{
    int64_t b = 0;
#if LF__CPU_X86
    if (lf__cpu_have_avx2())
        b = philox_avx2(words, blocks, seed, stream, b0);
#endif
#pragma omp simd
    for (int64_t i = b; i < blocks; i++)
        lf__philox4x32_inline(&words[4 * i], seed, stream, b0 + (uint64_t)i);
}

/* y[j] for the draws [i_lo, i_hi) of the tile starting at block b0 (j = i − offset). Draw i is
 * kept iff uniform_at(i) = (w >> 8)·2^-24 >= p, that is iff the integer w >> 8 >= keep_from,
 * the least such integer; the result is picked with a bit mask (a branch would keep the loop
 * scalar). */
static void dropout_tile(float *y, const float *x, uint64_t offset, uint64_t b0, uint64_t i_lo,
                         uint64_t i_hi, int32_t keep_from, float scale, uint64_t seed,
                         uint64_t stream)
{
    uint32_t words[4 * TILE_BLOCKS];
    philox_blocks(words, (int64_t)((i_hi - 1) / 4 - b0 + 1), seed, stream, b0);
    const uint32_t *w = words + (i_lo - 4 * b0);
    float *yt = y + (i_lo - offset);
    const float *xt = x + (i_lo - offset);
    const int64_t count = (int64_t)(i_hi - i_lo);
#pragma omp simd
    for (int64_t e = 0; e < count; e++) {
        union { float f; uint32_t u; } v = { xt[e] * scale };
        v.u &= (uint32_t)0 - (uint32_t)((int32_t)(w[e] >> 8) >= keep_from);
        yt[e] = v.f;   /* +0 where dropped, as the reference */
    }
}

lf_status lf__cpu_dropout(void *priv, float *y, const float *x, int64_t n, float p, uint64_t seed,
                          uint64_t stream, uint64_t offset)
{
    if (n < 1 || !y || !x || !(p >= 0.0f && p <= 1.0f) || (uint64_t)n > UINT64_MAX - offset)
        return lf__ref_dropout(priv, y, x, n, p, seed, stream, offset);
    const float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;   /* as the reference */
    /* ⌈p·2^24⌉, exact in double: (w >> 8)·2^-24 >= p iff w >> 8 >= it (2^24 for p = 1: none) */
    const int32_t keep_from = (int32_t)ceil((double)p * 16777216.0);
    const uint64_t first = offset / 4, end = offset + (uint64_t)n;
    const int64_t tiles = (int64_t)(((end - 1) / 4 - first) / TILE_BLOCKS) + 1;
    const int t = lf__cpu_threads_for(priv, n);
#pragma omp parallel for num_threads(t) if (t > 1) schedule(static)
    for (int64_t i = 0; i < tiles; i++) {
        const uint64_t b0 = first + (uint64_t)i * TILE_BLOCKS;
        const uint64_t lo = 4 * b0 > offset ? 4 * b0 : offset;
        const uint64_t hi = end - 4 * b0 > 4 * TILE_BLOCKS ? 4 * (b0 + TILE_BLOCKS) : end;
        dropout_tile(y, x, offset, b0, lo, hi, keep_from, scale, seed, stream);
    }
    return LF_OK;
}
