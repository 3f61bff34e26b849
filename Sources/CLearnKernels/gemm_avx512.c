// The AVX-512F path of the matrix products (gemm_body.h), 16 lanes.
#if defined(__x86_64__)
#include "gemm_paths.h"
#define LANES 16
#define PATH(name) name##AVX512
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#include "gemm_body.h"
#pragma clang attribute pop
#endif
