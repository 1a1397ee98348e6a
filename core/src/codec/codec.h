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

/* What csm_codec_decode returns besides 0 (decoded). The negative ones
 * dead-letter the message with the reason in err; CSM_DECODE_NEED_SCHEMA
 * asks the caller to fetch a writer schema and decode the message again. */
enum {
    CSM_DECODE_UNDECODABLE = -1,  /* bytes or contract: "truncated Avro", "missing field shop_id" */
    CSM_DECODE_INCOMPATIBLE = -2, /* "schema 21 incompatible: <why>" */
    CSM_DECODE_UNKNOWN_SCHEMA = -3, /* "unknown schema id 99[: <why>]" */
    CSM_DECODE_NEED_SCHEMA = 1      /* id's writer schema not known yet (lookup on) */
};

/* Decodes one Kafka message value of the topic of @p stream into @p out
 * (contract-validated). 0 on success, else one of the codes above with the
 * reason in err ("truncated Avro", "unknown schema id 7", "bad enum value
 * 12 for type", "missing field shop_id", …). No heap allocation per call. */
int csm_codec_decode(csm_codec *c, csm_stream stream, csm_framing framing, const void *buf,
                     size_t len, csm_event_slot *out, char *err, size_t errlen);

/* ---- writer schemas by id (Confluent framing) ----
 * A Confluent-framed message names the schema it was written with. Each
 * id's writer schema is resolved once per stream against that stream's
 * reader schema (schemas/<stream>_event.avsc) by Avro's resolution rules: writer-only
 * fields skipped, reader-only fields take the reader's default, enum
 * symbols matched by name (unknown ones take the reader enum's default),
 * int promoted to long. Messages are then decoded at the same cost as
 * messages written with the reader schema. Ids pinned with
 * csm_codec_map_schema_id() are taken as written with the reader schema. */

/* On: an id that is neither pinned nor added makes csm_codec_decode return
 * CSM_DECODE_NEED_SCHEMA and remember the id (csm_codec_needed_id); the
 * caller fetches it, adds it and decodes again. Off (the default): such a
 * message is CSM_DECODE_UNKNOWN_SCHEMA, "unknown schema id N". */
void csm_codec_set_lookup(csm_codec *c, int on);
int32_t csm_codec_needed_id(const csm_codec *c);

/* At most @p n writer schemas are kept (default 1000): adding one more
 * forgets the least recently used added id (never a pinned one), which
 * is then fetched again if a message names it. */
void csm_codec_set_cache_max(csm_codec *c, size_t n);

/* Adds the writer schema of @p id (Avro schema JSON text). 0; or -1 with
 * why when the text is not an Avro record schema: the id is still added,
 * and its messages are CSM_DECODE_INCOMPATIBLE "schema N incompatible:
 * <why>". Adding an id again replaces it. */
int csm_codec_add_writer_schema(csm_codec *c, int32_t id, const char *json, size_t len, char *why,
                                size_t whylen);
/* The id exists nowhere (e.g. the registry answered "not found"): its
 * messages are CSM_DECODE_UNKNOWN_SCHEMA "unknown schema id N: <why>". */
void csm_codec_add_missing_schema(csm_codec *c, int32_t id, const char *why);

typedef struct csm_schema_verdict {
    int known;      /* the id is pinned, added or missing */
    int compatible; /* messages of this id decode on this stream */
    /* Incompatible: why ("writer record csmetrics.OrderEvent is not
     * csmetrics.ChatEvent", "reader field shop_id has no default and the
     * writer has no such field", "field ts: cannot store string into long").
     * Compatible: what resolution does, "; "-separated ("writer field
     * channel skipped", "reader field group_id absent: default null",
     * "msg_kind symbol LIVE_CARD read as OTHER (reader default)", "stars
     * int promoted to long"), "" when writer and reader are the same. */
    char why[512];
    /* The id belongs to the other stream (pinned to it, or a writer record
     * of the other stream's name): not an evolution of this one. */
    int other_stream;
} csm_schema_verdict;

/* The resolution of @p id against @p stream's reader schema (resolved on
 * first use, then cached with the id). */
void csm_codec_schema_verdict(csm_codec *c, int32_t id, csm_stream stream, csm_schema_verdict *out);
/* The ids pinned, added or missing, ascending; returns how many there are
 * (may exceed cap). */
size_t csm_codec_schema_ids(const csm_codec *c, int32_t *ids, size_t cap);

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
