// The AVX2+FMA path of the matrix products (gemm_body.h), 8 lanes.
#if defined(__x86_64__)
#include "gemm_paths.h"
#define LANES 8
#define PATH(name) name##AVX2
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "gemm_body.h"
#pragma clang attribute pop
#endif
