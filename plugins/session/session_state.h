/* The session builder's state, shared by session.c (event handling) and
 * session_store.c (snapshot, restore, eviction). Not part of any ABI: the
 * only thing other plugins see is the csm_session view inside each sess. */
#ifndef CSM_SESSION_STATE_H
#define CSM_SESSION_STATE_H

#include <stdint.h>
#include <string.h>
#include <uthash.h>

#include "csmetrics/plugin.h"

/* Timer tags (csm_timer::tag). Idle and max_open timers carry the session
 * id as key; the sweep timer carries 0. */
enum { TAG_IDLE = 1, TAG_MAX_OPEN = 2, TAG_SWEEP = 3 };

#define HOUR_MS 3600000LL
/* A closed session stays the target of late invitations and ratings for
 * this long after its last activity (close, invitation or rating): a
 * rating counts up to 24 h after its invitation, and the invitation may
 * itself come after the close. */
#define CLOSED_KEEP_MS (48 * HOUR_MS)
/* Eviction runs this often in event time while any record exists. */
#define SWEEP_EVERY_MS HOUR_MS

typedef struct sess {
    csm_session v;       /* what later plugins see; strings owned below */
    char *agent;         /* v.agent_id */
    char *intent;        /* v.intent */
    int unanswered;      /* a customer MESSAGE came after the last human reply */
    uint64_t idle_timer; /* 0: none pending (held by the no-auto-close rule) */
    uint64_t max_timer;
    csm_ts last_touch; /* closed sessions: last close/invitation/rating */
    UT_hash_handle hh; /* ctx->open_by_id, open sessions only */
} sess;

typedef struct rec {
    char *key;     /* shop '\0' customer '\0' */
    size_t keylen; /* up to the customer's terminator (excluded) */
    sess *open;
    sess *closed;       /* most recent closed session, routing target for ratings */
    int32_t *paid_days; /* shop-local days with a PAID, ascending, unique */
    uint32_t n_paid, cap_paid;
    UT_hash_handle hh;
} rec;

typedef struct session_ctx {
    /* config_map */
    int64_t idle_close_ms;
    int64_t max_open_ms;
    int64_t aftersale_days;
    /* state */
    rec *recs;
    sess *open_by_id;
    uint64_t last_id;
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

rec *rec_find(session_ctx *c, const char *shop, const char *customer);
rec *rec_create(session_ctx *c, csm_host *h, const char *shop, const char *customer);
void rec_free(rec *r);
void sess_free(sess *s);
/* A session with its view wired to the record's strings and no times. */
sess *sess_new(const rec *r);
void rec_add_paid_day(rec *r, int32_t day);

void session_sweep(session_ctx *c, csm_host *h);
int session_snapshot(void *vctx, csm_host *h, csm_writer *w);
int session_restore(void *vctx, csm_host *h, csm_reader *r);

#endif
