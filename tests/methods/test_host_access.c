/* No host code touches backend memory (backend.h: pointers are backend memory unless named
 * _host). A GPU backend would crash or read garbage on such an access; this catches it on any
 * machine: the context's reference backend is wrapped so that every block mem_alloc hands out
 * is an mmap'ed region kept PROT_NONE, readable and writable only while a backend operation
 * runs. Any direct host read or write of params, grads, buffers, masks, activations, batch
 * buffers or scratch then dies with SIGSEGV, and every operation aborts on a host array passed
 * as backend memory or the other way round. The flows below go through training, inference,
 * evaluation, files, pruning and every unlearning method on small problems. */
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

#include "lf_test.h"
#include "core/nn/nn_internal.h"

/* ---- the guarded backend ---- */

enum { MAX_BLOCKS = 4096 };
static struct { void *p; size_t len; } blocks[MAX_BLOCKS];
static size_t n_blocks;
static const lf__backend_iface *ref;
static lf__backend_iface guarded;

/* The blocks the running op's backend arguments point into: only those open while it runs. */
enum { MAX_ARGS = 16 };
static void *open_p[MAX_ARGS];
static size_t open_len[MAX_ARGS], n_open;

static void protect_open(int prot)
{
    for (size_t i = 0; i < n_open; i++)
        if (mprotect(open_p[i], open_len[i], prot) != 0)
            abort();
}

static lf_status g_mem_alloc(void *priv, void **ptr, size_t nbytes)
{
    (void)priv;
    size_t len = nbytes ? nbytes : 1;
    void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || n_blocks == MAX_BLOCKS)
        return LF_E_NOMEM;
    blocks[n_blocks].p = p;
    blocks[n_blocks].len = len;
    n_blocks++;
    *ptr = p;
    return LF_OK;
}

static void g_mem_free(void *priv, void *ptr)
{
    (void)priv;
    for (size_t i = 0; i < n_blocks; i++)
        if (blocks[i].p == ptr) {
            munmap(ptr, blocks[i].len);
            blocks[i] = blocks[--n_blocks];
            return;
        }
    abort();   /* not a block of this backend */
}

/* Aborts when p (non-NULL) is not where the op's contract puts it: backend memory (inside a
 * block, its end included for empty ranges; the block is then opened for the op), or host
 * memory for the _host arguments. */
static void check_arg(const char *op, const char *name, const void *p, int backend)
{
    if (!p)
        return;
    const char *c = p;
    size_t i = 0;   /* the block holding p, else one ending at p (mappings may be adjacent) */
    while (i < n_blocks && !(c >= (char *)blocks[i].p && c < (char *)blocks[i].p + blocks[i].len))
        i++;
    for (size_t j = 0; i == n_blocks && j < n_blocks; j++)
        if (c == (char *)blocks[j].p + blocks[j].len)
            i = j;
    int inside = i < n_blocks;
    if (inside != backend) {
        fprintf(stderr, "%s: argument %s is %s memory\n", op, name, inside ? "backend" : "host");
        abort();
    }
    if (inside) {
        open_p[n_open] = blocks[i].p;
        open_len[n_open++] = blocks[i].len;
    }
}
#define D(p) check_arg(op_, #p, p, 1);
#define H(p) check_arg(op_, #p, p, 0);

/* g_<op>: its pointer arguments checked (D backend, H host), then the reference's op with
 * their blocks open for its duration (an op reaching past its arguments faults too). */
#define GUARD(op, params, args, checks)                          \
    static lf_status g_##op params                               \
    {                                                            \
        const char *op_ = #op;                                   \
        n_open = 0;                                              \
        checks                                                   \
        protect_open(PROT_READ | PROT_WRITE);                    \
        lf_status st = ref->op args;                             \
        protect_open(PROT_NONE);                                 \
        return st;                                               \
    }

typedef const float cf;
typedef int64_t i64;
typedef uint64_t u64;

