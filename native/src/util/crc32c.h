/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of cached and staged blocks: hardware
 * instructions where the CPU has them, a table otherwise.
 */
#ifndef SL_CRC32C_H
#define SL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc over n bytes; start with 0. sl_crc32c(0, "123456789", 9) == 0xE3069283. */
uint32_t sl_crc32c(uint32_t crc, const void *data, size_t n);
/* The same with the table path only, whatever the CPU (for tests: both paths must agree). */
uint32_t sl_crc32c_portable(uint32_t crc, const void *data, size_t n);


/* Composition (GF(2) arithmetic modulo the polynomial, nothing read again): the CRC of A
 * followed by B from crc_a = CRC(A), crc_b = CRC(B) and len_b = |B|. This is what Hadoop's
 * COMPOSITE-CRC file checksums are made of (the CRC of a whole file from its blocks' CRCs). */
uint32_t sl_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);
/* The CRC of n zero bytes (holes), without touching n bytes. */
uint32_t sl_crc32c_zeros(uint64_t n);

#endif
