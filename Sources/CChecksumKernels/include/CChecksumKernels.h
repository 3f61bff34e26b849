#ifndef CCHECKSUMKERNELS_H
#define CCHECKSUMKERNELS_H
#include <stddef.h>
#include <stdint.h>

/// 1 when the CPU has a CRC-32C instruction (x86-64 SSE4.2, arm64 CRC32), else 0
/// (checked once by Checksums at first use).
int CChecksumKernels_hasCRC32C(void);
/// Continues a CRC-32C register (`crc` already inverted, as the instruction expects) over
/// `count` bytes with the CPU instruction. Call only when CChecksumKernels_hasCRC32C().
uint32_t CChecksumKernels_crc32cUpdate(uint32_t crc, const void *bytes, size_t count);

#endif
