/* ReMI's built-in privacy approximator: a 3-16-1 MLP on standardised membership statistics,
 * fitted with BCE and Adam (see privacy_mlp.h). */
#include <math.h>
#include <string.h>

#include "methods/privacy_mlp.h"
#include "core/rng.h"

#define FIT_LR         1e-3
#define FIT_WD         1e-4
#define FIT_BATCH      256
#define FIT_MAX_EPOCHS 50
#define FIT_PATIENCE   5      /* epochs without a better hold-out loss before stopping */
#define FIT_HOLDOUT    0.2
#define ADAM_B1        0.9
#define ADAM_B2        0.999
#define ADAM_EPS       1e-8
#define STD_FLOOR      1e-6

enum { D = LF__REMI_STATS, H = LF__PRIVACY_HIDDEN, P = LF__PRIVACY_PARAMS };

/* Forward of one standardised sample: the hidden pre-activations (H) and the output logit. */
static double forward(const double *th, const double x[D], double pre[H])
{
    double out = th[LF__PRIVACY_B2];
    for (int j = 0; j < H; j++) {
        double a = th[LF__PRIVACY_B1 + j];
        for (int k = 0; k < D; k++)
            a += th[LF__PRIVACY_W1 + j * D + k] * x[k];
        pre[j] = a;
        if (a > 0.0)
            out += th[LF__PRIVACY_W2 + j] * a;
    }
    return out;
}

/* grad += dout · ∂out/∂theta for the sample of the last forward (x, pre). */
static void backward(const double *th, const double x[D], const double pre[H], double dout,
                     double *grad)
{
    grad[LF__PRIVACY_B2] += dout;
    for (int j = 0; j < H; j++) {
        if (pre[j] <= 0.0)
            continue;
        grad[LF__PRIVACY_W2 + j] += dout * pre[j];
        double dpre = dout * th[LF__PRIVACY_W2 + j];
        grad[LF__PRIVACY_B1 + j] += dpre;
        for (int k = 0; k < D; k++)
            grad[LF__PRIVACY_W1 + j * D + k] += dpre * x[k];
    }
}

static double softplus(double s)
{
    return s > 0.0 ? s + log1p(exp(-s)) : log1p(exp(s));
}

static double sigmoid(double s)
{
    return s >= 0.0 ? 1.0 / (1.0 + exp(-s)) : exp(s) / (1.0 + exp(s));
}

/* torch.nn.Linear's default init: U(−1/√fan_in, 1/√fan_in) for weights and biases. */
static void init_theta(double *th, uint64_t seed)
{
    lf__rng rng;
    lf__rng_init(&rng, seed, LF__STREAM_REMI | (1ULL << 32));
    double b1 = 1.0 / sqrt((double)D), b2 = 1.0 / sqrt((double)H);
    for (int i = 0; i < P; i++) {
        double bound = i < LF__PRIVACY_W2 ? b1 : b2;
        th[i] = (2.0 * lf__rng_uniform(&rng) - 1.0) * bound;
    }
}

/* The mean BCE over samples order[0..n) of the standardised set. */
static double mean_bce(const double *th, const double *x, const double *y, const int64_t *order,
                       size_t n)
{
    double pre[H], s = 0.0;
    for (size_t i = 0; i < n; i++) {
        size_t r = (size_t)order[i];
        double o = forward(th, x + r * D, pre);
        s += softplus(o) - y[r] * o;
    }
    return s / (double)n;
}

typedef struct fit_data {
    double  *x, *y;      /* standardised z (n × D) and labels */
    int64_t *order;      /* n: shuffled once, then [0, n_train) train and the rest hold-out */
    size_t   n;
} fit_data;

static void standardise(lf__privacy_mlp *a, fit_data *d, const double *z_in, size_t n_in,
                        const double *z_out, size_t n_out)
{
    for (int k = 0; k < D; k++) {
        double s = 0.0, ss = 0.0;
        for (size_t i = 0; i < n_in; i++)
            s += z_in[i * D + k];
        for (size_t i = 0; i < n_out; i++)
            s += z_out[i * D + k];
        double m = s / (double)d->n;
        for (size_t i = 0; i < n_in; i++)
            ss += (z_in[i * D + k] - m) * (z_in[i * D + k] - m);
        for (size_t i = 0; i < n_out; i++)
            ss += (z_out[i * D + k] - m) * (z_out[i * D + k] - m);
        a->mean[k] = m;
        a->std[k] = fmax(sqrt(ss / (double)d->n), STD_FLOOR);
    }
    for (size_t i = 0; i < d->n; i++) {
        const double *z = i < n_in ? z_in + i * D : z_out + (i - n_in) * D;
        for (int k = 0; k < D; k++)
            d->x[i * D + k] = (z[k] - a->mean[k]) / a->std[k];
        d->y[i] = i < n_in ? 1.0 : 0.0;
    }
}

