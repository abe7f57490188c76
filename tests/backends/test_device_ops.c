/* A backend named on the command line ("cpu", "cuda") against the reference backend, every
 * operation of the table, reaching the backend's memory only through its mem_* functions, as a
 * device backend needs: inputs are made on the host (fresh lf__rng values), uploaded into
 * mem_alloc blocks, outputs are uploaded as NaN first (an element left unwritten fails), and
 * the results are downloaded and compared with the reference's, computed on host copies.
 *
 * Pass rule, relative error 1e-4:
 *  - BITS: bit for bit, where the contract fixes the result exactly (selections: ReLU, masks,
 *    pooling, transposes; the counter-based RNG and dropout);
 *  - ELEM: element-wise, |got − want| ≤ 1e-4·|want|, except that an element that cancels to
 *    below 1e-3 of the tensor's largest magnitude is held to 1e-7 of that magnitude: one FMA
 *    (nvcc contracts a·b + c) moves such an element by more than 1e-4 of itself;
 *  - NORM: normwise, max|got − want| ≤ 1e-4·max|want|, for outputs that are sums (gemm,
 *    convolutions, normalisation statistics), whose order legitimately differs.
 * NaN or ±inf in any output fails. Bad arguments must give the reference's status and leave
 * every output as it was.
 *
 * Exit 77 (skipped) when the backend is not built or finds no device. Run it with "cuda" with
 * CK_FORK=no: a CUDA context does not survive Check's fork. */
#include "lf_test.h"
#include "core/internal.h"
#include "core/rng.h"

static const double RTOL = 1e-4;
static const double FLOOR = 1e-3;   /* ELEM: below this fraction of the largest |want|, normwise */

static const lf__backend_iface *ref_be, *dut_be;   /* dut: the backend under test */
static void *ref_priv, *dut_priv;
static lf_backend_kind dut_kind;
static char tc_case[200];   /* the case running, for messages */
#define CASE(...) snprintf(tc_case, sizeof tc_case, __VA_ARGS__)

/* ---- every block a test makes is kept here and freed by the teardown ---- */

typedef struct block {
    void *p;
    int   dev;
} block;
static block *blocks;
static size_t n_blocks, cap_blocks;

static void *keep(void *p, int dev)
{
    if (n_blocks == cap_blocks) {
        cap_blocks = cap_blocks ? 2 * cap_blocks : 256;
        blocks = realloc(blocks, cap_blocks * sizeof *blocks);
        ck_assert_ptr_nonnull(blocks);
    }
    blocks[n_blocks++] = (block){ p, dev };
    return p;
}

static void setup(void)
{
    lf__backend_config cfg = { .threads = 2 };
    ref_be = lf__backend_reference_iface();
    ck_assert_lf_ok(ref_be->create(&ref_priv, &cfg));
    ck_assert_lf_ok(dut_be->create(&dut_priv, &cfg));
    tc_case[0] = '\0';
}

static void teardown(void)
{
    while (n_blocks > 0) {
        block b = blocks[--n_blocks];
        if (b.dev)
            dut_be->mem_free(dut_priv, b.p);
        else
            free(b.p);
    }
    free(blocks);
    blocks = NULL;
    cap_blocks = 0;
    dut_be->destroy(dut_priv);
    ref_be->destroy(ref_priv);
}

static void *host_buf(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    ck_assert_ptr_nonnull(p);
    return keep(p, 0);
}

static void *dev_buf(size_t bytes)
{
    void *p = NULL;
    ck_assert_lf_ok(dut_be->mem_alloc(dut_priv, &p, bytes ? bytes : 64));
    ck_assert_ptr_nonnull(p);
    return keep(p, 1);
}

/* ---- pairs: one tensor as the reference's host copy and the backend's own copy ---- */

typedef struct pair {
    void  *ref, *dev;
    void  *init;    /* what both started as */
    size_t bytes;
} pair;

static pair pair_init(const void *init, size_t bytes)
{
    pair p = { host_buf(bytes), dev_buf(bytes), host_buf(bytes), bytes };
    if (bytes) {
        memcpy(p.ref, init, bytes);
        memcpy(p.init, init, bytes);
        ck_assert_lf_ok(dut_be->mem_upload(dut_priv, p.dev, init, bytes));
    }
    return p;
}

static float *host_random(lf__rng *r, size_t n, double lo, double hi)
{
    float *h = host_buf(n * sizeof *h);
    for (size_t i = 0; i < n; i++)
        h[i] = (float)(lo + (hi - lo) * lf__rng_uniform(r));
    return h;
}

static pair frand(lf__rng *r, size_t n, double lo, double hi)
{
    return pair_init(host_random(r, n, lo, hi), n * sizeof(float));
}

static float *host_fill(size_t n, float v)
{
    float *h = host_buf(n * sizeof *h);
    for (size_t i = 0; i < n; i++)
        h[i] = v;
    return h;
}

static pair ffill(size_t n, float v)
{
    return pair_init(host_fill(n, v), n * sizeof(float));
}

static pair fnan(size_t n)
{
    return ffill(n, NAN);
}

static pair labels_rand(lf__rng *r, size_t n, int64_t classes)
{
    int32_t *h = host_buf(n * sizeof *h);
    for (size_t i = 0; i < n; i++)
        h[i] = (int32_t)lf__rng_below(r, (uint64_t)classes);
    return pair_init(h, n * sizeof *h);
}

/* A new pair holding the reference's current values on both sides: a later op then sees the
 * same inputs on both backends. */
static pair from_ref(pair src)
{
    return pair_init(src.ref, src.bytes);
}

static void *download(pair p)
{
    void *h = host_buf(p.bytes);
    ck_assert_lf_ok(dut_be->mem_download(dut_priv, h, p.dev, p.bytes));
    return h;
}

/* In BOTH's arguments: the side's pointer of a pair (NULL stays NULL through a null pair). */
#define F(p)   ((float *)(side_ ? (p).dev : (p).ref))
#define I32(p) ((int32_t *)(side_ ? (p).dev : (p).ref))
#define U8(p)  ((uint8_t *)(side_ ? (p).dev : (p).ref))
#define SIDE   side_
static const pair NONE = { 0 };   /* a NULL argument on both sides */

/* Calls op on the reference (host copies), then on the backend under test (its memory). */
#define BOTH(op, ...)                                                                         \
    do {                                                                                      \
        for (int side_ = 0; side_ < 2; side_++) {                                             \
            const lf__backend_iface *be_ = side_ ? dut_be : ref_be;                           \
            lf_status st_ = be_->op(side_ ? dut_priv : ref_priv, __VA_ARGS__);                \
            ck_assert_msg(st_ == LF_OK, "%s (%s) on %s: %s: %s", #op, tc_case, be_->name,     \
                          lf_status_name(st_), lf_last_error_message());                      \
        }                                                                                     \
    } while (0)

