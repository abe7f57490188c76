/* The report as CSV (RFC 4180): a header line, then one line per row; missing values are empty
 * fields and numbers use the shortest text that reads back to the same double. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/eval/report_internal.h"

static void field_sep(lf__text *t, int *first)
{
    if (!*first)
        lf__text_append(t, ",", 1);
    *first = 0;
}

static void field_str(lf__text *t, int *first, const char *s)
{
    field_sep(t, first);
    if (!strpbrk(s, ",\"\r\n")) {
        lf__text_append(t, s, strlen(s));
        return;
    }
    lf__text_append(t, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            lf__text_append(t, "\"", 1);
        lf__text_append(t, p, 1);
    }
    lf__text_append(t, "\"", 1);
}

static void field_num(lf__text *t, int *first, double v)
{
    field_sep(t, first);
    if (!isfinite(v))
        return;
    char buf[32];
    for (int digits = 15; digits <= 17; digits++) {   /* the shortest that round-trips */
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    lf__text_append(t, buf, strlen(buf));
}

static void field_i64(lf__text *t, int *first, int64_t v)
{
    field_sep(t, first);
    lf__text_printf(t, "%" PRId64, v);
}

static void field_u64(lf__text *t, int *first, uint64_t v, int hex)
{
    field_sep(t, first);
    if (hex)
        lf__text_printf(t, "%016" PRIx64, v);
    else
        lf__text_printf(t, "%" PRIu64, v);
}

lf_status lf__report_render_csv(const lf_report *r, lf__text *t)
{
    static const char header[] =
        "method,backend,threads,seed,seconds,speedup_vs_retrain,time_ratio_vs_retrain,avg_disparity,"
        "ua,mia_efficacy,ra,ta,mia_feature,n_forget,n_retain,n_test,n_mia_members,n_shadow_members,"
        "n_target_members";
    lf__text_append(t, header, sizeof header - 1);
    for (int a = 0; a < LF_ATTACK_COUNT; a++)
        lf__text_printf(t, ",attack_%s_tpr,attack_%s_tnr,attack_%s_accuracy", lf_attack_name(a),
                        lf_attack_name(a), lf_attack_name(a));
    lf__text_printf(t, ",eval_seconds,mia_seconds,model_hash_before,model_hash_after\n");
    for (size_t i = 0; i < r->n; i++) {
        const lf__report_entry *e = &r->rows[i];
        const lf_metrics *m = &e->metrics;
        lf__report_derived d;
        lf__report_derive(r, i, &d);
        int first = 1;
        field_str(t, &first, e->method);
        field_str(t, &first, e->backend);
        field_i64(t, &first, e->threads);
        field_u64(t, &first, e->seed, 0);
        field_num(t, &first, e->seconds);
        field_num(t, &first, d.speedup);
        field_num(t, &first, d.time_ratio);
        field_num(t, &first, d.disparity);
        field_num(t, &first, m->ua);
        field_num(t, &first, m->mia_efficacy);
        field_num(t, &first, m->ra);
        field_num(t, &first, m->ta);
        field_str(t, &first, isnan(m->mia_efficacy) ? "" : lf_feature_name(m->mia_feature));
        int64_t counts[6] = { m->n_forget, m->n_retain, m->n_test, m->n_mia_members,
                              m->n_shadow_members, m->n_target_members };
        for (int k = 0; k < 6; k++)
            field_i64(t, &first, counts[k]);
        for (int a = 0; a < LF_ATTACK_COUNT; a++) {
            field_num(t, &first, m->attack_tpr[a]);
            field_num(t, &first, m->attack_tnr[a]);
            field_num(t, &first, m->attack_accuracy[a]);
        }
        field_num(t, &first, m->seconds);
        field_num(t, &first, m->mia_seconds);
        field_u64(t, &first, e->hash_before, 1);
        field_u64(t, &first, e->hash_after, 1);
        lf__text_append(t, "\n", 1);
    }
    return LF_OK;
}
