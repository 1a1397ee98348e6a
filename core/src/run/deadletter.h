/* The dead-letter topic: events that cannot be applied (undecodable,
 * contract violations, the 7-day rule, late) go there with their original
 * key and bytes and headers saying where they came from and why
 * (csm.topic, csm.partition, csm.offset, csm.reason).
 *
 * Every dead letter lands: one too large for the producer's
 * message.max.bytes, or rejected by the broker for its size, is sent with
 * its value (and, only if the key alone is too large, its key) cut to
 * what fits, and headers csm.truncated / csm.key_truncated giving the
 * original lengths. Any other failure keeps the letter, and
 * csm_deadletter_sync() fails until it is delivered: the caller confirms
 * delivery with it before the Redis flush that moves the checkpoint past
 * the offsets, so a crash can repeat a dead letter but never lose one. */
#ifndef CSM_DEADLETTER_H
#define CSM_DEADLETTER_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "config.h"

typedef struct csm_deadletter csm_deadletter;

csm_deadletter *csm_deadletter_new(const csm_config *cfg, char *err, size_t errlen);
/* Waits up to a few seconds for what is still in flight. */
void csm_deadletter_free(csm_deadletter *d);

/* Queues @p m (a consumed message of @p topic) with @p reason, and logs
 * one line. Blocks while librdkafka's queue is full. */
void csm_deadletter_send(csm_deadletter *d, const rd_kafka_message_t *m, const char *topic,
                         const char *reason);

/* Sends failed letters again and serves delivery reports; 0 once every
 * letter is delivered, -1 if one failed again or is still undelivered
 * after @p timeout_ms. */
int csm_deadletter_sync(csm_deadletter *d, int timeout_ms);

/* Serves delivery reports and re-sends letters cut after a size
 * rejection, without waiting. */
void csm_deadletter_poll(csm_deadletter *d);

/* Letters delivered, and of those delivered cut. */
uint64_t csm_deadletter_sent(const csm_deadletter *d);
uint64_t csm_deadletter_truncated(const csm_deadletter *d);
/* Delivery attempts that failed for another reason than size (logged at
 * ERROR each; the letter is kept and sent again). */
uint64_t csm_deadletter_failed(const csm_deadletter *d);

#endif