/* Bad arguments: the backend fails as the reference does, with a detail message. */
#define BOTH_FAIL(op, ...)                                                                    \
    do {                                                                                      \
        lf_status st_[2];                                                                     \
        for (int side_ = 0; side_ < 2; side_++) {                                             \
            lf__error_clear();                                                                \
            st_[side_] = (side_ ? dut_be : ref_be)->op(side_ ? dut_priv : ref_priv, __VA_ARGS__); \
        }                                                                                     \
        ck_assert_msg(st_[0] != LF_OK && st_[1] == st_[0], "%s (%s): reference %s, %s %s", #op, \
                      tc_case, lf_status_name(st_[0]), dut_be->name, lf_status_name(st_[1])); \
        ck_assert_msg(lf_last_error_message()[0] != '\0', "%s (%s): %s left no detail message", \
                      #op, tc_case, dut_be->name);                                            \
    } while (0)

/* ---- comparisons ---- */

typedef enum match { BITS, ELEM, NORM } match;

/* The backend's copy of p against the reference's. Elements where `in` is 0 (NULL: none) are
 * outside the op's output (gaps between rows): they must keep the reference's bits. */
static void expect_in(const char *op, pair p, match how, const unsigned char *in)
{
    const size_t n = p.bytes / sizeof(float);
    const float *got = download(p), *want = p.ref;
    if (n == 0)
        return;
    /* one assertion per check, not per element: each costs Check a write */
    size_t gap = 0, nonfinite = 0;
    double scale = 0;
    for (; gap < n; gap++)
        if (in && !in[gap] && memcmp(&got[gap], &want[gap], sizeof *got) != 0)
            break;
    ck_assert_msg(gap == n, "%s (%s)[%zu] is outside the output but became %g (reference: %g)", op,
                  tc_case, gap, gap < n ? got[gap] : 0.0f, gap < n ? want[gap] : 0.0f);
    for (; nonfinite < n; nonfinite++) {
        if (in && !in[nonfinite])
            continue;
        if (!isfinite(got[nonfinite]) || !isfinite(want[nonfinite]))
            break;
        scale = fmax(scale, fabs((double)want[nonfinite]));
    }
    ck_assert_msg(nonfinite == n, "%s (%s)[%zu]: %s %g, reference %g", op, tc_case, nonfinite,
                  dut_be->name, nonfinite < n ? got[nonfinite] : 0.0f,
                  nonfinite < n ? want[nonfinite] : 0.0f);
    if (how == NORM) {
        size_t worst = 0;
        double worst_err = 0;
        for (size_t i = 0; i < n; i++) {
            const double err = fabs((double)got[i] - want[i]);
            if ((!in || in[i]) && err > worst_err)
                worst_err = err, worst = i;
        }
        ck_assert_msg(worst_err <= RTOL * fmax(scale, 1e-30), "%s (%s): error %.3g at [%zu] (%s "
                      "%.9g, reference %.9g), largest |reference| %.3g", op, tc_case, worst_err,
                      worst, dut_be->name, got[worst], want[worst], scale);
        return;
    }
    size_t bad = 0;
    for (; bad < n; bad++) {
        if (in && !in[bad])
            continue;
        if (how == BITS ? memcmp(&got[bad], &want[bad], sizeof *got) != 0
                        : fabs((double)got[bad] - want[bad]) >
                              RTOL * fmax(fabs((double)want[bad]), FLOOR * scale))
            break;
    }
    ck_assert_msg(bad == n, "%s (%s)[%zu]: %s %.9g, reference %.9g (%s)", op, tc_case, bad,
                  dut_be->name, bad < n ? got[bad] : 0.0f, bad < n ? want[bad] : 0.0f,
                  how == BITS ? "bits differ" : "relative error");
}

static void expect(const char *op, pair p, match how)
{
    expect_in(op, p, how, NULL);
}

/* After a failed call: both copies still hold what they started with, bit for bit. */
static void expect_untouched(const char *op, pair p)
{
    const unsigned char *got = download(p), *ref = p.ref, *init = p.init;
    size_t i = 0;
    while (i < p.bytes && got[i] == init[i] && ref[i] == init[i])
        i++;
    ck_assert_msg(i == p.bytes, "%s (%s): byte %zu of an output changed on a failed call (%s)", op,
                  tc_case, i, i < p.bytes && got[i] != init[i] ? dut_be->name : "reference");
}

/* ---- the table and memory ---- */

START_TEST(table_and_memory)
{
    ck_assert_uint_eq(dut_be->iface_version, LF__BACKEND_IFACE_VERSION);
    ck_assert_int_eq(dut_be->kind, dut_kind);
    ck_assert_str_eq(dut_be->name, lf_backend_name(dut_kind));
    ck_assert_int_eq(dut_be->probe(), 1);
    /* every entry: this program calls them all */
    const char *first = (const char *)&dut_be->probe;
    const char *end = (const char *)&dut_be->gemm_batched + sizeof dut_be->gemm_batched;
    for (const char *p = first; p < end; p += sizeof(void (*)(void))) {
        void (*fn)(void);
        memcpy(&fn, p, sizeof fn);
        ck_assert_msg(fn != NULL, "%s table entry at offset %td is NULL", dut_be->name,
                      p - (const char *)dut_be);
    }

    enum { N = 1000 };
    float want[N], got[N];
    for (int i = 0; i < N; i++)
        want[i] = (float)i - 0.25f;
    float *a = dev_buf(sizeof want), *b = dev_buf(sizeof want);
    ck_assert_uint_eq((uintptr_t)a % 64, 0);
    ck_assert_uint_eq((uintptr_t)b % 64, 0);
    ck_assert_lf_ok(dut_be->mem_upload(dut_priv, a, want, sizeof want));
    ck_assert_lf_ok(dut_be->synchronize(dut_priv));
    ck_assert_lf_ok(dut_be->mem_download(dut_priv, got, a, sizeof got));
    ck_assert(memcmp(got, want, sizeof got) == 0);
    /* device to device, whole and in part at odd offsets */
    ck_assert_lf_ok(dut_be->mem_copy(dut_priv, b, a, sizeof want));
    ck_assert_lf_ok(dut_be->mem_copy(dut_priv, b + 11, a + 5, 37 * sizeof *a));
    memmove(want + 11, want + 5, 37 * sizeof *want);
    ck_assert_lf_ok(dut_be->mem_zero(dut_priv, b + 101, 50 * sizeof *b));
    memset(want + 101, 0, 50 * sizeof *want);
    const float part[3] = { 7, 8, 9 };
    ck_assert_lf_ok(dut_be->mem_upload(dut_priv, b + 997, part, sizeof part));
    memcpy(want + 997, part, sizeof part);
    ck_assert_lf_ok(dut_be->mem_download(dut_priv, got, b, sizeof got));
    int i = 0;
    while (i < N && memcmp(&got[i], &want[i], sizeof *got) == 0)
        i++;
    ck_assert_msg(i == N, "memory [%d]: %g, expected %g", i, i < N ? got[i] : 0.0f,
                  i < N ? want[i] : 0.0f);
    ck_assert_lf_ok(dut_be->mem_download(dut_priv, got, b + 997, sizeof part));
    ck_assert(memcmp(got, part, sizeof part) == 0);
    /* empty transfers are fine; freeing NULL is a no-op */
    ck_assert_lf_ok(dut_be->mem_upload(dut_priv, a, want, 0));
    ck_assert_lf_ok(dut_be->mem_download(dut_priv, got, a, 0));
    ck_assert_lf_ok(dut_be->mem_copy(dut_priv, b, a, 0));
    ck_assert_lf_ok(dut_be->mem_zero(dut_priv, a, 0));
    dut_be->mem_free(dut_priv, NULL);
    ck_assert_lf_ok(dut_be->synchronize(dut_priv));
}
END_TEST

/* ---- dense algebra ---- */

/* One gemm with row strides 3 wider than the rows (the gaps must survive); beta 0 puts NaN in
 * C, which must not be read. */
static void gemm_case(lf__rng *r, int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                      float beta)
{
    CASE("trans %d%d, %lldx%lldx%lld, alpha %g, beta %g", ta, tb, (long long)m, (long long)n,
         (long long)k, alpha, beta);
    const int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 3, ldc = n + 3;
    const size_t nc = (size_t)(m * ldc);
    pair a = frand(r, (size_t)((ta ? k : m) * lda), -1, 1);
    pair b = frand(r, (size_t)((tb ? n : k) * ldb), -1, 1);
    float *c0 = beta == 0.0f ? host_fill(nc, NAN) : host_random(r, nc, -1, 1);
    unsigned char *in = host_buf(nc ? nc : 1);
    for (size_t e = 0; e < nc; e++) {
        in[e] = (int64_t)e % ldc < n;
        if (!in[e])
            c0[e] = -77.0f;
    }
    pair c = pair_init(c0, nc * sizeof *c0);
    BOTH(gemm, ta, tb, m, n, k, alpha, F(a), lda, F(b), ldb, beta, F(c), ldc);
    expect_in("gemm", c, NORM, in);
}

START_TEST(gemm_all_transposes)
{
    lf__rng r;
    lf__rng_init(&r, 100 + (uint64_t)_i, 0);
    const int ta = _i & 1, tb = (_i >> 1) & 1;
    static const int64_t sizes[][3] = { { 150, 200, 120 }, { 1, 1, 1 }, { 7, 5, 3 }, { 33, 17, 65 },
                                        { 3, 4, 0 }, { 0, 5, 3 }, { 5, 0, 3 }, { 1, 257, 9 },
                                        { 64, 1, 128 } };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        gemm_case(&r, ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], 1.0f, 0.0f);
        gemm_case(&r, ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], -0.5f, 2.0f);
    }
}
END_TEST

/* count × group products; side: a group's C side by side in the same rows (attention's
 * heads), else separate blocks. Operands lie 5 floats past the previous one's extent; the
 * gaps of C must survive. */
