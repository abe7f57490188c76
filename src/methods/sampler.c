/* The endless seeded sampler of sampler.h. */
#include "methods/sampler.h"

lf_status lf__sampler_init(lf__sampler *s, const lf_context *ctx, size_t n, uint64_t seed,
                           uint64_t stream)
{
    s->n = n;
    s->pos = n;   /* shuffle on first use */
    lf__rng_init(&s->rng, seed, stream);
    s->order = lf__calloc(ctx, n, sizeof(int64_t), "a batch sampler");
    if (!s->order)
        return LF_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        s->order[i] = (int64_t)i;
    return LF_OK;
}

void lf__sampler_next(lf__sampler *s, int64_t *idx, int64_t k)
{
    for (int64_t i = 0; i < k; i++) {
        if (s->pos == s->n) {
            lf__rng_shuffle_i64(&s->rng, s->order, s->n);
            s->pos = 0;
        }
        idx[i] = s->order[s->pos++];
    }
}

void lf__sampler_free(lf__sampler *s, const lf_context *ctx)
{
    if (s->order)
        lf__free(ctx, s->order, s->n * sizeof(int64_t));
    s->order = NULL;
}
