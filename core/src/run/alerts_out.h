/* The Kafka alerts topic: alert records from the engines' outboxes,
 * produced after the Redis flush that wrote them to the shop streams.
 *
 * Each alert goes to the alerts topic's partition with the number of the
 * source partition that raised it, keyed "<shop_id>:<customer_id>", with
 * headers csm.alert_seq (the engine's numbering) and csm.partition. The
 * producer is idempotent (no duplicates from its own retries), and a
 * restarted owner reads the last record of its alerts partition and skips
 * what is already there, so a crash between delivery and the next
 * checkpoint does not produce an alert twice. */
#ifndef CSM_ALERTS_OUT_H
#define CSM_ALERTS_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "alert_outbox.h"
#include "config.h"

typedef struct csm_alerts_out csm_alerts_out;

/* Called from csm_alerts_out_poll() for every delivery report, with the
 * source given to csm_alerts_out_send(). */
typedef void (*csm_alerts_delivered_fn)(void *arg, int32_t source, uint64_t seq, int ok);

/* Producer for cfg->alerts_topic, records encoded with alert.avsc from
 * cfg->schema_dir. Checks that the topic exists. NULL + err on failure. */
csm_alerts_out *csm_alerts_out_new(const csm_config *cfg, csm_alerts_delivered_fn fn, void *arg,
                                   char *err, size_t errlen);
/* Waits up to a few seconds for what is in flight. */
void csm_alerts_out_free(csm_alerts_out *o);

/* Partition count of the alerts topic (read at creation). */
int csm_alerts_out_partitions(const csm_alerts_out *o);

/* The largest csm.alert_seq among the records of @p source (a source
 * partition, or -1 for shop-day alerts) at the end of alerts partition
 * @p partition (0 if none). 0, or -1 with err when the broker cannot tell. */
int csm_alerts_out_last_seq(csm_alerts_out *o, int32_t partition, int32_t source, uint64_t *seq,
                            char *err, size_t errlen);

/* Queues one alert to alerts partition @p partition, with headers
 * csm.partition = @p source (the source partition, or -1 for shop-day
 * alerts) and csm.alert_seq = rec->seq. 0, or -1 if it cannot be encoded
 * or queued (logged). */
int csm_alerts_out_send(csm_alerts_out *o, int32_t partition, int32_t source,
                        const csm_alert_rec *rec);
/* Serves delivery reports. */
void csm_alerts_out_poll(csm_alerts_out *o);
/* Waits for every queued alert: 0, or -1 if some are still in flight. */
int csm_alerts_out_sync(csm_alerts_out *o, int timeout_ms);

#endif
