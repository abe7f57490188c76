/* bench_train — training and inference throughput of one architecture on one backend.
 *
 *   bench_train --arch convnet --backend cpu --threads 2 --batch 128 --steps 50 --warmup 5 \
 *               --mode train|infer [--memory] [--json]
 *
 * Inputs are synthetic 28×28×1 images in [0, 1] with 10 classes (--channels/--height/--width
 * change the shape); the figures do not depend on the values.
 *
 * What a step is, and how it is timed:
 *   train  One SGD step exactly as lf_model_train takes it, because it IS lf_model_train: one
 *          epoch over an in-memory data set of batch × (warmup + steps) images, constant lr,
 *          momentum 0.9, weight decay 5e-4 (batch gather, forward, softmax cross-entropy,
 *          backward, SGD update). The progress callback runs after every step, so the time
 *          between two callbacks is one whole step and nothing else; the first interval (from
 *          the call, which also snapshots the parameters) is never counted, and the first
 *          `warmup` steps are dropped. Public API only: what a user of the library gets.
 *   infer  lf_model_forward (eval mode) on one batch, timed call by call.
 * Reported: the median step time over `steps` steps, as images/s (batch / median), with the
 * fastest and slowest step.
 *
 * --memory adds the memory figures: the process's resident set (VmRSS) once the context, the
 * model and the data exist ("baseline"), its peak (ru_maxrss) after the run, and the peak of
 * the bytes live through the context's allocator hook. That hook sees libforget's host
 * allocations (lf__alloc: data set copies, batch staging, bookkeeping) but not the backend
 * memory of the reference and cpu backends (parameters, gradients, activations), which the
 * backend allocates itself, nor oneDNN's or OpenBLAS's own buffers: peak RSS − baseline is the
 * figure comparable with other frameworks. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <libforget/libforget.h>

typedef struct bench_args {
    const char *arch, *backend, *mode;
    int         threads, batch, steps, warmup, channels, height, width, classes;
    int         json, memory;
} bench_args;

/* ---- the allocator hook: live and peak bytes (single-threaded callers: lf__alloc is only
 * called from the calling thread) ---- */

typedef struct mem_count {
    size_t live, peak;
} mem_count;

static void *count_alloc(void *user, size_t size, size_t alignment)
{
    mem_count *mc = user;
    size_t rounded = (size + alignment - 1) / alignment * alignment;
    void *p = aligned_alloc(alignment, rounded);
    if (p) {
        mc->live += size;
        if (mc->live > mc->peak)
            mc->peak = mc->live;
    }
    return p;
}

static void count_free(void *user, void *ptr, size_t size)
{
    mem_count *mc = user;
    mc->live -= size;
    free(ptr);
}

/* ---- timing ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The progress callback's record: the time of every step's end. */
typedef struct step_clock {
    double *t;
    int64_t n, cap;
} step_clock;

static int on_step(void *user, const lf_progress *p)
{
    step_clock *sc = user;
    (void)p;
    if (sc->n < sc->cap)
        sc->t[sc->n++] = now_s();
    return 0;
}

/* ---- memory figures from the kernel ---- */

static long rss_now_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

static long maxrss_kib(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

/* ---- arguments ---- */

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_train [--arch mlp|convnet|resnet18] [--backend reference|cpu|auto]\n"
               "                   [--threads N] [--batch N] [--steps N] [--warmup N]\n"
               "                   [--mode train|infer] [--channels N --height N --width N]\n"
               "                   [--classes N] [--memory] [--json]\n");
}