static void gemm_batched_case(lf__rng *r, int ta, int tb, int64_t m, int64_t n, int64_t k,
                              int64_t count, int64_t group, int side, float alpha, float beta)
{
    CASE("trans %d%d, %lldx%lldx%lld, %lld x %lld products%s, alpha %g, beta %g", ta, tb,
         (long long)m, (long long)n, (long long)k, (long long)count, (long long)group,
         side ? " side by side" : "", alpha, beta);
    const int64_t lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 1;
    const int64_t ldc = side ? group * (n + 2) + 1 : n + 3;
    const int64_t ga = (ta ? k : m) * lda + 5, gb = (tb ? n : k) * ldb + 5;
    const int64_t gc = side ? n + 2 : m * ldc + 5;
    const int64_t sa = group * ga, sb = group * gb, sc = side ? m * ldc + 5 : group * gc;
    const lf__gemm_batch g = { .count = count, .group = group, .stride_a = sa, .stride_b = sb,
                               .stride_c = sc, .group_stride_a = ga, .group_stride_b = gb,
                               .group_stride_c = gc };
    const size_t nc = (size_t)(count * sc);
    pair a = frand(r, (size_t)(count * sa), -1, 1), b = frand(r, (size_t)(count * sb), -1, 1);
    float *c0 = beta == 0.0f ? host_fill(nc, NAN) : host_random(r, nc, -1, 1);
    unsigned char *in = host_buf(nc);
    memset(in, 0, nc);
    for (int64_t i = 0; i < count; i++)
        for (int64_t j = 0; j < group; j++)
            for (int64_t row = 0; row < m; row++)
                memset(in + i * sc + j * gc + row * ldc, 1, (size_t)n);
    for (size_t e = 0; e < nc; e++)
        if (!in[e])
            c0[e] = -77.0f;
    pair c = pair_init(c0, nc * sizeof *c0);
    BOTH(gemm_batched, ta, tb, m, n, k, alpha, F(a), lda, F(b), ldb, beta, F(c), ldc, &g);
    expect_in("gemm_batched", c, NORM, in);
}

START_TEST(gemm_batched_all_transposes)
{
    lf__rng r;
    lf__rng_init(&r, 200 + (uint64_t)_i, 0);
    const int ta = _i & 1, tb = (_i >> 1) & 1;
    static const int64_t shapes[][6] = {   /* m, n, k, count, group, side by side */
        { 10, 10, 16, 30, 4, 0 }, { 10, 16, 10, 30, 4, 1 }, { 1, 1, 1, 3, 1, 0 },
        { 5, 7, 3, 1, 1, 0 }, { 13, 70, 131, 2, 2, 0 }, { 33, 17, 65, 3, 3, 1 }
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int pass = 0; pass < 2; pass++)
            gemm_batched_case(&r, ta, tb, shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3],
                              shapes[i][4], (int)shapes[i][5], pass ? -1.5f : 0.25f,
                              pass ? 0.5f : 0.0f);
    /* A and B shared by every product (stride 0); k == 0: C = beta·C */
    pair a = frand(&r, 64, -1, 1), b = frand(&r, 64, -1, 1), c = frand(&r, 64, -1, 1);
    lf__gemm_batch g = { .count = 5, .group = 1, .stride_c = 12 };
    CASE("shared operands, trans %d%d", ta, tb);
    BOTH(gemm_batched, ta, tb, 3, 2, 4, 1.0f, F(a), ta ? 3 : 4, F(b), tb ? 4 : 2, 0.0f, F(c), 2, &g);
    expect("gemm_batched", c, NORM);
    g = (lf__gemm_batch){ .count = 2, .group = 2, .stride_c = 12, .group_stride_c = 6 };
    CASE("k = 0, trans %d%d", ta, tb);
    BOTH(gemm_batched, ta, tb, 2, 3, 0, 1.0f, F(a), ta ? 2 : 1, F(b), tb ? 1 : 3, 0.5f, F(c), 3, &g);
    expect("gemm_batched", c, NORM);
}
END_TEST

START_TEST(bias_and_axpby)
{
    lf__rng r;
    lf__rng_init(&r, 300, 0);
    const int64_t rows = 37, cols = 301;
    const size_t n = (size_t)(rows * cols);
    CASE("%lld x %lld", (long long)rows, (long long)cols);
    pair y = frand(&r, n, -2, 2), bias = frand(&r, (size_t)cols, -1, 1);
    BOTH(bias_add_fwd, F(y), F(bias), rows, cols);
    expect("bias_add_fwd", y, ELEM);
    pair dy = from_ref(y), db = frand(&r, (size_t)cols, -1, 1);   /* accumulates */
    BOTH(bias_bwd, F(db), F(dy), rows, cols);
    expect("bias_bwd", db, NORM);

    pair x = frand(&r, n, -3, 3);
    BOTH(axpby, F(y), 0.3f, F(x), -1.25f, (int64_t)n);
    expect("axpby", y, ELEM);
    pair z = fnan(n);
    CASE("b = 0, y NaN");
    BOTH(axpby, F(z), 2.0f, F(x), 0.0f, (int64_t)n);
    expect("axpby", z, ELEM);
}
END_TEST

/* ---- element-wise ---- */

START_TEST(elementwise)
{
    lf__rng r;
    lf__rng_init(&r, 400, 0);
    const int64_t n = 3, ch = 4, sp = 49, total = n * ch * sp;
    const size_t nz = (size_t)total;
    pair x = frand(&r, nz, -2, 2), y = fnan(nz);
    CASE("n %lld", (long long)total);
    BOTH(relu_fwd, F(y), F(x), total);
    expect("relu_fwd", y, BITS);
    pair y2 = from_ref(x);
    CASE("in place");
    BOTH(relu_fwd, F(y2), F(y2), total);
    expect("relu_fwd", y2, BITS);

    pair dy = frand(&r, nz, -1, 1), dx = fnan(nz), yr = from_ref(y);
    CASE("n %lld", (long long)total);
    BOTH(relu_bwd, F(dx), F(dy), F(yr), total);
    expect("relu_bwd", dx, BITS);
    pair dx2 = from_ref(dy);
    CASE("in place");
    BOTH(relu_bwd, F(dx2), F(dx2), F(yr), total);
    expect("relu_bwd", dx2, BITS);

    /* the statistics are host arrays */
    const float *mean = host_random(&r, (size_t)ch, 0, 1), *inv_std = host_random(&r, (size_t)ch, 0.5, 4);
    pair nrm = fnan(nz);
    CASE("%lld x %lld x %lld", (long long)n, (long long)ch, (long long)sp);
    BOTH(normalize_fwd, F(nrm), F(x), mean, inv_std, n, ch, sp);
    expect("normalize_fwd", nrm, ELEM);
    pair nrm2 = from_ref(x);
    CASE("in place");
    BOTH(normalize_fwd, F(nrm2), F(nrm2), mean, inv_std, n, ch, sp);
    expect("normalize_fwd", nrm2, ELEM);

    const size_t nm = 4099;   /* odd: vector tails */
    uint8_t *mask = host_buf(nm);
    for (size_t i = 0; i < nm; i++)
        mask[i] = (uint8_t)(lf__rng_below(&r, 3) == 0 ? 0 : 1 + lf__rng_below(&r, 255));
    pair mk = pair_init(mask, nm), w = frand(&r, nm, -1, 1);
    CASE("n %zu", nm);
    BOTH(apply_mask, F(w), U8(mk), (int64_t)nm);
    expect("apply_mask", w, BITS);
}
END_TEST

/* ---- losses ---- */

