/* Allocation failures (issue 9, item 6): the context's allocator hook fails the k-th
 * allocation, for every k of a whole session — create a context, a data set from caller memory,
 * a model; train one epoch; unlearn with FT and FF; save over an existing file; load it back.
 * Every failure must come back as LF_E_NOMEM with a detail message, from the stage that made
 * the failing allocation; the caller's arrays, the model a failed call was given and the file
 * a failed save was replacing must be unchanged; the same call made again must then succeed
 * (a failed call leaves its handles usable); and once everything is destroyed the hook must
 * hold no live block (nor bytes: every free is given its allocation's size). The backends'
 * memory (tensors, their state) goes through the same hook, so the sweep reaches it too. */
#include <dirent.h>

#include "misuse.h"

enum { N = 24, CLASSES = 3, SIDE = 4, D = SIDE * SIDE, SLOTS = 1 << 14 };

/* ---- the hook: counts calls, fails one, tracks live blocks and their sizes ---- */

typedef struct hook_state {
    long   calls;        /* allocations asked for */
    long   fail_at;      /* the call that returns NULL (1-based); 0 = none */
    long   live;         /* blocks not yet freed */
    size_t live_bytes;
    long   bad_frees;    /* frees of unknown pointers or with another size */
    size_t bad_size, bad_given;   /* the last bad free: its block's size (0: unknown), the size given */
    void  *ptr[SLOTS];   /* open-addressing table of live blocks */
    size_t size[SLOTS];
} hook_state;

static hook_state hook;

static size_t slot_of(const void *p)
{
    return (size_t)(((uintptr_t)p >> 6) * 0x9e3779b97f4a7c15ull >> 50) & (SLOTS - 1);
}

static void *hook_alloc(void *user, size_t size, size_t alignment)
{
    hook_state *h = user;
    if (++h->calls == h->fail_at)
        return NULL;
    void *p = aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
    if (!p)
        return NULL;
    size_t s = slot_of(p);
    while (h->ptr[s])
        s = (s + 1) & (SLOTS - 1);
    h->ptr[s] = p;
    h->size[s] = size;
    h->live++;
    h->live_bytes += size;
    return p;
}

static void hook_free(void *user, void *p, size_t size)
{
    hook_state *h = user;
    size_t s = slot_of(p), probes = 0;
    while (h->ptr[s] != p && probes++ < SLOTS)
        s = (s + 1) & (SLOTS - 1);
    if (h->ptr[s] != p || h->size[s] != size) {
        h->bad_frees++;
        h->bad_size = h->ptr[s] == p ? h->size[s] : 0;
        h->bad_given = size;
        return;   /* leaked on purpose: the test fails on bad_frees */
    }
    /* delete with backward shift, so probe chains stay intact */
    h->ptr[s] = NULL;
    for (size_t j = (s + 1) & (SLOTS - 1); h->ptr[j]; j = (j + 1) & (SLOTS - 1)) {
        size_t home = slot_of(h->ptr[j]);
        if (((j - home) & (SLOTS - 1)) >= ((j - s) & (SLOTS - 1))) {
            h->ptr[s] = h->ptr[j];
            h->size[s] = h->size[j];
            h->ptr[j] = NULL;
            s = j;
        }
    }
    h->live--;
    h->live_bytes -= size;
    free(p);
}

/* ---- the session ---- */

enum stage { S_CONTEXT, S_DATASET, S_MODEL, S_TRAIN, S_FT, S_FF, S_SAVE, S_LOAD, S_DONE };
static const char *const stage_names[] = { "context", "data set", "model", "train", "unlearn ft",
                                           "unlearn ff", "save", "load", "done" };

static float images[N * D];
static int32_t labels[N];
static uint64_t caller_hash;
static char dir[256], path[512];
static unsigned char old_file[] = "the previous model file, which a failed save must leave alone";

typedef struct outcome {
    enum stage failed_at;   /* S_DONE when every stage succeeded */
    lf_status  status;
    char       detail[256];
    long       first_call[S_DONE + 1];   /* hook.calls when each stage began */
} outcome;

static uint64_t params_hash(const lf_model *m)
{
    size_t n = lf_model_num_params(m);
    float *p = malloc(n * sizeof *p);
    ck_assert_lf_ok(lf_model_get_params(m, p, n));   /* allocates nothing */
    uint64_t h = fnv1a(p, n * sizeof *p, FNV_BASIS);
    free(p);
    return h;
}

