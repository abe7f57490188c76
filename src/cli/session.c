/* The data a forgetting command works on (eval, unlearn): the model, its data set, the train
 * split rebuilt from the model's metadata, the forget/retain split of --forget, the test set
 * (without the forgotten class for class:K), and the evaluation and printing of the metrics. */
#include <string.h>

#include "cli.h"

int cli_session_open(cli_session *s, const char *command, const cli_runtime *rt,
                     const char *model_path, const char *data, const char *forget, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->forget_text = forget;
    s->quiet = rt->quiet;
    /* parse the spec before loading anything, so a typo fails at once (seed patched below) */
    int rc = cli_forget_parse(command, forget, seed, &s->f);
    if (rc != CLI_EXIT_OK)
        return rc;
    if ((rc = cli_context_create(&s->ctx, rt, CLI_DEFAULT_SEED, command)) != CLI_EXIT_OK)
        return rc;
    lf_status st = lf_model_load(&s->model, s->ctx, model_path, NULL);
    if (st != LF_OK)
        return cli_lib_error(st, "cannot load the model '%s'", model_path);
    s->data = data;
    if (!s->data && lf_model_get_metadata(s->model, CLI_META_DATA_NAME, &s->data) != LF_OK)
        return cli_usage_error(command, "missing --data (the model does not name its data set)");
    if ((rc = cli_split_recipe_from_model(s->model, model_path, &s->recipe)) != CLI_EXIT_OK ||
        (rc = cli_load_data(s->ctx, s->data, &s->pool, &s->test)) != CLI_EXIT_OK ||
        (rc = cli_split_holdout(s->pool, &s->recipe, &s->train, &s->val)) != CLI_EXIT_OK)
        return rc;
    if (seed == 0)
        s->f.spec.seed = s->recipe.seed;
    st = lf_dataset_split_forget(&s->retain, &s->forget, s->train, &s->f.spec);
    if (st != LF_OK)
        return cli_lib_error(st, "cannot make the forget set %s", forget);
    if (s->f.class_wise &&
        (st = lf_dataset_without_class(&s->test_kept, s->test, s->f.forget_class)) != LF_OK)
        return cli_lib_error(st, "cannot drop class %d from the test set", (int)s->f.forget_class);
    return CLI_EXIT_OK;
}

void cli_session_close(cli_session *s)
{
    lf_dataset_destroy(s->test_kept);
    lf_dataset_destroy(s->forget);
    lf_dataset_destroy(s->retain);
    lf_dataset_destroy(s->val);
    lf_dataset_destroy(s->train);
    lf_dataset_destroy(s->test);
    lf_dataset_destroy(s->pool);
    lf_model_destroy(s->model);
    lf_context_destroy(s->ctx);
    cli_forget_free(&s->f);
    memset(s, 0, sizeof *s);
}

int cli_session_evaluate(const cli_session *s, lf_model *model, lf_metrics *m)
{
    *m = (lf_metrics)LF_METRICS_INIT;
    /* Live progress on a terminal; else one line when done (a log needs no per-batch lines). */
    cli_progress progress;
    cli_progress_init(&progress, s->quiet, 0);
    lf_eval_options opts = LF_EVAL_OPTIONS_INIT;
    if (progress.live) {
        opts.progress = cli_progress_callback;
        opts.progress_user = &progress;
    }
    lf_status st = lf_evaluate(model, s->forget, s->retain, s->test_kept ? s->test_kept : s->test,
                               &opts, m);
    cli_progress_finish(&progress);
    if (st != LF_OK)
        return cli_lib_error(st, "evaluation failed");
    if (!s->quiet && !progress.live)
        fprintf(stderr, "evaluation: %.1f s (MIA SVM %.1f s)\n", m->seconds, m->mia_seconds);
    return CLI_EXIT_OK;
}

/* Retrain defaults to the recipe in the model's metadata (keys it lacks keep the defaults). */
int cli_apply_recipe(lf_request *req, const lf_model *model)
{
    if (strcmp(lf_request_method(req), "retrain") != 0)
        return CLI_EXIT_OK;
    const char *keys[][2] = { { CLI_META_TRAIN_EPOCHS, "epochs" }, { CLI_META_TRAIN_LR, "lr" },
                              { CLI_META_TRAIN_BATCH, "batch" },
                              { CLI_META_TRAIN_SCHEDULE, "schedule" } };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *value = NULL;
        if (lf_model_get_metadata(model, keys[i][0], &value) != LF_OK)
            continue;
        lf_status st = lf_request_set_param(req, keys[i][1], value);
        if (st != LF_OK)
            return cli_lib_error(st, "the model's recipe %s = '%s' does not fit retrain",
                                 keys[i][0], value);
    }
    return CLI_EXIT_OK;
}

int cli_session_request(const cli_session *s, const char *method, uint64_t seed, lf_request **out)
{
    lf_status st = lf_request_create(out, s->ctx, method);
    if (st == LF_OK)
        st = lf_request_set_train(*out, s->train);
    if (st == LF_OK)
        st = lf_request_set_forget(*out, &s->f.spec);
    if (st == LF_OK)
        st = lf_request_set_holdout(*out, s->val);
    if (st == LF_OK)
        st = lf_request_set_seed(*out, seed);
    if (st != LF_OK)
        return cli_lib_error(st, "cannot set up the %s request", method);
    return cli_apply_recipe(*out, s->model);
}

int cli_request_set_kv(lf_request *req, const char *command, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return cli_usage_error(command, "--param '%s': expected KEY=VALUE", kv);
    char key[64];
    size_t len = (size_t)(eq - kv);
    if (len >= sizeof key)
        return cli_usage_error(command, "--param '%s': the key is too long", kv);
    memcpy(key, kv, len);
    key[len] = '\0';
    lf_status st = lf_request_set_param(req, key, eq + 1);
    if (st != LF_OK) {
        cli_error("%s: --param %s: %s", command, kv, lf_last_error_message());
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

void cli_metrics_json(cli_json *j, const lf_metrics *m)
{
    cli_json_num(j, "ua", m->ua);
    cli_json_num(j, "ra", m->ra);
    cli_json_num(j, "ta", m->ta);
    cli_json_num(j, "mia_efficacy", m->mia_efficacy);
    cli_json_int(j, "n_forget", (long long)m->n_forget);
    cli_json_int(j, "n_retain", (long long)m->n_retain);
    cli_json_int(j, "n_test", (long long)m->n_test);
    for (int k = 0; k < LF_ATTACK_COUNT; k++) {
        char key[64];
        snprintf(key, sizeof key, "attack_%s_accuracy", lf_attack_name((lf_attack)k));
        cli_json_num(j, key, m->attack_accuracy[k]);
    }
}

void cli_metrics_print(const char *forget, const lf_metrics *m)
{
    printf("forget set %s: %lld forget, %lld retain, %lld test samples\n", forget,
           (long long)m->n_forget, (long long)m->n_retain, (long long)m->n_test);
    printf("UA %.2f   MIA-Efficacy %.2f   RA %.2f   TA %.2f   (%.1f s, SVM %.1f s)\n", m->ua,
           m->mia_efficacy, m->ra, m->ta, m->seconds, m->mia_seconds);
    printf("attacks (TPR / TNR / balanced accuracy):\n");
    for (int k = 0; k < LF_ATTACK_COUNT; k++)
        printf("  %-17s %6.2f %6.2f %6.2f\n", lf_attack_name((lf_attack)k), m->attack_tpr[k],
               m->attack_tnr[k], m->attack_accuracy[k]);
}
