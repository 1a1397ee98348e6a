/* Small avro-c helpers the codec's files share: following named-type
 * references, writing a value (Confluent-framed or not), and keeping
 * avro-c's multi-line error texts to one line. */
#ifndef CSM_AVRO_UTIL_H
#define CSM_AVRO_UTIL_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

/* A named type's definition where the schema refers to it by name. */
avro_schema_t csm_schema_unlinked(avro_schema_t s);

/* @p v as Avro binary into buf; with schema_id >= 0 preceded by the
 * Confluent framing (magic byte 0, the id in 4 bytes big-endian). Bytes
 * written, or -1 when it does not fit. */
long csm_avro_write_framed(avro_value_t *v, int32_t schema_id, void *buf, size_t cap);

/* Line breaks in @p s become spaces: one reason, one log line. */
void csm_one_line(char *s);

#endif
