/* The order figures of metrics.md: refunds_finished / refund_ms_sum,
 * the aftersale_seekers set and escalations ("Shop board and all-day
 * figures", "Settled details" → Seekers and escalations, Refunds). Built
 * from the order stream and the session builder's HUMAN_REQUESTED
 * (plugins/session/README.md), which carries the session's after-sale
 * status. See README.md for the readings chosen. */
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "csmetrics/plugin.h"

/* A PLATFORM_CONSULTED on day D counts if its customer sought after-sale
 * help on D-14 … D: fixed by the figure's definition. */
#define SEEK_LOOKBACK_DAYS 14

#define SNAPSHOT_VERSION 1
#define TAG_SWEEP 1
#define NO_DAY INT32_MIN

/* An open refund: requested, not finished yet. */
typedef struct refund {
    char *key;     /* shop '\0' ('R' refund_id | 'O' order_id) '\0' */
    size_t keylen; /* up to the id's terminator (excluded) */
    csm_ts request_ts;
    UT_hash_handle hh;
} refund;

typedef struct consult {
    csm_ts ts;
    csm_platform platform;
} consult;

/* What escalations need to know of one (shop, customer). */
typedef struct seeker {
    char *key; /* shop '\0' customer '\0' */
    size_t keylen;
    int32_t seek_day; /* latest shop-local day it sought after-sale help, or NO_DAY */
    int32_t pend_day; /* day of the pending consults */
    consult *pend;    /* consults of pend_day not counted (yet) */
    uint32_t n_pend, cap_pend;
    UT_hash_handle hh;
} seeker;

