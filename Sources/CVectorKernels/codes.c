// Distances from a float query to compressed vectors (the codes a quantized HNSW walk reads),
// AVX2+FMA (+F16C for half precision), compiled for that target only inside these functions;
// VectorEngine calls them after a CPUID check and otherwise decodes in Swift.
#include "CVectorKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include "simd_sum.h"

int CVectorKernels_hasF16C(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("f16c");
}

/// Eight codes at `c` as floats.
__attribute__((target("avx2,fma"))) static inline __m256 load8u8(const uint8_t *c) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)c)));
}

__attribute__((target("avx2,fma")))
float CVectorKernels_l2SquaredU8AVX2(const float *q, const float *step, const uint8_t *c, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 d0 = _mm256_fnmadd_ps(_mm256_loadu_ps(step + i), load8u8(c + i), _mm256_loadu_ps(q + i));
        __m256 d1 = _mm256_fnmadd_ps(_mm256_loadu_ps(step + i + 8), load8u8(c + i + 8), _mm256_loadu_ps(q + i + 8));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
    }
    float sum = hsum256(_mm256_add_ps(s0, s1));
    for (; i < n; i++) { float d = q[i] - step[i] * (float)c[i]; sum += d * d; }
    return sum;
}

__attribute__((target("avx2,fma")))
float CVectorKernels_dotU8AVX2(const float *w, const uint8_t *c, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), load8u8(c + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), load8u8(c + i + 8), s1);
    }
    float sum = hsum256(_mm256_add_ps(s0, s1));
    for (; i < n; i++) sum += w[i] * (float)c[i];
    return sum;
}

/// Sixteen 4-bit codes at `c` (8 bytes, low nibble first) as two vectors of eight floats.
__attribute__((target("avx2,fma"))) static inline void load16u4(const uint8_t *c, __m256 *first, __m256 *second) {
    __m128i bytes = _mm_loadl_epi64((const __m128i *)c);
    __m128i mask = _mm_set1_epi8(0x0F);
    __m128i low = _mm_and_si128(bytes, mask);
    __m128i high = _mm_and_si128(_mm_srli_epi16(bytes, 4), mask);
    __m128i ordered = _mm_unpacklo_epi8(low, high);
    *first = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(ordered));
    *second = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(ordered, 8)));
}

__attribute__((target("avx2,fma")))
float CVectorKernels_dotU4AVX2(const float *w, const uint8_t *c, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a, b;
        load16u4(c + i / 2, &a, &b);
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), a, s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), b, s1);
    }
    float sum = hsum256(_mm256_add_ps(s0, s1));
    for (; i < n; i++) sum += w[i] * (float)((c[i / 2] >> ((i & 1) * 4)) & 0x0F);
    return sum;
}

__attribute__((target("avx2,fma,f16c"))) static inline float half(const uint8_t *h, size_t i) {
    unsigned short bits = (unsigned short)(h[2 * i] | (h[2 * i + 1] << 8));
    return _cvtsh_ss(bits);
}

__attribute__((target("avx2,fma,f16c")))
float CVectorKernels_l2SquaredF16AVX2(const float *q, const uint8_t *h, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(q + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + 2 * i))));
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(q + i + 8), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + 2 * i + 16))));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
    }
    float sum = hsum256(_mm256_add_ps(s0, s1));
    for (; i < n; i++) { float d = q[i] - half(h, i); sum += d * d; }
    return sum;
}

__attribute__((target("avx2,fma,f16c")))
float CVectorKernels_dotF16AVX2(const float *q, const uint8_t *h, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + 2 * i))), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + 2 * i + 16))), s1);
    }
    float sum = hsum256(_mm256_add_ps(s0, s1));
    for (; i < n; i++) sum += q[i] * half(h, i);
    return sum;
}

#else
// Not x86-64: never selected (CVectorKernels_hasAVX2FMA is 0).
int CVectorKernels_hasF16C(void) { return 0; }
float CVectorKernels_l2SquaredU8AVX2(const float *q, const float *s, const uint8_t *c, size_t n) { (void)q; (void)s; (void)c; (void)n; return 0; }
float CVectorKernels_dotU8AVX2(const float *w, const uint8_t *c, size_t n) { (void)w; (void)c; (void)n; return 0; }
float CVectorKernels_dotU4AVX2(const float *w, const uint8_t *c, size_t n) { (void)w; (void)c; (void)n; return 0; }
float CVectorKernels_l2SquaredF16AVX2(const float *q, const uint8_t *h, size_t n) { (void)q; (void)h; (void)n; return 0; }
float CVectorKernels_dotF16AVX2(const float *q, const uint8_t *h, size_t n) { (void)q; (void)h; (void)n; return 0; }
#endif
