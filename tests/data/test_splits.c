/* The protocol's splits: sizes, disjointness, coverage, determinism, parent indices. */
#include "lf_test.h"

static lf_context *ctx;
static lf_dataset *pool;   /* 103 samples, 4 classes: class sizes 26, 26, 26, 25 */

static void setup(void)
{
    ctx = lf_test_context(LF_BACKEND_REFERENCE);
    pool = lf_test_blobs(ctx, 103, 4, 1, 2, 2, 5);
}

static void teardown(void)
{
    lf_dataset_destroy(pool);
    lf_context_destroy(ctx);
}

static int64_t *parents(const lf_dataset *ds)
{
    size_t n = lf_dataset_size(ds);
    int64_t *p = malloc(n * sizeof *p);
    ck_assert_lf_ok(lf_dataset_parent_indices(ds, p, n));
    return p;
}

/* a and b partition [0, n): disjoint, together complete, each in increasing order */
static void assert_partition(const lf_dataset *a, const lf_dataset *b, size_t n)
{
    ck_assert_uint_eq(lf_dataset_size(a) + lf_dataset_size(b), n);
    char *seen = calloc(n, 1);
    const lf_dataset *sets[2] = { a, b };
    for (int s = 0; s < 2; s++) {
        int64_t *p = parents(sets[s]);
        for (size_t i = 0; i < lf_dataset_size(sets[s]); i++) {
            ck_assert(p[i] >= 0 && (size_t)p[i] < n);
            ck_assert_int_eq(seen[p[i]], 0);
            seen[p[i]] = 1;
            if (i > 0)
                ck_assert_int_lt(p[i - 1], p[i]);
        }
        free(p);
    }
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(seen[i], 1);
    free(seen);
}

static void class_counts(const lf_dataset *ds, int counts[4])
{
    memset(counts, 0, 4 * sizeof *counts);
    size_t n = lf_dataset_size(ds);
    int32_t *y = malloc(n * sizeof *y);
    ck_assert_lf_ok(lf_dataset_labels(ds, y, n));
    for (size_t i = 0; i < n; i++)
        counts[y[i]]++;
    free(y);
}

START_TEST(holdout_is_per_class_and_deterministic)
{
    lf_dataset *tr = NULL, *va = NULL, *tr2 = NULL, *va2 = NULL, *tr3 = NULL, *va3 = NULL;
    ck_assert_lf_ok(lf_dataset_split_holdout(&tr, &va, pool, 0.1, 7));
    assert_partition(tr, va, 103);
    int counts[4];
    class_counts(va, counts);
    /* round(0.1 × 26) = 3, round(0.1 × 25) = 3 (2.5 rounds away from zero) */
    ck_assert_int_eq(counts[0], 3);
    ck_assert_int_eq(counts[3], 3);
    ck_assert_uint_eq(lf_dataset_size(va), 12);
    ck_assert_lf_ok(lf_dataset_split_holdout(&tr2, &va2, pool, 0.0, 7));   /* 0 = default 0.1 */
    int64_t *a = parents(va), *b = parents(va2);
    ck_assert_mem_eq(a, b, 12 * sizeof *a);
    ck_assert_lf_ok(lf_dataset_split_holdout(&tr3, &va3, pool, 0.1, 8));
    int64_t *c = parents(va3);
    ck_assert_msg(memcmp(a, c, 12 * sizeof *a) != 0, "another seed gave the same split");
    free(a); free(b); free(c);
    lf_dataset *x = NULL, *y = NULL;
    ck_assert_lf_status(lf_dataset_split_holdout(&x, &y, pool, 1.0, 7), LF_E_OUT_OF_RANGE);
    ck_assert_lf_status(lf_dataset_split_holdout(&x, &y, pool, -0.5, 7), LF_E_OUT_OF_RANGE);
    ck_assert_lf_status(lf_dataset_split_holdout(NULL, &y, pool, 0.1, 7), LF_E_INVALID_ARG);
    lf_dataset_destroy(tr); lf_dataset_destroy(va); lf_dataset_destroy(tr2); lf_dataset_destroy(va2);
    lf_dataset_destroy(tr3); lf_dataset_destroy(va3);
}
END_TEST