START_TEST(losses)
{
    lf__rng r;
    lf__rng_init(&r, 500, 0);
    static const int64_t shapes[][2] = { { 64, 10 }, { 7, 1 }, { 5, 333 }, { 1, 2 } };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int64_t n = shapes[s][0], classes = shapes[s][1];
        const size_t total = (size_t)(n * classes);
        CASE("%lld rows of %lld classes", (long long)n, (long long)classes);
        pair logits = frand(&r, total, -8, 8), labels = labels_rand(&r, (size_t)n, classes);
        pair loss = fnan((size_t)n), probs = fnan(total);
        BOTH(softmax_xent_fwd, F(loss), F(probs), F(logits), I32(labels), n, classes);
        expect("softmax_xent_fwd loss", loss, NORM);   /* logsumexp − logit cancels */
        expect("softmax_xent_fwd probs", probs, ELEM);
        pair loss2 = fnan((size_t)n);
        CASE("%lld rows of %lld classes, probs NULL", (long long)n, (long long)classes);
        BOTH(softmax_xent_fwd, F(loss2), NULL, F(logits), I32(labels), n, classes);
        expect("softmax_xent_fwd loss", loss2, NORM);

        /* per-sample weights on the host, negative ones (gradient ascent) included */
        const float *weight = host_random(&r, (size_t)n, -0.1, 0.1);
        pair p = from_ref(probs), dl = fnan(total);
        CASE("%lld rows of %lld classes", (long long)n, (long long)classes);
        BOTH(softmax_xent_bwd, F(dl), F(p), I32(labels), weight, n, classes);
        expect("softmax_xent_bwd", dl, ELEM);

        pair sm = fnan(total);
        BOTH(softmax_fwd, F(sm), F(logits), n, classes);
        expect("softmax_fwd", sm, ELEM);
        pair y = from_ref(sm), dx = frand(&r, total, -1, 1);
        CASE("%lld rows of %lld classes, dx = dy", (long long)n, (long long)classes);
        BOTH(softmax_bwd, F(dx), F(dx), F(y), n, classes);
        expect("softmax_bwd", dx, NORM);   /* y ⊙ (dy − Σ dy·y) cancels */
        pair dy = frand(&r, total, -1, 1), dx2 = fnan(total);
        CASE("%lld rows of %lld classes", (long long)n, (long long)classes);
        BOTH(softmax_bwd, F(dx2), F(dy), F(y), n, classes);
        expect("softmax_bwd", dx2, NORM);
    }
}
END_TEST

/* ---- optimizers ---- */

START_TEST(optimizers)
{
    lf__rng r;
    lf__rng_init(&r, 600, 0);
    const int64_t n = 10007;
    const size_t nz = (size_t)n;
    pair w = frand(&r, nz, -1, 1), buf = fnan(nz);   /* the first step overwrites buf */
    for (int step = 0; step < 3; step++) {
        pair g = frand(&r, nz, -1, 1);
        const float wd = step == 1 ? 0.0f : 5e-4f;
        CASE("step %d, momentum 0.9, weight decay %g", step, wd);
        BOTH(sgd_step, F(w), F(buf), F(g), n, 0.05f, 0.9f, wd, step == 0);
        expect("sgd_step w", w, ELEM);
        expect("sgd_step buf", buf, ELEM);
        CASE("step %d, momentum 0, buf NULL", step);
        BOTH(sgd_step, F(w), NULL, F(g), n, 0.1f, 0.0f, wd, 0);
        expect("sgd_step w", w, ELEM);
    }
    pair aw = frand(&r, nz, -1, 1), m = ffill(nz, 0.0f), v = ffill(nz, 0.0f);
    for (int64_t step = 1; step <= 3; step++) {
        pair g = frand(&r, nz, -1, 1);
        const float wd = step == 2 ? 0.01f : 0.0f;
        CASE("step %lld, weight decay %g", (long long)step, wd);
        BOTH(adam_step, F(aw), F(m), F(v), F(g), n, 1e-3f, 0.9, 0.999, 1e-8f, wd, step);
        expect("adam_step w", aw, ELEM);
        expect("adam_step m", m, ELEM);
        expect("adam_step v", v, ELEM);
    }
}
END_TEST

/* ---- reductions (results on the host) ---- */

START_TEST(reductions)
{
    lf__rng r;
    lf__rng_init(&r, 700, 0);
    static const int64_t lengths[] = { 0, 1, 4099, 100003 };
    for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
        const int64_t n = lengths[l];
        CASE("n %lld", (long long)n);
        float *h = host_random(&r, (size_t)n, -3, 3);
        for (int64_t i = 0; i + 1 < n; i += 97)   /* NaN, ±inf: only count_nonfinite sees these */
            h[i] = i % 3 == 0 ? NAN : i % 3 == 1 ? INFINITY : -INFINITY;
        pair x = pair_init(h, (size_t)n * sizeof *h);
        int64_t nf[2] = { -1, -2 };
        BOTH(count_nonfinite, &nf[SIDE], F(x), n);
        ck_assert_msg(nf[1] == nf[0], "count_nonfinite (%s): %s %lld, reference %lld", tc_case,
                      dut_be->name, (long long)nf[1], (long long)nf[0]);

        pair fin = frand(&r, (size_t)n, -3, 3);
        double ss[2] = { -1, -2 };
        BOTH(sum_squares, &ss[SIDE], F(fin), n);
        ck_assert_msg(fabs(ss[1] - ss[0]) <= RTOL * ss[0], "sum_squares (%s): %s %.9g, reference %.9g",
                      tc_case, dut_be->name, ss[1], ss[0]);
    }
    /* logits rounded to integers: ties in most rows; the first maximum wins */
    static const int64_t shapes[][2] = { { 585, 7 }, { 1000, 10 }, { 3, 1 } };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int64_t rows = shapes[s][0], classes = shapes[s][1];
        float *h = host_random(&r, (size_t)(rows * classes), -2, 2);
        for (int64_t i = 0; i < rows * classes; i++)
            h[i] = roundf(h[i]);
        pair logits = pair_init(h, (size_t)(rows * classes) * sizeof *h);
        pair labels = labels_rand(&r, (size_t)rows, classes);
        int64_t cc[2] = { -1, -2 };
        CASE("%lld rows of %lld classes, ties", (long long)rows, (long long)classes);
        BOTH(count_correct, &cc[SIDE], F(logits), I32(labels), rows, classes);
        ck_assert_msg(cc[1] == cc[0], "count_correct (%s): %s %lld, reference %lld", tc_case,
                      dut_be->name, (long long)cc[1], (long long)cc[0]);
        ck_assert(classes == 1 || (cc[0] > 0 && cc[0] < rows));   /* the case shows something */
    }
}
END_TEST

/* ---- the counter-based random numbers: the same stream on every backend, bit for bit ---- */

START_TEST(random_fills)
{
    static const uint64_t offsets[] = { 0, 3, 5, (1ull << 36) + 2 };
    static const int64_t lengths[] = { 1, 7, 1001, 65539 };
    for (size_t o = 0; o < sizeof offsets / sizeof offsets[0]; o++)
        for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
            const int64_t n = lengths[l];
            CASE("offset %llu, n %lld", (unsigned long long)offsets[o], (long long)n);
            pair u = fnan((size_t)n), z = fnan((size_t)n);
            BOTH(rng_uniform, F(u), n, 42, LF__STREAM_INIT, offsets[o], -0.1f, 0.1f);
            expect("rng_uniform", u, BITS);
            BOTH(rng_normal, F(z), n, 42, LF__STREAM_NOISE, offsets[o], 0.5f, 0.02f);
            expect("rng_normal", z, BITS);
        }
}
END_TEST

START_TEST(dropout_bitwise)
{
    lf__rng r;
    lf__rng_init(&r, 800, 0);
    const int64_t n = 65539;
    pair x = frand(&r, (size_t)n, -2, 2);
    static const float rates[] = { 0.0f, 0.2f, 0.5f, 1.0f };
    static const uint64_t offsets[] = { 0, 3, (1ull << 36) + 2, (1ull << 40) - 7 };
    static const int64_t lengths[] = { 1, 7, 4099, 65539 };
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
        for (size_t j = 0; j < sizeof offsets / sizeof offsets[0]; j++)
            for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
                CASE("p %g, offset %llu, n %lld", rates[i], (unsigned long long)offsets[j],
                     (long long)lengths[k]);
                pair y = fnan((size_t)lengths[k]);
                BOTH(dropout, F(y), F(x), lengths[k], rates[i], 77, LF__STREAM_DROPOUT, offsets[j]);
                expect("dropout", y, BITS);
            }
    pair y = from_ref(x);
    CASE("in place");
    BOTH(dropout, F(y), F(y), n, 0.3f, 9, LF__STREAM_DROPOUT, 11);
    expect("dropout", y, BITS);
}
END_TEST

/* ---- convolutions ---- */

