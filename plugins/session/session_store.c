/* The session builder's records: lookup, eviction, snapshot and restore. */
#include <stdlib.h>
#include <string.h>

#include "csmetrics/plugin.h"
#include "session_state.h"

#define SNAPSHOT_VERSION 1

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

rec *rec_find(session_ctx *c, const char *shop, const char *customer)
{
    char buf[256], *heap;
    size_t len;
    const char *k = make_key(shop, customer, buf, sizeof buf, &len, &heap);
    rec *r;
    HASH_FIND(hh, c->recs, k, len, r);
    free(heap);
    return r;
}

rec *rec_create(session_ctx *c, csm_host *h, const char *shop, const char *customer)
{
    rec *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    char *heap;
    size_t ls = strlen(shop), lc = strlen(customer);
    char *buf = xmalloc(ls + lc + 2);
    make_key(shop, customer, buf, ls + lc + 2, &r->keylen, &heap);
    r->key = buf;
    HASH_ADD_KEYPTR(hh, c->recs, r->key, r->keylen, r);
    return r;
}

void sess_free(sess *s)
{
    if (!s)
        return;
    free(s->agent);
    free(s->intent);
    free(s);
}

void rec_free(rec *r)
{
    sess_free(r->open);
    sess_free(r->closed);
    free(r->paid_days);
    free(r->key);
    free(r);
}

