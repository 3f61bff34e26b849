// Level dispatch and the portable path. The x86-64 paths live in gemm_avx2.c and gemm_avx512.c,
// each compiled for its instruction set inside its functions only, so the binary runs on any x86-64.
#include "CLearnKernels.h"
#include "gemm_paths.h"

CLearnKernels_Level CLearnKernels_bestLevel(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return CLearnKernels_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CLearnKernels_avx2;
#endif
    return CLearnKernels_portable;
}

/// x · w over k floats in eight partial sums (independent, so the compiler vectorises them).
static float dotPortable(const float *x, const float *w, size_t k) {
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= k; i += 8)
        for (size_t j = 0; j < 8; j++) s[j] += x[i + j] * w[i + j];
    float t = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
    for (; i < k; i++) t += x[i] * w[i];
    return t;
}

static void gemmNTPortable(const float *x, size_t n, size_t k, const float *w, size_t m, const float *bias, float *y) {
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < m; c++)
            y[r * m + c] = dotPortable(x + r * k, w + c * k, k) + (bias ? bias[c] : 0.0f);
}

static void gemmAccumulatePortable(const float *a, size_t rs, size_t cs, size_t n, size_t k,
                                   const float *b, size_t m, float *c) {
    for (size_t i = 0; i < n; i++) {
        float *ci = c + i * m;
        for (size_t p = 0; p < k; p++) {
            const float s = a[i * rs + p * cs];
            if (s == 0.0f) continue;   // ReLU-like zeros and unused rows cost nothing
            const float *bp = b + p * m;
            for (size_t j = 0; j < m; j++) ci[j] += s * bp[j];
        }
    }
}

void CLearnKernels_gemmNT(CLearnKernels_Level level, const float *x, size_t n, size_t k,
                          const float *w, size_t m, const float *bias, float *y) {
#if defined(__x86_64__)
    if (level == CLearnKernels_avx512) { CLearnKernels_gemmNTAVX512(x, n, k, w, m, bias, y); return; }
    if (level == CLearnKernels_avx2) { CLearnKernels_gemmNTAVX2(x, n, k, w, m, bias, y); return; }
#endif
    gemmNTPortable(x, n, k, w, m, bias, y);
}

void CLearnKernels_gemmAccumulate(CLearnKernels_Level level, const float *a, size_t aRowStride, size_t aColumnStride,
                                  size_t n, size_t k, const float *b, size_t m, float *c) {
#if defined(__x86_64__)
    if (level == CLearnKernels_avx512) { CLearnKernels_gemmAccumulateAVX512(a, aRowStride, aColumnStride, n, k, b, m, c); return; }
    if (level == CLearnKernels_avx2) { CLearnKernels_gemmAccumulateAVX2(a, aRowStride, aColumnStride, n, k, b, m, c); return; }
#endif
    gemmAccumulatePortable(a, aRowStride, aColumnStride, n, k, b, m, c);
}
