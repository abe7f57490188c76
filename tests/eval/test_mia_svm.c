/* MIA-Efficacy SVM: hand-checkable cases, the label orientation, bad input, and exact parity
 * with scikit-learn's SVC(C=3, gamma='auto') on the committed fixtures (gen_svm_fixture.py). */
#include "lf_test.h"
#include "libforget/eval.h"

START_TEST(separated_clusters_by_hand)
{
    /* members at 1, non-members at 0: by symmetry the decision boundary is 0.5, so the target
     * 0.95 is a member and 0.05 is not; efficacy = 1 non-member call of 2 targets = 50%. */
    double members[20], nonmembers[20];
    for (int i = 0; i < 20; i++) {
        members[i] = 1.0;
        nonmembers[i] = 0.0;
    }
    double targets[2] = { 0.95, 0.05 };
    int32_t is_member[2] = { -1, -1 };
    double eff = -1.0;
    ck_assert_lf_ok(lf_mia_efficacy(&eff, is_member, members, 20, nonmembers, 20, targets, 2, 0.0));
    ck_assert_int_eq(is_member[0], 1);
    ck_assert_int_eq(is_member[1], 0);
    ck_assert(eff == 50.0);

    /* all targets member-like: efficacy 0; all non-member-like: 100 */
    double high[3] = { 0.9, 1.0, 0.8 }, low[3] = { 0.0, 0.1, 0.2 };
    ck_assert_lf_ok(lf_mia_efficacy(&eff, NULL, members, 20, nonmembers, 20, high, 3, 0.0));
    ck_assert(eff == 0.0);
    ck_assert_lf_ok(lf_mia_efficacy(&eff, NULL, members, 20, nonmembers, 20, low, 3, 0.0));
    ck_assert(eff == 100.0);
}
END_TEST

START_TEST(orientation_follows_the_labels_not_the_order)
{
    /* Roles swapped (members at 0): the same targets flip. libsvm sees the non-members first
     * either way, so this checks that "member" means label 1, not libsvm's first class. */
    double members[10], nonmembers[30];
    for (int i = 0; i < 10; i++)
        members[i] = 0.0;
    for (int i = 0; i < 30; i++)
        nonmembers[i] = 1.0;
    double targets[2] = { 0.95, 0.05 };
    int32_t is_member[2];
    double eff;
    ck_assert_lf_ok(lf_mia_efficacy(&eff, is_member, members, 10, nonmembers, 30, targets, 2, 50.0));
    ck_assert_int_eq(is_member[0], 0);
    ck_assert_int_eq(is_member[1], 1);
    ck_assert(eff == 50.0);
}
END_TEST

START_TEST(bad_input_is_refused)
{
    double v[2] = { 0.5, 0.7 }, nan_v[2] = { 0.5, NAN }, eff = 0.0;
    ck_assert_lf_status(lf_mia_efficacy(NULL, NULL, v, 2, v, 2, v, 2, 0.0), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_mia_efficacy(&eff, NULL, v, 0, v, 2, v, 2, 0.0), LF_E_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "member set is empty"));
    ck_assert_lf_status(lf_mia_efficacy(&eff, NULL, v, 2, NULL, 2, v, 2, 0.0), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_mia_efficacy(&eff, NULL, v, 2, v, 2, v, 0, 0.0), LF_E_INVALID_ARG);
    ck_assert_lf_status(lf_mia_efficacy(&eff, NULL, nan_v, 2, v, 2, v, 2, 0.0), LF_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(lf_last_error_message(), "members[1]"));
    ck_assert_lf_status(lf_mia_efficacy(&eff, NULL, v, 2, v, 2, nan_v, 2, 0.0), LF_E_NUMERIC);
    ck_assert_lf_status(lf_mia_efficacy(&eff, NULL, v, 2, v, 2, v, 2, -1.0), LF_E_OUT_OF_RANGE);
    ck_assert_lf_status(lf_mia_efficacy(&eff, NULL, v, 2, v, 2, v, 2, NAN), LF_E_OUT_OF_RANGE);
    ck_assert(isnan(eff));
}
END_TEST

/* ---- scikit-learn parity ---- */

