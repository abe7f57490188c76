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
    int32_t         epochs;
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
        { "--param", "-p", CLI_OPT_LIST, &a->params, 0, 0, 0, "M.KEY=VALUE",
          "a method parameter (repeatable), e.g. --param ga.lr=1e-3" },
        { "--json", NULL, CLI_OPT_STRING, &a->json, 0, 0, 0, "FILE", "write the comparison as JSON" },
        { "--csv", NULL, CLI_OPT_STRING, &a->csv, 0, 0, 0, "FILE", "write the comparison as CSV" },
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
            dup |= names[k] == found;
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
    }
    return CLI_EXIT_OK;
}

/* Applies the --param entries of `method` to req. */
static int apply_params(lf_request *req, const char *method, const cli_string_list *params)
{
    size_t mlen = strlen(method);
    int rc = CLI_EXIT_OK;
    for (int i = 0; i < params->n && rc == CLI_EXIT_OK; i++) {
        const char *kv = params->items[i];
        if (strncmp(kv, method, mlen) == 0 && kv[mlen] == '.')
            rc = cli_request_set_kv(req, "bench", kv + mlen + 1);
    }
    return rc;
}

/* ---- one method ---- */

typedef struct bench_row {
    const char *method;
    lf_metrics  metrics;
    double      seconds;
} bench_row;

static int run_method(const cli_session *s, const bench_args *a, uint64_t seed, const char *method,
                      bench_row *row)
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
        double disparity = NAN;
        lf_metrics_disparity(&disparity, &rows[i].metrics, &rows[0].metrics);
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
        json_number(f, rows[i].seconds > 0 ? rows[0].seconds / rows[i].seconds : NAN);
        fputs("}", f);
    }
    fputs("\n]}\n", f);
    return cli_atomic_commit(&af);
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
    char epochs[16], seed[32], threads[16];
    snprintf(epochs, sizeof epochs, "%d", (int)a->epochs);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)a->seed);
    snprintf(threads, sizeof threads, "%d", (int)a->rt.threads);
    char *argv[20];
    int argc = 0;
    const char *fixed[] = { "train", "--data", a->data, "--arch", a->arch, "--epochs", epochs,
                            "--seed", seed, "--threads", threads, "-o", path };
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
    a.seed = CLI_DEFAULT_SEED;
    bench_table t = bench_options(&a);
    int rc = cli_parse("bench", argc, argv, t.options);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (!a.forget)
        return cli_usage_error("bench", "missing --forget SPEC");
    if (!a.model && !a.data)
        return cli_usage_error("bench", "missing --data (or --model)");
    const char *names[BENCH_MAX_METHODS];
    int n_methods = 0;
    if ((rc = method_list(a.methods, names, &n_methods)) != CLI_EXIT_OK ||
        (rc = check_params(&a.params)) != CLI_EXIT_OK)
        return rc;
    if ((a.json && cli_check_output_folder(a.json) != CLI_EXIT_OK) ||
        (a.csv && cli_check_output_folder(a.csv) != CLI_EXIT_OK))
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
    if ((rc = cli_session_open(&ses, "bench", &a.rt, model_path, a.data, a.forget, a.seed)) == CLI_EXIT_OK) {
        for (int i = 0; i < n_methods && rc == CLI_EXIT_OK; i++)
            if ((rc = run_method(&ses, &a, a.seed, names[i], &rows[i])) == CLI_EXIT_OK)
                n_rows++;
    }
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
    lf_report_destroy(report);
    cli_session_close(&ses);
cleanup_file:
    if (tmp_path[0])
        unlink(tmp_path);
    return rc;
}
