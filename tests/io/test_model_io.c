/* Model files: lf_model_save -> lf_model_load round trips bit for bit (parameters, normalisation,
 * metadata); a PyTorch-style state_dict file (no __metadata__, mixed dtypes) loads with the
 * architecture and shapes inferred; wrong shapes, missing, unknown and non-finite tensors and
 * malformed metadata are reported by name; saves are atomic (a failed save leaves no temporary
 * file and keeps the old file). White-box where a test needs the generic parser or a model with
 * an I64 buffer. */
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "st_fixture.h"
#include "core/fileio.h"
#include "core/io/safetensors.h"
#include "core/model_internal.h"

#define HIDDEN 256

static lf_model *new_mlp(lf_context *ctx, int32_t c, int32_t h, int32_t w, int32_t classes, uint64_t seed)
{
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = c;
    cfg.height = h;
    cfg.width = w;
    cfg.num_classes = classes;
    cfg.seed = seed;
    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_create(&m, ctx, "mlp", &cfg));
    return m;
}

static float *get_params(const lf_model *m)
{
    size_t n = lf_model_num_params(m);
    float *p = malloc(n * sizeof *p);
    ck_assert_lf_ok(lf_model_get_params(m, p, n));
    return p;
}

static void assert_same_params(const lf_model *a, const lf_model *b)
{
    size_t n = lf_model_num_params(a);
    ck_assert_uint_eq(lf_model_num_params(b), n);
    float *pa = get_params(a), *pb = get_params(b);
    ck_assert_int_eq(memcmp(pa, pb, n * sizeof *pa), 0);
    free(pa);
    free(pb);
}

/* "%.9g" of each value joined by commas: what the file must hold for the normalisation */
static void join_floats(char *buf, size_t size, const float *v, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%.9g", i ? "," : "", (double)v[i]);
}

/* ---- save and load ---- */

/* the round trip on each backend built here (tensors travel through its memory) */
static const lf_backend_kind round_trip_backends[] = { LF_BACKEND_REFERENCE, LF_BACKEND_CPU };