GUARD(mem_upload, (void *q, void *d, const void *s, size_t n), (q, d, s, n), D(d) H(s))
GUARD(mem_download, (void *q, void *d, const void *s, size_t n), (q, d, s, n), H(d) D(s))
GUARD(mem_copy, (void *q, void *d, const void *s, size_t n), (q, d, s, n), D(d) D(s))
GUARD(mem_zero, (void *q, void *d, size_t n), (q, d, n), D(d))
GUARD(synchronize, (void *q), (q), (void)op_;)
GUARD(gemm, (void *q, int ta, int tb, i64 m, i64 n, i64 k, float al, cf *a, i64 la, cf *b, i64 lb,
             float be, float *c, i64 lc), (q, ta, tb, m, n, k, al, a, la, b, lb, be, c, lc),
      D(a) D(b) D(c))
GUARD(bias_add_fwd, (void *q, float *y, cf *b, i64 r, i64 c), (q, y, b, r, c), D(y) D(b))
GUARD(bias_bwd, (void *q, float *db, cf *dy, i64 r, i64 c), (q, db, dy, r, c), D(db) D(dy))
GUARD(axpby, (void *q, float *y, float a, cf *x, float b, i64 n), (q, y, a, x, b, n), D(y) D(x))
GUARD(relu_fwd, (void *q, float *y, cf *x, i64 n), (q, y, x, n), D(y) D(x))
GUARD(relu_bwd, (void *q, float *dx, cf *dy, cf *y, i64 n), (q, dx, dy, y, n), D(dx) D(dy) D(y))
GUARD(normalize_fwd, (void *q, float *y, cf *x, cf *mh, cf *ih, i64 n, i64 c, i64 s),
      (q, y, x, mh, ih, n, c, s), D(y) D(x) H(mh) H(ih))
GUARD(softmax_xent_fwd, (void *q, float *l, float *p, cf *z, const int32_t *y, i64 n, i64 c),
      (q, l, p, z, y, n, c), D(l) D(p) D(z) D(y))
GUARD(softmax_xent_bwd, (void *q, float *dz, cf *p, const int32_t *y, cf *wh, i64 n, i64 c),
      (q, dz, p, y, wh, n, c), D(dz) D(p) D(y) H(wh))
GUARD(softmax_fwd, (void *q, float *p, cf *z, i64 n, i64 c), (q, p, z, n, c), D(p) D(z))
GUARD(sgd_step, (void *q, float *w, float *b, cf *g, i64 n, float lr, float mo, float wd, int f),
      (q, w, b, g, n, lr, mo, wd, f), D(w) D(b) D(g))
GUARD(sum_squares, (void *q, double *o, cf *x, i64 n), (q, o, x, n), H(o) D(x))
GUARD(count_nonfinite, (void *q, int64_t *o, cf *x, i64 n), (q, o, x, n), H(o) D(x))
GUARD(count_correct, (void *q, int64_t *o, cf *z, const int32_t *y, i64 n, i64 c), (q, o, z, y, n, c),
      H(o) D(z) D(y))
GUARD(rng_uniform, (void *q, float *o, i64 n, u64 s, u64 t, u64 f, float lo, float hi),
      (q, o, n, s, t, f, lo, hi), D(o))
GUARD(rng_normal, (void *q, float *o, i64 n, u64 s, u64 t, u64 f, float mu, float sd),
      (q, o, n, s, t, f, mu, sd), D(o))
GUARD(conv2d_fwd, (void *q, float *y, cf *x, cf *w, cf *b, const lf__conv2d_shape *s), (q, y, x, w, b, s),
      D(y) D(x) D(w) D(b) H(s))
GUARD(conv2d_bwd_data, (void *q, float *dx, cf *dy, cf *w, const lf__conv2d_shape *s), (q, dx, dy, w, s),
      D(dx) D(dy) D(w) H(s))
GUARD(conv2d_bwd_weights, (void *q, float *dw, float *db, cf *dy, cf *x, const lf__conv2d_shape *s),
      (q, dw, db, dy, x, s), D(dw) D(db) D(dy) D(x) H(s))