static lf__conv2d_shape conv_shape(const int64_t *c)
{
    lf__conv2d_shape s = { .n = c[0], .c_in = c[1], .h_in = c[2], .w_in = c[3], .c_out = c[4],
                           .kh = c[5], .kw = c[6], .stride = c[7], .pad = c[8] };
    s.h_out = (s.h_in + 2 * s.pad - s.kh) / s.stride + 1;
    s.w_out = (s.w_in + 2 * s.pad - s.kw) / s.stride + 1;
    return s;
}

/* n, c_in, h, w, c_out, kh, kw, stride, pad, bias */
static const int64_t conv_cases[][10] = {
    { 1, 1, 7, 5, 4, 3, 3, 1, 1, 1 },     /* c_in 1, odd 7×5, batch 1 */
    { 4, 3, 7, 5, 8, 3, 3, 2, 1, 0 },     /* stride 2 */
    { 4, 3, 8, 8, 5, 1, 1, 1, 0, 1 },     /* 1×1 */
    { 1, 3, 9, 6, 16, 3, 3, 2, 0, 1 },    /* stride 2, pad 0, rows left over */
    { 2, 16, 14, 14, 32, 3, 3, 1, 1, 1 }, /* the convnet's second layer, smaller */
    { 3, 5, 11, 13, 6, 5, 5, 2, 2, 1 },   /* 5×5 */
    { 3, 8, 6, 6, 4, 2, 2, 2, 0, 0 },     /* even kernel */
    { 2, 3, 7, 9, 4, 1, 3, 1, 1, 1 },     /* kh ≠ kw, pad ≥ kh */
    { 2, 8, 8, 8, 16, 1, 1, 2, 0, 0 },    /* a resnet shortcut: 1×1 stride 2 */
};

/* Forward, backward data and backward weights, twice on fresh inputs; dw and dbias start
 * nonzero and accumulate over both rounds. */
START_TEST(conv2d_all_passes)
{
    const int64_t *cs = conv_cases[_i];
    const lf__conv2d_shape s = conv_shape(cs);
    const int with_bias = (int)cs[9];
    const size_t nx = (size_t)(s.n * s.c_in * s.h_in * s.w_in), nw = (size_t)(s.c_out * s.c_in * s.kh * s.kw),
                 ny = (size_t)(s.n * s.c_out * s.h_out * s.w_out), nb = (size_t)s.c_out;
    lf__rng r;
    lf__rng_init(&r, 900 + (uint64_t)_i, 0);
    pair dw = frand(&r, nw, -1, 1), db = with_bias ? frand(&r, nb, -1, 1) : NONE;
    for (int round = 0; round < 2; round++) {
        CASE("%lldx%lldx%lldx%lld, %lld out, kernel %lldx%lld, stride %lld, pad %lld, bias %d, "
             "round %d", (long long)s.n, (long long)s.c_in, (long long)s.h_in, (long long)s.w_in,
             (long long)s.c_out, (long long)s.kh, (long long)s.kw, (long long)s.stride,
             (long long)s.pad, with_bias, round);
        pair x = frand(&r, nx, -1, 1), w = frand(&r, nw, -0.5, 0.5);
        pair b = with_bias ? frand(&r, nb, -1, 1) : NONE;
        pair y = fnan(ny);
        BOTH(conv2d_fwd, F(y), F(x), F(w), F(b), &s);
        expect("conv2d_fwd", y, NORM);
        pair dy = frand(&r, ny, -1, 1), dx = fnan(nx);
        BOTH(conv2d_bwd_data, F(dx), F(dy), F(w), &s);
        expect("conv2d_bwd_data", dx, NORM);
        BOTH(conv2d_bwd_weights, F(dw), F(db), F(dy), F(x), &s);
        expect("conv2d_bwd_weights dw", dw, NORM);
        if (with_bias)
            expect("conv2d_bwd_weights dbias", db, NORM);
    }
}
END_TEST

/* Inference forwards (s.inference = 1) may take a faster algorithm (the cpu backend's Winograd
 * for 3×3 stride 1, which oneDNN has for channel counts of 16 and up): still within NORM of the
 * reference. Every conv_cases shape, then resnet18's 3×3 stride-1 shapes at small batches. */
static const int64_t infer_cases[][10] = {
    { 4, 64, 28, 28, 64, 3, 3, 1, 1, 0 },   /* resnet18 layer1 */
    { 4, 128, 14, 14, 128, 3, 3, 1, 1, 0 }, /* layer2 */
    { 4, 256, 7, 7, 256, 3, 3, 1, 1, 0 },   /* layer3: 7×7, tiles overhang */
    { 4, 512, 4, 4, 512, 3, 3, 1, 1, 0 },   /* layer4 */
    { 8, 32, 14, 14, 64, 3, 3, 1, 1, 1 },   /* the convnet's conv2, with a bias */
};
#define N_CONV_CASES  (sizeof conv_cases / sizeof conv_cases[0])
#define N_INFER_CASES (sizeof infer_cases / sizeof infer_cases[0])

START_TEST(conv2d_fwd_inference)
{
    const int64_t *cs = _i < (int)N_CONV_CASES ? conv_cases[_i] : infer_cases[_i - N_CONV_CASES];
    lf__conv2d_shape s = conv_shape(cs);
    s.inference = 1;
    const int with_bias = (int)cs[9];
    const size_t nx = (size_t)(s.n * s.c_in * s.h_in * s.w_in), nw = (size_t)(s.c_out * s.c_in * s.kh * s.kw),
                 ny = (size_t)(s.n * s.c_out * s.h_out * s.w_out), nb = (size_t)s.c_out;
    lf__rng r;
    lf__rng_init(&r, 950 + (uint64_t)_i, 0);
    CASE("inference, %lldx%lldx%lldx%lld, %lld out, kernel %lldx%lld, stride %lld, pad %lld, "
         "bias %d", (long long)s.n, (long long)s.c_in, (long long)s.h_in, (long long)s.w_in,
         (long long)s.c_out, (long long)s.kh, (long long)s.kw, (long long)s.stride,
         (long long)s.pad, with_bias);
    /* kaiming-scaled weights, as a trained network's: activations of order 1 in and out */
    const double wb = sqrt(6.0 / (double)(s.c_in * s.kh * s.kw));
    pair x = frand(&r, nx, -1, 1), w = frand(&r, nw, -wb, wb);
    pair b = with_bias ? frand(&r, nb, -1, 1) : NONE;
    pair y = fnan(ny);
    BOTH(conv2d_fwd, F(y), F(x), F(w), F(b), &s);
    expect("conv2d_fwd (inference)", y, NORM);
}
END_TEST

/* ---- batch norm, plain and fused with the ReLU after it ---- */

/* n, c, s: BatchNorm2d planes, BatchNorm1d (s = 1), batch 1 */
static const int64_t bn_cases[][3] = { { 4, 3, 35 }, { 1, 5, 49 }, { 16, 7, 1 }, { 2, 64, 64 },
                                       { 128, 4, 1 }, { 8, 32, 100 } };

