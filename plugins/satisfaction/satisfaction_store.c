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

/* Session ids are unique: the key alone names the entry. */
sat_sess *sat_sess_find(sat_ctx *c, uint64_t id)
{
    return (sat_sess *)kr_find(&c->sessions, sizeof(sat_sess), id, "", 0);
}

sat_sess *sat_sess_add(sat_ctx *c, uint64_t id)
{
    sat_sess *e = (sat_sess *)kr_add(&c->sessions, sizeof(sat_sess), id, "", 0);
    e->invite_ts = e->last_activity = CSM_TS_NONE;
    return e;
}

static void sess_del(sat_ctx *c, sat_sess *e)
{
    kr_unlink(&c->sessions, &e->k);
    free(e);
}

static void del_sess(kr_link *r, void *vctx)
{
    sess_del(vctx, (sat_sess *)r);
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

static uint64_t day_key(const char *id, size_t len)
{
    return kr_hash(id, len) | DAY_KEY_BIT;
}

/* The customer's record; when absent, NULL or (@p create) a new one. */
static cust_day *cust_get(sat_ctx *c, const char *shop, const char *customer, int create)
{
    return (cust_day *)kr_get(&c->days, sizeof(cust_day), day_key, shop, 0, customer, create);
}

static void cust_del(sat_ctx *c, cust_day *cd)
{
    kr_unlink(&c->days, &cd->k);
    free(cd);
}

/* The shop of a customer-day record: its identity starts with it. */
static const char *cust_shop(const cust_day *cd)
{
    return kr_id(&cd->k, sizeof *cd);
}

cust_day *sat_cust_day(sat_ctx *c, const char *shop, const char *customer, int32_t day)
{
    cust_day *cd = cust_get(c, shop, customer, 1);
    if (cd->day != day) { /* a new record (day 0, no rating) too */
        cd->day = day;
        cd->n = 0;
    }
    return cd;
}

static void del_day(kr_link *r, void *vctx)
{
    cust_del(vctx, (cust_day *)r);
}

void sat_clear(sat_ctx *c)
{
    kr_each(&c->sessions, del_sess, c);
    kr_each(&c->days, del_day, c);
    kr_release(&c->sessions);
    kr_release(&c->days);
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
    return c->sessions.n + c->days.n;
}

void sat_arm_sweep(sat_ctx *c, csm_host *h)
{
    if (c->sweep_timer)
        return;
    c->sweep_timer = csm_timer_set(h, csm_now(h) + SWEEP_EVERY_MS, 0, TAG_SWEEP);
    csm_state_touch(h, 0);
}

typedef struct sweep_arg {
    sat_ctx *c;
    csm_host *h;
    csm_ts now;
} sweep_arg;

static void sweep_sess(kr_link *r, void *varg)
{
    const sweep_arg *a = varg;
    sat_sess *e = (sat_sess *)r;
    if ((e->flags & F_CLOSED) && a->now > e->last_activity + SESSION_REACH_MS) {
        csm_state_touch(a->h, e->k.key);
        sess_del(a->c, e);
    }
}

static void sweep_day(kr_link *r, void *varg)
{
    const sweep_arg *a = varg;
    cust_day *cd = (cust_day *)r;
    if (csm_day_start(a->h, cust_shop(cd), cd->day + 1) <= a->now) {
        csm_state_touch(a->h, cd->k.key);
        cust_del(a->c, cd);
    }
}

/* Drops what no later event can use. Event time only moves forward, so an
 * entry useless now stays useless:
 *  - a session the session builder can no longer route anything to (closed
 *    and more than SESSION_REACH_MS past its last activity) gets no further
 *    invitation, rating or intent;
 *  - a customer's day counter once that shop-local day is over. */
void sat_sweep(sat_ctx *c, csm_host *h)
{
    sweep_arg a = {c, h, csm_now(h)};
    kr_each(&c->sessions, sweep_sess, &a);
    kr_each(&c->days, sweep_day, &a);
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

static void save_day(const kr_link *r, csm_writer *w)
{
    const cust_day *cd = (const cust_day *)r;
    const char *shop = cust_shop(cd);
    csm_api->put_str(w, shop);
    csm_api->put_str(w, shop + strlen(shop) + 1);
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
    if (is_day_key(key))
        return kr_save_chain(&c->days, key, w, save_day);
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

/* One record of entry @p key, whose identity must hash to it. */
static int load_day(void *vctx, uint64_t key, csm_reader *r)
{
    sat_ctx *c = vctx;
    char *shop = NULL, *customer = NULL;
    int32_t day, n;
    int rc = -1;
    if (csm_api->get_str(r, &shop) || csm_api->get_str(r, &customer) || !shop || !customer ||
        get_int(r, INT32_MIN, INT32_MAX, &day) || get_int(r, 0, INT32_MAX, &n) ||
        cust_get(c, shop, customer, 0))
        goto out;
    cust_day *cd = cust_get(c, shop, customer, 1);
    cd->day = day;
    cd->n = n;
    rc = cd->k.key == key ? 0 : -1;
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
        rc = !key              ? load_wide(c, r)
             : is_day_key(key) ? kr_load_chain(c, key, r, load_day)
                               : load_sess(c, key, r);
    if (rc)
        csm_log(h, 0, "satisfaction: unreadable entry %llu (state version %u)",
                (unsigned long long)key, version);
    return rc;
}