static uint64_t file_hash(const char *p)
{
    FILE *f = fopen(p, "rb");
    ck_assert_msg(f != NULL, "%s is gone", p);
    unsigned char buf[4096];
    uint64_t h = FNV_BASIS;
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        h = fnv1a(buf, got, h);
    fclose(f);
    return h;
}

static size_t files_in(const char *d)
{
    DIR *dd = opendir(d);
    ck_assert_ptr_nonnull(dd);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(dd));)
        n += e->d_name[0] != '.';
    closedir(dd);
    return n;
}

static lf_status unlearn(lf_context *ctx, const char *method, const lf_dataset *ds, const lf_model *m)
{
    lf_request *req = NULL;
    lf_model *out = NULL;
    lf_forget_spec spec = LF_FORGET_SPEC_INIT;
    spec.kind = LF_FORGET_CLASS;
    spec.forget_class = 1;
    lf_status st = lf_request_create(&req, ctx, method);
    if (st == LF_OK)
        st = lf_request_set_train(req, ds);
    if (st == LF_OK)
        st = lf_request_set_forget(req, &spec);
    if (st == LF_OK && strcmp(method, "ft") == 0)
        st = lf_request_set_int(req, "epochs", 1);
    if (st == LF_OK && strcmp(method, "ft") == 0)
        st = lf_request_set_int(req, "batch", 8);
    if (st == LF_OK)
        st = lf_unlearn(req, m, &out, NULL);
    lf_model_destroy(out);
    lf_request_destroy(req);
    return st;
}

/* The session's handles. */
typedef struct handles {
    lf_context *ctx;
    lf_dataset *ds;
    lf_model   *m, *back;
} handles;

static lf_status run_stage(enum stage s, handles *h, lf_backend_kind backend, const char *arch)
{
    switch (s) {
    case S_CONTEXT: {
        lf_context_options opts = LF_CONTEXT_OPTIONS_INIT;
        opts.backend = backend;
        opts.threads = 1;
        opts.seed = 5;
        opts.allocator = (lf_allocator){ sizeof(lf_allocator), 0, hook_alloc, hook_free, &hook };
        return lf_context_create(&h->ctx, &opts);
    }
    case S_DATASET:
        return lf_dataset_from_memory(&h->ds, h->ctx, images, labels, N, 1, SIDE, SIDE, CLASSES, 0);
    case S_MODEL: {
        lf_model_config cfg = LF_MODEL_CONFIG_INIT;
        lf_status st = lf_model_config_from_dataset(&cfg, h->ds);
        return st == LF_OK ? lf_model_create(&h->m, h->ctx, arch, &cfg) : st;
    }
    case S_TRAIN: {
        lf_train_options t = LF_TRAIN_OPTIONS_INIT;
        t.epochs = 1;
        t.batch_size = 8;
        return lf_model_train(h->m, h->ds, &t, NULL);
    }
    case S_FT: return unlearn(h->ctx, "ft", h->ds, h->m);
    case S_FF: return unlearn(h->ctx, "ff", h->ds, h->m);
    case S_SAVE: return lf_model_save(h->m, path);
    case S_LOAD: return lf_model_load(&h->back, h->ctx, path, NULL);
    case S_DONE: break;
    }
    return LF_OK;
}

/* Runs the session with allocation fail_at failing (0: none) and checks the invariants. After
 * the failure, the same stage is run again with the same handles and must succeed (a call that
 * failed for want of memory leaves them usable); the session ends there. */
