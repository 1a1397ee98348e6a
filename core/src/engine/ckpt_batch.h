/* What one flush writes of a partition's checkpoint beside the offsets:
 * fields set or deleted in a few hashes (docs/redis-keys.md), each named
 * by a section relative to the checkpoint key: "" the checkpoint hash
 * itself, "dedup" the dedup log, "state:<plugin>" a plugin's records.
 * The engine fills it (engine_state.c); the Redis writer (ckpt_store.c)
 * and the test kit's in-memory store (ckpt_mem.c) apply it. Reset and
 * refilled at every flush, it keeps its memory. */
#ifndef CSM_CKPT_BATCH_H
#define CSM_CKPT_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"

#define CSM_CKPT_SECTION_MAX 96
#define CSM_CKPT_FIELD_MAX 24

typedef enum csm_ckpt_op_kind {
    CSM_CKPT_HSET = 0, /* field = value */
    CSM_CKPT_HDEL,     /* field removed */
    CSM_CKPT_DROP      /* the whole section removed (field unused); a batch's
                          drops apply before its sets and deletes */
} csm_ckpt_op_kind;

typedef struct csm_ckpt_op {
    uint8_t kind;
    uint16_t section; /* index in csm_ckpt_batch::sections */
    char field[CSM_CKPT_FIELD_MAX];
    size_t value, value_len; /* offset and length in csm_ckpt_batch::bytes */
} csm_ckpt_op;

typedef struct csm_ckpt_batch {
    csm_writer bytes; /* every value, back to back */
    csm_ckpt_op *ops;
    size_t n, cap;
    char (*sections)[CSM_CKPT_SECTION_MAX];
    size_t n_sections, cap_sections;
} csm_ckpt_batch;

void csm_ckpt_batch_reset(csm_ckpt_batch *b);
void csm_ckpt_batch_free(csm_ckpt_batch *b);
/* The section of plugin @p plugin's records, "state:<plugin>" (written,
 * loaded and dropped under that one name). */
void csm_ckpt_plugin_section(char out[CSM_CKPT_SECTION_MAX], const char *plugin);
/* The index of section @p name, added if new. */
uint16_t csm_ckpt_batch_section(csm_ckpt_batch *b, const char *name);
/* Sets @p field to the bytes written to b->bytes since offset @p from. */
void csm_ckpt_batch_hset_from(csm_ckpt_batch *b, uint16_t section, const char *field, size_t from);
void csm_ckpt_batch_hset(csm_ckpt_batch *b, uint16_t section, const char *field, const void *v,
                         size_t len);
void csm_ckpt_batch_hdel(csm_ckpt_batch *b, uint16_t section, const char *field);
void csm_ckpt_batch_drop(csm_ckpt_batch *b, uint16_t section);
static inline const uint8_t *csm_ckpt_op_value(const csm_ckpt_batch *b, const csm_ckpt_op *op)
{
    /* No bytes written yet: an empty value, not NULL + 0. */
    return op->value_len ? b->bytes.data + op->value : (const uint8_t *)"";
}

/* Reading a checkpoint back: scan() calls fn for every field of a
 * section (in no particular order) and returns 0, -1 when the store
 * cannot be read (err set; worth a retry), or fn's first non-zero. */
typedef int (*csm_ckpt_visit_fn)(void *arg, const char *field, size_t field_len, const void *value,
                                 size_t value_len);
typedef struct csm_ckpt_source {
    void *arg;
    int (*scan)(void *arg, const char *section, csm_ckpt_visit_fn fn, void *fn_arg, char *err,
                size_t errlen);
} csm_ckpt_source;

#endif
