/* forget eval: how well a model forgot a forget set (spec/EVALUATION.md): UA, RA, TA,
 * MIA-Efficacy and the metric attacks. The train/validation split is rebuilt from the model's
 * metadata, so eval on the model `forget train` wrote measures the original model. */
#include <math.h>
#include <string.h>

#include "cli.h"

typedef struct eval_args {
    const char *model;
    const char *data;
    const char *forget;
    uint64_t    seed;        /* forget-set seed; 0 = the model's split seed */
    cli_runtime rt;
} eval_args;

typedef struct eval_table {
    cli_option options[12];
} eval_table;

static eval_table eval_options(eval_args *a)
{
    eval_table t = { {
        { "--model", "-m", CLI_OPT_STRING, &a->model, 0, 0, 0, "FILE", "the model, .safetensors (required)" },
        { "--data", NULL, CLI_OPT_STRING, &a->data, 0, 0, 0, "NAME|DIR",
          "data set (default: the one the model was trained on)" },
        { "--forget", NULL, CLI_OPT_STRING, &a->forget, 0, 0, 0, "SPEC",
          "random:F, stratified:F, class:K or indices:FILE (indices into the train split) (required)" },
        { "--seed", NULL, CLI_OPT_U64, &a->seed, 0, 0, 0, "N",
          "seed of a random forget set (default: the model's split seed)" },
        CLI_RUNTIME_OPTIONS(&a->rt),
        CLI_OPTIONS_END,
    } };
    return t;
}

void cmd_eval_usage(FILE *out)
{
    eval_args a;
    memset(&a, 0, sizeof a);
    eval_table t = eval_options(&a);
    fputs("usage: forget eval --model FILE --forget SPEC [--data NAME|DIR] [options]\n\n"
          "Splits the train split (rebuilt from the model's metadata) into retain and forget\n"
          "sets and measures the model: UA = 100 - accuracy on the forget set, RA (retain), TA\n"
          "(test; without the class for class:K), MIA-Efficacy (an SVM on confidences) and the\n"
          "Song & Mittal metric attacks. All figures are percentages.\n\noptions:\n", out);
    cli_print_options(out, t.options);
}

static void print_metrics(const eval_args *a, const lf_metrics *m)
{
    if (!a->rt.json) {
        cli_metrics_print(a->forget, m);
        return;
    }
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_metrics_json(&j, m);
    cli_json_str(&j, "forget", a->forget);
    cli_json_num(&j, "seconds", m->seconds);
    cli_json_num(&j, "mia_seconds", m->mia_seconds);
    cli_json_end(&j);
}

int cmd_eval(int argc, char **argv)
{
    eval_args a;
    memset(&a, 0, sizeof a);
    eval_table t = eval_options(&a);
    int rc = cli_parse("eval", argc, argv, t.options);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (!a.model)
        return cli_usage_error("eval", "missing --model FILE");
    if (!a.forget)
        return cli_usage_error("eval", "missing --forget SPEC");
    cli_session ses;
    lf_metrics m;
    if ((rc = cli_session_open(&ses, "eval", &a.rt, a.model, a.data, a.forget, a.seed)) == CLI_EXIT_OK &&
        (rc = cli_session_evaluate(&ses, ses.model, &m)) == CLI_EXIT_OK)
        print_metrics(&a, &m);
    cli_session_close(&ses);
    return rc;
}
