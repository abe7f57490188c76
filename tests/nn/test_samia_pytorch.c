/* The SAMIA attacker against PyTorch's own layers (BatchNorm1d, Linear, GELU,
 * TransformerEncoderLayer, torch 1.13): tests/fixtures/make_samia_fixture.py fills the module
 * from a portable stream by tensor name (repeated here), runs a batch through it in train mode
 * (dropout 0: its masks cannot be matched) and in eval mode, and records the logits, the mean
 * cross-entropy, the input gradient, samples of every parameter gradient with their sums of
 * squares, and the running statistics. The library must reproduce all of them with its
 * dropout rate set to 0.
 *
 * Tolerance, per tensor: max |lib − torch| / max(max |torch|, 1e-6) <= 1e-4 (sums of squares:
 * relative 1e-3). Runs on every backend built. */
#include "lf_test.h"
#include "core/io/safetensors.h"
#include "core/nn/attacker_internal.h"

#define TOL 1e-4

static const lf_backend_kind backends[] = { LF_BACKEND_REFERENCE, LF_BACKEND_CPU };

/* ---- the fixture ---- */

typedef struct st_file {
    uint8_t             *bytes;
    lf__safetensors_file f;
} st_file;

static void st_open(st_file *sf, const lf_context *ctx)
{
    char path[1024];
    const char *src = getenv("LF_TEST_SRCDIR");
    snprintf(path, sizeof path, "%s/tests/fixtures/pytorch_samia_expect.safetensors", src ? src : ".");
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "cannot open %s (made by tests/fixtures/make_samia_fixture.py)", path);
    ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
    long size = ftell(fp);
    ck_assert_int_gt(size, 0);
    rewind(fp);
    sf->bytes = malloc((size_t)size);
    ck_assert_uint_eq(fread(sf->bytes, 1, (size_t)size, fp), (size_t)size);
    fclose(fp);
    ck_assert_lf_ok(lf__safetensors_parse(&sf->f, ctx, path, sf->bytes, (size_t)size));
}

static float *st_floats(const st_file *sf, const char *name, size_t *numel)
{
    const lf__safetensors_tensor *t = lf__safetensors_find(&sf->f, name);
    ck_assert_msg(t != NULL, "fixture: no tensor '%s'", name);
    float *v = malloc((t->numel ? t->numel : 1) * sizeof *v);
    ck_assert_lf_ok(lf__safetensors_read_f32(&sf->f, t, v));
    if (numel)
        *numel = t->numel;
    return v;
}

/* ---- the generator's stream (as make_pytorch_fixtures.py and test_pytorch_fixtures.c) ---- */

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

static void stream_values(float *dst, const char *name, size_t n, float offset, float scale)
{
    uint64_t s = fnv1a64(name);
    for (size_t j = 0; j < n; j++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        float k = (float)((int64_t)(s >> 40) - (1 << 23));
        float scaled = scale * k;
        dst[j] = offset + scaled;
    }
}

static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && strcmp(s + a - b, tail) == 0;
}

/* make_samia_fixture.py's stream_rule */
static void stream_rule(const lf__tensor_desc *t, float *offset, float *scale)
{
    const char *nm = t->name;
    *offset = 0.0f;
    if (strcmp(nm, "bn.num_batches_tracked") == 0) {
        *scale = 0.0f;
    } else if (ends_with(nm, "norm1.weight") || ends_with(nm, "norm2.weight") || strcmp(nm, "bn.weight") == 0) {
        *offset = 1.0f, *scale = ldexpf(1.0f, -26);
    } else if (strcmp(nm, "bn.running_var") == 0) {
        *offset = 1.0f, *scale = ldexpf(1.0f, -25);
    } else if (t->ndim == 1) {
        *scale = ldexpf(1.0f, -26);
    } else {
        int e = 0;
        while ((1ll << (2 * e)) < t->shape[1])
            e++;
        *scale = ldexpf(1.0f, -23 - e);
    }
}

/* ---- comparisons ---- */

static double worst;   /* the largest relative error of a run, for the log */

static void compare(const char *what, const float *got, const float *want, size_t n, size_t step)
{
    double scale = 1e-6, err = 0;
    for (size_t i = 0; i < n; i++) {
        scale = fmax(scale, fabs(want[i]));
        err = fmax(err, fabs((double)got[i * step] - want[i]));
    }
    worst = fmax(worst, err / scale);
    ck_assert_msg(err <= TOL * scale, "%s: max error %.3g of scale %.3g", what, err, scale);
}

static float *down(lf_context *ctx, const float *d, size_t n)
{
    float *h = malloc(n * sizeof *h);
    ck_assert_lf_ok(LF__BE(ctx, mem_download, h, d, n * sizeof *h));
    return h;
}

