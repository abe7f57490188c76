/* Philox RNG: published known-answer vectors, determinism, distribution sanity (white-box). */
#include "lf_test.h"
#include "core/rng.h"

START_TEST(philox_known_answers)
{
    /* Random123 kat_vectors, philox4x32_10: counter = 0, key = 0 and counter = all ones,
     * key = all ones. Our (block, stream) map to counter words (c0,c1) and (c2,c3). */
    uint32_t out[4];
    lf__philox4x32(out, 0, 0, 0);
    ck_assert_uint_eq(out[0], 0x6627e8d5u);
    ck_assert_uint_eq(out[1], 0xe169c58du);
    ck_assert_uint_eq(out[2], 0xbc57ac4cu);
    ck_assert_uint_eq(out[3], 0x9b00dbd8u);
    lf__philox4x32(out, UINT64_MAX, UINT64_MAX, UINT64_MAX);
    ck_assert_uint_eq(out[0], 0x408f276du);
    ck_assert_uint_eq(out[1], 0x41c83b0eu);
    ck_assert_uint_eq(out[2], 0xa20bc7c6u);
    ck_assert_uint_eq(out[3], 0x6d5451fdu);
}
END_TEST

START_TEST(sequential_matches_indexed)
{
    lf__rng r;
    lf__rng_init(&r, 99, LF__STREAM_NOISE);
    for (uint64_t i = 0; i < 64; i++) {
        uint32_t w[4];
        lf__philox4x32(w, 99, LF__STREAM_NOISE, i / 4);
        ck_assert_uint_eq(lf__rng_u32(&r), w[i % 4]);
    }
}
END_TEST

START_TEST(same_seed_same_stream_different_seed_differs)
{
    lf__rng a, b, c;
    lf__rng_init(&a, 5, LF__STREAM_SHUFFLE);
    lf__rng_init(&b, 5, LF__STREAM_SHUFFLE);
    lf__rng_init(&c, 6, LF__STREAM_SHUFFLE);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = lf__rng_u64(&a);
        ck_assert_uint_eq(x, lf__rng_u64(&b));
        differ += x != lf__rng_u64(&c);
    }
    ck_assert_int_ge(differ, 99);
    /* streams of one seed are independent too */
    ck_assert(lf__rng_uniform_at(5, LF__STREAM_INIT, 0) != lf__rng_uniform_at(5, LF__STREAM_NOISE, 0));
}
END_TEST

START_TEST(uniform_and_normal_moments)
{
    const int n = 200000;
    double su = 0, su2 = 0, sn = 0, sn2 = 0;
    float lo = 1, hi = 0;
    for (int i = 0; i < n; i++) {
        float u = lf__rng_uniform_at(7, LF__STREAM_NOISE, (uint64_t)i);
        float z = lf__rng_normal_at(7, LF__STREAM_NOISE, (uint64_t)i);
        ck_assert(u >= 0.f && u < 1.f);
        ck_assert(isfinite(z));
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
        su += u; su2 += (double)u * u; sn += z; sn2 += (double)z * z;
    }
    double mu = su / n, vu = su2 / n - mu * mu, mn = sn / n, vn = sn2 / n - mn * mn;
    /* 5-sigma bounds for n = 2e5 */
    ck_assert_msg(fabs(mu - 0.5) < 5 * sqrt(1.0 / 12 / n), "uniform mean %g", mu);
    ck_assert_msg(fabs(vu - 1.0 / 12) < 0.002, "uniform var %g", vu);
    ck_assert_msg(fabs(mn) < 5 / sqrt(n), "normal mean %g", mn);
    ck_assert_msg(fabs(vn - 1) < 0.02, "normal var %g", vn);
    ck_assert(lo < 1e-4 && hi > 1 - 1e-4);
}
END_TEST

START_TEST(below_is_unbiased_and_in_range)
{
    lf__rng r;
    lf__rng_init(&r, 3, LF__STREAM_SPLIT);
    int counts[7] = { 0 };
    for (int i = 0; i < 70000; i++) {
        uint64_t v = lf__rng_below(&r, 7);
        ck_assert_uint_lt(v, 7);
        counts[v]++;
    }
    for (int k = 0; k < 7; k++)
        ck_assert_msg(abs(counts[k] - 10000) < 500, "bucket %d: %d", k, counts[k]);
    ck_assert_uint_eq(lf__rng_below(&r, 1), 0);
}
END_TEST

START_TEST(shuffle_is_a_deterministic_permutation)
{
    int64_t a[100], b[100];
    for (int i = 0; i < 100; i++)
        a[i] = b[i] = i;
    lf__rng r1, r2;
    lf__rng_init(&r1, 11, LF__STREAM_SHUFFLE);
    lf__rng_init(&r2, 11, LF__STREAM_SHUFFLE);
    lf__rng_shuffle_i64(&r1, a, 100);
    lf__rng_shuffle_i64(&r2, b, 100);
    int seen[100] = { 0 }, moved = 0;
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(a[i], b[i]);
        seen[a[i]]++;
        moved += a[i] != i;
    }
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(seen[i], 1);
    ck_assert_int_gt(moved, 80);
}
END_TEST

static Suite *rng_suite(void)
{
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, philox_known_answers);
    tcase_add_test(tc, sequential_matches_indexed);
    tcase_add_test(tc, same_seed_same_stream_different_seed_differs);
    tcase_add_test(tc, uniform_and_normal_moments);
    tcase_add_test(tc, below_is_unbiased_and_in_range);
    tcase_add_test(tc, shuffle_is_a_deterministic_permutation);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(rng_suite)
