/* The session builder's records: lookup, eviction, and the entries of the
 * incremental checkpoint (one per record, key = record id; key 0 holds the
 * id counters and the sweep timer). */
#include <stdlib.h>
#include <string.h>

#include "csmetrics/plugin.h"
#include "session_state.h"

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        abort();
    return p;
}

/* Builds the record key shop '\0' customer into buf, or a malloc'd buffer
 * when it does not fit (returned in *heap for the caller to free). */
static char *make_key(const char *shop, const char *customer, char *buf, size_t cap, size_t *keylen,
                      char **heap)
{
    size_t ls = strlen(shop), lc = strlen(customer);
    char *k = buf;
    *heap = NULL;
    if (ls + lc + 2 > cap)
        k = *heap = xmalloc(ls + lc + 2);
    memcpy(k, shop, ls + 1);
    memcpy(k + ls + 1, customer, lc + 1);
    *keylen = ls + 1 + lc;
    return k;
}

typedef struct key_ref {
    const char *key;
    size_t len;
} key_ref;

static uint64_t hash_key(const void *e)
{
    const rec *r = e;
    return csm_hash_bytes(r->key, r->keylen);
}

static int match_key(const void *e, const void *k)
{
    const rec *r = e;
    const key_ref *ref = k;
    return r->keylen == ref->len && !memcmp(r->key, ref->key, ref->len);
}

static uint64_t hash_id(const void *e)
{
    return csm_hash_u64(((const rec *)e)->id);
}

static int match_id(const void *e, const void *k)
{
    return ((const rec *)e)->id == *(const uint64_t *)k;
}

void session_tables_init(session_ctx *c)
{
    csm_ptab_init(&c->recs, hash_key);
    csm_ptab_init(&c->by_id, hash_id);
}

static void rec_free(rec *r)
{
    sess_free(r->open);
    sess_free(r->closed);
    free(r->paid_days);
    free(r);
}

void session_tables_free(session_ctx *c)
{
    for (size_t i = 0; i < csm_ptab_slots(&c->recs); i++)
        if (c->recs.slot[i])
            rec_free(c->recs.slot[i]);
    csm_ptab_free(&c->recs);
    csm_ptab_free(&c->by_id);
}

rec *rec_find(session_ctx *c, const char *shop, const char *customer)
{
    char buf[256], *heap;
    key_ref k;
    k.key = make_key(shop, customer, buf, sizeof buf, &k.len, &heap);
    rec *r = csm_ptab_find(&c->recs, csm_hash_bytes(k.key, k.len), match_key, &k);
    free(heap);
    return r;
}

rec *rec_by_id(session_ctx *c, uint64_t id)
{
    return csm_ptab_find(&c->by_id, csm_hash_u64(id), match_id, &id);
}

static rec *rec_insert(session_ctx *c, uint64_t id, const char *shop, const char *customer)
{
    size_t ls = strlen(shop), lc = strlen(customer);
    rec *r = calloc(1, sizeof *r + ls + lc + 2);
    if (!r)
        abort();
    char *heap;
    size_t keylen;
    make_key(shop, customer, r->key, ls + lc + 2, &keylen, &heap);
    r->keylen = (uint32_t)keylen;
    r->id = id;
    csm_ptab_add(&c->recs, r);
    csm_ptab_add(&c->by_id, r);
    return r;
}

rec *rec_create(session_ctx *c, csm_host *h, const char *shop, const char *customer)
{
    rec *r = rec_insert(c, ++c->last_rec_id, shop, customer);
    csm_state_touch(h, r->id);
    csm_state_touch(h, 0);
    return r;
}

void sess_free(sess *s)
{
    free(s);
}

sess *sess_new(void)
{
    sess *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->request_ts = s->assign_ts = s->first_human_reply_ts = CSM_TS_NONE;
    s->close_ts = s->last_touch = CSM_TS_NONE;
    return s;
}

void rec_add_paid_day(rec *r, int32_t day)
{
    uint32_t i = r->n_paid;
    while (i > 0 && r->paid_days[i - 1] > day)
        i--;
    if (i > 0 && r->paid_days[i - 1] == day)
        return;
    if (r->n_paid == r->cap_paid) {
        r->cap_paid = r->cap_paid ? r->cap_paid * 2 : 2;
        int32_t *grown = realloc(r->paid_days, r->cap_paid * sizeof *grown);
        if (!grown)
            abort();
        r->paid_days = grown;
    }
    memmove(r->paid_days + i + 1, r->paid_days + i, (r->n_paid - i) * sizeof *r->paid_days);
    r->paid_days[i] = day;
    r->n_paid++;
}

static void rec_remove(session_ctx *c, rec *r)
{
    csm_ptab_del(&c->recs, r);
    csm_ptab_del(&c->by_id, r);
    rec_free(r);
}

