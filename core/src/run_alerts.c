/* From each engine's alert outbox to the Kafka alerts topic, after the
 * alerts are safe in Redis: an alert is produced only once the flush that
 * wrote it to the shop stream succeeded, and leaves the outbox (and, at
 * the next checkpoint, Redis) only once Kafka confirmed it. */
#include <inttypes.h>
#include <stdio.h>

#include "log.h"
#include "sbt_redis.h"
#include "run_internal.h"

#define ALERTS_RETRY_MS 5000

void csm_run_alerts_delivered(void *arg, int32_t partition, uint64_t seq, int ok)
{
    csm_run *r = arg;
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
    s->alerts_hold_until_ms = csm_run_now_ms() + ALERTS_RETRY_MS;
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
    uint64_t last = 0;
    if (csm_alerts_out_last_seq(r->alerts, s->partition, &last, err, errlen))
        return -1;
    csm_alert_outbox_ack(o, last);
    s->alerts_sent = last;
    csm_logf(CSM_LOG_INFO, "alerts",
             "partition %d: %zu alerts still to send (topic holds up to %" PRIu64 ")",
             (int)s->partition, csm_alert_outbox_count(o), last);
    return 0;
}

void csm_run_alerts_committed(csm_pslot *s)
{
    s->alerts_committed = csm_engine_alerts(s->engine)->last_seq;
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
            if (csm_alerts_out_send(r->alerts, s->partition, rec)) {
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
    csm_run_alerts_pump(r, csm_run_now_ms());
    if (csm_alerts_out_sync(r->alerts, timeout_ms))
        csm_logf(CSM_LOG_WARN, "alerts",
                 "alerts still in flight after %d ms; the next owner sends them again", timeout_ms);
}

static void sbt_raised(void *arg, const csm_alert_rec *rec)
{
    csm_run *r = arg;
    csm_logf(CSM_LOG_INFO, "alerts", "SATISFACTION_BELOW_TARGET shop=%s day=%s rate=%s bp",
             rec->v[CSM_ALERT_SHOP_ID], rec->v[CSM_ALERT_DAY], rec->v[CSM_ALERT_FIGURE]);
    /* At most once on Kafka: a crash between the Redis write and this
     * send loses the copy (docs/architecture.md). */
    if (r->alerts)
        csm_alerts_out_send(r->alerts, -1, rec);
}

void csm_run_sbt_tick(csm_run *r, int64_t now, int force)
{
    if (r->sink_down || r->n_partitions <= 0 || (!force && now - r->last_sbt_ms < 1000))
        return;
    r->last_sbt_ms = now;
    char err[512];
    int64_t clock;
    if (csm_sbt_min_clock(r->redis, &r->cfg, r->n_partitions, &clock, err, sizeof err) ||
        (clock != INT64_MIN &&
         csm_sbt_close_due(r->redis, &r->cfg, r->st, clock, sbt_raised, r, err, sizeof err) < 0))
        csm_logf(CSM_LOG_WARN, "alerts", "shop-day decisions postponed: %s", err);
}