sess *sess_new(const rec *r)
{
    sess *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->v.struct_size = sizeof s->v;
    s->v.shop_id = rec_shop(r);
    s->v.customer_id = rec_customer(r);
    s->v.request_ts = s->v.assign_ts = s->v.first_human_reply_ts = CSM_TS_NONE;
    s->v.close_ts = s->last_touch = CSM_TS_NONE;
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

/* Drops what can no longer change a figure: PAID days before any future
 * session's look-back, closed sessions past CLOSED_KEEP_MS (routing checks
 * the same bound, so eviction never changes a result), then records left
 * empty. Event time only moves forward, so "future" starts at now. */
void session_sweep(session_ctx *c, csm_host *h)
{
    csm_ts now = csm_now(h);
    rec *r, *tmp;
    HASH_ITER(hh, c->recs, r, tmp)
    {
        /* cppcheck-suppress uninitvar ; HASH_ITER sets r before the body */
        if (r->n_paid) {
            int32_t first = csm_local_day(h, rec_shop(r), now) - (int32_t)c->aftersale_days;
            uint32_t drop = 0;
            while (drop < r->n_paid && r->paid_days[drop] < first)
                drop++;
            memmove(r->paid_days, r->paid_days + drop, (r->n_paid - drop) * sizeof *r->paid_days);
            r->n_paid -= drop;
        }
        if (r->closed && now > r->closed->last_touch + CLOSED_KEEP_MS) {
            sess_free(r->closed);
            r->closed = NULL;
        }
        if (!r->open && !r->closed && !r->n_paid) {
            HASH_DEL(c->recs, r);
            rec_free(r);
        }
    }
}

/* ---- snapshot ---- */

static void put_sess(csm_writer *w, const sess *s)
{
    const csm_session *v = &s->v;
    csm_api->put_i64(w, (int64_t)v->id);
    csm_api->put_i64(w, v->platform);
    csm_api->put_i64(w, v->open_ts);
    csm_api->put_i64(w, v->merchant_initiated);
    csm_api->put_i64(w, v->aftersale);
    csm_api->put_i64(w, v->request_ts);
    csm_api->put_i64(w, v->assign_ts);
    csm_api->put_str(w, s->agent);
    csm_api->put_str(w, s->intent);
    csm_api->put_i64(w, v->last_customer_ts);
    csm_api->put_i64(w, v->first_human_reply_ts);
    csm_api->put_i64(w, v->offline);
    csm_api->put_i64(w, v->close_ts);
    csm_api->put_i64(w, s->unanswered);
    csm_api->put_i64(w, (int64_t)s->idle_timer);
    csm_api->put_i64(w, (int64_t)s->max_timer);
    csm_api->put_i64(w, s->last_touch);
}

int session_snapshot(void *vctx, csm_host *h, csm_writer *w)
{
    session_ctx *c = vctx;
    csm_api->put_i64(w, SNAPSHOT_VERSION);
    csm_api->put_i64(w, (int64_t)c->last_id);
    csm_api->put_i64(w, (int64_t)c->sweep_timer);
    csm_api->put_i64(w, (int64_t)HASH_COUNT(c->recs));
    for (rec *r = c->recs; r; r = r->hh.next) {
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
    }
    return 0;
}

/* ---- restore ---- */

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

static int get_sess(csm_reader *rd, const rec *r, sess **out)
{
    sess *s = sess_new(r);
    csm_session *v = &s->v;
    int64_t id, idle, max;
    int platform;
    *out = s;
    if (get_i64(rd, &id) || get_int(rd, &platform) || get_i64(rd, &v->open_ts) ||
        get_int(rd, &v->merchant_initiated) || get_int(rd, &v->aftersale) ||
        get_i64(rd, &v->request_ts) || get_i64(rd, &v->assign_ts) ||
        csm_api->get_str(rd, &s->agent) || csm_api->get_str(rd, &s->intent) ||
        get_i64(rd, &v->last_customer_ts) || get_i64(rd, &v->first_human_reply_ts) ||
        get_int(rd, &v->offline) || get_i64(rd, &v->close_ts) || get_int(rd, &s->unanswered) ||
        get_i64(rd, &idle) || get_i64(rd, &max) || get_i64(rd, &s->last_touch))
        return -1;
    if (platform < 0 || platform >= CSM_PLATFORM_COUNT || id <= 0)
        return -1;
    v->id = (uint64_t)id;
    v->platform = (csm_platform)platform;
    v->agent_id = s->agent;
    v->intent = s->intent;
    s->idle_timer = (uint64_t)idle;
    s->max_timer = (uint64_t)max;
    return 0;
}

static int restore_rec(session_ctx *c, csm_host *h, csm_reader *rd)
{
    char *shop = NULL, *customer = NULL;
    int64_t n_paid, flags;
    int rc = -1;
    if (csm_api->get_str(rd, &shop) || csm_api->get_str(rd, &customer) || !shop || !customer ||
        rec_find(c, shop, customer))
        goto out;
    rec *r = rec_create(c, h, shop, customer);
    if (get_i64(rd, &n_paid) || n_paid < 0 || n_paid > 100000)
        goto out;
    for (int64_t i = 0; i < n_paid; i++) {
        int day;
        if (get_int(rd, &day))
            goto out;
        rec_add_paid_day(r, day);
    }
    if (get_i64(rd, &flags) || flags < 0 || flags > 3)
        goto out;
    if (flags & 1) {
        sess *dup;
        if (get_sess(rd, r, &r->open))
            goto out;
        HASH_FIND(hh, c->open_by_id, &r->open->v.id, sizeof r->open->v.id, dup);
        if (dup || r->open->v.close_ts != CSM_TS_NONE)
            goto out;
        HASH_ADD(hh, c->open_by_id, v.id, sizeof r->open->v.id, r->open);
    }
    if ((flags & 2) && get_sess(rd, r, &r->closed))
        goto out;
    rc = 0;
out:
    free(shop);
    free(customer);
    return rc;
}

int session_restore(void *vctx, csm_host *h, csm_reader *rd)
{
    session_ctx *c = vctx;
    int64_t version, last_id, sweep, n;
    if (get_i64(rd, &version) || version != SNAPSHOT_VERSION || get_i64(rd, &last_id) ||
        get_i64(rd, &sweep) || get_i64(rd, &n) || n < 0) {
        csm_log(h, 0, "snapshot: unknown version or truncated header");
        return -1;
    }
    c->last_id = (uint64_t)last_id;
    c->sweep_timer = (uint64_t)sweep;
    for (int64_t i = 0; i < n; i++) {
        if (restore_rec(c, h, rd)) {
            csm_log(h, 0, "snapshot: customer record %lld of %lld is corrupt", (long long)i,
                    (long long)n);
            return -1;
        }
    }
    return 0;
}
