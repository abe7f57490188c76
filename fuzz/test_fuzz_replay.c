/* Every committed fuzz input, through the same target functions the fuzzers run: the seed corpora
 * (fuzz/corpus/<target>) and the inputs that once crashed a parser (fuzz/regressions/<target>).
 * No input may crash; a file named "<anything>.<OUTCOME>" must give that outcome: the lf_status
 * name ("crash-1.LF_E_FORMAT") or, for the CLI targets, "exit<status>" ("big.exit2"). Runs in
 * every build (no clang needed); under the sanitizer and valgrind passes it checks memory too. */
#include <dirent.h>

#include "lf_test.h"
#include "targets.h"

static uint8_t *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long len = ftell(f);
    ck_assert_int_ge(len, 0);
    rewind(f);
    uint8_t *data = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq(fread(data, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *size = (size_t)len;
    return data;
}

/* Runs every regular file of dir; returns how many there were (0 if dir does not exist). */
static int replay_dir(const lf_fuzz_target *t, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t size = 0;
        uint8_t *data = read_all(path, &size);
        int outcome = t->run(data, size);
        free(data);
        char got[32];
        if (t->cli) {
            ck_assert_msg(outcome >= 0 && outcome <= 2, "%s: exit status %d", path, outcome);
            snprintf(got, sizeof got, "exit%d", outcome);
        } else {
            snprintf(got, sizeof got, "%s", lf_status_name((lf_status)outcome));
            ck_assert_msg(strcmp(got, "LF_E_UNKNOWN_STATUS") != 0, "%s: status %d", path, outcome);
        }
        const char *want = strrchr(e->d_name, '.');
        if (want && (strncmp(want + 1, "LF_", 3) == 0 || strncmp(want + 1, "exit", 4) == 0))
            ck_assert_msg(strcmp(want + 1, got) == 0, "%s: outcome %s, the name says %s (%s)", path, got,
                          want + 1, lf_last_error_message());
        n++;
    }
    closedir(d);
    return n;
}

START_TEST(replay_target)
{
    const lf_fuzz_target *t = &lf_fuzz_targets[_i];
    const char *src = getenv("LF_TEST_SRCDIR");
    ck_assert_ptr_nonnull(src);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/fuzz/corpus/%s", src, t->name);
    int seeds = replay_dir(t, dir);
    ck_assert_msg(seeds > 0, "no seed inputs in %s (fuzz/make_corpus.py writes them)", dir);
    snprintf(dir, sizeof dir, "%s/fuzz/regressions/%s", src, t->name);
    replay_dir(t, dir);
    lf_fuzz_cleanup();
}
END_TEST

static Suite *fuzz_replay_suite(void)
{
    Suite *s = suite_create("fuzz_replay");
    TCase *tc = tcase_create("replay");
    tcase_add_loop_test(tc, replay_target, 0, (int)lf_fuzz_n_targets);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(fuzz_replay_suite)
