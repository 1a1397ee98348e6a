/* logistics_stall: a SHIPPED order whose logistics go silent.
 *
 * An order is tracked from its SHIPPED until DELIVERED, COMPLETED or
 * CLOSED. Each LOGISTICS_UPDATE restarts its clock. When event time passes
 * the last of SHIPPED / LOGISTICS_UPDATE plus `stall_after` (48h by
 * default), the order is stalled: it raises LOGISTICS_STALLED, counts one
 * `logistics_stalled`, and is forgotten, so a later update does not
 * un-count it. Both figures are anchored at the SHIPPED, so that
 * logistics_stalled / shipments is the share of a day's shipments that
 * stalled. README.md and docs/writing-a-plugin.md walk through the code. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdlib.h>
#include <string.h>

#include "csmetrics/plugin.h"

/* Layout of a saved entry; bump it (and convert in load_entry) when it changes. */
#define STATE_VERSION 1
#define TAG_STALL 1
#define INITIAL_BUCKETS 64

/* One order in transit. Its entry key is a number this plugin assigns
 * (never 0); it is indexed both by identity (shop, order_id), for events,
 * and by key, for timers and save_entry(). */
typedef struct shipment {
    struct shipment *next_by_id, *next_by_key;
    uint64_t key;
    uint64_t timer; /* the pending stall timer */
    csm_ts ship_ts; /* the anchor of both figures */
    csm_ts last_ts; /* the last SHIPPED or LOGISTICS_UPDATE: the clock */
    csm_platform platform;
    char *shop, *order, *customer;
} shipment;

typedef struct stall_ctx {
    int64_t stall_after_ms; /* config_map */
    shipment **by_id, **by_key;
    size_t n_buckets, n;
    uint64_t next_key;
} stall_ctx;

static const csm_config_entry config_map[] = {
    {CSM_CONFIG_DURATION, "stall_after", "48h", offsetof(stall_ctx, stall_after_ms),
     "a shipped order with no logistics update for this long is stalled"},
    {CSM_CONFIG_END, NULL, NULL, 0, NULL}};

/* ---- the two indexes ---- */

static size_t id_bucket(const stall_ctx *c, const char *shop, const char *order)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a over shop '\0' order */
    for (const char *p = shop;; p++) {
        h = (h ^ (unsigned char)*p) * 1099511628211u;
        if (!*p)
            break;
    }
    for (const char *p = order; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211u;
    return (size_t)(h & (c->n_buckets - 1));
}

static size_t key_bucket(const stall_ctx *c, uint64_t key)
{
    return (size_t)(key & (c->n_buckets - 1)); /* keys are consecutive */
}

static void link_in(stall_ctx *c, shipment *s)
{
    size_t i = id_bucket(c, s->shop, s->order), k = key_bucket(c, s->key);
    s->next_by_id = c->by_id[i];
    c->by_id[i] = s;
    s->next_by_key = c->by_key[k];
    c->by_key[k] = s;
}

/* Doubles both indexes when they hold more entries than buckets. */
static int grow(stall_ctx *c)
{
    size_t nb = c->n_buckets ? c->n_buckets * 2 : INITIAL_BUCKETS;
    shipment **by_id = calloc(nb, sizeof *by_id), **by_key = calloc(nb, sizeof *by_key);
    if (!by_id || !by_key) {
        free(by_id);
        free(by_key);
        return -1;
    }
    shipment **old = c->by_key;
    size_t old_n = c->n_buckets;
    free(c->by_id);
    c->by_id = by_id;
    c->by_key = by_key;
    c->n_buckets = nb;
    for (size_t b = 0; b < old_n; b++)
        for (shipment *s = old[b], *next; s; s = next) {
            next = s->next_by_key;
            link_in(c, s);
        }
    free(old);
    return 0;
}

static shipment *find_by_id(const stall_ctx *c, const char *shop, const char *order)
{
    if (!c->n_buckets)
        return NULL;
    for (shipment *s = c->by_id[id_bucket(c, shop, order)]; s; s = s->next_by_id)
        if (!strcmp(s->order, order) && !strcmp(s->shop, shop))
            return s;
    return NULL;
}

static shipment *find_by_key(const stall_ctx *c, uint64_t key)
{
    if (!c->n_buckets)
        return NULL;
    for (shipment *s = c->by_key[key_bucket(c, key)]; s; s = s->next_by_key)
        if (s->key == key)
            return s;
    return NULL;
}

static void shipment_free(shipment *s)
{
    free(s->shop);
    free(s->order);
    free(s->customer);
    free(s);
}

