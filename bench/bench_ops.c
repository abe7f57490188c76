/* Times the convolutional-model ops of the backend interface on the convnet's shapes (batch 128,
 * Fashion-MNIST 1×28×28): conv1 1→32 and conv2 32→64 (3×3, pad 1) forward, backward data and
 * backward weights, their batch norms and ReLUs (apart and fused) and 2×2 max pools, for the
 * cpu and reference backends.
 *
 *   bench_ops [--threads N] [--reps R] [--ref-reps R] [--net convnet|resnet18]
 *             (defaults 2, 20, 1, convnet; resnet18: its 3×3 stride-1 shapes, 64@28² to 512@4²)
 *
 * Each op runs once untimed (the cpu backend builds its oneDNN primitives then); the fastest
 * and the median of the timed repetitions are printed, in ms, and the speed-up compares the
 * fastest. GFLOP/s counts 2 flops per multiply-add. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "core/rng.h"

typedef struct bench_be {
    const lf__backend_iface *iface;
    void                    *priv;
    int                      reps;
} bench_be;

static float *random_buf(lf__rng *r, size_t n)
{
    float *p = malloc(n * sizeof *p);
    if (!p) {
        fprintf(stderr, "bench_ops: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(2.0 * lf__rng_uniform(r) - 1.0);
    return p;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void check(lf_status st, const char *what)
{
    if (st != LF_OK) {
        fprintf(stderr, "bench_ops: %s: %s: %s\n", what, lf_status_name(st), lf_last_error_message());
        exit(1);
    }
}

/* The buffers of one conv layer and what follows it in the convnet (batch norm, max pool). */
typedef struct layer {
    lf__conv2d_shape cs;
    int64_t          hw;
    float           *x, *w, *y, *dy, *dx, *dw;              /* conv */
    float           *bn_y, *mean, *invstd, *rm, *rv, *gamma, *beta, *dgamma, *dbeta;
    float           *pool_y;
    int32_t         *idx;
} layer;

enum { CONV_FWD, CONV_BWD_DATA, CONV_BWD_WEIGHTS, BN_FWD, BN_BWD, RELU_FWD, RELU_BWD, BN_RELU_FWD,
       BN_RELU_BWD, POOL_FWD, POOL_BWD, N_OPS };
static const char *const op_names[] = { "conv2d_fwd", "conv2d_bwd_data", "conv2d_bwd_weights",
                                        "batchnorm_fwd_train", "batchnorm_bwd", "relu_fwd",
                                        "relu_bwd", "batchnorm_relu_fwd", "batchnorm_relu_bwd",
                                        "maxpool2d_fwd", "maxpool2d_bwd" };

static lf_status run_op(const bench_be *be, const layer *l, int op)
{
    const lf__backend_iface *f = be->iface;
    const lf__conv2d_shape *cs = &l->cs;
    const int64_t n = cs->n, c = cs->c_out, hw = l->hw;
    switch (op) {
    case CONV_FWD:         return f->conv2d_fwd(be->priv, l->y, l->x, l->w, NULL, cs);
    case CONV_BWD_DATA:    return f->conv2d_bwd_data(be->priv, l->dx, l->dy, l->w, cs);
    case CONV_BWD_WEIGHTS: return f->conv2d_bwd_weights(be->priv, l->dw, NULL, l->dy, l->x, cs);
    case BN_FWD:
        return f->batchnorm_fwd_train(be->priv, l->bn_y, l->mean, l->invstd, l->rm, l->rv, l->y,
                                      l->gamma, l->beta, n, c, hw * hw, 0.1f, 1e-5f);
    case BN_BWD:   /* dy of the conv's output size serves as both dy and dx */
        return f->batchnorm_bwd(be->priv, l->dy, l->dgamma, l->dbeta, l->dy, l->y, l->gamma,
                                l->mean, l->invstd, n, c, hw * hw);
    case RELU_FWD: /* in place, as the architectures run it */
        return f->relu_fwd(be->priv, l->bn_y, l->bn_y, n * c * hw * hw);
    case RELU_BWD:
        return f->relu_bwd(be->priv, l->dy, l->dy, l->bn_y, n * c * hw * hw);
    case BN_RELU_FWD:
        return f->batchnorm_relu_fwd_train(be->priv, l->bn_y, l->mean, l->invstd, l->rm, l->rv,
                                           l->y, l->gamma, l->beta, n, c, hw * hw, 0.1f, 1e-5f);
    case BN_RELU_BWD:
        return f->batchnorm_relu_bwd(be->priv, l->dy, l->dgamma, l->dbeta, l->dy, l->bn_y, l->y,
                                     l->gamma, l->mean, l->invstd, n, c, hw * hw);
    case POOL_FWD: return f->maxpool2d_fwd(be->priv, l->pool_y, l->idx, l->bn_y, n, c, hw, hw, 2);
    default:       return f->maxpool2d_bwd(be->priv, l->bn_y, l->pool_y, l->idx, n, c, hw, hw, 2);
    }
}

/* Milliseconds of be->reps timed runs after one untimed run: the fastest (the figure least
 * disturbed by other processes on a shared machine) and the median. */
typedef struct timing {
    double min, median;
} timing;

