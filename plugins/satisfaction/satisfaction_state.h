/* The satisfaction calculator's state, shared by satisfaction.c (event
 * handling) and satisfaction_store.c (eviction, saved entries). Not part
 * of any ABI. */
#ifndef CSM_SATISFACTION_STATE_H
#define CSM_SATISFACTION_STATE_H

#include <stdint.h>
#include <uthash.h>

#include "../keyed_records.h"
#include "csmetrics/plugin.h"

#define HOUR_MS 3600000LL
/* A RATED counts up to and including this long after the first invitation. */
#define RATING_VALID_MS (24 * HOUR_MS)
/* Ratings of one customer at one shop per shop-local day; later ones vanish. */
#define DAILY_RATING_CAP 3
/* The session builder routes invitations and ratings to a closed session
 * while they come at most this long after its last activity (close, or a
 * later invitation or rating routed to it): plugins/session/README.md,
 * "Ratings". Past that nothing can reach the session again. */
#define SESSION_REACH_MS (48 * HOUR_MS)
/* Eviction runs this often in event time while any entry exists. */
#define SWEEP_EVERY_MS HOUR_MS

enum { TAG_SWEEP = 1 };

/* Format of the saved entries (README.md, "State"). */
#define SAT_STATE_VERSION 1
/* Entry keys: 0 is the plugin-wide record (the sweep timer, whose key is
 * 0), a session entry is keyed by its session id (the session builder
 * numbers them from 1, far below this bit), a customer-day record by
 * DAY_KEY_BIT | the hash of its identity (keyed_records.h). */
#define DAY_KEY_BIT (UINT64_C(1) << 63)

/* Flags of sat_sess. */
enum {
    F_HUMAN = 1 << 0,          /* assigned at the invitation */
    F_AFTERSALE = 1 << 1,      /* the session is after-sale */
    F_INTENT_PENDING = 1 << 2, /* counted rating whose intent figures wait for INTENT_SET */
    F_CLOSED = 1 << 3,         /* the session's CLOSED has come */
};

/* A session that has been invited (or rated with no invitation). Only such
 * sessions need an entry: without one, nothing has happened yet. */
typedef struct sat_sess {
    kr_link k;         /* key: the session id; no identity */
    csm_ts invite_ts;  /* first invitation, or the self-rating standing for it */
    const char *agent; /* interned: the session's agent at the invitation, NULL if none */
    /* Latest of the close and the invitations and ratings routed to the
     * session: what the session builder's routing bound counts from. */
    csm_ts last_activity;
    uint8_t flags;
    int8_t stars; /* the counted rating, 0 while none counted */
} sat_sess;

/* Routed RATEDs of one customer at one shop on one shop-local day. Ratings
 * arrive in ts order, so only the current day of each customer matters. */
typedef struct cust_day {
    kr_link k; /* identity shop '\0' customer */
    int32_t day;
    int32_t n;
} cust_day;

/* Agent ids, stored once: a partition sees a bounded set of agents, while
 * every invited session names one. Kept until the instance goes. */
typedef struct interned {
    UT_hash_handle hh;
    char s[];
} interned;

typedef struct sat_ctx {
    kr_table sessions; /* sat_sess */
    kr_table days;     /* cust_day */
    interned *agents;
    uint64_t sweep_timer; /* 0: none pending */
} sat_ctx;

sat_sess *sat_sess_find(sat_ctx *c, uint64_t id);
sat_sess *sat_sess_add(sat_ctx *c, uint64_t id);
/* The stored copy of agent id @p s (NULL for NULL). */
const char *sat_intern(sat_ctx *c, const char *s);
/* The customer's day record for shop-local day @p day, created or reset. */
cust_day *sat_cust_day(sat_ctx *c, const char *shop, const char *customer, int32_t day);
void sat_clear(sat_ctx *c);
uint64_t sat_entries(const sat_ctx *c);

void sat_arm_sweep(sat_ctx *c, csm_host *h);
void sat_sweep(sat_ctx *c, csm_host *h);
int sat_save_entry(void *vctx, csm_host *h, uint64_t key, csm_writer *w);
int sat_load_entry(void *vctx, csm_host *h, uint64_t key, uint32_t version, csm_reader *r);

#endif
