/* Producing events to the chat and order topics as the platform would:
 * Avro (Confluent framing when schema ids are configured), keyed
 * "<shop_id>:<customer_id>" with the Java client's murmur2 partitioner so
 * that co-partitioning holds. Used by `produce` and `gen`. */
#ifndef CSM_PRODUCER_H
#define CSM_PRODUCER_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "config.h"
#include "json_avro.h"

typedef struct csm_event_producer csm_event_producer;

/* schema ids < 0: plain Avro for that stream. NULL + err on failure. */
csm_event_producer *csm_event_producer_new(const csm_config *cfg, csm_codec *codec,
                                           int32_t chat_schema_id, int32_t order_schema_id,
                                           char *err, size_t errlen);
/* Queues one event (blocks while librdkafka's queue is full), with its
 * stream's writer schema if one is set (an event it does not encode is
 * logged). 0 or -1. */
int csm_event_producer_send(csm_event_producer *p, const csm_event *ev);
/* Queues raw bytes to a stream's topic (dead-letter tests). */
int csm_event_producer_send_raw(csm_event_producer *p, csm_stream stream, const char *key,
                                const void *value, size_t len);
/* From now on @p stream's messages are written with the writer schema
 * @p w (borrowed; NULL: ours again) under the stream's schema id, as a
 * producer with another version of the schema would write them. */
void csm_event_producer_set_writer(csm_event_producer *p, csm_stream stream, csm_json_avro *w);
/* Queues one JSON object (a JSON Lines line of events.md, fields of any
 * schema) encoded with @p stream's writer schema, keyed as events are
 * from its "shop_id" and "customer_id". 0, or -1 with the reason in err
 * ("field stars: expected an int, got \"five\"", a Kafka error). */
int csm_event_producer_send_json(csm_event_producer *p, csm_stream stream, const char *json,
                                 size_t len, char *err, size_t errlen);
/* Waits for every delivery; returns the number of failed deliveries. */
long csm_event_producer_finish(csm_event_producer *p, int timeout_ms);
void csm_event_producer_free(csm_event_producer *p);
/* Events delivered so far, by stream. */
uint64_t csm_event_producer_delivered(const csm_event_producer *p, csm_stream stream);

#endif
