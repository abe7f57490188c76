/* lf_context: options, defaults, backends, allocator hook, logging, NULL safety (public API). */
#include "lf_test.h"

START_TEST(defaults_with_null_options)
{
    lf_context *ctx = NULL;
    ck_assert_lf_ok(lf_context_create(&ctx, NULL));
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_ge(lf_context_threads(ctx), 1);
    ck_assert_int_ne(lf_context_backend(ctx), LF_BACKEND_AUTO);
    ck_assert_uint_eq(lf_context_seed(ctx), 0);
    lf_context_destroy(ctx);
    lf_context_destroy(NULL);
}
END_TEST

START_TEST(options_are_honoured)
{
    lf_context_options o = LF_CONTEXT_OPTIONS_INIT;
    o.backend = LF_BACKEND_REFERENCE;
    o.threads = 3;
    o.seed = 42;
    lf_context *ctx = NULL;
    ck_assert_lf_ok(lf_context_create(&ctx, &o));
    ck_assert_int_eq(lf_context_backend(ctx), LF_BACKEND_REFERENCE);
    ck_assert_int_eq(lf_context_threads(ctx), 3);
    ck_assert_uint_eq(lf_context_seed(ctx), 42);
    int x;
    lf_context_set_user_data(ctx, &x);
    ck_assert_ptr_eq(lf_context_get_user_data(ctx), &x);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(options_init_fills_size)
{
    lf_context_options o;
    memset(&o, 0xab, sizeof o);
    ck_assert_lf_ok(lf_context_options_init(&o, sizeof o));
    ck_assert_uint_eq(o.struct_size, sizeof o);
    ck_assert_int_eq(o.backend, 0);
    ck_assert_ptr_null(o.log);
    ck_assert_lf_status(lf_context_options_init(NULL, sizeof o), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_context_options_init(&o, 3), LF_E_INVALID_ARG);
}
END_TEST

START_TEST(bad_options_are_rejected)
{
    lf_context *ctx = (lf_context *)0x1;
    lf_context_options o = LF_CONTEXT_OPTIONS_INIT;
    o.threads = -1;
    ck_assert_lf_status(lf_context_create(&ctx, &o), LF_E_OUT_OF_RANGE);
    ck_assert_ptr_null(ctx);
    o.threads = 0;
    o.backend = 99;
    ck_assert_lf_status(lf_context_create(&ctx, &o), LF_E_INVALID_ARG);
    o.backend = 0;
    o.log_level = 17;
    ck_assert_lf_status(lf_context_create(&ctx, &o), LF_E_OUT_OF_RANGE);
    o.log_level = 0;
    o.struct_size = 2;
    ck_assert_lf_status(lf_context_create(&ctx, &o), LF_E_ABI);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "struct_size"));
}
END_TEST

START_TEST(newer_caller_with_unknown_tail)
{
    /* a caller compiled against a newer header with one more field */
    struct { lf_context_options o; uint64_t newer_field; } big;
    memset(&big, 0, sizeof big);
    big.o.struct_size = sizeof big;
    lf_context *ctx = NULL;
    ck_assert_lf_ok(lf_context_create(&ctx, &big.o));   /* zero tail: fine */
    lf_context_destroy(ctx);
    big.newer_field = 7;
    ck_assert_lf_status(lf_context_create(&ctx, &big.o), LF_E_UNSUPPORTED);
}
END_TEST

START_TEST(cuda_is_reported_unavailable_without_a_device)
{
    /* without a device (or without the CUDA module), asking for it fails cleanly */
    if (lf_backend_is_available(LF_BACKEND_CUDA))
        return;
    lf_context_options o = LF_CONTEXT_OPTIONS_INIT;
    o.backend = LF_BACKEND_CUDA;
    lf_context *ctx = NULL;
    ck_assert_lf_status(lf_context_create(&ctx, &o), LF_E_UNSUPPORTED);
    ck_assert_ptr_null(ctx);
}
END_TEST

START_TEST(backend_names_round_trip)
{
    ck_assert_int_eq(lf_backend_is_available(LF_BACKEND_REFERENCE), 1);
    const lf_backend_kind kinds[] = { LF_BACKEND_AUTO, LF_BACKEND_REFERENCE, LF_BACKEND_CPU, LF_BACKEND_CUDA };
    for (size_t i = 0; i < 4; i++) {
        lf_backend_kind k;
        ck_assert_lf_ok(lf_backend_from_name(lf_backend_name(kinds[i]), &k));
        ck_assert_int_eq(k, kinds[i]);
    }
    lf_backend_kind k;
    ck_assert_lf_status(lf_backend_from_name("gpu9000", &k), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_backend_from_name(NULL, &k), LF_E_INVALID_ARG);
    ck_assert_str_eq(lf_backend_name((lf_backend_kind)77), "unknown");
}
END_TEST

