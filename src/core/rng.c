/* Philox4x32-10 (Salmon et al., SC'11): a counter-based generator, so draw i is a pure function
 * of (seed, stream, i) and every backend reproduces the same numbers. */
#include <math.h>

#include "core/rng.h"

void lf__philox4x32(uint32_t out[4], uint64_t seed, uint64_t stream, uint64_t block)
{
    lf__philox4x32_inline(out, seed, stream, block);
}

/* 24 random bits -> [0, 1), exact in float */
static float word_to_unit(uint32_t w)
{
    return (float)(w >> 8) * (1.0f / 16777216.0f);
}

/* 24 random bits -> (0, 1), never 0 so log() is finite */
static double word_to_open_unit(uint32_t w)
{
    return ((double)(w >> 8) + 0.5) * (1.0 / 16777216.0);
}

float lf__rng_uniform_at(uint64_t seed, uint64_t stream, uint64_t i)
{
    uint32_t w[4];
    lf__philox4x32(w, seed, stream, i / 4);
    return word_to_unit(w[i % 4]);
}

float lf__rng_normal_at(uint64_t seed, uint64_t stream, uint64_t i)
{
    uint32_t w[4];
    lf__philox4x32(w, seed, stream, i / 2);
    int lane = (int)(i % 2) * 2;
    double u1 = word_to_open_unit(w[lane]), u2 = word_to_open_unit(w[lane + 1]);
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

void lf__rng_init(lf__rng *r, uint64_t seed, uint64_t stream)
{
    r->seed = seed;
    r->stream = stream;
    r->block = 0;
    r->avail = 0;
}

uint32_t lf__rng_u32(lf__rng *r)
{
    if (r->avail == 0) {
        lf__philox4x32(r->buf, r->seed, r->stream, r->block++);
        r->avail = 4;
    }
    return r->buf[4 - r->avail--];
}

uint64_t lf__rng_u64(lf__rng *r)
{
    uint64_t hi = lf__rng_u32(r);
    return (hi << 32) | lf__rng_u32(r);
}

double lf__rng_uniform(lf__rng *r)
{
    return (double)(lf__rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t lf__rng_below(lf__rng *r, uint64_t n)
{
    /* rejection sampling: drop the top partial range so every residue is equally likely */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = lf__rng_u64(r);
    } while (x >= limit);
    return x % n;
}

double lf__rng_normal(lf__rng *r)
{
    double u1 = word_to_open_unit(lf__rng_u32(r));
    double u2 = word_to_open_unit(lf__rng_u32(r));
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void lf__rng_shuffle_i64(lf__rng *r, int64_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)lf__rng_below(r, i);
        int64_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}
