/* The CUDA module's loading, tested without a GPU (a GPU run tests the ops: test_device_ops).
 * argv[1] names the case, each in its own process since the module is looked for once:
 *   fake-driver  LD_LIBRARY_PATH holds fake_driver/libcuda.so.1 (one "device"): the module is
 *                found through $LF_CUDA_MODULE, its table is complete and of this library's
 *                interface version, and its probe says no (the CUDA runtime finds no real
 *                driver), so a CUDA context is refused with a message instead of a crash;
 *   off          LF_CUDA_MODULE=none: not even looked for, and the reason says so;
 *   no-driver    no libcuda.so.1: the module is never loaded (so programs on machines without
 *                a GPU never load the CUDA libraries).
 * Skips (77) when the library was built without the CUDA module. */
#include <dlfcn.h>

#include "lf_config.h"
#include "lf_test.h"
#include "core/internal.h"

static const char *which_case;

static void assert_context_refused(const char *why)
{
    lf_context_options o = LF_CONTEXT_OPTIONS_INIT;
    o.backend = LF_BACKEND_CUDA;
    lf_context *ctx = (lf_context *)&o;   /* must be reset to NULL */
    ck_assert_lf_status(lf_context_create(&ctx, &o), LF_E_UNSUPPORTED);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(lf_last_error_message(), why), "message '%s' lacks '%s'",
                  lf_last_error_message(), why);
    ck_assert_int_eq(lf_backend_is_available(LF_BACKEND_CUDA), 0);
}

START_TEST(module_loads_and_refuses_without_a_device)
{
    const lf__backend_iface *b = lf__backend_find(LF_BACKEND_CUDA);
    ck_assert_msg(b, "module not loaded: %s", lf__backend_cuda_unavailable());
    ck_assert_uint_eq(b->iface_version, LF__BACKEND_IFACE_VERSION);
    ck_assert_str_eq(b->name, "cuda");
    ck_assert_int_eq(b->kind, LF_BACKEND_CUDA);
    /* every entry from probe to the end of version 4 is set: a NULL would be LF_E_UNSUPPORTED
     * at run time on the GPU, found only there. Version 6's inference fusions are optional
     * (core composes the ops where an entry is NULL). */
    const char *first = (const char *)&b->probe;
    const char *end = (const char *)b + offsetof(lf__backend_iface, batchnorm_relu_maxpool_fwd_eval);
    size_t slots = 0;
    for (const char *p = first; p + sizeof(void (*)(void)) <= end; p += sizeof(void (*)(void))) {
        void (*fn)(void);
        memcpy(&fn, p, sizeof fn);
        ck_assert_msg(fn != NULL, "table entry %zu (from probe) is NULL", slots);
        slots++;
    }
    ck_assert_uint_eq(slots, 50);   /* probe, create, destroy + 47 operations (backend.h v4) */
    ck_assert_int_eq(b->probe(), 0);
    assert_context_refused("not usable on this machine");
    /* the same table every time, from any call */
    ck_assert_ptr_eq(lf__backend_find(LF_BACKEND_CUDA), b);
}
END_TEST

START_TEST(turned_off)
{
    ck_assert_ptr_null(lf__backend_find(LF_BACKEND_CUDA));
    ck_assert_ptr_nonnull(strstr(lf__backend_cuda_unavailable(), "LF_CUDA_MODULE=none"));
    assert_context_refused("LF_CUDA_MODULE=none");
}
END_TEST

START_TEST(no_driver_no_module)
{
    ck_assert_ptr_null(lf__backend_find(LF_BACKEND_CUDA));
    ck_assert_ptr_nonnull(strstr(lf__backend_cuda_unavailable(), "no NVIDIA driver"));
    assert_context_refused("no NVIDIA driver");
    /* the module and the CUDA libraries were not loaded */
    ck_assert_ptr_null(dlopen(LF__CUDA_MODULE_FILE, RTLD_NOW | RTLD_NOLOAD));
    ck_assert_ptr_null(dlopen("libcudart.so.13", RTLD_NOW | RTLD_NOLOAD));
}
END_TEST

int main(int argc, char **argv)
{
    if (!LF_HAVE_CUDA) {
        printf("1..0 # SKIP built without the CUDA module\n");
        return 77;
    }
    which_case = argc > 1 ? argv[1] : "";
    Suite *s = suite_create("cuda_module");
    TCase *tc = tcase_create(which_case);
    if (strcmp(which_case, "fake-driver") == 0)
        tcase_add_test(tc, module_loads_and_refuses_without_a_device);
    else if (strcmp(which_case, "off") == 0)
        tcase_add_test(tc, turned_off);
    else if (strcmp(which_case, "no-driver") == 0) {
        void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
        if (driver) {   /* a machine with a GPU: this case cannot be arranged */
            dlclose(driver);
            printf("1..0 # SKIP an NVIDIA driver is installed\n");
            return 77;
        }
        tcase_add_test(tc, no_driver_no_module);
    }
    else {
        fprintf(stderr, "usage: test_cuda_module fake-driver|off|no-driver\n");
        return 2;
    }
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);   /* the module is looked for once per process */
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
