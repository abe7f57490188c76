/* The cpu backend's own GEMM for small matrices: the strided batched gemm of attention (one
 * product per sequence and head, 10×10×16 for the DAU attacker) and the gemm entry's tiny
 * sizes. oneDNN's sgemm costs a few microseconds of dispatch, packing and thread-pool wake-up
 * per call, more than such a product takes; here every matrix runs on one thread and a batch
 * is spread over the context's threads.
 *
 * The kernel reads op(A) in place and op(B) too where it can, else packs it into panels as
 * wide as the register tile (zero-padded, so the tile is always full), and sums each element
 * over k in order, in float (no fused multiply-add: ISO C mode does not contract), so the
 * result depends neither on the thread count nor on the instruction set (SSE, or AVX2 where
 * the processor has it). */
#include <string.h>

#include "core/internal.h"
#include "backends/reference/ref_kernels.h"
#include "backends/cpu/cpu_ops.h"

/* Register tile: MR rows × nr columns of C, nr = 2 vectors (8 floats with SSE, 16 with AVX2,
 * NR_MAX at most); op(B) is packed KC × NC at a time (16 KiB on the stack). */
enum { MR = 4, NR_MAX = 16, KC = 64, NC = 64 };

/* bp[(j / nr)·kn·nr + p·nr + j % nr] = op(B)[p0 + p][j0 + j] for j < jn rounded up to nr,
 * 0 past jn. */
static inline void pack_b(float *bp, int64_t nr, int trans_b, const float *b, int64_t ldb,
                          int64_t p0, int64_t kn, int64_t j0, int64_t jn)
{
    for (int64_t jb = 0; jb < jn; jb += nr) {
        float *panel = bp + jb * kn;
        const int64_t cols = jn - jb < nr ? jn - jb : nr;
        if (trans_b) {   /* column j of op(B) is row j of B */
            const float *col = b + (j0 + jb) * ldb + p0;
            for (int64_t p = 0; p < kn; p++)
                for (int64_t q = 0; q < cols; q++)
                    panel[p * nr + q] = col[q * ldb + p];
        } else {
            for (int64_t p = 0; p < kn; p++) {
                const float *row = b + (p0 + p) * ldb + j0 + jb;
                for (int64_t q = 0; q < cols; q++)
                    panel[p * nr + q] = row[q];
            }
        }
        for (int64_t p = 0; p < kn && cols < nr; p++)
            for (int64_t q = cols; q < nr; q++)
                panel[p * nr + q] = 0.0f;
    }
}

/* acc[r][q] = Σ_p A(r, p)·B(p, q) over p in order, for r < MR, q < the kernel's nr;
 * A(r, p) = ar[r][p·cs], B row p = bp + p·bs. */
typedef void micro_fn(float acc[MR][NR_MAX], const float *const ar[MR], int64_t cs,
                      const float *bp, int64_t bs, int64_t kn);

#if defined(__GNUC__)
/* The tile as eight vectors (two per row): GCC and Clang keep them in registers, which plain
 * arrays (or vectors wider than the target's, lowered through the stack) do not get at -O2. */
#define MICRO_TILE(name, vec, attr)                                                         \
    attr static void name(float acc[MR][NR_MAX], const float *const ar[MR], int64_t cs,     \
                          const float *bp, int64_t bs, int64_t kn)                          \
    {                                                                                       \
        enum { VW = sizeof(vec) / sizeof(float) };                                          \
        vec c00 = { 0 }, c01 = { 0 }, c10 = { 0 }, c11 = { 0 }, c20 = { 0 }, c21 = { 0 },   \
            c30 = { 0 }, c31 = { 0 };                                                       \
        const float *a0 = ar[0], *a1 = ar[1], *a2 = ar[2], *a3 = ar[3];                     \
        for (int64_t p = 0; p < kn; p++) {                                                  \
            vec b0, b1;                                                                     \
            memcpy(&b0, bp + p * bs, sizeof b0);                                            \
            memcpy(&b1, bp + p * bs + VW, sizeof b1);                                       \
            const float x0 = a0[p * cs], x1 = a1[p * cs], x2 = a2[p * cs], x3 = a3[p * cs]; \
            c00 += x0 * b0;                                                                 \
            c01 += x0 * b1;                                                                 \
            c10 += x1 * b0;                                                                 \
            c11 += x1 * b1;                                                                 \
            c20 += x2 * b0;                                                                 \
            c21 += x2 * b1;                                                                 \
            c30 += x3 * b0;                                                                 \
            c31 += x3 * b1;                                                                 \
        }                                                                                   \
        memcpy(acc[0], &c00, sizeof c00);                                                   \
        memcpy(acc[0] + VW, &c01, sizeof c01);                                              \
        memcpy(acc[1], &c10, sizeof c10);                                                   \
        memcpy(acc[1] + VW, &c11, sizeof c11);                                              \
        memcpy(acc[2], &c20, sizeof c20);                                                   \
        memcpy(acc[2] + VW, &c21, sizeof c21);                                              \
        memcpy(acc[3], &c30, sizeof c30);                                                   \
        memcpy(acc[3] + VW, &c31, sizeof c31);                                              \
    }

