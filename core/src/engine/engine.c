/* Ingest rules, event-time ordering and dispatch of one partition. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "log.h"
#include "time_bounds.h"

#define DAY_MS 86400000LL
/* At end of input, timers further than this beyond the last event are
 * dropped: a plugin re-arming a periodic timer must not run forever. */
#define FINISH_HORIZON_MS (31 * DAY_MS)

csm_engine *csm_engine_new(const csm_config *cfg, const csm_chain *chain, csm_shoptime *st,
                           int32_t partition, char *err, size_t errlen)
{
    csm_engine *e = calloc(1, sizeof *e);
    if (!e)
        abort();
    e->cfg = cfg;
    e->chain = chain;
    e->st = st;
    e->partition = partition;
    e->event_time = e->applied_max = e->now = CSM_TS_NONE;
    csm_dedup_init(&e->dedup);
    csm_reorder_init(&e->buffer);
    csm_timers_init(&e->timers);
    e->deltas = csm_deltas_new(cfg->prefix);
    e->frozen = csm_deltas_new_shadow(e->deltas);
    /* A fresh engine's first flush writes all of its own fields. */
    e->ckst.core_dirty = e->ckst.meta_dirty = 1;
    for (size_t i = 0; i < chain->n; i++) {
        const csm_chain_link *l = &chain->links[i];
        size_t size = l->plugin->ctx_size ? l->plugin->ctx_size : 1;
        e->ctx[i] = malloc(size);
        if (!e->ctx[i])
            abort();
        memcpy(e->ctx[i], l->ctx_template, size);
        e->hosts[i] = (csm_host){e, (uint32_t)i};
    }
    for (size_t i = 0; i < chain->n; i++) {
        const csm_plugin *p = chain->links[i].plugin;
        if (p->init && p->init(e->ctx[i], &e->hosts[i]) != 0) {
            snprintf(err, errlen, "plugin '%s': init failed (see its log line above)", p->name);
            csm_engine_free(e);
            return NULL;
        }
        e->n_inited = i + 1;
    }
    return e;
}

void csm_engine_free(csm_engine *e)
{
    if (!e)
        return;
    for (size_t i = e->n_inited; i-- > 0;) {
        const csm_plugin *p = e->chain->links[i].plugin;
        if (p->destroy)
            p->destroy(e->ctx[i], &e->hosts[i]);
    }
    for (size_t i = 0; i < e->chain->n; i++)
        free(e->ctx[i]);
    csm_dedup_free(&e->dedup);
    csm_reorder_free(&e->buffer);
    csm_timers_free(&e->timers);
    csm_deltas_free(e->frozen);
    csm_deltas_free(e->deltas);
    csm_alert_outbox_free(&e->alerts);
    csm_engine_state_free(&e->ckst);
    free(e);
}

void csm_engine_time_charge(csm_engine_timing *t)
{
    uint64_t now = csm_monotonic_ns();
    if (t->cur >= 0)
        t->ns[t->cur] += (now - t->mark_ns) * CSM_ENGINE_TIMING_EVERY;
    t->mark_ns = now;
}

/* An event or a timer about to be dispatched: is it one of those timed? */
static void time_dispatch(csm_engine *e)
{
    csm_engine_timing *t = &e->timing;
    t->on = t->tick++ % CSM_ENGINE_TIMING_EVERY == 0;
    t->cur = -1;
}

void csm_engine_apply(csm_engine *e, const csm_event *ev)
{
    uint32_t bit = ev->stream == CSM_STREAM_CHAT ? CSM_SUBSCRIBE_CHAT : CSM_SUBSCRIBE_ORDER;
    e->now = ev->ts;
    if (e->applied_max == CSM_TS_NONE || ev->ts > e->applied_max)
        e->applied_max = ev->ts;
    e->stats.applied[ev->stream]++;
    csm_engine_state_applied(e);
    time_dispatch(e);
    for (size_t i = 0; i < e->chain->n; i++) {
        const csm_plugin *p = e->chain->links[i].plugin;
        if ((p->subscribe & bit) && p->on_event) {
            int prev = csm_engine_time_enter(e, (int)i);
            p->on_event(e->ctx[i], &e->hosts[i], ev);
            csm_engine_time_leave(e, prev);
        }
    }
}

static void fire_next_timer(csm_engine *e)
{
    csm_timer_fired f;
    csm_timers_pop(&e->timers, &f);
    e->now = f.deadline;
    e->stats.timers_fired++;
    csm_engine_state_applied(e);
    csm_engine_state_touch(e, f.plugin, f.key);
    if (f.plugin >= e->chain->n)
        return;
    const csm_plugin *p = e->chain->links[f.plugin].plugin;
    if (!p->on_timer)
        return;
    csm_timer t = {sizeof t, f.id, f.deadline, f.key, f.tag};
    time_dispatch(e);
    int prev = csm_engine_time_enter(e, (int)f.plugin);
    p->on_timer(e->ctx[f.plugin], &e->hosts[f.plugin], &t);
    csm_engine_time_leave(e, prev);
}