typedef struct orders_ctx {
    /* config_map */
    int64_t refund_keep_ms;
    int64_t sweep_interval_ms;
    /* state */
    refund *refunds;
    seeker *seekers;
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

/* Builds the key a '\0' [tag] b '\0' in buf, or in a malloc'd buffer
 * (returned in *heap for the caller to free) when it does not fit. */
static char *make_key(const char *a, char tag, const char *b, char *buf, size_t cap, size_t *keylen,
                      char **heap)
{
    size_t la = strlen(a), lb = strlen(b), lt = tag ? 1 : 0;
    char *k = buf;
    *heap = NULL;
    if (la + lt + lb + 2 > cap && !(k = *heap = malloc(la + lt + lb + 2)))
        return NULL;
    memcpy(k, a, la + 1);
    if (tag)
        k[la + 1] = tag;
    memcpy(k + la + 1 + lt, b, lb + 1);
    *keylen = la + 1 + lt + lb;
    return k;
}

static char *key_dup(const char *k, size_t keylen)
{
    char *d = malloc(keylen + 1);
    if (d)
        memcpy(d, k, keylen + 1);
    return d;
}

/* ---- refunds ---- */

static refund *refund_find(orders_ctx *c, const char *shop, char tag, const char *id)
{
    char buf[256], *heap;
    size_t len;
    const char *k = make_key(shop, tag, id, buf, sizeof buf, &len, &heap);
    refund *f = NULL;
    if (k)
        HASH_FIND(hh, c->refunds, k, len, f);
    free(heap);
    return f;
}

static refund *refund_add(orders_ctx *c, const char *shop, char tag, const char *id, csm_ts ts)
{
    char buf[256], *heap;
    size_t len;
    const char *k = make_key(shop, tag, id, buf, sizeof buf, &len, &heap);
    refund *f = k ? calloc(1, sizeof *f) : NULL;
    if (f && !(f->key = key_dup(k, len))) {
        free(f);
        f = NULL;
    }
    free(heap);
    if (!f)
        return NULL;
    f->keylen = len;
    f->request_ts = ts;
    HASH_ADD_KEYPTR(hh, c->refunds, f->key, f->keylen, f);
    return f;
}

static void refund_drop(orders_ctx *c, refund *f)
{
    HASH_DEL(c->refunds, f);
    free(f->key);
    free(f);
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
    char buf[256], *heap;
    size_t len;
    const char *k = make_key(shop, 0, customer, buf, sizeof buf, &len, &heap);
    seeker *s = NULL;
    if (k)
        HASH_FIND(hh, c->seekers, k, len, s);
    free(heap);
    return s;
}

static seeker *seeker_add(orders_ctx *c, const char *shop, const char *customer)
{
    char buf[256], *heap;
    size_t len;
    const char *k = make_key(shop, 0, customer, buf, sizeof buf, &len, &heap);
    seeker *s = k ? calloc(1, sizeof *s) : NULL;
    if (s && !(s->key = key_dup(k, len))) {
        free(s);
        s = NULL;
    }
    free(heap);
    if (!s)
        return NULL;
    s->keylen = len;
    s->seek_day = s->pend_day = NO_DAY;
    HASH_ADD_KEYPTR(hh, c->seekers, s->key, s->keylen, s);
    return s;
}

static seeker *seeker_get(orders_ctx *c, csm_host *h, const char *shop, const char *customer)
{
    seeker *s = seeker_find(c, shop, customer);
    if (!s && !(s = seeker_add(c, shop, customer)))
        csm_log(h, 0, "out of memory, customer %s of shop %s not tracked", customer, shop);
    return s;
}

static void seeker_drop(orders_ctx *c, seeker *s)
{
    HASH_DEL(c->seekers, s);
    free(s->pend);
    free(s->key);
    free(s);
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

static void clear(orders_ctx *c)
{
    refund *f, *ftmp;
    HASH_ITER(hh, c->refunds, f, ftmp)
    {
        /* cppcheck-suppress uninitvar ; HASH_ITER sets f before the body */
        refund_drop(c, f);
    }
    seeker *s, *stmp;
    HASH_ITER(hh, c->seekers, s, stmp)
    {
        /* cppcheck-suppress uninitvar ; HASH_ITER sets s before the body */
        seeker_drop(c, s);
    }
}

/* ---- sweep ---- */

static void arm_sweep(orders_ctx *c, csm_host *h)
{
    if (!c->sweep_timer)
        c->sweep_timer = csm_timer_set(h, csm_now(h) + c->sweep_interval_ms, 0, TAG_SWEEP);
}

static void sweep(orders_ctx *c, csm_host *h)
{
    csm_ts now = csm_now(h);
    refund *f, *ftmp;
    HASH_ITER(hh, c->refunds, f, ftmp)
    {
        /* cppcheck-suppress uninitvar ; HASH_ITER sets f before the body */
        if (refund_expired(c, f, now))
            refund_drop(c, f);
    }
    seeker *s, *stmp;
    HASH_ITER(hh, c->seekers, s, stmp)
    {
        /* cppcheck-suppress uninitvar ; HASH_ITER sets s before the body */
        int32_t today = csm_local_day(h, s->key, now);
        drop_old_pending(s, today);
        if (!sought_since(s, today))
            s->seek_day = NO_DAY;
        if (s->seek_day == NO_DAY && !s->n_pend)
            seeker_drop(c, s);
    }
}

static void orders_on_timer(void *vctx, csm_host *h, const csm_timer *t)
{
    orders_ctx *c = vctx;
    if (t->tag != TAG_SWEEP || t->id != c->sweep_timer)
        return;
    c->sweep_timer = 0;
    sweep(c, h);
    if (c->refunds || c->seekers)
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
    seeker *s = seeker_get(c, h, shop, customer);
    if (!s)
        return;
    int32_t day = csm_local_day(h, shop, ts);
    if (s->seek_day != day) {
        /* Once a day is enough: the set has it already otherwise. */
        csm_set_member m = {.struct_size = sizeof m,
                            .shop_id = shop,
                            .platform = platform,
                            .anchor_ts = ts,
                            .name = "aftersale_seekers",
                            .member = customer};
        csm_emit_set_add(h, &m);
        s->seek_day = day;
    }
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
    if (!s && !(s = seeker_get(c, h, ev->shop_id, ev->customer_id)))
        return;
    drop_old_pending(s, day);
    if (seeker_push(s, (consult){ev->ts, ev->platform})) {
        csm_log(h, 0, "out of memory, a consult of %s not kept", ev->customer_id);
        if (s->seek_day == NO_DAY && !s->n_pend)
            seeker_drop(c, s);
        return;
    }
    s->pend_day = day;
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
    refund *f = refund_find(c, ev->shop_id, tag, id);
    if (f) {
        /* The first request time counts, unless that request was forgotten. */
        if (refund_expired(c, f, ev->ts))
            f->request_ts = ev->ts;
        return;
    }
    if (!refund_add(c, ev->shop_id, tag, id, ev->ts)) {
        csm_log(h, 0, "out of memory, refund %s not tracked", id);
        return;
    }
    arm_sweep(c, h);
}

static void on_refund_finished(orders_ctx *c, csm_host *h, const csm_event *ev)
{
    char tag;
    const char *id = refund_ident(ev, &tag);
    refund *f = id ? refund_find(c, ev->shop_id, tag, id) : NULL;
    if (f && refund_expired(c, f, ev->ts)) {
        refund_drop(c, f);
        f = NULL;
    }
    if (!f) {
        csm_stat_add(h, "ignored_finish_without_request", 1);
        return;
    }
    emit(h, ev->shop_id, ev->platform, "refunds_finished", ev->ts, 1);
    emit(h, ev->shop_id, ev->platform, "refund_ms_sum", ev->ts, ev->ts - f->request_ts);
    /* Counted once: a second finish finds nothing, like one with no request. */
    refund_drop(c, f);
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
    return HASH_COUNT(c->refunds) + HASH_COUNT(c->seekers);
}

/* ---- snapshot / restore ---- */

static int orders_snapshot(void *vctx, csm_host *h, csm_writer *w)
{
    (void)h;
    orders_ctx *c = vctx;
    csm_api->put_i64(w, SNAPSHOT_VERSION);
    csm_api->put_i64(w, (int64_t)c->sweep_timer);
    csm_api->put_i64(w, (int64_t)HASH_COUNT(c->refunds));
    refund *f, *ftmp;
    HASH_ITER(hh, c->refunds, f, ftmp)
    {
        /* cppcheck-suppress uninitvar ; HASH_ITER sets f before the body */
        csm_api->put_str(w, f->key);
        csm_api->put_str(w, f->key + strlen(f->key) + 1);
        csm_api->put_i64(w, f->request_ts);
    }
    csm_api->put_i64(w, (int64_t)HASH_COUNT(c->seekers));
    seeker *s, *stmp;
    HASH_ITER(hh, c->seekers, s, stmp)
    {
        /* cppcheck-suppress uninitvar ; HASH_ITER sets s before the body */
        csm_api->put_str(w, s->key);
        csm_api->put_str(w, s->key + strlen(s->key) + 1);
        csm_api->put_i64(w, s->seek_day);
        csm_api->put_i64(w, s->pend_day);
        csm_api->put_i64(w, s->n_pend);
        for (uint32_t i = 0; i < s->n_pend; i++) {
            csm_api->put_i64(w, s->pend[i].ts);
            csm_api->put_i64(w, s->pend[i].platform);
        }
    }
    return 0;
}

static int valid_day(int64_t d)
{
    return d == NO_DAY || (d > -1000000 && d < 1000000);
}

static int restore_refund(orders_ctx *c, csm_reader *r)
{
    char *shop = NULL, *tagged = NULL;
    int64_t ts;
    int rc = -1;
    if (csm_api->get_str(r, &shop) || csm_api->get_str(r, &tagged) || !shop || !tagged ||
        (tagged[0] != 'R' && tagged[0] != 'O') || csm_api->get_i64(r, &ts) ||
        refund_find(c, shop, tagged[0], tagged + 1) ||
        !refund_add(c, shop, tagged[0], tagged + 1, ts))
        goto out;
    rc = 0;
out:
    free(shop);
    free(tagged);
    return rc;
}

static int restore_seeker(orders_ctx *c, csm_reader *r)
{
    char *shop = NULL, *customer = NULL;
    int64_t seek_day, pend_day, n;
    int rc = -1;
    if (csm_api->get_str(r, &shop) || csm_api->get_str(r, &customer) || !shop || !customer ||
        csm_api->get_i64(r, &seek_day) || csm_api->get_i64(r, &pend_day) ||
        csm_api->get_i64(r, &n) || !valid_day(seek_day) || !valid_day(pend_day) || n < 0 ||
        n > 1000000 || seeker_find(c, shop, customer))
        goto out;
    seeker *s = seeker_add(c, shop, customer);
    if (!s)
        goto out;
    s->seek_day = (int32_t)seek_day;
    s->pend_day = (int32_t)pend_day;
    for (int64_t i = 0; i < n; i++) {
        int64_t ts, platform;
        if (csm_api->get_i64(r, &ts) || csm_api->get_i64(r, &platform) || platform < 0 ||
            platform >= CSM_PLATFORM_COUNT || seeker_push(s, (consult){ts, (csm_platform)platform}))
            goto out;
    }
    rc = 0;
out:
    free(shop);
    free(customer);
    return rc;
}

static int orders_restore(void *vctx, csm_host *h, csm_reader *r)
{
    orders_ctx *c = vctx;
    int64_t version, timer, n;
    if (csm_api->get_i64(r, &version) || version != SNAPSHOT_VERSION ||
        csm_api->get_i64(r, &timer) || csm_api->get_i64(r, &n) || n < 0)
        goto bad;
    c->sweep_timer = (uint64_t)timer;
    for (int64_t i = 0; i < n; i++)
        if (restore_refund(c, r))
            goto bad;
    if (csm_api->get_i64(r, &n) || n < 0)
        goto bad;
    for (int64_t i = 0; i < n; i++)
        if (restore_seeker(c, r))
            goto bad;
    return 0;
bad:
    csm_log(h, 0, "unreadable or corrupt snapshot");
    clear(c);
    c->sweep_timer = 0;
    return -1;
}

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
    .snapshot = orders_snapshot,
    .restore = orders_restore,
    .state_entries = orders_state_entries,
    .needs = needs,
};
CSM_PLUGIN_DEFINE(descriptor)
