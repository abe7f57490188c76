/* lf_report: the rows of an evaluation (method, metrics, run time, backend, seed, model hashes),
 * their comparison with the Retrain row, and rendering into a buffer or a file. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/eval/report_internal.h"
#include "core/fileio.h"

/* The first published layout of lf_report_row and lf_metrics (all of today's fields). */
#define REPORT_ROW_V1_SIZE sizeof(lf_report_row)
#define METRICS_V1_SIZE    sizeof(lf_metrics)

lf_status lf_report_create(lf_report **out, lf_context *ctx)
{
    LF__CHECK_ARG(out, "lf_report_create: out is NULL");
    *out = NULL;
    LF__CHECK_ARG(ctx, "lf_report_create: ctx is NULL");
    lf_report *r = lf__calloc(ctx, 1, sizeof *r, "report");
    if (!r)
        return LF_E_NOMEM;
    r->ctx = ctx;
    lf__context_retain(ctx);
    *out = r;
    return LF_OK;
}

static void entry_free(const lf_context *ctx, lf__report_entry *e)
{
    if (e->method)
        lf__free(ctx, e->method, strlen(e->method) + 1);
    if (e->backend)
        lf__free(ctx, e->backend, strlen(e->backend) + 1);
}

void lf_report_destroy(lf_report *report)
{
    if (!report)
        return;
    lf_context *ctx = report->ctx;
    for (size_t i = 0; i < report->n; i++)
        entry_free(ctx, &report->rows[i]);
    lf__free(ctx, report->rows, report->cap * sizeof *report->rows);
    lf__free(ctx, report, sizeof *report);
    lf__context_release(ctx);
}

size_t lf_report_count(const lf_report *report)
{
    return report ? report->n : 0;
}

static lf_status grow(lf_report *r)
{
    if (r->n < r->cap)
        return LF_OK;
    size_t cap = r->cap ? 2 * r->cap : 8;
    lf__report_entry *rows = lf__calloc(r->ctx, cap, sizeof *rows, "report rows");
    if (!rows)
        return LF_E_NOMEM;
    if (r->n)
        memcpy(rows, r->rows, r->n * sizeof *rows);
    lf__free(r->ctx, r->rows, r->cap * sizeof *r->rows);
    r->rows = rows;
    r->cap = cap;
    return LF_OK;
}

lf_status lf_report_add(lf_report *report, const lf_report_row *row, const lf_metrics *metrics)
{
    LF__CHECK_ARG(report, "lf_report_add: report is NULL");
    LF__CHECK_ARG(row, "lf_report_add: row is NULL");
    LF__CHECK_ARG(metrics, "lf_report_add: metrics is NULL");
    lf_report_row rw;
    lf__report_entry e;
    memset(&e, 0, sizeof e);
    LF__TRY(lf__copy_struct_in(&rw, sizeof rw, row, REPORT_ROW_V1_SIZE, "lf_report_row"));
    LF__TRY(lf__copy_struct_in(&e.metrics, sizeof e.metrics, metrics, METRICS_V1_SIZE, "lf_metrics"));
    LF__CHECK_ARG(rw.method && rw.method[0], "lf_report_add: row->method is NULL or empty");
    LF__TRY(grow(report));
    e.method = lf__strdup(report->ctx, rw.method);
    e.backend = lf__strdup(report->ctx, rw.backend ? rw.backend : "");
    if (!e.method || !e.backend) {
        entry_free(report->ctx, &e);
        return LF_E_NOMEM;
    }
    e.threads = rw.threads;
    e.seed = rw.seed;
    e.seconds = rw.seconds;
    e.hash_before = rw.hash_before;
    e.hash_after = rw.hash_after;
    report->rows[report->n++] = e;
    return LF_OK;
}

static int is_retrain(const char *method)
{
    static const char want[] = "retrain";
    for (size_t i = 0; i < sizeof want; i++) {
        char c = method[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != want[i])
            return 0;
    }
    return 1;
}

