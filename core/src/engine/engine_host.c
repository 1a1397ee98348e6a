/* The host API of plugin.h: what a plugin's calls turn into. Counters,
 * set members and alerts become pending writes keyed by interned ids (the
 * store builds their Redis keys, docs/redis-keys.md, at flush time);
 * days, hours and windows are the shop's (shoptime.c). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bytebuf.h"
#include "engine_internal.h"
#include "civil_day.h"
#include "sat_target.h"
#include "log.h"

/* Derived events published from within derived-event handlers: deeper
 * than this is a plugin bug (a publish loop), not a design. */
#define MAX_PUBLISH_DEPTH 16

static void host_log(csm_host *h, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    csm_vlogf(level, h->engine->chain->links[h->index].plugin->name, fmt, ap);
    va_end(ap);
}

static void host_publish(csm_host *h, const csm_derived *d)
{
    csm_engine *e = h->engine;
    if (e->publish_depth >= MAX_PUBLISH_DEPTH) {
        host_log(h, CSM_LOG_ERROR, "derived event '%s' dropped: publish depth over %d",
                 d->name ? d->name : "?", MAX_PUBLISH_DEPTH);
        return;
    }
    e->publish_depth++;
    for (size_t j = h->index + 1; j < e->chain->n; j++) {
        const csm_plugin *p = e->chain->links[j].plugin;
        if ((p->subscribe & CSM_SUBSCRIBE_DERIVED) && p->on_derived) {
            int prev = csm_engine_time_enter(e, (int)j);
            p->on_derived(e->ctx[j], &e->hosts[j], d);
            csm_engine_time_leave(e, prev);
        }
    }
    e->publish_depth--;
}

/* A timer is saved in the record of its (plugin, key): setting,
 * cancelling or firing one changes that record. */
static uint64_t host_timer_set(csm_host *h, csm_ts deadline, uint64_t key, uint32_t tag)
{
    csm_engine_state_touch(h->engine, h->index, key);
    return csm_timers_add(&h->engine->timers, deadline, h->index, key, tag);
}

static int host_timer_cancel(csm_host *h, uint64_t id)
{
    uint64_t key;
    if (csm_timers_cancel(&h->engine->timers, id, h->index, &key))
        return -1;
    csm_engine_state_touch(h->engine, h->index, key);
    return 0;
}

static csm_ts host_now(csm_host *h)
{
    return h->engine->now;
}

/* Keys of a shop's day expire day_ttl_days after the day starts. Counts
 * come in runs of one shop and day, so the last answer is kept. */
static int64_t expiry_of(csm_engine *e, const char *shop, uint32_t shop_id, int32_t day)
{
    csm_expiry_memo *m = &e->expiry_memo;
    if (!m->valid || m->shop != shop_id || m->day != day) {
        csm_ts start = csm_shoptime_day_start(e->st, shop, day);
        *m = (csm_expiry_memo){1, shop_id, day, start / 1000 + e->cfg->day_ttl_days * 86400};
    }
    return m->expire_at;
}

static void note_shop(csm_engine *e, uint32_t shop_id)
{
    static const csm_dkey shops = {CSM_KEY_SHOPS, CSM_INTERN_NONE, 0, CSM_INTERN_NONE};
    csm_deltas_sadd_id(e->deltas, &shops, shop_id, 0);
}

static uint32_t intern_or_none(csm_intern *names, const char *s)
{
    return s ? csm_intern_id(names, s) : CSM_INTERN_NONE;
}

/* The figure's field, and with an hour, its hourly series' field. */
static void add_to_hash(csm_engine *e, const csm_dkey *k, const csm_count *c, uint32_t name,
                        uint32_t split, int hour, int64_t expire)
{
    csm_deltas_hincr(e->deltas, k, name, split, -1, c->delta, expire);
    if (hour >= 0) {
        uint32_t hn =
            c->hourly_name ? csm_intern_id(csm_deltas_names(e->deltas), c->hourly_name) : name;
        csm_deltas_hincr(e->deltas, k, hn, CSM_INTERN_NONE, hour, c->delta, expire);
    }
}

