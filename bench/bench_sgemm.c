/* bench_sgemm — the machine's single-precision GEMM ceiling: OpenBLAS cblas_sgemm on square
 * row-major matrices (default 1024³) with N threads, median GFLOP/s (2·n³ per call) over repeats.
 *
 *   bench_sgemm [--threads N] [--n 1024] [--repeats 30] [--json]
 *
 * Threads: openblas_set_num_threads(N), the same call the cpu backend makes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

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

static int parse_int(const char *opt, const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || *end || v < 1 || v > 65536) {
        fprintf(stderr, "bench_sgemm: %s wants an integer in [1, 65536], got '%s'\n", opt, s ? s : "");
        return -1;
    }
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    int threads = 2, n = 1024, repeats = 30, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (strcmp(argv[i], "--threads") == 0)
            rc = parse_int(argv[i], v, &threads), i++;
        else if (strcmp(argv[i], "--n") == 0)
            rc = parse_int(argv[i], v, &n), i++;
        else if (strcmp(argv[i], "--repeats") == 0)
            rc = parse_int(argv[i], v, &repeats), i++;
        else if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else {
            fprintf(stderr, "usage: bench_sgemm [--threads N] [--n N] [--repeats N] [--json]\n");
            return 2;
        }
        if (rc != 0)
            return 2;
    }
    openblas_set_num_threads(threads);
    size_t nn = (size_t)n * (size_t)n;
    float *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b), *c = malloc(nn * sizeof *c);
    double *gf = malloc((size_t)repeats * sizeof *gf);
    if (!a || !b || !c || !gf) {
        fprintf(stderr, "bench_sgemm: out of memory for n = %d\n", n);
        return 1;
    }
    for (size_t i = 0; i < nn; i++) {
        a[i] = (float)(i % 17) / 17.0f;
        b[i] = (float)(i % 13) / 13.0f;
        c[i] = 0.0f;
    }
    /* warm-up: thread start, page faults, caches */
    for (int i = 0; i < 3; i++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    for (int r = 0; r < repeats; r++) {
        double t0 = now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        gf[r] = 2.0 * (double)n * (double)n * (double)n / (now_s() - t0) / 1e9;
    }
    qsort(gf, (size_t)repeats, sizeof *gf, cmp_double);
    double med = repeats % 2 ? gf[repeats / 2] : 0.5 * (gf[repeats / 2 - 1] + gf[repeats / 2]);
    const char *cfg = openblas_get_config();
    if (json)
        printf("{\"n\": %d, \"threads\": %d, \"repeats\": %d, \"median_gflops\": %.2f, \"min_gflops\": %.2f, "
               "\"max_gflops\": %.2f, \"openblas_config\": \"%s\", \"openblas_core\": \"%s\"}\n",
               n, threads, repeats, med, gf[0], gf[repeats - 1], cfg, openblas_get_corename());
    else
        printf("sgemm %d^3, %d threads: median %.1f GFLOP/s (%.1f – %.1f over %d runs); OpenBLAS %s, core %s\n",
               n, threads, med, gf[0], gf[repeats - 1], repeats, cfg, openblas_get_corename());
    free(a);
    free(b);
    free(c);
    free(gf);
    return 0;
}
