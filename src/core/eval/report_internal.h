/* Declarations shared by the report files: the row store (report.c), the text sink every
 * renderer writes into, and the renderers (report_table.c, report_json.c, report_csv.c). */
#ifndef LF_CORE_EVAL_REPORT_INTERNAL_H
#define LF_CORE_EVAL_REPORT_INTERNAL_H

#include "core/eval/eval_internal.h"

typedef struct lf__report_entry {
    char      *method;
    char      *backend;
    int32_t    threads;
    uint64_t   seed;
    double     seconds;
    uint64_t   hash_before, hash_after;
    lf_metrics metrics;
} lf__report_entry;

struct lf_report {
    lf_context       *ctx;
    lf__report_entry *rows;
    size_t            n, cap;
};

/* What a row is compared with: Avg. Disparity and the time relative to the reference Retrain
 * row (NaN when there is none, or the metric or the time is missing). */
typedef struct lf__report_derived {
    double disparity;
    double speedup;      /* retrain seconds / row seconds */
    double time_ratio;   /* row seconds / retrain seconds (the challenge's rule: about <= 0.2) */
} lf__report_derived;

void lf__report_derive(const lf_report *r, size_t row, lf__report_derived *out);

/* A snprintf-like sink: writes what fits into buf (NUL-terminated when size > 0) and counts the
 * full length in len. */
typedef struct lf__text {
    char  *buf;
    size_t size;
    size_t len;
} lf__text;

void lf__text_printf(lf__text *t, const char *fmt, ...) LF__PRINTF(2, 3);
void lf__text_append(lf__text *t, const char *s, size_t n);

/* Renderers; they fail only on memory (JSON). */
lf_status lf__report_render_table(const lf_report *r, lf__text *t);
lf_status lf__report_render_json(const lf_report *r, lf__text *t);
lf_status lf__report_render_csv(const lf_report *r, lf__text *t);

#endif
