// The AVX2+FMA path. gemmNT: each tile is 2 rows of x by 4 rows of w, eight dot products kept in eight
// vector sums along k (FMA's latency needs that many in flight), w taken 16 rows at a time so the block
// stays in L1 while the rows of x stream past. gemmAccumulate: 4 rows of c by 16 columns held in
// registers while k runs, one broadcast of a per row and two loads of b per step.
#include "gemm_paths.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) static inline
/// Rows of w per block in gemmNT: 16 x 384 floats is 24 KiB, inside a 32 KiB L1.
#define NT_BLOCK_ROWS 16

/// A mask with lanes 0..<count set, count in 0...8 (for maskload/maskstore at a row's end).
AVX2_INLINE __m256i laneMask(size_t count) {
    static const int32_t bits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(bits + 8 - count));
}

/// The lane sums of a, b, c and d, in that order.
AVX2_INLINE __m128 sum4(__m256 a, __m256 b, __m256 c, __m256 d) {
    __m256 abcd = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
    return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

/// x · w over k floats, for the rows and columns left outside whole tiles.
AVX2_INLINE float dot(const float *x, const float *w, size_t k, __m256i tail) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= k; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(w + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(w + i + 8), s1);
    }
    for (; i + 8 <= k; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(w + i), s0);
    if (i < k) s1 = _mm256_fmadd_ps(_mm256_maskload_ps(x + i, tail), _mm256_maskload_ps(w + i, tail), s1);
    __m256 s = _mm256_add_ps(s0, s1);
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_movehdup_ps(q)));
}

/// y[r..r+1][c..c+3] for the 2 x 4 tile at x rows x0, x1 and w rows from w0 (stride k).
AVX2_INLINE void tile2x4(const float *x0, const float *w0, size_t k, size_t kv, __m256i tail,
                         const float *bias, float *y0, size_t m) {
    const float *x1 = x0 + k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    size_t i = 0;
    for (; i < kv; i += 8) {
        __m256 v0 = _mm256_loadu_ps(w0 + i), v1 = _mm256_loadu_ps(w1 + i);
        __m256 v2 = _mm256_loadu_ps(w2 + i), v3 = _mm256_loadu_ps(w3 + i);
        __m256 u = _mm256_loadu_ps(x0 + i);
        a00 = _mm256_fmadd_ps(u, v0, a00); a01 = _mm256_fmadd_ps(u, v1, a01);
        a02 = _mm256_fmadd_ps(u, v2, a02); a03 = _mm256_fmadd_ps(u, v3, a03);
        u = _mm256_loadu_ps(x1 + i);
        a10 = _mm256_fmadd_ps(u, v0, a10); a11 = _mm256_fmadd_ps(u, v1, a11);
        a12 = _mm256_fmadd_ps(u, v2, a12); a13 = _mm256_fmadd_ps(u, v3, a13);
    }
    if (i < k) {
        __m256 v0 = _mm256_maskload_ps(w0 + i, tail), v1 = _mm256_maskload_ps(w1 + i, tail);
        __m256 v2 = _mm256_maskload_ps(w2 + i, tail), v3 = _mm256_maskload_ps(w3 + i, tail);
        __m256 u = _mm256_maskload_ps(x0 + i, tail);
        a00 = _mm256_fmadd_ps(u, v0, a00); a01 = _mm256_fmadd_ps(u, v1, a01);
        a02 = _mm256_fmadd_ps(u, v2, a02); a03 = _mm256_fmadd_ps(u, v3, a03);
        u = _mm256_maskload_ps(x1 + i, tail);
        a10 = _mm256_fmadd_ps(u, v0, a10); a11 = _mm256_fmadd_ps(u, v1, a11);
        a12 = _mm256_fmadd_ps(u, v2, a12); a13 = _mm256_fmadd_ps(u, v3, a13);
    }
    __m128 s0 = sum4(a00, a01, a02, a03), s1 = sum4(a10, a11, a12, a13);
    if (bias) {
        __m128 b = _mm_loadu_ps(bias);
        s0 = _mm_add_ps(s0, b);
        s1 = _mm_add_ps(s1, b);
    }
    _mm_storeu_ps(y0, s0);
    _mm_storeu_ps(y0 + m, s1);
}

