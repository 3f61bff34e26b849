// The portable path of the matrix products (gemm_body.h), 4 lanes: SSE2 on x86-64, NEON on arm64.
#include "gemm_paths.h"
#define LANES 4
#define PATH(name) name##Portable
#include "gemm_body.h"
