/* The satisfaction calculator's entries: lookup, eviction, and saving and
 * loading them one by one (README.md, "State"). */
#include <stdlib.h>
#include <string.h>

#include "csmetrics/plugin.h"
#include "satisfaction_state.h"

/* Entry kinds are told apart by their key (satisfaction_state.h). */
static int is_day_key(uint64_t key)
{
    return (key & DAY_KEY_BIT) != 0;
}

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
    e->invite_ts = e->last_activity = CSM_TS_NONE;
    HASH_ADD(hh, c->sessions, id, sizeof e->id, e);
    return e;
}

static void sess_del(sat_ctx *c, sat_sess *e)
{
    HASH_DEL(c->sessions, e);
    free(e);
}

const char *sat_intern(sat_ctx *c, const char *s)
{
    if (!s)
        return NULL;
    size_t len = strlen(s);
    interned *i;
    HASH_FIND(hh, c->agents, s, len, i);
    if (i)
        return i->s;
    if (!(i = calloc(1, sizeof *i + len + 1)))
        abort();
    memcpy(i->s, s, len + 1);
    HASH_ADD_KEYPTR(hh, c->agents, i->s, len, i);
    return i->s;
}

/* shop '\0' customer '\0' into @p buf (at least @p cap bytes), or into a
 * fresh buffer when it does not fit; *len excludes the last '\0'. */
static char *make_key(const char *shop, const char *customer, char *buf, size_t cap, size_t *len)
{
    size_t ls = strlen(shop), lc = strlen(customer);
    char *k = ls + lc + 2 <= cap ? buf : malloc(ls + lc + 2);
    if (!k)
        abort();
    memcpy(k, shop, ls + 1);
    memcpy(k + ls + 1, customer, lc + 1);
    *len = ls + 1 + lc;
    return k;
}

static cust_day *cust_find(sat_ctx *c, const char *shop, const char *customer)
{
    char buf[256];
    size_t len;
    char *k = make_key(shop, customer, buf, sizeof buf, &len);
    cust_day *cd;
    HASH_FIND(hh, c->days, k, len, cd);
    if (k != buf)
        free(k);
    return cd;
}

static cust_day *cust_find_no(sat_ctx *c, uint64_t no)
{
    cust_day *cd;
    HASH_FIND(by_no, c->day_nos, &no, sizeof no, cd);
    return cd;
}

static cust_day *cust_add(sat_ctx *c, const char *shop, const char *customer, uint64_t no,
                          int32_t day)
{
    char buf[256];
    size_t len;
    char *k = make_key(shop, customer, buf, sizeof buf, &len);
    cust_day *cd = calloc(1, sizeof *cd + len + 1);
    if (!cd)
        abort();
    memcpy(cd->key, k, len + 1);
    if (k != buf)
        free(k);
    cd->keylen = (uint32_t)len;
    cd->no = no;
    cd->day = day;
    HASH_ADD_KEYPTR(hh, c->days, cd->key, cd->keylen, cd);
    HASH_ADD(by_no, c->day_nos, no, sizeof cd->no, cd);
    return cd;
}

static void cust_del(sat_ctx *c, cust_day *cd)
{
    HASH_DEL(c->days, cd);
    HASH_DELETE(by_no, c->day_nos, cd);
    free(cd);
}

cust_day *sat_cust_day(sat_ctx *c, const char *shop, const char *customer, int32_t day)
{
    cust_day *cd = cust_find(c, shop, customer);
    if (!cd)
        return cust_add(c, shop, customer, DAY_KEY_BIT | ++c->last_day_no, day);
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
    interned *i, *itmp;
    HASH_ITER(hh, c->agents, i, itmp)
    {
        /* cppcheck-suppress uninitvar ; HASH_ITER sets the entry before the body */
        HASH_DEL(c->agents, i);
        free(i);
    }
}

uint64_t sat_entries(const sat_ctx *c)
{
    return HASH_COUNT(c->sessions) + HASH_COUNT(c->days);
}

void sat_arm_sweep(sat_ctx *c, csm_host *h)
{
    if (c->sweep_timer)
        return;
    c->sweep_timer = csm_timer_set(h, csm_now(h) + SWEEP_EVERY_MS, 0, TAG_SWEEP);
    csm_state_touch(h, 0);
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
        if ((e->flags & F_CLOSED) && now > e->last_activity + SESSION_REACH_MS) {
            csm_state_touch(h, e->id);
            sess_del(c, e);
        }
    }
    cust_day *cd, *ctmp;
    HASH_ITER(hh, c->days, cd, ctmp)
    {
        /* cppcheck-suppress uninitvar ; HASH_ITER sets the entry before the body */
        if (csm_day_start(h, cd->key, cd->day + 1) <= now) {
            csm_state_touch(h, cd->no);
            cust_del(c, cd);
        }
    }
}

