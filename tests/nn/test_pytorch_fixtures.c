/* The built-in architectures against PyTorch: fixtures made by tests/fixtures/make_pytorch_fixtures.py
 * (torch 1.13, committed) hold a batch, labels and what PyTorch computed for one train-mode step
 * of a model; the library loads the same model from a safetensors file and must reproduce
 *  - the train-mode logits and the mean softmax cross-entropy loss,
 *  - every parameter gradient after backward (resnet18: every k-th element of the large tensors,
 *    plus the sum of squares of the whole gradient),
 *  - the running statistics and num_batches_tracked after the forward,
 *  - the eval-mode logits, run after the train-mode forward (with those running statistics).
 * convnet's model file is PyTorch's own, default init; resnet18's (45 MB) is written here from
 * the layout the fixture lists and the portable stream the generator filled it with.
 *
 * Tolerance, per tensor: max_i |lib_i − torch_i| / max(max_i |torch_i|, 1e-6) <= 1e-4, i.e. an
 * error relative to the tensor's scale (elementwise relative error is meaningless for entries
 * near zero, e.g. gradients of ReLU-dead units). Runs on every backend built. */
#include <jansson.h>

#include "lf_test.h"
#include "core/io/safetensors.h"
#include "core/nn/nn_internal.h"

#define TOL 1e-4

static const char *const archs[] = { "convnet", "resnet18" };
static const lf_backend_kind backends[] = { LF_BACKEND_REFERENCE, LF_BACKEND_CPU };
#define N_BACKENDS (int)(sizeof backends / sizeof backends[0])

/* ---- the fixture files ---- */

typedef struct st_file {
    uint8_t             *bytes;
    lf__safetensors_file f;
} st_file;

static void fixture_path(char *buf, size_t size, const char *arch, const char *what)
{
    const char *src = getenv("LF_TEST_SRCDIR");
    snprintf(buf, size, "%s/tests/fixtures/pytorch_%s_%s.safetensors", src ? src : ".", arch, what);
}

static void st_open(st_file *sf, const lf_context *ctx, const char *path)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "cannot open %s (made by tests/fixtures/make_pytorch_fixtures.py)", path);
    ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
    long size = ftell(fp);
    ck_assert_int_gt(size, 0);
    rewind(fp);
    sf->bytes = malloc((size_t)size);
    ck_assert_uint_eq(fread(sf->bytes, 1, (size_t)size, fp), (size_t)size);
    fclose(fp);
    ck_assert_lf_ok(lf__safetensors_parse(&sf->f, ctx, path, sf->bytes, (size_t)size));
}

static void st_close(st_file *sf)
{
    lf__safetensors_free(&sf->f);
    free(sf->bytes);
}

/* Tensor `name` as float32 (malloc'ed); its element count into *numel when not NULL. */
static float *st_floats(const st_file *sf, const char *name, size_t *numel)
{
    const lf__safetensors_tensor *t = lf__safetensors_find(&sf->f, name);
    ck_assert_msg(t != NULL, "%s: no tensor '%s'", sf->f.path, name);
    float *v = malloc((t->numel ? t->numel : 1) * sizeof *v);
    ck_assert_lf_ok(lf__safetensors_read_f32(&sf->f, t, v));
    if (numel)
        *numel = t->numel;
    return v;
}

/* ---- resnet18's model file from the fixture's layout ---- */

/* The generator's stream: state ← A·state + C from FNV-1a-64(name); element j is
 * offset + scale·k_j in float arithmetic, k_j = (state >> 40) − 2^23. */
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

/* Writes the state_dict the metadata "state_dict" lists ([name, dtype, shape, offset, scale]
 * per tensor, in PyTorch's order) to path, with the input shape as libforget metadata (a
 * ResNet's tensors do not fix it). */
