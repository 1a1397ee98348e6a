/* The order figures of metrics.md: refunds_finished / refund_ms_sum,
 * the aftersale_seekers set and escalations ("Shop board and all-day
 * figures", "Settled details" → Seekers and escalations, Refunds). Built
 * from the order stream and the session builder's HUMAN_REQUESTED
 * (plugins/session/README.md), which carries the session's after-sale
 * status. See README.md for the readings chosen. */
#include <stdlib.h>
#include <string.h>

#include "../keyed_records.h"
#include "csmetrics/plugin.h"

/* A PLATFORM_CONSULTED on day D counts if its customer sought after-sale
 * help on D-14 … D: fixed by the figure's definition. */
#define SEEK_LOOKBACK_DAYS 14

/* Format of the saved entries (README.md, "State"). */
#define STATE_VERSION 1
#define TAG_SWEEP 1
#define NO_DAY INT32_MIN

/* Entry keys: 0 is the plugin-wide entry (the sweep timer, whose key is
 * 0); a record's key is the hash of its identity (keyed_records.h) with the
 * top bit set (never 0) and its kind in the low bit, so that save and load
 * tell refunds and seekers apart by the key. */
enum { KIND_REFUND = 0, KIND_SEEKER = 1 };
#define KEY_KIND(k) ((int)((k)&1u))

/* An open refund: requested, not finished yet. Identity:
 * shop '\0' ('R' refund_id | 'O' order_id). */
typedef struct refund {
    kr_link k;
    csm_ts request_ts;
} refund;

typedef struct consult {
    csm_ts ts;
    csm_platform platform;
} consult;

/* What escalations need to know of one (shop, customer). Identity:
 * shop '\0' customer. */
typedef struct seeker {
    kr_link k;
    int32_t seek_day; /* latest shop-local day it sought after-sale help, or NO_DAY */
    int32_t pend_day; /* day of the pending consults */
    consult *pend;    /* consults of pend_day not counted (yet) */
    uint32_t n_pend, cap_pend;
} seeker;

typedef struct orders_ctx {
    /* config_map */
    int64_t refund_keep_ms;
    int64_t sweep_interval_ms;
    /* state */
    kr_table refunds;
    kr_table seekers;
    uint64_t sweep_timer; /* 0: none pending */
} orders_ctx;

#define OFF(m) offsetof(orders_ctx, m)

static const csm_config_entry config_map[] = {
    {CSM_CONFIG_DURATION, "refund_keep", "90d", OFF(refund_keep_ms),
     "a requested refund with no finish this long after its request is forgotten (a later "
     "finish is then ignored)"},
    {CSM_CONFIG_DURATION, "sweep_interval", "1h", OFF(sweep_interval_ms),
     "how often (event time) forgotten refunds and seekers are evicted"},
    {CSM_CONFIG_END, NULL, NULL, 0, NULL}};

/* ---- keys ---- */

static uint64_t record_key(const char *id, size_t len, int kind)
{
    return ((kr_hash(id, len) | UINT64_C(1) << 63) & ~UINT64_C(1)) | (uint64_t)kind;
}

static uint64_t refund_key(const char *id, size_t len)
{
    return record_key(id, len, KIND_REFUND);
}

static uint64_t seeker_key(const char *id, size_t len)
{
    return record_key(id, len, KIND_SEEKER);
}

/* ---- refunds ---- */

/* The refund; when absent, NULL or (@p create) a new one. */
static refund *refund_get(orders_ctx *c, const char *shop, char tag, const char *id, int create)
{
    return (refund *)kr_get(&c->refunds, sizeof(refund), refund_key, shop, tag, id, create);
}

static void refund_drop(orders_ctx *c, refund *f)
{
    kr_unlink(&c->refunds, &f->k);
    free(f);
}

/* Drops the refund now and its saved entry at the next flush. */
static void refund_forget(orders_ctx *c, csm_host *h, refund *f)
{
    csm_state_touch(h, f->k.key);
    refund_drop(c, f);
}

/* Past refund_keep a request is as good as forgotten, whether or not the
 * sweep has dropped it yet: results must not depend on sweep timing. */
static int refund_expired(const orders_ctx *c, const refund *f, csm_ts now)
{
    return now > f->request_ts + c->refund_keep_ms;
}

/* ---- seekers ---- */

static seeker *seeker_find(orders_ctx *c, const char *shop, const char *customer)
{
    return (seeker *)kr_get(&c->seekers, sizeof(seeker), seeker_key, shop, 0, customer, 0);
}

