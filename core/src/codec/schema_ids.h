/* The codec's Confluent schema ids (codec.h, "writer schemas by id"):
 * pinned (configured onto a stream's reader schema), added (a writer
 * schema, resolved per stream on first use, with the decoder it takes) or
 * missing (known not to exist). Looked up per message in an
 * open-addressing hash; the added and missing ids are bounded, least
 * recently used first out; pinned ids stay. */
#ifndef CSM_SCHEMA_IDS_H
#define CSM_SCHEMA_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "schema_resolve.h"

struct decoder;
struct id_entry;

typedef struct csm_schema_ids {
    struct id_entry **slots; /* open addressing, linear probing; NULL: empty */
    size_t cap;              /* a power of two, or 0 */
    size_t count;
    size_t learned; /* added and missing ones */
    size_t max;     /* most learned ones kept */
    uint64_t tick;  /* of the last use */
    int lookup;
    int32_t needed_id;
    csm_reader_schema readers[2]; /* by stream (the codec loads them) */
} csm_schema_ids;

void csm_schema_ids_init(csm_schema_ids *s);
void csm_schema_ids_free(csm_schema_ids *s);

/* codec.h's functions of the same names. */
void csm_schema_ids_pin(csm_schema_ids *s, int32_t id, csm_stream stream);
int csm_schema_ids_add(csm_schema_ids *s, int32_t id, const char *json, size_t len, char *why,
                       size_t whylen);
void csm_schema_ids_add_missing(csm_schema_ids *s, int32_t id, const char *why);
void csm_schema_ids_set_max(csm_schema_ids *s, size_t max);
void csm_schema_ids_verdict(csm_schema_ids *s, int32_t id, csm_stream stream,
                            csm_schema_verdict *out);
size_t csm_schema_ids_list(const csm_schema_ids *s, int32_t *ids, size_t cap);

/* What decodes a message of schema @p id on @p stream's topic: 0 with
 * *dec the id's decoder, or NULL for the stream's own schema (a pinned
 * id); else a CSM_DECODE_* code with the reason in err. */
int csm_schema_ids_decoder(csm_schema_ids *s, int32_t id, csm_stream stream, struct decoder **dec,
                           char *err, size_t errlen);

#endif
