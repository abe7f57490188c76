/* Progress of long library calls on stderr. On a terminal: one live line redrawn in place —
 * phase, a bar, step/total, loss, elapsed time and ETA. Otherwise (logs, pipes): one plain line
 * per epoch of an epoch-based phase, and one per phase for the others, so logs stay short. */
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define BAR_WIDTH 24

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void reset_pending(cli_progress *p)
{
    p->pending_epoch = -1;
    p->pending_step = p->pending_total = 0;
    p->pending_loss = p->pending_metric = NAN;
    p->pending_time = 0.0;
    p->has_pending = 0;
}

void cli_progress_init(cli_progress *p, int quiet, int32_t epochs)
{
    memset(p, 0, sizeof *p);
    p->quiet = quiet;
    p->live = isatty(STDERR_FILENO);
    p->epochs = epochs;
    p->start = p->phase_start = cli_now();
    p->phase[0] = '\0';
    reset_pending(p);
}

/* lf_progress is size-versioned: a field counts only if it lies within struct_size. */
#define HAS_FIELD(p, field) ((p)->struct_size >= offsetof(lf_progress, field) + sizeof((p)->field))

/* What the metric of a phase is: DAU reports its attacker's accuracy, training its own. */
static const char *metric_name(const char *phase)
{
    return strncmp(phase, "dau", 3) == 0 ? "attacker accuracy" : "train accuracy";
}

static void print_seconds(double s)
{
    if (s < 60)
        fprintf(stderr, "%.1f s", s);
    else
        fprintf(stderr, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

/* Plain mode: the line of an epoch (phase "train" keeps the historical "epoch 3/10: ..." form)
 * or of a whole phase without epochs. */
static void print_plain_line(const cli_progress *p)
{
    int train = strcmp(p->phase, "train") == 0;
    if (!train)
        fprintf(stderr, "%s%s", p->phase, p->pending_epoch >= 0 ? " " : ": ");
    if (p->pending_epoch >= 0) {
        if (p->epochs > 0)
            fprintf(stderr, "epoch %d/%d:", (int)p->pending_epoch + 1, (int)p->epochs);
        else
            fprintf(stderr, "epoch %d:", (int)p->pending_epoch + 1);
    } else if (p->pending_total > 0) {
        fprintf(stderr, "%lld/%lld steps,", (long long)p->pending_step, (long long)p->pending_total);
    } else {
        fprintf(stderr, "%lld steps,", (long long)p->pending_step);
    }
    if (isfinite(p->pending_loss))
        fprintf(stderr, " loss %.4f,", p->pending_loss);
    if (isfinite(p->pending_metric))
        fprintf(stderr, " %s %.2f%%,", metric_name(p->phase), 100.0 * p->pending_metric);
    fputc(' ', stderr);
    print_seconds(p->pending_time - p->start);
    fputc('\n', stderr);
}

static void draw_live_line(cli_progress *p, int32_t epoch, int64_t step, int64_t total,
                           double loss, double metric, double now)
{
    fprintf(stderr, "\r%-14s", p->phase);
    if (total > 0) {
        double done = fmin(1.0, (double)step / (double)total);
        int fill = (int)(done * BAR_WIDTH + 0.5);
        fputc('[', stderr);
        for (int i = 0; i < BAR_WIDTH; i++)
            fputc(i < fill ? '#' : '.', stderr);
        fprintf(stderr, "] %lld/%lld", (long long)step, (long long)total);
    } else {
        fprintf(stderr, "step %lld", (long long)step);
    }
    if (epoch >= 0 && p->epochs > 0)
        fprintf(stderr, "  epoch %d/%d", (int)epoch + 1, (int)p->epochs);
    if (isfinite(loss))
        fprintf(stderr, "  loss %.4f", loss);
    if (isfinite(metric))
        fprintf(stderr, "  acc %.1f%%", 100.0 * metric);
    fputs("  ", stderr);
    print_seconds(now - p->phase_start);
    /* ETA from this phase's own pace: phases differ a lot (a Fisher pass vs SGD steps). */
    if (total > 0 && step > 0 && step < total) {
        fputs("  ETA ", stderr);
        print_seconds((now - p->phase_start) * (double)(total - step) / (double)step);
    }
    fputs("\x1b[K", stderr);   /* ESC[K: clear the rest of the line */
    p->line_open = 1;
}

/* The phase changed or the call ended: close what the previous phase left open. */
static void end_phase(cli_progress *p)
{
    if (p->line_open)
        fputc('\n', stderr);
    else if (!p->live && p->has_pending)
        print_plain_line(p);
    p->line_open = 0;
    reset_pending(p);
}

int cli_progress_callback(void *user, const lf_progress *progress)
{
    cli_progress *p = user;
    if (p->quiet)
        return 0;
    int32_t epoch = HAS_FIELD(progress, epoch) ? progress->epoch : -1;
    int64_t step = HAS_FIELD(progress, step) ? progress->step : 0;
    int64_t total = HAS_FIELD(progress, total) ? progress->total : 0;
    double loss = HAS_FIELD(progress, loss) ? progress->loss : NAN;
    double metric = HAS_FIELD(progress, metric) ? progress->metric : NAN;
    const char *phase = HAS_FIELD(progress, phase) && progress->phase ? progress->phase : "work";
    double now = cli_now();

    if (strncmp(phase, p->phase, sizeof p->phase - 1) != 0) {
        end_phase(p);
        snprintf(p->phase, sizeof p->phase, "%s", phase);
        p->phase_start = now;
        p->last_draw = 0.0;
    }
    if (p->live) {
        /* Redraw at most 10 times a second, and always at the last step. */
        int last = total > 0 && step >= total;
        if (last || now - p->last_draw >= 0.1) {
            p->last_draw = now;
            draw_live_line(p, epoch, step, total, loss, metric, now);
        }
        return 0;
    }
    /* Plain mode: a line is printed once its epoch (or phase) is over, so it carries the
     * final running loss. */
    if (epoch != p->pending_epoch && p->has_pending && p->pending_epoch >= 0)
        print_plain_line(p);
    p->pending_epoch = epoch;
    p->pending_step = step;
    p->pending_total = total;
    p->pending_loss = loss;
    p->pending_metric = metric;
    p->pending_time = now;
    p->has_pending = 1;
    return 0;
}

void cli_progress_finish(cli_progress *p)
{
    if (!p->quiet)
        end_phase(p);
}
