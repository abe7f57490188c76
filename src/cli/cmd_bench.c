/* forget bench: the seed paper's comparison in one command. Trains the original model (or
 * reuses --model), runs Retrain and every other chosen method on the same forget set,
 * evaluates each new model and prints the table (UA, MIA-Efficacy, RA, TA, Avg. Disparity
 * against Retrain, run time); --json and --csv write it to files.
 *
 * Method parameters: --param METHOD.KEY=VALUE (e.g. --param ft.lr=0.02), so a sweep is a loop
 * of command lines. Retrain always runs first: it is the reference of every row. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

typedef struct bench_args {
    const char     *data;
    const char     *arch;
    const char     *forget;
    const char     *methods;     /* comma-separated; NULL = every method */
    const char     *model;       /* reuse this original instead of training one */
    const char     *save_model;  /* where the trained original goes (default: a temporary file) */
    const char     *json;
    const char     *csv;
    const char     *report;      /* --report: the HTML page */
    int32_t         epochs;
    double          data_fraction; /* of the train pool, for a trained original (quick runs) */
    uint64_t        seed;
    cli_string_list params;
    cli_runtime     rt;
} bench_args;

typedef struct bench_table {
    cli_option options[20];
} bench_table;

static bench_table bench_options(bench_args *a)
{
    bench_table t = { {
        { "--data", NULL, CLI_OPT_STRING, &a->data, 0, 0, 0, "NAME|DIR",
          "data set (required unless --model names one)" },
        { "--arch", NULL, CLI_OPT_STRING, &a->arch, 0, 0, 0, "NAME", "architecture of the original (default convnet)" },
        { "--forget", NULL, CLI_OPT_STRING, &a->forget, 0, 0, 0, "SPEC",
          "random:F, stratified:F, class:K or indices:FILE (required)" },
        { "--methods", NULL, CLI_OPT_STRING, &a->methods, 0, 0, 0, "A,B,...",
          "methods to compare (default: all; retrain always runs)" },
        { "--model", "-m", CLI_OPT_STRING, &a->model, 0, 0, 0, "FILE", "an original model to reuse (no training)" },
        { "--save-model", NULL, CLI_OPT_STRING, &a->save_model, 0, 0, 0, "FILE",
          "keep the trained original there" },
        { "--epochs", NULL, CLI_OPT_INT, &a->epochs, 1, 100000, 0, "N",
          "epochs of the original's training, and so of Retrain (default 10)" },
        { "--seed", NULL, CLI_OPT_U64, &a->seed, 0, 0, 0, "N", "seed of everything (default 1)" },
        { "--data-fraction", NULL, CLI_OPT_DOUBLE, &a->data_fraction, 0, 1, CLI_MIN_OPEN, "F",
          "a trained original uses this stratified share of the train pool (default 1)" },
        { "--param", "-p", CLI_OPT_LIST, &a->params, 0, 0, 0, "M.KEY=VALUE",
          "a method parameter (repeatable), e.g. --param ga.lr=1e-3" },
        { "--json", NULL, CLI_OPT_STRING, &a->json, 0, 0, 0, "FILE", "write the comparison as JSON" },
        { "--csv", NULL, CLI_OPT_STRING, &a->csv, 0, 0, 0, "FILE", "write the comparison as CSV" },
        { "--report", NULL, CLI_OPT_STRING, &a->report, 0, 0, 0, "FILE.html",
          "write an HTML page: the table, charts and confidence histograms" },
        { "--backend", NULL, CLI_OPT_STRING, &a->rt.backend, 0, 0, 0, "NAME",
          "auto, reference, cpu or cuda (default auto: the fastest built)" },
        { "--threads", NULL, CLI_OPT_INT, &a->rt.threads, 0, 4096, 0, "N",
          "worker threads of the CPU backends (default 0: all cores)" },
        { "--quiet", "-q", CLI_OPT_FLAG, &a->rt.quiet, 0, 0, 0, NULL, "no progress lines on stderr" },
        CLI_OPTIONS_END,
    } };
    return t;
}

