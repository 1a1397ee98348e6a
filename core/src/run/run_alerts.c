/* From each engine's alert outbox to the Kafka alerts topic, after the
 * alerts are safe in Redis: an alert is produced only once the flush that
 * wrote it to the shop stream succeeded, and leaves the outbox (and, at
 * the next checkpoint, Redis) only once Kafka confirmed it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "sbt_redis.h"
#include "run_internal.h"

#define ALERTS_RETRY_MS 5000

static void sbt_delivered(csm_run *r, uint64_t seq, int ok)
{
    char err[512];
    if (!ok) {
        if (r->sbt_sent >= seq)
            r->sbt_sent = seq - 1;
        return;
    }
    /* In order (idempotent producer): this one is in the topic. */
    if (csm_sbt_outbox_ack(r->redis, &r->cfg, seq, seq, err, sizeof err))
        csm_logf(CSM_LOG_WARN, "alerts", "shop-day alert %" PRIu64 " stays in the outbox: %s", seq,
                 err);
}

void csm_run_alerts_delivered(void *arg, int32_t partition, uint64_t seq, int ok)
{
    csm_run *r = arg;
    if (partition < 0) {
        sbt_delivered(r, seq, ok);
        return;
    }
    csm_pslot *s = csm_pset_get(&r->ps, partition);
    if (!s || !s->engine)
        return; /* no longer ours: the next owner checks the topic's tail */
    if (ok) {
        /* Idempotence keeps a partition's deliveries in order. */
        csm_alert_outbox_ack(csm_engine_alerts(s->engine), seq);
        /* The next checkpoint forgets it, so a restart need not ask the
         * topic what it already holds. */
        s->dirty = 1;
        return;
    }
    if (s->alerts_sent >= seq)
        s->alerts_sent = seq - 1;
    s->alerts_hold_until_ms = csm_monotonic_ms() + ALERTS_RETRY_MS;
}

int csm_run_alerts_adopt(csm_run *r, csm_pslot *s, char *err, size_t errlen)
{
    if (!r->alerts)
        return 0;
    if (s->partition >= csm_alerts_out_partitions(r->alerts)) {
        snprintf(err, errlen,
                 "kafka.alerts_topic: %s has %d partitions, fewer than the chat topic "
                 "(partition %d assigned); give it as many as %s",
                 r->cfg.alerts_topic, csm_alerts_out_partitions(r->alerts), (int)s->partition,
                 r->cfg.chat_topic);
        r->fatal = 1;
        return -1;
    }
    csm_alert_outbox *o = csm_engine_alerts(s->engine);
    csm_engine_keep_alerts(s->engine, 1);
    s->alerts_committed = o->last_seq;
    s->alerts_sent = 0;
    s->alerts_hold_until_ms = 0;
    if (!csm_alert_outbox_count(o))
        return 0;
    /* Alerts this process produced while it owned the partition before (an
     * assignment lost while a broker was down, a reload after a conflict)
     * may land after the tail is read and would then be sent twice. */
    if (csm_alerts_out_sync(r->alerts, 1000)) {
        snprintf(err, errlen, "alerts produced earlier by this process are still in flight");
        return -1;
    }
    uint64_t last = 0;
    if (csm_alerts_out_last_seq(r->alerts, s->partition, s->partition, &last, err, errlen))
        return -1;
    csm_alert_outbox_ack(o, last);
    s->alerts_sent = last;
    csm_logf(CSM_LOG_INFO, "alerts",
             "partition %d: %zu alerts still to send (topic holds up to %" PRIu64 ")",
             (int)s->partition, csm_alert_outbox_count(o), last);
    return 0;
}

void csm_run_alerts_committed(csm_pslot *s, uint64_t seq)
{
    s->alerts_committed = seq;
}

void csm_run_alerts_pump(csm_run *r, int64_t now)
{
    if (!r->alerts)
        return;
    CSM_PSET_FOREACH(&r->ps, s)
    {
        if (!s->engine || now < s->alerts_hold_until_ms)
            continue;
        const csm_alert_outbox *o = csm_engine_alerts(s->engine);
        for (size_t i = 0; i < csm_alert_outbox_count(o); i++) {
            const csm_alert_rec *rec = csm_alert_outbox_at(o, i);
            if (rec->seq <= s->alerts_sent)
                continue;
            if (rec->seq > s->alerts_committed)
                break;
            if (csm_alerts_out_send(r->alerts, s->partition, s->partition, rec)) {
                s->alerts_hold_until_ms = now + ALERTS_RETRY_MS;
                break;
            }
            s->alerts_sent = rec->seq;
        }
    }
    csm_alerts_out_poll(r->alerts);
}

