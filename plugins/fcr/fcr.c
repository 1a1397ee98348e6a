/* The FCR calculator (售后3日FCR): fcr_served and fcr_repeated of
 * metrics.md ("Shop board and all-day figures", "Settled details" → FCR),
 * computed from the session builder's derived events
 * (plugins/session/README.md). Per (shop, customer) it keeps the served
 * sessions whose 72 h repeat window is still open; see README.md for the
 * readings chosen. */
#include <stdlib.h>
#include <string.h>

#include "../keyed_records.h"
#include "csmetrics/plugin.h"

/* The repeat window is part of the figure's definition (3-day FCR), not
 * a tunable: another value would make fcr_3d_rate another figure. */
#define REPEAT_WINDOW_MS (72 * 3600000LL)

/* Format of the saved entries (README.md, "State"). */
#define STATE_VERSION 1
#define TAG_SWEEP 1

/* A served session whose repeat is still possible. */
typedef struct served {
    uint64_t session_id;
    csm_ts request_ts;
    uint8_t platform; /* csm_platform */
    uint8_t open;     /* its CLOSED has not come yet: it may still see an ASSIGNED */
} served;

/* One customer at one shop, identified by shop '\0' customer
 * (keyed_records.h), saved under the entry key cust_key() of that; key 0
 * is the plugin-wide entry (the sweep timer, whose key is 0). */
typedef struct cust {
    kr_link k;
    served *v; /* &one until a second served session comes */
    uint32_t n, cap;
    served one; /* one served session per customer is the rule (README.md) */
} cust;

typedef struct fcr_ctx {
    /* config_map */
    int64_t sweep_interval_ms;
    /* state */
    kr_table custs;
    uint64_t sweep_timer; /* 0: none pending */
} fcr_ctx;

#define OFF(m) offsetof(fcr_ctx, m)

static const csm_config_entry config_map[] = {
    {CSM_CONFIG_DURATION, "sweep_interval", "1h", OFF(sweep_interval_ms),
     "how often (event time) served sessions past their 72 h repeat window are forgotten"},
    {CSM_CONFIG_END, NULL, NULL, 0, NULL}};

/* ---- customer records ---- */

/* Odd, so never 0. */
static uint64_t cust_key(const char *id, size_t len)
{
    return kr_hash(id, len) | 1u;
}

/* The customer's record; when absent, NULL or (@p create) a new one. */
static cust *cust_get(fcr_ctx *c, const char *shop, const char *customer, int create)
{
    cust *r = (cust *)kr_get(&c->custs, sizeof(cust), cust_key, shop, 0, customer, create);
    if (r && !r->cap) {
        r->v = &r->one;
        r->cap = 1;
    }
    return r;
}

static void cust_drop(fcr_ctx *c, cust *r)
{
    kr_unlink(&c->custs, &r->k);
    if (r->v != &r->one)
        free(r->v);
    free(r);
}

/* The record changed: saved at the next flush, or deleted there when it
 * is left with no served session (and dropped now). */
static void cust_changed(fcr_ctx *c, csm_host *h, cust *r)
{
    csm_state_touch(h, r->k.key);
    if (!r->n)
        cust_drop(c, r);
}