START_TEST(batchnorm_all_passes)
{
    const int64_t n = bn_cases[_i][0], c = bn_cases[_i][1], sp = bn_cases[_i][2];
    const size_t total = (size_t)(n * c * sp), nc = (size_t)c;
    const float momentum = 0.1f, eps = 1e-5f;
    lf__rng r;
    lf__rng_init(&r, 1000 + (uint64_t)_i, 0);
    pair x = frand(&r, total, 2, 5);   /* an offset mean, as after a ReLU */
    pair gamma = frand(&r, nc, 0.5, 2), beta = frand(&r, nc, -1, 1);
    pair rm = frand(&r, nc, -1, 1), rv = frand(&r, nc, 0.5, 2);
    pair y = fnan(total), mean = fnan(nc), invstd = fnan(nc);
    for (int round = 0; round < 2; round++) {   /* running statistics move twice */
        CASE("%lld x %lld x %lld, round %d", (long long)n, (long long)c, (long long)sp, round);
        BOTH(batchnorm_fwd_train, F(y), F(mean), F(invstd), F(rm), F(rv), F(x), F(gamma), F(beta),
             n, c, sp, momentum, eps);
        expect("batchnorm_fwd_train y", y, NORM);
        expect("batchnorm_fwd_train save_mean", mean, NORM);
        expect("batchnorm_fwd_train save_invstd", invstd, NORM);
        expect("batchnorm_fwd_train running_mean", rm, NORM);
        expect("batchnorm_fwd_train running_var", rv, NORM);
    }
    CASE("%lld x %lld x %lld, running stats NULL", (long long)n, (long long)c, (long long)sp);
    pair y2 = fnan(total), mean2 = fnan(nc), invstd2 = fnan(nc);
    BOTH(batchnorm_fwd_train, F(y2), F(mean2), F(invstd2), NULL, NULL, F(x), F(gamma), F(beta),
         n, c, sp, momentum, eps);
    expect("batchnorm_fwd_train y", y2, NORM);
    expect("batchnorm_fwd_train save_mean", mean2, NORM);
    expect("batchnorm_fwd_train save_invstd", invstd2, NORM);

    CASE("%lld x %lld x %lld", (long long)n, (long long)c, (long long)sp);
    pair rm_in = from_ref(rm), rv_in = from_ref(rv), e = fnan(total);
    BOTH(batchnorm_fwd_eval, F(e), F(x), F(gamma), F(beta), F(rm_in), F(rv_in), n, c, sp, eps);
    expect("batchnorm_fwd_eval y", e, NORM);

    /* backward from the reference's saved statistics, so both see the same inputs */
    pair sm = from_ref(mean), si = from_ref(invstd);
    pair dy = frand(&r, total, -1, 1), dx = fnan(total);
    pair dg = frand(&r, nc, -1, 1), dbt = frand(&r, nc, -1, 1);   /* accumulate */
    BOTH(batchnorm_bwd, F(dx), F(dg), F(dbt), F(dy), F(x), F(gamma), F(sm), F(si), n, c, sp);
    expect("batchnorm_bwd dx", dx, NORM);
    expect("batchnorm_bwd dgamma", dg, NORM);
    expect("batchnorm_bwd dbeta", dbt, NORM);

    CASE("%lld x %lld x %lld, dx = dy", (long long)n, (long long)c, (long long)sp);
    pair dxe = from_ref(dy);
    BOTH(batchnorm_bwd_eval, F(dxe), F(dg), F(dbt), F(dxe), F(x), F(gamma), F(rm_in), F(rv_in),
         n, c, sp, eps);
    expect("batchnorm_bwd_eval dx", dxe, NORM);
    expect("batchnorm_bwd_eval dgamma", dg, NORM);
    expect("batchnorm_bwd_eval dbeta", dbt, NORM);
}
END_TEST

START_TEST(batchnorm_relu_all_passes)
{
    const int64_t n = bn_cases[_i][0], c = bn_cases[_i][1], sp = bn_cases[_i][2];
    const size_t total = (size_t)(n * c * sp), nc = (size_t)c;
    const float momentum = 0.1f, eps = 1e-5f;
    lf__rng r;
    lf__rng_init(&r, 1100 + (uint64_t)_i, 0);
    pair x = frand(&r, total, 2, 5);
    pair gamma = frand(&r, nc, 0.5, 2), beta = frand(&r, nc, -1, 1);
    pair rm = frand(&r, nc, -1, 1), rv = frand(&r, nc, 0.5, 2);
    pair y = fnan(total), mean = fnan(nc), invstd = fnan(nc);
    CASE("%lld x %lld x %lld", (long long)n, (long long)c, (long long)sp);
    BOTH(batchnorm_relu_fwd_train, F(y), F(mean), F(invstd), F(rm), F(rv), F(x), F(gamma), F(beta),
         n, c, sp, momentum, eps);
    expect("batchnorm_relu_fwd_train y", y, NORM);
    expect("batchnorm_relu_fwd_train save_mean", mean, NORM);
    expect("batchnorm_relu_fwd_train save_invstd", invstd, NORM);
    expect("batchnorm_relu_fwd_train running_mean", rm, NORM);
    expect("batchnorm_relu_fwd_train running_var", rv, NORM);
    size_t zeros = 0;   /* the ReLU must have cut something, or the case shows nothing */
    for (size_t i = 0; i < total; i++)
        zeros += ((float *)y.ref)[i] == 0.0f;
    ck_assert(total < 64 || (zeros > total / 10 && zeros < total - total / 10));
    CASE("%lld x %lld x %lld, running stats NULL", (long long)n, (long long)c, (long long)sp);
    pair y2 = fnan(total);
    BOTH(batchnorm_relu_fwd_train, F(y2), F(mean), F(invstd), NULL, NULL, F(x), F(gamma), F(beta),
         n, c, sp, momentum, eps);
    expect("batchnorm_relu_fwd_train y", y2, NORM);

    CASE("%lld x %lld x %lld", (long long)n, (long long)c, (long long)sp);
    pair rm_in = from_ref(rm), rv_in = from_ref(rv), e = fnan(total);
    BOTH(batchnorm_relu_fwd_eval, F(e), F(x), F(gamma), F(beta), F(rm_in), F(rv_in), n, c, sp, eps);
    expect("batchnorm_relu_fwd_eval y", e, NORM);

    /* backward from the reference's forward, in place (dx = dy) */
    CASE("%lld x %lld x %lld, dx = dy", (long long)n, (long long)c, (long long)sp);
    pair yr = from_ref(y), sm = from_ref(mean), si = from_ref(invstd);
    pair dx = frand(&r, total, -1, 1);
    pair dg = frand(&r, nc, -1, 1), dbt = frand(&r, nc, -1, 1);
    BOTH(batchnorm_relu_bwd, F(dx), F(dg), F(dbt), F(dx), F(yr), F(x), F(gamma), F(sm), F(si),
         n, c, sp);
    expect("batchnorm_relu_bwd dx", dx, NORM);
    expect("batchnorm_relu_bwd dgamma", dg, NORM);
    expect("batchnorm_relu_bwd dbeta", dbt, NORM);
}
END_TEST

/* ---- pooling ---- */

/* n, c, h, w, k */
static const int64_t pool_cases[][5] = { { 2, 3, 8, 8, 2 }, { 1, 1, 7, 5, 2 }, { 4, 3, 9, 9, 3 },
                                         { 2, 2, 6, 7, 1 }, { 3, 4, 28, 28, 2 }, { 2, 2, 17, 16, 16 },
                                         /* rows of 7 and 5 outputs: a last group of four that
                                          * overlaps the one before */
                                         { 2, 3, 14, 14, 2 }, { 1, 2, 4, 11, 2 } };

/* Inputs rounded to a few levels, so most windows hold ties: the backward shows which element
 * the forward picked, and it must be the reference's (the first maximum). The index workspace
 * is each backend's own. */
START_TEST(maxpool2d_all_passes)
{
    const int64_t n = pool_cases[_i][0], c = pool_cases[_i][1], h = pool_cases[_i][2],
                  w = pool_cases[_i][3], k = pool_cases[_i][4];
    const size_t nx = (size_t)(n * c * h * w), ny = (size_t)(n * c * (h / k) * (w / k));
    lf__rng r;
    lf__rng_init(&r, 1200 + (uint64_t)_i, 0);
    CASE("%lld x %lld x %lld x %lld, k %lld", (long long)n, (long long)c, (long long)h,
         (long long)w, (long long)k);
    float *xh = host_random(&r, nx, -2, 2);
    for (size_t i = 0; i < nx; i++)
        xh[i] = roundf(xh[i]);
    pair x = pair_init(xh, nx * sizeof *xh), idx = ffill(ny, 0.0f);   /* int32 */
    pair y = fnan(ny);
    BOTH(maxpool2d_fwd, F(y), I32(idx), F(x), n, c, h, w, k);
    expect("maxpool2d_fwd", y, BITS);
    pair dy = frand(&r, ny, -1, 1), dx = fnan(nx);
    BOTH(maxpool2d_bwd, F(dx), F(dy), I32(idx), n, c, h, w, k);
    expect("maxpool2d_bwd", dx, BITS);
    CASE("%lld x %lld x %lld x %lld, k %lld, idx NULL (eval)", (long long)n, (long long)c,
         (long long)h, (long long)w, (long long)k);
    pair e = fnan(ny);
    BOTH(maxpool2d_fwd, F(e), NULL, F(x), n, c, h, w, k);
    expect("maxpool2d_fwd", e, BITS);
}
END_TEST

/* The inference fusion against the reference, and on each backend against that backend's own
 * composition of batchnorm_relu_fwd_eval and maxpool2d_fwd, bit for bit (the op's contract).
 * The op is optional: a backend without it gets the composition from core, so only the
 * reference's is checked then. */
