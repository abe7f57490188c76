/* forget bench --report: the comparison as one HTML page that needs nothing else: the setup, the
 * table, bar charts of Avg. Disparity and run time, and for every model the histograms of the
 * logit-scaled confidence on the forget set and on unseen test samples (what a membership
 * attacker sees). Inline CSS and SVG only, no script and no external reference, so the file can
 * be archived or mailed as it is. The markup is XHTML-compatible (every element closed, only
 * XML's predefined entities, valid UTF-8) so a test can check it with an XML parser.
 * Plain data in, one file out, written atomically. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Okabe-Ito colours: told apart with every common colour-vision deficiency. */
#define COLOR_FORGET "#E69F00"
#define COLOR_TEST   "#0072B2"
#define COLOR_REF    "#8C8C8C"
#define COLOR_AXIS   "#444444"
#define COLOR_GRID   "#E2E2E2"

/* ---- text ---- */

/* Length of the valid UTF-8 sequence at s; 0 if it is not one. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n = s[0] < 0x80                  ? 1
             : s[0] >= 0xC2 && s[0] < 0xE0 ? 2
             : s[0] >= 0xE0 && s[0] < 0xF0 ? 3
             : s[0] >= 0xF0 && s[0] < 0xF5 ? 4
                                             : 0;
    for (size_t k = 1; k < n; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* The first len bytes of s as XML text: markup characters escaped; control characters and bytes
 * that are not UTF-8 (a Latin-1 file name) replaced, since either would make the file unreadable
 * to XML tools. */
static void put_text_n(FILE *f, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        size_t n = utf8_len(p);
        if (n > (size_t)(end - p))
            n = 0;
        switch (n ? *p : 0) {
        case '&':  fputs("&amp;", f); break;
        case '<':  fputs("&lt;", f); break;
        case '>':  fputs("&gt;", f); break;
        case '"':  fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        case 0:    fputc('?', f); break;
        default:
            if (*p < 0x20)
                fputc(' ', f);
            else
                fwrite(p, 1, n, f);
        }
        p += n ? n : 1;
    }
}

static void put_text(FILE *f, const char *s)
{
    put_text_n(f, s, strlen(s));
}

/* v with `decimals` digits ("-0.00" shown as 0.00); an en dash when v is missing. */
static void put_num(FILE *f, double v, int decimals)
{
    if (!isfinite(v)) {
        fputs("\u2013", f);
        return;
    }
    if (fabs(v) < 0.5 * pow(10.0, -decimals))
        v = 0.0;
    fprintf(f, "%.*f", decimals, v);
}

/* The command line as a shell would take it back: arguments with other characters quoted. */
static void put_command(FILE *f, int argc, char *const *argv)
{
    static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./:=,@%+";
    fputs("forget", f);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        fputc(' ', f);
        if (a[0] && a[strspn(a, plain)] == '\0') {
            put_text(f, a);
            continue;
        }
        fputc('\'', f);
        for (const char *q = strchr(a, '\''); q; a = q + 1, q = strchr(a, '\'')) {
            put_text_n(f, a, (size_t)(q - a));
            put_text(f, "'\\''");
        }
        put_text(f, a);
        fputc('\'', f);
    }
}

/* ---- axes ---- */

/* A step of 1, 2 or 5 × 10^k that cuts span into about `ticks` intervals. */
static double nice_step(double span, int ticks)
{
    if (!(span > 0.0) || !isfinite(span))
        return 1.0;
    double raw = span / ticks, mag = pow(10.0, floor(log10(raw))), r = raw / mag;
    return (r <= 1.0 ? 1.0 : r <= 2.0 ? 2.0 : r <= 5.0 ? 5.0 : 10.0) * mag;
}

