/* The generic safetensors layer (white-box): the writer's canonical layout and a round trip,
 * hand-built files for every malformation the parser must reject (each LF_E_FORMAT with a message
 * naming the file and the tensor or byte offset), files it must accept, and the F16 / BF16 / F64 /
 * I64 conversions against hand-computed bit patterns. */
#include <errno.h>
#include <sys/stat.h>

#include "st_fixture.h"
#include "core/fileio.h"
#include "core/io/safetensors.h"

/* Reads and parses path (no context: the C library's allocator); returns the parse status. The
 * caller frees with close_file. */
typedef struct parsed {
    lf__safetensors_file f;
    uint8_t             *bytes;
    size_t               size;
} parsed;

static lf_status open_file(parsed *p, const char *path)
{
    memset(p, 0, sizeof *p);
    ck_assert_lf_ok(lf__read_file(NULL, path, (size_t)1 << 30, &p->bytes, &p->size));
    return lf__safetensors_parse(&p->f, NULL, path, p->bytes, p->size);
}

static void close_file(parsed *p)
{
    lf__safetensors_free(&p->f);
    lf__free(NULL, p->bytes, p->size + 1);
}

/* path must parse as LF_E_FORMAT with a message naming path and each needle. */
static void expect_format_error(const char *path, const char *needle1, const char *needle2)
{
    parsed p;
    lf_status st = open_file(&p, path);
    ck_assert_msg(st == LF_E_FORMAT, "%s: parse -> %s (wanted LF_E_FORMAT): %s", path,
                  lf_status_name(st), lf_last_error_message());
    st_assert_message_has(path, needle1, needle2, (const char *)NULL);
    /* a failed parse leaves an empty table */
    ck_assert_uint_eq(p.f.n_tensors, 0);
    ck_assert_uint_eq(p.f.n_meta, 0);
    close_file(&p);
}

/* ---- the writer ---- */

