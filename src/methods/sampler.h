/* A seeded endless sampler over 0..n-1 (ReMI's and DAU's forget, reference and validation
 * batches): a Fisher-Yates permutation handed out in order and reshuffled after every pass, so
 * every index comes once per pass and a batch may straddle two passes. */
#ifndef LF_METHODS_SAMPLER_H
#define LF_METHODS_SAMPLER_H

#include "core/internal.h"
#include "core/rng.h"

typedef struct lf__sampler {
    int64_t *order;
    size_t   n, pos;
    lf__rng  rng;
} lf__sampler;

/* n > 0; the shuffles draw from (seed, stream). */
lf_status lf__sampler_init(lf__sampler *s, const lf_context *ctx, size_t n, uint64_t seed,
                           uint64_t stream);
/* idx[0..k) = the next k indices. */
void      lf__sampler_next(lf__sampler *s, int64_t *idx, int64_t k);
/* NULL-safe on a zeroed sampler. */
void      lf__sampler_free(lf__sampler *s, const lf_context *ctx);

#endif