static void count_shop(csm_engine *e, const csm_count *c, csm_dkey *k, uint32_t name,
                       uint32_t split, int64_t expire)
{
    int hour = (c->flags & CSM_COUNT_HOURLY) && !c->split
                   ? csm_shoptime_hour(e->st, c->shop_id, c->anchor_ts)
                   : -1;
    k->kind = CSM_KEY_ALLDAY;
    add_to_hash(e, k, c, name, split, hour, expire);
    if (!csm_shoptime_in_window(e->st, c->shop_id, c->platform, c->anchor_ts))
        return;
    k->kind = CSM_KEY_BOARD;
    add_to_hash(e, k, c, name, split, hour, expire);
    if (!c->split && !strcmp(c->name, "rated"))
        csm_sbt_note(e->deltas, e->st, c->shop_id, k->shop, c->platform, k->day);
}

/* The subject's hash, and the subject in the day's set of subjects. */
static void count_subject(csm_engine *e, const csm_count *c, csm_dkey *k, uint32_t name,
                          uint32_t split, int64_t expire)
{
    int agent = c->scope == CSM_SCOPE_AGENT;
    k->kind = agent ? CSM_KEY_AGENT : CSM_KEY_INTENT;
    k->name = csm_intern_id(csm_deltas_names(e->deltas), c->subject);
    csm_deltas_hincr(e->deltas, k, name, split, -1, c->delta, expire);
    uint32_t subject = k->name;
    k->kind = agent ? CSM_KEY_AGENTS : CSM_KEY_INTENTS;
    k->name = CSM_INTERN_NONE;
    csm_deltas_sadd_id(e->deltas, k, subject, expire);
}

static void host_count(csm_host *h, const csm_count *c)
{
    csm_engine *e = h->engine;
    if (!c || !c->shop_id || !c->name || c->delta == 0)
        return;
    int subject = c->scope == CSM_SCOPE_AGENT || c->scope == CSM_SCOPE_INTENT;
    if ((!subject && c->scope != CSM_SCOPE_SHOP) || (subject && !c->subject))
        return;
    csm_intern *names = csm_deltas_names(e->deltas);
    csm_dkey k = {CSM_KEY_ALLDAY, csm_intern_id(names, c->shop_id),
                  csm_shoptime_day(e->st, c->shop_id, c->anchor_ts), CSM_INTERN_NONE};
    int64_t expire = expiry_of(e, c->shop_id, k.shop, k.day);
    uint32_t name = csm_intern_id(names, c->name), split = intern_or_none(names, c->split);
    if (subject)
        count_subject(e, c, &k, name, split, expire);
    else
        count_shop(e, c, &k, name, split, expire);
    note_shop(e, k.shop);
}

static void host_set_add(csm_host *h, const csm_set_member *m)
{
    csm_engine *e = h->engine;
    if (!m || !m->shop_id || !m->name || !m->member)
        return;
    csm_intern *names = csm_deltas_names(e->deltas);
    csm_dkey k = {CSM_KEY_SET, csm_intern_id(names, m->shop_id),
                  csm_shoptime_day(e->st, m->shop_id, m->anchor_ts), csm_intern_id(names, m->name)};
    int64_t expire = expiry_of(e, m->shop_id, k.shop, k.day);
    csm_deltas_sadd_str(e->deltas, &k, m->member, expire);
    /* The board counts a member only for an anchor in the window, like a
     * counter: a set of its own, so its SCARD needs no filtering. */
    if (csm_shoptime_in_window(e->st, m->shop_id, m->platform, m->anchor_ts)) {
        k.kind = CSM_KEY_BOARDSET;
        csm_deltas_sadd_str(e->deltas, &k, m->member, expire);
    }
    note_shop(e, k.shop);
}

