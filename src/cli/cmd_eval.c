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
    if (a->rt.json) {
        cli_json j;
        cli_json_begin(&j, stdout);
        cli_json_num(&j, "ua", m->ua);
        cli_json_num(&j, "ra", m->ra);
        cli_json_num(&j, "ta", m->ta);
        cli_json_num(&j, "mia_efficacy", m->mia_efficacy);
        cli_json_int(&j, "n_forget", (long long)m->n_forget);
        cli_json_int(&j, "n_retain", (long long)m->n_retain);
        cli_json_int(&j, "n_test", (long long)m->n_test);
        for (int k = 0; k < LF_ATTACK_COUNT; k++) {
            char key[64];
            snprintf(key, sizeof key, "attack_%s_accuracy", lf_attack_name((lf_attack)k));
            cli_json_num(&j, key, m->attack_accuracy[k]);
        }
        cli_json_str(&j, "forget", a->forget);
        cli_json_num(&j, "seconds", m->seconds);
        cli_json_num(&j, "mia_seconds", m->mia_seconds);
        cli_json_end(&j);
        return;
    }
    printf("forget set %s: %lld forget, %lld retain, %lld test samples\n", a->forget,
           (long long)m->n_forget, (long long)m->n_retain, (long long)m->n_test);
    printf("UA %.2f   MIA-Efficacy %.2f   RA %.2f   TA %.2f   (%.1f s, SVM %.1f s)\n", m->ua,
           m->mia_efficacy, m->ra, m->ta, m->seconds, m->mia_seconds);
    printf("attacks (TPR / TNR / balanced accuracy):\n");
    for (int k = 0; k < LF_ATTACK_COUNT; k++)
        printf("  %-17s %6.2f %6.2f %6.2f\n", lf_attack_name((lf_attack)k), m->attack_tpr[k],
               m->attack_tnr[k], m->attack_accuracy[k]);
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
    cli_forget f;
    memset(&f, 0, sizeof f);
    /* parse the spec before loading anything, so a typo fails at once (seed patched below) */
    if ((rc = cli_forget_parse("eval", a.forget, a.seed, &f)) != CLI_EXIT_OK)
        return rc;

    lf_context *ctx = NULL;
    lf_model *model = NULL;
    lf_dataset *pool = NULL, *test = NULL, *train = NULL, *val = NULL, *retain = NULL, *forget = NULL,
               *test_kept = NULL;
    if ((rc = cli_context_create(&ctx, &a.rt, CLI_DEFAULT_SEED, "eval")) != CLI_EXIT_OK)
        goto done;
    lf_status st = lf_model_load(&model, ctx, a.model, NULL);
    if (st != LF_OK) {
        rc = cli_lib_error(st, "cannot load the model '%s'", a.model);
        goto done;
    }
    if (!a.data && lf_model_get_metadata(model, CLI_META_DATA_NAME, &a.data) != LF_OK) {
        rc = cli_usage_error("eval", "missing --data (the model does not name its data set)");
        goto done;
    }
    cli_split_recipe recipe;
    if ((rc = cli_split_recipe_from_model(model, a.model, &recipe)) != CLI_EXIT_OK ||
        (rc = cli_load_data(ctx, a.data, &pool, &test)) != CLI_EXIT_OK ||
        (rc = cli_split_holdout(pool, &recipe, &train, &val)) != CLI_EXIT_OK)
        goto done;
    if (a.seed == 0)
        f.spec.seed = recipe.seed;
    st = lf_dataset_split_forget(&retain, &forget, train, &f.spec);
    if (st != LF_OK) {
        rc = cli_lib_error(st, "cannot make the forget set %s", a.forget);
        goto done;
    }
    if (f.class_wise && (st = lf_dataset_without_class(&test_kept, test, f.forget_class)) != LF_OK) {
        rc = cli_lib_error(st, "cannot drop class %d from the test set", (int)f.forget_class);
        goto done;
    }
    lf_metrics m = LF_METRICS_INIT;
    st = lf_evaluate(model, forget, retain, test_kept ? test_kept : test, NULL, &m);
    if (st != LF_OK) {
        rc = cli_lib_error(st, "evaluation failed");
        goto done;
    }
    print_metrics(&a, &m);

done:
    lf_dataset_destroy(test_kept);
    lf_dataset_destroy(forget);
    lf_dataset_destroy(retain);
    lf_dataset_destroy(val);
    lf_dataset_destroy(train);
    lf_dataset_destroy(test);
    lf_dataset_destroy(pool);
    lf_model_destroy(model);
    lf_context_destroy(ctx);
    cli_forget_free(&f);
    return rc;
}
