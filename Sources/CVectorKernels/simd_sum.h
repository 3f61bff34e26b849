// Private to CVectorKernels' C files (not part of the module's public header).
#ifndef CVECTORKERNELS_SIMD_SUM_H
#define CVECTORKERNELS_SIMD_SUM_H
#if defined(__x86_64__)
#include <immintrin.h>

/// The sum of the eight lanes of `v`.
__attribute__((target("avx2,fma"))) static inline float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    __m128 sh = _mm_movehdup_ps(lo);
    __m128 s = _mm_add_ps(lo, sh);
    sh = _mm_movehl_ps(sh, s);
    s = _mm_add_ss(s, sh);
    return _mm_cvtss_f32(s);
}

#endif
#endif
