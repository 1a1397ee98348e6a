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

/* Format of the saved entries (README.md, "State"). */
#define STATE_VERSION 1
#define TAG_SWEEP 1
#define NO_DAY INT32_MIN

/* Entry keys: 0 is the plugin-wide entry (the sweep timer, whose key is
 * 0); a record's key is (a number of its own << 1) | its kind, so that
 * save and load tell refunds and seekers apart by the key. */
enum { KIND_REFUND = 0, KIND_SEEKER = 1 };
#define KEY_KIND(k) ((int)((k)&1u))

/* An open refund: requested, not finished yet. */
typedef struct refund {
    UT_hash_handle hh;    /* by shop and id (key) */
    UT_hash_handle by_no; /* by entry key */
    uint64_t no;
    csm_ts request_ts;
    uint32_t keylen; /* up to the id's terminator (excluded) */
    char key[];      /* shop '\0' ('R' refund_id | 'O' order_id) '\0' */
} refund;

typedef struct consult {
    csm_ts ts;
    csm_platform platform;
} consult;

/* What escalations need to know of one (shop, customer). */
typedef struct seeker {
    UT_hash_handle hh;    /* by shop and customer (key) */
    UT_hash_handle by_no; /* by entry key */
    uint64_t no;
    int32_t seek_day; /* latest shop-local day it sought after-sale help, or NO_DAY */
    int32_t pend_day; /* day of the pending consults */
    consult *pend;    /* consults of pend_day not counted (yet) */
    uint32_t n_pend, cap_pend;
    uint32_t keylen;
    char key[]; /* shop '\0' customer '\0' */
} seeker;