typedef float vec4 __attribute__((vector_size(4 * sizeof(float))));
MICRO_TILE(micro_tile_base, vec4, )
enum { NR_BASE = 8 };
#else
static void micro_tile_base(float acc[MR][NR_MAX], const float *const ar[MR], int64_t cs,
                            const float *bp, int64_t bs, int64_t kn)
{
    enum { NR_PLAIN = 8 };
    for (int r = 0; r < MR; r++)
        for (int q = 0; q < NR_PLAIN; q++)
            acc[r][q] = 0.0f;
    for (int64_t p = 0; p < kn; p++)
        for (int r = 0; r < MR; r++)
            for (int q = 0; q < NR_PLAIN; q++)
                acc[r][q] += ar[r][p * cs] * bp[p * bs + q];
}
enum { NR_BASE = 8 };
#endif

/* C tile = alpha·acc + beta·C (C unread when beta is 0), or C += alpha·acc when accumulate
 * (a later block of k). */
static inline void store_tile(float *c, int64_t ldc, int64_t rows, int64_t cols,
                              float acc[MR][NR_MAX], float alpha, float beta, int accumulate)
{
    for (int64_t r = 0; r < rows; r++) {
        float *crow = c + r * ldc;
        const float *ar = acc[r];
        if (accumulate) {
#pragma omp simd
            for (int64_t q = 0; q < cols; q++)
                crow[q] = crow[q] + alpha * ar[q];
        } else if (beta == 0.0f) {
#pragma omp simd
            for (int64_t q = 0; q < cols; q++)
                crow[q] = alpha * ar[q];
        } else {
#pragma omp simd
            for (int64_t q = 0; q < cols; q++)
                crow[q] = alpha * ar[q] + beta * crow[q];
        }
    }
}

/* The gemm entry's arithmetic on the calling thread (arguments already checked, m, n, k > 0)
 * with the micro kernel of nr columns; always inlined, so that micro is a known function in
 * each instruction set's copy. A is read in place: row i of op(A) starts at a + i·rs, its
 * elements cs apart; a last row block shorter than MR repeats its last row (computed, not
 * stored). B is read in place too when its rows are op(B)'s and every panel is full;
 * otherwise it is packed. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void gemm_tiles(micro_fn *micro, int64_t nr, int trans_a, int trans_b, int64_t m,
                              int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                              const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
    float bp[KC * NC];
    const int64_t rs = trans_a ? 1 : lda, cs = trans_a ? lda : 1;
    for (int64_t j0 = 0; j0 < n; j0 += NC) {
        const int64_t jn = n - j0 < NC ? n - j0 : NC;
        const int in_place = !trans_b && jn % nr == 0;
        for (int64_t p0 = 0; p0 < k; p0 += KC) {
            const int64_t kn = k - p0 < KC ? k - p0 : KC;
            if (!in_place)
                pack_b(bp, nr, trans_b, b, ldb, p0, kn, j0, jn);
            for (int64_t i0 = 0; i0 < m; i0 += MR) {
                const int64_t rows = m - i0 < MR ? m - i0 : MR;
                const float *ar[MR];
                for (int r = 0; r < MR; r++)
                    ar[r] = a + (i0 + (r < rows ? r : rows - 1)) * rs + p0 * cs;
                for (int64_t jb = 0; jb < jn; jb += nr) {
                    float acc[MR][NR_MAX];
                    if (in_place)
                        micro(acc, ar, cs, b + p0 * ldb + j0 + jb, ldb, kn);
                    else
                        micro(acc, ar, cs, bp + jb * kn, nr, kn);
                    store_tile(c + i0 * ldc + j0 + jb, ldc, rows, jn - jb < nr ? jn - jb : nr,
                               acc, alpha, beta, p0 > 0);
                }
            }
        }
    }
}

#if LF__CPU_X86
/* With AVX2: 16 columns per tile, the same operations per element (no FMA: not contracted). */
typedef float vec8 __attribute__((vector_size(8 * sizeof(float))));
MICRO_TILE(micro_tile_avx2, vec8, __attribute__((target("avx2"))))

