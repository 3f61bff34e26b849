// The matrix products, written once over a vector of LANES floats (clang's vector extension) and
// compiled per path: gemm_portable.c (4 lanes: SSE2, NEON), gemm_avx2.c (8) and gemm_avx512.c (16),
// each under its own target attribute. The includer defines LANES and PATH(name), which names its
// entry points. `a * b + c` contracts to one FMA where the target has it.
//
// gemmNT: each tile is TILE_ROWS rows of x by 4 rows of w, 4 * TILE_ROWS dot products kept as
// vector sums along k (FMA's latency needs that many in flight), w taken NT_BLOCK_ROWS rows at a time
// so the block stays in L1 while the rows of x stream past. gemmAccumulate: 4 rows of c by 2 vectors
// of columns held in registers while k runs: one broadcast of a per row and two loads of b per step.
#include <stddef.h>

/// Fully unrolls the loop after it (tile loops of constant trip count), so the tile's sums are
/// registers, not a stack array.
#define UNROLL _Pragma("clang loop unroll(full)")

typedef float Vec __attribute__((ext_vector_type(LANES)));
typedef float Vec4 __attribute__((ext_vector_type(4)));

/// Rows of x per gemmNT tile: 4 x 4 sums fit AVX-512's 32 registers; 2 x 4 fit 16.
#define TILE_ROWS (LANES == 16 ? 4 : 2)
/// Rows of w per block in gemmNT: 16 x 384 floats is 24 KiB, inside a 32 KiB L1.
#define NT_BLOCK_ROWS 16

static inline __attribute__((always_inline)) Vec load(const float *p) {
    Vec v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void store(float *p, Vec v) { __builtin_memcpy(p, &v, sizeof v); }

/// The 4-lane sum of v's lane groups (v's halves added until 4 lanes are left).
static inline __attribute__((always_inline)) Vec4 foldTo4(Vec v) {
#if LANES == 16
    typedef float Vec8 __attribute__((ext_vector_type(8)));
    Vec8 h = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
    return __builtin_shufflevector(h, h, 0, 1, 2, 3) + __builtin_shufflevector(h, h, 4, 5, 6, 7);
#elif LANES == 8
    return __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
#else
    return v;
#endif
}

/// The lane sums of a, b, c and d, in that order (a transpose by shuffles, then adds).
static inline __attribute__((always_inline)) Vec4 sum4(Vec a, Vec b, Vec c, Vec d) {
    const Vec4 a4 = foldTo4(a), b4 = foldTo4(b), c4 = foldTo4(c), d4 = foldTo4(d);
    const Vec4 ab = __builtin_shufflevector(a4, b4, 0, 4, 1, 5) + __builtin_shufflevector(a4, b4, 2, 6, 3, 7);
    const Vec4 cd = __builtin_shufflevector(c4, d4, 0, 4, 1, 5) + __builtin_shufflevector(c4, d4, 2, 6, 3, 7);
    return __builtin_shufflevector(ab, cd, 0, 1, 4, 5) + __builtin_shufflevector(ab, cd, 2, 3, 6, 7);
}

/// x · w over k floats, for the rows and columns left outside whole tiles.
static inline __attribute__((always_inline)) float dot(const float *x, const float *w, size_t k) {
    Vec s0 = 0, s1 = 0;
    size_t i = 0;
    for (; i + 2 * LANES <= k; i += 2 * LANES) {
        s0 = load(x + i) * load(w + i) + s0;
        s1 = load(x + i + LANES) * load(w + i + LANES) + s1;
    }
    for (; i + LANES <= k; i += LANES) s0 = load(x + i) * load(w + i) + s0;
    const Vec4 s = foldTo4(s0 + s1);
    float t = (s[0] + s[2]) + (s[1] + s[3]);
    for (; i < k; i++) t += x[i] * w[i];
    return t;
}

/// Adds the products over k's last k % LANES elements (from `from`) to a tile's sums; kept out of
/// line so the tile's own code stays a straight run of registers.
static __attribute__((noinline)) void addTail(const float *x0, const float *w0, size_t k, size_t from, float *y0, size_t m) {
    for (int r = 0; r < TILE_ROWS; r++)
        for (int c = 0; c < 4; c++) {
            float s = 0;
            for (size_t j = from; j < k; j++) s += x0[r * k + j] * w0[c * k + j];
            y0[r * m + c] += s;
        }
}

/// y rows r..r+TILE_ROWS-1, columns c..c+3, for x rows from x0 and w rows from w0 (both stride k).
static inline __attribute__((always_inline)) void tile(const float *x0, const float *w0, size_t k,
                                                       const float *bias, float *y0, size_t m) {
    Vec acc[TILE_ROWS][4];
    UNROLL for (int r = 0; r < TILE_ROWS; r++) UNROLL for (int c = 0; c < 4; c++) acc[r][c] = 0;
    size_t i = 0;
    for (; i + LANES <= k; i += LANES) {
        Vec v[4];
        UNROLL for (int c = 0; c < 4; c++) v[c] = load(w0 + c * k + i);
        UNROLL for (int r = 0; r < TILE_ROWS; r++) {
            const Vec u = load(x0 + r * k + i);
            UNROLL for (int c = 0; c < 4; c++) acc[r][c] = u * v[c] + acc[r][c];
        }
    }
    const Vec4 b = bias ? (Vec4){bias[0], bias[1], bias[2], bias[3]} : (Vec4)0;
    UNROLL for (int r = 0; r < TILE_ROWS; r++) {
        const Vec4 s = sum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]) + b;
        __builtin_memcpy(y0 + r * m, &s, sizeof s);
    }
    if (i < k) addTail(x0, w0, k, i, y0, m);
}