GUARD(batchnorm_fwd_train, (void *q, float *y, float *sm, float *si, float *rm, float *rv, cf *x, cf *g,
                            cf *b, i64 n, i64 c, i64 s, float mo, float eps),
      (q, y, sm, si, rm, rv, x, g, b, n, c, s, mo, eps), D(y) D(sm) D(si) D(rm) D(rv) D(x) D(g) D(b))
GUARD(batchnorm_fwd_eval, (void *q, float *y, cf *x, cf *g, cf *b, cf *rm, cf *rv, i64 n, i64 c, i64 s,
                           float eps), (q, y, x, g, b, rm, rv, n, c, s, eps),
      D(y) D(x) D(g) D(b) D(rm) D(rv))
GUARD(batchnorm_bwd, (void *q, float *dx, float *dg, float *db, cf *dy, cf *x, cf *g, cf *sm, cf *si,
                      i64 n, i64 c, i64 s), (q, dx, dg, db, dy, x, g, sm, si, n, c, s),
      D(dx) D(dg) D(db) D(dy) D(x) D(g) D(sm) D(si))
GUARD(maxpool2d_fwd, (void *q, float *y, int32_t *ix, cf *x, i64 n, i64 c, i64 h, i64 w, i64 k),
      (q, y, ix, x, n, c, h, w, k), D(y) D(ix) D(x))
GUARD(maxpool2d_bwd, (void *q, float *dx, cf *dy, const int32_t *ix, i64 n, i64 c, i64 h, i64 w, i64 k),
      (q, dx, dy, ix, n, c, h, w, k), D(dx) D(dy) D(ix))
GUARD(avgpool_global_fwd, (void *q, float *y, cf *x, i64 n, i64 c, i64 s), (q, y, x, n, c, s), D(y) D(x))
GUARD(avgpool_global_bwd, (void *q, float *dx, cf *dy, i64 n, i64 c, i64 s), (q, dx, dy, n, c, s),
      D(dx) D(dy))
GUARD(apply_mask, (void *q, float *x, const uint8_t *mk, i64 n), (q, x, mk, n), D(x) D(mk))
GUARD(batchnorm_bwd_eval, (void *q, float *dx, float *dg, float *db, cf *dy, cf *x, cf *g, cf *rm,
                           cf *rv, i64 n, i64 c, i64 s, float eps),
      (q, dx, dg, db, dy, x, g, rm, rv, n, c, s, eps), D(dx) D(dg) D(db) D(dy) D(x) D(g) D(rm) D(rv))
GUARD(batchnorm_relu_fwd_train, (void *q, float *y, float *sm, float *si, float *rm, float *rv, cf *x,
                                 cf *g, cf *b, i64 n, i64 c, i64 s, float mo, float eps),
      (q, y, sm, si, rm, rv, x, g, b, n, c, s, mo, eps), D(y) D(sm) D(si) D(rm) D(rv) D(x) D(g) D(b))
GUARD(batchnorm_relu_fwd_eval, (void *q, float *y, cf *x, cf *g, cf *b, cf *rm, cf *rv, i64 n, i64 c,
                                i64 s, float eps), (q, y, x, g, b, rm, rv, n, c, s, eps),
      D(y) D(x) D(g) D(b) D(rm) D(rv))
GUARD(batchnorm_relu_bwd, (void *q, float *dx, float *dg, float *db, cf *dy, cf *y, cf *x, cf *g,
                           cf *sm, cf *si, i64 n, i64 c, i64 s),
      (q, dx, dg, db, dy, y, x, g, sm, si, n, c, s), D(dx) D(dg) D(db) D(dy) D(y) D(x) D(g) D(sm) D(si))
GUARD(layernorm_fwd, (void *q, float *y, float *sm, float *si, cf *x, cf *g, cf *b, i64 r, i64 c,
                      float eps), (q, y, sm, si, x, g, b, r, c, eps), D(y) D(sm) D(si) D(x) D(g) D(b))