AVX2 void CLearnKernels_gemmNTAVX2(const float *x, size_t n, size_t k, const float *w, size_t m, const float *bias, float *y) {
    const size_t kv = k & ~(size_t)7;
    const __m256i tail = laneMask(k - kv);
    for (size_t c0 = 0; c0 < m; c0 += NT_BLOCK_ROWS) {
        const size_t c1 = c0 + NT_BLOCK_ROWS < m ? c0 + NT_BLOCK_ROWS : m;
        size_t r = 0;
        for (; r + 2 <= n; r += 2) {
            size_t c = c0;
            for (; c + 4 <= c1; c += 4) tile2x4(x + r * k, w + c * k, k, kv, tail, bias ? bias + c : 0, y + r * m + c, m);
            for (; c < c1; c++) {
                const float b = bias ? bias[c] : 0.0f;
                y[r * m + c] = dot(x + r * k, w + c * k, k, tail) + b;
                y[(r + 1) * m + c] = dot(x + (r + 1) * k, w + c * k, k, tail) + b;
            }
        }
        for (; r < n; r++)
            for (size_t c = c0; c < c1; c++) y[r * m + c] = dot(x + r * k, w + c * k, k, tail) + (bias ? bias[c] : 0.0f);
    }
}

/// c[0..<rows][0..<16] += a[0..<rows][0..<k] * b[0..<k][0..<16], masked to the lanes in m0, m1 when `masked`.
/// `rows` and `masked` are constants at every call, so the loops unroll and the sums stay in registers.
AVX2_INLINE void accumulateTile(const float *a, size_t rs, size_t cs, int rows, size_t k, const float *b, size_t m,
                                float *c, __m256i m0, __m256i m1, int masked) {
    __m256 acc[4][2];
    for (int t = 0; t < rows; t++) {
        acc[t][0] = masked ? _mm256_maskload_ps(c + t * m, m0) : _mm256_loadu_ps(c + t * m);
        acc[t][1] = masked ? _mm256_maskload_ps(c + t * m + 8, m1) : _mm256_loadu_ps(c + t * m + 8);
    }
    for (size_t p = 0; p < k; p++) {
        const float *bp = b + p * m;
        const __m256 b0 = masked ? _mm256_maskload_ps(bp, m0) : _mm256_loadu_ps(bp);
        const __m256 b1 = masked ? _mm256_maskload_ps(bp + 8, m1) : _mm256_loadu_ps(bp + 8);
        for (int t = 0; t < rows; t++) {
            const __m256 s = _mm256_broadcast_ss(a + t * rs + p * cs);
            acc[t][0] = _mm256_fmadd_ps(s, b0, acc[t][0]);
            acc[t][1] = _mm256_fmadd_ps(s, b1, acc[t][1]);
        }
    }
    for (int t = 0; t < rows; t++) {
        if (masked) {
            _mm256_maskstore_ps(c + t * m, m0, acc[t][0]);
            _mm256_maskstore_ps(c + t * m + 8, m1, acc[t][1]);
        } else {
            _mm256_storeu_ps(c + t * m, acc[t][0]);
            _mm256_storeu_ps(c + t * m + 8, acc[t][1]);
        }
    }
}

/// One band of `rows` rows of c (4 or 1) across all of its columns.
AVX2_INLINE void accumulateBand(const float *a, size_t rs, size_t cs, int rows, size_t k, const float *b, size_t m, float *c) {
    const __m256i all = laneMask(8);
    size_t j = 0;
    for (; j + 16 <= m; j += 16) accumulateTile(a, rs, cs, rows, k, b + j, m, c + j, all, all, 0);
    if (j < m) {
        const size_t left = m - j;
        accumulateTile(a, rs, cs, rows, k, b + j, m, c + j, laneMask(left < 8 ? left : 8), laneMask(left > 8 ? left - 8 : 0), 1);
    }
}

AVX2 void CLearnKernels_gemmAccumulateAVX2(const float *a, size_t rs, size_t cs, size_t n, size_t k,
                                          const float *b, size_t m, float *c) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) accumulateBand(a + i * rs, rs, cs, 4, k, b, m, c + i * m);
    for (; i < n; i++) accumulateBand(a + i * rs, rs, cs, 1, k, b, m, c + i * m);
}

#endif