static int cust_push(cust *r, served s)
{
    if (r->n == r->cap) {
        uint32_t cap = r->cap * 2;
        served *v = r->v == &r->one ? malloc(cap * sizeof *v) : realloc(r->v, cap * sizeof *v);
        if (!v)
            return -1;
        if (r->v == &r->one)
            v[0] = r->one;
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = s;
    return 0;
}

static void cust_remove_at(cust *r, uint32_t i)
{
    memmove(r->v + i, r->v + i + 1, (r->n - i - 1) * sizeof *r->v);
    r->n--;
}

/* A closed served session can only still matter through a request in its
 * window; event time never goes back, so once now is past it, it is dead.
 * An open one is kept whatever its age so that a late ASSIGNED of the
 * same session is recognised as already counted. */
static int expired(const served *s, csm_ts now)
{
    return !s->open && now > s->request_ts + REPEAT_WINDOW_MS;
}

static void drop_one(kr_link *r, void *vctx)
{
    cust_drop(vctx, (cust *)r);
}

static void clear(fcr_ctx *c)
{
    kr_each(&c->custs, drop_one, c);
    kr_release(&c->custs);
}

/* ---- sweep ---- */

static void arm_sweep(fcr_ctx *c, csm_host *h)
{
    if (c->sweep_timer)
        return;
    c->sweep_timer = csm_timer_set(h, csm_now(h) + c->sweep_interval_ms, 0, TAG_SWEEP);
    csm_state_touch(h, 0);
}

/* Drops the record's served sessions expired at @p now. */
static void drop_expired(fcr_ctx *c, csm_host *h, cust *r, csm_ts now)
{
    uint32_t n = r->n;
    for (uint32_t i = r->n; i-- > 0;)
        if (expired(&r->v[i], now))
            cust_remove_at(r, i);
    if (r->n != n)
        cust_changed(c, h, r);
}

typedef struct sweep_arg {
    fcr_ctx *c;
    csm_host *h;
    csm_ts now;
} sweep_arg;

static void sweep_one(kr_link *r, void *varg)
{
    sweep_arg *a = varg;
    drop_expired(a->c, a->h, (cust *)r, a->now);
}

static void sweep(fcr_ctx *c, csm_host *h)
{
    sweep_arg a = {c, h, csm_now(h)};
    kr_each(&c->custs, sweep_one, &a);
}

static void fcr_on_timer(void *vctx, csm_host *h, const csm_timer *t)
{
    fcr_ctx *c = vctx;
    if (t->tag != TAG_SWEEP || t->id != c->sweep_timer)
        return;
    c->sweep_timer = 0;
    csm_state_touch(h, 0);
    sweep(c, h);
    if (c->custs.n)
        arm_sweep(c, h);
}

/* ---- figures ---- */

static void emit(csm_host *h, const char *shop, csm_platform platform, const char *name,
                 csm_ts anchor)
{
    csm_count k = {.struct_size = sizeof k,
                   .shop_id = shop,
                   .platform = platform,
                   .anchor_ts = anchor,
                   .scope = CSM_SCOPE_SHOP,
                   .name = name,
                   .delta = 1};
    csm_emit_count(h, &k);
}

/* fcr_served at the first ASSIGNED that makes the session assigned. */
static void on_assigned(fcr_ctx *c, csm_host *h, const csm_session *s)
{
    if (!s->aftersale || s->merchant_initiated || s->request_ts == CSM_TS_NONE ||
        s->assign_ts == CSM_TS_NONE || s->close_ts != CSM_TS_NONE)
        return;
    cust *r = cust_get(c, s->shop_id, s->customer_id, 0);
    if (r) {
        for (uint32_t i = 0; i < r->n; i++)
            if (r->v[i].session_id == s->id)
                return; /* a later ASSIGNED of a session already counted */
    } else {
        r = cust_get(c, s->shop_id, s->customer_id, 1);
    }
    served e = {.session_id = s->id,
                .request_ts = s->request_ts,
                .platform = (uint8_t)s->platform,
                .open = 1};
    if (cust_push(r, e)) {
        csm_log(h, 0, "out of memory, session %llu not tracked", (unsigned long long)s->id);
        if (!r->n)
            cust_drop(c, r);
        return;
    }
    csm_state_touch(h, r->k.key);
    emit(h, s->shop_id, s->platform, "fcr_served", s->request_ts);
    arm_sweep(c, h);
}

/* A HUMAN_REQUESTED of a later after-sale session repeats every served
 * session of the customer whose window (req, req + 72 h] holds it. */
static void on_request(fcr_ctx *c, csm_host *h, const csm_session *s, csm_ts t)
{
    if (!s->aftersale)
        return;
    cust *r = cust_get(c, s->shop_id, s->customer_id, 0);
    if (!r)
        return;
    uint32_t n = r->n;
    for (uint32_t i = r->n; i-- > 0;) {
        served *e = &r->v[i];
        if (e->session_id >= s->id)
            continue; /* the session itself: a repeat needs a later one */
        if (e->request_ts < t && t <= e->request_ts + REPEAT_WINDOW_MS) {
            /* Counted once; sessions are sequential, so the served one is
             * closed and nothing else can need its entry. */
            emit(h, s->shop_id, (csm_platform)e->platform, "fcr_repeated", e->request_ts);
            cust_remove_at(r, i);
        } else if (expired(e, t)) {
            cust_remove_at(r, i);
        }
    }
    if (r->n != n)
        cust_changed(c, h, r);
}

static void on_closed(fcr_ctx *c, csm_host *h, const csm_session *s)
{
    cust *r = cust_get(c, s->shop_id, s->customer_id, 0);
    if (!r)
        return;
    for (uint32_t i = 0; i < r->n; i++)
        if (r->v[i].session_id == s->id && r->v[i].open) {
            r->v[i].open = 0;
            csm_state_touch(h, r->k.key);
        }
    drop_expired(c, h, r, csm_now(h));
}

static void fcr_on_derived(void *vctx, csm_host *h, const csm_derived *d)
{
    fcr_ctx *c = vctx;
    const csm_session *s = d->session;
    if (!s || !s->shop_id || !s->customer_id)
        return;
    switch (d->type) {
    case CSM_SESSION_ASSIGNED:
        on_assigned(c, h, s);
        break;
    case CSM_SESSION_HUMAN_REQUESTED:
        on_request(c, h, s, d->ts);
        break;
    case CSM_SESSION_CLOSED:
        on_closed(c, h, s);
        break;
    default:
        break;
    }
}

/* ---- lifecycle ---- */

static int fcr_init(void *vctx, csm_host *h)
{
    fcr_ctx *c = vctx;
    if (c->sweep_interval_ms <= 0) {
        csm_log(h, 0, "sweep_interval must be positive");
        return -1;
    }
    return 0;
}

static void fcr_destroy(void *vctx, csm_host *h)
{
    (void)h;
    clear(vctx);
}

static uint64_t fcr_state_entries(void *vctx, csm_host *h)
{
    (void)h;
    fcr_ctx *c = vctx;
    return c->custs.n;
}

/* ---- saved entries ---- */

static void save_cust(const kr_link *k, csm_writer *w)
{
    const cust *r = (const cust *)k;
    const char *id = kr_id(k, sizeof *r);
    csm_api->put_str(w, id);
    csm_api->put_str(w, id + strlen(id) + 1);
    csm_api->put_i64(w, r->n);
    for (uint32_t i = 0; i < r->n; i++) {
        csm_api->put_i64(w, (int64_t)r->v[i].session_id);
        csm_api->put_i64(w, r->v[i].request_ts);
        csm_api->put_i64(w, r->v[i].platform);
        csm_api->put_i64(w, r->v[i].open);
    }
}

static int fcr_save_entry(void *vctx, csm_host *h, uint64_t key, csm_writer *w)
{
    (void)h;
    fcr_ctx *c = vctx;
    if (key == 0) {
        if (!c->sweep_timer)
            return 1;
        csm_api->put_i64(w, (int64_t)c->sweep_timer);
        return 0;
    }
    return kr_save_chain(&c->custs, key, w, save_cust);
}

static int load_served(cust *r, csm_reader *rd)
{
    int64_t id, platform, open;
    served e;
    if (csm_api->get_i64(rd, &id) || csm_api->get_i64(rd, &e.request_ts) ||
        csm_api->get_i64(rd, &platform) || csm_api->get_i64(rd, &open) || platform < 0 ||
        platform >= CSM_PLATFORM_COUNT)
        return -1;
    e.session_id = (uint64_t)id;
    e.platform = (uint8_t)platform;
    e.open = open != 0;
    return cust_push(r, e);
}

/* One record of entry @p key, whose identity must hash to it. */
static int load_cust(void *vctx, uint64_t key, csm_reader *rd)
{
    fcr_ctx *c = vctx;
    char *shop = NULL, *customer = NULL;
    int64_t n;
    int rc = -1;
    if (csm_api->get_str(rd, &shop) || csm_api->get_str(rd, &customer) || !shop || !customer ||
        csm_api->get_i64(rd, &n) || n <= 0 || n > 1000000 || cust_get(c, shop, customer, 0))
        goto out;
    cust *r = cust_get(c, shop, customer, 1);
    rc = r->k.key == key ? 0 : -1;
    for (int64_t i = 0; i < n && !rc; i++)
        rc = load_served(r, rd);
out:
    free(shop);
    free(customer);
    return rc;
}

/* Entry 0: the sweep timer. */
static int load_wide(fcr_ctx *c, csm_reader *rd)
{
    int64_t timer;
    if (csm_api->get_i64(rd, &timer) || timer <= 0)
        return -1;
    c->sweep_timer = (uint64_t)timer;
    return 0;
}

static int fcr_load_entry(void *vctx, csm_host *h, uint64_t key, uint32_t version, csm_reader *rd)
{
    fcr_ctx *c = vctx;
    int rc = version != STATE_VERSION ? -1
             : key                    ? kr_load_chain(c, key, rd, load_cust)
                                      : load_wide(c, rd);
    if (rc)
        csm_log(h, 0, "unreadable entry %llu (state version %u)", (unsigned long long)key, version);
    return rc;
}

/* The figures of metrics.md this plugin emits, and the rates and averages
 * made of them, for the report, the exporter and the dashboard. */
static const csm_figure_decl figures[] = {
    CSM_FIGURE(.name = "fcr_served", .label = "after-sale served", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD, .group = "after-sale"),
    CSM_FIGURE(.name = "fcr_repeated", .label = "asked again within 3 days", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD, .group = "after-sale"),
    CSM_FIGURE(.name = "fcr_3d_rate", .label = "FCR 3 days", .unit = "ratio",
               .kind = CSM_FIGURE_ONE_MINUS, .num = "fcr_repeated", .den = "fcr_served",
               .group = "after-sale"),
    {0},
};

/* Repeat contacts are sessions closed and reopened: the session lifecycle. */
static const char *const needs[] = {"session", NULL};

static const csm_plugin descriptor = {
    .struct_size = sizeof(csm_plugin),
    .abi_major = CSM_PLUGIN_ABI_MAJOR,
    .abi_minor = CSM_PLUGIN_ABI_MINOR,
    .name = "fcr",
    .description = "after-sale 3-day first-contact resolution: fcr_served, fcr_repeated",
    .version = "1.0",
    .ctx_size = sizeof(fcr_ctx),
    .config_map = config_map,
    .subscribe = CSM_SUBSCRIBE_DERIVED,
    .init = fcr_init,
    .destroy = fcr_destroy,
    .on_derived = fcr_on_derived,
    .on_timer = fcr_on_timer,
    .state_entries = fcr_state_entries,
    .needs = needs,
    .state_version = STATE_VERSION,
    .save_entry = fcr_save_entry,
    .load_entry = fcr_load_entry,
    .figures = figures,
};
CSM_PLUGIN_DEFINE(descriptor)