static void write_stream_model(const st_file *ex, const lf_context *ctx, const char *path)
{
    const char *text = lf__safetensors_metadata(&ex->f, "state_dict");
    ck_assert_ptr_nonnull(text);
    json_t *layout = json_loads(text, 0, NULL);
    ck_assert(json_is_array(layout));
    size_t n = json_array_size(layout);
    lf__safetensors_out *outs = calloc(n, sizeof *outs);
    int64_t (*shapes)[LF__MAX_DIMS] = calloc(n, sizeof *shapes);
    void **data = calloc(n, sizeof *data);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(layout, i), *shape = json_array_get(e, 2);
        ck_assert(json_is_array(e) && json_array_size(e) == 5 && json_is_array(shape));
        const char *name = json_string_value(json_array_get(e, 0));
        const char *dtype = json_string_value(json_array_get(e, 1));
        ck_assert(name && dtype && json_array_size(shape) <= LF__MAX_DIMS);
        size_t numel = 1;
        for (size_t d = 0; d < json_array_size(shape); d++) {
            shapes[i][d] = json_integer_value(json_array_get(shape, d));
            numel *= (size_t)shapes[i][d];
        }
        float *v = malloc(numel * sizeof *v);
        stream_values(v, name, numel, (float)json_number_value(json_array_get(e, 3)),
                      (float)json_number_value(json_array_get(e, 4)));
        outs[i] = (lf__safetensors_out){ name, LF__ST_F32, (int32_t)json_array_size(shape), shapes[i], v };
        data[i] = v;
        if (strcmp(dtype, "I64") == 0) {   /* num_batches_tracked, as PyTorch stores it */
            int64_t *iv = malloc(numel * sizeof *iv);
            for (size_t j = 0; j < numel; j++)
                iv[j] = (int64_t)v[j];
            free(v);
            outs[i].dtype = LF__ST_I64;
            outs[i].data = data[i] = iv;
        } else {
            ck_assert_str_eq(dtype, "F32");
        }
    }
    const lf__safetensors_tensor *x = lf__safetensors_find(&ex->f, "input");
    ck_assert(x && x->ndim == 4);
    char shape_text[64];
    snprintf(shape_text, sizeof shape_text, "%lld,%lld,%lld", (long long)x->shape[1], (long long)x->shape[2],
             (long long)x->shape[3]);
    const char *keys[] = { "format", "libforget.input_shape" }, *values[] = { "pt", shape_text };
    ck_assert_lf_ok(lf__safetensors_write(ctx, path, outs, n, keys, values, 2));
    for (size_t i = 0; i < n; i++)
        free(data[i]);
    free(data);
    free(shapes);
    free(outs);
    json_decref(layout);
}

/* ---- comparisons ---- */

/* max |a − b| over max(max |b|, 1e-6); a[j·stride] is compared with b[j] */
static double scaled_error(const float *a, size_t stride, const float *b, size_t n)
{
    double diff = 0, scale = 1e-6;
    for (size_t j = 0; j < n; j++) {
        double d = fabs((double)a[j * stride] - b[j]);
        diff = d > diff ? d : diff;
        scale = fabs(b[j]) > scale ? fabs(b[j]) : scale;
    }
    return diff / scale;
}

typedef struct worst {
    double err;
    char   what[LF__MAX_NAME + 16];
} worst;

static void note(worst *w, double err, const char *what, const char *fixture)
{
    ck_assert_msg(err <= TOL, "%s: %s differs from PyTorch by %.3g of its scale (tolerance %g)", fixture,
                  what, err, TOL);
    if (err >= w->err) {
        w->err = err;
        snprintf(w->what, sizeof w->what, "%s", what);
    }
}

/* the fixture's tensor `name` against n library floats */
static double against(const st_file *ex, const char *name, const float *lib, size_t n)
{
    size_t numel = 0;
    float *want = st_floats(ex, name, &numel);
    ck_assert_msg(numel == n, "%s: '%s' has %zu elements, the library %zu", ex->f.path, name, numel, n);
    double err = scaled_error(lib, 1, want, n);
    free(want);
    return err;
}

/* ---- the test ---- */

static float *dev_floats(lf_context *ctx, size_t n)
{
    float *p = NULL;
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&p, n, sizeof(float), 0, "test buffer"));
    return p;
}

