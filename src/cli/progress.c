/* Progress of long library calls on stderr: a live line redrawn in place when stderr is a
 * terminal, else one plain line per epoch (logs and pipes stay readable). */
#include <math.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_init(cli_progress *p, int quiet, int32_t epochs)
{
    p->quiet = quiet;
    p->live = isatty(STDERR_FILENO);
    p->epochs = epochs;
    p->line_open = 0;
    p->last_draw = 0.0;
    p->start = cli_now();
    p->pending_epoch = -1;
    p->pending_loss = p->pending_metric = NAN;
    p->pending_time = 0.0;
}

/* lf_progress is size-versioned: a field counts only if it lies within struct_size. */
#define HAS_FIELD(p, field) ((p)->struct_size >= offsetof(lf_progress, field) + sizeof((p)->field))

static void print_epoch_line(const cli_progress *p)
{
    fprintf(stderr, "epoch %d/%d: loss %.4f", (int)p->pending_epoch + 1, (int)p->epochs,
            p->pending_loss);
    if (isfinite(p->pending_metric))
        fprintf(stderr, ", train accuracy %.2f%%", 100.0 * p->pending_metric);
    fprintf(stderr, ", %.1f s\n", p->pending_time - p->start);
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
    double now = cli_now();

    if (p->live) {
        /* Redraw at most 10 times a second, and always at the last step. */
        int last = total > 0 && step >= total;
        if (!last && now - p->last_draw < 0.1)
            return 0;
        p->last_draw = now;
        fprintf(stderr, "\repoch %d/%d  step %lld", (int)epoch + 1, (int)p->epochs, (long long)step);
        if (total > 0)
            fprintf(stderr, "/%lld (%.0f%%)", (long long)total, 100.0 * (double)step / (double)total);
        fprintf(stderr, "  loss %.4f", loss);
        if (isfinite(metric))
            fprintf(stderr, "  acc %.2f%%", 100.0 * metric);
        fprintf(stderr, "  %.1f s\x1b[K", now - p->start);   /* ESC[K: clear the rest of the line */
        p->line_open = 1;
        return 0;
    }
    /* Plain mode: an epoch's line is printed once the next epoch starts (or at the end), so
     * it carries the epoch's final running loss. */
    if (epoch != p->pending_epoch && p->pending_epoch >= 0)
        print_epoch_line(p);
    p->pending_epoch = epoch;
    p->pending_loss = loss;
    p->pending_metric = metric;
    p->pending_time = now;
    return 0;
}

void cli_progress_finish(cli_progress *p)
{
    if (p->quiet)
        return;
    if (p->line_open)
        fputc('\n', stderr);
    else if (!p->live && p->pending_epoch >= 0)
        print_epoch_line(p);
    p->line_open = 0;
    p->pending_epoch = -1;
}