/* The customer's record, made if absent. */
static seeker *seeker_get(orders_ctx *c, const char *shop, const char *customer)
{
    seeker *s = seeker_find(c, shop, customer);
    if (!s) {
        s = (seeker *)kr_get(&c->seekers, sizeof(seeker), seeker_key, shop, 0, customer, 1);
        s->seek_day = s->pend_day = NO_DAY;
    }
    return s;
}

static void seeker_drop(orders_ctx *c, seeker *s)
{
    kr_unlink(&c->seekers, &s->k);
    free(s->pend);
    free(s);
}

/* The seeker changed: saved at the next flush, or deleted there when it
 * has nothing left to remember (and dropped now). */
static void seeker_changed(orders_ctx *c, csm_host *h, seeker *s)
{
    csm_state_touch(h, s->k.key);
    if (s->seek_day == NO_DAY && !s->n_pend)
        seeker_drop(c, s);
}

static int seeker_push(seeker *s, consult k)
{
    if (s->n_pend == s->cap_pend) {
        uint32_t cap = s->cap_pend ? s->cap_pend * 2 : 2;
        consult *p = realloc(s->pend, cap * sizeof *p);
        if (!p)
            return -1;
        s->pend = p;
        s->cap_pend = cap;
    }
    s->pend[s->n_pend++] = k;
    return 0;
}

/* Consults of an earlier day can no longer count: the seeking would have
 * to come on their own day, which is over. */
static void drop_old_pending(seeker *s, int32_t today)
{
    if (s->n_pend && s->pend_day < today) {
        s->n_pend = 0;
        s->pend_day = NO_DAY;
    }
}

/* The latest seeker day is enough: days only grow in event time, so a
 * seeker day in D-14 … D exists iff the latest one is ≥ D-14. */
static int sought_since(const seeker *s, int32_t day)
{
    return s->seek_day != NO_DAY && s->seek_day >= day - SEEK_LOOKBACK_DAYS;
}

static void drop_refund(kr_link *r, void *vctx)
{
    refund_drop(vctx, (refund *)r);
}

static void drop_seeker(kr_link *r, void *vctx)
{
    seeker_drop(vctx, (seeker *)r);
}

static void clear(orders_ctx *c)
{
    kr_each(&c->refunds, drop_refund, c);
    kr_each(&c->seekers, drop_seeker, c);
    kr_release(&c->refunds);
    kr_release(&c->seekers);
}

/* ---- sweep ---- */

static void arm_sweep(orders_ctx *c, csm_host *h)
{
    if (c->sweep_timer)
        return;
    c->sweep_timer = csm_timer_set(h, csm_now(h) + c->sweep_interval_ms, 0, TAG_SWEEP);
    csm_state_touch(h, 0);
}

typedef struct sweep_arg {
    orders_ctx *c;
    csm_host *h;
    csm_ts now;
} sweep_arg;

static void sweep_refund(kr_link *r, void *varg)
{
    const sweep_arg *a = varg;
    if (refund_expired(a->c, (refund *)r, a->now))
        refund_forget(a->c, a->h, (refund *)r);
}

static void sweep_seeker(kr_link *r, void *varg)
{
    const sweep_arg *a = varg;
    seeker *s = (seeker *)r;
    /* The identity starts with the shop. */
    int32_t today = csm_local_day(a->h, kr_id(r, sizeof *s), a->now), seek_day = s->seek_day;
    uint32_t n_pend = s->n_pend;
    drop_old_pending(s, today);
    if (!sought_since(s, today))
        s->seek_day = NO_DAY;
    if (s->seek_day != seek_day || s->n_pend != n_pend)
        seeker_changed(a->c, a->h, s);
}

static void sweep(orders_ctx *c, csm_host *h)
{
    sweep_arg a = {c, h, csm_now(h)};
    kr_each(&c->refunds, sweep_refund, &a);
    kr_each(&c->seekers, sweep_seeker, &a);
}

static void orders_on_timer(void *vctx, csm_host *h, const csm_timer *t)
{
    orders_ctx *c = vctx;
    if (t->tag != TAG_SWEEP || t->id != c->sweep_timer)
        return;
    c->sweep_timer = 0;
    csm_state_touch(h, 0);
    sweep(c, h);
    if (c->refunds.n || c->seekers.n)
        arm_sweep(c, h);
}

/* ---- figures ---- */

