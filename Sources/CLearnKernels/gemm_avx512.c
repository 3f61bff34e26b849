// The AVX-512F path: the AVX2 path's tiles twice as wide in k (gemmNT: 4 rows of x by 4 rows of w,
// sixteen sums in 16-lane registers) and in columns (gemmAccumulate: 4 rows by 32 columns), with
// lane masks instead of a separate tail loop.
#include "gemm_paths.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>

#define AVX512 __attribute__((target("avx512f,avx2,fma")))
#define AVX512_INLINE __attribute__((target("avx512f,avx2,fma"), always_inline)) static inline
/// Rows of w per block in gemmNT (see gemm_avx2.c).
#define NT_BLOCK_ROWS 16

/// Lanes 0..<count set, count in 0...16.
AVX512_INLINE __mmask16 laneMask(size_t count) { return (__mmask16)((1u << count) - 1u); }

/// The eight lanes of v's halves added.
AVX512_INLINE __m256 fold(__m512 v) {
    return _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

/// The lane sums of a, b, c and d, in that order.
AVX512_INLINE __m128 sum4(__m512 a, __m512 b, __m512 c, __m512 d) {
    __m256 abcd = _mm256_hadd_ps(_mm256_hadd_ps(fold(a), fold(b)), _mm256_hadd_ps(fold(c), fold(d)));
    return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

/// x · w over k floats, for the rows and columns left outside whole tiles.
AVX512_INLINE float dot(const float *x, const float *w, size_t k, __mmask16 tail) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= k; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(w + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(w + i + 16), s1);
    }
    for (; i + 16 <= k; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(w + i), s0);
    if (i < k) s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, x + i), _mm512_maskz_loadu_ps(tail, w + i), s1);
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

/// y[r..r+3][c..c+3] for the 4 x 4 tile at x rows from x0 and w rows from w0 (both stride k).
AVX512_INLINE void tile4x4(const float *x0, const float *w0, size_t k, size_t kv, __mmask16 tail,
                           const float *bias, float *y0, size_t m) {
    __m512 acc[4][4];
    for (int r = 0; r < 4; r++) for (int c = 0; c < 4; c++) acc[r][c] = _mm512_setzero_ps();
    size_t i = 0;
    for (; i < kv; i += 16) {
        __m512 v[4];
        for (int c = 0; c < 4; c++) v[c] = _mm512_loadu_ps(w0 + c * k + i);
        for (int r = 0; r < 4; r++) {
            const __m512 u = _mm512_loadu_ps(x0 + r * k + i);
            for (int c = 0; c < 4; c++) acc[r][c] = _mm512_fmadd_ps(u, v[c], acc[r][c]);
        }
    }
    if (i < k) {
        __m512 v[4];
        for (int c = 0; c < 4; c++) v[c] = _mm512_maskz_loadu_ps(tail, w0 + c * k + i);
        for (int r = 0; r < 4; r++) {
            const __m512 u = _mm512_maskz_loadu_ps(tail, x0 + r * k + i);
            for (int c = 0; c < 4; c++) acc[r][c] = _mm512_fmadd_ps(u, v[c], acc[r][c]);
        }
    }
    const __m128 b = bias ? _mm_loadu_ps(bias) : _mm_setzero_ps();
    for (int r = 0; r < 4; r++) _mm_storeu_ps(y0 + r * m, _mm_add_ps(sum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]), b));
}

AVX512 void CLearnKernels_gemmNTAVX512(const float *x, size_t n, size_t k, const float *w, size_t m, const float *bias, float *y) {
    const size_t kv = k & ~(size_t)15;
    const __mmask16 tail = laneMask(k - kv);
    for (size_t c0 = 0; c0 < m; c0 += NT_BLOCK_ROWS) {
        const size_t c1 = c0 + NT_BLOCK_ROWS < m ? c0 + NT_BLOCK_ROWS : m;
        size_t r = 0;
        for (; r + 4 <= n; r += 4) {
            size_t c = c0;
            for (; c + 4 <= c1; c += 4) tile4x4(x + r * k, w + c * k, k, kv, tail, bias ? bias + c : 0, y + r * m + c, m);
            for (; c < c1; c++)
                for (size_t t = r; t < r + 4; t++) y[t * m + c] = dot(x + t * k, w + c * k, k, tail) + (bias ? bias[c] : 0.0f);
        }
        for (; r < n; r++)
            for (size_t c = c0; c < c1; c++) y[r * m + c] = dot(x + r * k, w + c * k, k, tail) + (bias ? bias[c] : 0.0f);
    }
}

/// c[0..<rows][0..<32] += a[0..<rows][0..<k] * b[0..<k][0..<32], lanes limited by m0, m1
/// (all set for whole tiles). `rows` is a constant at every call, so the sums stay in registers.
AVX512_INLINE void accumulateTile(const float *a, size_t rs, size_t cs, int rows, size_t k, const float *b, size_t m,
                                  float *c, __mmask16 m0, __mmask16 m1) {
    __m512 acc[4][2];
    for (int t = 0; t < rows; t++) {
        acc[t][0] = _mm512_maskz_loadu_ps(m0, c + t * m);
        acc[t][1] = _mm512_maskz_loadu_ps(m1, c + t * m + 16);
    }
    for (size_t p = 0; p < k; p++) {
        const float *bp = b + p * m;
        const __m512 b0 = _mm512_maskz_loadu_ps(m0, bp), b1 = _mm512_maskz_loadu_ps(m1, bp + 16);
        for (int t = 0; t < rows; t++) {
            const __m512 s = _mm512_set1_ps(a[t * rs + p * cs]);
            acc[t][0] = _mm512_fmadd_ps(s, b0, acc[t][0]);
            acc[t][1] = _mm512_fmadd_ps(s, b1, acc[t][1]);
        }
    }
    for (int t = 0; t < rows; t++) {
        _mm512_mask_storeu_ps(c + t * m, m0, acc[t][0]);
        _mm512_mask_storeu_ps(c + t * m + 16, m1, acc[t][1]);
    }
}

/// One band of `rows` rows of c (4 or 1) across all of its columns.
AVX512_INLINE void accumulateBand(const float *a, size_t rs, size_t cs, int rows, size_t k, const float *b, size_t m, float *c) {
    size_t j = 0;
    for (; j + 32 <= m; j += 32) accumulateTile(a, rs, cs, rows, k, b + j, m, c + j, laneMask(16), laneMask(16));
    if (j < m) {
        const size_t left = m - j;
        accumulateTile(a, rs, cs, rows, k, b + j, m, c + j, laneMask(left < 16 ? left : 16), laneMask(left > 16 ? left - 16 : 0));
    }
}

AVX512 void CLearnKernels_gemmAccumulateAVX512(const float *a, size_t rs, size_t cs, size_t n, size_t k,
                                              const float *b, size_t m, float *c) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) accumulateBand(a + i * rs, rs, cs, 4, k, b, m, c + i * m);
    for (; i < n; i++) accumulateBand(a + i * rs, rs, cs, 1, k, b, m, c + i * m);
}

#endif
