// CRC-32C with the CPU's own instruction (SSE4.2 `crc32` on x86-64, `crc32c` on arm64),
// compiled for that target only inside these functions; Checksums calls them after a CPU check
// and falls back to its table-driven Swift code otherwise.
#include "CChecksumKernels.h"
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#define CRC_TARGET __attribute__((target("sse4.2")))

int CChecksumKernels_hasCRC32C(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2");
}

CRC_TARGET static inline uint32_t step8(uint32_t crc, uint64_t word) { return (uint32_t)_mm_crc32_u64(crc, word); }
CRC_TARGET static inline uint32_t step1(uint32_t crc, unsigned char byte) { return _mm_crc32_u8(crc, byte); }

#elif defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
#include <arm_acle.h>
#define CRC_TARGET

int CChecksumKernels_hasCRC32C(void) { return 1; }

static inline uint32_t step8(uint32_t crc, uint64_t word) { return __crc32cd(crc, word); }
static inline uint32_t step1(uint32_t crc, unsigned char byte) { return __crc32cb(crc, byte); }

#endif

#if defined(CRC_TARGET)
// One stream, 8 bytes per instruction (about 8 bytes per 3 cycles: several GB/s, far above
// what the disk delivers, so interleaved streams would not pay for their folding).
CRC_TARGET uint32_t CChecksumKernels_crc32cUpdate(uint32_t crc, const void *bytes, size_t count) {
    const unsigned char *p = bytes;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        crc = step8(crc, word);
        p += 8;
        count -= 8;
    }
    while (count > 0) { crc = step1(crc, *p++); count--; }
    return crc;
}
#else
int CChecksumKernels_hasCRC32C(void) { return 0; }

uint32_t CChecksumKernels_crc32cUpdate(uint32_t crc, const void *bytes, size_t count) {
    (void)bytes; (void)count;
    return crc;
}
#endif