START_TEST(random_and_stratified_forget)
{
    lf_forget_spec s = LF_FORGET_SPEC_INIT;
    s.kind = LF_FORGET_RANDOM;
    s.fraction = 0.1;
    s.seed = 3;
    lf_dataset *r = NULL, *f = NULL, *r2 = NULL, *f2 = NULL;
    ck_assert_lf_ok(lf_dataset_split_forget(&r, &f, pool, &s));
    assert_partition(r, f, 103);
    ck_assert_uint_eq(lf_dataset_size(f), 10);   /* round(10.3) */
    ck_assert_lf_ok(lf_dataset_split_forget(&r2, &f2, pool, &s));
    int64_t *a = parents(f), *b = parents(f2);
    ck_assert_mem_eq(a, b, 10 * sizeof *a);
    free(a); free(b);
    lf_dataset_destroy(r); lf_dataset_destroy(f); lf_dataset_destroy(r2); lf_dataset_destroy(f2);

    s.kind = LF_FORGET_STRATIFIED;
    s.fraction = 0.2;
    ck_assert_lf_ok(lf_dataset_split_forget(&r, &f, pool, &s));
    assert_partition(r, f, 103);
    int counts[4];
    class_counts(f, counts);
    ck_assert_int_eq(counts[0], 5);   /* round(5.2) */
    ck_assert_int_eq(counts[3], 5);   /* round(5.0) */
    lf_dataset_destroy(r); lf_dataset_destroy(f);

    s.fraction = 1.5;
    ck_assert_lf_status(lf_dataset_split_forget(&r, &f, pool, &s), LF_E_OUT_OF_RANGE);
    s.fraction = 0.001;   /* rounds to no sample at all */
    s.kind = LF_FORGET_RANDOM;
    ck_assert_lf_status(lf_dataset_split_forget(&r, &f, pool, &s), LF_E_INVALID_ARG);
    ck_assert_ptr_null(r);
    ck_assert_ptr_null(f);
}
END_TEST

START_TEST(class_and_index_forget)
{
    lf_forget_spec s = LF_FORGET_SPEC_INIT;
    s.kind = LF_FORGET_CLASS;
    s.forget_class = 2;
    lf_dataset *r = NULL, *f = NULL;
    ck_assert_lf_ok(lf_dataset_split_forget(&r, &f, pool, &s));
    assert_partition(r, f, 103);
    int counts[4];
    class_counts(f, counts);
    ck_assert_int_eq(counts[2], 26);
    ck_assert_int_eq(counts[0] + counts[1] + counts[3], 0);
    class_counts(r, counts);
    ck_assert_int_eq(counts[2], 0);
    lf_dataset_destroy(r); lf_dataset_destroy(f);
    s.forget_class = 4;
    ck_assert_lf_status(lf_dataset_split_forget(&r, &f, pool, &s), LF_E_OUT_OF_RANGE);

    int64_t idx[3] = { 100, 0, 50 };
    s.kind = LF_FORGET_INDICES;
    s.indices = idx;
    s.n_indices = 3;
    ck_assert_lf_ok(lf_dataset_split_forget(&r, &f, pool, &s));
    int64_t *p = parents(f);
    ck_assert_int_eq(p[0], 0);
    ck_assert_int_eq(p[1], 50);
    ck_assert_int_eq(p[2], 100);
    free(p);
    lf_dataset_destroy(r); lf_dataset_destroy(f);
    idx[1] = 100;
    ck_assert_lf_status(lf_dataset_split_forget(&r, &f, pool, &s), LF_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "repeat"));
    idx[1] = 103;
    ck_assert_lf_status(lf_dataset_split_forget(&r, &f, pool, &s), LF_E_OUT_OF_RANGE);
    s.kind = 99;
    ck_assert_lf_status(lf_dataset_split_forget(&r, &f, pool, &s), LF_E_INVALID_ARG);
    s.struct_size = 3;
    ck_assert_lf_status(lf_dataset_split_forget(&r, &f, pool, &s), LF_E_ABI);
}
END_TEST

START_TEST(split_of_a_split_and_without_class)
{
    lf_dataset *tr = NULL, *va = NULL, *r = NULL, *f = NULL, *t = NULL;
    ck_assert_lf_ok(lf_dataset_split_holdout(&tr, &va, pool, 0.1, 1));
    lf_forget_spec s = LF_FORGET_SPEC_INIT;
    s.kind = LF_FORGET_RANDOM;
    s.fraction = 0.5;
    s.seed = 1;
    ck_assert_lf_ok(lf_dataset_split_forget(&r, &f, tr, &s));
    assert_partition(r, f, lf_dataset_size(tr));   /* indices are relative to tr */
    /* sample 0 of f is sample p[0] of tr */
    int64_t *p = parents(f);
    float a[4], b[4];
    lf_dataset_get(f, 0, a, NULL);
    lf_dataset_get(tr, (size_t)p[0], b, NULL);
    ck_assert_mem_eq(a, b, sizeof a);
    free(p);
    ck_assert_lf_ok(lf_dataset_without_class(&t, pool, 1));
    int counts[4];
    class_counts(t, counts);
    ck_assert_int_eq(counts[1], 0);
    ck_assert_uint_eq(lf_dataset_size(t), 103 - 26);
    lf_dataset_destroy(t);
    ck_assert_lf_status(lf_dataset_without_class(&t, pool, -1), LF_E_OUT_OF_RANGE);
    ck_assert_ptr_null(t);
    lf_dataset_destroy(tr); lf_dataset_destroy(va); lf_dataset_destroy(r); lf_dataset_destroy(f);
    lf_dataset_destroy(t);
}
END_TEST

static Suite *splits_suite(void)
{
    Suite *s = suite_create("splits");
    TCase *tc = tcase_create("data");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, holdout_is_per_class_and_deterministic);
    tcase_add_test(tc, random_and_stratified_forget);
    tcase_add_test(tc, class_and_index_forget);
    tcase_add_test(tc, split_of_a_split_and_without_class);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(splits_suite)