START_TEST(batchnorm_relu_maxpool_eval)
{
    const int64_t n = pool_cases[_i][0], c = pool_cases[_i][1], h = pool_cases[_i][2],
                  w = pool_cases[_i][3], k = pool_cases[_i][4];
    const size_t nx = (size_t)(n * c * h * w), ny = (size_t)(n * c * (h / k) * (w / k));
    const float eps = 1e-5f;
    lf__rng r;
    lf__rng_init(&r, 1300 + (uint64_t)_i, 0);
    CASE("%lld x %lld x %lld x %lld, k %lld", (long long)n, (long long)c, (long long)h,
         (long long)w, (long long)k);
    pair x = frand(&r, nx, -3, 1);
    pair gamma = frand(&r, (size_t)c, 0.5, 2), beta = frand(&r, (size_t)c, -1, 1);
    pair rm = frand(&r, (size_t)c, -1, 1), rv = frand(&r, (size_t)c, 0.5, 2);
    pair a = fnan(nx), composed = fnan(ny), fused = fnan(ny);
    BOTH(batchnorm_relu_fwd_eval, F(a), F(x), F(gamma), F(beta), F(rm), F(rv), n, c, h * w, eps);
    BOTH(maxpool2d_fwd, F(composed), NULL, F(a), n, c, h, w, k);
    ck_assert_lf_ok(ref_be->batchnorm_relu_maxpool_fwd_eval(ref_priv, fused.ref, x.ref, gamma.ref,
                                                            beta.ref, rm.ref, rv.ref, n, c, h, w,
                                                            k, eps));
    ck_assert_msg(memcmp(fused.ref, composed.ref, ny * sizeof(float)) == 0,
                  "reference: the fused op differs from its composition (%s)", tc_case);
    size_t zeros = 0;   /* the ReLU must have cut whole small windows, or the case shows little */
    for (size_t i = 0; i < ny; i++)
        zeros += ((float *)fused.ref)[i] == 0.0f;
    ck_assert_msg(zeros < ny && (k > 2 || zeros > 0), "%zu of %zu outputs are 0", zeros, ny);
    if (!dut_be->batchnorm_relu_maxpool_fwd_eval)
        return;   /* core composes the two ops there: they are checked above */
    BOTH(batchnorm_relu_maxpool_fwd_eval, F(fused), F(x), F(gamma), F(beta), F(rm), F(rv), n, c,
         h, w, k, eps);
    expect("batchnorm_relu_maxpool_fwd_eval", fused, NORM);
    ck_assert_msg(memcmp(download(fused), download(composed), ny * sizeof(float)) == 0,
                  "%s: the fused op differs from its composition (%s)", dut_be->name, tc_case);
}
END_TEST

START_TEST(avgpool_global)
{
    lf__rng r;
    lf__rng_init(&r, 1300, 0);
    static const int64_t shapes[][3] = { { 8, 512, 4 }, { 3, 7, 49 }, { 1, 1, 1 }, { 2, 3, 1031 } };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int64_t n = shapes[i][0], c = shapes[i][1], s = shapes[i][2];
        CASE("%lld x %lld x %lld", (long long)n, (long long)c, (long long)s);
        pair x = frand(&r, (size_t)(n * c * s), -2, 2), y = fnan((size_t)(n * c));
        BOTH(avgpool_global_fwd, F(y), F(x), n, c, s);
        expect("avgpool_global_fwd", y, NORM);
        pair dy = frand(&r, (size_t)(n * c), -1, 1), dx = fnan((size_t)(n * c * s));
        BOTH(avgpool_global_bwd, F(dx), F(dy), n, c, s);
        expect("avgpool_global_bwd", dx, ELEM);
    }
}
END_TEST

/* ---- the attacker network: layer norm, GELU, transpose ---- */

START_TEST(attacker_ops)
{
    lf__rng r;
    lf__rng_init(&r, 1400, 0);
    static const int64_t shapes[][2] = { { 37, 64 }, { 1031, 64 }, { 5, 1 }, { 3, 700 } };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int64_t rows = shapes[i][0], cols = shapes[i][1], n = rows * cols;
        const size_t nz = (size_t)n;
        CASE("%lld x %lld", (long long)rows, (long long)cols);
        pair x = frand(&r, nz, -3, 3), g = frand(&r, (size_t)cols, 0.5, 1.5);
        pair b = frand(&r, (size_t)cols, -0.5, 0.5);
        pair y = fnan(nz), mean = fnan((size_t)rows), invstd = fnan((size_t)rows);
        BOTH(layernorm_fwd, F(y), F(mean), F(invstd), F(x), F(g), F(b), rows, cols, 1e-5f);
        expect("layernorm_fwd y", y, NORM);
        expect("layernorm_fwd save_mean", mean, NORM);
        expect("layernorm_fwd save_invstd", invstd, NORM);
        /* backward from the reference's statistics; dx aliasing dy */
        pair sm = from_ref(mean), si = from_ref(invstd);
        pair dx = frand(&r, nz, -1, 1), dg = frand(&r, (size_t)cols, -1, 1);
        pair db = frand(&r, (size_t)cols, -1, 1);
        CASE("%lld x %lld, dx = dy", (long long)rows, (long long)cols);
        BOTH(layernorm_bwd, F(dx), F(dg), F(db), F(dx), F(x), F(g), F(sm), F(si), rows, cols);
        expect("layernorm_bwd dx", dx, NORM);
        expect("layernorm_bwd dgamma", dg, NORM);
        expect("layernorm_bwd dbeta", db, NORM);
        pair dy = frand(&r, nz, -1, 1), dx2 = fnan(nz);
        CASE("%lld x %lld", (long long)rows, (long long)cols);
        BOTH(layernorm_bwd, F(dx2), F(dg), F(db), F(dy), F(x), F(g), F(sm), F(si), rows, cols);
        expect("layernorm_bwd dx", dx2, NORM);

        pair gy = fnan(nz), gdx = fnan(nz);
        BOTH(gelu_fwd, F(gy), F(x), n);
        expect("gelu_fwd", gy, ELEM);
        BOTH(gelu_bwd, F(gdx), F(dy), F(x), n);
        expect("gelu_bwd", gdx, ELEM);
        pair gy2 = from_ref(x), gdx2 = from_ref(dy);
        CASE("%lld x %lld, in place", (long long)rows, (long long)cols);
        BOTH(gelu_fwd, F(gy2), F(gy2), n);
        expect("gelu_fwd", gy2, ELEM);
        BOTH(gelu_bwd, F(gdx2), F(gdx2), F(x), n);
        expect("gelu_bwd", gdx2, ELEM);

        /* batches of rows/2 × cols matrices, and the same data as one matrix */
        const int64_t half = rows / 2 > 0 ? rows / 2 : 1, batch = rows / half;
        CASE("%lld x %lld x %lld", (long long)batch, (long long)half, (long long)cols);
        pair t = fnan((size_t)(batch * half * cols)), t1 = fnan(nz);
        BOTH(transpose, F(t), F(x), batch, half, cols);
        expect("transpose", t, BITS);
        CASE("1 x %lld x %lld", (long long)rows, (long long)cols);
        BOTH(transpose, F(t1), F(x), 1, rows, cols);
        expect("transpose", t1, BITS);
    }
}
END_TEST

/* ---- bad arguments: the reference's status, outputs untouched ---- */