void cmd_bench_usage(FILE *out)
{
    bench_args a;
    memset(&a, 0, sizeof a);
    bench_table t = bench_options(&a);
    fputs("usage: forget bench --data NAME|DIR --forget SPEC [--arch convnet] [--methods a,b] [options]\n\n"
          "Trains the original model (or reuses --model), runs retrain and the other methods on\n"
          "the forget set, evaluates every new model and prints the comparison table.\n\n"
          "--report writes one self-contained HTML page (no script, no network): the table, bar\n"
          "charts of Avg. Disparity and run time, and per model (original, retrain, each method)\n"
          "histograms of the logit-scaled confidence log(p_y/(1-p_y)) on the forget set and on\n"
          "test samples (of the forgotten class for class:K), what a membership attacker sees.\n\n"
          "options:\n", out);
    cli_print_options(out, t.options);
}

/* ---- the methods to run ---- */

#define BENCH_MAX_METHODS 16

/* retrain first, then the others in the order asked (default: registry order). */
static int method_list(const char *text, const char *names[BENCH_MAX_METHODS], int *n)
{
    *n = 0;
    names[(*n)++] = "retrain";
    if (!text) {
        for (size_t i = 0; i < lf_method_count() && *n < BENCH_MAX_METHODS; i++)
            if (strcmp(lf_method_name(i), "retrain") != 0)
                names[(*n)++] = lf_method_name(i);
        return CLI_EXIT_OK;
    }
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *found = NULL;
        for (size_t i = 0; i < lf_method_count(); i++)
            if (strlen(lf_method_name(i)) == len && strncmp(lf_method_name(i), p, len) == 0)
                found = lf_method_name(i);
        if (!found)
            return cli_usage_error("bench", "--methods: unknown method '%.*s' (see forget methods)",
                                   (int)len, p);
        int dup = 0;
        for (int k = 0; k < *n; k++)
            dup |= strcmp(names[k], found) == 0;
        if (!dup) {
            if (*n == BENCH_MAX_METHODS)
                return cli_usage_error("bench", "--methods: too many methods");
            names[(*n)++] = found;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return CLI_EXIT_OK;
}

/* Checks every --param METHOD.KEY=VALUE against the method's schema before any work. */
/* Whether `method` has the parameter key[0..len). */
static int method_has_param(const char *method, const char *key, size_t len)
{
    for (size_t i = 0; i < lf_method_param_count(method); i++) {
        lf_param_info info = LF_PARAM_INFO_INIT;
        if (lf_method_param_info(method, i, &info) == LF_OK && strlen(info.name) == len &&
            strncmp(info.name, key, len) == 0)
            return 1;
    }
    return 0;
}

/* The KEY=VALUE of a --param METHOD.KEY=VALUE (kv) for `method`, or NULL when it is another
 * method's. Parameters named after their method (remi.gap_tol) may be written once
 * (--param remi.gap_tol=X) or in full (--param remi.remi.gap_tol=X). */
static const char *param_for(const char *kv, const char *method)
{
    size_t mlen = strlen(method);
    if (strncmp(kv, method, mlen) != 0 || kv[mlen] != '.')
        return NULL;
    const char *eq = strchr(kv, '=');
    if (eq && method_has_param(method, kv, (size_t)(eq - kv)))
        return kv;
    return kv + mlen + 1;
}

/* Checks every --param METHOD.KEY=VALUE names a method and one of its parameters before any
 * work (the values are checked by a dry run of the requests once the data is loaded). */
static int check_params(const cli_string_list *params)
{
    for (int i = 0; i < params->n; i++) {
        const char *kv = params->items[i], *dot = strchr(kv, '.'), *eq = strchr(kv, '=');
        if (!dot || !eq || dot > eq || dot == kv || eq == dot + 1)
            return cli_usage_error("bench", "--param '%s': expected METHOD.KEY=VALUE", kv);
        char method[64];
        size_t len = (size_t)(dot - kv);
        if (len >= sizeof method)
            return cli_usage_error("bench", "--param '%s': the method name is too long", kv);
        memcpy(method, kv, len);
        method[len] = '\0';
        if (!lf_method_summary(method))
            return cli_usage_error("bench", "--param '%s': unknown method '%s'", kv, method);
        const char *key = param_for(kv, method);
        if (!method_has_param(method, key, (size_t)(strchr(key, '=') - key)))
            return cli_usage_error("bench", "--param '%s': %s has no parameter '%.*s' (see forget "
                                   "methods)", kv, method, (int)(strchr(key, '=') - key), key);
    }
    return CLI_EXIT_OK;
}

/* Applies the --param entries of `method` to req. */
static int apply_params(lf_request *req, const char *method, const cli_string_list *params)
{
    int rc = CLI_EXIT_OK;
    for (int i = 0; i < params->n && rc == CLI_EXIT_OK; i++) {
        const char *kv = param_for(params->items[i], method);
        if (kv)
            rc = cli_request_set_kv(req, "bench", kv);
    }
    return rc;
}

/* Sets up every method's request once, so a bad --param value fails before hours of work. */
static int dry_run_params(const cli_session *s, const bench_args *a, const char *const *names, int n)
{
    int rc = CLI_EXIT_OK;
    for (int i = 0; i < n && rc == CLI_EXIT_OK; i++) {
        lf_request *req = NULL;
        if ((rc = cli_session_request(s, names[i], a->seed, &req)) == CLI_EXIT_OK)
            rc = apply_params(req, names[i], &a->params);
        lf_request_destroy(req);
    }
    return rc;
}

/* ---- the confidences of --report ---- */

/* One model's logit-scaled confidences on D_f and on the histograms' test samples (malloc'd). */
typedef struct bench_conf {
    double *forget, *test;
} bench_conf;

static void conf_free(bench_conf *c)
{
    free(c->forget);
    free(c->test);
    c->forget = c->test = NULL;
}

/* The test samples the report sets beside D_f. For class:K, those of class K: the same class,
 * never trained on, so under Retrain D_f should look like them (the whole test set would mostly
 * show other classes). Else, or if the test set has no sample of class K, the whole test set.
 * *view is NULL or a view for the caller to destroy; *set is the samples to use. */
static int hist_test_set(const cli_session *s, lf_dataset **view, const lf_dataset **set)
{
    *view = NULL;
    *set = s->test;
    if (!s->f.class_wise)
        return CLI_EXIT_OK;
    size_t n = lf_dataset_size(s->test), k = 0;
    int32_t *labels = malloc((n ? n : 1) * sizeof *labels);
    int64_t *idx = malloc((n ? n : 1) * sizeof *idx);
    lf_status st = labels && idx ? lf_dataset_labels(s->test, labels, n) : LF_E_NOMEM;
    for (size_t i = 0; st == LF_OK && i < n; i++)
        if (labels[i] == s->f.forget_class)
            idx[k++] = (int64_t)i;
    if (st == LF_OK && k > 0)
        st = lf_dataset_view(view, s->test, idx, k);
    free(labels);
    free(idx);
    if (st != LF_OK)
        return cli_lib_error(st, "cannot select the test samples of class %d for --report",
                             (int)s->f.forget_class);
    if (*view)
        *set = *view;
    return CLI_EXIT_OK;
}

/* model's confidences on the session's forget set and on test; the caller frees c. */
static int confidences(lf_model *model, const cli_session *s, const lf_dataset *test, bench_conf *c)
{
    size_t nf = lf_dataset_size(s->forget), nt = lf_dataset_size(test);
    c->forget = malloc((nf ? nf : 1) * sizeof *c->forget);
    c->test = malloc((nt ? nt : 1) * sizeof *c->test);
    lf_status st = c->forget && c->test ? lf_model_logit_confidences(model, s->forget, c->forget, nf)
                                        : LF_E_NOMEM;
    if (st == LF_OK)
        st = lf_model_logit_confidences(model, test, c->test, nt);
    return st == LF_OK ? CLI_EXIT_OK : cli_lib_error(st, "cannot compute the confidences for --report");
}

/* ---- one method ---- */

typedef struct bench_row {
    const char *method;
    lf_metrics  metrics;
    double      seconds;
    bench_conf  conf;      /* --report only */
} bench_row;

/* Runs and evaluates one method; with hist_test (--report) also keeps the new model's
 * confidences, since the model itself is not kept. */
static int run_method(const cli_session *s, const bench_args *a, uint64_t seed, const char *method,
                      const lf_dataset *hist_test, bench_row *row)
{
    lf_request *req = NULL;
    lf_model *out = NULL;
    int rc = cli_session_request(s, method, seed, &req);
    if (rc == CLI_EXIT_OK)
        rc = apply_params(req, method, &a->params);
    if (rc == CLI_EXIT_OK) {
        double epochs = 1;
        lf_request_get_double(req, "epochs", &epochs);
        cli_progress progress;
        cli_progress_init(&progress, a->rt.quiet, (int32_t)epochs);
        lf_request_set_progress(req, cli_progress_callback, &progress);
        if (!a->rt.quiet)
            fprintf(stderr, "%s:\n", method);
        lf_unlearn_result result = LF_UNLEARN_RESULT_INIT;
        lf_status st = lf_unlearn(req, s->model, &out, &result);
        cli_progress_finish(&progress);
        if (st != LF_OK)
            rc = cli_lib_error(st, "%s failed", method);
        row->method = method;
        row->seconds = result.seconds;
    }
    if (rc == CLI_EXIT_OK)
        rc = cli_session_evaluate(s, out, &row->metrics);
    if (rc == CLI_EXIT_OK && hist_test)
        rc = confidences(out, s, hist_test, &row->conf);
    lf_model_destroy(out);
    lf_request_destroy(req);
    return rc;
}

/* ---- output ---- */

static void json_number(FILE *f, double v)
{
    char buf[CLI_NUMBER_LEN];
    if (!isfinite(v)) {
        fputs("null", f);
        return;
    }
    cli_format_number(buf, v);
    fputs(buf, f);
}

/* Avg. Disparity and speed-up of rows[i] against Retrain (rows[0]); NaN where undefined. */
static void versus_retrain(const bench_row *rows, int i, double *disparity, double *speedup)
{
    lf_metrics_disparity(disparity, &rows[i].metrics, &rows[0].metrics);   /* NaN on failure */
    *speedup = rows[i].seconds > 0 ? rows[0].seconds / rows[i].seconds : NAN;
}

/* The comparison as one JSON document (keys of the issue: dataset, arch, forget, backend,
 * threads, seed, rows). Method names and the spec are plain ASCII words. */
static int write_json(const char *path, const bench_args *a, const cli_session *s, uint64_t seed,
                      const bench_row *rows, int n)
{
    cli_atomic_file af;
    if (cli_atomic_open(&af, path) != CLI_EXIT_OK)
        return CLI_EXIT_RUNTIME;
    FILE *f = af.fp;
    fprintf(f, "{\"dataset\": \"%s\", \"arch\": \"%s\", \"forget\": \"%s\", \"backend\": \"%s\", "
               "\"threads\": %d, \"seed\": %llu, \"rows\": [",
            s->data, lf_model_arch(s->model), a->forget,
            lf_backend_name(lf_context_backend(s->ctx)), (int)lf_context_threads(s->ctx),
            (unsigned long long)seed);
    for (int i = 0; i < n; i++) {
        double disparity, speedup;
        versus_retrain(rows, i, &disparity, &speedup);
        const lf_metrics *m = &rows[i].metrics;
        fprintf(f, "%s\n  {\"method\": \"%s\", \"ua\": ", i ? "," : "", rows[i].method);
        json_number(f, m->ua);
        fputs(", \"mia_efficacy\": ", f);
        json_number(f, m->mia_efficacy);
        fputs(", \"ra\": ", f);
        json_number(f, m->ra);
        fputs(", \"ta\": ", f);
        json_number(f, m->ta);
        fputs(", \"avg_disparity\": ", f);
        json_number(f, disparity);
        fputs(", \"seconds\": ", f);
        json_number(f, rows[i].seconds);
        fputs(", \"speedup\": ", f);
        json_number(f, speedup);
        fputs("}", f);
    }
    fputs("\n]}\n", f);
    return cli_atomic_commit(&af);
}

/* The --report page: the rows, the confidences of the original (first) and of every row's model. */
static int write_html(const char *path, int argc, char **argv, const cli_session *s, uint64_t seed,
                      const bench_row *rows, int n, const bench_conf *original,
                      const lf_dataset *hist_test)
{
    cli_html_row hrows[BENCH_MAX_METHODS];
    cli_html_confidences conf[BENCH_MAX_METHODS + 1];
    conf[0] = (cli_html_confidences){ "original", original->forget, original->test };
    for (int i = 0; i < n; i++) {
        hrows[i] = (cli_html_row){ rows[i].method, &rows[i].metrics, rows[i].seconds, NAN, NAN };
        versus_retrain(rows, i, &hrows[i].disparity, &hrows[i].speedup);
        conf[i + 1] = (cli_html_confidences){ rows[i].method, rows[i].conf.forget, rows[i].conf.test };
    }
    char test_name[64] = "the test set", hist_name[64] = "the test set";
    if (s->f.class_wise)
        snprintf(test_name, sizeof test_name, "the test set without class %d", (int)s->f.forget_class);
    if (hist_test != s->test)
        snprintf(hist_name, sizeof hist_name, "the test samples of class %d", (int)s->f.forget_class);
    cli_html_report r = {
        .dataset = s->data, .arch = lf_model_arch(s->model), .forget_spec = s->forget_text,
        .backend = lf_backend_name(lf_context_backend(s->ctx)), .threads = lf_context_threads(s->ctx),
        .seed = seed, .n_forget = rows[0].metrics.n_forget, .n_retain = rows[0].metrics.n_retain,
        .n_test = rows[0].metrics.n_test, .test_name = test_name, .argc = argc, .argv = argv,
        .rows = hrows, .n_rows = n, .hist_test_name = hist_name,
        .n_hist_forget = lf_dataset_size(s->forget), .n_hist_test = lf_dataset_size(hist_test),
        .conf = conf, .n_conf = n + 1,
    };
    return cli_write_html_report(path, &r);
}

static int make_report(const cli_session *s, uint64_t seed, const bench_row *rows, int n,
                       lf_report **out)
{
    lf_status st = lf_report_create(out, s->ctx);
    for (int i = 0; st == LF_OK && i < n; i++) {
        lf_report_row r = LF_REPORT_ROW_INIT;
        r.method = rows[i].method;
        r.backend = lf_backend_name(lf_context_backend(s->ctx));
        r.threads = lf_context_threads(s->ctx);
        r.seed = seed;
        r.seconds = rows[i].seconds;
        st = lf_report_add(*out, &r, &rows[i].metrics);
    }
    return st == LF_OK ? CLI_EXIT_OK : cli_lib_error(st, "cannot build the report");
}

static int print_report(const lf_report *report)
{
    size_t needed = 0;
    lf_status st = lf_report_render(report, LF_REPORT_TABLE, NULL, 0, &needed);
    char *text = st == LF_OK ? malloc(needed + 1) : NULL;
    if (text)
        st = lf_report_render(report, LF_REPORT_TABLE, text, needed + 1, &needed);
    if (st != LF_OK || !text) {
        free(text);
        return cli_lib_error(st != LF_OK ? st : LF_E_NOMEM, "cannot render the report");
    }
    fputs(text, stdout);
    free(text);
    return CLI_EXIT_OK;
}

/* ---- the original model ---- */

/* Trains the original with `forget train` itself (same recipe, same metadata). */
static int train_original(const bench_args *a, const char *path)
{
    char epochs[16], seed[32], threads[16], data_fraction[CLI_NUMBER_LEN];
    snprintf(epochs, sizeof epochs, "%d", (int)a->epochs);
    cli_format_number(data_fraction, a->data_fraction);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)a->seed);
    snprintf(threads, sizeof threads, "%d", (int)a->rt.threads);
    char *argv[20];
    int argc = 0;
    const char *fixed[] = { "train", "--data", a->data, "--arch", a->arch, "--epochs", epochs,
                            "--seed", seed, "--threads", threads, "-o", path,
                            "--data-fraction", data_fraction };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        argv[argc++] = (char *)fixed[i];
    if (a->rt.backend) {
        argv[argc++] = (char *)"--backend";
        argv[argc++] = (char *)a->rt.backend;
    }
    if (a->rt.quiet)
        argv[argc++] = (char *)"--quiet";
    argv[argc] = NULL;
    if (!a->rt.quiet)
        fprintf(stderr, "training the original %s (%d epochs):\n", a->arch, (int)a->epochs);
    return cmd_train(argc, argv);
}

