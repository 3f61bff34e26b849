#ifndef CLEARNKERNELS_H
#define CLEARNKERNELS_H
#include <stddef.h>

/// The instruction sets the kernels have a path for; every entry point takes one and runs that path.
/// The caller (LearnEngine's `LearnKernels`) picks the best the CPU runs, once.
typedef enum {
    /// Plain C, any CPU.
    CLearnKernels_portable = 0,
    /// AVX2 and FMA (x86-64).
    CLearnKernels_avx2 = 1,
    /// AVX-512F (x86-64).
    CLearnKernels_avx512 = 2,
} CLearnKernels_Level;

/// The best level this CPU runs (portable on anything but x86-64).
CLearnKernels_Level CLearnKernels_bestLevel(void);

/// y[n x m] = x[n x k] * w[m x k]^T + bias[m] (bias may be NULL): a linear layer's forward over n rows,
/// w in `torch.nn.Linear`'s [outputs x inputs] layout. y must not overlap x or w.
void CLearnKernels_gemmNT(CLearnKernels_Level level, const float *x, size_t n, size_t k,
                          const float *w, size_t m, const float *bias, float *y);

/// c[n x m] += a * b[k x m], where a is n x k with element (i, p) at a[i * aRowStride + p * aColumnStride]
/// (so a^T is a with the strides swapped): both products of a linear layer's backward.
/// c must not overlap a or b.
void CLearnKernels_gemmAccumulate(CLearnKernels_Level level, const float *a, size_t aRowStride, size_t aColumnStride,
                                  size_t n, size_t k, const float *b, size_t m, float *c);

/// x[i] = tanh x[i], in place.
void CLearnKernels_tanh(CLearnKernels_Level level, float *x, size_t n);

/// x = softmax(x) in place (max-shifted, so large logits do not overflow); n may be 0.
void CLearnKernels_softmax(CLearnKernels_Level level, float *x, size_t n);

/// The GRU's gates for rows of `width` (PyTorch's layout): gi and gh are [rows x 3 width] (r, z, n
/// blocks), h is [rows x width]; writes r = σ(gi_r + gh_r), z = σ(gi_z + gh_z),
/// n = tanh(gi_n + r gh_n) and out = (1 - z) n + z h, each [rows x width].
void CLearnKernels_gruGates(CLearnKernels_Level level, const float *gi, const float *gh, const float *h,
                            size_t rows, size_t width, float *r, float *z, float *n, float *out);

#endif
