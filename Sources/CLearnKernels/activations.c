// Vectorised e^x, tanh, logistic and the GRU's gate arithmetic. The math is written once, as scalar
// functions without branches (selects only), and each path is that code's loop compiled for its
// instruction set, which the compiler vectorises: 8 or 16 lanes on x86-64, SSE2 or NEON elsewhere.
// Accuracy: e^x within 2 ulp (Cody-Waite reduction, degree-6 polynomial; Cephes' expf constants),
// tanh within a few ulp (odd polynomial below |x| = 0.625, 1 - 2 / (e^2|x| + 1) above), so results
// stay within float tolerance of libm, not bit for bit.
#include "CLearnKernels.h"
#include <stdint.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

/// 2^n for an integer-valued n in [-126, 127], built from its exponent bits.
INLINE float exp2Integer(float n) {
    int32_t bits = ((int32_t)n + 127) << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/// e^x: 0 below -87.3 (where the result would leave the normal range), +inf above ln FLT_MAX, NaN for NaN.
INLINE float expApprox(float x) {
    const float high = 88.7228391f, low = -87.3f;
    const float c = x < low ? low : (x > high ? high : x);
    // n = round(x / ln 2); r = x - n ln 2 in two parts so r keeps its low bits.
    const float n = __builtin_floorf(c * 1.44269504088896341f + 0.5f);
    const float r = (c - n * 0.693359375f) - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    // Near ln FLT_MAX, n is 128: 2^128 is not a float, so scale by 2^127 and then by 2.
    const float e = p * exp2Integer(n > 127.0f ? 127.0f : n) * (n > 127.0f ? 2.0f : 1.0f);
    return x < low ? 0.0f : (x > high ? __builtin_inff() : (x != x ? x : e));
}

/// tanh x.
INLINE float tanhApprox(float x) {
    const float a = x < 0 ? -x : x;
    const float s = x * x;
    float p = -5.70498872745e-3f;
    p = p * s + 2.06390887954e-2f;
    p = p * s - 5.37397155531e-2f;
    p = p * s + 1.33314422036e-1f;
    p = p * s - 3.33332819422e-1f;
    const float small = p * s * x + x;
    const float large = 1.0f - 2.0f / (expApprox(2.0f * a) + 1.0f);
    return a < 0.625f ? small : (x < 0 ? -large : large);
}

/// 1 / (1 + e^-x), which saturates to 0 and 1 without overflow trouble (e^-x = inf gives 0).
INLINE float sigmoidApprox(float x) { return 1.0f / (1.0f + expApprox(-x)); }

/// The loops of every entry point, instantiated once per path with that path's target attribute.
#define ACTIVATION_PATH(SUFFIX, TARGET)                                                                          \
    TARGET static void tanh##SUFFIX(float *x, size_t n) {                                                       \
        for (size_t i = 0; i < n; i++) x[i] = tanhApprox(x[i]);                                                 \
    }                                                                                                           \
    TARGET static void softmax##SUFFIX(float *x, size_t n) {                                                    \
        float top = x[0];                                                                                       \
        for (size_t i = 1; i < n; i++) top = x[i] > top ? x[i] : top;                                           \
        float total = 0;                                                                                        \
        for (size_t i = 0; i < n; i++) { x[i] = expApprox(x[i] - top); total += x[i]; }                         \
        for (size_t i = 0; i < n; i++) x[i] /= total;                                                           \
    }                                                                                                           \
    TARGET static void gru##SUFFIX(const float *gi, const float *gh, const float *h, size_t rows, size_t width,  \
                                   float *r, float *z, float *nn, float *out) {                                 \
        for (size_t row = 0; row < rows; row++) {                                                               \
            const float *gir = gi + row * 3 * width, *ghr = gh + row * 3 * width;                               \
            const size_t o = row * width;                                                                       \
            for (size_t c = 0; c < width; c++) {                                                                \
                const float rc = sigmoidApprox(gir[c] + ghr[c]);                                                \
                const float zc = sigmoidApprox(gir[width + c] + ghr[width + c]);                                \
                const float nc = tanhApprox(gir[2 * width + c] + rc * ghr[2 * width + c]);                      \
                r[o + c] = rc; z[o + c] = zc; nn[o + c] = nc;                                                   \
                out[o + c] = (1.0f - zc) * nc + zc * h[o + c];                                                  \
            }                                                                                                   \
        }                                                                                                       \
    }

ACTIVATION_PATH(Portable, )
#if defined(__x86_64__)
ACTIVATION_PATH(AVX2, __attribute__((target("avx2,fma"))))
ACTIVATION_PATH(AVX512, __attribute__((target("avx512f,avx2,fma"))))
#endif

void CLearnKernels_tanh(CLearnKernels_Level level, float *x, size_t n) {
#if defined(__x86_64__)
    if (level == CLearnKernels_avx512) { tanhAVX512(x, n); return; }
    if (level == CLearnKernels_avx2) { tanhAVX2(x, n); return; }
#endif
    tanhPortable(x, n);
}

void CLearnKernels_softmax(CLearnKernels_Level level, float *x, size_t n) {
    if (n == 0) return;
#if defined(__x86_64__)
    if (level == CLearnKernels_avx512) { softmaxAVX512(x, n); return; }
    if (level == CLearnKernels_avx2) { softmaxAVX2(x, n); return; }
#endif
    softmaxPortable(x, n);
}

void CLearnKernels_gruGates(CLearnKernels_Level level, const float *gi, const float *gh, const float *h,
                            size_t rows, size_t width, float *r, float *z, float *n, float *out) {
#if defined(__x86_64__)
    if (level == CLearnKernels_avx512) { gruAVX512(gi, gh, h, rows, width, r, z, n, out); return; }
    if (level == CLearnKernels_avx2) { gruAVX2(gi, gh, h, rows, width, r, z, n, out); return; }
#endif
    gruPortable(gi, gh, h, rows, width, r, z, n, out);
}
