/* Helpers shared by the Check test programs. Header-only; each test program includes it once. */
#ifndef LF_TEST_H
#define LF_TEST_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libforget/libforget.h"

/* Runs one suite with TAP on stdout (meson: protocol 'tap'); the process's exit status. */
static inline int lf_test_run(Suite *suite)
{
    SRunner *sr = srunner_create(suite);
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* main() running one suite. */
#define LF_TEST_MAIN(suite_fn)                                 \
    int main(void)                                             \
    {                                                          \
        return lf_test_run(suite_fn());                        \
    }

/* Asserts a call returned LF_OK, printing the detail message otherwise. */
#define ck_assert_lf_ok(expr)                                                              \
    do {                                                                                   \
        lf_status st__ = (expr);                                                           \
        ck_assert_msg(st__ == LF_OK, "%s -> %s: %s", #expr, lf_status_name(st__),          \
                      lf_last_error_message());                                            \
    } while (0)

/* Asserts a call returned `want` and left a non-empty detail message. */
#define ck_assert_lf_status(expr, want)                                                    \
    do {                                                                                   \
        lf_status st__ = (expr);                                                           \
        ck_assert_msg(st__ == (want), "%s -> %s (wanted %s): %s", #expr,                   \
                      lf_status_name(st__), lf_status_name(want), lf_last_error_message()); \
        ck_assert_msg(lf_last_error_message()[0] != '\0', "%s: empty detail message", #expr); \
    } while (0)

/* A fresh temporary folder per call (removed by the OS's tmp cleaning; tests stay small). */
static inline const char *lf_test_tmpdir(void)
{
    static char dir[256];
    snprintf(dir, sizeof dir, "%s/lftest.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

static inline void lf_test_write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
}

/* A context on backend with `threads` worker threads and seed 1234. */
static inline lf_context *lf_test_context_threads(lf_backend_kind backend, int32_t threads)
{
    lf_context_options o = LF_CONTEXT_OPTIONS_INIT;
    o.backend = backend;
    o.threads = threads;
    o.seed = 1234;
    lf_context *ctx = NULL;
    ck_assert_lf_ok(lf_context_create(&ctx, &o));
    return ctx;
}

static inline lf_context *lf_test_context(lf_backend_kind backend)
{
    return lf_test_context_threads(backend, 1);
}

/* The backend a cross-backend test program runs on, from argv[1] ("reference", "cpu" or
 * "cuda"): 0 with *kind set; 99 (usage) for a missing or unknown name; 77 (skipped, with a
 * TAP plan saying so) when that backend is not built or has no device here. */
static inline int lf_test_backend_arg(int argc, char **argv, lf_backend_kind *kind)
{
    const char *name = argc > 1 ? argv[1] : "";
    if (lf_backend_from_name(name, kind) != LF_OK || *kind == LF_BACKEND_AUTO) {
        fprintf(stderr, "usage: %s BACKEND (reference, cpu or cuda)\n", argv[0]);
        return 99;
    }
    if (!lf_backend_is_available(*kind)) {
        printf("1..0 # SKIP %s backend not available\n", name);
        return 77;
    }
    return 0;
}

/* A deterministic uniform in [0, 1) from a local LCG, so fixtures do not depend on the
 * library's RNG. */
static inline double lf_test_u01(unsigned long long *state)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*state >> 11) / 9007199254740992.0;
}

/* A small separable synthetic problem: `classes` Gaussian-ish blobs in c×h×w pixel space (values
 * clamped to [0,1]), deterministic for seed; labels cycle 0, 1, ..., classes-1. */
static inline lf_dataset *lf_test_blobs(lf_context *ctx, size_t n, int32_t classes, int32_t c,
                                        int32_t h, int32_t w, unsigned seed)
{
    size_t d = (size_t)c * h * w;
    float *x = malloc(n * d * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    float *centres = malloc((size_t)classes * d * sizeof *centres);
    unsigned long long s = seed * 6364136223846793005ull + 1442695040888963407ull;
    for (size_t i = 0; i < (size_t)classes * d; i++)
        centres[i] = (float)(0.2 + 0.6 * lf_test_u01(&s));
    for (size_t i = 0; i < n; i++) {
        y[i] = (int32_t)(i % (size_t)classes);
        for (size_t j = 0; j < d; j++) {
            double u1 = lf_test_u01(&s), u2 = lf_test_u01(&s), u3 = lf_test_u01(&s);
            double v = centres[(size_t)y[i] * d + j] + 0.08 * (u1 + u2 + u3 - 1.5);
            x[i * d + j] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
        }
    }
    lf_dataset *ds = NULL;
    ck_assert_lf_ok(lf_dataset_from_memory(&ds, ctx, x, y, n, c, h, w, classes, 0));
    free(x);
    free(y);
    free(centres);
    return ds;
}

/* Uniform pixels (1×side×side) with uniform labels in [0, classes): nothing to generalise,
 * everything to memorise, so members and unseen samples differ sharply (the unlearning tests'
 * memorisation problem). Deterministic for seed. */
static inline lf_dataset *lf_test_random_labels(lf_context *ctx, size_t n, int32_t classes,
                                                int32_t side, unsigned long long seed)
{
    size_t d = (size_t)side * (size_t)side;
    float *x = malloc(n * d * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    unsigned long long s = seed;
    for (size_t i = 0; i < n * d; i++)
        x[i] = (float)lf_test_u01(&s);
    for (size_t i = 0; i < n; i++)
        y[i] = (int32_t)(lf_test_u01(&s) * classes) % classes;
    lf_dataset *ds = NULL;
    ck_assert_lf_ok(lf_dataset_from_memory(&ds, ctx, x, y, n, 1, side, side, classes, 0));
    free(x);
    free(y);
    return ds;
}

/* A model of arch trained on ds the way the method tests start: batch 32, lr 0.05, `schedule`
 * (an lf_lr_schedule). */
static inline lf_model *lf_test_trained(lf_context *ctx, const char *arch, const lf_dataset *ds,
                                        int epochs, int32_t schedule)
{
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    ck_assert_lf_ok(lf_model_config_from_dataset(&cfg, ds));
    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_create(&m, ctx, arch, &cfg));
    lf_train_options t = LF_TRAIN_OPTIONS_INIT;
    t.epochs = epochs;
    t.batch_size = 32;
    t.lr = 0.05;
    t.schedule = schedule;
    ck_assert_lf_ok(lf_model_train(m, ds, &t, NULL));
    return m;
}

/* Forget specs of the method tests: a uniform fraction (split seed 7), or one class. */
static inline lf_forget_spec lf_test_random_spec(double fraction)
{
    lf_forget_spec s = LF_FORGET_SPEC_INIT;
    s.kind = LF_FORGET_RANDOM;
    s.fraction = fraction;
    s.seed = 7;
    return s;
}

static inline lf_forget_spec lf_test_class_spec(int32_t c)
{
    lf_forget_spec s = LF_FORGET_SPEC_INIT;
    s.kind = LF_FORGET_CLASS;
    s.forget_class = c;
    return s;
}

/* The value of a method-specific figure of an unlearn result; fails the test when absent. */
static inline double lf_test_figure(const lf_unlearn_result *r, const char *name)
{
    for (int32_t i = 0; i < r->n_figures; i++)
        if (strcmp(r->figures[i].name, name) == 0)
            return r->figures[i].value;
    ck_abort_msg("no figure %s", name);
    return NAN;
}

/* A malloc'd copy of m's parameters (the caller frees it). */
static inline float *lf_test_params(const lf_model *m)
{
    size_t n = lf_model_num_params(m);
    float *p = malloc(n * sizeof *p);
    ck_assert_ptr_nonnull(p);
    ck_assert_lf_ok(lf_model_get_params(m, p, n));
    return p;
}

/* m's accuracy on ds in [0, 1]; fails the test on an error. */
static inline double lf_test_accuracy(lf_model *m, const lf_dataset *ds)
{
    double a = 0;
    ck_assert_lf_ok(lf_model_accuracy(m, ds, &a));
    return a;
}

#endif
