#ifndef CVECTORKERNELS_H
#define CVECTORKERNELS_H
#include <stddef.h>
#include <stdint.h>

/// 1 when the CPU runs AVX2 and FMA, else 0 (checked once by VectorEngine at start-up).
int CVectorKernels_hasAVX2FMA(void);
/// Sum of squared differences, AVX2+FMA. Call only when CVectorKernels_hasAVX2FMA().
float CVectorKernels_l2SquaredAVX2(const float *a, const float *b, size_t n);
/// Inner product, AVX2+FMA.
float CVectorKernels_dotAVX2(const float *a, const float *b, size_t n);
/// Sum of absolute differences, AVX2.
float CVectorKernels_manhattanAVX2(const float *a, const float *b, size_t n);

/// 1 when the CPU converts half precision (F16C), else 0.
int CVectorKernels_hasF16C(void);
/// sum_j (q[j] - step[j] * c[j])^2 over 8-bit codes `c` (q: the query minus the code offsets). AVX2+FMA.
float CVectorKernels_l2SquaredU8AVX2(const float *q, const float *step, const uint8_t *c, size_t n);
/// sum_j w[j] * c[j] over 8-bit codes. AVX2+FMA.
float CVectorKernels_dotU8AVX2(const float *w, const uint8_t *c, size_t n);
/// sum_j w[j] * c_j over 4-bit codes, two a byte at `c`, low nibble first ((n + 1) / 2 bytes). AVX2+FMA.
float CVectorKernels_dotU4AVX2(const float *w, const uint8_t *c, size_t n);
/// sum_j (q[j] - h[j])^2 over little-endian half-precision values at `h` (2n bytes). AVX2+FMA+F16C.
float CVectorKernels_l2SquaredF16AVX2(const float *q, const uint8_t *h, size_t n);
/// sum_j q[j] * h[j] over little-endian half-precision values. AVX2+FMA+F16C.
float CVectorKernels_dotF16AVX2(const float *q, const uint8_t *h, size_t n);

/// Hints the CPU to load the cache line at `p` (the next neighbour's vector in a graph walk).
static inline void CVectorKernels_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/// Hints the CPU to load every cache line of the `bytes` bytes at `p` (a whole vector).
static inline void CVectorKernels_prefetchBytes(const void *p, size_t bytes) {
    const char *c = (const char *)p;
    for (size_t i = 0; i < bytes; i += 64) __builtin_prefetch(c + i, 0, 3);
}

/// Adds one to the counter at `p` atomically (relaxed): many searches count accesses at once.
static inline void CVectorKernels_incrementRelaxed(uint32_t *p) { __atomic_fetch_add(p, 1, __ATOMIC_RELAXED); }

/// Reads the counter at `p` and sets it to zero, atomically (relaxed).
static inline uint32_t CVectorKernels_takeRelaxed(uint32_t *p) { return __atomic_exchange_n(p, 0, __ATOMIC_RELAXED); }

#endif