START_TEST(write_then_parse_round_trip)
{
    const char *dir = lf_test_tmpdir();
    const char *path = st_path(dir, "rt.safetensors");
    float a[6] = { 1.5f, -2.25f, 3.0f, 0.0f, -0.0f, 1e-30f };
    int64_t ints[2] = { 7, -3 };
    uint8_t mask[3] = { 1, 0, 1 };
    float scalar = 42.0f;
    int64_t sa[2] = { 2, 3 }, si[1] = { 2 }, sm[1] = { 3 }, se[2] = { 0, 4 };
    lf__safetensors_out outs[5] = {
        { "layer.a", LF__ST_F32, 2, sa, a },
        { "count", LF__ST_I64, 1, si, ints },
        { "layer.a_mask", LF__ST_U8, 1, sm, mask },
        { "scalar", LF__ST_F32, 0, NULL, &scalar },
        { "empty", LF__ST_F32, 2, se, NULL },
    };
    const char *keys[2] = { "seed", "note" }, *values[2] = { "42", "h\xc3\xa9llo" };
    ck_assert_lf_ok(lf__safetensors_write(NULL, path, outs, 5, keys, values, 2));
    ck_assert_int_eq(st_count_entries(dir), 1);   /* no temporary file left behind */

    /* canonical layout: header padded with spaces to a multiple of 8, metadata first, data
     * contiguous in the order given */
    size_t size;
    uint8_t *raw = st_slurp(path, &size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | raw[i];
    ck_assert_uint_eq(n % 8, 0);
    ck_assert_uint_eq(size, 8 + n + sizeof a + sizeof ints + sizeof mask + sizeof scalar);
    ck_assert_int_eq(memcmp(raw + 8, "{\"__metadata__\":{\"seed\":\"42\",", 29), 0);
    size_t end = 8 + (size_t)n;
    while (raw[end - 1] == ' ')
        end--;
    ck_assert_int_eq(raw[end - 1], '}');
    ck_assert_uint_lt(8 + n - end, 8);
    ck_assert_int_eq(memcmp(raw + 8 + n, a, sizeof a), 0);
    ck_assert_int_eq(memcmp(raw + 8 + n + sizeof a, ints, sizeof ints), 0);

    /* writing again gives the same bytes */
    const char *path2 = st_path(dir, "rt2.safetensors");
    ck_assert_lf_ok(lf__safetensors_write(NULL, path2, outs, 5, keys, values, 2));
    size_t size2;
    uint8_t *raw2 = st_slurp(path2, &size2);
    ck_assert_uint_eq(size2, size);
    ck_assert_int_eq(memcmp(raw, raw2, size), 0);
    free(raw);
    free(raw2);

    parsed p;
    ck_assert_lf_ok(open_file(&p, path));
    ck_assert_uint_eq(p.f.n_tensors, 5);
    ck_assert_uint_eq(p.f.data_start, 8 + n);
    const lf__safetensors_tensor *t = lf__safetensors_find(&p.f, "layer.a");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->dtype, LF__ST_F32);
    ck_assert_int_eq(t->ndim, 2);
    ck_assert_int_eq(t->shape[0], 2);
    ck_assert_int_eq(t->shape[1], 3);
    ck_assert_uint_eq(t->numel, 6);
    ck_assert_uint_eq(t->begin, 0);
    ck_assert_uint_eq(t->end, 24);
    float back[6];
    ck_assert_lf_ok(lf__safetensors_read_f32(&p.f, t, back));
    ck_assert_int_eq(memcmp(back, a, sizeof a), 0);   /* bit for bit, -0.0 included */

    t = lf__safetensors_find(&p.f, "count");
    ck_assert_int_eq(t->dtype, LF__ST_I64);
    ck_assert_uint_eq(t->begin, 24);
    float fi[2];
    ck_assert_lf_ok(lf__safetensors_read_f32(&p.f, t, fi));
    ck_assert_float_eq(fi[0], 7.0f);
    ck_assert_float_eq(fi[1], -3.0f);

    t = lf__safetensors_find(&p.f, "layer.a_mask");
    ck_assert_int_eq(t->dtype, LF__ST_U8);
    ck_assert_uint_eq(t->end - t->begin, 3);
    ck_assert_int_eq(memcmp(lf__safetensors_raw(&p.f, t), mask, 3), 0);
    float dummy[3];
    ck_assert_lf_status(lf__safetensors_read_f32(&p.f, t, dummy), LF_E_FORMAT);
    st_assert_message_has(path, "layer.a_mask", "U8", (const char *)NULL);

    t = lf__safetensors_find(&p.f, "scalar");
    ck_assert_int_eq(t->ndim, 0);
    ck_assert_uint_eq(t->numel, 1);
    ck_assert_lf_ok(lf__safetensors_read_f32(&p.f, t, back));
    ck_assert_float_eq(back[0], 42.0f);

    t = lf__safetensors_find(&p.f, "empty");
    ck_assert_uint_eq(t->numel, 0);
    ck_assert_uint_eq(t->begin, t->end);
    ck_assert_ptr_null(lf__safetensors_find(&p.f, "absent"));

    ck_assert_uint_eq(p.f.n_meta, 2);
    ck_assert_str_eq(lf__safetensors_metadata(&p.f, "seed"), "42");
    ck_assert_str_eq(lf__safetensors_metadata(&p.f, "note"), "h\xc3\xa9llo");
    ck_assert_ptr_null(lf__safetensors_metadata(&p.f, "absent"));
    close_file(&p);
}
END_TEST

/* The reference implementation's own test vectors (huggingface/safetensors
 * bindings/python/tests/test_simple.py): what its writer produces for a 2×2 I32 tensor of zeros
 * (our writer must produce the same bytes), and a file with metadata whose header is padded to
 * 102 bytes, not a multiple of 8 (our parser must read it). */