__attribute__((target("avx2"))) static void gemm_serial_avx2(int trans_a, int trans_b, int64_t m,
                                                             int64_t n, int64_t k, float alpha,
                                                             const float *a, int64_t lda,
                                                             const float *b, int64_t ldb,
                                                             float beta, float *c, int64_t ldc)
{
    gemm_tiles(micro_tile_avx2, 16, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,
               ldc);
}
#endif

static void gemm_serial(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                        const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                        float *c, int64_t ldc)
{
#if LF__CPU_X86
    if (lf__cpu_have_avx2()) {
        gemm_serial_avx2(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
#endif
    gemm_tiles(micro_tile_base, NR_BASE, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta,
               c, ldc);
}

int lf__cpu_gemm_is_small(int64_t m, int64_t n, int64_t k)
{
    /* compared as doubles: the product of three checked sizes may overflow int64 */
    return (double)m * (double)n * (double)k < (double)LF__CPU_GEMM_SMALL_MACS;
}

lf_status lf__cpu_gemm_small(void *priv, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                             float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
                             float beta, float *c, int64_t ldc)
{
    LF__TRY(lf__ref_gemm_check(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc));
    if (m == 0 || n == 0 || k == 0)   /* C = beta·C (or nothing): the reference's exact edge */
        return lf__ref_gemm(priv, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    gemm_serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return LF_OK;
}

/* Asks for the cache lines of a rows × cols matrix (rows ld apart) ahead of use: the matrices
 * of a batch are strided views (a head's slice of every token), each row on its own line, so
 * without this every product waits for its operands to come from memory. */
static void prefetch_rows(const float *p, int64_t rows, int64_t cols, int64_t ld)
{
#if defined(__GNUC__)
    enum { LINE_FLOATS = 16 };
    if (rows * cols > 64 * LINE_FLOATS)   /* large products: the hardware prefetcher's job */
        return;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < cols; j += LINE_FLOATS)
            __builtin_prefetch(p + r * ld + j);
#else
    (void)p, (void)rows, (void)cols, (void)ld;
#endif
}

lf_status lf__cpu_gemm_batched(void *priv, int trans_a, int trans_b, int64_t m, int64_t n,
                               int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                               int64_t ldb, float beta, float *c, int64_t ldc,
                               const lf__gemm_batch *batch)
{
    LF__TRY(lf__ref_gemm_batched_check(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, batch));
    const lf__gemm_batch g = *batch;
    if (g.count == 0 || g.group == 0 || m == 0 || n == 0 || k == 0)
        return lf__ref_gemm_batched(priv, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,
                                    ldc, batch);
    /* products in grid order, a group's one after another (attention: a sequence's heads, whose
     * slices share cache lines); the multiply-adds decide whether the pool is worth waking */
    const double total = (double)g.count * (double)g.group;
    const double macs = total * (double)m * (double)n * (double)k;
    const int t = lf__cpu_threads_for(priv, macs < 0x1p62 ? (int64_t)macs : INT64_MAX);
    const int64_t products = (int64_t)total;   /* representable: the offsets were checked */
    const int64_t a_rows = trans_a ? k : m, a_cols = trans_a ? m : k;
    const int64_t b_rows = trans_b ? n : k, b_cols = trans_b ? k : n;
#pragma omp parallel for num_threads(t) if (t > 1) schedule(static)
    for (int64_t p = 0; p < products; p++) {
        const int64_t i = p / g.group, j = p % g.group;
        if (p + 1 < products) {
            const int64_t ni = (p + 1) / g.group, nj = (p + 1) % g.group;
            prefetch_rows(a + ni * g.stride_a + nj * g.group_stride_a, a_rows, a_cols, lda);
            prefetch_rows(b + ni * g.stride_b + nj * g.group_stride_b, b_rows, b_cols, ldb);
        }
        gemm_serial(trans_a, trans_b, m, n, k, alpha, a + i * g.stride_a + j * g.group_stride_a,
                    lda, b + i * g.stride_b + j * g.group_stride_b, ldb, beta,
                    c + i * g.stride_c + j * g.group_stride_c, ldc);
    }
    return LF_OK;
}