static int parse_int(const char *opt, const char *s, int lo, int *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || *end || v < lo || v > 1000000000L) {
        fprintf(stderr, "bench_train: %s wants an integer >= %d, got '%s'\n", opt, lo, s ? s : "");
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int parse_args(int argc, char **argv, bench_args *a)
{
    *a = (bench_args){ "convnet", "cpu", "train", 2, 128, 50, 5, 1, 28, 28, 10, 0, 0 };
    static const char *const int_opts[] = { "--threads", "--batch", "--steps", "--warmup",
                                            "--channels", "--height", "--width", "--classes" };
    int *const int_dst[] = { &a->threads, &a->batch, &a->steps, &a->warmup,
                             &a->channels, &a->height, &a->width, &a->classes };
    static const int int_lo[] = { 1, 1, 1, 0, 1, 1, 1, 2 };
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int done = 0;
        for (size_t k = 0; k < sizeof int_opts / sizeof *int_opts; k++)
            if (strcmp(o, int_opts[k]) == 0) {
                if (parse_int(o, v, int_lo[k], int_dst[k]) != 0)
                    return -1;
                i++;
                done = 1;
            }
        if (done)
            continue;
        if (strcmp(o, "--json") == 0)
            a->json = 1;
        else if (strcmp(o, "--memory") == 0)
            a->memory = 1;
        else if ((strcmp(o, "--arch") == 0 || strcmp(o, "--backend") == 0 || strcmp(o, "--mode") == 0) && v) {
            if (o[2] == 'a')
                a->arch = v;
            else if (o[2] == 'b')
                a->backend = v;
            else
                a->mode = v;
            i++;
        } else if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "bench_train: unknown or incomplete option '%s'\n", o);
            usage(stderr);
            return -1;
        }
    }
    if (strcmp(a->mode, "train") != 0 && strcmp(a->mode, "infer") != 0) {
        fprintf(stderr, "bench_train: --mode must be train or infer, not '%s'\n", a->mode);
        return -1;
    }
    return 0;
}

/* ---- the run ---- */

typedef struct bench_result {
    double median_s, min_s, max_s;
    long   rss_base_kib, maxrss_kib;
    size_t hook_peak;
} bench_result;

static int fail(const char *what, lf_status st)
{
    fprintf(stderr, "bench_train: %s: %s (%s)\n", what, lf_status_name(st), lf_last_error_message());
    return 1;
}

/* Fills synthetic images in [0, 1) and labels in [0, classes) from a fixed LCG. */
static void fill_synthetic(float *x, int32_t *y, size_t n, size_t sample, int classes)
{
    uint64_t s = 0x9E3779B97F4A7C15u;
    for (size_t i = 0; i < n * sample; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        x[i] = (float)(s >> 40) / 16777216.0f;
    }
    for (size_t i = 0; i < n; i++)
        y[i] = (int32_t)(i % (size_t)classes);
}