GUARD(layernorm_bwd, (void *q, float *dx, float *dg, float *db, cf *dy, cf *x, cf *g, cf *sm, cf *si,
                      i64 r, i64 c), (q, dx, dg, db, dy, x, g, sm, si, r, c),
      D(dx) D(dg) D(db) D(dy) D(x) D(g) D(sm) D(si))
GUARD(gelu_fwd, (void *q, float *y, cf *x, i64 n), (q, y, x, n), D(y) D(x))
GUARD(gelu_bwd, (void *q, float *dx, cf *dy, cf *x, i64 n), (q, dx, dy, x, n), D(dx) D(dy) D(x))
GUARD(softmax_bwd, (void *q, float *dx, cf *dy, cf *y, i64 r, i64 c), (q, dx, dy, y, r, c),
      D(dx) D(dy) D(y))
GUARD(dropout, (void *q, float *y, cf *x, i64 n, float p, u64 s, u64 t, u64 f), (q, y, x, n, p, s, t, f),
      D(y) D(x))
GUARD(transpose, (void *q, float *y, cf *x, i64 b, i64 r, i64 c), (q, y, x, b, r, c), D(y) D(x))
GUARD(adam_step, (void *q, float *w, float *m, float *v, cf *g, i64 n, float lr, double b1, double b2,
                  float eps, float wd, i64 t), (q, w, m, v, g, n, lr, b1, b2, eps, wd, t),
      D(w) D(m) D(v) D(g))
GUARD(gemm_batched, (void *q, int ta, int tb, i64 m, i64 n, i64 k, float al, cf *a, i64 la, cf *b,
                     i64 lb, float be, float *c, i64 lc, const lf__gemm_batch *g),
      (q, ta, tb, m, n, k, al, a, la, b, lb, be, c, lc, g), D(a) D(b) D(c) H(g))
GUARD(batchnorm_relu_maxpool_fwd_eval, (void *q, float *y, cf *x, cf *g, cf *b, cf *rm, cf *rv,
                                        i64 n, i64 c, i64 h, i64 w, i64 k, float eps),
      (q, y, x, g, b, rm, rv, n, c, h, w, k, eps), D(y) D(x) D(g) D(b) D(rm) D(rv))

/* A reference-backend context whose backend memory the host cannot touch. */
static lf_context *guarded_context(void)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    ref = ctx->backend.iface;
    ck_assert_uint_eq(ref->iface_version, 6);   /* a new op needs a GUARD line here */
    guarded = *ref;
    guarded.mem_alloc = g_mem_alloc;
    guarded.mem_free = g_mem_free;
#define SET(op) guarded.op = ref->op ? g_##op : NULL
    SET(mem_upload); SET(mem_download); SET(mem_copy); SET(mem_zero); SET(synchronize);
    SET(gemm); SET(bias_add_fwd); SET(bias_bwd); SET(axpby); SET(relu_fwd); SET(relu_bwd);
    SET(normalize_fwd); SET(softmax_xent_fwd); SET(softmax_xent_bwd); SET(softmax_fwd);
    SET(sgd_step); SET(sum_squares); SET(count_nonfinite); SET(count_correct); SET(rng_uniform);
    SET(rng_normal); SET(conv2d_fwd); SET(conv2d_bwd_data); SET(conv2d_bwd_weights);
    SET(batchnorm_fwd_train); SET(batchnorm_fwd_eval); SET(batchnorm_bwd); SET(maxpool2d_fwd);
    SET(maxpool2d_bwd); SET(avgpool_global_fwd); SET(avgpool_global_bwd); SET(apply_mask);
    SET(batchnorm_bwd_eval); SET(batchnorm_relu_fwd_train); SET(batchnorm_relu_fwd_eval);
    SET(batchnorm_relu_bwd); SET(layernorm_fwd); SET(layernorm_bwd); SET(gelu_fwd); SET(gelu_bwd);
    SET(softmax_bwd); SET(dropout); SET(transpose); SET(adam_step); SET(gemm_batched);
    SET(batchnorm_relu_maxpool_fwd_eval);