/* A new entry with copies of the strings (the event's are borrowed). */
static shipment *add(stall_ctx *c, uint64_t key, const char *shop, const char *order,
                     const char *customer)
{
    if (c->n >= c->n_buckets && grow(c))
        return NULL;
    shipment *s = calloc(1, sizeof *s);
    if (!s || !(s->shop = strdup(shop)) || !(s->order = strdup(order)) ||
        !(s->customer = strdup(customer))) {
        if (s)
            shipment_free(s);
        return NULL;
    }
    s->key = key;
    link_in(c, s);
    c->n++;
    return s;
}

static void unlink_from(shipment **head, shipment *s, size_t next_offset)
{
    while (*head != s)
        head = (shipment **)((char *)*head + next_offset);
    *head = *(shipment **)((char *)s + next_offset);
}

/* Drops the entry now; the touch makes save_entry() report it gone at the
 * next flush, which deletes its saved record. */
static void forget(stall_ctx *c, csm_host *h, shipment *s)
{
    csm_state_touch(h, s->key);
    unlink_from(&c->by_id[id_bucket(c, s->shop, s->order)], s, offsetof(shipment, next_by_id));
    unlink_from(&c->by_key[key_bucket(c, s->key)], s, offsetof(shipment, next_by_key));
    c->n--;
    shipment_free(s);
}

/* ---- figures ---- */

static void count(csm_host *h, const shipment *s, const char *name)
{
    csm_count k = {.struct_size = sizeof k,
                   .shop_id = s->shop,
                   .platform = s->platform,
                   .anchor_ts = s->ship_ts,
                   .scope = CSM_SCOPE_SHOP,
                   .name = name,
                   .delta = 1};
    csm_emit_count(h, &k);
}

static void stalled(stall_ctx *c, csm_host *h, shipment *s)
{
    csm_ts now = csm_now(h);
    count(h, s, "logistics_stalled");
    csm_alert a = {.struct_size = sizeof a,
                   .type = "LOGISTICS_STALLED",
                   .shop_id = s->shop,
                   .customer_id = s->customer,
                   .session_open_ts = CSM_TS_NONE, /* about an order, not a session */
                   .anchor_ts = s->ship_ts,
                   .raised_ts = now,
                   .figure = now - s->last_ts,
                   .platform = s->platform};
    csm_emit_alert(h, &a);
    forget(c, h, s);
}

/* ---- events ---- */

static void on_shipped(stall_ctx *c, csm_host *h, const csm_event *ev)
{
    /* A repeated SHIPPED is not a new shipment and does not move the clock. */
    if (find_by_id(c, ev->shop_id, ev->order.order_id))
        return;
    shipment *s = add(c, c->next_key, ev->shop_id, ev->order.order_id, ev->customer_id);
    if (!s) {
        csm_log(h, 0, "out of memory: order %s of shop %s not tracked", ev->order.order_id,
                ev->shop_id);
        return;
    }
    c->next_key++;
    s->ship_ts = s->last_ts = ev->ts;
    s->platform = ev->platform;
    s->timer = csm_timer_set(h, ev->ts + c->stall_after_ms, s->key, TAG_STALL);
    csm_state_touch(h, s->key);
    count(h, s, "shipments");
}

static void stall_on_event(void *vctx, csm_host *h, const csm_event *ev)
{
    stall_ctx *c = vctx;
    if (ev->order.type == CSM_ORDER_SHIPPED) {
        on_shipped(c, h, ev);
        return;
    }
    shipment *s = find_by_id(c, ev->shop_id, ev->order.order_id);
    if (!s)
        return; /* never shipped, already delivered, or already stalled */
    switch (ev->order.type) {
    case CSM_ORDER_LOGISTICS_UPDATE:
        /* The pending timer stays: when it fires, it sees the newer clock
         * and sets itself again (one timer per order, no cancel per update). */
        s->last_ts = ev->ts;
        csm_state_touch(h, s->key);
        break;
    case CSM_ORDER_DELIVERED:
    case CSM_ORDER_COMPLETED:
    case CSM_ORDER_CLOSED:
        csm_timer_cancel(h, s->timer);
        forget(c, h, s);
        break;
    default:
        break;
    }
}

static void stall_on_timer(void *vctx, csm_host *h, const csm_timer *t)
{
    stall_ctx *c = vctx;
    shipment *s = find_by_key(c, t->key);
    if (t->tag != TAG_STALL || !s || s->timer != t->id)
        return;
    csm_ts due = s->last_ts + c->stall_after_ms;
    if (due > csm_now(h)) { /* updated since the timer was set */
        s->timer = csm_timer_set(h, due, s->key, TAG_STALL);
        return;
    }
    stalled(c, h, s);
}

/* ---- lifecycle ---- */