/* Adam (PyTorch semantics, L2 weight decay added to the gradient) over the whole theta. */
static void adam_step(double *th, double *m, double *v, const double *g, int64_t t)
{
    double c1 = 1.0 - pow(ADAM_B1, (double)t), c2 = 1.0 - pow(ADAM_B2, (double)t);
    for (int i = 0; i < P; i++) {
        double gi = g[i] + FIT_WD * th[i];
        m[i] = ADAM_B1 * m[i] + (1.0 - ADAM_B1) * gi;
        v[i] = ADAM_B2 * v[i] + (1.0 - ADAM_B2) * gi * gi;
        th[i] -= FIT_LR * (m[i] / c1) / (sqrt(v[i] / c2) + ADAM_EPS);
    }
}

lf_status lf__privacy_mlp_fit(lf__privacy_mlp *a, const lf_context *ctx, const double *z_in,
                              size_t n_in, const double *z_out, size_t n_out, uint64_t seed)
{
    LF__CHECK_ARG(n_in >= 2 && n_out >= 2, "privacy approximator: needs at least 2 members and "
                  "2 non-members (got %zu and %zu)", n_in, n_out);
    memset(a, 0, sizeof *a);
    fit_data d = { 0 };
    d.n = n_in + n_out;
    d.x = lf__calloc(ctx, d.n * D, sizeof(double), "approximator inputs");
    d.y = lf__calloc(ctx, d.n, sizeof(double), "approximator labels");
    d.order = lf__calloc(ctx, d.n, sizeof(int64_t), "approximator order");
    if (!d.x || !d.y || !d.order) {
        lf__free(ctx, d.x, d.n * D * sizeof(double));
        lf__free(ctx, d.y, d.n * sizeof(double));
        lf__free(ctx, d.order, d.n * sizeof(int64_t));
        return LF_E_NOMEM;
    }
    standardise(a, &d, z_in, n_in, z_out, n_out);
    lf__rng rng;
    lf__rng_init(&rng, seed, LF__STREAM_REMI | (2ULL << 32));
    for (size_t i = 0; i < d.n; i++)
        d.order[i] = (int64_t)i;
    lf__rng_shuffle_i64(&rng, d.order, d.n);
    size_t n_hold = (size_t)((double)d.n * FIT_HOLDOUT);
    if (n_hold < 1)
        n_hold = 1;
    size_t n_train = d.n - n_hold;

    double th[P], best[P], m[P] = { 0 }, v[P] = { 0 }, g[P], pre[H];
    init_theta(th, seed);
    memcpy(best, th, sizeof th);
    double best_loss = mean_bce(th, d.x, d.y, d.order + n_train, n_hold);
    int64_t t = 0;
    int stale = 0, epoch = 0;
    for (; epoch < FIT_MAX_EPOCHS && stale < FIT_PATIENCE; epoch++) {
        lf__rng_shuffle_i64(&rng, d.order, n_train);
        for (size_t first = 0; first < n_train; first += FIT_BATCH) {
            size_t rows = n_train - first < FIT_BATCH ? n_train - first : FIT_BATCH;
            memset(g, 0, sizeof g);
            for (size_t i = 0; i < rows; i++) {
                size_t r = (size_t)d.order[first + i];
                double o = forward(th, d.x + r * D, pre);
                backward(th, d.x + r * D, pre, (sigmoid(o) - d.y[r]) / (double)rows, g);
            }
            adam_step(th, m, v, g, ++t);
        }
        double loss = mean_bce(th, d.x, d.y, d.order + n_train, n_hold);
        if (loss < best_loss) {
            best_loss = loss;
            memcpy(best, th, sizeof th);
            stale = 0;
        } else {
            stale++;
        }
    }
    memcpy(a->theta, best, sizeof best);
    a->epochs = epoch;
    a->holdout_loss = best_loss;
    lf__free(ctx, d.x, d.n * D * sizeof(double));
    lf__free(ctx, d.y, d.n * sizeof(double));
    lf__free(ctx, d.order, d.n * sizeof(int64_t));
    return LF_OK;
}

double lf__privacy_mlp_score(const lf__privacy_mlp *a, const double z[LF__REMI_STATS],
                             double dz[LF__REMI_STATS])
{
    double x[D], pre[H];
    for (int k = 0; k < D; k++)
        x[k] = (z[k] - a->mean[k]) / a->std[k];
    double s = sigmoid(forward(a->theta, x, pre));
    if (dz) {
        double ds = s * (1.0 - s);
        for (int k = 0; k < D; k++)
            dz[k] = 0.0;
        for (int j = 0; j < H; j++)
            if (pre[j] > 0.0)
                for (int k = 0; k < D; k++)
                    dz[k] += ds * a->theta[LF__PRIVACY_W2 + j] * a->theta[LF__PRIVACY_W1 + j * D + k];
        for (int k = 0; k < D; k++)
            dz[k] /= a->std[k];
    }
    return s;
}
