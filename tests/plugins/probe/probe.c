/* A plugin for testing the engine itself: it counts what it is given and
 * notices when the engine breaks its ordering promises. Not installed. */
#include <stddef.h>

#include "csmetrics/plugin.h"

typedef struct probe {
    int64_t timer_after_ms; /* config: 0 = no timers */
    csm_ts last_event_ts;
} probe;

static const csm_config_entry probe_config[] = {
    {CSM_CONFIG_DURATION, "timer_after", "0", offsetof(probe, timer_after_ms),
     "set a timer this long after every event (0: none)"},
    {CSM_CONFIG_END, NULL, NULL, 0, NULL}};

static void count(csm_host *h, const csm_event *ev, csm_ts anchor, csm_scope scope,
                  const char *subject, const char *name, uint32_t flags)
{
    csm_count c = {.struct_size = sizeof c,
                   .shop_id = ev ? ev->shop_id : "probe",
                   .platform = ev ? ev->platform : CSM_PLATFORM_DOUYIN,
                   .anchor_ts = anchor,
                   .scope = scope,
                   .subject = subject,
                   .name = name,
                   .flags = flags,
                   .delta = 1};
    csm_emit_count(h, &c);
}

static int probe_init(void *ctx, csm_host *h)
{
    probe *p = ctx;
    p->last_event_ts = CSM_TS_NONE;
    return 0;
}

static void probe_on_event(void *ctx, csm_host *h, const csm_event *ev)
{
    probe *p = ctx;
    if (p->last_event_ts != CSM_TS_NONE && ev->ts < p->last_event_ts)
        count(h, ev, ev->ts, CSM_SCOPE_SHOP, NULL, "out_of_order", 0);
    p->last_event_ts = ev->ts;
    count(h, ev, ev->ts, CSM_SCOPE_SHOP, NULL, "events", CSM_COUNT_HOURLY);
    if (ev->stream == CSM_STREAM_CHAT && ev->chat.agent_id)
        count(h, ev, ev->ts, CSM_SCOPE_AGENT, ev->chat.agent_id, "events", 0);
    csm_set_member m = {sizeof m, ev->shop_id, ev->platform, ev->ts, "customers", ev->customer_id};
    csm_emit_set_add(h, &m);
    if (ev->stream == CSM_STREAM_CHAT && ev->chat.type == CSM_CHAT_RATED && ev->chat.has_stars &&
        ev->chat.stars == 1) {
        csm_alert a = {.struct_size = sizeof a,
                       .type = "PROBE",
                       .shop_id = ev->shop_id,
                       .customer_id = ev->customer_id,
                       .session_open_ts = ev->ts,
                       .anchor_ts = ev->ts,
                       .raised_ts = csm_now(h),
                       .figure = ev->chat.stars,
                       .platform = ev->platform};
        csm_emit_alert(h, &a);
    }
    if (p->timer_after_ms > 0)
        csm_timer_set(h, ev->ts + p->timer_after_ms, 0, 1);
}

static void probe_on_timer(void *ctx, csm_host *h, const csm_timer *t)
{
    probe *p = ctx;
    csm_event shop = {.shop_id = "s1", .platform = CSM_PLATFORM_DOUYIN};
    count(h, &shop, t->deadline, CSM_SCOPE_SHOP, NULL, "timers", 0);
    if (p->last_event_ts != CSM_TS_NONE && p->last_event_ts > t->deadline)
        count(h, &shop, t->deadline, CSM_SCOPE_SHOP, NULL, "timer_late", 0);
    if (p->last_event_ts == t->deadline)
        count(h, &shop, t->deadline, CSM_SCOPE_SHOP, NULL, "timer_after_event_at_deadline", 0);
}

static int probe_snapshot(void *ctx, csm_host *h, csm_writer *w)
{
    csm_api->put_i64(w, ((probe *)ctx)->last_event_ts);
    return 0;
}

static int probe_restore(void *ctx, csm_host *h, csm_reader *r)
{
    return csm_api->get_i64(r, &((probe *)ctx)->last_event_ts);
}

static const csm_plugin probe_plugin = {
    .struct_size = sizeof(csm_plugin),
    .abi_major = CSM_PLUGIN_ABI_MAJOR,
    .abi_minor = CSM_PLUGIN_ABI_MINOR,
    .name = "probe",
    .description = "engine test probe",
    .version = "1",
    .ctx_size = sizeof(probe),
    .config_map = probe_config,
    .subscribe = CSM_SUBSCRIBE_CHAT | CSM_SUBSCRIBE_ORDER,
    .init = probe_init,
    .on_event = probe_on_event,
    .on_timer = probe_on_timer,
    .snapshot = probe_snapshot,
    .restore = probe_restore,
};

CSM_PLUGIN_DEFINE(probe_plugin)
