/* State of `csmetrics run` shared by its parts: cmd_run.c (setup and the
 * poll loop), run_rebalance.c (partition ownership and checkpoint loads)
 * and run_flush.c (the exactly-once writes and the Redis-down state). */
#ifndef CSM_RUN_INTERNAL_H
#define CSM_RUN_INTERNAL_H

#include <signal.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "alerts_out.h"
#include "chain.h"
#include "codec.h"
#include "config.h"
#include "deadletter.h"
#include "partition_set.h"
#include "redis_store.h"
#include "run_telemetry.h"
#include "shoptime.h"
#include "time_bounds.h"

/* Fetched messages held per topic partition before fetching pauses. */
#define CSM_RUN_BACKLOG_HIGH 4096
#define CSM_RUN_BACKLOG_LOW 1024
/* A head waits for the other topic of its partition number as long as
 * that one is behind but not at the end of its log; a wait this long is
 * logged (once per wait). */
#define CSM_RUN_MERGE_WAIT_LOG_MS 30000
/* Time the shop-day decisions may take per tick of the loop, and at
 * shutdown (SIGTERM promises an exit within a few seconds); the rest stay
 * due in Redis for the next tick or instance. */
#define CSM_RUN_SBT_TICK_BUDGET_MS 200
#define CSM_RUN_SBT_FINAL_BUDGET_MS 1500
/* From SIGTERM to leaving the group at the latest (final flush, shop-day
 * decisions, alerts, then the group), so the process exits within 5 s. */
#define CSM_RUN_STOP_BUDGET_MS 4000
/* Redis retry backoff bounds. */
#define CSM_RUN_BACKOFF_MIN_MS 100
#define CSM_RUN_BACKOFF_MAX_MS 5000

/* The flush in flight (run_flush.c): the parts sent, the slots they
 * belong to and what each covers, until Redis's outcome is taken. */
typedef struct csm_run_flight {
    csm_flush_part *parts;
    csm_pslot **owners;
    uint64_t *alerts_at_cut; /* each slot's last alert seq at the cut */
    size_t n, cap;
    uint64_t events;     /* events offered before the cut, since the last one */
    uint64_t offered_at; /* r->offered at the cut: what consuming did meanwhile */
    int reload;
    double cut_us, built_us; /* when the cut began, how long it held the loop */
} csm_run_flight;

typedef struct csm_run {
    csm_config cfg;
    csm_chain *chain;
    csm_shoptime *st;
    csm_codec *codec;
    csm_redis_store *redis;
    csm_deadletter *dlq;
    csm_alerts_out *alerts; /* NULL: no alerts topic */
    rd_kafka_t *rk;
    csm_pset ps;
    const char *topics[2];  /* by csm_stream */
    csm_time_bounds bounds; /* pipeline.max_clock_skew and horizon */

    volatile sig_atomic_t *stop;
    int fatal;       /* a checkpoint or plugin refused: exit 1 */
    int pause_stale; /* a tp's wanted pause state may have changed */

    /* Redis (and dead-letter delivery): the sink of every flush. */
    int sink_down;
    int64_t retry_at_ms;
    int64_t backoff_ms;
    uint64_t sink_failures;
    int64_t last_flush_ms;
    uint64_t pending; /* events offered since the last cut (or failed flush) */
    csm_run_flight flight;
    int64_t reload_at_ms;

    uint64_t offered, dead_letters, flushes;
    /* Messages whose key is not <shop_id>:<customer_id>; per partition
     * number, bit t: topic t's first one was logged. */
    uint64_t bad_keys;
    unsigned char *key_warned;
    size_t key_warned_n;

    /* Shop-day decisions (sat_target.h): partitions of the chat topic,
     * when they were last looked at. */
    int32_t n_partitions;
    int64_t last_sbt_ms;
    /* Publishing them to the alerts topic (owner of partition 0 only). */
    int sbt_adopted;
    uint64_t sbt_sent;
    int64_t last_sbt_pub_ms;

    /* Giving freed memory back once quiet (run_trim.c): events offered and
     * applied as last seen. */
    uint64_t trim_offered;
    int64_t trim_quiet_since, trim_next_ms;

    /* Telemetry (run_telemetry.c): the loop's figures, and the endpoint
     * serving their last publication (NULL when http.port is 0). */
    csm_tel_snap tel_now;
    struct csm_run_tel *tel;
    int64_t tel_published_ms, tel_probe_ms, tel_redis_ok_ms;

    /* Writer schemas by id (run_schemas.c); NULL without a source. */
    struct csm_run_schemas *schemas;
} csm_run;

