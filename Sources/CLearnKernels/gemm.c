// Level dispatch. The paths are gemm_body.h compiled three times (gemm_portable.c, gemm_avx2.c,
// gemm_avx512.c); the x86-64 ones for their instruction set inside their functions only, so the
// binary runs on any x86-64.
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

void CLearnKernels_gemmNT(CLearnKernels_Level level, const float *x, size_t n, size_t k,
                          const float *w, size_t m, const float *bias, float *y) {
#if defined(__x86_64__)
    if (level == CLearnKernels_avx512) { CLearnKernels_gemmNTAVX512(x, n, k, w, m, bias, y); return; }
    if (level == CLearnKernels_avx2) { CLearnKernels_gemmNTAVX2(x, n, k, w, m, bias, y); return; }
#endif
    CLearnKernels_gemmNTPortable(x, n, k, w, m, bias, y);
}

void CLearnKernels_gemmAccumulate(CLearnKernels_Level level, const float *a, size_t aRowStride, size_t aColumnStride,
                                  size_t n, size_t k, const float *b, size_t m, float *c) {
#if defined(__x86_64__)
    if (level == CLearnKernels_avx512) { CLearnKernels_gemmAccumulateAVX512(a, aRowStride, aColumnStride, n, k, b, m, c); return; }
    if (level == CLearnKernels_avx2) { CLearnKernels_gemmAccumulateAVX2(a, aRowStride, aColumnStride, n, k, b, m, c); return; }
#endif
    CLearnKernels_gemmAccumulatePortable(a, aRowStride, aColumnStride, n, k, b, m, c);
}