START_TEST(reference_test_vectors)
{
    const char *dir = lf_test_tmpdir();
    static const char written[] =
        "@\0\0\0\0\0\0\0{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}    "
        "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
    int32_t zeros[4] = { 0, 0, 0, 0 };
    int64_t shape[2] = { 2, 2 };
    lf__safetensors_out t = { "test", LF__ST_I32, 2, shape, zeros };
    const char *path = st_path(dir, "written.safetensors");
    ck_assert_lf_ok(lf__safetensors_write(NULL, path, &t, 1, NULL, NULL, 0));
    size_t size;
    uint8_t *raw = st_slurp(path, &size);
    ck_assert_uint_eq(size, sizeof written - 1);
    ck_assert_int_eq(memcmp(raw, written, size), 0);
    free(raw);

    static const char with_meta[] =
        "f\0\0\0\0\0\0\0{\"__metadata__\":{\"framework\":\"pt\"},\"test1\":{\"dtype\":\"I32\",\"shape\":[2,2],"
        "\"data_offsets\":[0,16]}}       \0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
    path = st_path(dir, "meta.safetensors");
    lf_test_write_file(path, with_meta, sizeof with_meta - 1);
    parsed p;
    ck_assert_lf_ok(open_file(&p, path));
    ck_assert_uint_eq(p.f.data_start, 8 + 102);
    ck_assert_uint_eq(p.f.n_tensors, 1);
    ck_assert_str_eq(p.f.tensors[0].name, "test1");
    ck_assert_int_eq(p.f.tensors[0].dtype, LF__ST_I32);
    ck_assert_str_eq(lf__safetensors_metadata(&p.f, "framework"), "pt");
    close_file(&p);
}
END_TEST

START_TEST(write_without_metadata_or_tensors)
{
    const char *dir = lf_test_tmpdir();
    const char *path = st_path(dir, "empty.safetensors");
    ck_assert_lf_ok(lf__safetensors_write(NULL, path, NULL, 0, NULL, NULL, 0));
    size_t size;
    uint8_t *raw = st_slurp(path, &size);
    ck_assert_uint_eq(size, 16);   /* "{}" padded to 8 bytes */
    ck_assert_int_eq(memcmp(raw + 8, "{}      ", 8), 0);
    free(raw);
    parsed p;
    ck_assert_lf_ok(open_file(&p, path));
    ck_assert_uint_eq(p.f.n_tensors, 0);
    ck_assert_uint_eq(p.f.n_meta, 0);
    close_file(&p);
}
END_TEST

START_TEST(write_rejects_bad_tensors_and_metadata)
{
    const char *dir = lf_test_tmpdir();
    const char *path = st_path(dir, "bad.safetensors");
    float v[2] = { 1, 2 };
    int64_t s2[1] = { 2 }, neg[1] = { -1 };
    lf__safetensors_out dup[2] = { { "w", LF__ST_F32, 1, s2, v }, { "w", LF__ST_F32, 1, s2, v } };
    ck_assert_lf_status(lf__safetensors_write(NULL, path, dup, 2, NULL, NULL, 0), LF_E_INVALID_ARG);
    st_assert_message_has(path, "'w'", (const char *)NULL);
    lf__safetensors_out reserved[1] = { { "__metadata__", LF__ST_F32, 1, s2, v } };
    ck_assert_lf_status(lf__safetensors_write(NULL, path, reserved, 1, NULL, NULL, 0), LF_E_INVALID_ARG);
    lf__safetensors_out empty_name[1] = { { "", LF__ST_F32, 1, s2, v } };
    ck_assert_lf_status(lf__safetensors_write(NULL, path, empty_name, 1, NULL, NULL, 0), LF_E_INVALID_ARG);
    lf__safetensors_out negative[1] = { { "w", LF__ST_F32, 1, neg, v } };
    ck_assert_lf_status(lf__safetensors_write(NULL, path, negative, 1, NULL, NULL, 0), LF_E_INVALID_ARG);
    st_assert_message_has(path, "'w'", "negative", (const char *)NULL);
    lf__safetensors_out bad_dtype[1] = { { "w", 99, 1, s2, v } };
    ck_assert_lf_status(lf__safetensors_write(NULL, path, bad_dtype, 1, NULL, NULL, 0), LF_E_INVALID_ARG);
    lf__safetensors_out bad_utf8[1] = { { "w\xff", LF__ST_F32, 1, s2, v } };
    ck_assert_lf_status(lf__safetensors_write(NULL, path, bad_utf8, 1, NULL, NULL, 0), LF_E_INVALID_ARG);

    const char *keys[2] = { "k", "k" }, *values[2] = { "a", "b" };
    ck_assert_lf_status(lf__safetensors_write(NULL, path, NULL, 0, keys, values, 2), LF_E_INVALID_ARG);
    st_assert_message_has(path, "'k'", (const char *)NULL);
    const char *bad_value[1] = { "\xc3(" };
    ck_assert_lf_status(lf__safetensors_write(NULL, path, NULL, 0, keys, bad_value, 1), LF_E_INVALID_ARG);
    st_assert_message_has(path, "'k'", "UTF-8", (const char *)NULL);

    /* nothing was created: arguments are checked before the file is opened */
    ck_assert_int_eq(st_count_entries(dir), 0);
}
END_TEST

