/* forget unlearn: run an unlearning method on a saved model, save the new model and evaluate
 * it (the metrics of forget eval). forget methods: the methods and their parameters.
 *
 * Retrain's recipe (epochs, lr, batch, schedule) defaults to the one the model's metadata
 * records, so `--method retrain` retrains the way `forget train` trained; --param overrides. */
#include <string.h>

#include "cli.h"

typedef struct unlearn_args {
    const char     *model;
    const char     *data;
    const char     *forget;
    const char     *method;
    const char     *output;
    uint64_t        seed;
    cli_string_list params;
    cli_runtime     rt;
} unlearn_args;

typedef struct unlearn_table {
    cli_option options[16];
} unlearn_table;

static unlearn_table unlearn_options(unlearn_args *a)
{
    unlearn_table t = { {
        { "--model", "-m", CLI_OPT_STRING, &a->model, 0, 0, 0, "FILE", "the model, .safetensors (required)" },
        { "--data", NULL, CLI_OPT_STRING, &a->data, 0, 0, 0, "NAME|DIR",
          "data set (default: the one the model was trained on)" },
        { "--forget", NULL, CLI_OPT_STRING, &a->forget, 0, 0, 0, "SPEC",
          "random:F, stratified:F, class:K or indices:FILE (indices into the train split) (required)" },
        { "--method", NULL, CLI_OPT_STRING, &a->method, 0, 0, 0, "NAME",
          "unlearning method (required; see forget methods)" },
        { "--param", "-p", CLI_OPT_LIST, &a->params, 0, 0, 0, "KEY=VALUE",
          "a method parameter (repeatable), e.g. --param lr=0.01" },
        { "--output", "-o", CLI_OPT_STRING, &a->output, 0, 0, 0, "FILE",
          "where to save the new model, .safetensors (required)" },
        { "--seed", NULL, CLI_OPT_U64, &a->seed, 0, 0, 0, "N",
          "seed of the forget set and the method (default: the model's split seed)" },
        CLI_RUNTIME_OPTIONS(&a->rt),
        CLI_OPTIONS_END,
    } };
    return t;
}

void cmd_unlearn_usage(FILE *out)
{
    unlearn_args a;
    memset(&a, 0, sizeof a);
    unlearn_table t = unlearn_options(&a);
    fputs("usage: forget unlearn --model FILE --forget SPEC --method NAME -o FILE [--param K=V]...\n\n"
          "Makes the model forget the forget set with the method, saves the new model (the input\n"
          "file is not touched) and prints the new model's UA, MIA-Efficacy, RA and TA.\n\n"
          "options:\n", out);
    cli_print_options(out, t.options);
}

static int apply_params(lf_request *req, const cli_string_list *params)
{
    int rc = CLI_EXIT_OK;
    for (int i = 0; i < params->n && rc == CLI_EXIT_OK; i++)
        rc = cli_request_set_kv(req, "unlearn", params->items[i]);
    return rc;
}

static void print_result(const unlearn_args *a, const lf_unlearn_result *r, const lf_metrics *m)
{
    if (a->rt.json) {
        cli_json j;
        cli_json_begin(&j, stdout);
        cli_json_str(&j, "method", a->method);
        cli_json_num(&j, "seconds", r->seconds);
        cli_json_int(&j, "steps", (long long)r->steps);
        cli_json_int(&j, "epochs", r->epochs);
        cli_json_num(&j, "final_loss", r->final_loss);
        for (int32_t i = 0; i < r->n_figures; i++)   /* method-specific, e.g. remi.acc_bound */
            cli_json_num(&j, r->figures[i].name, r->figures[i].value);
        cli_metrics_json(&j, m);
        cli_json_str(&j, "forget", a->forget);
        cli_json_num(&j, "eval_seconds", m->seconds);
        cli_json_str(&j, "output", a->output);
        cli_json_end(&j);
        return;
    }
    printf("%s: %.2f s, %lld steps, final loss %.4f\n", a->method, r->seconds,
           (long long)r->steps, r->final_loss);
    for (int32_t i = 0; i < r->n_figures; i++) {
        printf("  %-20s %.4g\n", r->figures[i].name, r->figures[i].value);
        if (strcmp(r->figures[i].name, "remi.acc_bound") == 0)
            printf("  leakage bound (Gaussian approximation, not a certificate): a membership attacker "
                   "tells the forget set from unseen data with accuracy <= %.1f%%\n",
                   100.0 * r->figures[i].value);
    }
    cli_metrics_print(a->forget, m);
    printf("saved %s\n", a->output);
}