START_TEST(matches_pytorch)
{
    const char *arch = archs[_i / N_BACKENDS];
    lf_backend_kind backend = backends[_i % N_BACKENDS];
    if (!lf_backend_is_available(backend))
        return;
    lf_context *ctx = lf_test_context(backend);
    char fixture[128];
    snprintf(fixture, sizeof fixture, "%s on %s", arch, lf_backend_name(backend));

    char expect_path[1024], model_path[1024], tmpdir[256] = "";
    fixture_path(expect_path, sizeof expect_path, arch, "expect");
    st_file ex;
    st_open(&ex, ctx, expect_path);
    int stream_model = lf__safetensors_metadata(&ex.f, "state_dict") != NULL;
    if (stream_model) {
        snprintf(tmpdir, sizeof tmpdir, "%s", lf_test_tmpdir());
        snprintf(model_path, sizeof model_path, "%s/%s.safetensors", tmpdir, arch);
        write_stream_model(&ex, ctx, model_path);
    } else {
        fixture_path(model_path, sizeof model_path, arch, "model");
    }

    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_load(&m, ctx, model_path, NULL));
    ck_assert_str_eq(m->arch->name, arch);
    ck_assert_int_eq(m->has_norm, 0);   /* PyTorch's model has none: inputs go in as they are */
    const lf__safetensors_tensor *xt = lf__safetensors_find(&ex.f, "input");
    ck_assert(xt && xt->ndim == 4);
    ck_assert_int_eq(m->in_channels, xt->shape[1]);
    ck_assert_int_eq(m->in_height, xt->shape[2]);
    ck_assert_int_eq(m->in_width, xt->shape[3]);
    const int64_t N = xt->shape[0], K = m->num_classes;
    const size_t in_size = xt->numel;

    /* inputs */
    size_t n_labels = 0;
    float *x = st_floats(&ex, "input", NULL), *labels_f = st_floats(&ex, "labels", &n_labels);
    ck_assert_uint_eq(n_labels, (size_t)N);
    int32_t *labels = malloc((size_t)N * sizeof *labels);
    for (int64_t i = 0; i < N; i++)
        labels[i] = (int32_t)labels_f[i];
    float *xd = dev_floats(ctx, in_size), *logits = dev_floats(ctx, (size_t)(N * K));
    float *probs = dev_floats(ctx, (size_t)(N * K)), *dlogits = dev_floats(ctx, (size_t)(N * K));
    float *loss = dev_floats(ctx, (size_t)N);
    int32_t *yd = NULL;
    ck_assert_lf_ok(lf__nn_dev_alloc(ctx, (void **)&yd, (size_t)N, sizeof(int32_t), 0, "labels"));
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, xd, x, in_size * sizeof *x));
    ck_assert_lf_ok(LF__BE(ctx, mem_upload, yd, labels, (size_t)N * sizeof *labels));

    /* one step as lf_model_train takes it: train-mode forward, the loss, mean-weighted backward */
    float *host = malloc((size_t)(N * K) * sizeof *host), *loss_h = malloc((size_t)N * sizeof *loss_h);
    worst w = { 0, "" };
    ck_assert_lf_ok(m->arch->forward(m, xd, N, 1, logits));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, host, logits, (size_t)(N * K) * sizeof *host));
    note(&w, against(&ex, "logits_train", host, (size_t)(N * K)), "logits_train", fixture);
    ck_assert_lf_ok(LF__BE(ctx, softmax_xent_fwd, loss, probs, logits, yd, N, K));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, loss_h, loss, (size_t)N * sizeof *loss_h));
    double mean = 0;
    for (int64_t i = 0; i < N; i++)
        mean += loss_h[i] / (double)N;
    float mean_f = (float)mean;
    note(&w, against(&ex, "loss", &mean_f, 1), "loss", fixture);
    float *weight = loss_h;   /* the losses are read: each row now weighs 1/N (reduction='mean') */
    for (int64_t i = 0; i < N; i++)
        weight[i] = 1.0f / (float)N;
    ck_assert_lf_ok(lf__model_zero_grads(m));
    ck_assert_lf_ok(LF__BE(ctx, softmax_xent_bwd, dlogits, probs, yd, weight, N, K));
    ck_assert_lf_ok(m->arch->backward(m, dlogits, N, NULL, NULL));

    /* every parameter's gradient (sampled every grad_step.<name> elements) and its norm, then
     * every buffer */
    size_t np = lf_model_num_params(m), n_grads = 0, max_buf = 1;
    float *grads = malloc(np * sizeof *grads);
    ck_assert_lf_ok(LF__BE(ctx, mem_download, grads, m->grads, np * sizeof *grads));
    worst wg = { 0, "" };
    for (size_t i = 0; i < m->n_tensors; i++) {
        const lf__tensor_desc *t = &m->tensors[i];
        if (t->kind != LF__TENSOR_PARAM) {
            max_buf = t->numel > max_buf ? t->numel : max_buf;
            continue;
        }
        char key[LF__MAX_NAME + 16];
        snprintf(key, sizeof key, "grad_step.%s", t->name);
        const char *step_text = lf__safetensors_metadata(&ex.f, key);
        size_t step = step_text ? (size_t)strtoul(step_text, NULL, 10) : 1, numel = 0;
        ck_assert_uint_ge(step, 1);
        snprintf(key, sizeof key, "grad.%s", t->name);
        float *want = st_floats(&ex, key, &numel);
        ck_assert_msg(numel == (t->numel + step - 1) / step, "%s: %zu elements for step %zu of %zu", key,
                      numel, step, t->numel);
        const float *g = grads + t->offset;
        double err = scaled_error(g, step, want, numel);
        free(want);
        snprintf(key, sizeof key, "grad_sumsq.%s", t->name);
        const lf__safetensors_tensor *sq = lf__safetensors_find(&ex.f, key);
        ck_assert_msg(sq && sq->dtype == LF__ST_F64 && sq->numel == 1, "no F64 scalar %s", key);
        double want_sq, sumsq = 0;
        memcpy(&want_sq, lf__safetensors_raw(&ex.f, sq), sizeof want_sq);
        for (size_t j = 0; j < t->numel; j++)
            sumsq += (double)g[j] * g[j];
        double norm_err = fabs(sqrt(sumsq) - sqrt(want_sq)) / fmax(sqrt(want_sq), 1e-6);
        err = err > norm_err ? err : norm_err;
        snprintf(key, sizeof key, "grad.%s", t->name);
        note(&wg, err, key, fixture);
        n_grads++;
    }
    size_t in_file = 0;   /* and no gradient of PyTorch's is left unchecked */
    for (size_t i = 0; i < ex.f.n_tensors; i++)
        in_file += strncmp(ex.f.tensors[i].name, "grad.", 5) == 0;
    ck_assert_uint_eq(in_file, n_grads);

    float *buf = malloc(max_buf * sizeof *buf);
    worst wb = { 0, "" };
    for (size_t i = 0; i < m->n_tensors; i++) {
        const lf__tensor_desc *t = &m->tensors[i];
        if (t->kind != LF__TENSOR_BUFFER)
            continue;
        char key[LF__MAX_NAME + 16];
        snprintf(key, sizeof key, "after.%s", t->name);
        ck_assert_lf_ok(lf__model_download(m, t, buf));
        note(&wb, against(&ex, key, buf, t->numel), key, fixture);
    }

    /* eval mode, with the running statistics the train-mode forward left */
    worst we = { 0, "" };
    ck_assert_lf_ok(m->arch->forward(m, xd, N, 0, logits));
    ck_assert_lf_ok(LF__BE(ctx, mem_download, host, logits, (size_t)(N * K) * sizeof *host));
    note(&we, against(&ex, "logits_eval", host, (size_t)(N * K)), "logits_eval", fixture);

    fprintf(stderr, "# pytorch %s: logits/loss %.2e, gradients %.2e (%s), buffers %.2e (%s), eval logits %.2e\n",
            fixture, w.err, wg.err, wg.what, wb.err, wb.what, we.err);

    free(buf);
    free(grads);
    free(host);
    free(loss_h);
    free(x);
    free(labels_f);
    free(labels);
    void *bufs[] = { xd, logits, probs, dlogits, loss, yd };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        lf__nn_dev_free(ctx, bufs[i]);
    if (stream_model) {
        remove(model_path);
        rmdir(tmpdir);
    }
    lf_model_destroy(m);
    st_close(&ex);
    lf_context_destroy(ctx);
}
END_TEST

static Suite *pytorch_suite(void)
{
    Suite *s = suite_create("pytorch_fixtures");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, matches_pytorch, 0, (int)(sizeof archs / sizeof archs[0]) * N_BACKENDS);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(pytorch_suite)