/* The Retrain row for `row`: the one with the same seed, else the first; -1 if none. */
static long reference_row(const lf_report *r, size_t row)
{
    long first = -1;
    for (size_t i = 0; i < r->n; i++) {
        if (!is_retrain(r->rows[i].method))
            continue;
        if (r->rows[i].seed == r->rows[row].seed)
            return (long)i;
        if (first < 0)
            first = (long)i;
    }
    return first;
}

void lf__report_derive(const lf_report *r, size_t row, lf__report_derived *out)
{
    out->disparity = out->speedup = out->time_ratio = NAN;
    long ref = reference_row(r, row);
    if (ref < 0)
        return;
    const lf__report_entry *e = &r->rows[row], *re = &r->rows[ref];
    double d;
    if (lf_metrics_disparity(&d, &e->metrics, &re->metrics) == LF_OK)
        out->disparity = d;
    else
        lf__error_clear();   /* a missing metric is shown as missing, not an error */
    if (e->seconds > 0.0 && re->seconds > 0.0) {
        out->speedup = re->seconds / e->seconds;
        out->time_ratio = e->seconds / re->seconds;
    }
}

void lf__text_append(lf__text *t, const char *s, size_t n)
{
    if (t->len < t->size) {
        size_t room = t->size - 1 - t->len;   /* keep one byte for the NUL */
        size_t k = n < room ? n : room;
        memcpy(t->buf + t->len, s, k);
        t->buf[t->len + k] = '\0';
    }
    t->len += n;
}

void lf__text_printf(lf__text *t, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        lf__text_append(t, small, (size_t)n);
        return;
    }
    /* longer than the local buffer (a long method name): format straight into the sink */
    if (t->len < t->size) {
        va_start(ap, fmt);
        vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
        va_end(ap);
    }
    t->len += (size_t)n;
}

static lf_status render(const lf_report *r, lf_report_format format, lf__text *t)
{
    switch (format) {
    case LF_REPORT_TABLE: return lf__report_render_table(r, t);
    case LF_REPORT_JSON:  return lf__report_render_json(r, t);
    case LF_REPORT_CSV:   return lf__report_render_csv(r, t);
    }
    return lf__error(LF_E_INVALID_ARG, "lf_report: unknown format %d", (int)format);
}

lf_status lf_report_render(const lf_report *report, lf_report_format format, char *buf, size_t size,
                           size_t *needed)
{
    LF__CHECK_ARG(needed, "lf_report_render: needed is NULL");
    *needed = 0;
    LF__CHECK_ARG(report, "lf_report_render: report is NULL");
    LF__CHECK_ARG(buf || size == 0, "lf_report_render: buf is NULL with size %zu", size);
    if (size > 0)
        buf[0] = '\0';
    lf__text t = { buf, size, 0 };
    LF__TRY(render(report, format, &t));
    *needed = t.len;
    return LF_OK;
}

lf_status lf_report_write(const lf_report *report, lf_report_format format, const char *path)
{
    LF__CHECK_ARG(report, "lf_report_write: report is NULL");
    LF__CHECK_ARG(path && path[0], "lf_report_write: path is NULL or empty");
    lf__text probe = { NULL, 0, 0 };
    LF__TRY(render(report, format, &probe));
    size_t size = probe.len + 1;
    char *buf = lf__alloc(report->ctx, size, "report text");
    if (!buf)
        return LF_E_NOMEM;
    lf__text t = { buf, size, 0 };
    lf_status st = render(report, format, &t);
    lf__atomic_file af;
    if (st == LF_OK)
        st = lf__atomic_open(&af, report->ctx, path);
    if (st == LF_OK) {
        if (fwrite(buf, 1, t.len, af.fp) != t.len) {
            st = lf__error(LF_E_IO, "%s: write failed", path);
            lf__atomic_abort(&af);
        } else {
            st = lf__atomic_commit(&af);
        }
    }
    lf__free(report->ctx, buf, size);
    return st;
}
