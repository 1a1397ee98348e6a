/* The satisfaction calculator's entries: lookup, eviction, snapshot and
 * restore. */
#include <stdlib.h>
#include <string.h>

#include "csmetrics/plugin.h"
#include "satisfaction_state.h"

#define SNAPSHOT_VERSION 1

sat_sess *sat_sess_find(sat_ctx *c, uint64_t id)
{
    sat_sess *e;
    HASH_FIND(hh, c->sessions, &id, sizeof id, e);
    return e;
}

sat_sess *sat_sess_add(sat_ctx *c, uint64_t id)
{
    sat_sess *e = calloc(1, sizeof *e);
    if (!e)
        abort();
    e->id = id;
    e->invite_ts = e->close_ts = e->last_touch = CSM_TS_NONE;
    HASH_ADD(hh, c->sessions, id, sizeof e->id, e);
    return e;
}

static void sess_del(sat_ctx *c, sat_sess *e)
{
    HASH_DEL(c->sessions, e);
    free(e->agent);
    free(e);
}

/* shop '\0' customer '\0' in a fresh buffer; *len excludes the last '\0'. */
static char *make_key(const char *shop, const char *customer, size_t *len)
{
    size_t ls = strlen(shop), lc = strlen(customer);
    char *k = malloc(ls + lc + 2);
    if (!k)
        abort();
    memcpy(k, shop, ls + 1);
    memcpy(k + ls + 1, customer, lc + 1);
    *len = ls + 1 + lc;
    return k;
}

static cust_day *cust_find(sat_ctx *c, const char *shop, const char *customer)
{
    size_t len;
    char *k = make_key(shop, customer, &len);
    cust_day *cd;
    HASH_FIND(hh, c->days, k, len, cd);
    free(k);
    return cd;
}

static cust_day *cust_add(sat_ctx *c, const char *shop, const char *customer, int32_t day)
{
    cust_day *cd = calloc(1, sizeof *cd);
    if (!cd)
        abort();
    cd->key = make_key(shop, customer, &cd->keylen);
    cd->day = day;
    HASH_ADD_KEYPTR(hh, c->days, cd->key, cd->keylen, cd);
    return cd;
}

static void cust_del(sat_ctx *c, cust_day *cd)
{
    HASH_DEL(c->days, cd);
    free(cd->key);
    free(cd);
}

cust_day *sat_cust_day(sat_ctx *c, const char *shop, const char *customer, int32_t day)
{
    cust_day *cd = cust_find(c, shop, customer);
    if (!cd)
        return cust_add(c, shop, customer, day);
    if (cd->day != day) {
        cd->day = day;
        cd->n = 0;
    }
    return cd;
}

void sat_clear(sat_ctx *c)
{
    sat_sess *e, *etmp;
    HASH_ITER(hh, c->sessions, e, etmp)
    {
        /* cppcheck-suppress uninitvar ; HASH_ITER sets the entry before the body */
        sess_del(c, e);
    }
    cust_day *cd, *ctmp;
    HASH_ITER(hh, c->days, cd, ctmp)
    {
        /* cppcheck-suppress uninitvar ; HASH_ITER sets the entry before the body */
        cust_del(c, cd);
    }
}

uint64_t sat_entries(const sat_ctx *c)
{
    return HASH_COUNT(c->sessions) + HASH_COUNT(c->days);
}

void sat_arm_sweep(sat_ctx *c, csm_host *h)
{
    if (!c->sweep_timer)
        c->sweep_timer = csm_timer_set(h, csm_now(h) + SWEEP_EVERY_MS, 0, TAG_SWEEP);
}

/* Drops what no later event can use. Event time only moves forward, so an
 * entry useless now stays useless:
 *  - a session the session builder can no longer route anything to (closed
 *    and more than SESSION_REACH_MS past its last activity) gets no further
 *    invitation, rating or intent;
 *  - a customer's day counter once that shop-local day is over. */
void sat_sweep(sat_ctx *c, csm_host *h)
{
    csm_ts now = csm_now(h);
    sat_sess *e, *etmp;
    HASH_ITER(hh, c->sessions, e, etmp)
    {
        /* cppcheck-suppress uninitvar ; HASH_ITER sets the entry before the body */
        if (e->close_ts == CSM_TS_NONE)
            continue;
        csm_ts last = e->last_touch > e->close_ts ? e->last_touch : e->close_ts;
        if (now > last + SESSION_REACH_MS)
            sess_del(c, e);
    }
    cust_day *cd, *ctmp;
    HASH_ITER(hh, c->days, cd, ctmp)
    {
        /* cppcheck-suppress uninitvar ; HASH_ITER sets the entry before the body */
        if (csm_day_start(h, cd->key, cd->day + 1) <= now)
            cust_del(c, cd);
    }
}