typedef struct fixture {
    double *members, *nonmembers, *targets;
    int32_t *expected;
    size_t n_members, n_nonmembers, n_targets;
    double efficacy;
} fixture;

static char *next_line(FILE *f, char *buf, size_t size)
{
    while (fgets(buf, (int)size, f))
        if (buf[0] != '#')
            return buf;
    return NULL;
}

static size_t read_header(FILE *f, const char *name)
{
    char line[256], word[64];
    size_t n = 0;
    ck_assert_ptr_nonnull(next_line(f, line, sizeof line));
    ck_assert_int_eq(sscanf(line, "%63s %zu", word, &n), 2);
    ck_assert_str_eq(word, name);
    return n;
}

static double *read_values(FILE *f, size_t n, int32_t *pred)
{
    double *v = malloc(n * sizeof *v);
    char line[256];
    for (size_t i = 0; i < n; i++) {
        ck_assert_ptr_nonnull(next_line(f, line, sizeof line));
        float x;   /* the fixture holds float32 values, as a model's softmax gives them */
        int p = -1;
        ck_assert_int_eq(sscanf(line, "%f %d", &x, &p), pred ? 2 : 1);
        v[i] = x;
        if (pred)
            pred[i] = p;
    }
    return v;
}

static fixture load_fixture(const char *name)
{
    char path[1024];
    const char *src = getenv("LF_TEST_SRCDIR");
    snprintf(path, sizeof path, "%s/tests/eval/fixtures/%s", src ? src : ".", name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fixture fx;
    fx.n_members = read_header(f, "members");
    fx.members = read_values(f, fx.n_members, NULL);
    fx.n_nonmembers = read_header(f, "nonmembers");
    fx.nonmembers = read_values(f, fx.n_nonmembers, NULL);
    fx.n_targets = read_header(f, "targets");
    fx.expected = malloc(fx.n_targets * sizeof *fx.expected);
    fx.targets = read_values(f, fx.n_targets, fx.expected);
    char line[256];
    ck_assert_ptr_nonnull(next_line(f, line, sizeof line));
    ck_assert_int_eq(sscanf(line, "efficacy %lf", &fx.efficacy), 1);
    fclose(f);
    return fx;
}

static void check_parity(const char *name)
{
    fixture fx = load_fixture(name);
    int32_t *got = malloc(fx.n_targets * sizeof *got);
    double eff = -1.0;
    ck_assert_lf_ok(lf_mia_efficacy(&eff, got, fx.members, fx.n_members, fx.nonmembers, fx.n_nonmembers,
                                    fx.targets, fx.n_targets, 0.0));
    size_t differ = 0, first = 0;
    for (size_t i = 0; i < fx.n_targets; i++)
        if (got[i] != fx.expected[i] && differ++ == 0)
            first = i;
    ck_assert_msg(differ == 0, "%s: %zu of %zu predictions differ from scikit-learn (first: target %zu "
                  "= %.9g, sklearn %d)", name, differ, fx.n_targets, first, fx.targets[first],
                  fx.expected[first]);
    ck_assert_msg(fabs(eff - fx.efficacy) < 1e-9, "%s: efficacy %.17g, sklearn %.17g", name, eff,
                  fx.efficacy);
    free(got);
    free(fx.members);
    free(fx.nonmembers);
    free(fx.targets);
    free(fx.expected);
}

START_TEST(sklearn_parity_confidence)
{
    check_parity("svm_confidence.txt");
}
END_TEST

START_TEST(sklearn_parity_entropy)
{
    check_parity("svm_entropy.txt");
}
END_TEST

static Suite *mia_svm_suite(void)
{
    Suite *s = suite_create("mia_svm");
    TCase *tc = tcase_create("svm");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, separated_clusters_by_hand);
    tcase_add_test(tc, orientation_follows_the_labels_not_the_order);
    tcase_add_test(tc, bad_input_is_refused);
    tcase_add_test(tc, sklearn_parity_confidence);
    tcase_add_test(tc, sklearn_parity_entropy);
    suite_add_tcase(s, tc);
    return s;
}

LF_TEST_MAIN(mia_svm_suite)