#undef SET
    ctx->backend.iface = &guarded;
    return ctx;
}

/* ---- the flows ---- */

enum { CLASSES = 4, SIDE = 8 };

static lf_context *ctx;
static lf_dataset *train_set, *holdout;

static void setup(void)
{
    ctx = guarded_context();
    train_set = lf_test_blobs(ctx, 96, CLASSES, 1, SIDE, SIDE, 5);
    holdout = lf_test_blobs(ctx, 48, CLASSES, 1, SIDE, SIDE, 6);
}

static void teardown(void)
{
    lf_dataset_destroy(holdout);
    lf_dataset_destroy(train_set);
    lf_context_destroy(ctx);
    ck_assert_uint_eq(n_blocks, 0);   /* every block freed */
}

/* arch trained for one epoch on train_set, with a normalisation (so batches normalise). */
static lf_model *trained(const char *arch)
{
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    ck_assert_lf_ok(lf_model_config_from_dataset(&cfg, train_set));
    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_create(&m, ctx, arch, &cfg));
    float mean = 0.5f, std = 0.25f;
    ck_assert_lf_ok(lf_model_set_normalization(m, &mean, &std, 1));
    lf_train_options t = LF_TRAIN_OPTIONS_INIT;
    t.epochs = 1;
    t.batch_size = 32;
    ck_assert_lf_ok(lf_model_train(m, train_set, &t, NULL));
    return m;
}

/* The guard works: a direct host read of the parameters faults. (A handler of our own rather
 * than Check's raise-signal test: the sanitizers' SIGSEGV handler would exit instead.) */
static sigjmp_buf fault_jump;

static void on_fault(int sig)
{
    (void)sig;
    siglongjmp(fault_jump, 1);
}

START_TEST(host_read_of_backend_memory_faults)
{
    lf_model *m = trained("mlp");
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fault;
    ck_assert_int_eq(sigaction(SIGSEGV, &sa, &old), 0);
    volatile int faulted = 0;
    if (sigsetjmp(fault_jump, 1) == 0) {
        volatile float v = m->params[0];
        (void)v;
    } else {
        faulted = 1;
    }
    sigaction(SIGSEGV, &old, NULL);
    ck_assert_msg(faulted, "the host read of backend memory did not fault");
    lf_model_destroy(m);
}
END_TEST

/* Training, inference, evaluation, parameters, files, clone and pruning. */
START_TEST(model_api)
{
    const char *arch = _i ? "convnet" : "mlp";
    lf_model *m = trained(arch);
    size_t n = 16, np = lf_model_num_params(m);
    float *images = malloc(n * SIDE * SIDE * sizeof *images);
    float *logits = malloc(n * CLASSES * sizeof *logits), *probs = malloc(n * CLASSES * sizeof *probs);
    float *params = malloc(np * sizeof *params);
    double *conf = malloc(lf_dataset_size(holdout) * sizeof *conf), acc = 0.0, sparsity = 0.0;
    for (size_t i = 0; i < n; i++)
        ck_assert_lf_ok(lf_dataset_get(holdout, i, images + i * SIDE * SIDE, NULL));
    ck_assert_lf_ok(lf_model_forward(m, images, n, logits));
    ck_assert_lf_ok(lf_model_predict(m, holdout, 0, n, logits, probs));
    ck_assert_lf_ok(lf_model_accuracy(m, holdout, &acc));
    ck_assert_lf_ok(lf_model_logit_confidences(m, holdout, conf, lf_dataset_size(holdout)));
    lf_metrics met = LF_METRICS_INIT;
    ck_assert_lf_ok(lf_evaluate(m, holdout, train_set, holdout, NULL, &met));
    ck_assert_lf_ok(lf_model_get_params(m, params, np));
    ck_assert_lf_ok(lf_model_set_params(m, params, np));
    if (strcmp(arch, "mlp") != 0) {
        ck_assert_lf_ok(lf_model_prune(m, 0.5));
        ck_assert_lf_ok(lf_model_sparsity(m, &sparsity));
        ck_assert(sparsity > 0.4);
    }
    char path[512];
    snprintf(path, sizeof path, "%s/m.safetensors", lf_test_tmpdir());
    ck_assert_lf_ok(lf_model_save(m, path));
    lf_model *loaded = NULL, *clone = NULL;
    ck_assert_lf_ok(lf_model_load(&loaded, ctx, path, NULL));
    ck_assert_lf_ok(lf_model_clone(&clone, loaded));
    ck_assert_lf_ok(lf_model_accuracy(clone, holdout, &acc));
    lf_model_destroy(clone);
    lf_model_destroy(loaded);
    lf_model_destroy(m);
    free(images);
    free(logits);
    free(probs);
    free(params);
    free(conf);
}
END_TEST

