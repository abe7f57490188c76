/* Atomic writes (issue 9, item 6): a save that fails part-way — the file size limit reached in
 * the header, in the first tensor, half-way, near the end (RLIMIT_FSIZE: it works for root
 * too, unlike a read-only folder), or a read-only folder — leaves the previous file byte for
 * byte and no temporary file beside it. tests/io/test_model_io.c has the folder-in-the-way
 * case; allocation failures during a save are swept in test_nomem.c. */
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "misuse.h"

static lf_context *ctx;
static lf_model *a, *b;
static lf_report *report;
static char dir[256], path[512];

static void setup(void)
{
    ctx = lf_test_context(LF_BACKEND_REFERENCE);
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = 1;
    cfg.height = cfg.width = 8;
    cfg.num_classes = 4;
    cfg.seed = 1;
    ck_assert_lf_ok(lf_model_create(&a, ctx, "mlp", &cfg));
    cfg.seed = 2;
    ck_assert_lf_ok(lf_model_create(&b, ctx, "mlp", &cfg));
    ck_assert_lf_ok(lf_report_create(&report, ctx));
    lf_report_row row = LF_REPORT_ROW_INIT;
    row.method = "ft";
    lf_metrics m = LF_METRICS_INIT;
    ck_assert_lf_ok(lf_report_add(report, &row, &m));
    snprintf(dir, sizeof dir, "%s", lf_test_tmpdir());
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
}

static void teardown(void)
{
    chmod(dir, 0700);
    unlink(path);
    rmdir(dir);
    lf_report_destroy(report);
    lf_model_destroy(a);
    lf_model_destroy(b);
    lf_context_destroy(ctx);
}

static uint64_t file_hash(const char *p, size_t *size)
{
    FILE *f = fopen(p, "rb");
    ck_assert_msg(f != NULL, "%s is gone", p);
    unsigned char buf[4096];
    uint64_t h = FNV_BASIS;
    size_t got;
    *size = 0;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        h = fnv1a(buf, got, h);
        *size += got;
    }
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

/* Writes beyond `limit` bytes fail with EFBIG (SIGXFSZ ignored) until restored. */
static struct rlimit limit_file_size(rlim_t limit)
{
    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = limit;
    signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    return old;
}

START_TEST(write_fails_midway)
{
    ck_assert_lf_ok(lf_model_save(a, path));
    size_t size_a;
    uint64_t hash_a = file_hash(path, &size_a);
    /* fail at several points of B's file: in the header, in the first tensor, near the end */
    const rlim_t limits[] = { 4, 4096, size_a / 2, size_a - 100 };
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        struct rlimit old = limit_file_size(limits[i]);
        misuse_sentinel();
        lf_status st = lf_model_save(b, path);
        /* a report is small: only the first limit cuts it */
        lf_status st_report = i == 0 ? lf_report_write(report, LF_REPORT_JSON, path) : LF_E_IO;
        ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
        misuse_check(st, LF_E_IO, path, "lf_model_save with a full file system");
        ck_assert_int_eq(st_report, LF_E_IO);
        size_t size;
        ck_assert_msg(file_hash(path, &size) == hash_a && size == size_a,
                      "limit %zu: the previous file was changed", (size_t)limits[i]);
        ck_assert_uint_eq(files_in(dir), 1);   /* no temporary file left */
    }
    /* and with the limit lifted, the same save succeeds */
    ck_assert_lf_ok(lf_model_save(b, path));
    size_t size_b;
    ck_assert_uint_ne(file_hash(path, &size_b), hash_a);
    ck_assert_uint_eq(files_in(dir), 1);
}
END_TEST

START_TEST(read_only_folder)
{
    ck_assert_lf_ok(lf_model_save(a, path));
    size_t size_a;
    uint64_t hash_a = file_hash(path, &size_a);
    ck_assert_int_eq(chmod(dir, 0500), 0);
    /* root writes into read-only folders anyway: nothing to check then */
    char probe[600];
    snprintf(probe, sizeof probe, "%s/probe", dir);
    FILE *f = fopen(probe, "wb");
    if (f) {
        fclose(f);
        unlink(probe);
        return;
    }
    MISUSE(lf_model_save(b, path), LF_E_IO, "temporary file");
    size_t size;
    ck_assert_uint_eq(file_hash(path, &size), hash_a);
    ck_assert_uint_eq(files_in(dir), 1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("atomic_save");
    TCase *tc = tcase_create("atomic_save");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, write_fails_midway);
    tcase_add_test(tc, read_only_folder);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(suite)
