/* The unserved detector (人工不服务): builds on the session builder's
 * derived events and counts, per metrics.md,
 *   - unserved_offline: human-requested sessions with an OFFLINE_MESSAGE
 *     of any reason, once per session, as soon as both are known;
 *   - unserved_noreply: assigned sessions closed without any human reply,
 *     not already counted in unserved_offline, decided at the close;
 * both anchored at the request time, with the hourly series "unserved";
 * per agent unserved_noreply (the session's agent at close); and the
 * UNSERVED alert for each session counted in unserved_noreply. See
 * plugins/unserved/README.md. */
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "csmetrics/plugin.h"

/* Version of the entries save_entry() writes (README.md "State"). */
#define UNSERVED_STATE_VERSION 1

/* An open session already counted in unserved_offline. Nothing else is
 * kept: every other input is on the session builder's view. Its
 * checkpoint entry is keyed by the session id and empty: being there is
 * the whole state. */
typedef struct counted {
    uint64_t id;
    UT_hash_handle hh;
} counted;

typedef struct unserved_ctx {
    counted *offline; /* open sessions counted in unserved_offline, by id */
} unserved_ctx;

static const csm_config_entry config_map[] = {{CSM_CONFIG_END, NULL, NULL, 0, NULL}};

static counted *find(unserved_ctx *c, uint64_t id)
{
    counted *e;
    HASH_FIND(hh, c->offline, &id, sizeof id, e);
    return e;
}

static int remember(unserved_ctx *c, uint64_t id)
{
    if (find(c, id))
        return 0;
    counted *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    e->id = id;
    HASH_ADD(hh, c->offline, id, sizeof e->id, e);
    return 0;
}

static void forget(unserved_ctx *c, csm_host *h, uint64_t id)
{
    counted *e = find(c, id);
    if (e) {
        HASH_DEL(c->offline, e);
        free(e);
        csm_state_touch(h, id);
    }
}

static void clear(unserved_ctx *c)
{
    counted *e, *tmp;
    HASH_ITER(hh, c->offline, e, tmp)
    {
        HASH_DEL(c->offline, e);
        free(e);
    }
}

static void unserved_destroy(void *vctx, csm_host *h)
{
    (void)h;
    clear(vctx);
}

static uint64_t unserved_state_entries(void *vctx, csm_host *h)
{
    (void)h;
    unserved_ctx *c = vctx;
    return HASH_COUNT(c->offline);
}

/* One shop figure anchored at the request, also in the hourly series
 * "unserved" (= unserved_offline + unserved_noreply). */
static void count_shop(csm_host *h, const csm_session *s, const char *name)
{
    csm_count k = {.struct_size = sizeof k,
                   .shop_id = s->shop_id,
                   .platform = s->platform,
                   .anchor_ts = s->request_ts,
                   .scope = CSM_SCOPE_SHOP,
                   .name = name,
                   .hourly_name = "unserved",
                   .flags = CSM_COUNT_HOURLY,
                   .delta = 1};
    csm_emit_count(h, &k);
}

/* Counts unserved_offline once both the request and an OFFLINE_MESSAGE
 * are known, whichever came first. */
static void check_offline(unserved_ctx *c, csm_host *h, const csm_session *s)
{
    if (!s->offline || s->request_ts == CSM_TS_NONE || find(c, s->id))
        return;
    if (remember(c, s->id)) {
        csm_log(h, 0, "unserved: out of memory, session %llu not tracked",
                (unsigned long long)s->id);
        return;
    }
    csm_state_touch(h, s->id);
    count_shop(h, s, "unserved_offline");
}