static timing time_op(const bench_be *be, const layer *l, int op)
{
    check(run_op(be, l, op), op_names[op]);
    double t[64];
    int reps = be->reps < 64 ? be->reps : 64;
    for (int i = 0; i < reps; i++) {
        double t0 = lf__now_seconds();
        check(run_op(be, l, op), op_names[op]);
        t[i] = 1e3 * (lf__now_seconds() - t0);
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_double);
    return (timing){ t[0], t[reps / 2] };
}

static void bench_layer(const bench_be *bes, int n_be, lf__rng *r, int64_t n, int64_t c_in,
                        int64_t hw, int64_t c_out)
{
    layer l = { .cs = { .n = n, .c_in = c_in, .h_in = hw, .w_in = hw, .c_out = c_out, .kh = 3,
                        .kw = 3, .stride = 1, .pad = 1, .h_out = hw, .w_out = hw },
                .hw = hw };
    const size_t nx = (size_t)(n * c_in * hw * hw), ny = (size_t)(n * c_out * hw * hw),
                 nw = (size_t)(c_out * c_in * 9), nc = (size_t)c_out;
    l.x = random_buf(r, nx), l.w = random_buf(r, nw), l.y = random_buf(r, ny);
    l.dy = random_buf(r, ny), l.dx = random_buf(r, nx), l.dw = random_buf(r, nw);
    l.bn_y = random_buf(r, ny), l.mean = random_buf(r, nc), l.invstd = random_buf(r, nc);
    l.rm = random_buf(r, nc), l.rv = random_buf(r, nc), l.gamma = random_buf(r, nc);
    l.beta = random_buf(r, nc), l.dgamma = random_buf(r, nc), l.dbeta = random_buf(r, nc);
    l.pool_y = random_buf(r, ny / 4);
    l.idx = calloc(ny / 4, sizeof *l.idx);
    const double conv_flops = 2.0 * (double)ny * (double)(c_in * 9);
    char shape[96];
    snprintf(shape, sizeof shape, "%lldx%lldx%lldx%lld->%lld", (long long)n, (long long)c_in,
             (long long)hw, (long long)hw, (long long)c_out);
    for (int op = 0; op < N_OPS; op++) {
        timing t[2];
        for (int b = 0; b < n_be; b++)
            t[b] = time_op(&bes[b], &l, op);
        printf("%-20s %-18s", op_names[op], shape);
        for (int b = 0; b < n_be; b++) {
            printf(" %8.2f %8.2f", t[b].min, t[b].median);
            if (op <= CONV_BWD_WEIGHTS)
                printf(" %6.1f", conv_flops / (t[b].min * 1e6));
            else
                printf(" %6s", "");
        }
        if (n_be == 2)
            printf(" %7.1fx", t[1].min / t[0].min);
        printf("\n");
        fflush(stdout);
    }
    free(l.x), free(l.w), free(l.y), free(l.dy), free(l.dx), free(l.dw), free(l.bn_y);
    free(l.mean), free(l.invstd), free(l.rm), free(l.rv), free(l.gamma), free(l.beta);
    free(l.dgamma), free(l.dbeta), free(l.pool_y), free(l.idx);
}

int main(int argc, char **argv)
{
    int threads = 2, reps = 20, ref_reps = 1;
    const char *net = "convnet";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--net") == 0)
            net = argv[i + 1];
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--reps") == 0)
            reps = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--ref-reps") == 0)
            ref_reps = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: bench_ops [--threads N] [--reps R] [--ref-reps R] "
                            "[--net convnet|resnet18]\n");
            return 2;
        }
    }
    bench_be bes[2];
    int n_be = 0;
    const lf__backend_iface *cpu = lf__backend_cpu_iface(), *ref = lf__backend_reference_iface();
    lf__backend_config cfg = { .threads = threads > 0 ? threads : 1 };
    if (cpu)
        bes[n_be++] = (bench_be){ cpu, NULL, reps > 0 ? reps : 1 };
    if (ref_reps > 0)
        bes[n_be++] = (bench_be){ ref, NULL, ref_reps };
    for (int b = 0; b < n_be; b++)
        check(bes[b].iface->create(&bes[b].priv, &cfg), "create");
    printf("threads %d; %d (cpu) / %d (reference) timed runs; ms: fastest, median; GF/s of the "
           "fastest\n%-20s %-18s", cfg.threads, reps, ref_reps, "op", "shape");
    for (int b = 0; b < n_be; b++)
        printf(" %-9s %6s %6s", bes[b].iface->name, "median", "GF/s");
    printf(n_be == 2 ? " %8s\n" : "\n", "speed-up");
    lf__rng r;
    lf__rng_init(&r, 1, 0);
    if (strcmp(net, "resnet18") == 0) {
        for (int k = 0; k < 4; k++)
            bench_layer(bes, n_be, &r, 128, 64 << k, (int64_t[]){ 28, 14, 7, 4 }[k], 64 << k);
    } else {
        bench_layer(bes, n_be, &r, 128, 1, 28, 32);
        bench_layer(bes, n_be, &r, 128, 32, 14, 64);
    }
    for (int b = 0; b < n_be; b++)
        bes[b].iface->destroy(bes[b].priv);
    return 0;
}