static void emit(csm_host *h, const char *shop, csm_platform platform, const char *name,
                 csm_ts anchor, int64_t delta)
{
    csm_count k = {.struct_size = sizeof k,
                   .shop_id = shop,
                   .platform = platform,
                   .anchor_ts = anchor,
                   .scope = CSM_SCOPE_SHOP,
                   .name = name,
                   .delta = delta};
    csm_emit_count(h, &k);
}

/* The customer sought after-sale help at ts: a member of the day's set,
 * and the day's consults so far now count. */
static void become_seeker(orders_ctx *c, csm_host *h, const char *shop, const char *customer,
                          csm_platform platform, csm_ts ts)
{
    seeker *s = seeker_get(c, shop, customer);
    int32_t day = csm_local_day(h, shop, ts);
    if (s->seek_day != day || s->n_pend)
        csm_state_touch(h, s->k.key);
    /* At every seeking, not only the day's first: the host puts a member on
     * the board only for a seeking in the assessment window, and a customer
     * who sought at 07:00 and again at 10:00 belongs there. */
    csm_set_member m = {.struct_size = sizeof m,
                        .shop_id = shop,
                        .platform = platform,
                        .anchor_ts = ts,
                        .name = "aftersale_seekers",
                        .member = customer};
    csm_emit_set_add(h, &m);
    s->seek_day = day;
    drop_old_pending(s, day);
    for (uint32_t i = 0; i < s->n_pend; i++)
        emit(h, shop, s->pend[i].platform, "escalations", s->pend[i].ts, 1);
    s->n_pend = 0;
    s->pend_day = NO_DAY;
    arm_sweep(c, h);
}

static void on_consulted(orders_ctx *c, csm_host *h, const csm_event *ev)
{
    int32_t day = csm_local_day(h, ev->shop_id, ev->ts);
    seeker *s = seeker_find(c, ev->shop_id, ev->customer_id);
    if (s && sought_since(s, day)) {
        emit(h, ev->shop_id, ev->platform, "escalations", ev->ts, 1);
        return;
    }
    /* Not (yet) a seeker: a seeking later on the same day makes it count. */
    if (!s)
        s = seeker_get(c, ev->shop_id, ev->customer_id);
    drop_old_pending(s, day);
    if (seeker_push(s, (consult){ev->ts, ev->platform})) {
        csm_log(h, 0, "out of memory, a consult of %s not kept", ev->customer_id);
        seeker_changed(c, h, s);
        return;
    }
    s->pend_day = day;
    csm_state_touch(h, s->k.key);
    arm_sweep(c, h);
}

/* Refunds are identified by refund_id, else order_id; the tag keeps the
 * two namespaces apart. */
static const char *refund_ident(const csm_event *ev, char *tag)
{
    if (ev->order.refund_id) {
        *tag = 'R';
        return ev->order.refund_id;
    }
    *tag = 'O';
    return ev->order.order_id;
}

static void on_refund_requested(orders_ctx *c, csm_host *h, const csm_event *ev)
{
    char tag;
    const char *id = refund_ident(ev, &tag);
    if (!id)
        return;
    refund *f = refund_get(c, ev->shop_id, tag, id, 0);
    if (f) {
        /* The first request time counts, unless that request was forgotten. */
        if (refund_expired(c, f, ev->ts)) {
            f->request_ts = ev->ts;
            csm_state_touch(h, f->k.key);
        }
        return;
    }
    f = refund_get(c, ev->shop_id, tag, id, 1);
    f->request_ts = ev->ts;
    csm_state_touch(h, f->k.key);
    arm_sweep(c, h);
}

static void on_refund_finished(orders_ctx *c, csm_host *h, const csm_event *ev)
{
    char tag;
    const char *id = refund_ident(ev, &tag);
    refund *f = id ? refund_get(c, ev->shop_id, tag, id, 0) : NULL;
    if (f && refund_expired(c, f, ev->ts)) {
        refund_forget(c, h, f);
        f = NULL;
    }
    if (!f) {
        csm_stat_add(h, "ignored_finish_without_request", 1);
        return;
    }
    emit(h, ev->shop_id, ev->platform, "refunds_finished", ev->ts, 1);
    emit(h, ev->shop_id, ev->platform, "refund_ms_sum", ev->ts, ev->ts - f->request_ts);
    /* Counted once: a second finish finds nothing, like one with no request. */
    refund_forget(c, h, f);
}

