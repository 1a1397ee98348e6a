/* The codec's Confluent schema ids: pinned (configured onto a stream's
 * reader schema), added (a writer schema, resolved per stream on first
 * use) or missing (known not to exist). Looked up per message in an
 * open-addressing hash; the added and missing ids are bounded, least
 * recently used first out; pinned ids stay. */
#ifndef CSM_SCHEMA_IDS_H
#define CSM_SCHEMA_IDS_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

typedef enum id_kind { ID_PINNED, ID_ADDED, ID_MISSING } id_kind;

struct decoder;

typedef struct id_entry {
    int32_t id;
    id_kind kind;
    csm_stream stream;    /* pinned: the stream whose schema it is */
    avro_schema_t writer; /* added: NULL when the text was no record schema */
    char why[256];        /* added without writer, missing: why */
    uint64_t used;        /* added, missing: when a message last named it */
    struct {
        int resolved;
        csm_schema_verdict verdict;
        struct decoder *dec; /* compatible: bound to the writer schema */
    } per[2];                /* by stream */
} id_entry;

typedef struct id_table {
    id_entry **slots; /* open addressing, linear probing; NULL: empty */
    size_t cap;       /* a power of two, or 0 */
    size_t count;
    size_t learned; /* added and missing ones */
    size_t max;     /* most learned ones kept */
    uint64_t tick;
    void (*release)(id_entry *); /* frees an entry the table lets go */
} id_table;

void id_table_init(id_table *t, size_t max, void (*release)(id_entry *));
void id_table_free(id_table *t);

static inline id_entry *id_table_find(const id_table *t, int32_t id)
{
    if (!t->cap)
        return NULL;
    for (size_t i = ((uint32_t)id * 2654435761u) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        id_entry *e = t->slots[i];
        if (!e || e->id == id)
            return e;
    }
}

/* Puts @p e (allocated by the caller), releasing the entry of the same id
 * and, beyond max learned ones, the least recently used learned one.
 * 0, or -1 (out of memory: e released). */
int id_table_put(id_table *t, id_entry *e);
/* Lowers or raises the bound (at least 1), releasing the excess. */
void id_table_set_max(id_table *t, size_t max);
/* A message named @p e. */
static inline void id_table_touch(id_table *t, id_entry *e)
{
    e->used = ++t->tick;
}
/* The ids, ascending, into ids (up to cap); returns how many there are. */
size_t id_table_ids(const id_table *t, int32_t *ids, size_t cap);

#endif
