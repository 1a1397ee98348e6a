/* A plugin with per-entry state (ABI 1.2 save_entry/load_entry), for
 * testing incremental checkpoints: one entry per (shop, customer) holding
 * its event count and its pending idle timer. Every event counts
 * "tally_events"; a customer's second and later events count
 * "tally_repeat"; with `idle` set, a customer silent that long counts
 * "tally_idle" and is forgotten. Not installed.
 *
 * CSM_TALLY_STATE_VERSION (environment, read when the plugin is loaded)
 * overrides the state version it declares, so a test can write a newer
 * state than the plugin reads. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "csmetrics/plugin.h"

#define TALLY_MAX 4096

typedef struct entry {
    uint64_t key; /* 0: free slot */
    char *shop, *customer;
    int64_t count;
    int64_t timer; /* pending idle timer id, 0 none */
} entry;

typedef struct tally {
    int64_t idle_ms; /* config */
    entry *e;        /* TALLY_MAX slots */
    uint64_t live;
} tally;

static const csm_config_entry tally_config[] = {{CSM_CONFIG_DURATION, "idle", "0",
                                                 offsetof(tally, idle_ms),
                                                 "forget a customer silent this long (0: never)"},
                                                {CSM_CONFIG_END, NULL, NULL, 0, NULL}};

static uint64_t key_of(const char *shop, const char *customer)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = shop; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const char *p = customer; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h ? h : 1;
}

static entry *find(tally *t, uint64_t key, int create)
{
    entry *free_slot = NULL;
    for (size_t i = 0; i < TALLY_MAX; i++) {
        if (t->e[i].key == key)
            return &t->e[i];
        if (!t->e[i].key && !free_slot)
            free_slot = &t->e[i];
    }
    if (!create || !free_slot)
        return NULL;
    free_slot->key = key;
    t->live++;
    return free_slot;
}

static void forget(tally *t, entry *x)
{
    free(x->shop);
    free(x->customer);
    memset(x, 0, sizeof *x);
    t->live--;
}

static int tally_init(void *ctx, csm_host *h)
{
    (void)h;
    tally *t = ctx;
    t->e = calloc(TALLY_MAX, sizeof *t->e);
    return t->e ? 0 : -1;
}

static void tally_destroy(void *ctx, csm_host *h)
{
    (void)h;
    tally *t = ctx;
    for (size_t i = 0; i < TALLY_MAX; i++)
        if (t->e[i].key)
            forget(t, &t->e[i]);
    free(t->e);
}

static void emit(csm_host *h, const char *shop, csm_platform platform, csm_ts ts, const char *name)
{
    csm_count c = {.struct_size = sizeof c,
                   .shop_id = shop,
                   .platform = platform,
                   .anchor_ts = ts,
                   .scope = CSM_SCOPE_SHOP,
                   .name = name,
                   .delta = 1};
    csm_emit_count(h, &c);
}

static void tally_on_event(void *ctx, csm_host *h, const csm_event *ev)
{
    tally *t = ctx;
    uint64_t key = key_of(ev->shop_id, ev->customer_id);
    entry *x = find(t, key, 1);
    if (!x)
        return;
    if (!x->shop) {
        x->shop = strdup(ev->shop_id);
        x->customer = strdup(ev->customer_id);
    }
    x->count++;
    emit(h, ev->shop_id, ev->platform, ev->ts, "tally_events");
    if (x->count >= 2)
        emit(h, ev->shop_id, ev->platform, ev->ts, "tally_repeat");
    if (t->idle_ms > 0) {
        if (x->timer)
            csm_timer_cancel(h, (uint64_t)x->timer);
        x->timer = (int64_t)csm_timer_set(h, ev->ts + t->idle_ms, key, 1);
    }
    csm_state_touch(h, key);
}

static void tally_on_timer(void *ctx, csm_host *h, const csm_timer *tm)
{
    tally *t = ctx;
    entry *x = find(t, tm->key, 0);
    if (!x || x->timer != (int64_t)tm->id)
        return;
    emit(h, x->shop, CSM_PLATFORM_DOUYIN, tm->deadline, "tally_idle");
    forget(t, x);
    csm_state_touch(h, tm->key);
}

static int tally_save_entry(void *ctx, csm_host *h, uint64_t key, csm_writer *w)
{
    (void)h;
    entry *x = find(ctx, key, 0);
    if (!x)
        return 1;
    csm_api->put_str(w, x->shop);
    csm_api->put_str(w, x->customer);
    csm_api->put_i64(w, x->count);
    csm_api->put_i64(w, x->timer);
    return 0;
}

static int tally_load_entry(void *ctx, csm_host *h, uint64_t key, uint32_t version, csm_reader *r)
{
    (void)h;
    (void)version;
    tally *t = ctx;
    entry *x = find(t, key, 1);
    if (!x || x->shop || csm_api->get_str(r, &x->shop) || csm_api->get_str(r, &x->customer) ||
        csm_api->get_i64(r, &x->count) || csm_api->get_i64(r, &x->timer))
        return -1;
    return 0;
}

static uint64_t tally_state_entries(void *ctx, csm_host *h)
{
    (void)h;
    return ((tally *)ctx)->live;
}

static csm_plugin tally_plugin = {
    .struct_size = sizeof(csm_plugin),
    .abi_major = CSM_PLUGIN_ABI_MAJOR,
    .abi_minor = CSM_PLUGIN_ABI_MINOR,
    .name = "tally",
    .description = "incremental checkpoint test plugin",
    .version = "1",
    .ctx_size = sizeof(tally),
    .config_map = tally_config,
    .subscribe = CSM_SUBSCRIBE_CHAT | CSM_SUBSCRIBE_ORDER,
    .init = tally_init,
    .destroy = tally_destroy,
    .on_event = tally_on_event,
    .on_timer = tally_on_timer,
    .state_entries = tally_state_entries,
    .state_version = 1,
    .save_entry = tally_save_entry,
    .load_entry = tally_load_entry,
};

const csm_host_api *csm_api;
__attribute__((visibility("default"))) const csm_plugin *csm_plugin_entry(const csm_host_api *api);
const csm_plugin *csm_plugin_entry(const csm_host_api *api)
{
    if (!api || api->abi_major != CSM_PLUGIN_ABI_MAJOR || api->struct_size < sizeof(csm_host_api))
        return NULL;
    csm_api = api;
    const char *v = getenv("CSM_TALLY_STATE_VERSION");
    tally_plugin.state_version = v ? (uint32_t)atoi(v) : 1;
    return &tally_plugin;
}