static void on_closed(unserved_ctx *c, csm_host *h, const csm_session *s)
{
    int offline_counted = find(c, s->id) != NULL;
    forget(c, h, s->id);
    if (offline_counted || s->request_ts == CSM_TS_NONE || s->assign_ts == CSM_TS_NONE ||
        s->first_human_reply_ts != CSM_TS_NONE)
        return;
    count_shop(h, s, "unserved_noreply");
    if (s->agent_id) {
        csm_count k = {.struct_size = sizeof k,
                       .shop_id = s->shop_id,
                       .platform = s->platform,
                       .anchor_ts = s->request_ts,
                       .scope = CSM_SCOPE_AGENT,
                       .subject = s->agent_id,
                       .name = "unserved_noreply",
                       .delta = 1};
        csm_emit_count(h, &k);
    }
    csm_alert a = {.struct_size = sizeof a,
                   .type = "UNSERVED",
                   .shop_id = s->shop_id,
                   .customer_id = s->customer_id,
                   .session_open_ts = s->open_ts,
                   .agent_id = s->agent_id,
                   .anchor_ts = s->request_ts,
                   .raised_ts = csm_now(h),
                   .figure = s->close_ts - s->request_ts,
                   .platform = s->platform};
    csm_emit_alert(h, &a);
}

static void unserved_on_derived(void *vctx, csm_host *h, const csm_derived *d)
{
    unserved_ctx *c = vctx;
    const csm_session *s = d->session;
    if (!s)
        return;
    switch (d->type) {
    case CSM_SESSION_HUMAN_REQUESTED:
    case CSM_SESSION_OFFLINE_MESSAGE:
        check_offline(c, h, s);
        break;
    case CSM_SESSION_CLOSED:
        on_closed(c, h, s);
        break;
    default:
        break;
    }
}

static int unserved_save_entry(void *vctx, csm_host *h, uint64_t key, csm_writer *w)
{
    (void)h;
    (void)w;
    return find(vctx, key) ? 0 : 1;
}

static int unserved_load_entry(void *vctx, csm_host *h, uint64_t key, uint32_t version,
                               csm_reader *r)
{
    (void)r;
    if (version != UNSERVED_STATE_VERSION) {
        csm_log(h, 0, "unserved: state version %u is not %u", version, UNSERVED_STATE_VERSION);
        return -1;
    }
    return remember(vctx, key);
}

/* The figures of metrics.md this plugin emits, and the rates and averages
 * made of them, for the report, the exporter and the dashboard. */
static const csm_figure_decl figures[] = {
    CSM_FIGURE(.name = "unserved_offline", .label = "unserved: offline", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD, .group = "core monitor"),
    CSM_FIGURE(.name = "unserved_noreply", .label = "unserved: no reply", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD | CSM_FIGURE_AGENTS,
               .group = "core monitor", .flags = CSM_FIGURE_SUMMARY),
    CSM_FIGURE(.name = "unserved", .label = "unserved", .unit = "count", .kind = CSM_FIGURE_COUNTER,
               .where = CSM_FIGURE_HOURLY, .group = "core monitor"),
    CSM_FIGURE(.name = "unserved_rate", .label = "unserved", .unit = "ratio",
               .kind = CSM_FIGURE_RATE, .num = "unserved_offline", .num2 = "unserved_noreply",
               .den = "human_requested", .group = "core monitor", .target = 0.05,
               .target_dir = CSM_TARGET_AT_MOST),
    {0},
};

static const csm_alert_decl alerts[] = {
    CSM_ALERT_TYPE(.type = "UNSERVED", .label = "unserved session", .unit = "ms"),
    {0},
};

/* Requests, offline messages and closes come from the session builder. */
static const char *const needs[] = {"session", NULL};

static const csm_plugin descriptor = {
    .struct_size = sizeof(csm_plugin),
    .abi_major = CSM_PLUGIN_ABI_MAJOR,
    .abi_minor = CSM_PLUGIN_ABI_MINOR,
    .name = "unserved",
    .description = "unserved detector: unserved_offline, unserved_noreply, UNSERVED alerts",
    .version = "0.1.0",
    .ctx_size = sizeof(unserved_ctx),
    .config_map = config_map,
    .subscribe = CSM_SUBSCRIBE_DERIVED,
    .destroy = unserved_destroy,
    .on_derived = unserved_on_derived,
    .state_entries = unserved_state_entries,
    .needs = needs,
    .state_version = UNSERVED_STATE_VERSION,
    .save_entry = unserved_save_entry,
    .load_entry = unserved_load_entry,
    .figures = figures,
    .alerts = alerts,
};

CSM_PLUGIN_DEFINE(descriptor)
