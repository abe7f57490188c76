/* The report as JSON (jansson): {"libforget_version", "rows": [...]}, one object per row with
 * the metrics, the comparison with Retrain and the attacks. Missing values (NaN) are null;
 * model hashes are 16-digit hex strings (JSON numbers cannot carry 64 bits). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/eval/report_internal.h"
#include "libforget/version.h"

/* Each setter records the first failure; json_object_set_new steals the value even on error. */
typedef struct builder {
    int failed;
} builder;

static void set(builder *b, json_t *obj, const char *key, json_t *value)
{
    if (!value || json_object_set_new(obj, key, value) != 0)
        b->failed = 1;
}

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *hex64(uint64_t v)
{
    char buf[17];
    snprintf(buf, sizeof buf, "%016" PRIx64, v);
    return json_string(buf);
}

/* A seed above INT64_MAX does not fit jansson's integers: it is written as a decimal string. */
static json_t *seed_value(uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)v);
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return json_string(buf);
}

static json_t *row_object(builder *b, const lf_report *r, size_t i)
{
    const lf__report_entry *e = &r->rows[i];
    const lf_metrics *m = &e->metrics;
    lf__report_derived d;
    lf__report_derive(r, i, &d);
    json_t *o = json_object();
    if (!o) {
        b->failed = 1;
        return NULL;
    }
    set(b, o, "method", json_string(e->method));
    set(b, o, "backend", json_string(e->backend));
    set(b, o, "threads", json_integer(e->threads));
    set(b, o, "seed", seed_value(e->seed));
    set(b, o, "seconds", num(e->seconds));
    set(b, o, "speedup_vs_retrain", num(d.speedup));
    set(b, o, "time_ratio_vs_retrain", num(d.time_ratio));
    set(b, o, "avg_disparity", num(d.disparity));
    set(b, o, "ua", num(m->ua));
    set(b, o, "mia_efficacy", num(m->mia_efficacy));
    set(b, o, "ra", num(m->ra));
    set(b, o, "ta", num(m->ta));
    set(b, o, "mia_feature", isnan(m->mia_efficacy) ? json_null() : json_string(lf_feature_name(m->mia_feature)));
    set(b, o, "n_forget", json_integer(m->n_forget));
    set(b, o, "n_retain", json_integer(m->n_retain));
    set(b, o, "n_test", json_integer(m->n_test));
    set(b, o, "n_mia_members", json_integer(m->n_mia_members));
    set(b, o, "n_shadow_members", json_integer(m->n_shadow_members));
    set(b, o, "n_target_members", json_integer(m->n_target_members));
    json_t *attacks = json_object();
    for (int a = 0; attacks && a < LF_ATTACK_COUNT; a++) {
        json_t *one = json_object();
        if (one) {
            set(b, one, "tpr", num(m->attack_tpr[a]));
            set(b, one, "tnr", num(m->attack_tnr[a]));
            set(b, one, "accuracy", num(m->attack_accuracy[a]));
        }
        set(b, attacks, lf_attack_name(a), one);
    }
    set(b, o, "attacks", attacks);
    set(b, o, "eval_seconds", num(m->seconds));
    set(b, o, "mia_seconds", num(m->mia_seconds));
    set(b, o, "model_hash_before", hex64(e->hash_before));
    set(b, o, "model_hash_after", hex64(e->hash_after));
    return o;
}

lf_status lf__report_render_json(const lf_report *r, lf__text *t)
{
    builder b = { 0 };
    json_t *root = json_object();
    json_t *rows = json_array();
    if (!root || !rows)
        b.failed = 1;
    for (size_t i = 0; !b.failed && i < r->n; i++) {
        json_t *o = row_object(&b, r, i);
        if (!o || json_array_append_new(rows, o) != 0)
            b.failed = 1;
    }
    char *text = NULL;
    if (!b.failed && root) {
        set(&b, root, "libforget_version", json_string(lf_version_string()));
        set(&b, root, "rows", rows);
        rows = NULL;   /* owned by root now */
        if (!b.failed)
            text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    }
    json_decref(rows);
    json_decref(root);
    if (!text)
        return lf__error(LF_E_NOMEM, "lf_report: out of memory building the JSON text");
    lf__text_append(t, text, strlen(text));
    lf__text_append(t, "\n", 1);
    free(text);   /* jansson's allocation */
    return LF_OK;
}