/* ---- saved entries ---- */

static void save_sess(const sat_sess *e, csm_writer *w)
{
    csm_api->put_i64(w, e->invite_ts);
    csm_api->put_str(w, e->agent);
    csm_api->put_i64(w, e->flags);
    csm_api->put_i64(w, e->stars);
    csm_api->put_i64(w, e->last_activity);
}

static void save_day(const cust_day *cd, csm_writer *w)
{
    csm_api->put_str(w, cd->key);
    csm_api->put_str(w, cd->key + strlen(cd->key) + 1);
    csm_api->put_i64(w, cd->day);
    csm_api->put_i64(w, cd->n);
}

int sat_save_entry(void *vctx, csm_host *h, uint64_t key, csm_writer *w)
{
    sat_ctx *c = vctx;
    (void)h;
    if (key == 0) {
        if (!c->sweep_timer)
            return 1;
        csm_api->put_i64(w, (int64_t)c->sweep_timer);
        return 0;
    }
    if (is_day_key(key)) {
        const cust_day *cd = cust_find_no(c, key);
        if (!cd)
            return 1;
        save_day(cd, w);
        return 0;
    }
    const sat_sess *e = sat_sess_find(c, key);
    if (!e)
        return 1;
    save_sess(e, w);
    return 0;
}

static int get_int(csm_reader *r, int32_t lo, int32_t hi, int32_t *v)
{
    int64_t x;
    if (csm_api->get_i64(r, &x) || x < lo || x > hi)
        return -1;
    *v = (int32_t)x;
    return 0;
}

static int load_sess(sat_ctx *c, uint64_t id, csm_reader *r)
{
    int64_t invite_ts, last_activity;
    int32_t flags, stars;
    char *agent = NULL;
    if (csm_api->get_i64(r, &invite_ts) || invite_ts == CSM_TS_NONE ||
        csm_api->get_str(r, &agent) ||
        get_int(r, 0, F_HUMAN | F_AFTERSALE | F_INTENT_PENDING | F_CLOSED, &flags) ||
        get_int(r, 0, 5, &stars) || csm_api->get_i64(r, &last_activity) || sat_sess_find(c, id)) {
        free(agent);
        return -1;
    }
    sat_sess *e = sat_sess_add(c, id);
    e->invite_ts = invite_ts;
    e->agent = sat_intern(c, agent);
    free(agent);
    e->flags = (uint8_t)flags;
    e->stars = (int8_t)stars;
    e->last_activity = last_activity;
    return 0;
}

static int load_day(sat_ctx *c, uint64_t no, csm_reader *r)
{
    char *shop = NULL, *customer = NULL;
    int32_t day, n;
    int rc = -1;
    if (csm_api->get_str(r, &shop) || csm_api->get_str(r, &customer) || !shop || !customer ||
        get_int(r, INT32_MIN, INT32_MAX, &day) || get_int(r, 0, INT32_MAX, &n) ||
        cust_find(c, shop, customer) || cust_find_no(c, no))
        goto out;
    cust_add(c, shop, customer, no, day)->n = n;
    rc = 0;
out:
    free(shop);
    free(customer);
    return rc;
}

/* Entry 0: the sweep timer. */
static int load_wide(sat_ctx *c, csm_reader *r)
{
    int64_t timer;
    if (csm_api->get_i64(r, &timer) || timer <= 0)
        return -1;
    c->sweep_timer = (uint64_t)timer;
    return 0;
}

int sat_load_entry(void *vctx, csm_host *h, uint64_t key, uint32_t version, csm_reader *r)
{
    sat_ctx *c = vctx;
    int rc = -1;
    if (version == SAT_STATE_VERSION)
        rc = !key ? load_wide(c, r) : is_day_key(key) ? load_day(c, key, r) : load_sess(c, key, r);
    if (rc)
        csm_log(h, 0, "satisfaction: unreadable entry %llu (state version %u)",
                (unsigned long long)key, version);
    return rc;
}

/* New customer-day records take numbers above every loaded one, so keys
 * stay unique among live entries. */
int sat_load_done(void *vctx, csm_host *h)
{
    sat_ctx *c = vctx;
    (void)h;
    for (const cust_day *cd = c->days; cd; cd = cd->hh.next)
        if ((cd->no & ~DAY_KEY_BIT) > c->last_day_no)
            c->last_day_no = cd->no & ~DAY_KEY_BIT;
    return 0;
}
