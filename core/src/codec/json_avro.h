/* Any JSON object → Avro binary of any writer schema: what `produce` and
 * `gen` use to write with a schema other than ours (--writer-schema), so
 * tests and users can try how a schema change is read. Fields are matched
 * by name; a field the object lacks takes the schema's default; a union
 * takes the first branch the JSON value fits (null, a number, a string,
 * an enum symbol), or the Avro JSON form {"type": value}; keys the schema
 * has no field for are ignored, as a writer would. */
#ifndef CSM_JSON_AVRO_H
#define CSM_JSON_AVRO_H

#include <stddef.h>
#include <stdint.h>

typedef struct csm_json_avro csm_json_avro;

/* Parses the writer schema (Avro schema JSON text). NULL with err. */
csm_json_avro *csm_json_avro_new(const char *schema_json, size_t len, char *err, size_t errlen);
/* Reads the schema file at @p path. NULL with err naming the file. */
csm_json_avro *csm_json_avro_load(const char *path, char *err, size_t errlen);
void csm_json_avro_free(csm_json_avro *w);

/* One JSON object (text of @p len bytes) → Avro binary in buf; with
 * schema_id >= 0 preceded by the Confluent framing (magic byte 0, id).
 * Bytes written, or -1 with err naming the field ("field stars: expected
 * an int, got \"five\"", "field shop_id: missing and no default",
 * "field msg_kind: LIVE_CARD is not a symbol of MsgKind"). */
long csm_json_avro_encode(csm_json_avro *w, const char *json, size_t len, int32_t schema_id,
                          void *buf, size_t cap, char *err, size_t errlen);

#endif