static void orders_on_event(void *vctx, csm_host *h, const csm_event *ev)
{
    orders_ctx *c = vctx;
    if (ev->stream != CSM_STREAM_ORDER)
        return;
    switch (ev->order.type) {
    case CSM_ORDER_REFUND_REQUESTED:
        on_refund_requested(c, h, ev);
        become_seeker(c, h, ev->shop_id, ev->customer_id, ev->platform, ev->ts);
        break;
    case CSM_ORDER_REFUND_COMPLETED:
    case CSM_ORDER_REFUND_REJECTED:
    case CSM_ORDER_REFUND_CANCELLED:
        on_refund_finished(c, h, ev);
        break;
    case CSM_ORDER_PLATFORM_CONSULTED:
        on_consulted(c, h, ev);
        break;
    case CSM_ORDER_DISPUTE_OPENED:
    case CSM_ORDER_COMPLAINT_INTERVENED:
        emit(h, ev->shop_id, ev->platform, "escalations", ev->ts, 1);
        break;
    default:
        break;
    }
}

static void orders_on_derived(void *vctx, csm_host *h, const csm_derived *d)
{
    const csm_session *s = d->session;
    if (d->type != CSM_SESSION_HUMAN_REQUESTED || !s || !s->aftersale || !s->shop_id ||
        !s->customer_id)
        return;
    become_seeker(vctx, h, s->shop_id, s->customer_id, s->platform, d->ts);
}

/* ---- lifecycle ---- */

static int orders_init(void *vctx, csm_host *h)
{
    orders_ctx *c = vctx;
    if (c->refund_keep_ms <= 0 || c->sweep_interval_ms <= 0) {
        csm_log(h, 0, "refund_keep and sweep_interval must be positive");
        return -1;
    }
    return 0;
}

static void orders_destroy(void *vctx, csm_host *h)
{
    (void)h;
    clear(vctx);
}

static uint64_t orders_state_entries(void *vctx, csm_host *h)
{
    (void)h;
    orders_ctx *c = vctx;
    return c->refunds.n + c->seekers.n;
}

/* ---- saved entries ---- */

/* A record's identity a '\0' b as the two strings a and b. */
static void put_ident(csm_writer *w, const char *id)
{
    csm_api->put_str(w, id);
    csm_api->put_str(w, id + strlen(id) + 1);
}

static void save_refund(const kr_link *r, csm_writer *w)
{
    put_ident(w, kr_id(r, sizeof(refund)));
    csm_api->put_i64(w, ((const refund *)r)->request_ts);
}

static void save_seeker(const kr_link *r, csm_writer *w)
{
    const seeker *s = (const seeker *)r;
    put_ident(w, kr_id(r, sizeof *s));
    csm_api->put_i64(w, s->seek_day);
    csm_api->put_i64(w, s->pend_day);
    csm_api->put_i64(w, s->n_pend);
    for (uint32_t i = 0; i < s->n_pend; i++) {
        csm_api->put_i64(w, s->pend[i].ts);
        csm_api->put_i64(w, s->pend[i].platform);
    }
}

static int orders_save_entry(void *vctx, csm_host *h, uint64_t key, csm_writer *w)
{
    (void)h;
    orders_ctx *c = vctx;
    if (key == 0) {
        if (!c->sweep_timer)
            return 1;
        csm_api->put_i64(w, (int64_t)c->sweep_timer);
        return 0;
    }
    if (KEY_KIND(key) == KIND_REFUND)
        return kr_save_chain(&c->refunds, key, w, save_refund);
    return kr_save_chain(&c->seekers, key, w, save_seeker);
}

static int valid_day(int64_t d)
{
    return d == NO_DAY || (d > -1000000 && d < 1000000);
}

static int load_refund(void *vctx, uint64_t key, csm_reader *r)
{
    orders_ctx *c = vctx;
    char *shop = NULL, *tagged = NULL;
    int64_t ts;
    int rc = -1;
    if (csm_api->get_str(r, &shop) || csm_api->get_str(r, &tagged) || !shop || !tagged ||
        (tagged[0] != 'R' && tagged[0] != 'O') || csm_api->get_i64(r, &ts) ||
        refund_get(c, shop, tagged[0], tagged + 1, 0))
        goto out;
    refund *f = refund_get(c, shop, tagged[0], tagged + 1, 1);
    f->request_ts = ts;
    rc = f->k.key == key ? 0 : -1;
out:
    free(shop);
    free(tagged);
    return rc;
}

