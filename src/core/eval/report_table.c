/* The seed paper's table: one line per method, UA, MIA-Eff, RA, TA, Avg. Disparity (vs the
 * Retrain row), run time and speed-up over Retrain. Missing values print as "-". */
#include <math.h>
#include <string.h>

#include "core/eval/report_internal.h"

#define NUM_WIDTH 9

static void number(lf__text *t, double v, const char *suffix)
{
    if (isnan(v))
        lf__text_printf(t, " %*s", NUM_WIDTH, "-");
    else
        lf__text_printf(t, " %*.2f%s", NUM_WIDTH - (int)strlen(suffix), v, suffix);
}

lf_status lf__report_render_table(const lf_report *r, lf__text *t)
{
    int width = 6;   /* "Method" */
    for (size_t i = 0; i < r->n; i++) {
        size_t len = strlen(r->rows[i].method);
        if (len > (size_t)width)
            width = len > 64 ? 64 : (int)len;
    }
    static const char *const heads[] = { "UA", "MIA-Eff", "RA", "TA", "Avg.D", "Time (s)", "Speed-up" };
    lf__text_printf(t, "%-*s", width, "Method");
    for (size_t k = 0; k < sizeof heads / sizeof heads[0]; k++)
        lf__text_printf(t, " %*s", NUM_WIDTH, heads[k]);
    lf__text_append(t, "\n", 1);
    for (size_t i = 0; i < r->n; i++) {
        const lf__report_entry *e = &r->rows[i];
        lf__report_derived d;
        lf__report_derive(r, i, &d);
        lf__text_printf(t, "%-*s", width, e->method);
        number(t, e->metrics.ua, "");
        number(t, e->metrics.mia_efficacy, "");
        number(t, e->metrics.ra, "");
        number(t, e->metrics.ta, "");
        number(t, d.disparity, "");
        number(t, e->seconds > 0.0 ? e->seconds : NAN, "");
        number(t, d.speedup, "x");
        lf__text_append(t, "\n", 1);
    }
    return LF_OK;
}