START_TEST(save_load_round_trip)
{
    if (!lf_backend_is_available(round_trip_backends[_i]))
        return;
    lf_context *ctx = lf_test_context(round_trip_backends[_i]);
    const char *dir = lf_test_tmpdir();
    const char *path = st_path(dir, "m.safetensors");
    lf_model *m = new_mlp(ctx, 3, 4, 4, 3, 77);
    /* values with no short decimal form, so "%.9g" must carry every bit */
    const float mean[3] = { 0.4914f, -1.0f / 3.0f, 1e-10f };
    const float std[3] = { 0.2470f, 7.0e-7f, 123456.789f };
    ck_assert_lf_ok(lf_model_set_normalization(m, mean, std, 3));
    ck_assert_lf_ok(lf_model_set_metadata(m, "split.seed", "42"));
    ck_assert_lf_ok(lf_model_set_metadata(m, "note", "forget \"class 3\", \xc3\xa9t\xc3\xa9"));
    ck_assert_lf_ok(lf_model_save(m, path));
    ck_assert_int_eq(st_count_entries(dir), 1);

    lf_model *back = NULL;
    ck_assert_lf_ok(lf_model_load(&back, ctx, path, NULL));
    ck_assert_str_eq(lf_model_arch(back), "mlp");
    int32_t c, h, w;
    ck_assert_lf_ok(lf_model_input_shape(back, &c, &h, &w));
    ck_assert_int_eq(c, 3);
    ck_assert_int_eq(h, 4);
    ck_assert_int_eq(w, 4);
    ck_assert_int_eq(lf_model_num_classes(back), 3);
    assert_same_params(m, back);
    float mean2[3], std2[3];
    int has_norm = 0;
    ck_assert_lf_ok(lf_model_get_normalization(back, mean2, std2, 3, &has_norm));
    ck_assert_int_eq(has_norm, 1);
    ck_assert_int_eq(memcmp(mean2, mean, sizeof mean), 0);
    ck_assert_int_eq(memcmp(std2, std, sizeof std), 0);
    const char *v = NULL;
    ck_assert_lf_ok(lf_model_get_metadata(back, "split.seed", &v));
    ck_assert_str_eq(v, "42");
    ck_assert_lf_ok(lf_model_get_metadata(back, "note", &v));
    ck_assert_str_eq(v, "forget \"class 3\", \xc3\xa9t\xc3\xa9");
    ck_assert_lf_ok(lf_model_get_metadata(back, "libforget.version", &v));
    ck_assert_str_eq(v, LF_VERSION_STRING);
    ck_assert_lf_ok(lf_model_get_metadata(back, "format", &v));
    ck_assert_str_eq(v, "pt");
    /* structural keys become the model itself, not metadata that could go stale */
    ck_assert_lf_status(lf_model_get_metadata(back, "libforget.arch", &v), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_get_metadata(back, "libforget.norm_mean", &v), LF_E_INVALID_ARG);

    /* same outputs */
    float x[2 * 48], la[2 * 3], lb[2 * 3];
    unsigned long long s = 5;
    for (size_t i = 0; i < 2 * 48; i++)
        x[i] = (float)lf_test_u01(&s);
    ck_assert_lf_ok(lf_model_forward(m, x, 2, la));
    ck_assert_lf_ok(lf_model_forward(back, x, 2, lb));
    ck_assert_int_eq(memcmp(la, lb, sizeof la), 0);

    /* saving the loaded model again writes the same bytes */
    const char *path2 = st_path(dir, "m2.safetensors");
    ck_assert_lf_ok(lf_model_save(back, path2));
    size_t n1, n2;
    uint8_t *b1 = st_slurp(path, &n1), *b2 = st_slurp(path2, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_int_eq(memcmp(b1, b2, n1), 0);
    free(b1);
    free(b2);

    lf_model_destroy(back);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(saved_file_layout)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    const char *dir = lf_test_tmpdir();
    const char *path = st_path(dir, "m.safetensors");
    lf_model *m = new_mlp(ctx, 1, 2, 5, 4, 3);
    const float mean[1] = { 0.2860407f }, std[1] = { 0.3530242f };
    ck_assert_lf_ok(lf_model_set_normalization(m, mean, std, 1));
    ck_assert_lf_ok(lf_model_save(m, path));

    uint8_t *bytes;
    size_t size;
    ck_assert_lf_ok(lf__read_file(NULL, path, (size_t)1 << 30, &bytes, &size));
    lf__safetensors_file f;
    ck_assert_lf_ok(lf__safetensors_parse(&f, NULL, path, bytes, size));
    ck_assert_uint_eq(f.data_start % 8, 0);
    ck_assert_uint_eq(f.n_tensors, 6);
    const char *names[6] = { "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias" };
    const int64_t rows[6] = { HIDDEN, HIDDEN, HIDDEN, HIDDEN, 4, 4 };
    const int64_t cols[6] = { 10, 0, HIDDEN, 0, HIDDEN, 0 };   /* 0: a vector */
    float *params = get_params(m);
    size_t offset = 0;
    for (int i = 0; i < 6; i++) {
        const lf__safetensors_tensor *t = &f.tensors[i];   /* declaration order */
        ck_assert_str_eq(t->name, names[i]);
        ck_assert_int_eq(t->dtype, LF__ST_F32);
        ck_assert_int_eq(t->ndim, cols[i] ? 2 : 1);
        ck_assert_int_eq(t->shape[0], rows[i]);
        if (cols[i])
            ck_assert_int_eq(t->shape[1], cols[i]);
        ck_assert_int_eq(memcmp(lf__safetensors_raw(&f, t), params + offset, t->numel * sizeof(float)), 0);
        offset += t->numel;
    }
    ck_assert_uint_eq(offset, lf_model_num_params(m));
    ck_assert_str_eq(lf__safetensors_metadata(&f, "format"), "pt");
    ck_assert_str_eq(lf__safetensors_metadata(&f, "libforget.arch"), "mlp");
    ck_assert_str_eq(lf__safetensors_metadata(&f, "libforget.input_shape"), "1,2,5");
    ck_assert_str_eq(lf__safetensors_metadata(&f, "libforget.classes"), "4");
    ck_assert_str_eq(lf__safetensors_metadata(&f, "libforget.version"), LF_VERSION_STRING);
    char want[64];
    join_floats(want, sizeof want, mean, 1);
    ck_assert_str_eq(lf__safetensors_metadata(&f, "libforget.norm_mean"), want);
    join_floats(want, sizeof want, std, 1);
    ck_assert_str_eq(lf__safetensors_metadata(&f, "libforget.norm_std"), want);
    lf__safetensors_free(&f);
    lf__free(NULL, bytes, size + 1);
    free(params);

    /* without normalisation the keys are absent */
    lf_model *plain = new_mlp(ctx, 1, 2, 5, 4, 3);
    ck_assert_lf_ok(lf_model_save(plain, path));
    ck_assert_lf_ok(lf__read_file(NULL, path, (size_t)1 << 30, &bytes, &size));
    ck_assert_lf_ok(lf__safetensors_parse(&f, NULL, path, bytes, size));
    ck_assert_ptr_null(lf__safetensors_metadata(&f, "libforget.norm_mean"));
    ck_assert_ptr_null(lf__safetensors_metadata(&f, "libforget.norm_std"));
    lf__safetensors_free(&f);
    lf__free(NULL, bytes, size + 1);
    lf_model *back = NULL;
    int has_norm = 1;
    ck_assert_lf_ok(lf_model_load(&back, ctx, path, NULL));
    ck_assert_lf_ok(lf_model_get_normalization(back, NULL, NULL, 0, &has_norm));
    ck_assert_int_eq(has_norm, 0);

    lf_model_destroy(back);
    lf_model_destroy(plain);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

/* ---- PyTorch-style files, built by hand ---- */

/* value k/64 with |k| <= 32: exact in F32, F16, BF16 and F64 */
static float fixture_value(int tensor, size_t j)
{
    return (float)((int)((j * 7 + (size_t)tensor * 13) % 65) - 32) / 64.0f;
}

/* IEEE half bits of v, for values exactly representable as normal halves (or zero) */
static uint16_t half_bits(float v)
{
    if (v == 0.0f)
        return signbit(v) ? 0x8000 : 0;
    int e;
    float m = frexpf(fabsf(v), &e);   /* |v| = m·2^e, m in [0.5, 1) = 1.f·2^(e-1) */
    uint16_t bits = (uint16_t)(((e - 1 + 15) << 10) | (uint16_t)((2.0f * m - 1.0f) * 1024.0f));
    return (uint16_t)((v < 0 ? 0x8000 : 0) | bits);
}

typedef struct torch_file {
    const char *metadata;     /* __metadata__ object text, or NULL */
    const char *skip;         /* tensor left out */
    const char *short_row;    /* tensor whose first dimension is one short */
    const char *extra;        /* an additional U8 tensor of this name */
    int         nan_at;       /* fc3.bias element made NaN (-1: none) */
} torch_file;

/* An MLP state_dict for in = 12, classes = 4 as PyTorch + safetensors would write it, with mixed
 * dtypes (fc1.bias BF16, fc2.weight F16, fc2.bias F64) and tensors in a shuffled order. Returns
 * the expected parameter vector (declaration order), malloc'd. */
static float *write_torch_mlp(const char *path, const torch_file *o)
{
    const char *names[6] = { "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight",
                             "fc3.bias" };
    const int64_t shapes[6][2] = { { HIDDEN, 12 }, { HIDDEN, 0 }, { HIDDEN, HIDDEN }, { HIDDEN, 0 },
                                   { 4, HIDDEN }, { 4, 0 } };
    const char *dtypes[6] = { "F32", "BF16", "F16", "F64", "F32", "F32" };
    const int order[6] = { 5, 2, 0, 3, 1, 4 };
    size_t numel[6], start[6], total = 0;
    for (int t = 0; t < 6; t++) {
        numel[t] = (size_t)shapes[t][0] * (size_t)(shapes[t][1] ? shapes[t][1] : 1);
        start[t] = total;
        total += numel[t];
    }
    float *expected = malloc(total * sizeof *expected);
    for (int t = 0; t < 6; t++)
        for (size_t j = 0; j < numel[t]; j++)
            expected[start[t] + j] = fixture_value(t, j);

    st_build b;
    st_begin(&b, o->metadata);
    uint8_t *buf = malloc(total * 8);
    for (int k = 0; k < 6; k++) {
        int t = order[k];
        if (o->skip && strcmp(o->skip, names[t]) == 0)
            continue;
        int64_t shape[2] = { shapes[t][0], shapes[t][1] };
        if (o->short_row && strcmp(o->short_row, names[t]) == 0)
            shape[0]--;
        size_t n = (size_t)shape[0] * (size_t)(shape[1] ? shape[1] : 1), elem = 4;
        for (size_t j = 0; j < n; j++) {
            float v = fixture_value(t, j);
            if (t == 5 && (int)j == o->nan_at)
                v = NAN;
            if (strcmp(dtypes[t], "F32") == 0) {
                memcpy(buf + 4 * j, &v, 4);
            } else if (strcmp(dtypes[t], "F64") == 0) {
                double d = v;
                memcpy(buf + 8 * j, &d, 8);
                elem = 8;
            } else {
                uint32_t u;
                memcpy(&u, &v, 4);
                uint16_t hb = strcmp(dtypes[t], "F16") == 0 ? half_bits(v) : (uint16_t)(u >> 16);
                buf[2 * j] = (uint8_t)hb;
                buf[2 * j + 1] = (uint8_t)(hb >> 8);
                elem = 2;
            }
        }
        st_add(&b, names[t], dtypes[t], shape[1] ? 2 : 1, shape, buf, n * elem);
    }
    if (o->extra) {
        int64_t s[1] = { 3 };
        st_add(&b, o->extra, "U8", 1, s, "\1\0\1", 3);
    }
    st_finish(&b, path);
    free(buf);
    return expected;
}

static const torch_file PLAIN = { NULL, NULL, NULL, NULL, -1 };

START_TEST(load_pytorch_state_dict)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    const char *path = st_path(lf_test_tmpdir(), "torch.safetensors");
    float *expected = write_torch_mlp(path, &PLAIN);

    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_load(&m, ctx, path, NULL));
    ck_assert_str_eq(lf_model_arch(m), "mlp");
    ck_assert_int_eq(lf_model_num_classes(m), 4);
    int32_t c, h, w;
    ck_assert_lf_ok(lf_model_input_shape(m, &c, &h, &w));
    ck_assert_int_eq(c * h * w, 12);   /* the MLP's own guess of the image shape (3×2×2) */
    size_t n = lf_model_num_params(m);
    ck_assert_uint_eq(n, 12 * 256 + 256 + 256 * 256 + 256 + 4 * 256 + 4);
    float *p = get_params(m);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(p[i] == expected[i], "parameter %zu: %g, expected %g", i, (double)p[i],
                      (double)expected[i]);
    float mean[3] = { 9, 9, 9 }, std[3] = { 9, 9, 9 };
    int has_norm = 1;
    ck_assert_lf_ok(lf_model_get_normalization(m, mean, std, (size_t)c, &has_norm));
    ck_assert_int_eq(has_norm, 0);
    ck_assert_float_eq(mean[0], 0.0f);
    ck_assert_float_eq(std[0], 1.0f);
    const char *v;
    ck_assert_lf_status(lf_model_get_metadata(m, "format", &v), LF_E_INVALID_ARG);
    lf_model_destroy(m);

    /* the architecture named by the caller */
    lf_model_load_options o = LF_MODEL_LOAD_OPTIONS_INIT;
    o.arch = "mlp";
    ck_assert_lf_ok(lf_model_load(&m, ctx, path, &o));
    lf_model_destroy(m);
    o.arch = "no-such-arch";
    m = (lf_model *)0x1;
    ck_assert_lf_status(lf_model_load(&m, ctx, path, &o), LF_E_UNKNOWN_ARCH);
    ck_assert_ptr_null(m);
    st_assert_message_has(path, "no-such-arch", (const char *)NULL);
    o.arch = NULL;
    o.struct_size = 4;
    ck_assert_lf_status(lf_model_load(&m, ctx, path, &o), LF_E_ABI);

    free(p);
    free(expected);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(load_metadata_overrides_the_guess)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    const char *path = st_path(lf_test_tmpdir(), "meta.safetensors");
    torch_file tf = PLAIN;
    tf.metadata = "{\"libforget.arch\":\"mlp\",\"libforget.input_shape\":\"1,1,12\","
                  "\"libforget.classes\":\"4\",\"libforget.norm_mean\":\"0.5\",\"libforget.norm_std\":\"0.25\",\"split.seed\":\"7\","
                  "\"libforget.future\":\"kept\"}";
    free(write_torch_mlp(path, &tf));
    lf_model *m = NULL;
    ck_assert_lf_ok(lf_model_load(&m, ctx, path, NULL));
    int32_t c, h, w;
    ck_assert_lf_ok(lf_model_input_shape(m, &c, &h, &w));
    ck_assert_int_eq(c, 1);
    ck_assert_int_eq(h, 1);
    ck_assert_int_eq(w, 12);
    float mean, std;
    int has_norm = 0;
    ck_assert_lf_ok(lf_model_get_normalization(m, &mean, &std, 1, &has_norm));
    ck_assert_int_eq(has_norm, 1);
    ck_assert_float_eq(mean, 0.5f);
    ck_assert_float_eq(std, 0.25f);
    const char *v;
    ck_assert_lf_ok(lf_model_get_metadata(m, "split.seed", &v));
    ck_assert_str_eq(v, "7");
    ck_assert_lf_ok(lf_model_get_metadata(m, "libforget.future", &v));   /* unknown library keys survive */
    ck_assert_str_eq(v, "kept");
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

typedef struct bad_torch {
    torch_file  file;
    lf_status   status;
    const char *needle1, *needle2;
} bad_torch;

static const bad_torch bad_torch_files[] = {
    { { NULL, NULL, "fc1.bias", NULL, -1 }, LF_E_SHAPE, "'fc1.bias'",
      "expects shape [256], the file has [255]" },
    { { NULL, NULL, "fc2.weight", NULL, -1 }, LF_E_UNKNOWN_ARCH, "[255, 256]", "lf_model_load_options.arch" },
    { { "{\"libforget.input_shape\":\"1,1,10\"}", NULL, NULL, NULL, -1 }, LF_E_SHAPE, "'fc1.weight'",
      "[256, 10], the file has [256, 12]" },
    { { "{\"libforget.classes\":\"5\"}", NULL, NULL, NULL, -1 }, LF_E_SHAPE, "'fc3.weight'", "[5, 256]" },
    { { NULL, "fc2.bias", NULL, NULL, -1 }, LF_E_FORMAT, "'fc2.bias'", "missing" },
    { { NULL, "fc1.weight", NULL, NULL, -1 }, LF_E_UNKNOWN_ARCH, "fc1.weight", "no built-in architecture" },
    { { NULL, NULL, NULL, "fc1.weight_mask", -1 }, LF_E_FORMAT, "'fc1.weight_mask'",
      "not part of model 'mlp'" },
    { { NULL, NULL, NULL, NULL, 2 }, LF_E_FORMAT, "'fc3.bias'", "element 2" },
    { { "{\"libforget.arch\":\"resnet-9000\"}", NULL, NULL, NULL, -1 }, LF_E_UNKNOWN_ARCH, "resnet-9000",
      "libforget.arch" },
    { { "{\"libforget.input_shape\":\"1,x,12\"}", NULL, NULL, NULL, -1 }, LF_E_FORMAT,
      "libforget.input_shape", "1,x,12" },
    { { "{\"libforget.input_shape\":\"1,12\"}", NULL, NULL, NULL, -1 }, LF_E_FORMAT,
      "libforget.input_shape", "C,H,W" },
    { { "{\"libforget.input_shape\":\"1,1,12,\"}", NULL, NULL, NULL, -1 }, LF_E_FORMAT,
      "libforget.input_shape", "\"1,1,12,\"" },
    { { "{\"libforget.input_shape\":\"0,1,12\"}", NULL, NULL, NULL, -1 }, LF_E_FORMAT,
      "libforget.input_shape", "\"0,1,12\"" },
    { { "{\"libforget.input_shape\":\"1,1,99999999999\"}", NULL, NULL, NULL, -1 }, LF_E_FORMAT,
      "libforget.input_shape", "" },
    { { "{\"libforget.classes\":\"-4\"}", NULL, NULL, NULL, -1 }, LF_E_FORMAT, "libforget.classes", "-4" },
    { { "{\"libforget.classes\":\" 4\"}", NULL, NULL, NULL, -1 }, LF_E_FORMAT, "libforget.classes", "" },
    { { "{\"libforget.classes\":\"1\"}", NULL, NULL, NULL, -1 }, LF_E_OUT_OF_RANGE, "num_classes", "" },
    { { "{\"libforget.norm_mean\":\"0.5,0.5,0.5\",\"libforget.norm_std\":\"1,1\"}", NULL, NULL, NULL, -1 },
      LF_E_FORMAT, "libforget.norm_std", "3 comma-separated" },
    { { "{\"libforget.norm_mean\":\"0.5,0.5\",\"libforget.norm_std\":\"1,1,1\"}", NULL, NULL, NULL, -1 },
      LF_E_FORMAT, "libforget.norm_mean", "\"0.5,0.5\"" },
    { { "{\"libforget.norm_mean\":\"0,0,0\",\"libforget.norm_std\":\"1,0,1\"}", NULL, NULL, NULL, -1 },
      LF_E_FORMAT, "libforget.norm_std", "std[1]" },
    { { "{\"libforget.norm_mean\":\"0,0,0\",\"libforget.norm_std\":\"1,-2,1\"}", NULL, NULL, NULL, -1 },
      LF_E_FORMAT, "libforget.norm_std", "std[1]" },
    { { "{\"libforget.norm_mean\":\"0,0,1e39\",\"libforget.norm_std\":\"1,1,1\"}", NULL, NULL, NULL, -1 },
      LF_E_FORMAT, "libforget.norm_mean", "entry 2" },
    { { "{\"libforget.norm_mean\":\"0,nan,0\",\"libforget.norm_std\":\"1,1,1\"}", NULL, NULL, NULL, -1 },
      LF_E_FORMAT, "libforget.norm_mean", "" },
    { { "{\"libforget.norm_mean\":\"0,[1],0\",\"libforget.norm_std\":\"1,1,1\"}", NULL, NULL, NULL, -1 },
      LF_E_FORMAT, "libforget.norm_mean", "entry 1" },
    { { "{\"libforget.norm_mean\":\"0],[0\",\"libforget.norm_std\":\"1,1,1\"}", NULL, NULL, NULL, -1 },
      LF_E_FORMAT, "libforget.norm_mean", "" },
    { { "{\"libforget.norm_mean\":\"0,0,0\"}", NULL, NULL, NULL, -1 }, LF_E_FORMAT, "libforget.norm_mean",
      "not libforget.norm_std" },
};

START_TEST(load_reports_bad_files)
{
    const bad_torch *c = &bad_torch_files[_i];
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    const char *dir = lf_test_tmpdir();
    const char *path = st_path(dir, "bad.safetensors");
    free(write_torch_mlp(path, &c->file));
    lf_model *m = (lf_model *)0x1;
    ck_assert_lf_status(lf_model_load(&m, ctx, path, NULL), c->status);
    ck_assert_ptr_null(m);
    st_assert_message_has(path, c->needle1, c->needle2, (const char *)NULL);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(load_rejects_missing_and_malformed_files)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    const char *dir = lf_test_tmpdir();
    lf_model *m = (lf_model *)0x1;
    const char *missing = st_path(dir, "absent.safetensors");
    ck_assert_lf_status(lf_model_load(&m, ctx, missing, NULL), LF_E_IO);
    ck_assert_ptr_null(m);
    st_assert_message_has(missing, (const char *)NULL);

    /* a saved model cut short: the last tensor runs past the end */
    const char *path = st_path(dir, "cut.safetensors");
    lf_model *full = new_mlp(ctx, 1, 1, 8, 2, 1);
    ck_assert_lf_ok(lf_model_save(full, path));
    size_t size;
    uint8_t *bytes = st_slurp(path, &size);
    lf_test_write_file(path, bytes, size - 4);
    free(bytes);
    ck_assert_lf_status(lf_model_load(&m, ctx, path, NULL), LF_E_FORMAT);
    st_assert_message_has(path, "'fc3.bias'", "past the end", (const char *)NULL);

    lf_test_write_file(path, "not a model at all", 18);
    ck_assert_lf_status(lf_model_load(&m, ctx, path, NULL), LF_E_FORMAT);
    st_assert_message_has(path, "offset 0", (const char *)NULL);

    /* a directory */
    ck_assert_int_ne(lf_model_load(&m, ctx, dir, NULL), LF_OK);
    ck_assert_ptr_null(m);

    lf_model_destroy(full);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(load_and_save_check_arguments)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    const char *path = st_path(lf_test_tmpdir(), "m.safetensors");
    lf_model *m = (lf_model *)0x1;
    ck_assert_lf_status(lf_model_load(NULL, ctx, path, NULL), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_load(&m, NULL, path, NULL), LF_E_INVALID_ARG);
    ck_assert_ptr_null(m);
    m = (lf_model *)0x1;
    ck_assert_lf_status(lf_model_load(&m, ctx, NULL, NULL), LF_E_INVALID_ARG);
    ck_assert_ptr_null(m);
    lf_model *model = new_mlp(ctx, 1, 1, 4, 2, 1);
    ck_assert_lf_status(lf_model_save(NULL, path), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_model_save(model, NULL), LF_E_INVALID_ARG);
    lf_model_destroy(model);
    lf_context_destroy(ctx);
}
END_TEST

/* ---- atomic saves ---- */

START_TEST(save_into_missing_folder_fails_cleanly)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    const char *dir = lf_test_tmpdir();
    const char *path = st_path(dir, "missing/m.safetensors");
    lf_model *m = new_mlp(ctx, 1, 1, 4, 2, 1);
    ck_assert_lf_status(lf_model_save(m, path), LF_E_IO);
    st_assert_message_has(path, (const char *)NULL);
    ck_assert_int_eq(st_count_entries(dir), 0);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(save_replaces_atomically)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    const char *dir = lf_test_tmpdir();
    const char *path = st_path(dir, "m.safetensors");
    lf_model *a = new_mlp(ctx, 1, 1, 16, 3, 1), *b = new_mlp(ctx, 1, 1, 16, 3, 2);
    ck_assert_lf_ok(lf_model_save(a, path));
    ck_assert_lf_ok(lf_model_save(b, path));   /* over an existing file */
    ck_assert_int_eq(st_count_entries(dir), 1);
    lf_model *back = NULL;
    ck_assert_lf_ok(lf_model_load(&back, ctx, path, NULL));
    assert_same_params(b, back);
    lf_model_destroy(back);

    /* a write that fails half way (the file size limit, as on a full disk): the old file stays
     * whole and no temporary file is left */
    size_t old_size;
    uint8_t *old = st_slurp(path, &old_size);
    struct rlimit saved, small;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
    small = saved;
    small.rlim_cur = 4096;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    lf_status st = lf_model_save(a, path);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, prev);
    ck_assert_msg(st == LF_E_IO, "save under a 4 KiB file size limit -> %s: %s", lf_status_name(st),
                  lf_last_error_message());
    st_assert_message_has(path, (const char *)NULL);
    size_t now_size;
    uint8_t *now = st_slurp(path, &now_size);
    ck_assert_uint_eq(now_size, old_size);
    ck_assert_int_eq(memcmp(now, old, old_size), 0);
    ck_assert_int_eq(st_count_entries(dir), 1);
    free(old);
    free(now);

    /* a directory in the way: the rename fails, the directory stays */
    const char *sub = st_path(dir, "sub");
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    ck_assert_lf_status(lf_model_save(a, sub), LF_E_IO);
    struct stat sb;
    ck_assert_int_eq(stat(sub, &sb), 0);
    ck_assert(S_ISDIR(sb.st_mode));
    ck_assert_int_eq(st_count_entries(dir), 2);
    ck_assert_int_eq(st_count_entries(sub), 0);

    lf_model_destroy(a);
    lf_model_destroy(b);
    lf_context_destroy(ctx);
}
END_TEST