int cmd_unlearn(int argc, char **argv)
{
    unlearn_args a;
    memset(&a, 0, sizeof a);
    unlearn_table t = unlearn_options(&a);
    int rc = cli_parse("unlearn", argc, argv, t.options);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (!a.model)
        return cli_usage_error("unlearn", "missing --model FILE");
    if (!a.forget)
        return cli_usage_error("unlearn", "missing --forget SPEC");
    if (!a.method)
        return cli_usage_error("unlearn", "missing --method NAME (see forget methods)");
    if (!lf_method_summary(a.method))
        return cli_usage_error("unlearn", "--method: unknown method '%s' (see forget methods)", a.method);
    if (!a.output)
        return cli_usage_error("unlearn", "missing -o FILE (where to save the new model)");
    if (cli_check_output_folder(a.output) != CLI_EXIT_OK)
        return CLI_EXIT_RUNTIME;

    cli_session ses;
    lf_request *req = NULL;
    lf_model *out = NULL;
    if ((rc = cli_session_open(&ses, "unlearn", &a.rt, a.model, a.data, a.forget, a.seed)) != CLI_EXIT_OK)
        goto done;
    if ((rc = cli_session_request(&ses, a.method, a.seed ? a.seed : ses.recipe.seed, &req)) != CLI_EXIT_OK ||
        (rc = apply_params(req, &a.params)) != CLI_EXIT_OK)
        goto done;

    double epochs = 1;
    lf_request_get_double(req, "epochs", &epochs);   /* methods without epochs keep 1 */
    cli_progress progress;
    cli_progress_init(&progress, a.rt.quiet || a.rt.json, (int32_t)epochs);
    lf_request_set_progress(req, cli_progress_callback, &progress);
    lf_unlearn_result result = LF_UNLEARN_RESULT_INIT;
    lf_status st = lf_unlearn(req, ses.model, &out, &result);
    cli_progress_finish(&progress);
    if (st != LF_OK) {
        rc = cli_lib_error(st, "%s failed", a.method);
        goto done;
    }
    st = lf_model_save(out, a.output);
    if (st != LF_OK) {
        rc = cli_lib_error(st, "cannot save the model to '%s'", a.output);
        goto done;
    }
    lf_metrics m;
    if ((rc = cli_session_evaluate(&ses, out, &m)) != CLI_EXIT_OK)
        goto done;
    print_result(&a, &result, &m);

done:
    lf_model_destroy(out);
    lf_request_destroy(req);
    cli_session_close(&ses);
    return rc;
}

/* ---- forget methods ---- */

void cmd_methods_usage(FILE *out)
{
    fputs("usage: forget methods [--json]\n\n"
          "Lists the unlearning methods and their parameters (type, default, bounds).\n", out);
}

static void print_param_text(const lf_param_info *p)
{
    if (p->type == LF_PARAM_CHOICE)
        printf("    %-18s %s (default %s; one of %s)\n", p->name, p->doc, p->default_choice,
               p->choices);
    else
        printf("    %-18s %s (default %g; %s in [%g, %g])\n", p->name, p->doc, p->default_value,
               p->type == LF_PARAM_INT ? "integer" : "number", p->min_value, p->max_value);
}

int cmd_methods(int argc, char **argv)
{
    int json = 0;
    cli_option options[] = {
        { "--json", NULL, CLI_OPT_FLAG, &json, 0, 0, 0, NULL, "print JSON (one object per line)" },
        CLI_OPTIONS_END,
    };
    int rc = cli_parse("methods", argc, argv, options);
    if (rc != CLI_EXIT_OK)
        return rc;
    for (size_t i = 0; i < lf_method_count(); i++) {
        const char *name = lf_method_name(i);
        if (!json)
            printf("%s — %s\n", name, lf_method_summary(name));
        for (size_t k = 0; k < lf_method_param_count(name); k++) {
            lf_param_info p = LF_PARAM_INFO_INIT;
            lf_status st = lf_method_param_info(name, k, &p);
            if (st != LF_OK)
                return cli_lib_error(st, "cannot describe %s's parameter %zu", name, k);
            if (!json) {
                print_param_text(&p);
                continue;
            }
            cli_json j;
            cli_json_begin(&j, stdout);
            cli_json_str(&j, "method", name);
            cli_json_str(&j, "param", p.name);
            cli_json_str(&j, "type", p.type == LF_PARAM_INT      ? "int"
                                     : p.type == LF_PARAM_DOUBLE ? "double"
                                                                 : "choice");
            if (p.type == LF_PARAM_CHOICE) {
                cli_json_str(&j, "default", p.default_choice);
                cli_json_str(&j, "choices", p.choices);
            } else {
                cli_json_num(&j, "default", p.default_value);
                cli_json_num(&j, "min", p.min_value);
                cli_json_num(&j, "max", p.max_value);
            }
            cli_json_str(&j, "doc", p.doc);
            cli_json_end(&j);
        }
    }
    return CLI_EXIT_OK;
}
