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

typedef struct entry {
    uint64_t key; /* 0: free slot */
    char *shop, *customer;
    int64_t count;
    int64_t timer; /* pending idle timer id, 0 none */
} entry;

/* Open addressing with linear probing, grown at 3/4: enough entries for
 * tests/tools/ckpt_bench (hundreds of thousands of customers). */
typedef struct tally {
    int64_t idle_ms; /* config */
    entry *e;
    size_t cap;
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

static size_t slot_of(const tally *t, uint64_t key)
{
    size_t i = (size_t)(key * 0x9e3779b97f4a7c15ULL) & (t->cap - 1);
    while (t->e[i].key && t->e[i].key != key)
        i = (i + 1) & (t->cap - 1);
    return i;
}

static void grow(tally *t)
{
    entry *old = t->e;
    size_t old_cap = t->cap;
    t->cap = old_cap ? old_cap * 2 : 1024;
    t->e = calloc(t->cap, sizeof *t->e);
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key)
            t->e[slot_of(t, old[i].key)] = old[i];
    free(old);
}

static entry *find(tally *t, uint64_t key, int create)
{
    if (create && (t->live + 1) * 4 > t->cap * 3)
        grow(t);
    entry *x = &t->e[slot_of(t, key)];
    if (x->key || !create)
        return x->key ? x : NULL;
    x->key = key;
    t->live++;
    return x;
}

/* Backward-shift deletion keeps probe chains whole without tombstones. */
static void forget(tally *t, entry *x)
{
    free(x->shop);
    free(x->customer);
    size_t mask = t->cap - 1, i = (size_t)(x - t->e);
    memset(x, 0, sizeof *x);
    t->live--;
    for (size_t j = (i + 1) & mask; t->e[j].key; j = (j + 1) & mask) {
        size_t h = (size_t)(t->e[j].key * 0x9e3779b97f4a7c15ULL) & mask;
        int in_between = (i <= j) ? (h > i && h <= j) : (h > i || h <= j);
        if (!in_between) {
            t->e[i] = t->e[j];
            memset(&t->e[j], 0, sizeof t->e[j]);
            i = j;
        }
    }
}

static int tally_init(void *ctx, csm_host *h)
{
    (void)h;
    grow(ctx);
    return ((tally *)ctx)->e ? 0 : -1;
}

static void tally_destroy(void *ctx, csm_host *h)
{
    (void)h;
    tally *t = ctx;
    for (size_t i = 0; i < t->cap; i++) {
        free(t->e[i].shop);
        free(t->e[i].customer);
    }
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