static void apply_next_event(csm_engine *e)
{
    csm_reorder_item *it = csm_reorder_pop(&e->buffer);
    csm_engine_apply(e, &it->ev);
    csm_engine_state_unbuffered(e, it->seq);
    csm_reorder_release(&e->buffer, it);
}

/* Applies buffered events with ts <= frontier and timers with deadline <
 * frontier, interleaved in time order; an event at a timer's deadline goes
 * first, since the timer fires only once event time has passed it. */
static void drain(csm_engine *e, csm_ts frontier)
{
    for (;;) {
        const csm_reorder_item *next = csm_reorder_peek(&e->buffer);
        csm_ts deadline;
        int have_timer = csm_timers_peek(&e->timers, &deadline);
        if (next && next->ev.ts <= frontier) {
            if (have_timer && deadline < next->ev.ts)
                fire_next_timer(e);
            else
                apply_next_event(e);
        } else if (have_timer && deadline < frontier) {
            fire_next_timer(e);
        } else {
            return;
        }
    }
}

static csm_ts frontier_of(const csm_engine *e)
{
    return e->event_time == CSM_TS_NONE ? CSM_TS_NONE
                                        : csm_ts_sub(e->event_time, e->cfg->allowed_lateness_ms);
}

static void forget_old_ids(csm_engine *e)
{
    int64_t keep = e->cfg->dedup_window_ms;
    if (keep < e->cfg->allowed_lateness_ms)
        keep = e->cfg->allowed_lateness_ms; /* older ids would be late anyway */
    uint64_t before = e->dedup.forgotten;
    csm_dedup_expire(&e->dedup, csm_ts_sub(e->event_time, keep));
    if (e->dedup.forgotten != before)
        csm_engine_state_changed(e);
}

void csm_engine_set_wall_clock(csm_engine *e, const csm_time_bounds *b, csm_ts now)
{
    e->has_bounds = b != NULL;
    if (b)
        e->bounds = *b;
    e->wall_now = now;
}

static const csm_time_bounds *bounds_of(const csm_engine *e)
{
    return e->has_bounds ? &e->bounds : NULL;
}

/* The 7-day rule, against the largest applied ts (or W before any). */
static int check_event_age(const csm_engine *e, csm_ts ts, char *reason, size_t reason_len)
{
    csm_ts ref = e->applied_max != CSM_TS_NONE ? e->applied_max : e->event_time;
    int64_t age = e->cfg->max_event_age_ms;
    if (ref == CSM_TS_NONE || (ts <= csm_ts_add(ref, age) && ts >= csm_ts_sub(ref, age)))
        return 0;
    snprintf(reason, reason_len,
             "timestamp %lld is %lld ms from the partition's event time %lld (limit %lld ms)",
             (long long)ts, (long long)csm_ts_sub(ts, ref), (long long)ref, (long long)age);
    return -1;
}

csm_verdict csm_engine_precheck_decoded(const csm_engine *e, const csm_event *ev, char *reason,
                                        size_t reason_len)
{
    if (csm_time_bounds_check(bounds_of(e), ev->ts, e->wall_now, reason, reason_len) != 0 ||
        check_event_age(e, ev->ts, reason, reason_len) != 0)
        return CSM_VERDICT_DEADLETTER;
    return CSM_VERDICT_ACCEPTED;
}

csm_verdict csm_engine_precheck(const csm_engine *e, const csm_event *ev, char *reason,
                                size_t reason_len)
{
    if (csm_event_validate(ev, reason, reason_len) != 0)
        return CSM_VERDICT_DEADLETTER;
    return csm_engine_precheck_decoded(e, ev, reason, reason_len);
}

