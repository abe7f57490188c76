/* Concurrency (issue 9, item 5): one context per thread, several threads at once.
 *
 * Each job trains a tiny MLP on synthetic data, unlearns with FT and FF, evaluates (accuracy,
 * MIA SVM, attacks), saves and reloads, all in its own context; the parameter hashes of a parallel run must equal those of a
 * sequential run bit for bit. A variant shares ONE read-only data set (made in a context of its
 * own) between all jobs, so its views and splits are made from several threads at once. The
 * detail message of lf_last_error_message is per thread. Run under ThreadSanitizer in the
 * build-h3-tsan configuration (see tests/hardening/meson.build). Workers never call Check's
 * asserts (they are not thread-safe): they record the first failure and the main thread
 * asserts on it. */
#include <pthread.h>
#include <sys/stat.h>

#include "lf_test.h"

enum { JOBS = 4, CLASSES = 3, SIDE = 5, N = 60 };

typedef struct job {
    int              id;
    lf_backend_kind  backend;
    const lf_dataset *shared;   /* NULL: the job makes its own data set */
    const char      *dir;
    /* results */
    uint64_t         trained, ft, ff, reloaded;
    double           accuracy, mia, attack;
    char             failure[512];
} job;

static uint64_t fnv1a(const void *data, size_t n, uint64_t h)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static uint64_t params_hash(const lf_model *m)
{
    size_t n = lf_model_num_params(m);
    float *p = malloc(n * sizeof *p);
    uint64_t h = 0;
    if (p && lf_model_get_params(m, p, n) == LF_OK)
        h = fnv1a(p, n * sizeof *p, 14695981039346656037ull);
    free(p);
    return h;
}

/* The synthetic blobs of lf_test.h, without its Check asserts (callable from any thread). */
static lf_status make_blobs(lf_dataset **out, lf_context *ctx, unsigned seed)
{
    size_t d = (size_t)SIDE * SIDE;
    float *x = malloc(N * d * sizeof *x);
    int32_t *y = malloc(N * sizeof *y);
    unsigned long long s = seed * 6364136223846793005ull + 1;
    for (size_t i = 0; i < N; i++) {
        y[i] = (int32_t)(i % CLASSES);
        for (size_t j = 0; j < d; j++)
            x[i * d + j] = (float)(0.25 * (y[i] + 1) * ((j % 3) + 1) / 3.0 + 0.1 * lf_test_u01(&s));
    }
    lf_status st = lf_dataset_from_memory(out, ctx, x, y, N, 1, SIDE, SIDE, CLASSES, 0);
    free(x);
    free(y);
    return st;
}

