/* SHA-256 (FIPS 180-4), for naming files by their bytes (replay guard). */
#ifndef CSM_SHA256_H
#define CSM_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct csm_sha256 {
    uint32_t h[8];
    uint64_t bytes;
    uint8_t block[64];
    size_t used;
} csm_sha256;

void csm_sha256_init(csm_sha256 *c);
void csm_sha256_update(csm_sha256 *c, const void *data, size_t len);
/* 64 lowercase hex digits and a NUL into hex[65]. */
void csm_sha256_hex(csm_sha256 *c, char hex[65]);

#endif