static void host_alert(csm_host *h, const csm_alert *a)
{
    csm_engine *e = h->engine;
    if (!a || !a->type || !a->shop_id)
        return;
    char open_ts[24], anchor[24], raised[24], figure[24], day[11];
    /* Shop-level alerts have no session: an empty value, null in Avro. */
    if (a->session_open_ts == CSM_TS_NONE)
        open_ts[0] = 0;
    else
        snprintf(open_ts, sizeof open_ts, "%lld", (long long)a->session_open_ts);
    snprintf(anchor, sizeof anchor, "%lld", (long long)a->anchor_ts);
    snprintf(raised, sizeof raised, "%lld", (long long)a->raised_ts);
    snprintf(figure, sizeof figure, "%lld", (long long)a->figure);
    csm_day_format(csm_shoptime_day(e->st, a->shop_id, a->anchor_ts), day);
    const char *values[CSM_ALERT_NFIELDS] = {[CSM_ALERT_TYPE] = a->type,
                                             [CSM_ALERT_SHOP_ID] = a->shop_id,
                                             [CSM_ALERT_CUSTOMER_ID] =
                                                 a->customer_id ? a->customer_id : "",
                                             [CSM_ALERT_SESSION_OPEN_TS] = open_ts,
                                             [CSM_ALERT_AGENT_ID] = a->agent_id ? a->agent_id : "",
                                             [CSM_ALERT_ANCHOR_TS] = anchor,
                                             [CSM_ALERT_RAISED_TS] = raised,
                                             [CSM_ALERT_FIGURE] = figure,
                                             [CSM_ALERT_DAY] = day,
                                             [CSM_ALERT_PLATFORM] = csm_platform_name(a->platform)};
    const char *fv[2 * CSM_ALERT_NFIELDS];
    csm_alert_fv(values, fv);
    csm_alert_outbox_push(&e->alerts, values);
    csm_dkey k = {CSM_KEY_ALERTS, csm_intern_id(csm_deltas_names(e->deltas), a->shop_id), 0,
                  CSM_INTERN_NONE};
    csm_deltas_xadd(e->deltas, &k, (long)e->cfg->alerts_maxlen, fv, sizeof fv / sizeof *fv);
    note_shop(e, k.shop);
}

static int32_t host_local_day(csm_host *h, const char *shop, csm_ts ts)
{
    return csm_shoptime_day(h->engine->st, shop, ts);
}

static csm_ts host_day_start(csm_host *h, const char *shop, int32_t day)
{
    return csm_shoptime_day_start(h->engine->st, shop, day);
}

static int host_local_hour(csm_host *h, const char *shop, csm_ts ts)
{
    return csm_shoptime_hour(h->engine->st, shop, ts);
}

static const char *host_shop_setting(csm_host *h, const char *shop, const char *key)
{
    return csm_shoptime_setting(h->engine->st, shop, key);
}

static void host_stat_add(csm_host *h, const char *name, int64_t delta)
{
    csm_engine *e = h->engine;
    for (size_t i = 0; i < e->n_plugin_stats; i++) {
        csm_plugin_stat *s = &e->plugin_stats[i];
        if (s->plugin == h->index && !strcmp(s->name, name)) {
            s->value += delta;
            return;
        }
    }
    if (e->n_plugin_stats == CSM_MAX_PLUGIN_STATS)
        return;
    csm_plugin_stat *s = &e->plugin_stats[e->n_plugin_stats++];
    s->plugin = h->index;
    snprintf(s->name, sizeof s->name, "%s", name);
    s->value = delta;
}

static void host_state_touch(csm_host *h, uint64_t key)
{
    csm_engine_state_touch(h->engine, h->index, key);
}

static int host_get_i64(csm_reader *r, int64_t *v)
{
    return csm_reader_get_i64(r, v);
}
static int host_get_str(csm_reader *r, char **s)
{
    return csm_reader_get_str(r, s);
}

const csm_host_api csm_host_api_v1 = {
    .struct_size = sizeof(csm_host_api),
    .abi_major = CSM_PLUGIN_ABI_MAJOR,
    .abi_minor = CSM_PLUGIN_ABI_MINOR,
    .log = host_log,
    .publish = host_publish,
    .timer_set = host_timer_set,
    .timer_cancel = host_timer_cancel,
    .now = host_now,
    .count = host_count,
    .set_add = host_set_add,
    .alert = host_alert,
    .local_day = host_local_day,
    .day_start = host_day_start,
    .local_hour = host_local_hour,
    .put_i64 = csm_writer_put_i64,
    .put_str = csm_writer_put_str,
    .get_i64 = host_get_i64,
    .get_str = host_get_str,
    .shop_setting = host_shop_setting,
    .stat_add = host_stat_add,
    .state_touch = host_state_touch,
};
