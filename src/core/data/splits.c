/* The unlearning protocol's splits, deterministic for a seed (lf__rng, stream LF__STREAM_SPLIT):
 * held-out validation per class, random / stratified / class / index forget sets, and the test
 * set without a class. Every split is a pair of views of its input, in input order. */
#include <math.h>
#include <string.h>

#include "core/dataset_internal.h"
#include "core/rng.h"

/* round-half-away-from-zero of fraction × count, as Python's round() would not (banker's):
 * documented so other tools can reproduce the sizes. */
static size_t share(double fraction, size_t count)
{
    return (size_t)floor(fraction * (double)count + 0.5);
}

/* Marks `take` members chosen uniformly at random among idx[0..n) in chosen[] (partial
 * Fisher-Yates on a copy, so the choice depends only on the rng and n). */
static lf_status choose(lf__rng *r, const lf_context *ctx, const int64_t *idx, size_t n, size_t take,
                        uint8_t *chosen)
{
    int64_t *pool = lf__alloc(ctx, (n ? n : 1) * sizeof *pool, "split scratch");
    if (!pool)
        return LF_E_NOMEM;
    memcpy(pool, idx, n * sizeof *pool);
    for (size_t i = 0; i < take; i++) {
        size_t j = i + (size_t)lf__rng_below(r, n - i);
        int64_t t = pool[i];
        pool[i] = pool[j];
        pool[j] = t;
        chosen[pool[i]] = 1;
    }
    lf__free(ctx, pool, (n ? n : 1) * sizeof *pool);
    return LF_OK;
}

/* Indices of ds grouped by class: order[] holds them class by class (in ds order within a
 * class), start[c]..start[c+1] delimits class c. */
static lf_status group_by_class(const lf_dataset *ds, int64_t **order, size_t **start)
{
    size_t k = (size_t)ds->num_classes;
    *order = lf__alloc(ds->ctx, ds->n * sizeof **order, "split scratch");
    *start = lf__calloc(ds->ctx, k + 1, sizeof **start, "split scratch");
    if (!*order || !*start) {
        lf__free(ds->ctx, *order, ds->n * sizeof **order);
        lf__free(ds->ctx, *start, (k + 1) * sizeof **start);
        return LF_E_NOMEM;
    }
    for (size_t i = 0; i < ds->n; i++)
        (*start)[lf__dataset_label(ds, i) + 1]++;
    for (size_t c = 0; c < k; c++)
        (*start)[c + 1] += (*start)[c];
    size_t *fill = lf__alloc(ds->ctx, (k ? k : 1) * sizeof *fill, "split scratch");
    if (!fill) {
        lf__free(ds->ctx, *order, ds->n * sizeof **order);
        lf__free(ds->ctx, *start, (k + 1) * sizeof **start);
        return LF_E_NOMEM;
    }
    memcpy(fill, *start, k * sizeof *fill);
    for (size_t i = 0; i < ds->n; i++)
        (*order)[fill[lf__dataset_label(ds, i)]++] = (int64_t)i;
    lf__free(ds->ctx, fill, (k ? k : 1) * sizeof *fill);
    return LF_OK;
}

/* Splits ds by chosen[]: unchosen samples into *rest, chosen into *picked (both in ds order). */
static lf_status views_from_marks(lf_dataset **rest, lf_dataset **picked, const lf_dataset *ds,
                                  const uint8_t *chosen, const char *what)
{
    size_t n_pick = 0;
    for (size_t i = 0; i < ds->n; i++)
        n_pick += chosen[i];
    if (n_pick == 0)
        return lf__error(LF_E_INVALID_ARG, "%s: the split selects no samples", what);
    if (n_pick == ds->n)
        return lf__error(LF_E_INVALID_ARG, "%s: the split selects every sample, leaving none", what);
    int64_t *a = lf__alloc(ds->ctx, (ds->n - n_pick) * sizeof *a, "split indices");
    int64_t *b = lf__alloc(ds->ctx, n_pick * sizeof *b, "split indices");
    lf_status st = (a && b) ? LF_OK : LF_E_NOMEM;
    if (st == LF_OK) {
        size_t na = 0, nb = 0;
        for (size_t i = 0; i < ds->n; i++) {
            if (chosen[i])
                b[nb++] = (int64_t)i;
            else
                a[na++] = (int64_t)i;
        }
        st = lf_dataset_view(rest, ds, a, na);
        if (st == LF_OK) {
            st = lf_dataset_view(picked, ds, b, nb);
            if (st != LF_OK) {
                lf_dataset_destroy(*rest);
                *rest = NULL;
            }
        }
    }
    lf__free(ds->ctx, a, (ds->n - n_pick) * sizeof *a);
    lf__free(ds->ctx, b, n_pick * sizeof *b);
    return st;
}

/* Per class, `fraction` of its samples chosen at random (classes drawn in class order). */
static lf_status mark_per_class(const lf_dataset *ds, double fraction, lf__rng *r, uint8_t *chosen)
{
    int64_t *order;
    size_t *start;
    LF__TRY(group_by_class(ds, &order, &start));
    lf_status st = LF_OK;
    for (int32_t c = 0; st == LF_OK && c < ds->num_classes; c++) {
        size_t cnt = start[c + 1] - start[c];
        st = choose(r, ds->ctx, order + start[c], cnt, share(fraction, cnt), chosen);
    }
    lf__free(ds->ctx, order, ds->n * sizeof *order);
    lf__free(ds->ctx, start, ((size_t)ds->num_classes + 1) * sizeof *start);
    return st;
}