/* Index (csm_stream) of a topic name, or -1. */
int csm_run_topic_index(const csm_run *r, const char *topic);

/* run_rebalance.c */
void csm_run_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t *parts, void *opaque);
/* Loads slot @p s's checkpoint into a fresh engine. 0, or -1 when Redis
 * is unreachable (slot stays unloaded; r->fatal set on worse). */
int csm_run_load_slot(csm_run *r, csm_pslot *s);
/* Retries unloaded slots (Redis was down, or a conflict dropped them),
 * then seeks their partitions to the loaded offsets. */
void csm_run_reload_pending(csm_run *r, int64_t now_ms);
/* Tells librdkafka which topic partitions to pause or resume: paused
 * while Redis is down, while the slot is unloaded or its backlog full. */
void csm_run_apply_pause(csm_run *r);

/* run_trim.c: gives the heap's free memory back to the operating system
 * at growing intervals (1, 2, 4 … 64 s) after the last event offered or
 * applied. */
void csm_run_trim_tick(csm_run *r, int64_t now_ms);

/* run_flush.c */
/* Writes every dirty slot in one atomic step, after the flush in flight
 * (if any) has ended. 0 written, 1 some
 * checkpoints had moved (those slots are dropped and, with @p reload,
 * reloaded; a slot whose own earlier flush had landed unseen counts it as
 * written), -1 Redis or dead-letter delivery failed (err set). */
int csm_run_flush(csm_run *r, int reload, char *err, size_t errlen);
/* The periodic flush with the Redis-down state machine: takes the
 * outcome of the flush in flight when it is there, and cuts the next one
 * when due; consuming goes on meanwhile (docs/architecture.md, "Flush"). */
void csm_run_flush_tick(csm_run *r, int64_t now_ms, int force);
/* Waits for the flush in flight and applies its outcome: before slots are
 * let go or freed. */
void csm_run_flush_wait(csm_run *r);
/* At exit: waits, then frees the flight's arrays. */
void csm_run_flush_end(csm_run *r);

/* Reads the chat topic's partition count into r->n_partitions. */
void csm_run_count_partitions(csm_run *r);
/* Decides the shop-day alerts that every partition's clock has passed
 * (about once a second, or now with @p force). */
void csm_run_sbt_tick(csm_run *r, int64_t now_ms, int force);

/* run_telemetry.c */
/* Starts the HTTP endpoint when http.port is set: 0, or -1 (err) when it
 * cannot listen. */
int csm_run_tel_start(csm_run *r, char *err, size_t errlen);
/* Stops the endpoint (its handlers have returned) and frees the figures. */
void csm_run_tel_stop(csm_run *r);
/* Once per loop turn: a Redis PING when idle, a publication when due. */
void csm_run_tel_tick(csm_run *r, int64_t now_ms);
/* Starting, running, stopping: published at once. */
void csm_run_tel_phase(csm_run *r, csm_tel_phase phase);
/* A flush's outcome @p rc (as csm_redis_flush_poll) after @p seconds. */
void csm_run_tel_flight(csm_run *r, int rc, double seconds, const char *err);
/* The Redis-down state machine's view of an outcome @p rc (not 2). */
void csm_run_tel_sink(csm_run *r, int rc, int64_t now_ms, const char *err);

/* run_alerts.c: the outbox of each partition to the alerts topic. */
/* Delivery report (csm_alerts_delivered_fn; arg is the csm_run). */
void csm_run_alerts_delivered(void *arg, int32_t partition, uint64_t seq, int ok);
/* After a checkpoint load: keeps the slot's alerts and skips those the
 * alerts partition already holds. 0, or -1 (err) to retry the load. */
int csm_run_alerts_adopt(csm_run *r, csm_pslot *s, char *err, size_t errlen);
/* After a successful flush of the slot: its alerts up to @p seq (the
 * last one numbered at the cut) are in Redis. */
void csm_run_alerts_committed(csm_pslot *s, uint64_t seq);
/* Produces committed, unsent alerts and serves delivery reports. */
void csm_run_alerts_pump(csm_run *r, int64_t now_ms);
/* Before letting partitions go: sends and waits up to timeout_ms. */
void csm_run_alerts_drain(csm_run *r, int timeout_ms);

#endif