/* Drops what can no longer change a figure from one record; 1 if it
 * changed. PAID days from @p kept on are kept whatever the shop's zone,
 * so the shop's local day is only asked for records that may drop one. */
static int sweep_rec(session_ctx *c, csm_host *h, rec *r, csm_ts now, int64_t kept)
{
    int changed = 0;
    if (r->n_paid && r->paid_days[0] < kept) {
        int32_t first = csm_local_day(h, rec_shop(r), now) - (int32_t)c->aftersale_days;
        uint32_t drop = 0;
        while (drop < r->n_paid && r->paid_days[drop] < first)
            drop++;
        memmove(r->paid_days, r->paid_days + drop, (r->n_paid - drop) * sizeof *r->paid_days);
        r->n_paid -= drop;
        changed = drop > 0;
    }
    if (r->closed && now > r->closed->last_touch + CLOSED_KEEP_MS) {
        sess_free(r->closed);
        r->closed = NULL;
        changed = 1;
    }
    return changed;
}

/* Drops what can no longer change a figure: PAID days before any future
 * session's look-back, closed sessions past CLOSED_KEEP_MS (routing checks
 * the same bound, so eviction never changes a result), then records left
 * empty. Event time only moves forward, so "future" starts at now. */
/* The first day no zone's look-back can drop: a UTC offset is under two
 * days, so a shop's local day at @p now is at most the UTC day + 2. */
static int64_t kept_whatever_zone(const session_ctx *c, csm_ts now)
{
    const int64_t day_ms = 86400000;
    int64_t utc_day = now / day_ms - (now % day_ms < 0);
    return utc_day + 2 - (int64_t)c->aftersale_days;
}

void session_sweep(session_ctx *c, csm_host *h)
{
    csm_ts now = csm_now(h);
    int64_t kept = kept_whatever_zone(c, now);
    /* A removal moves a later record back into slot i, so slot i is read
     * again; one met twice is left unchanged the second time. */
    for (size_t i = 0; i < csm_ptab_slots(&c->recs);) {
        rec *r = c->recs.slot[i];
        if (r && sweep_rec(c, h, r, now, kept)) {
            csm_state_touch(h, r->id);
            if (!r->open && !r->closed && !r->n_paid) {
                rec_remove(c, r);
                continue;
            }
        }
        i++;
    }
}

/* ---- save ---- */

static void put_sess(csm_writer *w, const sess *s)
{
    csm_api->put_i64(w, (int64_t)s->id);
    csm_api->put_i64(w, s->platform);
    csm_api->put_i64(w, s->open_ts);
    csm_api->put_i64(w, s->merchant_initiated);
    csm_api->put_i64(w, s->aftersale);
    csm_api->put_i64(w, s->request_ts);
    csm_api->put_i64(w, s->assign_ts);
    csm_api->put_str(w, s->agent_id);
    csm_api->put_str(w, s->intent);
    csm_api->put_i64(w, s->last_customer_ts);
    csm_api->put_i64(w, s->first_human_reply_ts);
    csm_api->put_i64(w, s->offline);
    csm_api->put_i64(w, s->close_ts);
    csm_api->put_i64(w, s->unanswered);
    csm_api->put_i64(w, s->idle_held);
    csm_api->put_i64(w, (int64_t)s->timer);
    csm_api->put_i64(w, s->last_touch);
}

int session_save_entry(void *vctx, csm_host *h, uint64_t key, csm_writer *w)
{
    session_ctx *c = vctx;
    (void)h;
    if (key == 0) {
        csm_api->put_i64(w, (int64_t)c->last_id);
        csm_api->put_i64(w, (int64_t)c->last_rec_id);
        csm_api->put_i64(w, (int64_t)c->sweep_timer);
        return 0;
    }
    rec *r = rec_by_id(c, key);
    if (!r)
        return 1;
    csm_api->put_str(w, rec_shop(r));
    csm_api->put_str(w, rec_customer(r));
    csm_api->put_i64(w, r->n_paid);
    for (uint32_t i = 0; i < r->n_paid; i++)
        csm_api->put_i64(w, r->paid_days[i]);
    csm_api->put_i64(w, (r->open ? 1 : 0) | (r->closed ? 2 : 0));
    if (r->open)
        put_sess(w, r->open);
    if (r->closed)
        put_sess(w, r->closed);
    return 0;
}

/* ---- load ---- */

static int get_i64(csm_reader *rd, int64_t *v)
{
    return csm_api->get_i64(rd, v);
}

static int get_int(csm_reader *rd, int *v)
{
    int64_t x;
    if (get_i64(rd, &x) || x < INT32_MIN || x > INT32_MAX)
        return -1;
    *v = (int)x;
    return 0;
}