/* Digits after the point that tick labels of this step need. */
static int step_decimals(double step)
{
    int d = (int)ceil(-log10(step) - 1e-9);
    return d < 0 ? 0 : d;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- bar charts ---- */

#define BAR_TEXT 64

typedef struct bar_chart {
    const char   *title;
    const char   *axis;                /* the value axis' label */
    int           n;
    const char  **labels;              /* method names */
    const double *values;              /* NaN: missing (no bar) */
    char        (*texts)[BAR_TEXT];    /* the label beside each bar */
    int           ref;                 /* the reference bar (grey, dashed line), -1: none */
} bar_chart;

/* A horizontal bar chart, 1000 px wide: names on the left; each value label right of its bar
 * (and of the reference line), in a right margin kept free for the longest bar's label. */
static void put_bar_chart(FILE *f, const bar_chart *c)
{
    const double width = 1000, top = 46, row = 32, bar_h = 20, bottom = 54, right = 230;
    size_t longest = 6;
    double vmax = 0.0;
    for (int i = 0; i < c->n; i++) {
        size_t len = strlen(c->labels[i]);
        longest = len > longest ? len : longest;
        if (isfinite(c->values[i]) && c->values[i] > vmax)
            vmax = c->values[i];
    }
    double left = 9.0 * (double)(longest > 24 ? 24 : longest) + 24;
    double plot_w = width - left - right, plot_bottom = top + c->n * row;
    double height = plot_bottom + bottom;
    double step = nice_step(vmax > 0.0 ? vmax : 1.0, 5);
    double axis_max = ceil((vmax > 0.0 ? vmax : 1.0) / step - 1e-9) * step;
    int decimals = step_decimals(step);

    fprintf(f, "<svg class=\"chart\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "role=\"img\">\n<title>", width, height, width, height);
    put_text(f, c->title);
    fputs("</title>\n<text class=\"chart-title\" x=\"0\" y=\"22\">", f);
    put_text(f, c->title);
    fputs("</text>\n", f);
    for (int k = 0; k * step <= axis_max + 1e-9 * step; k++) {
        double x = left + k * step / axis_max * plot_w;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", x,
                top - 6, x, plot_bottom, k ? COLOR_GRID : COLOR_AXIS);
        fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x,
                plot_bottom + 18);
        put_num(f, k * step, decimals);
        fputs("</text>\n", f);
    }
    fprintf(f, "<text class=\"axis-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            left + plot_w / 2, height - 10);
    put_text(f, c->axis);
    fputs("</text>\n", f);
    double ref_x = c->ref >= 0 && isfinite(c->values[c->ref]) && c->values[c->ref] > 0.0
                       ? left + c->values[c->ref] / axis_max * plot_w
                       : -1.0;
    for (int i = 0; i < c->n; i++) {
        double y = top + i * row, v = c->values[i];
        double w = isfinite(v) && v > 0.0 ? v / axis_max * plot_w : 0.0;
        /* the label starts past the bar, and past the reference line if it would cross it
         * (about 8 px per character at 14 px) */
        double text_x = left + w + 8;
        if (i != c->ref && ref_x >= text_x - 4 && ref_x <= text_x + 8.0 * (double)strlen(c->texts[i]))
            text_x = ref_x + 8;
        fprintf(f, "<text class=\"bar-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 10,
                y + row / 2 + 5);
        put_text(f, c->labels[i]);
        fputs("</text>\n", f);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"/>\n", left,
                y + (row - bar_h) / 2, w, bar_h, i == c->ref ? COLOR_REF : COLOR_TEST);
        fprintf(f, "<text class=\"bar-value\" x=\"%.1f\" y=\"%.1f\">", text_x, y + row / 2 + 5);
        put_text(f, c->texts[i]);
        fputs("</text>\n", f);
    }
    if (ref_x >= 0.0)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"1.5\" stroke-dasharray=\"5 4\"/>\n", ref_x, top - 6, ref_x,
                plot_bottom, COLOR_AXIS);
    fputs("</svg>\n", f);
}

/* ---- confidence histograms ---- */

/* The shared axes of every panel: the same bins and scales, so panels compare at a glance. */
typedef struct hist_axes {
    double lo, hi, step;   /* phi range and tick step; bins are step / 5 wide */
    int    bins;
    double ymax, ystep;    /* % of the set per bin */
} hist_axes;

#define HIST_MAX_BINS 64

/* share[b] = % of v in bin b; values beyond the range count in the outermost bins. */
static void hist_shares(const double *v, size_t n, const hist_axes *ax, double share[HIST_MAX_BINS])
{
    for (int b = 0; b < ax->bins; b++)
        share[b] = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i]))
            continue;
        double t = (v[i] - ax->lo) / (ax->hi - ax->lo) * ax->bins;
        int b = t < 0.0 ? 0 : t >= ax->bins ? ax->bins - 1 : (int)t;
        share[b] += 100.0 / (double)n;
    }
}

/* The phi range from the 0.5 % and 99.5 % quantiles of every value shown (a few saturated
 * confidences would otherwise squeeze the rest into a couple of bins), rounded out to ticks;
 * the bar height scale from the tallest bin of any panel. `all` is scratch for every value. */
