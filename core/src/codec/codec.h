/* Wire and file formats of events.md: Avro binary (Confluent framing or
 * plain), Avro object container files, JSON Lines. */
#ifndef CSM_CODEC_H
#define CSM_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "event_slot.h"

typedef enum csm_framing {
    CSM_FRAMING_AUTO =
        0, /* first byte 0 → Confluent (plain records never start with 0), else plain */
    CSM_FRAMING_CONFLUENT,
    CSM_FRAMING_PLAIN
} csm_framing;

typedef struct csm_codec csm_codec;

/* Loads schemas/chat_event.avsc and order_event.avsc from schema_dir.
 * NULL with a reason in err on failure. */
csm_codec *csm_codec_new(const char *schema_dir, char *err, size_t errlen);
void csm_codec_free(csm_codec *c);

/* Maps a Confluent schema id to a stream's schema. */
void csm_codec_map_schema_id(csm_codec *c, int32_t schema_id, csm_stream stream);

/* Decodes one Kafka message value of the topic of @p stream into @p out
 * (contract-validated). 0 on success; -1 with a dead-letter reason in err
 * ("truncated Avro", "unknown schema id 7", "bad enum value 12 for type",
 * "missing field shop_id", …). No heap allocation per call. */
int csm_codec_decode(csm_codec *c, csm_stream stream, csm_framing framing, const void *buf,
                     size_t len, csm_event_slot *out, char *err, size_t errlen);

/* Encodes an event as Avro binary of its stream's schema; with
 * schema_id >= 0 prefixes the Confluent framing. Returns bytes written
 * into buf, or -1 if it does not fit. */
long csm_codec_encode(csm_codec *c, const csm_event *ev, int32_t schema_id, void *buf, size_t cap);

/* One JSON Lines line (events.md, with "stream") → event. 0 or -1+err.
 * No heap allocation per call (jansson's tree lives in scratch memory,
 * scratch.h). */
int csm_json_decode_line(const char *line, size_t len, csm_event_slot *out, char *err,
                         size_t errlen);
/* Event → one JSON object line (no newline), into buf. Bytes, or -1 when
 * it does not fit or a string is not UTF-8 (JSON cannot carry it). */
long csm_json_encode(const csm_event *ev, char *buf, size_t cap);

/* Reads events from a file: JSON Lines (.jsonl/.json/other) or an Avro
 * object container file (.avro, either stream's schema; a container may
 * hold a union? no: one container per stream, see docs/formats.md).
 * Calls fn for each record in file order; a record that fails to decode
 * is passed with ok=0 and the reason. Returns 0, or -1 if the file
 * cannot be opened/parsed at all (err set). */
typedef int (*csm_file_event_fn)(void *arg, long index, int ok, const csm_event_slot *ev,
                                 const char *reason, const void *raw, size_t raw_len);
int csm_codec_read_file(csm_codec *c, const char *path, csm_file_event_fn fn, void *arg, char *err,
                        size_t errlen);

/* A whole file, NUL-terminated (malloc'd); NULL with errno set. */
char *csm_slurp(const char *path, size_t *len);

#endif
