// Private to CLearnKernels: the paths gemm.c dispatches to (same contracts as the public entry points).
#ifndef CLEARNKERNELS_GEMM_PATHS_H
#define CLEARNKERNELS_GEMM_PATHS_H
#include <stddef.h>
void CLearnKernels_gemmNTPortable(const float *x, size_t n, size_t k, const float *w, size_t m, const float *bias, float *y);
void CLearnKernels_gemmAccumulatePortable(const float *a, size_t rs, size_t cs, size_t n, size_t k,
                                          const float *b, size_t m, float *c);
#if defined(__x86_64__)
void CLearnKernels_gemmNTAVX2(const float *x, size_t n, size_t k, const float *w, size_t m, const float *bias, float *y);
void CLearnKernels_gemmAccumulateAVX2(const float *a, size_t rs, size_t cs, size_t n, size_t k,
                                      const float *b, size_t m, float *c);
void CLearnKernels_gemmNTAVX512(const float *x, size_t n, size_t k, const float *w, size_t m, const float *bias, float *y);
void CLearnKernels_gemmAccumulateAVX512(const float *a, size_t rs, size_t cs, size_t n, size_t k,
                                        const float *b, size_t m, float *c);
#endif
#endif