START_TEST(bad_arguments)
{
    lf__rng r;
    lf__rng_init(&r, 1500, 0);
    const int64_t n = 16, classes = 5;
    pair logits = frand(&r, (size_t)(n * classes), -3, 3), x = frand(&r, 64, -1, 1);
    int32_t *lab = host_buf((size_t)n * sizeof *lab);
    for (int64_t i = 0; i < n; i++)
        lab[i] = (int32_t)(i % classes);
    pair loss = fnan((size_t)n), probs = fnan((size_t)(n * classes)), out = fnan(64);
    const float weight[16] = { 0.0625f };
    static const int32_t bad_labels[] = { 5, -1, INT32_MAX };
    for (size_t b = 0; b < sizeof bad_labels / sizeof bad_labels[0]; b++) {
        lab[n - 1] = bad_labels[b];   /* the last row: checked before anything is written */
        pair labels = pair_init(lab, (size_t)n * sizeof *lab);
        CASE("label %d in the last row", bad_labels[b]);
        BOTH_FAIL(softmax_xent_fwd, F(loss), F(probs), F(logits), I32(labels), n, classes);
        expect_untouched("softmax_xent_fwd loss", loss);
        expect_untouched("softmax_xent_fwd probs", probs);
        BOTH_FAIL(softmax_xent_bwd, F(probs), F(logits), I32(labels), weight, n, classes);
        expect_untouched("softmax_xent_bwd", probs);
        int64_t cc[2] = { -7, -7 };
        BOTH_FAIL(count_correct, &cc[SIDE], F(logits), I32(labels), n, classes);
        ck_assert_msg(cc[0] == -7 && cc[1] == -7, "count_correct (%s) wrote its result", tc_case);
    }

    CASE("negative sizes");
    BOTH_FAIL(gemm, 0, 0, -2, 2, 3, 1.0f, F(x), 3, F(x), 2, 0.0f, F(out), 2);
    BOTH_FAIL(relu_fwd, F(out), F(x), -1);
    BOTH_FAIL(axpby, F(out), 1.0f, F(x), 1.0f, -4);
    BOTH_FAIL(softmax_fwd, F(out), F(x), -1, 4);
    BOTH_FAIL(batchnorm_fwd_eval, F(out), F(x), F(x), F(x), F(x), F(x), 2, -1, 4, 1e-5f);
    BOTH_FAIL(layernorm_fwd, F(out), F(probs), F(loss), F(x), F(x), F(x), -2, 4, 1e-5f);
    BOTH_FAIL(rng_uniform, F(out), -1, 1, 1, 0, 0.0f, 1.0f);
    BOTH_FAIL(transpose, F(out), F(x), 2, -4, 4);
    double ss[2] = { -7, -7 };
    BOTH_FAIL(sum_squares, &ss[SIDE], F(x), -3);
    ck_assert(ss[0] == -7 && ss[1] == -7);
    expect_untouched("negative sizes: out", out);

    CASE("NULL pointers");
    BOTH_FAIL(relu_fwd, F(out), NULL, 4);
    BOTH_FAIL(relu_bwd, F(out), F(x), NULL, 4);
    BOTH_FAIL(axpby, F(out), 1.0f, NULL, 1.0f, 4);
    BOTH_FAIL(sgd_step, F(out), NULL, F(x), 4, 0.1f, 0.9f, 0.0f, 0);   /* momentum needs buf */
    BOTH_FAIL(apply_mask, F(out), NULL, 4);
    BOTH_FAIL(gelu_fwd, F(out), NULL, 4);
    BOTH_FAIL(gemm_batched, 0, 0, 2, 2, 2, 1.0f, F(x), 2, F(x), 2, 0.0f, F(out), 2, NULL);
    expect_untouched("NULL pointers: out", out);
    CASE("empty, NULL pointers");   /* nothing to do: fine */
    BOTH(relu_fwd, NULL, NULL, 0);
    BOTH(sgd_step, NULL, NULL, NULL, 0, 0.1f, 0.9f, 0.0f, 1);

    CASE("bad shapes");
    BOTH_FAIL(gemm, 0, 0, 2, 2, 3, 1.0f, F(x), 2, F(x), 2, 0.0f, F(out), 2);   /* lda < k */
    int64_t cs[10] = { 2, 3, 4, 4, 2, 3, 3, 1, 1, 0 };
    lf__conv2d_shape s = conv_shape(cs);
    s.h_out = 3;   /* should be 4 */
    pair big = frand(&r, 2 * 3 * 4 * 4, -1, 1), y = fnan(2 * 2 * 4 * 4), dw = ffill(2 * 3 * 9, 1.0f);
    BOTH_FAIL(conv2d_fwd, F(y), F(big), F(big), NULL, &s);
    BOTH_FAIL(conv2d_bwd_data, F(big), F(y), F(big), &s);
    BOTH_FAIL(conv2d_bwd_weights, F(dw), NULL, F(y), F(big), &s);
    s = conv_shape(cs);
    BOTH_FAIL(conv2d_fwd, F(y), F(big), NULL, NULL, &s);
    s.inference = 2;   /* a flag: 0 or 1 */
    BOTH_FAIL(conv2d_fwd, F(y), F(big), F(dw), NULL, &s);
    expect_untouched("conv2d_fwd", y);
    expect_untouched("conv2d_bwd_weights", dw);
    /* one value per channel has no batch variance */
    BOTH_FAIL(batchnorm_fwd_train, F(out), F(loss), F(loss), NULL, NULL, F(x), F(x), F(x), 1, 3, 1,
              0.1f, 1e-5f);
    BOTH_FAIL(batchnorm_relu_fwd_train, F(out), F(loss), F(loss), NULL, NULL, F(x), F(x), F(x), 1,
              3, 1, 0.1f, 1e-5f);
    expect_untouched("batchnorm_fwd_train save_mean", loss);
    BOTH_FAIL(maxpool2d_fwd, F(out), NULL, F(x), 1, 1, 2, 2, 3);   /* window larger than input */
    if (dut_be->batchnorm_relu_maxpool_fwd_eval) {
        BOTH_FAIL(batchnorm_relu_maxpool_fwd_eval, F(out), F(x), F(x), F(x), F(x), F(x), 1, 1, 2, 2,
                  3, 1e-5f);
        BOTH_FAIL(batchnorm_relu_maxpool_fwd_eval, F(out), F(x), NULL, F(x), F(x), F(x), 1, 1, 2,
                  2, 2, 1e-5f);   /* no gamma */
    }
    BOTH_FAIL(avgpool_global_fwd, F(out), F(x), 2, 2, 0);
    BOTH_FAIL(layernorm_fwd, F(out), F(probs), F(loss), F(x), F(x), F(x), 2, 0, 1e-5f);
    BOTH_FAIL(dropout, F(out), F(x), 8, 1.5f, 9, 5, 0);
    BOTH_FAIL(dropout, F(out), F(x), 8, 0.5f, 9, 5, UINT64_MAX - 3);   /* the counter overflows */
    BOTH_FAIL(transpose, F(x), F(x), 1, 4, 4);   /* y may not be x */
    expect_untouched("bad shapes: out", out);
    const lf__gemm_batch overlap = { .count = 2, .group = 2, .stride_c = 3, .group_stride_c = 2 };
    BOTH_FAIL(gemm_batched, 0, 0, 2, 2, 2, 1.0f, F(x), 2, F(x), 2, 0.0f, F(out), 2, &overlap);
    /* no failed call wrote anything, inputs passed as outputs included */
    const pair all[] = { logits, x, loss, probs, out, big, y, dw };
    CASE("after all the failed calls");
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        expect_untouched("bad arguments", all[i]);
}
END_TEST

static Suite *device_suite(void)
{
    Suite *s = suite_create("device_ops");
    TCase *tc = tcase_create("backend_vs_reference");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, table_and_memory);
    tcase_add_loop_test(tc, gemm_all_transposes, 0, 4);   /* loop index = transposes */
    tcase_add_loop_test(tc, gemm_batched_all_transposes, 0, 4);
    tcase_add_test(tc, bias_and_axpby);
    tcase_add_test(tc, elementwise);
    tcase_add_test(tc, losses);
    tcase_add_test(tc, optimizers);
    tcase_add_test(tc, reductions);
    tcase_add_test(tc, random_fills);
    tcase_add_test(tc, dropout_bitwise);
    tcase_add_loop_test(tc, conv2d_all_passes, 0, (int)N_CONV_CASES);
    tcase_add_loop_test(tc, conv2d_fwd_inference, 0, (int)(N_CONV_CASES + N_INFER_CASES));
    tcase_add_loop_test(tc, batchnorm_all_passes, 0, (int)(sizeof bn_cases / sizeof bn_cases[0]));
    tcase_add_loop_test(tc, batchnorm_relu_all_passes, 0, (int)(sizeof bn_cases / sizeof bn_cases[0]));
    tcase_add_loop_test(tc, maxpool2d_all_passes, 0, (int)(sizeof pool_cases / sizeof pool_cases[0]));
    tcase_add_loop_test(tc, batchnorm_relu_maxpool_eval, 0,
                        (int)(sizeof pool_cases / sizeof pool_cases[0]));
    tcase_add_test(tc, avgpool_global);
    tcase_add_test(tc, attacker_ops);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    int rc = lf_test_backend_arg(argc, argv, &dut_kind);
    if (rc)
        return rc;
    dut_be = lf__backend_find(dut_kind);
    return lf_test_run(device_suite());
}