static int stall_init(void *vctx, csm_host *h)
{
    stall_ctx *c = vctx;
    if (c->stall_after_ms <= 0) {
        csm_log(h, 0, "stall_after must be positive");
        return -1;
    }
    c->next_key = 1; /* 0 would be the plugin-wide entry */
    return 0;
}

static void stall_destroy(void *vctx, csm_host *h)
{
    (void)h;
    stall_ctx *c = vctx;
    for (size_t b = 0; b < c->n_buckets; b++)
        for (shipment *s = c->by_key[b], *next; s; s = next) {
            next = s->next_by_key;
            shipment_free(s);
        }
    free(c->by_id);
    free(c->by_key);
}

static uint64_t stall_state_entries(void *vctx, csm_host *h)
{
    (void)h;
    return ((stall_ctx *)vctx)->n;
}

/* ---- incremental state ---- */

static int stall_save_entry(void *vctx, csm_host *h, uint64_t key, csm_writer *w)
{
    (void)h;
    const shipment *s = find_by_key(vctx, key);
    if (!s)
        return 1; /* forgotten since it was touched: delete the record */
    csm_api->put_str(w, s->shop);
    csm_api->put_str(w, s->order);
    csm_api->put_str(w, s->customer);
    csm_api->put_i64(w, s->platform);
    csm_api->put_i64(w, s->ship_ts);
    csm_api->put_i64(w, s->last_ts);
    csm_api->put_i64(w, (int64_t)s->timer);
    return 0;
}

static int read_entry(stall_ctx *c, uint64_t key, csm_reader *r)
{
    char *shop = NULL, *order = NULL, *customer = NULL;
    int64_t platform, ship_ts, last_ts, timer;
    int rc = -1;
    if (csm_api->get_str(r, &shop) || csm_api->get_str(r, &order) ||
        csm_api->get_str(r, &customer) || !shop || !order || !customer ||
        csm_api->get_i64(r, &platform) || csm_api->get_i64(r, &ship_ts) ||
        csm_api->get_i64(r, &last_ts) || csm_api->get_i64(r, &timer) || platform < 0 ||
        platform >= CSM_PLATFORM_COUNT || timer <= 0 || find_by_key(c, key) ||
        find_by_id(c, shop, order))
        goto out;
    shipment *s = add(c, key, shop, order, customer);
    if (!s)
        goto out;
    s->platform = (csm_platform)platform;
    s->ship_ts = ship_ts;
    s->last_ts = last_ts;
    s->timer = (uint64_t)timer;
    /* Keys are never reused while their record may still exist. */
    if (key >= c->next_key)
        c->next_key = key + 1;
    rc = 0;
out:
    free(shop);
    free(order);
    free(customer);
    return rc;
}

static int stall_load_entry(void *vctx, csm_host *h, uint64_t key, uint32_t version, csm_reader *r)
{
    if (version == STATE_VERSION && key != 0 && !read_entry(vctx, key, r))
        return 0;
    csm_log(h, 0, "unreadable entry %llu (state version %u)", (unsigned long long)key, version);
    return -1;
}

/* ---- descriptor ---- */

static const csm_figure_decl figures[] = {
    CSM_FIGURE(.name = "shipments", .label = "shipments", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD, .group = "logistics"),
    CSM_FIGURE(.name = "logistics_stalled", .label = "shipments stalled", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD, .group = "logistics"),
    CSM_FIGURE(.name = "logistics_stalled_rate", .label = "stalled", .unit = "ratio",
               .kind = CSM_FIGURE_RATE, .num = "logistics_stalled", .den = "shipments",
               .group = "logistics", .target = 0.05, .target_dir = CSM_TARGET_AT_MOST),
    {0},
};

static const csm_alert_decl alerts[] = {
    CSM_ALERT_TYPE(.type = "LOGISTICS_STALLED", .label = "no logistics update", .unit = "ms"),
    {0},
};

static const csm_plugin descriptor = {
    .struct_size = sizeof(csm_plugin),
    .abi_major = CSM_PLUGIN_ABI_MAJOR,
    .abi_minor = CSM_PLUGIN_ABI_MINOR,
    .name = "logistics_stall",
    .description = "shipped orders with no logistics update for stall_after",
    .version = "1.0",
    .ctx_size = sizeof(stall_ctx),
    .config_map = config_map,
    .subscribe = CSM_SUBSCRIBE_ORDER,
    .init = stall_init,
    .destroy = stall_destroy,
    .on_event = stall_on_event,
    .on_timer = stall_on_timer,
    .state_entries = stall_state_entries,
    .state_version = STATE_VERSION,
    .save_entry = stall_save_entry,
    .load_entry = stall_load_entry,
    .figures = figures,
    .alerts = alerts,
};
CSM_PLUGIN_DEFINE(descriptor)
