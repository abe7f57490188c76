/* Times the SAMIA attacker of DAU (core/nn/attacker_internal.h): one train-mode forward and one
 * backward (with the input gradient, as the defender step needs it) of n samples of C classes,
 * on the reference backend and on the cpu backend at 1 and 2 threads.
 *
 *   bench_attacker [--n N] [--classes C] [--reps R] [--warmup W] [--ref-reps R] [--threads T]
 *                  (defaults 512, 10, 10, 2, 3, 0; --ref-reps 0 skips the reference backend;
 *                  --threads T times the cpu backend at T threads only, 0: at 1 and at 2)
 *
 * Each configuration runs W untimed forward+backward pairs, then R timed ones; the medians of
 * the forward, the backward and their sum are printed in ms (the sum's median, not the sum of
 * the medians), with the fastest sum and the median processor time of the pair (all threads;
 * on a shared machine it shows the work when the wall time shows the waiting; spinning OpenMP
 * threads count too, OMP_WAIT_POLICY=passive leaves them out). The reference backend is
 * single-threaded: it runs once, with R = --ref-reps and one warm-up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/internal.h"
#include "core/nn/attacker_internal.h"

static void check(lf_status st, const char *what)
{
    if (st != LF_OK) {
        fprintf(stderr, "bench_attacker: %s: %s: %s\n", what, lf_status_name(st),
                lf_last_error_message());
        exit(1);
    }
}

/* Processor time of the whole process, in seconds. */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* Backend memory of count floats, filled with uniforms in [lo, hi) from a local LCG. */
static float *random_dev(lf_context *ctx, size_t count, float lo, float hi, unsigned long long seed)
{
    float *host = malloc(count * sizeof *host), *dev = NULL;
    if (!host) {
        fprintf(stderr, "bench_attacker: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < count; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        host[i] = lo + (hi - lo) * (float)((double)(seed >> 11) / 9007199254740992.0);
    }
    check(lf__nn_dev_alloc(ctx, (void **)&dev, count, sizeof *dev, 0, "bench buffer"), "alloc");
    check(LF__BE(ctx, mem_upload, dev, host, count * sizeof *host), "upload");
    free(host);
    return dev;
}

static void sync(lf_context *ctx)
{
    check(ctx->backend.iface->synchronize(ctx->backend.priv), "synchronize");
}

static void run(lf_backend_kind kind, int threads, int64_t n, int64_t C, int warmup, int reps)
{
    lf_context_options o = LF_CONTEXT_OPTIONS_INIT;
    o.backend = kind;
    o.threads = threads;
    o.seed = 1;
    lf_context *ctx = NULL;
    check(lf_context_create(&ctx, &o), "lf_context_create");
    lf__samia *s = NULL;
    check(lf__samia_create(&s, ctx, C, 7), "lf__samia_create");
    float *u = random_dev(ctx, (size_t)(n * 3 * C), -2.0f, 2.0f, 11);
    float *dlogits = random_dev(ctx, (size_t)(n * 2), -1.0f / (float)n, 1.0f / (float)n, 12);
    float *logits = random_dev(ctx, (size_t)(n * 2), 0.0f, 0.0f, 13);
    float *du = random_dev(ctx, (size_t)(n * 3 * C), 0.0f, 0.0f, 14);
    double *tf = malloc((size_t)reps * sizeof *tf), *tb = malloc((size_t)reps * sizeof *tb),
           *tt = malloc((size_t)reps * sizeof *tt), *tc = malloc((size_t)reps * sizeof *tc);
    if (!tf || !tb || !tt || !tc) {
        fprintf(stderr, "bench_attacker: out of memory\n");
        exit(1);
    }
    for (int i = -warmup; i < reps; i++) {
        double c0 = cpu_seconds(), t0 = lf__now_seconds();
        check(lf__samia_forward(s, logits, u, n, 1, 3, (uint64_t)(i + warmup)), "forward");
        sync(ctx);
        double t1 = lf__now_seconds();
        check(lf__samia_backward(s, du, dlogits), "backward");
        sync(ctx);
        double t2 = lf__now_seconds(), c2 = cpu_seconds();
        if (i >= 0) {
            tc[i] = 1e3 * (c2 - c0);
            tf[i] = 1e3 * (t1 - t0);
            tb[i] = 1e3 * (t2 - t1);
            tt[i] = 1e3 * (t2 - t0);
        }
    }
    double fwd = median(tf, reps), bwd = median(tb, reps), tot = median(tt, reps);
    double cpu = median(tc, reps);
    printf("%-9s %7d %9.1f %9.1f %9.1f %9.1f %9.1f\n", kind == LF_BACKEND_CPU ? "cpu" : "reference",
           threads, fwd, bwd, tot, tt[0], cpu);
    fflush(stdout);
    free(tf), free(tb), free(tt), free(tc);
    lf__nn_dev_free(ctx, u);
    lf__nn_dev_free(ctx, dlogits);
    lf__nn_dev_free(ctx, logits);
    lf__nn_dev_free(ctx, du);
    lf__samia_destroy(s);
    lf_context_destroy(ctx);
}

int main(int argc, char **argv)
{
    int64_t n = 512, C = 10;
    int reps = 10, warmup = 2, ref_reps = 3, threads = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--n") == 0)
            n = atoll(argv[i + 1]);
        else if (strcmp(argv[i], "--classes") == 0)
            C = atoll(argv[i + 1]);
        else if (strcmp(argv[i], "--reps") == 0)
            reps = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--warmup") == 0)
            warmup = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--ref-reps") == 0)
            ref_reps = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "bench_attacker: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (n < 2 || C < 1 || reps < 1 || warmup < 0 || ref_reps < 0 || threads < 0) {
        fprintf(stderr, "bench_attacker: need n >= 2, classes >= 1, reps >= 1\n");
        return 2;
    }
    printf("SAMIA attacker, train-mode forward + backward (with du), n = %lld, C = %lld: "
           "medians in ms\n", (long long)n, (long long)C);
    printf("%-9s %7s %9s %9s %9s %9s %9s\n", "backend", "threads", "forward", "backward", "total",
           "fastest", "cpu time");
    if (ref_reps > 0)
        run(LF_BACKEND_REFERENCE, 1, n, C, 1, ref_reps);
    if (lf_backend_is_available(LF_BACKEND_CPU)) {
        for (int t = threads ? threads : 1; t <= (threads ? threads : 2); t++)
            run(LF_BACKEND_CPU, t, n, C, warmup, reps);
    } else {
        printf("cpu backend not built\n");
    }
    return 0;
}