static void hist_axes_make(const cli_html_report *r, double *all, hist_axes *ax)
{
    size_t n = 0;
    for (int m = 0; m < r->n_conf; m++) {
        memcpy(all + n, r->conf[m].forget, r->n_hist_forget * sizeof *all);
        n += r->n_hist_forget;
        memcpy(all + n, r->conf[m].test, r->n_hist_test * sizeof *all);
        n += r->n_hist_test;
    }
    double qlo = -1.0, qhi = 1.0;
    if (n > 0) {
        qsort(all, n, sizeof *all, cmp_double);
        qlo = all[(size_t)floor(0.005 * (double)(n - 1))];
        qhi = all[(size_t)ceil(0.995 * (double)(n - 1))];
    }
    if (qhi - qlo < 1e-6) {
        qlo -= 1.0;
        qhi += 1.0;
    }
    ax->step = nice_step(qhi - qlo, 6);
    ax->lo = floor(qlo / ax->step) * ax->step;
    ax->hi = ceil(qhi / ax->step) * ax->step;
    ax->bins = 5 * (int)lround((ax->hi - ax->lo) / ax->step);
    if (ax->bins > HIST_MAX_BINS)
        ax->bins = HIST_MAX_BINS;
    double tallest = 0.0, share[HIST_MAX_BINS];
    for (int m = 0; m < r->n_conf; m++) {
        for (int set = 0; set < 2; set++) {
            size_t k = set ? r->n_hist_test : r->n_hist_forget;
            if (!k)
                continue;
            hist_shares(set ? r->conf[m].test : r->conf[m].forget, k, ax, share);
            for (int b = 0; b < ax->bins; b++)
                tallest = share[b] > tallest ? share[b] : tallest;
        }
    }
    ax->ystep = nice_step(tallest > 0.0 ? tallest : 1.0, 4);
    ax->ymax = ceil((tallest > 0.0 ? tallest : 1.0) / ax->ystep - 1e-9) * ax->ystep;
}

static double median(const double *v, size_t n, double *scratch)
{
    if (n == 0)
        return NAN;
    memcpy(scratch, v, n * sizeof *scratch);
    qsort(scratch, n, sizeof *scratch, cmp_double);
    return n % 2 ? scratch[n / 2] : 0.5 * (scratch[n / 2 - 1] + scratch[n / 2]);
}

/* One set as a step outline: filled (D_f) or a line (D_test, drawn over it, so where the two
 * agree the line lies on the filled edge and no colours mix). */
static void put_hist_area(FILE *f, const double *share, const hist_axes *ax, double x0, double y0,
                          double w, double h, const char *color, int filled)
{
    double bw = w / ax->bins;
    fprintf(f, "<path fill=\"%s\" fill-opacity=\"%s\" stroke=\"%s\" stroke-width=\"%s\" "
               "stroke-linejoin=\"round\" d=\"M%.1f %.1f", filled ? color : "none",
            filled ? "0.5" : "1", color, filled ? "1" : "2", x0, y0);
    for (int b = 0; b < ax->bins; b++) {
        double y = y0 - share[b] / ax->ymax * h;
        fprintf(f, " L%.1f %.1f L%.1f %.1f", x0 + b * bw, y, x0 + (b + 1) * bw, y);
    }
    fprintf(f, " L%.1f %.1f Z\"/>\n", x0 + w, y0);
}