START_TEST(write_failures_leave_no_file)
{
    const char *dir = lf_test_tmpdir();
    float v[2] = { 1, 2 };
    int64_t s2[1] = { 2 };
    lf__safetensors_out w[1] = { { "w", LF__ST_F32, 1, s2, v } };

    const char *missing = st_path(dir, "no/such/folder/m.safetensors");
    ck_assert_lf_status(lf__safetensors_write(NULL, missing, w, 1, NULL, NULL, 0), LF_E_IO);
    st_assert_message_has(missing, (const char *)NULL);
    ck_assert_int_eq(st_count_entries(dir), 0);

    /* a directory in the way: the rename fails, the temporary file goes, the directory stays */
    const char *sub = st_path(dir, "sub");
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    ck_assert_lf_status(lf__safetensors_write(NULL, sub, w, 1, NULL, NULL, 0), LF_E_IO);
    st_assert_message_has(sub, (const char *)NULL);
    ck_assert_int_eq(st_count_entries(dir), 1);
    struct stat sb;
    ck_assert_int_eq(stat(sub, &sb), 0);
    ck_assert(S_ISDIR(sb.st_mode));
}
END_TEST

/* ---- files the parser accepts ---- */

START_TEST(parse_accepts_valid_variants)
{
    const char *dir = lf_test_tmpdir();
    const char *path = st_path(dir, "ok.safetensors");
    parsed p;

    /* header padded with trailing spaces; data in the opposite order of the header; a scalar and
     * an empty tensor sharing an offset; an unknown field in an entry (ignored, as the reference
     * implementation does) */
    float data[3] = { 1.0f, 2.0f, 3.0f };
    st_write(path,
             "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]},"
             "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4],\"extra\":[1]},"
             "\"e\":{\"dtype\":\"F16\",\"shape\":[0,5],\"data_offsets\":[4,4]}}        ",
             data, sizeof data);
    ck_assert_lf_ok(open_file(&p, path));
    ck_assert_uint_eq(p.f.n_tensors, 3);
    ck_assert_str_eq(p.f.tensors[0].name, "b");   /* header order */
    float b[2];
    ck_assert_lf_ok(lf__safetensors_read_f32(&p.f, lf__safetensors_find(&p.f, "b"), b));
    ck_assert_float_eq(b[0], 2.0f);
    ck_assert_float_eq(b[1], 3.0f);
    ck_assert_uint_eq(lf__safetensors_find(&p.f, "e")->numel, 0);
    close_file(&p);

    /* nothing at all */
    st_write(path, "{}", NULL, 0);
    ck_assert_lf_ok(open_file(&p, path));
    ck_assert_uint_eq(p.f.n_tensors, 0);
    close_file(&p);

    /* metadata only, empty metadata */
    st_write(path, "{\"__metadata__\":{}}", NULL, 0);
    ck_assert_lf_ok(open_file(&p, path));
    ck_assert_uint_eq(p.f.n_meta, 0);
    close_file(&p);
}
END_TEST

/* ---- the length field ---- */

START_TEST(parse_rejects_bad_length_fields)
{
    const char *dir = lf_test_tmpdir();
    const char *path = st_path(dir, "len.safetensors");

    lf_test_write_file(path, "\x10\0\0\0\0", 5);   /* shorter than the length field */
    expect_format_error(path, "offset 0", "too short");
    lf_test_write_file(path, "", 0);
    expect_format_error(path, "offset 0", "0 bytes");

    const char *hdr = "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
    st_write_raw(path, 1000, hdr, strlen(hdr), "x", 1);   /* longer than the file */
    expect_format_error(path, "offset 0", "header length 1000");
    st_write_raw(path, (uint64_t)1 << 63, hdr, strlen(hdr), "x", 1);
    expect_format_error(path, "offset 0", "header length 9223372036854775808");
    st_write_raw(path, UINT64_MAX, hdr, strlen(hdr), "x", 1);
    expect_format_error(path, "offset 0", "18446744073709551615");
    st_write_raw(path, 200000000, hdr, strlen(hdr), "x", 1);   /* over the 100 MB limit */
    expect_format_error(path, "offset 0", "header length 200000000");
    st_write_raw(path, 0, hdr, strlen(hdr), "x", 1);   /* an empty header */
    expect_format_error(path, "offset 8", "not a JSON object");
    st_write_raw(path, 10, hdr, strlen(hdr), "x", 1);   /* the JSON is cut short */
    expect_format_error(path, "invalid JSON", "offset 1");
}
END_TEST