/* resnet18: its 11M parameters make every guarded operation slow, so a few samples only. */
START_TEST(resnet18_train_and_forward)
{
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    ck_assert_lf_ok(lf_model_config_from_dataset(&cfg, train_set));
    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_create(&m, ctx, "resnet18", &cfg));
    int64_t idx[4] = { 0, 1, 2, 3 };
    lf_dataset *few = NULL;
    ck_assert_lf_ok(lf_dataset_view(&few, train_set, idx, 4));
    lf_train_options t = LF_TRAIN_OPTIONS_INIT;
    t.epochs = 1;
    t.batch_size = 4;
    ck_assert_lf_ok(lf_model_train(m, few, &t, NULL));
    float logits[4 * CLASSES];
    ck_assert_lf_ok(lf_model_predict(m, few, 0, 4, logits, NULL));
    lf_dataset_destroy(few);
    lf_model_destroy(m);
}
END_TEST

/* Each unlearning method (IU with both solvers) on a sparse convnet, random and class-wise. */
START_TEST(each_method)
{
    const char *method = lf_method_name((size_t)_i);
    lf_model *m = trained("convnet");
    ck_assert_lf_ok(lf_model_prune(m, 0.5));
    for (int classwise = 0; classwise < 2; classwise++) {
        lf_request *req = NULL;
        ck_assert_lf_ok(lf_request_create(&req, ctx, method));
        ck_assert_lf_ok(lf_request_set_train(req, train_set));
        ck_assert_lf_ok(lf_request_set_holdout(req, holdout));
        lf_forget_spec spec = LF_FORGET_SPEC_INIT;
        spec.kind = classwise ? LF_FORGET_CLASS : LF_FORGET_RANDOM;
        spec.forget_class = 1;
        spec.fraction = 0.1;
        ck_assert_lf_ok(lf_request_set_forget(req, &spec));
        /* short runs: the accesses, not the results, are under test */
        const char *const keys[] = { "epochs", "remi.max_steps", "dau.pretrain_steps", "iters",
                                     "subsample" };
        const int64_t values[] = { 1, 10, 3, 2, 32 };
        for (int k = 0; k < 5; k++) {
            double unused;
            if (lf_request_get_double(req, keys[k], &unused) == LF_OK)
                ck_assert_lf_ok(lf_request_set_int(req, keys[k], values[k]));
        }
        if (strcmp(method, "iu") == 0 && classwise)
            ck_assert_lf_ok(lf_request_set_choice(req, "solver", "cg"));
        lf_model *out = NULL;
        ck_assert_lf_ok(lf_unlearn(req, m, &out, NULL));
        lf_model_destroy(out);
        lf_request_destroy(req);
    }
    lf_model_destroy(m);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("host_access");
    TCase *tc = tcase_create("guarded");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, host_read_of_backend_memory_faults);
    tcase_add_loop_test(tc, model_api, 0, 2);
    tcase_add_test(tc, resnet18_train_and_forward);
    tcase_add_loop_test(tc, each_method, 0, (int)lf_method_count());
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(suite)