static void put_hist_panel(FILE *f, const cli_html_report *r, const cli_html_confidences *c,
                           const hist_axes *ax, double *scratch)
{
    const double width = 360, height = 262, left = 58, right = 16, top = 54, bottom = 50;
    double w = width - left - right, h = height - top - bottom, y0 = top + h;
    const char *role = strcmp(c->model, "original") == 0  ? " (before unlearning)"
                     : strcmp(c->model, "retrain") == 0 ? " (the reference)"
                                                          : "";
    fprintf(f, "<svg class=\"hist\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "role=\"img\">\n<title>Logit-scaled confidence histogram: ", width, height, width, height);
    put_text(f, c->model);
    fputs("</title>\n<text class=\"panel-title\" x=\"4\" y=\"20\">", f);
    put_text(f, c->model);
    put_text(f, role);
    fputs("</text>\n<text class=\"panel-note\" x=\"4\" y=\"40\">median \u03c6: D_f ", f);
    put_num(f, median(c->forget, r->n_hist_forget, scratch), 2);
    fputs(", D_test ", f);
    put_num(f, median(c->test, r->n_hist_test, scratch), 2);
    fputs("</text>\n", f);
    /* y grid and ticks */
    int yd = step_decimals(ax->ystep);
    for (int k = 0; k * ax->ystep <= ax->ymax + 1e-9 * ax->ystep; k++) {
        double y = y0 - k * ax->ystep / ax->ymax * h;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", left, y,
                left + w, y, k ? COLOR_GRID : COLOR_AXIS);
        fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 6, y + 4);
        put_num(f, k * ax->ystep, yd);
        fputs("</text>\n", f);
    }
    /* x ticks */
    int xd = step_decimals(ax->step);
    for (int k = 0; ax->lo + k * ax->step <= ax->hi + 1e-9 * ax->step; k++) {
        double x = left + k * ax->step / (ax->hi - ax->lo) * w;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", x, y0, x,
                y0 + 5, COLOR_AXIS);
        fprintf(f, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, y0 + 19);
        put_num(f, ax->lo + k * ax->step, xd);
        fputs("</text>\n", f);
    }
    double share[HIST_MAX_BINS];
    if (r->n_hist_forget) {
        hist_shares(c->forget, r->n_hist_forget, ax, share);
        put_hist_area(f, share, ax, left, y0, w, h, COLOR_FORGET, 1);
    }
    if (r->n_hist_test) {
        hist_shares(c->test, r->n_hist_test, ax, share);
        put_hist_area(f, share, ax, left, y0, w, h, COLOR_TEST, 0);
    }
    fprintf(f, "<text class=\"axis-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
               "\u03c6 = log(p_y / (1 \u2212 p_y))</text>\n", left + w / 2, height - 8);
    fprintf(f, "<text class=\"axis-label\" transform=\"translate(16 %.1f) rotate(-90)\" "
               "text-anchor=\"middle\">%% of the set per bin</text>\n", top + h / 2);
    fputs("</svg>\n", f);
}

static void put_legend(FILE *f, const cli_html_report *r)
{
    fputs("<svg class=\"legend\" width=\"1000\" height=\"34\" viewBox=\"0 0 1000 34\" role=\"img\">\n"
          "<title>Legend of the confidence histograms</title>\n", f);
    fprintf(f, "<rect x=\"2\" y=\"9\" width=\"22\" height=\"14\" fill=\"%s\" fill-opacity=\"0.5\" "
               "stroke=\"%s\"/>\n<text class=\"legend-text\" x=\"28\" y=\"21\">"
               "D_f: the forget set (%zu samples)</text>\n", COLOR_FORGET, COLOR_FORGET, r->n_hist_forget);
    fprintf(f, "<path d=\"M420 23 L420 10 L442 10 L442 23\" fill=\"none\" stroke=\"%s\" "
               "stroke-width=\"2\"/>\n<text class=\"legend-text\" x=\"450\" y=\"21\">D_test: ",
            COLOR_TEST);
    put_text(f, r->hist_test_name);
    fprintf(f, " (%zu samples)</text>\n</svg>\n", r->n_hist_test);
}

/* ---- the page ---- */

static const char style[] =
    "body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif;"
    " color: #222; max-width: 1100px; margin: 24px auto; padding: 0 16px; font-size: 15px;"
    " line-height: 1.45; }\n"
    "h1 { font-size: 24px; margin: 0 0 12px; }\n"
    "h2 { font-size: 19px; margin: 30px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }\n"
    "table { border-collapse: collapse; margin: 8px 0; }\n"
    "th, td { padding: 5px 12px; border-bottom: 1px solid #e4e4e4; }\n"
    "table.results th { background: #f2f2f2; text-align: right; }\n"
    "table.results td { text-align: right; font-variant-numeric: tabular-nums; }\n"
    "table.results th:first-child, table.results td:first-child { text-align: left; }\n"
    "table.results tr.reference td { background: #f7f7f7; font-style: italic; }\n"
    "table.setup th { text-align: left; font-weight: 600; padding-left: 0; }\n"
    "pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; font-size: 14px; }\n"
    "p.note { color: #555; font-size: 14px; margin: 6px 0; max-width: 62em; }\n"
    "svg { display: block; max-width: 100%; height: auto; margin: 10px 0; }\n"
    "svg text { font-family: inherit; fill: #222; }\n"
    "svg .chart-title { font-size: 17px; font-weight: 600; }\n"
    "svg .panel-title { font-size: 15px; font-weight: 600; }\n"
    "svg .panel-note, svg .tick { font-size: 12.5px; fill: #444; }\n"
    "svg .axis-label { font-size: 13px; fill: #333; }\n"
    "svg .bar-label, svg .bar-value, svg .legend-text { font-size: 14px; }\n"
    "div.grid { display: flex; flex-wrap: wrap; gap: 4px 8px; }\n"
    "div.grid svg { margin: 4px 0; }\n";

