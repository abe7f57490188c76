/* Status table, strings, per-thread detail and version functions (public API only). */
#include <pthread.h>

#include "lf_test.h"

static const lf_status all_statuses[] = {
#define XX(name, value, msg) LF_##name,
    LF_STATUS_MAP(XX)
#undef XX
};

START_TEST(every_status_has_a_name_and_message)
{
    for (size_t i = 0; i < sizeof all_statuses / sizeof all_statuses[0]; i++) {
        lf_status s = all_statuses[i];
        ck_assert_ptr_nonnull(lf_strerror(s));
        ck_assert_str_ne(lf_strerror(s), "unknown status");
        ck_assert_str_ne(lf_status_name(s), "LF_E_UNKNOWN_STATUS");
        ck_assert_msg(strncmp(lf_status_name(s), "LF_", 3) == 0, "%s", lf_status_name(s));
    }
    ck_assert_str_eq(lf_status_name(LF_OK), "LF_OK");
    ck_assert_str_eq(lf_status_name(LF_E_FORMAT), "LF_E_FORMAT");
    ck_assert_str_eq(lf_strerror(LF_E_NOMEM), "out of memory");
}
END_TEST

START_TEST(status_values_are_fixed)
{
    /* ABI: these numbers must never change */
    ck_assert_int_eq(LF_OK, 0);
    ck_assert_int_eq(LF_E_INVALID_ARG, -1);
    ck_assert_int_eq(LF_E_NOMEM, -2);
    ck_assert_int_eq(LF_E_IO, -3);
    ck_assert_int_eq(LF_E_FORMAT, -4);
    ck_assert_int_eq(LF_E_UNSUPPORTED, -5);
    ck_assert_int_eq(LF_E_BACKEND, -6);
    ck_assert_int_eq(LF_E_UNKNOWN_METHOD, -7);
    ck_assert_int_eq(LF_E_UNKNOWN_PARAM, -8);
    ck_assert_int_eq(LF_E_OUT_OF_RANGE, -9);
    ck_assert_int_eq(LF_E_STATE, -10);
    ck_assert_int_eq(LF_E_ABORTED, -11);
    ck_assert_int_eq(LF_E_ABI, -12);
    ck_assert_int_eq(LF_E_NUMERIC, -13);
    ck_assert_int_eq(LF_E_SHAPE, -14);
    ck_assert_int_eq(LF_E_UNKNOWN_ARCH, -15);
}
END_TEST

START_TEST(unknown_status_is_named_as_such)
{
    ck_assert_str_eq(lf_status_name((lf_status)-9999), "LF_E_UNKNOWN_STATUS");
    ck_assert_str_eq(lf_strerror((lf_status)12345), "unknown status");
}
END_TEST

START_TEST(detail_message_names_the_argument)
{
    ck_assert_lf_status(lf_context_create(NULL, NULL), LF_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "out"));
}
END_TEST

static void *fail_in_thread(void *arg)
{
    (void)arg;
    lf_backend_kind k;
    lf_backend_from_name("no-such-backend", &k);
    return (void *)lf_last_error_message();
}

START_TEST(detail_message_is_per_thread)
{
    ck_assert_lf_status(lf_context_create(NULL, NULL), LF_E_INVALID_ARG);
    char mine[256];
    snprintf(mine, sizeof mine, "%s", lf_last_error_message());
    pthread_t t;
    void *theirs_ptr;
    ck_assert_int_eq(pthread_create(&t, NULL, fail_in_thread, NULL), 0);
    ck_assert_int_eq(pthread_join(t, &theirs_ptr), 0);
    /* the other thread's failure did not overwrite this thread's message */
    ck_assert_str_eq(lf_last_error_message(), mine);
    ck_assert_ptr_ne(theirs_ptr, (void *)lf_last_error_message());
}
END_TEST

START_TEST(version_matches_headers)
{
    ck_assert_uint_eq(lf_version_number(), LF_VERSION_NUMBER);
    ck_assert_str_eq(lf_version_string(), LF_VERSION_STRING);
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", LF_VERSION_MAJOR, LF_VERSION_MINOR, LF_VERSION_PATCH);
    ck_assert_str_eq(lf_version_string(), expect);
}
END_TEST

static Suite *errors_suite(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, every_status_has_a_name_and_message);
    tcase_add_test(tc, status_values_are_fixed);
    tcase_add_test(tc, unknown_status_is_named_as_such);
    tcase_add_test(tc, detail_message_names_the_argument);
    tcase_add_test(tc, detail_message_is_per_thread);
    tcase_add_test(tc, version_matches_headers);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(errors_suite)