void PATH(CLearnKernels_gemmNT)(const float *x, size_t n, size_t k, const float *w, size_t m, const float *bias, float *y) {
    for (size_t c0 = 0; c0 < m; c0 += NT_BLOCK_ROWS) {
        const size_t c1 = c0 + NT_BLOCK_ROWS < m ? c0 + NT_BLOCK_ROWS : m;
        size_t r = 0;
        for (; r + TILE_ROWS <= n; r += TILE_ROWS) {
            size_t c = c0;
            for (; c + 4 <= c1; c += 4) tile(x + r * k, w + c * k, k, bias ? bias + c : 0, y + r * m + c, m);
            for (; c < c1; c++)
                for (size_t t = r; t < r + TILE_ROWS; t++) y[t * m + c] = dot(x + t * k, w + c * k, k) + (bias ? bias[c] : 0.0f);
        }
        for (; r < n; r++)
            for (size_t c = c0; c < c1; c++) y[r * m + c] = dot(x + r * k, w + c * k, k) + (bias ? bias[c] : 0.0f);
    }
}

/// c[0..<rows][0..<2 LANES] += a[0..<rows][0..<k] * b[0..<k][0..<2 LANES]; `rows` (4 or 1) is a
/// constant at each call, so the loops unroll and the sums stay in registers.
static inline __attribute__((always_inline)) void accumulateTile(const float *a, size_t rs, size_t cs, int rows, size_t k,
                                                                 const float *b, size_t m, float *c) {
    Vec acc[4][2];
    UNROLL for (int t = 0; t < rows; t++) { acc[t][0] = load(c + t * m); acc[t][1] = load(c + t * m + LANES); }
    for (size_t p = 0; p < k; p++) {
        const Vec b0 = load(b + p * m), b1 = load(b + p * m + LANES);
        UNROLL for (int t = 0; t < rows; t++) {
            const Vec s = a[t * rs + p * cs];
            acc[t][0] = s * b0 + acc[t][0];
            acc[t][1] = s * b1 + acc[t][1];
        }
    }
    UNROLL for (int t = 0; t < rows; t++) { store(c + t * m, acc[t][0]); store(c + t * m + LANES, acc[t][1]); }
}

/// One band of `rows` rows of c across all its columns; the last m % (2 LANES) columns one by one.
static inline __attribute__((always_inline)) void accumulateBand(const float *a, size_t rs, size_t cs, int rows, size_t k,
                                                                 const float *b, size_t m, float *c) {
    size_t j = 0;
    for (; j + 2 * LANES <= m; j += 2 * LANES) accumulateTile(a, rs, cs, rows, k, b + j, m, c + j);
    for (; j < m; j++)
        for (int t = 0; t < rows; t++) {
            float s = c[t * m + j];
            for (size_t p = 0; p < k; p++) s += a[t * rs + p * cs] * b[p * m + j];
            c[t * m + j] = s;
        }
}

void PATH(CLearnKernels_gemmAccumulate)(const float *a, size_t rs, size_t cs, size_t n, size_t k,
                                        const float *b, size_t m, float *c) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) accumulateBand(a + i * rs, rs, cs, 4, k, b, m, c + i * m);
    for (; i < n; i++) accumulateBand(a + i * rs, rs, cs, 1, k, b, m, c + i * m);
}
