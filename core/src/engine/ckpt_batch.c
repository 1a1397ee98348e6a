#include "ckpt_batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A batch grown by one large flush (a million sessions opened at once
 * write a million entries) is given back at the next reset after a batch
 * that used a quarter of it or less, instead of being held for ever. */
#define KEEP_BYTES ((size_t)4 << 10)
#define KEEP_OPS 64

void csm_ckpt_batch_reset(csm_ckpt_batch *b)
{
    if (b->bytes.cap > KEEP_BYTES && b->bytes.len * 4 < b->bytes.cap)
        csm_writer_free(&b->bytes);
    else
        csm_writer_reset(&b->bytes);
    if (b->cap > KEEP_OPS && b->n * 4 < b->cap) {
        free(b->ops);
        b->ops = NULL;
        b->cap = 0;
    }
    b->n = 0;
    b->n_sections = 0;
}

void csm_ckpt_batch_free(csm_ckpt_batch *b)
{
    csm_writer_free(&b->bytes);
    free(b->ops);
    free(b->sections);
    memset(b, 0, sizeof *b);
}

uint16_t csm_ckpt_batch_section(csm_ckpt_batch *b, const char *name)
{
    for (size_t i = 0; i < b->n_sections; i++)
        if (!strcmp(b->sections[i], name))
            return (uint16_t)i;
    if (b->n_sections == b->cap_sections) {
        b->cap_sections = b->cap_sections ? b->cap_sections * 2 : 8;
        b->sections = realloc(b->sections, b->cap_sections * sizeof *b->sections);
        if (!b->sections)
            abort();
    }
    snprintf(b->sections[b->n_sections], CSM_CKPT_SECTION_MAX, "%s", name);
    return (uint16_t)b->n_sections++;
}

static csm_ckpt_op *push(csm_ckpt_batch *b, csm_ckpt_op_kind kind, uint16_t section,
                         const char *field)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->ops = realloc(b->ops, b->cap * sizeof *b->ops);
        if (!b->ops)
            abort();
    }
    csm_ckpt_op *op = &b->ops[b->n++];
    *op = (csm_ckpt_op){.kind = (uint8_t)kind, .section = section};
    snprintf(op->field, sizeof op->field, "%s", field ? field : "");
    return op;
}

void csm_ckpt_batch_hset_from(csm_ckpt_batch *b, uint16_t section, const char *field, size_t from)
{
    csm_ckpt_op *op = push(b, CSM_CKPT_HSET, section, field);
    op->value = from;
    op->value_len = b->bytes.len - from;
}

void csm_ckpt_batch_hset(csm_ckpt_batch *b, uint16_t section, const char *field, const void *v,
                         size_t len)
{
    size_t from = b->bytes.len;
    if (len)
        csm_writer_put_bytes(&b->bytes, v, len);
    csm_ckpt_batch_hset_from(b, section, field, from);
}

void csm_ckpt_batch_hdel(csm_ckpt_batch *b, uint16_t section, const char *field)
{
    push(b, CSM_CKPT_HDEL, section, field);
}

void csm_ckpt_batch_drop(csm_ckpt_batch *b, uint16_t section)
{
    push(b, CSM_CKPT_DROP, section, NULL);
}

void csm_ckpt_plugin_section(char out[CSM_CKPT_SECTION_MAX], const char *plugin)
{
    snprintf(out, CSM_CKPT_SECTION_MAX, "state:%s", plugin);
}