typedef struct orders_ctx {
    /* config_map */
    int64_t refund_keep_ms;
    int64_t sweep_interval_ms;
    /* state */
    refund *refunds;
    refund *refund_nos;
    seeker *seekers;
    seeker *seeker_nos;
    uint64_t last_no;     /* record numbers given so far, never reused while live */
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

/* A fresh entry key of @p kind. */
static uint64_t new_key(orders_ctx *c, int kind)
{
    return ++c->last_no << 1 | (uint64_t)kind;
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

static refund *refund_find_no(orders_ctx *c, uint64_t no)
{
    refund *f;
    HASH_FIND(by_no, c->refund_nos, &no, sizeof no, f);
    return f;
}

/* The key is stored inside the record: one block. */
static refund *refund_add(orders_ctx *c, const char *shop, char tag, const char *id, csm_ts ts,
                          uint64_t no)
{
    char buf[256], *heap;
    size_t len;
    const char *k = make_key(shop, tag, id, buf, sizeof buf, &len, &heap);
    refund *f = k ? calloc(1, sizeof *f + len + 1) : NULL;
    if (f)
        memcpy(f->key, k, len + 1);
    free(heap);
    if (!f)
        return NULL;
    f->keylen = (uint32_t)len;
    f->request_ts = ts;
    f->no = no;
    HASH_ADD_KEYPTR(hh, c->refunds, f->key, f->keylen, f);
    HASH_ADD(by_no, c->refund_nos, no, sizeof f->no, f);
    return f;
}

static void refund_drop(orders_ctx *c, refund *f)
{
    HASH_DEL(c->refunds, f);
    HASH_DELETE(by_no, c->refund_nos, f);
    free(f);
}

/* Drops the refund now and its saved entry at the next flush. */
static void refund_forget(orders_ctx *c, csm_host *h, refund *f)
{
    csm_state_touch(h, f->no);
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
    char buf[256], *heap;
    size_t len;
    const char *k = make_key(shop, 0, customer, buf, sizeof buf, &len, &heap);
    seeker *s = NULL;
    if (k)
        HASH_FIND(hh, c->seekers, k, len, s);
    free(heap);
    return s;
}

static seeker *seeker_find_no(orders_ctx *c, uint64_t no)
{
    seeker *s;
    HASH_FIND(by_no, c->seeker_nos, &no, sizeof no, s);
    return s;
}

/* The key is stored inside the record: one block. */
static seeker *seeker_add(orders_ctx *c, const char *shop, const char *customer, uint64_t no)
{
    char buf[256], *heap;
    size_t len;
    const char *k = make_key(shop, 0, customer, buf, sizeof buf, &len, &heap);
    seeker *s = k ? calloc(1, sizeof *s + len + 1) : NULL;
    if (s)
        memcpy(s->key, k, len + 1);
    free(heap);
    if (!s)
        return NULL;
    s->keylen = (uint32_t)len;
    s->no = no;
    s->seek_day = s->pend_day = NO_DAY;
    HASH_ADD_KEYPTR(hh, c->seekers, s->key, s->keylen, s);
    HASH_ADD(by_no, c->seeker_nos, no, sizeof s->no, s);
    return s;
}

static seeker *seeker_get(orders_ctx *c, csm_host *h, const char *shop, const char *customer)
{
    seeker *s = seeker_find(c, shop, customer);
    if (!s && !(s = seeker_add(c, shop, customer, new_key(c, KIND_SEEKER))))
        csm_log(h, 0, "out of memory, customer %s of shop %s not tracked", customer, shop);
    return s;
}

static void seeker_drop(orders_ctx *c, seeker *s)
{
    HASH_DEL(c->seekers, s);
    HASH_DELETE(by_no, c->seeker_nos, s);
    free(s->pend);
    free(s);
}

/* The seeker changed: saved at the next flush, or deleted there when it
 * has nothing left to remember (and dropped now). */
static void seeker_changed(orders_ctx *c, csm_host *h, seeker *s)
{
    csm_state_touch(h, s->no);
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
    if (c->sweep_timer)
        return;
    c->sweep_timer = csm_timer_set(h, csm_now(h) + c->sweep_interval_ms, 0, TAG_SWEEP);
    csm_state_touch(h, 0);
}

static void sweep_seeker(orders_ctx *c, csm_host *h, seeker *s, csm_ts now)
{
    int32_t today = csm_local_day(h, s->key, now), seek_day = s->seek_day;
    uint32_t n_pend = s->n_pend;
    drop_old_pending(s, today);
    if (!sought_since(s, today))
        s->seek_day = NO_DAY;
    if (s->seek_day != seek_day || s->n_pend != n_pend)
        seeker_changed(c, h, s);
}

static void sweep(orders_ctx *c, csm_host *h)
{
    csm_ts now = csm_now(h);
    refund *f, *ftmp;
    HASH_ITER(hh, c->refunds, f, ftmp)
    {
        /* cppcheck-suppress uninitvar ; HASH_ITER sets f before the body */
        if (refund_expired(c, f, now))
            refund_forget(c, h, f);
    }
    seeker *s, *stmp;
    HASH_ITER(hh, c->seekers, s, stmp)
    {
        /* cppcheck-suppress uninitvar ; HASH_ITER sets s before the body */
        sweep_seeker(c, h, s, now);
    }
}

static void orders_on_timer(void *vctx, csm_host *h, const csm_timer *t)
{
    orders_ctx *c = vctx;
    if (t->tag != TAG_SWEEP || t->id != c->sweep_timer)
        return;
    c->sweep_timer = 0;
    csm_state_touch(h, 0);
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
    if (s->seek_day != day || s->n_pend)
        csm_state_touch(h, s->no);
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
        seeker_changed(c, h, s);
        return;
    }
    s->pend_day = day;
    csm_state_touch(h, s->no);
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
        if (refund_expired(c, f, ev->ts)) {
            f->request_ts = ev->ts;
            csm_state_touch(h, f->no);
        }
        return;
    }
    if (!(f = refund_add(c, ev->shop_id, tag, id, ev->ts, new_key(c, KIND_REFUND)))) {
        csm_log(h, 0, "out of memory, refund %s not tracked", id);
        return;
    }
    csm_state_touch(h, f->no);
    arm_sweep(c, h);
}