void csm_run_alerts_drain(csm_run *r, int timeout_ms)
{
    if (!r->alerts)
        return;
    csm_run_alerts_pump(r, csm_monotonic_ms());
    if (csm_alerts_out_sync(r->alerts, timeout_ms))
        csm_logf(CSM_LOG_WARN, "alerts",
                 "alerts still in flight after %d ms; the next owner sends them again", timeout_ms);
}

static void sbt_raised(void *arg, const csm_alert_rec *rec)
{
    (void)arg;
    csm_logf(CSM_LOG_INFO, "alerts", "SATISFACTION_BELOW_TARGET shop=%s day=%s rate=%s bp",
             rec->v[CSM_ALERT_SHOP_ID], rec->v[CSM_ALERT_DAY], rec->v[CSM_ALERT_FIGURE]);
}

/* Shop-day alerts wait in P:sbt:outbox; the owner of partition 0 (one
 * instance at a time, by the consumer group) produces them to alerts
 * partition 0 as source -1, numbered by P:sbt:seq. On taking partition 0
 * over it skips what that partition already holds, as for the engines'
 * outboxes. */
static void sbt_publish(csm_run *r, int64_t now, int force)
{
    csm_pslot *p0 = csm_pset_get(&r->ps, 0);
    if (!r->alerts || r->sink_down || !p0 || !p0->engine) {
        r->sbt_adopted = 0;
        return;
    }
    if (!force && now - r->last_sbt_pub_ms < 1000)
        return;
    r->last_sbt_pub_ms = now;
    char err[512];
    if (!r->sbt_adopted) {
        uint64_t last = 0;
        if (csm_alerts_out_last_seq(r->alerts, 0, -1, &last, err, sizeof err) ||
            csm_sbt_outbox_ack(r->redis, &r->cfg, 1, last, err, sizeof err)) {
            csm_logf(CSM_LOG_WARN, "alerts", "shop-day alerts not published yet: %s", err);
            return;
        }
        r->sbt_sent = last;
        r->sbt_adopted = 1;
    }
    csm_alert_rec *v;
    size_t n;
    if (csm_sbt_outbox_read(r->redis, &r->cfg, r->sbt_sent, &v, &n, err, sizeof err)) {
        csm_logf(CSM_LOG_WARN, "alerts", "shop-day alerts not published yet: %s", err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i].seq == r->sbt_sent + 1 && !csm_alerts_out_send(r->alerts, 0, -1, &v[i]))
            r->sbt_sent = v[i].seq;
        csm_alert_rec_clear(&v[i]);
    }
    free(v);
}

/* The lowest clock of the partitions this process holds, or INT64_MAX
 * when it holds none. Each is at or past the clock its checkpoint holds
 * (the applied event time only moves forward), so the group's minimum,
 * read from the checkpoints, is at most this. */
static int64_t own_min_clock(const csm_run *r)
{
    int64_t min = INT64_MAX;
    CSM_PSET_FOREACH(&r->ps, s)
    {
        if (s->engine && csm_engine_clock(s->engine) < min)
            min = csm_engine_clock(s->engine);
    }
    return min;
}

/* Nothing is due while the earliest due score is at or past our own
 * lowest clock: a member is due below the group's minimum clock, which is
 * at most ours. An idle daemon then sends one ZRANGE a second instead of
 * an HGET per partition. */
static int nothing_due(csm_run *r, char *err, size_t errlen)
{
    int64_t own = own_min_clock(r), earliest;
    if (own == INT64_MAX || csm_sbt_earliest_due(r->redis, &r->cfg, &earliest, err, errlen))
        return 0;
    return earliest >= own;
}

void csm_run_sbt_tick(csm_run *r, int64_t now, int force)
{
    if (r->sink_down || r->n_partitions <= 0 || (!force && now - r->last_sbt_ms < 1000))
        return;
    r->last_sbt_ms = now;
    char err[512];
    int64_t clock;
    if (nothing_due(r, err, sizeof err)) {
        sbt_publish(r, now, force);
        return;
    }
    if (csm_sbt_min_clock(r->redis, &r->cfg, r->n_partitions, &clock, err, sizeof err) ||
        (clock != INT64_MIN &&
         csm_sbt_close_due(r->redis, &r->cfg, r->st, clock, r->alerts != NULL,
                           force ? CSM_RUN_SBT_FINAL_BUDGET_MS : CSM_RUN_SBT_TICK_BUDGET_MS,
                           sbt_raised, r, err, sizeof err) < 0))
        csm_logf(CSM_LOG_WARN, "alerts", "shop-day decisions postponed: %s", err);
    sbt_publish(r, now, force);
}