static outcome session(lf_backend_kind backend, const char *arch, long fail_at)
{
    memset(&hook, 0, sizeof hook);
    hook.fail_at = fail_at;
    lf_test_write_file(path, old_file, sizeof old_file);
    uint64_t old_hash = file_hash(path);

    outcome o = { .failed_at = S_DONE, .status = LF_OK };
    handles h = { 0 };
    for (enum stage s = S_CONTEXT; s < S_DONE; s++) {
        o.first_call[s] = hook.calls;
        uint64_t model_before = h.m ? params_hash(h.m) : 0;
        lf_status st = run_stage(s, &h, backend, arch);
        if (st == LF_OK)
            continue;
        o.failed_at = s;
        o.status = st;
        snprintf(o.detail, sizeof o.detail, "%s", lf_last_error_message());
        /* the failed call changed nothing it was given */
        if (h.m && s >= S_TRAIN)
            ck_assert_msg(params_hash(h.m) == model_before, "k=%ld: %s changed the model", fail_at,
                          stage_names[s]);
        if (s <= S_SAVE) {
            ck_assert_msg(file_hash(path) == old_hash, "k=%ld: the old file was changed", fail_at);
            ck_assert_msg(files_in(dir) == 1, "k=%ld: %s left a temporary file", fail_at,
                          stage_names[s]);
        }
        hook.fail_at = 0;
        st = run_stage(s, &h, backend, arch);
        ck_assert_msg(st == LF_OK, "k=%ld: %s again after the failure: %s: %s", fail_at, stage_names[s],
                      lf_status_name(st), lf_last_error_message());
        break;   /* the later stages ran in the runs without a failure */
    }
    o.first_call[S_DONE] = hook.calls;
    lf_model_destroy(h.back);
    lf_model_destroy(h.m);
    lf_dataset_destroy(h.ds);
    lf_context_destroy(h.ctx);
    ck_assert_msg(hook.bad_frees == 0, "k=%ld (%s: %s): %ld frees of unknown blocks or with a wrong "
                  "size (the last: a block of %zu bytes freed as %zu)", fail_at, stage_names[o.failed_at],
                  o.detail, hook.bad_frees, hook.bad_size, hook.bad_given);
    ck_assert_msg(hook.live == 0 && hook.live_bytes == 0, "k=%ld (%s): %ld blocks, %zu bytes leaked",
                  fail_at, stage_names[o.failed_at], hook.live, hook.live_bytes);
    ck_assert_msg(fnv1a(labels, sizeof labels, fnv1a(images, sizeof images, FNV_BASIS)) == caller_hash,
                  "k=%ld: the caller's arrays changed", fail_at);
    return o;
}

static void setup(void)
{
    for (size_t i = 0; i < N; i++)
        labels[i] = (int32_t)(i % CLASSES);
    for (size_t i = 0; i < N * D; i++)
        images[i] = (float)((i * 7 + (size_t)labels[i / D] * 5) % 11) / 10.0f;
    caller_hash = fnv1a(labels, sizeof labels, fnv1a(images, sizeof images, FNV_BASIS));
    /* a memory file system when there is one: the fsync of hundreds of saves would otherwise
     * take most of the run */
    snprintf(dir, sizeof dir, "/dev/shm/lftest.XXXXXX");
    if (access("/dev/shm", W_OK) != 0 || !mkdtemp(dir))
        snprintf(dir, sizeof dir, "%s", lf_test_tmpdir());
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
}

static void teardown(void)
{
    unlink(path);
    rmdir(dir);
}

/* The sweep: every allocation of the session fails once, in its own run. */
static void sweep(lf_backend_kind backend, const char *arch)
{
    outcome base = session(backend, arch, 0);
    ck_assert_msg(base.failed_at == S_DONE, "the session fails without injected failures: %s: %s",
                  stage_names[base.failed_at], base.detail);
    long total = base.first_call[S_DONE];
    ck_assert_int_gt(total, 0);
    long survived = 0;
    for (long k = 1; k <= total; k++) {
        outcome o = session(backend, arch, k);
        if (o.failed_at == S_DONE) {   /* the library made do without that block */
            survived++;
            continue;
        }
        ck_assert_msg(o.status == LF_E_NOMEM, "k=%ld (%s): %s: %s", k, stage_names[o.failed_at],
                      lf_status_name(o.status), o.detail);
        ck_assert_msg(strstr(o.detail, "out of memory") != NULL, "k=%ld (%s): detail '%s'", k,
                      stage_names[o.failed_at], o.detail);
        /* the failure came from the stage that asked for allocation k */
        enum stage want = S_CONTEXT;
        while (want + 1 < S_DONE && base.first_call[want + 1] < k)
            want++;
        ck_assert_msg(o.failed_at == want, "k=%ld failed in %s, but the allocation belongs to %s", k,
                      stage_names[o.failed_at], stage_names[want]);
    }
    fprintf(stderr, "# %s/%s: %ld allocations swept (per stage:", lf_backend_name(backend), arch, total);
    for (int s = 0; s < S_DONE; s++)
        fprintf(stderr, " %s %ld", stage_names[s], base.first_call[s + 1] - base.first_call[s]);
    fprintf(stderr, "), %ld survived\n", survived);
    ck_assert_int_eq(survived, 0);
}

START_TEST(sweep_reference_mlp)
{
    sweep(LF_BACKEND_REFERENCE, "mlp");
}
END_TEST

START_TEST(sweep_cpu_convnet)
{
    if (!lf_backend_is_available(LF_BACKEND_CPU))
        return;
    sweep(LF_BACKEND_CPU, "convnet");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("nomem");
    TCase *tc = tcase_create("nomem");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, sweep_reference_mlp);
    tcase_add_test(tc, sweep_cpu_convnet);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(suite)