static void on_refund_finished(orders_ctx *c, csm_host *h, const csm_event *ev)
{
    char tag;
    const char *id = refund_ident(ev, &tag);
    refund *f = id ? refund_find(c, ev->shop_id, tag, id) : NULL;
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
    return HASH_COUNT(c->refunds) + HASH_COUNT(c->seekers);
}

/* ---- saved entries ---- */

/* A record's key a '\0' b '\0' as the two strings a and b. */
static void put_key(csm_writer *w, const char *key)
{
    csm_api->put_str(w, key);
    csm_api->put_str(w, key + strlen(key) + 1);
}

static void save_refund(const refund *f, csm_writer *w)
{
    put_key(w, f->key);
    csm_api->put_i64(w, f->request_ts);
}

static void save_seeker(const seeker *s, csm_writer *w)
{
    put_key(w, s->key);
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
    if (KEY_KIND(key) == KIND_REFUND) {
        const refund *f = refund_find_no(c, key);
        if (f)
            save_refund(f, w);
        return !f;
    }
    const seeker *s = seeker_find_no(c, key);
    if (s)
        save_seeker(s, w);
    return !s;
}

static int valid_day(int64_t d)
{
    return d == NO_DAY || (d > -1000000 && d < 1000000);
}

static int load_refund(orders_ctx *c, uint64_t no, csm_reader *r)
{
    char *shop = NULL, *tagged = NULL;
    int64_t ts;
    int rc = -1;
    if (csm_api->get_str(r, &shop) || csm_api->get_str(r, &tagged) || !shop || !tagged ||
        (tagged[0] != 'R' && tagged[0] != 'O') || csm_api->get_i64(r, &ts) ||
        refund_find(c, shop, tagged[0], tagged + 1) || refund_find_no(c, no) ||
        !refund_add(c, shop, tagged[0], tagged + 1, ts, no))
        goto out;
    rc = 0;
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

static int load_seeker(orders_ctx *c, uint64_t no, csm_reader *r)
{
    char *shop = NULL, *customer = NULL;
    int64_t seek_day, pend_day, n;
    int rc = -1;
    if (csm_api->get_str(r, &shop) || csm_api->get_str(r, &customer) || !shop || !customer ||
        csm_api->get_i64(r, &seek_day) || csm_api->get_i64(r, &pend_day) ||
        csm_api->get_i64(r, &n) || !valid_day(seek_day) || !valid_day(pend_day) || n < 0 ||
        n > 1000000 || seeker_find(c, shop, customer) || seeker_find_no(c, no))
        goto out;
    seeker *s = seeker_add(c, shop, customer, no);
    if (!s)
        goto out;
    s->seek_day = (int32_t)seek_day;
    s->pend_day = (int32_t)pend_day;
    rc = load_consults(s, n, r);
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
             : KEY_KIND(key) == KIND_REFUND ? load_refund(c, key, r)
                                            : load_seeker(c, key, r);
    if (rc)
        csm_log(h, 0, "unreadable entry %llu (state version %u)", (unsigned long long)key, version);
    return rc;
}

/* New records take numbers above every loaded one: keys stay unique among
 * live entries. */
static int orders_load_done(void *vctx, csm_host *h)
{
    (void)h;
    orders_ctx *c = vctx;
    for (const refund *f = c->refunds; f; f = f->hh.next)
        if (f->no >> 1 > c->last_no)
            c->last_no = f->no >> 1;
    for (const seeker *s = c->seekers; s; s = s->hh.next)
        if (s->no >> 1 > c->last_no)
            c->last_no = s->no >> 1;
    return 0;
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
    .state_entries = orders_state_entries,
    .needs = needs,
    .state_version = STATE_VERSION,
    .save_entry = orders_save_entry,
    .load_entry = orders_load_entry,
    .load_done = orders_load_done,
};
CSM_PLUGIN_DEFINE(descriptor)