START_TEST(save_refuses_non_finite_weights)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    const char *dir = lf_test_tmpdir();
    const char *path = st_path(dir, "nan.safetensors");
    lf_model *m = new_mlp(ctx, 1, 1, 4, 2, 1);
    float *p = get_params(m);
    p[4 * 256 + 3] = INFINITY;   /* fc1.bias[3] */
    /* lf_model_set_params refuses it: written past it, as a diverging method could */
    const lf__tensor_desc *t = lf__model_find_tensor(m, "fc1.bias");
    ck_assert_lf_ok(lf__model_upload(m, t, p + t->offset));
    ck_assert_lf_status(lf_model_save(m, path), LF_E_NUMERIC);
    st_assert_message_has(path, "'fc1.bias'", "element 3", (const char *)NULL);
    ck_assert_int_eq(st_count_entries(dir), 0);
    free(p);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

/* ---- I64 buffers (a model with a num_batches_tracked, as batch norm has) ---- */

static lf_status fake_declare(lf_model *m)
{
    int64_t w[2] = { 2, 3 };
    LF__TRY(lf__model_add_tensor(m, "lin.weight", LF__TENSOR_PARAM, LF__FILE_F32, 2, w));
    return lf__model_add_tensor(m, "bn.num_batches_tracked", LF__TENSOR_BUFFER, LF__FILE_I64, 0, NULL);
}