/* ---- snapshot ---- */

int sat_snapshot(void *vctx, csm_host *h, csm_writer *w)
{
    sat_ctx *c = vctx;
    (void)h;
    csm_api->put_i64(w, SNAPSHOT_VERSION);
    csm_api->put_i64(w, (int64_t)c->sweep_timer);
    csm_api->put_i64(w, (int64_t)HASH_COUNT(c->sessions));
    for (const sat_sess *e = c->sessions; e; e = e->hh.next) {
        csm_api->put_i64(w, (int64_t)e->id);
        csm_api->put_i64(w, e->invite_ts);
        csm_api->put_str(w, e->agent);
        csm_api->put_i64(w, e->flags);
        csm_api->put_i64(w, e->stars);
        csm_api->put_i64(w, e->close_ts);
        csm_api->put_i64(w, e->last_touch);
    }
    csm_api->put_i64(w, (int64_t)HASH_COUNT(c->days));
    for (const cust_day *cd = c->days; cd; cd = cd->hh.next) {
        csm_api->put_str(w, cd->key);
        csm_api->put_str(w, cd->key + strlen(cd->key) + 1);
        csm_api->put_i64(w, cd->day);
        csm_api->put_i64(w, cd->n);
    }
    return 0;
}

/* ---- restore ---- */

static int get_int(csm_reader *r, int32_t lo, int32_t hi, int32_t *v)
{
    int64_t x;
    if (csm_api->get_i64(r, &x) || x < lo || x > hi)
        return -1;
    *v = (int32_t)x;
    return 0;
}

static int restore_sess(sat_ctx *c, csm_reader *r)
{
    int64_t id, invite_ts, close_ts, last_touch;
    int32_t flags, stars;
    char *agent = NULL;
    if (csm_api->get_i64(r, &id) || id <= 0 || csm_api->get_i64(r, &invite_ts) ||
        invite_ts == CSM_TS_NONE || csm_api->get_str(r, &agent) ||
        get_int(r, 0, F_HUMAN | F_AFTERSALE | F_INTENT_PENDING, &flags) ||
        get_int(r, 0, 5, &stars) || csm_api->get_i64(r, &close_ts) ||
        csm_api->get_i64(r, &last_touch) || sat_sess_find(c, (uint64_t)id)) {
        free(agent);
        return -1;
    }
    sat_sess *e = sat_sess_add(c, (uint64_t)id);
    e->invite_ts = invite_ts;
    e->agent = agent;
    e->flags = (uint32_t)flags;
    e->stars = stars;
    e->close_ts = close_ts;
    e->last_touch = last_touch;
    return 0;
}

static int restore_day(sat_ctx *c, csm_reader *r)
{
    char *shop = NULL, *customer = NULL;
    int64_t day;
    int32_t n;
    int rc = -1;
    if (csm_api->get_str(r, &shop) || csm_api->get_str(r, &customer) || !shop || !customer ||
        csm_api->get_i64(r, &day) || day < INT32_MIN || day > INT32_MAX ||
        get_int(r, 0, INT32_MAX, &n) || cust_find(c, shop, customer))
        goto out;
    cust_add(c, shop, customer, (int32_t)day)->n = n;
    rc = 0;
out:
    free(shop);
    free(customer);
    return rc;
}

int sat_restore(void *vctx, csm_host *h, csm_reader *r)
{
    sat_ctx *c = vctx;
    int64_t version, sweep, n;
    if (csm_api->get_i64(r, &version) || version != SNAPSHOT_VERSION ||
        csm_api->get_i64(r, &sweep) || csm_api->get_i64(r, &n) || n < 0) {
        csm_log(h, 0, "satisfaction: unknown snapshot version or truncated header");
        return -1;
    }
    c->sweep_timer = (uint64_t)sweep;
    for (int64_t i = 0; i < n; i++) {
        if (restore_sess(c, r)) {
            csm_log(h, 0, "satisfaction: corrupt snapshot at session %lld", (long long)i);
            goto fail;
        }
    }
    if (csm_api->get_i64(r, &n) || n < 0) {
        csm_log(h, 0, "satisfaction: truncated snapshot");
        goto fail;
    }
    for (int64_t i = 0; i < n; i++) {
        if (restore_day(c, r)) {
            csm_log(h, 0, "satisfaction: corrupt snapshot at customer day %lld", (long long)i);
            goto fail;
        }
    }
    return 0;
fail:
    sat_clear(c);
    c->sweep_timer = 0;
    return -1;
}
