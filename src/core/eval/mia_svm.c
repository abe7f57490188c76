/* MIA-Efficacy: a one-feature membership-inference SVM trained with libsvm (C-SVC, RBF kernel,
 * C = 3, gamma = 1/n_features = 1, tolerance 1e-3, shrinking), the classifier that
 * scikit-learn's SVC(C=3, gamma='auto') wraps, so the predictions match scikit-learn's. */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include <libsvm/svm.h>

#include "core/eval/eval_internal.h"

#define DEFAULT_CACHE_MB 200.0   /* scikit-learn's default cache_size */
#define MAX_CACHE_MB     65536.0

/* libsvm prints progress on stdout by default; the library never prints. */
static void svm_print_nothing(const char *msg)
{
    (void)msg;
}

/* libsvm's printer is one process-wide pointer: set once, so evaluations running in parallel
 * threads do not write it while another's svm_train reads it */
static pthread_once_t silence_once = PTHREAD_ONCE_INIT;

static void silence_libsvm(void)
{
    svm_set_print_string_function(svm_print_nothing);
}

static lf_status check_values(const double *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return lf__error(LF_E_NUMERIC, "lf_mia_efficacy: %s[%zu] is %g", name, i, v[i]);
    return LF_OK;
}

/* One-feature libsvm sample: {index 1, value}, then the terminator {index -1}. */
static void set_sample(struct svm_node *node, double value)
{
    node[0].index = 1;
    node[0].value = value;
    node[1].index = -1;
    node[1].value = 0.0;
}

lf_status lf__eval_mia_svm(const lf_context *ctx, double *efficacy, int32_t *is_member,
                           const double *members, size_t n_members,
                           const double *nonmembers, size_t n_nonmembers,
                           const double *targets, size_t n_targets, double cache_mb)
{
    LF__CHECK_ARG(efficacy, "lf_mia_efficacy: efficacy is NULL");
    *efficacy = NAN;
    LF__CHECK_ARG(members && n_members > 0, "lf_mia_efficacy: the member set is empty");
    LF__CHECK_ARG(nonmembers && n_nonmembers > 0, "lf_mia_efficacy: the non-member set is empty");
    LF__CHECK_ARG(targets && n_targets > 0, "lf_mia_efficacy: the target set is empty");
    LF__CHECK_ARG(n_members <= (size_t)INT32_MAX - n_nonmembers,
                  "lf_mia_efficacy: %zu + %zu training samples exceed libsvm's limit", n_members,
                  n_nonmembers);
    if (cache_mb == 0.0)
        cache_mb = DEFAULT_CACHE_MB;
    if (!(cache_mb > 0.0 && cache_mb <= MAX_CACHE_MB))   /* also refuses NaN */
        return lf__error(LF_E_OUT_OF_RANGE, "lf_mia_efficacy: cache_mb=%g not in (0, %g]", cache_mb,
                         MAX_CACHE_MB);
    LF__TRY(check_values(members, n_members, "members"));
    LF__TRY(check_values(nonmembers, n_nonmembers, "nonmembers"));
    LF__TRY(check_values(targets, n_targets, "targets"));

    size_t l = n_members + n_nonmembers;
    double *y = lf__calloc(ctx, l, sizeof *y, "SVM labels");
    struct svm_node **x = lf__calloc(ctx, l, sizeof *x, "SVM sample pointers");
    struct svm_node *nodes = lf__calloc(ctx, l + 1, 2 * sizeof *nodes, "SVM samples");
    if (!y || !x || !nodes) {
        lf__free(ctx, y, l * sizeof *y);
        lf__free(ctx, x, l * sizeof *x);
        lf__free(ctx, nodes, (l + 1) * 2 * sizeof *nodes);
        return LF_E_NOMEM;
    }
    /* Non-members first: libsvm orders classes by first appearance, scikit-learn sorts them, so
     * label 0 first gives both the same internal order (and the same solution). */
    for (size_t i = 0; i < l; i++) {
        int member = i >= n_nonmembers;
        x[i] = nodes + 2 * i;
        set_sample(x[i], member ? members[i - n_nonmembers] : nonmembers[i]);
        y[i] = member ? 1.0 : 0.0;
    }
    struct svm_problem prob = { (int)l, y, x };

    struct svm_parameter param;
    memset(&param, 0, sizeof param);
    param.svm_type = C_SVC;
    param.kernel_type = RBF;
    param.degree = 3;           /* unused by RBF; libsvm's default */
    param.gamma = 1.0;          /* 1 / n_features */
    param.coef0 = 0.0;
    param.cache_size = cache_mb;
    param.eps = 1e-3;
    param.C = 3.0;
    param.nu = 0.5;             /* unused by C-SVC */
    param.p = 0.1;              /* unused by C-SVC */
    param.shrinking = 1;
    param.probability = 0;

    lf_status st = LF_OK;
    const char *bad = svm_check_parameter(&prob, &param);
    if (bad)
        st = lf__error(LF_E_INVALID_ARG, "lf_mia_efficacy: libsvm refused the parameters: %s", bad);
    struct svm_model *model = NULL;
    if (st == LF_OK) {
        pthread_once(&silence_once, silence_libsvm);
        model = svm_train(&prob, &param);
        if (!model)
            st = lf__error(LF_E_NOMEM, "lf_mia_efficacy: libsvm could not train the SVM");
    }
    if (st == LF_OK) {
        struct svm_node *t = nodes + 2 * l;   /* the spare sample slot */
        size_t nonmember_calls = 0;
        for (size_t i = 0; i < n_targets; i++) {
            double decision;
            set_sample(t, targets[i]);
            /* The predicted label is libsvm's vote: it orients the decision value by the label
             * order libsvm saw (svm_get_labels), exactly as scikit-learn's predict does. */
            int member = svm_predict_values(model, t, &decision) == 1.0;
            nonmember_calls += !member;
            if (is_member)
                is_member[i] = member;
        }
        *efficacy = 100.0 * (double)nonmember_calls / (double)n_targets;
    }
    svm_free_and_destroy_model(&model);   /* the support vectors point into nodes: free it first */
    lf__free(ctx, y, l * sizeof *y);
    lf__free(ctx, x, l * sizeof *x);
    lf__free(ctx, nodes, (l + 1) * 2 * sizeof *nodes);
    return st;
}

lf_status lf_mia_efficacy(double *efficacy, int32_t *is_member, const double *members, size_t n_members,
                          const double *nonmembers, size_t n_nonmembers, const double *targets,
                          size_t n_targets, double cache_mb)
{
    return lf__eval_mia_svm(NULL, efficacy, is_member, members, n_members, nonmembers, n_nonmembers,
                            targets, n_targets, cache_mb);
}
