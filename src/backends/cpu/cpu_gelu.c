/* The exact (erf) GELU on the cpu backend. The reference kernel's double arithmetic, with erf
 * and exp taken four at a time from glibc's vector math library (libmvec, which -lm brings in
 * on x86-64) where the processor has AVX2: scalar erf was a quarter of an attacker training
 * step, and the vector one is about ten times faster. libmvec is accurate to an ulp or two in
 * double, so after rounding to float the results are the reference's, or one float ulp away
 * (a few in 10^4 elements). Elsewhere (no AVX2, not glibc ≥ 2.35 on x86-64, and the last
 * n mod 4 elements) the reference kernel runs. Chunks of elements go to the context's
 * threads. */
#include <math.h>

#include "core/internal.h"
#include "backends/reference/ref_kernels.h"
#include "backends/cpu/cpu_ops.h"

#if LF__CPU_X86 && defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#define HAVE_VECTOR_ERF 1
#include <immintrin.h>

/* libmvec's AVX2 variants (x86-64 vector function ABI names, glibc 2.35 for erf) */
__m256d _ZGVdN4v_erf(__m256d x);
__m256d _ZGVdN4v_exp(__m256d x);

/* The reference's y = (float)(0.5·v·(1 + erf(v/√2))) for the first n − n mod 4 elements;
 * returns how many it did. */
__attribute__((target("avx2"))) static int64_t gelu_fwd_avx2(float *y, const float *x, int64_t n)
{
    const __m256d half = _mm256_set1_pd(0.5), one = _mm256_set1_pd(1.0);
    const __m256d rsqrt2 = _mm256_set1_pd(M_SQRT1_2);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m256d v = _mm256_cvtps_pd(_mm_loadu_ps(x + i));
        const __m256d e = _ZGVdN4v_erf(_mm256_mul_pd(v, rsqrt2));
        const __m256d r = _mm256_mul_pd(_mm256_mul_pd(half, v), _mm256_add_pd(one, e));
        _mm_storeu_ps(y + i, _mm256_cvtpd_ps(r));
    }
    return i;
}

/* The reference's dx = (float)(dy·(cdf + v·pdf)), cdf = 0.5·(1 + erf(v/√2)),
 * pdf = exp(−0.5·v·v)/√(2π), likewise. */
__attribute__((target("avx2"))) static int64_t gelu_bwd_avx2(float *dx, const float *dy,
                                                             const float *x, int64_t n)
{
    const __m256d half = _mm256_set1_pd(0.5), one = _mm256_set1_pd(1.0);
    const __m256d neg_half = _mm256_set1_pd(-0.5), rsqrt2 = _mm256_set1_pd(M_SQRT1_2);
    const __m256d inv_sqrt_2pi = _mm256_set1_pd(0.5 * M_2_SQRTPI * M_SQRT1_2);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m256d v = _mm256_cvtps_pd(_mm_loadu_ps(x + i));
        const __m256d g = _mm256_cvtps_pd(_mm_loadu_ps(dy + i));
        const __m256d e = _ZGVdN4v_erf(_mm256_mul_pd(v, rsqrt2));
        const __m256d cdf = _mm256_mul_pd(half, _mm256_add_pd(one, e));
        const __m256d p = _ZGVdN4v_exp(_mm256_mul_pd(_mm256_mul_pd(neg_half, v), v));
        const __m256d pdf = _mm256_mul_pd(inv_sqrt_2pi, p);
        const __m256d r = _mm256_mul_pd(g, _mm256_add_pd(cdf, _mm256_mul_pd(v, pdf)));
        _mm_storeu_ps(dx + i, _mm256_cvtpd_ps(r));
    }
    return i;
}
#else
#define HAVE_VECTOR_ERF 0
#endif

/* One chunk on the calling thread. */
static lf_status fwd_chunk(void *priv, float *y, const float *x, int64_t n)
{
    int64_t done = 0;
#if HAVE_VECTOR_ERF
    if (lf__cpu_have_avx2())
        done = gelu_fwd_avx2(y, x, n);
#endif
    return lf__ref_gelu_fwd(priv, y + done, x + done, n - done);
}

static lf_status bwd_chunk(void *priv, float *dx, const float *dy, const float *x, int64_t n)
{
    int64_t done = 0;
#if HAVE_VECTOR_ERF
    if (lf__cpu_have_avx2())
        done = gelu_bwd_avx2(dx, dy, x, n);
#endif
    return lf__ref_gelu_bwd(priv, dx + done, dy + done, x + done, n - done);
}

lf_status lf__cpu_gelu_fwd(void *priv, float *y, const float *x, int64_t n)
{
    if (n < 1 || !y || !x)
        return lf__ref_gelu_fwd(priv, y, x, n);
    const int t = lf__cpu_threads_for(priv, n);
    if (t == 1)
        return fwd_chunk(priv, y, x, n);
    LF__CPU_PARALLEL_CHUNKS("gelu_fwd", n, fwd_chunk(priv, y + lo, x + lo, hi - lo));
}

lf_status lf__cpu_gelu_bwd(void *priv, float *dx, const float *dy, const float *x, int64_t n)
{
    if (n < 1 || !dx || !dy || !x)
        return lf__ref_gelu_bwd(priv, dx, dy, x, n);
    const int t = lf__cpu_threads_for(priv, n);
    if (t == 1)
        return bwd_chunk(priv, dx, dy, x, n);
    LF__CPU_PARALLEL_CHUNKS("gelu_bwd", n, bwd_chunk(priv, dx + lo, dy + lo, x + lo, hi - lo));
}