static void put_setup(FILE *f, const cli_html_report *r)
{
    fputs("<table class=\"setup\">\n<tr><th>Data set</th><td>", f);
    put_text(f, r->dataset);
    fputs("</td></tr>\n<tr><th>Architecture</th><td>", f);
    put_text(f, r->arch);
    fputs("</td></tr>\n<tr><th>Forget set</th><td>", f);
    put_text(f, r->forget_spec);
    fprintf(f, "</td></tr>\n<tr><th>Set sizes</th><td>%lld forget (D_f), %lld retain (D_r), %lld "
               "test (D_test: ", (long long)r->n_forget, (long long)r->n_retain, (long long)r->n_test);
    put_text(f, r->test_name);
    fputs(")</td></tr>\n", f);
    fputs("<tr><th>Backend</th><td>", f);
    put_text(f, r->backend);
    fprintf(f, ", %d thread%s</td></tr>\n<tr><th>Seed</th><td>%llu</td></tr>\n"
               "<tr><th>libforget</th><td>", (int)r->threads, r->threads == 1 ? "" : "s",
            (unsigned long long)r->seed);
    put_text(f, lf_version_string());
    fputs("</td></tr>\n<tr><th>Command</th><td><pre>", f);
    put_command(f, r->argc, r->argv);
    fputs("</pre></td></tr>\n</table>\n", f);
}

static void put_results(FILE *f, const cli_html_report *r)
{
    fputs("<table class=\"results\">\n<thead><tr><th>Method</th><th>UA</th><th>MIA-Efficacy</th>"
          "<th>RA</th><th>TA</th><th>Avg. Disparity</th><th>Run time (s)</th>"
          "<th>Speed-up vs Retrain</th></tr></thead>\n<tbody>\n", f);
    for (int i = 0; i < r->n_rows; i++) {
        const cli_html_row *row = &r->rows[i];
        const lf_metrics *m = row->metrics;
        fprintf(f, "<tr%s><td>", strcmp(row->method, "retrain") == 0 ? " class=\"reference\"" : "");
        put_text(f, row->method);
        double cells[] = { m->ua, m->mia_efficacy, m->ra, m->ta, row->disparity,
                           row->seconds > 0.0 ? row->seconds : NAN };
        for (size_t k = 0; k < sizeof cells / sizeof cells[0]; k++) {
            fputs("</td><td>", f);
            put_num(f, cells[k], 2);
        }
        fputs("</td><td>", f);
        put_num(f, row->speedup, 2);
        fputs(isfinite(row->speedup) ? "\u00d7</td></tr>\n" : "</td></tr>\n", f);
    }
    fputs("</tbody>\n</table>\n<p class=\"note\">UA = 100 \u2212 accuracy on D_f; MIA-Efficacy = % of "
          "D_f that the membership SVM calls non-member; RA, TA = accuracy on D_r and D_test (all in "
          "%). Avg. Disparity = mean absolute difference of these four from Retrain's, in "
          "percentage points (lower is closer to Retrain). Run time: the unlearning call only.</p>\n",
          f);
}