static int load_consults(seeker *s, int64_t n, csm_reader *r)
{
    for (int64_t i = 0; i < n; i++) {
        int64_t ts, platform;
        if (csm_api->get_i64(r, &ts) || csm_api->get_i64(r, &platform) || platform < 0 ||
            platform >= CSM_PLATFORM_COUNT || seeker_push(s, (consult){ts, (csm_platform)platform}))
            return -1;
    }
    return 0;
}

static int load_seeker(void *vctx, uint64_t key, csm_reader *r)
{
    orders_ctx *c = vctx;
    char *shop = NULL, *customer = NULL;
    int64_t seek_day, pend_day, n;
    int rc = -1;
    if (csm_api->get_str(r, &shop) || csm_api->get_str(r, &customer) || !shop || !customer ||
        csm_api->get_i64(r, &seek_day) || csm_api->get_i64(r, &pend_day) ||
        csm_api->get_i64(r, &n) || !valid_day(seek_day) || !valid_day(pend_day) || n < 0 ||
        n > 1000000 || seeker_find(c, shop, customer))
        goto out;
    seeker *s = seeker_get(c, shop, customer);
    s->seek_day = (int32_t)seek_day;
    s->pend_day = (int32_t)pend_day;
    rc = s->k.key == key ? load_consults(s, n, r) : -1;
out:
    free(shop);
    free(customer);
    return rc;
}

/* Entry 0: the sweep timer. */
static int load_wide(orders_ctx *c, csm_reader *r)
{
    int64_t timer;
    if (csm_api->get_i64(r, &timer) || timer <= 0)
        return -1;
    c->sweep_timer = (uint64_t)timer;
    return 0;
}

static int orders_load_entry(void *vctx, csm_host *h, uint64_t key, uint32_t version, csm_reader *r)
{
    orders_ctx *c = vctx;
    int rc = -1;
    if (version == STATE_VERSION)
        rc = !key                           ? load_wide(c, r)
             : KEY_KIND(key) == KIND_REFUND ? kr_load_chain(c, key, r, load_refund)
                                            : kr_load_chain(c, key, r, load_seeker);
    if (rc)
        csm_log(h, 0, "unreadable entry %llu (state version %u)", (unsigned long long)key, version);
    return rc;
}

/* The figures of metrics.md this plugin emits, and the rates and averages
 * made of them, for the report, the exporter and the dashboard. */
static const csm_figure_decl figures[] = {
    CSM_FIGURE(.name = "refunds_finished", .label = "refunds finished", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD, .group = "after-sale"),
    CSM_FIGURE(.name = "refund_ms_sum", .label = "refund time (sum)", .unit = "ms",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD, .group = "after-sale"),
    CSM_FIGURE(.name = "avg_refund_ms", .label = "avg refund time", .unit = "ms",
               .kind = CSM_FIGURE_AVERAGE, .num = "refund_ms_sum", .den = "refunds_finished",
               .group = "after-sale"),
    CSM_FIGURE(.name = "aftersale_seekers", .label = "after-sale seekers", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD, .group = "after-sale",
               .flags = CSM_FIGURE_SET),
    CSM_FIGURE(.name = "escalations", .label = "escalations", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD, .group = "after-sale"),
    CSM_FIGURE(.name = "resolution_rate", .label = "resolution", .unit = "ratio",
               .kind = CSM_FIGURE_ONE_MINUS, .num = "escalations", .den = "aftersale_seekers",
               .group = "after-sale"),
    {0},
};

/* Escalations count after-sale human requests of sessions. */
static const char *const needs[] = {"session", NULL};

static const csm_plugin descriptor = {
    .struct_size = sizeof(csm_plugin),
    .abi_major = CSM_PLUGIN_ABI_MAJOR,
    .abi_minor = CSM_PLUGIN_ABI_MINOR,
    .name = "orders",
    .description = "order figures: refunds_finished, refund_ms_sum, aftersale_seekers, escalations",
    .version = "1.0",
    .ctx_size = sizeof(orders_ctx),
    .config_map = config_map,
    .subscribe = CSM_SUBSCRIBE_ORDER | CSM_SUBSCRIBE_DERIVED,
    .init = orders_init,
    .destroy = orders_destroy,
    .on_event = orders_on_event,
    .on_derived = orders_on_derived,
    .on_timer = orders_on_timer,
    .state_entries = orders_state_entries,
    .needs = needs,
    .state_version = STATE_VERSION,
    .save_entry = orders_save_entry,
    .load_entry = orders_load_entry,
    .figures = figures,
};
CSM_PLUGIN_DEFINE(descriptor)
