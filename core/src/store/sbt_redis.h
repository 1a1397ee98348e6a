/* SATISFACTION_BELOW_TARGET decisions against Redis (see sat_target.h),
 * for `run` (all partitions' clocks from their checkpoints) and `replay`
 * (everything is due at the end of the input). */
#ifndef CSM_SBT_REDIS_H
#define CSM_SBT_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "alert_outbox.h"
#include "redis_store.h"
#include "sat_target.h"

/* The smallest clock among the checkpoints of partitions 0..n-1 of the
 * group: INT64_MIN while any of them has none yet (an empty partition
 * gets one from idle advance). 0 with *clock set, -1 with err. */
int csm_sbt_min_clock(csm_redis_store *s, const csm_config *cfg, int32_t n_partitions,
                      int64_t *clock, char *err, size_t errlen);

/* The lowest score in the due set (INT64_MAX when it is empty), one
 * command: while it is not below a clock the caller holds, no decision can
 * be due and the partitions' clocks need not be read. 0, or -1 with err. */
int csm_sbt_earliest_due(csm_redis_store *s, const csm_config *cfg, int64_t *score, char *err,
                         size_t errlen);

/* Called for each alert raised (after it is in Redis). */
typedef void (*csm_sbt_raised_fn)(void *arg, const csm_alert_rec *rec);

/* Decides every due member scored below @p clock, each removed from the
 * due set together with writing its alert, in one atomic script; with
 * @p outbox, the alert is also numbered and kept in P:sbt:outbox for the
 * alerts topic. With @p budget_ms > 0 it stops deciding once that much
 * time has passed (each decision is about 15 round trips; a slow Redis
 * must not hold the daemon's loop or its shutdown): what is left stays
 * due for the next call. Returns the number of members decided, or -1
 * with err. */
long csm_sbt_close_due(csm_redis_store *s, const csm_config *cfg, csm_shoptime *st, int64_t clock,
                       int outbox, int64_t budget_ms, csm_sbt_raised_fn raised, void *arg,
                       char *err, size_t errlen);

/* P:sbt:seq and P:sbt:outbox (hash: seq -> packed record). 0 or -1. */
int csm_sbt_outbox_keys(char *seq_key, char *outbox_key, size_t n, const char *prefix);
/* An alert record as one string and back (csm_alert_rec_clear frees). */
size_t csm_sbt_pack(const csm_alert_rec *rec, char *buf, size_t n);
int csm_sbt_unpack(const char *packed, csm_alert_rec *rec);
/* The outbox's alerts numbered above @p after, in seq order (malloc'd
 * array; clear each record, free the array). 0 or -1 with err. */
int csm_sbt_outbox_read(csm_redis_store *s, const csm_config *cfg, uint64_t after,
                        csm_alert_rec **out, size_t *n_out, char *err, size_t errlen);
/* Removes outbox entries from..upto (delivered). 0 or -1 with err. */
int csm_sbt_outbox_ack(csm_redis_store *s, const csm_config *cfg, uint64_t from, uint64_t upto,
                       char *err, size_t errlen);

#endif