/* The two bar charts; CLI_EXIT_RUNTIME when out of memory. */
static int put_bar_charts(FILE *f, const cli_html_report *r)
{
    int n = r->n_rows;
    const char **labels = malloc((size_t)(n ? n : 1) * sizeof *labels);
    double *values = malloc((size_t)(n ? n : 1) * sizeof *values);
    char (*texts)[BAR_TEXT] = malloc((size_t)(n ? n : 1) * sizeof *texts);
    if (!labels || !values || !texts) {
        free(labels);
        free(values);
        free(texts);
        return CLI_EXIT_RUNTIME;
    }
    int ref = -1;
    for (int i = 0; i < n; i++) {
        labels[i] = r->rows[i].method;
        if (strcmp(labels[i], "retrain") == 0 && ref < 0)
            ref = i;
    }
    for (int i = 0; i < n; i++) {
        values[i] = r->rows[i].disparity;
        if (!isfinite(values[i]))
            snprintf(texts[i], BAR_TEXT, "n/a");
        else
            snprintf(texts[i], BAR_TEXT, i == ref ? "%.2f (the reference)" : "%.2f", values[i]);
    }
    bar_chart c = { "Avg. Disparity from Retrain per method",
                    "Avg. Disparity (percentage points; lower is closer to Retrain)",
                    n, labels, values, texts, ref };
    put_bar_chart(f, &c);
    for (int i = 0; i < n; i++) {
        double s = r->rows[i].seconds, up = r->rows[i].speedup;
        values[i] = s > 0.0 ? s : NAN;
        if (!isfinite(values[i]))
            snprintf(texts[i], BAR_TEXT, "n/a");
        else if (i == ref)
            snprintf(texts[i], BAR_TEXT, "%.2f s (the reference)", s);
        else if (isfinite(up))
            snprintf(texts[i], BAR_TEXT, "%.2f s (%.2f\u00d7 speed-up)", s, up);
        else
            snprintf(texts[i], BAR_TEXT, "%.2f s", s);
    }
    bar_chart t = { "Run time per method (Retrain, grey, is the reference)",
                    "run time of the unlearning call (s)", n, labels, values, texts, ref };
    put_bar_chart(f, &t);
    free(labels);
    free(values);
    free(texts);
    return CLI_EXIT_OK;
}

static void put_histograms(FILE *f, const cli_html_report *r, double *all, double *scratch)
{
    hist_axes ax;
    hist_axes_make(r, all, &ax);
    fputs("<p class=\"note\">What a membership attacker sees: for each model, the share of D_f and "
          "of D_test per bin of the logit-scaled confidence \u03c6 of the true label. Where the "
          "two differ, an attacker can tell forget samples from unseen ones; after a good "
          "unlearning D_f looks as it does under Retrain. Every panel has the same bins and "
          "axes; values beyond the axis are counted in the outermost bins.</p>\n", f);
    put_legend(f, r);
    fputs("<div class=\"grid\">\n", f);
    for (int m = 0; m < r->n_conf; m++)
        put_hist_panel(f, r, &r->conf[m], &ax, scratch);
    fputs("</div>\n", f);
}

/* The whole page; CLI_EXIT_RUNTIME when out of memory (nothing printed). */
static int put_page(FILE *f, const cli_html_report *r, double *all, double *scratch)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>", f);
    for (int pass = 0; pass < 2; pass++) {   /* the same line as the title and the heading */
        fputs("forget bench: ", f);
        put_text(f, r->dataset);
        fputs(", ", f);
        put_text(f, r->arch);
        fputs(", forget ", f);
        put_text(f, r->forget_spec);
        if (pass == 0)
            fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", style);
    }
    fputs("</h1>\n<h2>Setup</h2>\n", f);
    put_setup(f, r);
    fputs("<h2>Comparison</h2>\n", f);
    put_results(f, r);
    if (put_bar_charts(f, r) != CLI_EXIT_OK)
        return CLI_EXIT_RUNTIME;
    fputs("<h2>Logit-scaled confidence on D_f and D_test</h2>\n", f);
    put_histograms(f, r, all, scratch);
    fputs("</body>\n</html>\n", f);
    return CLI_EXIT_OK;
}

int cli_write_html_report(const char *path, const cli_html_report *r)
{
    size_t n_all = (size_t)r->n_conf * (r->n_hist_forget + r->n_hist_test);
    size_t n_scratch = r->n_hist_forget > r->n_hist_test ? r->n_hist_forget : r->n_hist_test;
    double *all = malloc((n_all ? n_all : 1) * sizeof *all);
    double *scratch = malloc((n_scratch ? n_scratch : 1) * sizeof *scratch);
    cli_atomic_file af;
    int rc = CLI_EXIT_RUNTIME;
    if (!all || !scratch)
        cli_error("%s: out of memory for the report", path);
    else if ((rc = cli_atomic_open(&af, path)) == CLI_EXIT_OK) {
        if ((rc = put_page(af.fp, r, all, scratch)) == CLI_EXIT_OK) {
            rc = cli_atomic_commit(&af);
        } else {
            cli_atomic_abort(&af);
            cli_error("%s: out of memory for the report", path);
        }
    }
    free(all);
    free(scratch);
    return rc;
}