#define JOB_TRY(j, expr)                                                                    \
    do {                                                                                    \
        lf_status st__ = (expr);                                                            \
        if (st__ != LF_OK && !(j)->failure[0])                                              \
            snprintf((j)->failure, sizeof (j)->failure, "job %d: %s -> %s: %s", (j)->id,    \
                     #expr, lf_status_name(st__), lf_last_error_message());                 \
        if (st__ != LF_OK)                                                                  \
            goto done;                                                                      \
    } while (0)

static lf_status unlearn(lf_context *ctx, const char *method, const lf_dataset *train,
                         const lf_model *m, uint64_t *hash)
{
    lf_request *req = NULL;
    lf_model *out = NULL;
    lf_forget_spec spec = LF_FORGET_SPEC_INIT;
    spec.kind = LF_FORGET_RANDOM;
    spec.fraction = 0.2;
    spec.seed = 11;
    lf_status st = lf_request_create(&req, ctx, method);
    if (st == LF_OK)
        st = lf_request_set_train(req, train);
    if (st == LF_OK)
        st = lf_request_set_forget(req, &spec);
    if (st == LF_OK && strcmp(method, "ft") == 0)
        st = lf_request_set_param(req, "epochs", "1");
    if (st == LF_OK && strcmp(method, "ft") == 0)
        st = lf_request_set_param(req, "batch", "16");
    if (st == LF_OK)
        st = lf_unlearn(req, m, &out, NULL);
    if (st == LF_OK)
        *hash = params_hash(out);
    lf_model_destroy(out);
    lf_request_destroy(req);
    return st;
}

static void *run_job(void *arg)
{
    job *j = arg;
    lf_context *ctx = NULL;
    lf_dataset *own = NULL, *retain = NULL, *val = NULL;
    lf_model *m = NULL, *back = NULL;
    lf_context_options o = LF_CONTEXT_OPTIONS_INIT;
    o.backend = j->backend;
    o.threads = 1;
    o.seed = 100 + (uint64_t)j->id;
    JOB_TRY(j, lf_context_create(&ctx, &o));
    if (!j->shared)
        JOB_TRY(j, make_blobs(&own, ctx, 5 + (unsigned)j->id));
    const lf_dataset *ds = j->shared ? j->shared : own;
    /* views of a possibly shared set, made while other threads make theirs */
    JOB_TRY(j, lf_dataset_split_holdout(&retain, &val, ds, 0.2, 3));

    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    JOB_TRY(j, lf_model_config_from_dataset(&cfg, ds));
    cfg.seed = 7 + (uint64_t)j->id;
    JOB_TRY(j, lf_model_create(&m, ctx, "mlp", &cfg));
    lf_train_options t = LF_TRAIN_OPTIONS_INIT;
    t.epochs = 1;
    t.batch_size = 16;
    JOB_TRY(j, lf_model_train(m, retain, &t, NULL));
    j->trained = params_hash(m);
    JOB_TRY(j, lf_model_accuracy(m, val, &j->accuracy));
    /* evaluation with the MIA SVM (libsvm has process-wide state) and the attacks */
    lf_metrics metrics = LF_METRICS_INIT;
    JOB_TRY(j, lf_evaluate(m, val, retain, val, NULL, &metrics));
    j->mia = metrics.mia_efficacy;
    j->attack = metrics.attack_accuracy[LF_ATTACK_ENTROPY];
    JOB_TRY(j, unlearn(ctx, "ft", ds, m, &j->ft));
    JOB_TRY(j, unlearn(ctx, "ff", ds, m, &j->ff));

    char path[512];
    snprintf(path, sizeof path, "%s/job%d.safetensors", j->dir, j->id);
    JOB_TRY(j, lf_model_save(m, path));
    JOB_TRY(j, lf_model_load(&back, ctx, path, NULL));
    j->reloaded = params_hash(back);
done:
    lf_model_destroy(back);
    lf_model_destroy(m);
    lf_dataset_destroy(val);
    lf_dataset_destroy(retain);
    lf_dataset_destroy(own);
    lf_context_destroy(ctx);
    return NULL;
}

static void run_all(job *jobs, int parallel)
{
    pthread_t th[JOBS];
    for (int i = 0; i < JOBS; i++) {
        if (parallel)
            ck_assert_int_eq(pthread_create(&th[i], NULL, run_job, &jobs[i]), 0);
        else
            run_job(&jobs[i]);
    }
    for (int i = 0; parallel && i < JOBS; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < JOBS; i++)
        ck_assert_msg(jobs[i].failure[0] == '\0', "%s", jobs[i].failure);
}

static void init_jobs(job *jobs, lf_backend_kind backend, const lf_dataset *shared, const char *dir)
{
    for (int i = 0; i < JOBS; i++)
        jobs[i] = (job){ .id = i, .backend = backend, .shared = shared, .dir = dir };
}

/* Parallel runs reproduce the sequential ones bit for bit; every job differs from the others
 * (different seeds), so a result leaking between threads would show. */
static void check_parallel_equals_sequential(lf_backend_kind backend, int share)
{
    lf_context *data_ctx = NULL;
    lf_dataset *shared = NULL;
    if (share) {
        data_ctx = lf_test_context(LF_BACKEND_REFERENCE);
        ck_assert_lf_ok(make_blobs(&shared, data_ctx, 5));
    }
    const char *dir = lf_test_tmpdir();
    job seq[JOBS], par[JOBS];
    init_jobs(seq, backend, shared, dir);
    init_jobs(par, backend, shared, dir);
    run_all(seq, 0);
    run_all(par, 1);
    for (int i = 0; i < JOBS; i++) {
        ck_assert_uint_ne(seq[i].trained, 0);
        ck_assert_uint_eq(par[i].trained, seq[i].trained);
        ck_assert_uint_eq(par[i].ft, seq[i].ft);
        ck_assert_uint_eq(par[i].ff, seq[i].ff);
        ck_assert_uint_eq(par[i].reloaded, seq[i].trained);
        ck_assert(par[i].accuracy == seq[i].accuracy);
        ck_assert(par[i].mia == seq[i].mia && !isnan(seq[i].mia));
        ck_assert(par[i].attack == seq[i].attack && !isnan(seq[i].attack));
        ck_assert_uint_ne(seq[i].ft, seq[i].trained);
        if (i > 0)
            ck_assert_uint_ne(seq[i].trained, seq[0].trained);
    }
    /* the saves ran at once: each file got the usual permissions (the umask was not disturbed) */
    mode_t mask = umask(022);
    umask(mask);
    for (int i = 0; i < JOBS; i++) {
        char path[512];
        struct stat sb;
        snprintf(path, sizeof path, "%s/job%d.safetensors", dir, i);
        ck_assert_int_eq(stat(path, &sb), 0);
        ck_assert_uint_eq(sb.st_mode & 0777, 0666 & ~mask);
        unlink(path);
    }
    rmdir(dir);
    /* the shared set is still whole and usable after every thread's views are gone */
    if (share) {
        ck_assert_uint_eq(lf_dataset_size(shared), N);
        lf_dataset_destroy(shared);
        lf_context_destroy(data_ctx);
    }
}

START_TEST(own_data_reference)
{
    check_parallel_equals_sequential(LF_BACKEND_REFERENCE, 0);
}
END_TEST

START_TEST(shared_data_reference)
{
    check_parallel_equals_sequential(LF_BACKEND_REFERENCE, 1);
}
END_TEST

START_TEST(shared_data_cpu)
{
    if (!lf_backend_is_available(LF_BACKEND_CPU))
        return;   /* built without it (e.g. the ThreadSanitizer build) */
    check_parallel_equals_sequential(LF_BACKEND_CPU, 1);
}
END_TEST

/* ---- lf_last_error_message is per thread ---- */

static pthread_barrier_t barrier;

typedef struct err_job {
    int  id;
    char seen[256];
} err_job;

static void *fail_and_read(void *arg)
{
    err_job *e = arg;
    char name[32];
    snprintf(name, sizeof name, "no-such-method-%d", e->id);
    lf_request *req = NULL;
    lf_context *ctx = NULL;
    lf_context_options o = LF_CONTEXT_OPTIONS_INIT;
    o.backend = LF_BACKEND_REFERENCE;
    o.threads = 1;
    if (lf_context_create(&ctx, &o) == LF_OK)
        lf_request_create(&req, ctx, name);   /* fails: LF_E_UNKNOWN_METHOD naming `name` */
    pthread_barrier_wait(&barrier);   /* every thread has failed before any reads */
    snprintf(e->seen, sizeof e->seen, "%s", lf_last_error_message());
    lf_context_destroy(ctx);
    return NULL;
}

START_TEST(last_error_is_per_thread)
{
    pthread_t th[JOBS];
    err_job e[JOBS];
    ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, JOBS), 0);
    for (int i = 0; i < JOBS; i++) {
        e[i] = (err_job){ .id = i };
        ck_assert_int_eq(pthread_create(&th[i], NULL, fail_and_read, &e[i]), 0);
    }
    for (int i = 0; i < JOBS; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    pthread_barrier_destroy(&barrier);
    for (int i = 0; i < JOBS; i++) {
        char want[32];
        snprintf(want, sizeof want, "'no-such-method-%d'", i);
        ck_assert_msg(strstr(e[i].seen, want) != NULL, "thread %d read '%s'", i, e[i].seen);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, own_data_reference);
    tcase_add_test(tc, shared_data_reference);
    tcase_add_test(tc, shared_data_cpu);
    tcase_add_test(tc, last_error_is_per_thread);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(suite)
