/* The session builder's state, shared by session.c (event handling) and
 * session_store.c (entries, eviction). Not part of any ABI: the only
 * thing other plugins see is the csm_session view inside each sess. */
#ifndef CSM_SESSION_STATE_H
#define CSM_SESSION_STATE_H

#include <stdint.h>
#include <string.h>

#include "csmetrics/plugin.h"
#include "intern.h"
#include "ptab.h"

/* Version of the entries save_entry() writes (README.md "State"). */
#define SESSION_STATE_VERSION 1

/* Timer tags (csm_timer::tag). An open session has one close timer, at
 * the earlier of its idle and max_open deadlines (one host timer instead
 * of two per open session); it carries the id of the session's record as
 * key, so that the host checkpoints it with the record's entry. The sweep
 * timer carries 0, the plugin-wide entry. */
enum { TAG_CLOSE = 1, TAG_SWEEP = 3 };

#define HOUR_MS 3600000LL
/* A closed session stays the target of late invitations and ratings for
 * this long after its last activity (close, invitation or rating): a
 * rating counts up to 24 h after its invitation, and the invitation may
 * itself come after the close. */
#define CLOSED_KEEP_MS (48 * HOUR_MS)
/* Eviction runs this often in event time while any record exists. */
#define SWEEP_EVERY_MS HOUR_MS

/* A session. Later plugins see it as a csm_session built on the stack at
 * each publish (the view is valid only during the callback), so a session
 * keeps nothing of the view it can take from its record (shop, customer)
 * and packs the flags: 112 bytes of heap instead of 160. agent_id and
 * intent point into the context's interned strings. */
typedef struct sess {
    uint64_t id;
    csm_ts open_ts;
    csm_ts request_ts;
    csm_ts assign_ts;
    csm_ts last_customer_ts;
    csm_ts first_human_reply_ts;
    csm_ts close_ts;
    const char *agent_id;
    const char *intent;
    uint64_t timer;    /* the close timer; 0 once closed */
    csm_ts last_touch; /* closed sessions: last close/invitation/rating */
    uint8_t platform;  /* csm_platform */
    unsigned merchant_initiated : 1;
    unsigned aftersale : 1;
    unsigned offline : 1;
    unsigned unanswered : 1; /* a customer MESSAGE came after the last human reply */
    unsigned idle_held : 1;  /* the idle close is held by the no-auto-close rule */
} sess;

/* One per (shop, customer): the unit of checkpointing, entry key = id. */
typedef struct rec {
    uint64_t id; /* never reused; 0 is the plugin-wide entry */
    sess *open;
    sess *closed;       /* most recent closed session, routing target for ratings */
    int32_t *paid_days; /* shop-local days with a PAID, ascending, unique */
    uint32_t n_paid, cap_paid;
    uint32_t keylen; /* up to the customer's terminator (excluded) */
    char key[];      /* shop '\0' customer '\0' */
} rec;

typedef struct session_ctx {
    /* config_map */
    int64_t idle_close_ms;
    int64_t max_open_ms;
    int64_t aftersale_days;
    /* state */
    csm_ptab recs;     /* by key; owns the records */
    csm_ptab by_id;    /* by id: timers and entries name records by id */
    csm_istr *strings; /* agent ids and intents */
    uint64_t last_id;  /* last session id */
    uint64_t last_rec_id;
    uint64_t sweep_timer;
} session_ctx;

static inline const char *rec_shop(const rec *r)
{
    return r->key;
}
static inline const char *rec_customer(const rec *r)
{
    return r->key + strlen(r->key) + 1;
}

/* Sets up the empty indexes (init()). */
void session_tables_init(session_ctx *c);
void session_tables_free(session_ctx *c);
rec *rec_find(session_ctx *c, const char *shop, const char *customer);
rec *rec_by_id(session_ctx *c, uint64_t id);
/* A new, empty record with the next id (entry touched). */
rec *rec_create(session_ctx *c, csm_host *h, const char *shop, const char *customer);
void sess_free(sess *s);
/* A session with no times yet. */
sess *sess_new(void);
void rec_add_paid_day(rec *r, int32_t day);

void session_sweep(session_ctx *c, csm_host *h);
int session_save_entry(void *vctx, csm_host *h, uint64_t key, csm_writer *w);
int session_load_entry(void *vctx, csm_host *h, uint64_t key, uint32_t version, csm_reader *r);
int session_load_done(void *vctx, csm_host *h);

#endif