/* csm_engine_offer(); @p validated: the event passed csm_event_validate(). */
static csm_verdict offer(csm_engine *e, const csm_event *ev, int validated, char *reason,
                         size_t reason_len)
{
    csm_stream s = ev->stream == CSM_STREAM_ORDER ? CSM_STREAM_ORDER : CSM_STREAM_CHAT;
    e->stats.offered[s]++;
    csm_engine_state_changed(e);
    if ((validated ? csm_engine_precheck_decoded(e, ev, reason, reason_len)
                   : csm_engine_precheck(e, ev, reason, reason_len)) != CSM_VERDICT_ACCEPTED) {
        e->stats.deadletter[s]++;
        return CSM_VERDICT_DEADLETTER;
    }
    uint64_t h = csm_dedup_hash(s, ev->event_id);
    if (csm_dedup_contains(&e->dedup, h)) {
        snprintf(reason, reason_len, "duplicate event_id %s", ev->event_id);
        e->stats.duplicate[s]++;
        return CSM_VERDICT_DUPLICATE;
    }
    csm_ts frontier = frontier_of(e);
    if (frontier != CSM_TS_NONE && ev->ts < frontier) {
        snprintf(
            reason, reason_len, "late: %lld ms behind the partition's event time (allowed %lld)",
            (long long)csm_ts_sub(e->event_time, ev->ts), (long long)e->cfg->allowed_lateness_ms);
        e->stats.late[s]++;
        return CSM_VERDICT_LATE;
    }
    if (csm_reorder_push(&e->buffer, e->arrival_seq, ev) != 0) {
        snprintf(reason, reason_len, "event too large (strings over %d bytes)",
                 CSM_EVENT_STRINGS_MAX);
        e->stats.deadletter[s]++;
        return CSM_VERDICT_DEADLETTER;
    }
    e->arrival_seq++;
    csm_dedup_add(&e->dedup, h, ev->ts);
    e->stats.accepted[s]++;
    if (e->event_time == CSM_TS_NONE || ev->ts > e->event_time)
        e->event_time = ev->ts;
    forget_old_ids(e);
    drain(e, frontier_of(e));
    return CSM_VERDICT_ACCEPTED;
}

csm_verdict csm_engine_offer(csm_engine *e, const csm_event *ev, char *reason, size_t reason_len)
{
    return offer(e, ev, 0, reason, reason_len);
}

csm_verdict csm_engine_offer_decoded(csm_engine *e, const csm_event *ev, char *reason,
                                     size_t reason_len)
{
    return offer(e, ev, 1, reason, reason_len);
}

void csm_engine_advance_to(csm_engine *e, csm_ts w)
{
    if (e->event_time != CSM_TS_NONE && w <= e->event_time)
        return;
    e->event_time = w;
    csm_engine_state_clock(e);
    forget_old_ids(e);
    drain(e, frontier_of(e));
}

void csm_engine_finish(csm_engine *e)
{
    /* Every buffered event is at or before W, so the horizon is known
     * before draining; a timer that keeps re-arming stops there. */
    csm_ts last = e->applied_max > e->event_time ? e->applied_max : e->event_time;
    if (last == CSM_TS_NONE)
        return;
    csm_ts horizon = csm_ts_add(last, FINISH_HORIZON_MS);
    drain(e, horizon);
    csm_ts deadline;
    while (csm_timers_peek(&e->timers, &deadline) && deadline <= horizon)
        fire_next_timer(e);
}

csm_ts csm_engine_event_time(const csm_engine *e)
{
    return e->event_time;
}
size_t csm_engine_buffered(const csm_engine *e)
{
    return csm_reorder_count(&e->buffer);
}
const csm_engine_stats *csm_engine_stats_get(const csm_engine *e)
{
    return &e->stats;
}
csm_deltas *csm_engine_deltas(csm_engine *e)
{
    return e->deltas;
}

csm_deltas *csm_engine_frozen_deltas(csm_engine *e)
{
    return e->frozen;
}

void csm_engine_move_deltas(csm_engine *to, csm_engine *from)
{
    csm_deltas *d = to->deltas;
    to->deltas = from->deltas;
    from->deltas = d;
    d = to->frozen; /* the shadow goes with the names it shares */
    to->frozen = from->frozen;
    from->frozen = d;
}

uint64_t csm_engine_state_entries(const csm_engine *e)
{
    uint64_t n = 0;
    for (size_t i = 0; i < e->chain->n; i++)
        n += csm_engine_plugin_entries(e, i);
    return n;
}

uint64_t csm_engine_plugin_entries(const csm_engine *e, size_t i)
{
    const csm_plugin *p = e->chain->links[i].plugin;
    return p->state_entries ? p->state_entries(e->ctx[i], (csm_host *)&e->hosts[i]) : 0;
}

uint64_t csm_engine_plugin_ns(const csm_engine *e, size_t i)
{
    return e->timing.ns[i];
}

const csm_plugin_stat *csm_engine_plugin_stats(const csm_engine *e, size_t *n)
{
    *n = e->n_plugin_stats;
    return e->plugin_stats;
}

size_t csm_engine_timers_pending(const csm_engine *e)
{
    return csm_timers_count(&e->timers);
}

void csm_engine_keep_alerts(csm_engine *e, int keep)
{
    e->alerts.keep = keep;
}

csm_alert_outbox *csm_engine_alerts(csm_engine *e)
{
    return &e->alerts;
}

csm_ts csm_engine_clock(const csm_engine *e)
{
    return frontier_of(e);
}