typedef struct { size_t live; size_t calls; } counting_alloc;

static void *count_alloc(void *user, size_t size, size_t alignment)
{
    counting_alloc *a = user;
    a->live++;
    a->calls++;
    return aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
}

static void count_free(void *user, void *ptr, size_t size)
{
    (void)size;
    counting_alloc *a = user;
    a->live--;
    free(ptr);
}

START_TEST(allocator_hook_is_used_and_balanced)
{
    counting_alloc a = { 0, 0 };
    lf_context_options o = LF_CONTEXT_OPTIONS_INIT;
    o.allocator.struct_size = sizeof o.allocator;
    o.allocator.alloc = count_alloc;
    o.allocator.free = count_free;
    o.allocator.user = &a;
    lf_context *ctx = NULL;
    ck_assert_lf_ok(lf_context_create(&ctx, &o));
    float x[4] = { 0.f, 0.5f, 1.f, 0.25f };
    int32_t y[2] = { 0, 1 };
    lf_dataset *ds = NULL;
    ck_assert_lf_ok(lf_dataset_from_memory(&ds, ctx, x, y, 2, 1, 1, 2, 2, 0));
    ck_assert_uint_gt(a.calls, 1);
    lf_dataset_destroy(ds);
    lf_context_destroy(ctx);
    ck_assert_uint_eq(a.live, 0);

    o.allocator.free = NULL;   /* half a hook is a mistake */
    ck_assert_lf_status(lf_context_create(&ctx, &o), LF_E_INVALID_ARG);
}
END_TEST

typedef struct { int count; lf_log_level last; char text[256]; } log_sink;

static void sink(void *user, lf_log_level level, const char *msg)
{
    log_sink *s = user;
    s->count++;
    s->last = level;
    snprintf(s->text, sizeof s->text, "%s", msg);
}

START_TEST(log_callback_and_threshold)
{
    log_sink s = { 0, LF_LOG_DEBUG, "" };
    lf_context_options o = LF_CONTEXT_OPTIONS_INIT;
    o.log = sink;
    o.log_user = &s;
    o.log_level = LF_LOG_INFO;
    lf_context *ctx = NULL;
    ck_assert_lf_ok(lf_context_create(&ctx, &o));
    ck_assert_int_ge(s.count, 1);   /* the creation banner */
    ck_assert_ptr_nonnull(strstr(s.text, "backend"));
    lf_context_destroy(ctx);

    log_sink quiet = { 0, LF_LOG_DEBUG, "" };
    o.log_user = &quiet;
    o.log_level = LF_LOG_ERROR;
    ck_assert_lf_ok(lf_context_create(&ctx, &o));
    ck_assert_int_eq(quiet.count, 0);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(destroy_with_live_children_is_deferred)
{
    log_sink s = { 0, LF_LOG_DEBUG, "" };
    lf_context_options o = LF_CONTEXT_OPTIONS_INIT;
    o.log = sink;
    o.log_user = &s;
    lf_context *ctx = NULL;
    ck_assert_lf_ok(lf_context_create(&ctx, &o));
    float x[2] = { 0.f, 1.f };
    int32_t y[2] = { 0, 1 };
    lf_dataset *ds = NULL;
    ck_assert_lf_ok(lf_dataset_from_memory(&ds, ctx, x, y, 2, 1, 1, 1, 2, 0));
    lf_context_destroy(ctx);              /* logged, not freed */
    ck_assert_int_eq(s.last, LF_LOG_ERROR);
    ck_assert_uint_eq(lf_dataset_size(ds), 2);   /* still usable */
    lf_dataset_destroy(ds);               /* frees the context too (valgrind checks) */
}
END_TEST

static Suite *context_suite(void)
{
    Suite *s = suite_create("context");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, defaults_with_null_options);
    tcase_add_test(tc, options_are_honoured);
    tcase_add_test(tc, options_init_fills_size);
    tcase_add_test(tc, bad_options_are_rejected);
    tcase_add_test(tc, newer_caller_with_unknown_tail);
    tcase_add_test(tc, cuda_is_reported_unavailable_without_a_device);
    tcase_add_test(tc, backend_names_round_trip);
    tcase_add_test(tc, allocator_hook_is_used_and_balanced);
    tcase_add_test(tc, log_callback_and_threshold);
    tcase_add_test(tc, destroy_with_live_children_is_deferred);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(context_suite)