/* A 0/1 flag of the entry. */
static int get_flag(csm_reader *rd, unsigned *v)
{
    int64_t x;
    if (get_i64(rd, &x) || (x != 0 && x != 1))
        return -1;
    *v = (unsigned)x;
    return 0;
}

static int get_sess(session_ctx *c, csm_reader *rd, sess **out)
{
    sess *s = sess_new();
    int64_t id, platform, timer;
    unsigned merchant, aftersale, offline, unanswered, held;
    *out = s;
    if (get_i64(rd, &id) || get_i64(rd, &platform) || get_i64(rd, &s->open_ts) ||
        get_flag(rd, &merchant) || get_flag(rd, &aftersale) || get_i64(rd, &s->request_ts) ||
        get_i64(rd, &s->assign_ts) || csm_get_interned(&c->strings, rd, &s->agent_id) ||
        csm_get_interned(&c->strings, rd, &s->intent) || get_i64(rd, &s->last_customer_ts) ||
        get_i64(rd, &s->first_human_reply_ts) || get_flag(rd, &offline) ||
        get_i64(rd, &s->close_ts) || get_flag(rd, &unanswered) || get_flag(rd, &held) ||
        get_i64(rd, &timer) || get_i64(rd, &s->last_touch))
        return -1;
    if (platform < 0 || platform >= CSM_PLATFORM_COUNT || id <= 0)
        return -1;
    s->id = (uint64_t)id;
    s->platform = (uint8_t)platform;
    s->merchant_initiated = merchant;
    s->aftersale = aftersale;
    s->offline = offline;
    s->unanswered = unanswered;
    s->idle_held = held;
    s->timer = (uint64_t)timer;
    return 0;
}

static int load_counters(session_ctx *c, csm_reader *rd)
{
    int64_t last_id, last_rec_id, sweep;
    if (get_i64(rd, &last_id) || get_i64(rd, &last_rec_id) || get_i64(rd, &sweep))
        return -1;
    c->last_id = (uint64_t)last_id;
    c->last_rec_id = (uint64_t)last_rec_id;
    c->sweep_timer = (uint64_t)sweep;
    return 0;
}

static int load_sessions(session_ctx *c, csm_reader *rd, rec *r)
{
    int64_t flags;
    if (get_i64(rd, &flags) || flags < 0 || flags > 3)
        return -1;
    if ((flags & 1) && (get_sess(c, rd, &r->open) || r->open->close_ts != CSM_TS_NONE))
        return -1;
    if ((flags & 2) && (get_sess(c, rd, &r->closed) || r->closed->close_ts == CSM_TS_NONE))
        return -1;
    return 0;
}

static int load_rec(session_ctx *c, uint64_t id, csm_reader *rd)
{
    char *shop = NULL, *customer = NULL;
    int64_t n_paid;
    int rc = -1;
    if (csm_api->get_str(rd, &shop) || csm_api->get_str(rd, &customer) || !shop || !customer ||
        rec_by_id(c, id) || rec_find(c, shop, customer))
        goto out;
    rec *r = rec_insert(c, id, shop, customer);
    if (get_i64(rd, &n_paid) || n_paid < 0 || n_paid > 100000)
        goto out;
    for (int64_t i = 0; i < n_paid; i++) {
        int day;
        if (get_int(rd, &day))
            goto out;
        rec_add_paid_day(r, day);
    }
    rc = load_sessions(c, rd, r);
out:
    free(shop);
    free(customer);
    return rc;
}

int session_load_entry(void *vctx, csm_host *h, uint64_t key, uint32_t version, csm_reader *rd)
{
    session_ctx *c = vctx;
    if (version != SESSION_STATE_VERSION) {
        csm_log(h, 0, "state version %u is not %u", version, SESSION_STATE_VERSION);
        return -1;
    }
    if (key == 0 ? load_counters(c, rd) : load_rec(c, key, rd)) {
        csm_log(h, 0, "state: entry %llu is corrupt", (unsigned long long)key);
        return -1;
    }
    return 0;
}

/* Entries come in any order: the counters are only checked against the
 * records once all are in (ids are never reused). */
int session_load_done(void *vctx, csm_host *h)
{
    session_ctx *c = vctx;
    for (size_t i = 0; i < csm_ptab_slots(&c->recs); i++) {
        const rec *r = c->recs.slot[i];
        if (!r)
            continue;
        const sess *newest = r->open ? r->open : r->closed;
        if (r->id > c->last_rec_id || (newest && newest->id > c->last_id)) {
            csm_log(h, 0, "state: record %llu is newer than the id counters",
                    (unsigned long long)r->id);
            return -1;
        }
    }
    return 0;
}
