/* The fuzz_ckpt_load input, and its seeds' file format: a checkpoint as
 * the fields its store holds, one record after another:
 *
 *   u8 section length, section, u8 field length, field,
 *   u32 value length (little-endian), value
 *
 * Section "" is the checkpoint hash itself, the others are named as in
 * csm_ckpt_batch ("state:session", "dedup", …). Reading stops at the
 * first record cut short: any byte string is an input. */
#ifndef CSM_FUZZ_CKPT_FRAME_H
#define CSM_FUZZ_CKPT_FRAME_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ckpt_batch.h"
#include "ckpt_mem.h"

/* A name of at most @p max - 1 bytes, cut at its first NUL as the stores'
 * C strings would. */
static inline const uint8_t *ckpt_frame_name(const uint8_t *p, const uint8_t *end, char *out,
                                             size_t max)
{
    if (p >= end || (size_t)(end - p) < 1u + *p)
        return NULL;
    size_t n = *p < max - 1 ? *p : max - 1;
    memcpy(out, p + 1, n);
    out[n] = 0;
    return p + 1 + *p;
}

/* Every complete record of @p data as an HSET of @p b. */
static inline void ckpt_frame_parse(const uint8_t *data, size_t size, csm_ckpt_batch *b)
{
    const uint8_t *p = data, *end = data + size;
    char section[CSM_CKPT_SECTION_MAX], field[CSM_CKPT_FIELD_MAX];
    while ((p = ckpt_frame_name(p, end, section, sizeof section)) &&
           (p = ckpt_frame_name(p, end, field, sizeof field)) && end - p >= 4) {
        uint32_t len =
            (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        p += 4;
        if ((size_t)(end - p) < len)
            return;
        csm_ckpt_batch_hset(b, csm_ckpt_batch_section(b, section), field, p, len);
        p += len;
    }
}

static inline void ckpt_frame_put(void *arg, const char *section, size_t section_len,
                                  const char *field, const void *value, size_t value_len)
{
    FILE *f = arg;
    size_t field_len = strlen(field);
    uint8_t len[4] = {(uint8_t)value_len, (uint8_t)(value_len >> 8), (uint8_t)(value_len >> 16),
                      (uint8_t)(value_len >> 24)};
    fputc((int)section_len, f);
    fwrite(section, 1, section_len, f);
    fputc((int)field_len, f);
    fwrite(field, 1, field_len, f);
    fwrite(len, 1, sizeof len, f);
    fwrite(value, 1, value_len, f);
}

/* Writes every field of @p m to @p f; 0, or -1 on a write error. */
static inline int ckpt_frame_write(const csm_ckpt_mem *m, FILE *f)
{
    csm_ckpt_mem_each(m, ckpt_frame_put, f);
    return ferror(f) ? -1 : 0;
}

#endif