static int run(const bench_args *a, bench_result *r)
{
    lf_backend_kind kind;
    lf_status st = lf_backend_from_name(a->backend, &kind);
    if (st != LF_OK)
        return fail("--backend", st);
    mem_count mc = { 0, 0 };
    lf_context_options co = LF_CONTEXT_OPTIONS_INIT;
    co.backend = kind;
    co.threads = a->threads;
    co.log_level = LF_LOG_NONE;
    co.seed = 1;
    co.allocator.struct_size = (uint32_t)sizeof co.allocator;
    co.allocator.alloc = count_alloc;
    co.allocator.free = count_free;
    co.allocator.user = &mc;
    lf_context *ctx = NULL;
    if ((st = lf_context_create(&ctx, &co)) != LF_OK)
        return fail("lf_context_create", st);

    int train = strcmp(a->mode, "train") == 0;
    /* training walks batch × (warmup + steps) distinct images once; inference reuses one batch */
    size_t n = (size_t)a->batch * (train ? (size_t)(a->warmup + a->steps) : 1);
    size_t sample = (size_t)a->channels * (size_t)a->height * (size_t)a->width;
    float *x = malloc(n * sample * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    float *logits = malloc((size_t)a->batch * (size_t)a->classes * sizeof *logits);
    double *t = malloc((size_t)(a->warmup + a->steps + 1) * sizeof *t);
    double *dt = malloc((size_t)a->steps * sizeof *dt);
    lf_dataset *ds = NULL;
    lf_model *m = NULL;
    int rc = 1;
    if (!x || !y || !logits || !t || !dt) {
        fprintf(stderr, "bench_train: out of memory for %zu images\n", n);
        goto out;
    }
    fill_synthetic(x, y, n, sample, a->classes);
    if (train && (st = lf_dataset_from_memory(&ds, ctx, x, y, n, a->channels, a->height, a->width,
                                              a->classes, LF_DATASET_BORROW)) != LF_OK) {
        fail("lf_dataset_from_memory", st);
        goto out;
    }
    lf_model_config cfg = LF_MODEL_CONFIG_INIT;
    cfg.channels = a->channels;
    cfg.height = a->height;
    cfg.width = a->width;
    cfg.num_classes = a->classes;
    if ((st = lf_model_create(&m, ctx, a->arch, &cfg)) != LF_OK) {
        fail("lf_model_create", st);
        goto out;
    }
    r->rss_base_kib = rss_now_kib();

    if (train) {
        step_clock sc = { t, 0, a->warmup + a->steps };
        lf_train_options to = LF_TRAIN_OPTIONS_INIT;
        to.epochs = 1;
        to.batch_size = a->batch;
        to.schedule = LF_LR_CONSTANT;
        to.lr = 0.01;   /* small: random labels must not blow up; speed does not depend on it */
        to.momentum = 0.9;
        to.weight_decay = 5e-4;
        to.progress = on_step;
        to.progress_user = &sc;
        if ((st = lf_model_train(m, ds, &to, NULL)) != LF_OK) {
            fail("lf_model_train", st);
            goto out;
        }
        /* step i (0-based) ends at t[i]; the steps after the warm-up have a start time too */
        int first = a->warmup > 0 ? a->warmup : 1;
        int counted = 0;
        for (int i = first; i < sc.n; i++)
            dt[counted++] = t[i] - t[i - 1];
        if (counted == 0) {
            fprintf(stderr, "bench_train: --steps 1 with --warmup 0 leaves no timed step\n");
            goto out;
        }
        qsort(dt, (size_t)counted, sizeof *dt, cmp_double);
        r->median_s = counted % 2 ? dt[counted / 2] : 0.5 * (dt[counted / 2 - 1] + dt[counted / 2]);
        r->min_s = dt[0];
        r->max_s = dt[counted - 1];
    } else {
        for (int i = 0; i < a->warmup + a->steps; i++) {
            double t0 = now_s();
            if ((st = lf_model_forward(m, x, (size_t)a->batch, logits)) != LF_OK) {
                fail("lf_model_forward", st);
                goto out;
            }
            if (i >= a->warmup)
                dt[i - a->warmup] = now_s() - t0;
        }
        qsort(dt, (size_t)a->steps, sizeof *dt, cmp_double);
        int k = a->steps;
        r->median_s = k % 2 ? dt[k / 2] : 0.5 * (dt[k / 2 - 1] + dt[k / 2]);
        r->min_s = dt[0];
        r->max_s = dt[k - 1];
    }
    r->maxrss_kib = maxrss_kib();
    r->hook_peak = mc.peak;
    rc = 0;
out:
    lf_model_destroy(m);
    lf_dataset_destroy(ds);
    lf_context_destroy(ctx);
    free(x);
    free(y);
    free(logits);
    free(t);
    free(dt);
    return rc;
}

int main(int argc, char **argv)
{
    bench_args a;
    if (parse_args(argc, argv, &a) != 0)
        return 2;
    bench_result r = { 0 };
    if (run(&a, &r) != 0)
        return 1;
    double ips = a.batch / r.median_s;
    if (a.json) {
        printf("{\"arch\": \"%s\", \"backend\": \"%s\", \"mode\": \"%s\", \"threads\": %d, "
               "\"batch\": %d, \"steps\": %d, \"warmup\": %d, \"median_step_s\": %.6g, "
               "\"min_step_s\": %.6g, \"max_step_s\": %.6g, \"images_per_second\": %.6g",
               a.arch, a.backend, a.mode, a.threads, a.batch, a.steps, a.warmup, r.median_s,
               r.min_s, r.max_s, ips);
        if (a.memory)
            printf(", \"rss_baseline_kib\": %ld, \"maxrss_kib\": %ld, \"hook_peak_bytes\": %zu",
                   r.rss_base_kib, r.maxrss_kib, r.hook_peak);
        printf("}\n");
    } else {
        printf("%s %s %s: batch %d, %d threads, %d steps (+%d warm-up): median %.3f ms/step "
               "(%.3f – %.3f), %.1f images/s\n", a.arch, a.backend, a.mode, a.batch, a.threads,
               a.steps, a.warmup, 1e3 * r.median_s, 1e3 * r.min_s, 1e3 * r.max_s, ips);
        if (a.memory)
            printf("memory: RSS %.1f MiB after setup, peak RSS %.1f MiB (+%.1f MiB); allocator hook "
                   "peak %.1f MiB (host allocations only)\n", r.rss_base_kib / 1024.0,
                   r.maxrss_kib / 1024.0, (r.maxrss_kib - r.rss_base_kib) / 1024.0,
                   (double)r.hook_peak / 1048576.0);
    }
    return 0;
}
