#ifndef CVECTORKERNELS_H
#define CVECTORKERNELS_H
#include <stddef.h>

/// 1 when the CPU runs AVX2 and FMA, else 0 (checked once by VectorEngine at start-up).
int CVectorKernels_hasAVX2FMA(void);
/// Sum of squared differences, AVX2+FMA. Call only when CVectorKernels_hasAVX2FMA().
float CVectorKernels_l2SquaredAVX2(const float *a, const float *b, size_t n);
/// Inner product, AVX2+FMA.
float CVectorKernels_dotAVX2(const float *a, const float *b, size_t n);
/// Sum of absolute differences, AVX2.
float CVectorKernels_manhattanAVX2(const float *a, const float *b, size_t n);

/// Hints the CPU to load the cache line at `p` (the next neighbour's vector in a graph walk).
static inline void CVectorKernels_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/// Hints the CPU to load every cache line of the `bytes` bytes at `p` (a whole vector).
static inline void CVectorKernels_prefetchBytes(const void *p, size_t bytes) {
    const char *c = (const char *)p;
    for (size_t i = 0; i < bytes; i += 64) __builtin_prefetch(c + i, 0, 3);
}

#endif
