/* The byte encoding of checkpoints: little-endian int64s and
 * length-prefixed strings (length -1 for NULL). */
#ifndef CSM_BYTEBUF_H
#define CSM_BYTEBUF_H

#include <stddef.h>
#include <stdint.h>

#include "csmetrics/plugin.h"

struct csm_writer {
    uint8_t *data;
    size_t len, cap;
};

struct csm_reader {
    const uint8_t *data;
    size_t len, pos;
};

void csm_writer_reset(csm_writer *w);
void csm_writer_free(csm_writer *w);
void csm_writer_put_i64(csm_writer *w, int64_t v);
void csm_writer_put_str(csm_writer *w, const char *s);
void csm_writer_put_bytes(csm_writer *w, const void *p, size_t n);
/* Overwrites 8 bytes at pos (for a length known only afterwards). */
void csm_writer_patch_i64(csm_writer *w, size_t pos, int64_t v);

void csm_reader_init(csm_reader *r, const void *data, size_t len);
int csm_reader_get_i64(csm_reader *r, int64_t *v);
int csm_reader_get_str(csm_reader *r, char **s); /* malloc'd copy */
/* A string without copying: *s points into the reader's data (not
 * NUL-terminated), *n its length, *s NULL for a NULL string. */
int csm_reader_get_view(csm_reader *r, const char **s, int64_t *n);

#endif