/* ---- malformed headers and data ranges ---- */

typedef struct bad_case {
    const char *file;
    const char *header;
    size_t      data_len;
    const char *needle1, *needle2;
} bad_case;

#define F32_2(off0, off1) "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" #off0 "," #off1 "]}"

static const bad_case bad_cases[] = {
    { "json.st", "{\"w\": {\"dtype\": \"F32\",", 0, "invalid JSON", "offset " },
    { "json2.st", "{\"w\": 1,}", 0, "invalid JSON", "offset 1" },
    { "array.st", "[1, 2, 3]", 0, "offset 8", "not a JSON object" },
    { "string.st", "\"abc\"", 0, "offset 8", "not a JSON object" },
    { "space.st", " {}", 0, "offset 8", "not a JSON object" },
    { "utf8.st", "{\"\xff\":" F32_2(0, 8) "}", 8, "invalid JSON", "offset" },
    { "dup.st", "{\"w\":" F32_2(0, 8) ",\"w\":" F32_2(8, 16) "}", 16, "duplicate", "offset" },
    { "overlap.st", "{\"a\":" F32_2(0, 8) ",\"b\":" F32_2(4, 12) "}", 12, "'b'", "overlap tensor 'a'" },
    { "same.st", "{\"a\":" F32_2(0, 8) ",\"b\":" F32_2(0, 8) "}", 8, "overlap", "'a'" },
    { "past.st", "{\"w\":" F32_2(8, 16) "}", 8, "'w'", "past the end" },
    { "short.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 10, "'w'",
      "past the end" },
    { "gap.st", "{\"a\":" F32_2(0, 8) ",\"b\":" F32_2(12, 20) "}", 20, "bytes [8, 12)", "'b'" },
    { "lead.st", "{\"a\":" F32_2(4, 12) "}", 12, "bytes [0, 4)", "'a'" },
    { "trail.st", "{\"a\":" F32_2(0, 8) "}", 12, "4 trailing bytes", "'a'" },
    { "trail0.st", "{}", 4, "4 trailing bytes", "offset 10" },
    { "size.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "'w'",
      "needs 12 bytes" },
    { "dtype.st", "{\"w\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "'w'", "F33" },
    { "nodtype.st", "{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "'w'", "dtype" },
    { "dtypeint.st", "{\"w\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "'w'", "dtype" },
    { "noshape.st", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "'w'", "shape" },
    { "negdim.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "'w'",
      "shape[0]" },
    { "realdim.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,2.0],\"data_offsets\":[0,8]}}", 8, "'w'",
      "shape[1]" },
    { "strdim.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8, "'w'",
      "shape[0]" },
    { "bigdim.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],\"data_offsets\":[0,8]}}",
      8, "'w'", "too large" },
    { "bigdim2.st", "{\"w\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952,2],\"data_offsets\":[0,8]}}",
      8, "'w'", "too large" },
    { "dims.st", "{\"w\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
      "'w'", "9 dimensions" },
    { "nooff.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "'w'", "data_offsets" },
    { "off3.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}", 8, "'w'",
      "data_offsets" },
    { "negoff.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8, "'w'",
      "data_offsets" },
    { "realoff.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.0]}}", 8, "'w'",
      "data_offsets" },
    { "bigoff.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,18446744073709551615]}}",
      8, "invalid JSON", "too big" },
    { "reversed.st", "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8, "'w'",
      "[8, 0]" },
    { "entry.st", "{\"w\":5}", 0, "'w'", "not a JSON object" },
    { "metaval.st", "{\"__metadata__\":{\"seed\":42}}", 0, "'seed'", "not a string" },
    { "metanull.st", "{\"__metadata__\":{\"a\":\"x\",\"b\":null}}", 0, "'b'", "not a string" },
    { "metaobj.st", "{\"__metadata__\":\"x\"}", 0, "__metadata__", "not a JSON object" },
    { "metadup.st", "{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0, "duplicate", "offset" },
    { "nul.st", "{\"w\\u0000x\":" F32_2(0, 8) "}", 8, "invalid JSON", "offset" },
};

START_TEST(parse_rejects_malformed_headers)
{
    const bad_case *c = &bad_cases[_i];
    const char *dir = lf_test_tmpdir();
    const char *path = st_path(dir, c->file);
    st_write(path, c->header, NULL, c->data_len);
    expect_format_error(path, c->needle1, c->needle2);
}
END_TEST

/* ---- conversion to float32 ---- */

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

START_TEST(f16_and_bf16_bit_patterns)
{
    /* F16: sign 1, exponent 5 (bias 15), mantissa 10 */
    ck_assert_float_eq(lf__safetensors_f16_to_f32(0x3C00), 1.0f);
    ck_assert_float_eq(lf__safetensors_f16_to_f32(0xC000), -2.0f);
    ck_assert_float_eq(lf__safetensors_f16_to_f32(0x3555), 0.333251953125f);   /* 1365/4096 */
    ck_assert_float_eq(lf__safetensors_f16_to_f32(0x7BFF), 65504.0f);          /* largest */
    ck_assert_float_eq(lf__safetensors_f16_to_f32(0x0400), 0x1p-14f);          /* smallest normal */
    ck_assert_float_eq(lf__safetensors_f16_to_f32(0x0001), 0x1p-24f);          /* smallest subnormal */
    ck_assert_float_eq(lf__safetensors_f16_to_f32(0x03FF), 1023 * 0x1p-24f);   /* largest subnormal */
    ck_assert_float_eq(lf__safetensors_f16_to_f32(0x8001), -0x1p-24f);
    ck_assert_uint_eq(float_bits(lf__safetensors_f16_to_f32(0x0000)), 0x00000000u);
    ck_assert_uint_eq(float_bits(lf__safetensors_f16_to_f32(0x8000)), 0x80000000u);   /* -0 */
    ck_assert_uint_eq(float_bits(lf__safetensors_f16_to_f32(0x7C00)), 0x7F800000u);   /* +inf */
    ck_assert_uint_eq(float_bits(lf__safetensors_f16_to_f32(0xFC00)), 0xFF800000u);   /* -inf */
    ck_assert(isnan(lf__safetensors_f16_to_f32(0x7E00)));
    ck_assert(isnan(lf__safetensors_f16_to_f32(0xFC01)));

    /* BF16: the top 16 bits of a float */
    ck_assert_float_eq(lf__safetensors_bf16_to_f32(0x3F80), 1.0f);
    ck_assert_float_eq(lf__safetensors_bf16_to_f32(0xC040), -3.0f);
    ck_assert_float_eq(lf__safetensors_bf16_to_f32(0x3E80), 0.25f);
    ck_assert_float_eq(lf__safetensors_bf16_to_f32(0x0001), 0x1p-133f);   /* subnormal */
    ck_assert_uint_eq(float_bits(lf__safetensors_bf16_to_f32(0x7F80)), 0x7F800000u);
    ck_assert_uint_eq(float_bits(lf__safetensors_bf16_to_f32(0x8000)), 0x80000000u);
    ck_assert(isnan(lf__safetensors_bf16_to_f32(0x7FC0)));
}
END_TEST

START_TEST(read_f32_converts_each_dtype)
{
    const char *dir = lf_test_tmpdir();
    const char *path = st_path(dir, "dtypes.safetensors");
    /* little-endian element bytes, written by hand */
    const uint8_t f16[8] = { 0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0x00, 0x7C };   /* 1, -2, 2^-24, inf */
    const uint8_t bf16[4] = { 0x80, 0x3F, 0x40, 0xC0 };                          /* 1, -3 */
    double f64[4] = { -2.5, 0.1, 1e300, 1e-50 };
    int64_t i64[3] = { 3, -7, 16777217 };
    st_build b;
    st_begin(&b, NULL);
    int64_t s4[1] = { 4 }, s2[1] = { 2 }, s3[1] = { 3 };
    st_add(&b, "h", "F16", 1, s4, f16, sizeof f16);
    st_add(&b, "bh", "BF16", 1, s2, bf16, sizeof bf16);
    st_add(&b, "d", "F64", 1, s4, f64, sizeof f64);
    st_add(&b, "i", "I64", 1, s3, i64, sizeof i64);
    st_add(&b, "u", "U16", 1, s2, bf16, sizeof bf16);
    st_finish(&b, path);

    parsed p;
    ck_assert_lf_ok(open_file(&p, path));
    float v[4];
    ck_assert_lf_ok(lf__safetensors_read_f32(&p.f, lf__safetensors_find(&p.f, "h"), v));
    ck_assert_float_eq(v[0], 1.0f);
    ck_assert_float_eq(v[1], -2.0f);
    ck_assert_float_eq(v[2], 0x1p-24f);
    ck_assert(isinf(v[3]) && v[3] > 0);
    ck_assert_lf_ok(lf__safetensors_read_f32(&p.f, lf__safetensors_find(&p.f, "bh"), v));
    ck_assert_float_eq(v[0], 1.0f);
    ck_assert_float_eq(v[1], -3.0f);
    ck_assert_lf_ok(lf__safetensors_read_f32(&p.f, lf__safetensors_find(&p.f, "d"), v));
    ck_assert_float_eq(v[0], -2.5f);
    ck_assert_uint_eq(float_bits(v[1]), 0x3DCCCCCDu);   /* 0.1 rounded to nearest float */
    ck_assert(isinf(v[2]));                             /* beyond float's range */
    ck_assert_float_eq(v[3], 0.0f);                     /* below float's subnormals */
    ck_assert_lf_ok(lf__safetensors_read_f32(&p.f, lf__safetensors_find(&p.f, "i"), v));
    ck_assert_float_eq(v[0], 3.0f);
    ck_assert_float_eq(v[1], -7.0f);
    ck_assert_float_eq(v[2], 16777216.0f);   /* 2^24 + 1 rounds to even */
    ck_assert_lf_status(lf__safetensors_read_f32(&p.f, lf__safetensors_find(&p.f, "u"), v), LF_E_FORMAT);
    st_assert_message_has(path, "'u'", "U16", (const char *)NULL);
    close_file(&p);
}
END_TEST

START_TEST(dtype_names_and_sizes)
{
    ck_assert_str_eq(lf__safetensors_dtype_name(LF__ST_BF16), "BF16");
    ck_assert_str_eq(lf__safetensors_dtype_name(LF__ST_F8_E4M3), "F8_E4M3");
    ck_assert_str_eq(lf__safetensors_dtype_name((lf__safetensors_dtype)99), "?");
    ck_assert_uint_eq(lf__safetensors_dtype_size(LF__ST_F64), 8);
    ck_assert_uint_eq(lf__safetensors_dtype_size(LF__ST_F16), 2);
    ck_assert_uint_eq(lf__safetensors_dtype_size(LF__ST_BOOL), 1);
    ck_assert_uint_eq(lf__safetensors_dtype_size((lf__safetensors_dtype)-1), 0);
    char buf[32];
    int64_t s[3] = { 256, 784, 3 };
    ck_assert_str_eq(lf__safetensors_shape_text(buf, sizeof buf, 2, s), "[256, 784]");
    ck_assert_str_eq(lf__safetensors_shape_text(buf, sizeof buf, 0, s), "[]");
    ck_assert_str_eq(lf__safetensors_shape_text(buf, 6, 3, s), "[256,");   /* truncated, terminated */
}
END_TEST

static Suite *safetensors_suite(void)
{
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("writer");
    tcase_add_test(tc, write_then_parse_round_trip);
    tcase_add_test(tc, reference_test_vectors);
    tcase_add_test(tc, write_without_metadata_or_tensors);
    tcase_add_test(tc, write_rejects_bad_tensors_and_metadata);
    tcase_add_test(tc, write_failures_leave_no_file);
    suite_add_tcase(s, tc);
    tc = tcase_create("parser");
    tcase_add_test(tc, parse_accepts_valid_variants);
    tcase_add_test(tc, parse_rejects_bad_length_fields);
    tcase_add_loop_test(tc, parse_rejects_malformed_headers, 0,
                        (int)(sizeof bad_cases / sizeof bad_cases[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("conversion");
    tcase_add_test(tc, f16_and_bf16_bit_patterns);
    tcase_add_test(tc, read_f32_converts_each_dtype);
    tcase_add_test(tc, dtype_names_and_sizes);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(safetensors_suite)