/* One forward + mean cross-entropy + backward in the given mode, checked against tag. */
static void run_and_compare(lf_context *ctx, lf__samia *s, const st_file *fx, const float *u,
                            const int32_t *labels, int64_t n, int train)
{
    const char *tag = train ? "train" : "eval";
    char name[160];
    float *logits = NULL, *loss = NULL, *probs = NULL, *dl = NULL, *du = NULL;
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&logits, (size_t)(2 * n), sizeof(float), 0, "t"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&probs, (size_t)(2 * n), sizeof(float), 0, "t"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&dl, (size_t)(2 * n), sizeof(float), 0, "t"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&loss, (size_t)n, sizeof(float), 0, "t"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&du, (size_t)(3 * s->classes * n), sizeof(float), 0, "t"));
    float w[64];
    for (int64_t i = 0; i < n; i++)
        w[i] = 1.0f / (float)n;
    ck_assert_lf_ok(lf__samia_zero_grads(s));
    ck_assert_lf_ok(lf__samia_forward(s, logits, u, n, train, 1, 0));
    ck_assert_lf_ok(LF__BE(ctx, softmax_xent_fwd, loss, probs, logits, labels, n, 2));
    ck_assert_lf_ok(LF__BE(ctx, softmax_xent_bwd, dl, probs, labels, w, n, 2));
    ck_assert_lf_ok(lf__samia_backward(s, du, dl));

    float *lh = down(ctx, logits, (size_t)(2 * n)), *lossh = down(ctx, loss, (size_t)n);
    float *duh = down(ctx, du, (size_t)(3 * s->classes * n)), *gh = down(ctx, s->grads, s->n_params);
    snprintf(name, sizeof name, "logits_%s", tag);
    float *want = st_floats(fx, name, NULL);
    compare(name, lh, want, (size_t)(2 * n), 1);
    free(want);
    double mean = 0;
    for (int64_t i = 0; i < n; i++)
        mean += lossh[i] / (double)n;
    snprintf(name, sizeof name, "loss_%s", tag);
    want = st_floats(fx, name, NULL);
    ck_assert_msg(fabs(mean - want[0]) <= TOL * fabs(want[0]), "%s: %.7f vs %.7f", name, mean, want[0]);
    free(want);
    snprintf(name, sizeof name, "du_%s", tag);
    want = st_floats(fx, name, NULL);
    compare(name, duh, want, (size_t)(3 * s->classes * n), 1);
    free(want);
    for (size_t t = 0; t < s->n_tensors; t++) {
        const lf__tensor_desc *td = &s->tensors[t];
        if (td->kind != LF__TENSOR_PARAM)
            continue;
        size_t count;
        snprintf(name, sizeof name, "grad_%s.%s", tag, td->name);
        want = st_floats(fx, name, &count);
        size_t step = td->numel / 64 + 1;
        ck_assert_uint_eq(count, (td->numel + step - 1) / step);
        compare(name, gh + td->offset, want, count, step);
        free(want);
        snprintf(name, sizeof name, "sumsq_%s.%s", tag, td->name);
        want = st_floats(fx, name, NULL);
        double ss = 0;
        for (size_t j = 0; j < td->numel; j++)
            ss += (double)gh[td->offset + j] * gh[td->offset + j];
        ck_assert_msg(fabs(ss - want[0]) <= 1e-3 * want[0] + 1e-20, "%s: %.9g vs %.9g", name, ss, want[0]);
        free(want);
    }
    free(lh), free(lossh), free(duh), free(gh);
    lf__nn_dev_free(ctx, logits), lf__nn_dev_free(ctx, probs), lf__nn_dev_free(ctx, dl);
    lf__nn_dev_free(ctx, loss), lf__nn_dev_free(ctx, du);
}

START_TEST(samia_matches_pytorch)
{
    if (backends[_i] == LF_BACKEND_CPU && !lf_backend_is_available(LF_BACKEND_CPU))
        return;
    lf_context *ctx = lf_test_context(backends[_i]);
    worst = 0;
    st_file fx;
    st_open(&fx, ctx);
    size_t nu;
    float *uh = st_floats(&fx, "u", &nu), *lab = st_floats(&fx, "labels", NULL);
    const int64_t C = 3, n = (int64_t)nu / (3 * C);
    lf__samia *s = NULL;
    ck_assert_lf_ok(lf__samia_create(&s, ctx, C, 0));
    s->dropout = 0.0f;
    /* parameters and buffers from the stream */
    float *ph = calloc(s->n_params, sizeof *ph), *bh = calloc(s->n_buffers, sizeof *bh);
    for (size_t t = 0; t < s->n_tensors; t++) {
        const lf__tensor_desc *td = &s->tensors[t];
        float off, sc;
        stream_rule(td, &off, &sc);
        stream_values((td->kind == LF__TENSOR_PARAM ? ph : bh) + td->offset, td->name, td->numel, off, sc);
    }
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, s->params, ph, s->n_params * sizeof *ph));
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, s->buffers, bh, s->n_buffers * sizeof *bh));
    float *u = NULL;
    int32_t *labels = NULL, lh[64];
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&u, nu, sizeof(float), 0, "u"));
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&labels, (size_t)n, sizeof(int32_t), 0, "labels"));
    for (int64_t i = 0; i < n; i++)
        lh[i] = (int32_t)lab[i];
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, u, uh, nu * sizeof *uh));
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, labels, lh, (size_t)n * sizeof *lh));

    run_and_compare(ctx, s, &fx, u, labels, n, 1);
    float *buf = down(ctx, s->buffers, s->n_buffers);
    const char *const stats[2] = { "bn.running_mean", "bn.running_var" };
    for (int k = 0; k < 2; k++) {
        char name[64];
        snprintf(name, sizeof name, "after.%s", stats[k]);
        float *want = st_floats(&fx, name, NULL);
        compare(name, buf + lf__samia_find_tensor(s, stats[k])->offset, want, (size_t)(3 * C), 1);
        free(want);
    }
    run_and_compare(ctx, s, &fx, u, labels, n, 0);
    fprintf(stderr, "# %s: worst error relative to the tensor's scale %.3g\n", ctx->backend.iface->name, worst);

    free(uh), free(lab), free(ph), free(bh), free(buf);
    lf__nn_dev_free(ctx, u), lf__nn_dev_free(ctx, labels);
    lf__samia_destroy(s);
    lf__safetensors_free(&fx.f);
    free(fx.bytes);
    lf_context_destroy(ctx);
}
END_TEST

static Suite *samia_pytorch_suite(void)
{
    Suite *s = suite_create("samia_pytorch");
    TCase *tc = tcase_create("fixture");
    tcase_add_loop_test(tc, samia_matches_pytorch, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(samia_pytorch_suite)
