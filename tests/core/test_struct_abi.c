/* lf__copy_struct_in / _out: older, newer and garbage struct sizes (white-box). */
#include "lf_test.h"
#include "core/internal.h"

typedef struct v1 { uint32_t struct_size; int32_t a; double b; } v1;            /* 16 bytes */
typedef struct v2 { uint32_t struct_size; int32_t a; double b; int64_t c; } v2; /* 24 bytes */

START_TEST(null_source_gives_defaults)
{
    v2 dst;
    memset(&dst, 0x5a, sizeof dst);
    ck_assert_lf_ok(lf__copy_struct_in(&dst, sizeof dst, NULL, sizeof(v1), "v2"));
    ck_assert_uint_eq(dst.struct_size, sizeof dst);
    ck_assert_int_eq(dst.a, 0);
    ck_assert(dst.b == 0.0);
    ck_assert_int_eq(dst.c, 0);
}
END_TEST

START_TEST(older_caller_leaves_new_fields_zero)
{
    v1 old = { sizeof(v1), 7, 2.5 };
    v2 dst;
    memset(&dst, 0x5a, sizeof dst);
    ck_assert_lf_ok(lf__copy_struct_in(&dst, sizeof dst, &old, sizeof(v1), "v2"));
    ck_assert_int_eq(dst.a, 7);
    ck_assert(dst.b == 2.5);
    ck_assert_int_eq(dst.c, 0);
    ck_assert_uint_eq(dst.struct_size, sizeof(v2));
}
END_TEST

START_TEST(newer_caller_with_zero_tail_is_accepted)
{
    v2 newer = { sizeof(v2), 3, 1.5, 0 };
    v1 dst;
    ck_assert_lf_ok(lf__copy_struct_in(&dst, sizeof dst, &newer, sizeof(v1), "v1"));
    ck_assert_int_eq(dst.a, 3);
    ck_assert(dst.b == 1.5);
}
END_TEST

START_TEST(newer_caller_with_set_tail_is_refused)
{
    v2 newer = { sizeof(v2), 3, 1.5, 9 };
    v1 dst;
    ck_assert_lf_status(lf__copy_struct_in(&dst, sizeof dst, &newer, sizeof(v1), "v1"), LF_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "v1"));
}
END_TEST

START_TEST(too_small_or_misaligned_size_is_abi_error)
{
    v2 src = { 4, 1, 1.0, 0 };
    v2 dst;
    ck_assert_lf_status(lf__copy_struct_in(&dst, sizeof dst, &src, sizeof(v1), "v2"), LF_E_ABI);
    src.struct_size = 0;
    ck_assert_lf_status(lf__copy_struct_in(&dst, sizeof dst, &src, sizeof(v1), "v2"), LF_E_ABI);
    src.struct_size = 17;
    ck_assert_lf_status(lf__copy_struct_in(&dst, sizeof dst, &src, sizeof(v1), "v2"), LF_E_ABI);
}
END_TEST

START_TEST(copy_out_respects_the_callers_size)
{
    v2 own = { sizeof(v2), 11, 4.0, 99 };
    struct { v1 r; int64_t guard; } caller;
    caller.r.struct_size = sizeof(v1);
    caller.guard = -1;
    ck_assert_lf_ok(lf__copy_struct_out(&caller.r, &own, sizeof own, "v2"));
    ck_assert_uint_eq(caller.r.struct_size, sizeof(v1));   /* kept */
    ck_assert_int_eq(caller.r.a, 11);
    ck_assert(caller.r.b == 4.0);
    ck_assert_int_eq(caller.guard, -1);                     /* nothing past its size */

    v2 big = { sizeof(v2), 0, 0.0, 0 };
    v1 small_own = { sizeof(v1), 5, 6.0 };
    ck_assert_lf_ok(lf__copy_struct_out(&big, &small_own, sizeof small_own, "v1"));
    ck_assert_int_eq(big.a, 5);
    ck_assert_int_eq(big.c, 0);

    v1 bad = { 2, 0, 0.0 };
    ck_assert_lf_status(lf__copy_struct_out(&bad, &own, sizeof own, "v2"), LF_E_ABI);
}
END_TEST

static Suite *struct_abi_suite(void)
{
    Suite *s = suite_create("struct_abi");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, null_source_gives_defaults);
    tcase_add_test(tc, older_caller_leaves_new_fields_zero);
    tcase_add_test(tc, newer_caller_with_zero_tail_is_accepted);
    tcase_add_test(tc, newer_caller_with_set_tail_is_refused);
    tcase_add_test(tc, too_small_or_misaligned_size_is_abi_error);
    tcase_add_test(tc, copy_out_respects_the_callers_size);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(struct_abi_suite)