int cmd_bench(int argc, char **argv)
{
    bench_args a;
    memset(&a, 0, sizeof a);
    a.arch = "convnet";
    a.epochs = 10;
    a.data_fraction = 1.0;
    a.seed = CLI_DEFAULT_SEED;
    bench_table t = bench_options(&a);
    int rc = cli_parse("bench", argc, argv, t.options);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (!a.forget)
        return cli_usage_error("bench", "missing --forget SPEC");
    if (!a.model && !a.data)
        return cli_usage_error("bench", "missing --data (or --model)");
    if (a.model && a.data_fraction < 1.0)
        return cli_usage_error("bench", "--data-fraction applies to a trained original, not to "
                                        "--model (its metadata holds its own)");
    const char *names[BENCH_MAX_METHODS];
    int n_methods = 0;
    if ((rc = method_list(a.methods, names, &n_methods)) != CLI_EXIT_OK ||
        (rc = check_params(&a.params)) != CLI_EXIT_OK)
        return rc;
    if ((a.json && cli_check_output_folder(a.json) != CLI_EXIT_OK) ||
        (a.csv && cli_check_output_folder(a.csv) != CLI_EXIT_OK) ||
        (a.report && cli_check_output_folder(a.report) != CLI_EXIT_OK))
        return CLI_EXIT_RUNTIME;

    /* the original: --model, or trained now into --save-model or a temporary file */
    char tmp_path[4096] = "";
    const char *model_path = a.model;
    if (!model_path) {
        if (a.save_model) {
            model_path = a.save_model;
        } else {
            const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
            snprintf(tmp_path, sizeof tmp_path, "%s/forget-bench-%ld.safetensors", dir, (long)getpid());
            model_path = tmp_path;
        }
        if ((rc = train_original(&a, model_path)) != CLI_EXIT_OK)
            goto cleanup_file;
    }

    cli_session ses;
    bench_row rows[BENCH_MAX_METHODS];
    memset(rows, 0, sizeof rows);
    lf_report *report = NULL;
    int n_rows = 0;
    bench_conf original = { NULL, NULL };     /* --report: the original's confidences */
    lf_dataset *hist_view = NULL;
    const lf_dataset *hist_test = NULL;
    rc = cli_session_open(&ses, "bench", &a.rt, model_path, a.data, a.forget, a.seed);
    if (rc == CLI_EXIT_OK)
        rc = dry_run_params(&ses, &a, names, n_methods);
    if (rc == CLI_EXIT_OK && a.report && (rc = hist_test_set(&ses, &hist_view, &hist_test)) == CLI_EXIT_OK)
        rc = confidences(ses.model, &ses, hist_test, &original);
    for (int i = 0; i < n_methods && rc == CLI_EXIT_OK; i++)
        if ((rc = run_method(&ses, &a, a.seed, names[i], hist_test, &rows[i])) == CLI_EXIT_OK)
            n_rows++;
    if (rc == CLI_EXIT_OK && (rc = make_report(&ses, a.seed, rows, n_rows, &report)) == CLI_EXIT_OK) {
        printf("%s, %s, forget %s, %s backend, %d threads, seed %llu\n", ses.data,
               lf_model_arch(ses.model), a.forget, lf_backend_name(lf_context_backend(ses.ctx)),
               (int)lf_context_threads(ses.ctx), (unsigned long long)a.seed);
        rc = print_report(report);
    }
    if (rc == CLI_EXIT_OK && a.json)
        rc = write_json(a.json, &a, &ses, a.seed, rows, n_rows);
    if (rc == CLI_EXIT_OK && a.csv) {
        lf_status st = lf_report_write(report, LF_REPORT_CSV, a.csv);
        if (st != LF_OK)
            rc = cli_lib_error(st, "cannot write '%s'", a.csv);
    }
    if (rc == CLI_EXIT_OK && a.report)
        rc = write_html(a.report, argc, argv, &ses, a.seed, rows, n_rows, &original, hist_test);
    for (int i = 0; i < n_methods; i++)
        conf_free(&rows[i].conf);
    conf_free(&original);
    lf_dataset_destroy(hist_view);
    lf_report_destroy(report);
    cli_session_close(&ses);
cleanup_file:
    if (tmp_path[0])
        unlink(tmp_path);
    return rc;
}
