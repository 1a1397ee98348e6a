/* The dead-letter topic: events that cannot be applied (undecodable,
 * contract violations, the 7-day rule, late) go there with their original
 * key and bytes and headers saying where they came from and why
 * (csm.topic, csm.partition, csm.offset, csm.reason).
 *
 * Delivery is at least once: the caller confirms delivery with
 * csm_deadletter_sync() before the Redis flush that moves the checkpoint
 * past the offsets, so a crash can repeat a dead letter but never lose
 * one. */
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

/* Serves delivery reports; 0 once nothing is in flight, -1 if messages
 * are still undelivered after @p timeout_ms. */
int csm_deadletter_sync(csm_deadletter *d, int timeout_ms);

/* Serves delivery reports without waiting. */
void csm_deadletter_poll(csm_deadletter *d);

uint64_t csm_deadletter_sent(const csm_deadletter *d);
/* Messages librdkafka gave up on (logged at ERROR each). */
uint64_t csm_deadletter_failed(const csm_deadletter *d);

#endif