static const lf__arch fake_arch = { .name = "fake", .declare = fake_declare };

START_TEST(save_writes_i64_buffers)
{
    lf_context *ctx = lf_test_context(LF_BACKEND_REFERENCE);
    const char *dir = lf_test_tmpdir();
    const char *path = st_path(dir, "bn.safetensors");
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = cfg.height = 1;
    cfg.width = 3;
    cfg.num_classes = 2;
    lf_model *m = NULL;
    ck_assert_lf_ok(lf__model_new(&m, ctx, &fake_arch, &cfg));
    const lf__tensor_desc *nbt = lf__model_find_tensor(m, "bn.num_batches_tracked");
    float count = 16777216.0f;   /* 2^24 */
    ck_assert_lf_ok(lf__model_upload(m, nbt, &count));
    ck_assert_lf_ok(lf_model_save(m, path));

    uint8_t *bytes;
    size_t size;
    ck_assert_lf_ok(lf__read_file(NULL, path, (size_t)1 << 30, &bytes, &size));
    lf__safetensors_file f;
    ck_assert_lf_ok(lf__safetensors_parse(&f, NULL, path, bytes, size));
    const lf__safetensors_tensor *t = lf__safetensors_find(&f, "bn.num_batches_tracked");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->dtype, LF__ST_I64);
    ck_assert_int_eq(t->ndim, 0);
    int64_t v;
    memcpy(&v, lf__safetensors_raw(&f, t), sizeof v);
    ck_assert_int_eq(v, 16777216);
    ck_assert_int_eq(lf__safetensors_find(&f, "lin.weight")->dtype, LF__ST_F32);
    ck_assert_str_eq(lf__safetensors_metadata(&f, "libforget.arch"), "fake");
    lf__safetensors_free(&f);
    lf__free(NULL, bytes, size + 1);

    /* a count that is not an integer cannot be written as I64 */
    count = 2.5f;
    ck_assert_lf_ok(lf__model_upload(m, nbt, &count));
    ck_assert_lf_status(lf_model_save(m, path), LF_E_NUMERIC);
    st_assert_message_has(path, "'bn.num_batches_tracked'", "I64", (const char *)NULL);
    lf_model_destroy(m);
    lf_context_destroy(ctx);
}
END_TEST

static Suite *model_io_suite(void)
{
    Suite *s = suite_create("model_io");
    TCase *tc = tcase_create("round trip");
    tcase_add_loop_test(tc, save_load_round_trip, 0,
                        (int)(sizeof round_trip_backends / sizeof round_trip_backends[0]));
    tcase_add_test(tc, saved_file_layout);
    tcase_add_test(tc, save_writes_i64_buffers);
    suite_add_tcase(s, tc);
    tc = tcase_create("pytorch files");
    tcase_add_test(tc, load_pytorch_state_dict);
    tcase_add_test(tc, load_metadata_overrides_the_guess);
    tcase_add_loop_test(tc, load_reports_bad_files, 0,
                        (int)(sizeof bad_torch_files / sizeof bad_torch_files[0]));
    tcase_add_test(tc, load_rejects_missing_and_malformed_files);
    tcase_add_test(tc, load_and_save_check_arguments);
    suite_add_tcase(s, tc);
    tc = tcase_create("atomic saves");
    tcase_add_test(tc, save_into_missing_folder_fails_cleanly);
    tcase_add_test(tc, save_replaces_atomically);
    tcase_add_test(tc, save_refuses_non_finite_weights);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(model_io_suite)