lf_status lf_dataset_split_holdout(lf_dataset **train_out, lf_dataset **val_out, const lf_dataset *pool,
                                   double fraction, uint64_t seed)
{
    LF__CHECK_ARG(train_out && val_out, "lf_dataset_split_holdout: %s is NULL", train_out ? "val_out" : "train_out");
    *train_out = *val_out = NULL;
    LF__CHECK_ARG(pool, "lf_dataset_split_holdout: pool is NULL");
    if (fraction == 0.0)
        fraction = 0.1;
    if (!(fraction > 0.0 && fraction < 1.0))
        return lf__error(LF_E_OUT_OF_RANGE, "lf_dataset_split_holdout: fraction %g is not in (0, 1)", fraction);
    uint8_t *chosen = lf__calloc(pool->ctx, pool->n, 1, "split marks");
    if (!chosen)
        return LF_E_NOMEM;
    lf__rng r;
    lf__rng_init(&r, seed, LF__STREAM_SPLIT);
    lf_status st = mark_per_class(pool, fraction, &r, chosen);
    if (st == LF_OK)
        st = views_from_marks(train_out, val_out, pool, chosen, "lf_dataset_split_holdout");
    lf__free(pool->ctx, chosen, pool->n);
    return st;
}

static lf_status mark_forget(const lf_dataset *train, const lf_forget_spec *s, uint8_t *chosen)
{
    lf__rng r;
    /* a different draw than the hold-out split of the same seed */
    lf__rng_init(&r, s->seed ^ 0x9e3779b97f4a7c15ull, LF__STREAM_SPLIT);
    switch (s->kind) {
    case LF_FORGET_RANDOM:
    case LF_FORGET_STRATIFIED:
        if (!(s->fraction > 0.0 && s->fraction < 1.0))
            return lf__error(LF_E_OUT_OF_RANGE, "lf_forget_spec.fraction %g is not in (0, 1)", s->fraction);
        if (s->kind == LF_FORGET_STRATIFIED)
            return mark_per_class(train, s->fraction, &r, chosen);
        int64_t *all = lf__alloc(train->ctx, train->n * sizeof *all, "split scratch");
        if (!all)
            return LF_E_NOMEM;
        for (size_t i = 0; i < train->n; i++)
            all[i] = (int64_t)i;
        lf_status st = choose(&r, train->ctx, all, train->n, share(s->fraction, train->n), chosen);
        lf__free(train->ctx, all, train->n * sizeof *all);
        return st;
    case LF_FORGET_CLASS:
        if (s->forget_class < 0 || s->forget_class >= train->num_classes)
            return lf__error(LF_E_OUT_OF_RANGE, "lf_forget_spec.forget_class %d is not in [0, %d)",
                             (int)s->forget_class, (int)train->num_classes);
        for (size_t i = 0; i < train->n; i++)
            chosen[i] = lf__dataset_label(train, i) == s->forget_class;
        return LF_OK;
    case LF_FORGET_INDICES:
        if (!s->indices && s->n_indices)
            return lf__error(LF_E_INVALID_ARG, "lf_forget_spec.indices is NULL");
        for (size_t i = 0; i < s->n_indices; i++) {
            int64_t v = s->indices[i];
            if (v < 0 || (uint64_t)v >= train->n)
                return lf__error(LF_E_OUT_OF_RANGE, "lf_forget_spec.indices[%zu] = %lld is not in [0, %zu)",
                                 i, (long long)v, train->n);
            if (chosen[v])
                return lf__error(LF_E_INVALID_ARG, "lf_forget_spec.indices[%zu] = %lld is a repeat", i,
                                 (long long)v);
            chosen[v] = 1;
        }
        return LF_OK;
    default:
        return lf__error(LF_E_INVALID_ARG, "lf_forget_spec.kind %d is not an lf_forget_kind", (int)s->kind);
    }
}

lf_status lf_dataset_split_forget(lf_dataset **retain_out, lf_dataset **forget_out, const lf_dataset *train,
                                  const lf_forget_spec *spec)
{
    LF__CHECK_ARG(retain_out && forget_out, "lf_dataset_split_forget: %s is NULL",
                  retain_out ? "forget_out" : "retain_out");
    *retain_out = *forget_out = NULL;
    LF__CHECK_ARG(train && spec, "lf_dataset_split_forget: %s is NULL", train ? "spec" : "train");
    lf_forget_spec s;
    LF__TRY(lf__copy_struct_in(&s, sizeof s, spec, sizeof s, "lf_forget_spec"));
    uint8_t *chosen = lf__calloc(train->ctx, train->n, 1, "split marks");
    if (!chosen)
        return LF_E_NOMEM;
    lf_status st = mark_forget(train, &s, chosen);
    if (st == LF_OK)
        st = views_from_marks(retain_out, forget_out, train, chosen, "lf_dataset_split_forget");
    lf__free(train->ctx, chosen, train->n);
    return st;
}

lf_status lf_dataset_without_class(lf_dataset **out, const lf_dataset *src, int32_t cls)
{
    LF__CHECK_ARG(out, "lf_dataset_without_class: out is NULL");
    *out = NULL;
    LF__CHECK_ARG(src, "lf_dataset_without_class: src is NULL");
    if (cls < 0 || cls >= src->num_classes)
        return lf__error(LF_E_OUT_OF_RANGE, "lf_dataset_without_class: class %d is not in [0, %d)", (int)cls,
                         (int)src->num_classes);
    uint8_t *chosen = lf__calloc(src->ctx, src->n, 1, "split marks");
    if (!chosen)
        return LF_E_NOMEM;
    for (size_t i = 0; i < src->n; i++)
        chosen[i] = lf__dataset_label(src, i) == cls;
    lf_dataset *removed = NULL;
    lf_status st = views_from_marks(out, &removed, src, chosen, "lf_dataset_without_class");
    lf_dataset_destroy(removed);
    lf__free(src->ctx, chosen, src->n);
    return st;
}
