/* The SLA timer plugin: first replies, first responses, reply rounds and
 * the timeout alerts of metrics.md ("Shop board and all-day figures",
 * "Reply rounds", "Per-agent figures", "Alerts", "Settled details"),
 * computed from the session builder's derived events
 * (plugins/session/README.md). One record per session, keyed by the
 * session id, which is also its checkpoint entry's key and the key of its
 * timers; see README.md for the readings chosen. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../session/intern.h"
#include "../session/ptab.h"
#include "csmetrics/plugin.h"

/* Fixed figure thresholds (metrics.md: configuration changes only alerts). */
#define FIRST_REPLY_MS 120000LL
#define RESP_30S_MS 30000LL
#define RESP_60S_MS 60000LL
#define RESP_3M_MS 180000LL

/* Version of the entries save_entry() writes (README.md "State"). */
#define SLA_STATE_VERSION 1

/* Timer tags; the key is the session id. */
enum { TAG_FIRST_RESPONSE = 1, TAG_RESPONSE = 2, TAG_NOT_PICKED_UP = 3 };

/* Session flags. */
enum {
    F_REQUESTED = 1 << 0,  /* the first HUMAN_REQUESTED was seen */
    F_REPLIED = 1 << 1,    /* a human reply came after the request */
    F_ASSIGNED = 1 << 2,   /* human-served: ASSIGNED after the request */
    F_SAME_DAY = 1 << 3,   /* assigned on the request's shop-local day (`assigned`) */
    F_FIRST_RESP = 1 << 4, /* first human reply after the assignment seen */
    F_WAITING = 1 << 5,    /* a customer message no human reply has answered */
    F_ROUND_OPEN = 1 << 6, /* a reply round is open (at round_ts) */
    F_RT_RAISED = 1 << 7,  /* RESPONSE_TIMEOUT raised */
    F_NPU_DONE = 1 << 8,   /* NOT_PICKED_UP raised or made impossible */
    F_CLOSED = 1 << 9,     /* the session closed */
};

/* Agent and shop ids point into the context's interned strings. */
typedef struct agent_first {
    const char *agent;
    csm_ts assign_ts; /* the agent's first assignment to the session */
    int done;         /* its first human reply was counted */
} agent_first;

typedef struct sla_sess {
    uint64_t id;
    const char *shop;
    const char *agent; /* the session's agent (latest assigned/transferred) */
    csm_platform platform;
    uint32_t flags;
    csm_ts open_ts;
    csm_ts request_ts;
    csm_ts assign_ts;
    csm_ts round_ts;    /* open round's open time */
    uint64_t frt_timer; /* pending timers, 0 = none */
    uint64_t rt_timer;
    uint64_t npu_timer;
    agent_first *agents;
    uint32_t n_agents, cap_agents;
    char customer[];
} sla_sess;

typedef struct sla_ctx {
    /* config_map */
    int64_t first_response_timeout_ms;
    int64_t response_timeout_ms;
    /* state */
    csm_ptab sessions; /* by id; owns them */
    csm_istr *strings; /* shop and agent ids */
} sla_ctx;

#define OFF(m) offsetof(sla_ctx, m)

static const csm_config_entry config_map[] = {
    {CSM_CONFIG_DURATION, "first_response_timeout", "120s", OFF(first_response_timeout_ms),
     "FIRST_RESPONSE_TIMEOUT when no human reply came this long after the human request"},
    {CSM_CONFIG_DURATION, "response_timeout", "180s", OFF(response_timeout_ms),
     "RESPONSE_TIMEOUT when a reply round stays open this long (once per session)"},
    {CSM_CONFIG_END, NULL, NULL, 0, NULL}};

static void sess_free(sla_sess *s)
{
    free(s->agents);
    free(s);
}

static uint64_t hash_id(const void *e)
{
    return csm_hash_u64(((const sla_sess *)e)->id);
}

static int match_id(const void *e, const void *k)
{
    return ((const sla_sess *)e)->id == *(const uint64_t *)k;
}

static int sla_init(void *vctx, csm_host *h)
{
    sla_ctx *c = vctx;
    if (c->first_response_timeout_ms <= 0 || c->response_timeout_ms <= 0) {
        csm_log(h, 0, "first_response_timeout and response_timeout must be positive");
        return -1;
    }
    csm_ptab_init(&c->sessions, hash_id);
    return 0;
}

static void sla_destroy(void *vctx, csm_host *h)
{
    sla_ctx *c = vctx;
    (void)h;
    for (size_t i = 0; i < csm_ptab_slots(&c->sessions); i++)
        if (c->sessions.slot[i])
            sess_free(c->sessions.slot[i]);
    csm_ptab_free(&c->sessions);
    csm_intern_free(&c->strings);
}

static uint64_t sla_state_entries(void *vctx, csm_host *h)
{
    sla_ctx *c = vctx;
    (void)h;
    return c->sessions.n;
}

/* ---- output ---- */

static void emit(csm_host *h, const sla_sess *s, csm_scope scope, const char *subject,
                 const char *name, csm_ts anchor, int64_t delta, uint32_t flags)
{
    csm_count k = {.struct_size = sizeof k,
                   .shop_id = s->shop,
                   .platform = s->platform,
                   .anchor_ts = anchor,
                   .scope = scope,
                   .subject = subject,
                   .name = name,
                   .flags = flags,
                   .delta = delta};
    csm_emit_count(h, &k);
}

static void alert(csm_host *h, const sla_sess *s, const char *type, csm_ts anchor)
{
    csm_ts now = csm_now(h);
    csm_alert a = {.struct_size = sizeof a,
                   .type = type,
                   .shop_id = s->shop,
                   .customer_id = s->customer,
                   .session_open_ts = s->open_ts,
                   .agent_id = s->agent,
                   .anchor_ts = anchor,
                   .raised_ts = now,
                   .figure = now - anchor,
                   .platform = s->platform};
    csm_emit_alert(h, &a);
}

/* Counts one finished round: answered at reply_ts, or unanswered
 * (reply_ts == CSM_TS_NONE), at the shop and for the session's agent. */
static void count_round(csm_host *h, const sla_sess *s, csm_ts reply_ts)
{
    for (int pass = 0; pass < 2; pass++) {
        csm_scope scope = pass ? CSM_SCOPE_AGENT : CSM_SCOPE_SHOP;
        const char *subject = pass ? s->agent : NULL;
        if (pass && !subject)
            break;
        emit(h, s, scope, subject, "rounds", s->round_ts, 1, 0);
        if (reply_ts == CSM_TS_NONE)
            continue;
        int64_t ms = reply_ts - s->round_ts;
        emit(h, s, scope, subject, "rounds_answered", s->round_ts, 1, 0);
        emit(h, s, scope, subject, "resp_ms_sum", s->round_ts, ms, 0);
        if (ms <= RESP_30S_MS)
            emit(h, s, scope, subject, "resp_30s", s->round_ts, 1, 0);
        if (ms <= RESP_60S_MS)
            emit(h, s, scope, subject, "resp_60s", s->round_ts, 1, 0);
        if (ms <= RESP_3M_MS)
            emit(h, s, scope, subject, "resp_3m", s->round_ts, 1, 0);
    }
}

/* ---- timers and eviction ---- */

static void cancel(csm_host *h, uint64_t *timer)
{
    if (*timer)
        csm_timer_cancel(h, *timer);
    *timer = 0;
}

/* Nothing can change for a closed session without pending timers. */
static void maybe_evict(sla_ctx *c, sla_sess *s)
{
    if ((s->flags & F_CLOSED) && !s->frt_timer && !s->rt_timer && !s->npu_timer) {
        csm_ptab_del(&c->sessions, s);
        sess_free(s);
    }
}

static void open_round(sla_ctx *c, csm_host *h, sla_sess *s, csm_ts ts)
{
    s->flags |= F_ROUND_OPEN;
    s->round_ts = ts;
    if (!(s->flags & F_RT_RAISED))
        s->rt_timer = csm_timer_set(h, ts + c->response_timeout_ms, s->id, TAG_RESPONSE);
}

static sla_sess *sess_find(sla_ctx *c, uint64_t id)
{
    return csm_ptab_find(&c->sessions, csm_hash_u64(id), match_id, &id);
}

/* The session's pending timer of kind @p tag, if it is @p id. */
static uint64_t *current_timer(sla_sess *s, uint32_t tag, uint64_t id)
{
    uint64_t *slot = tag == TAG_FIRST_RESPONSE  ? &s->frt_timer
                     : tag == TAG_RESPONSE      ? &s->rt_timer
                     : tag == TAG_NOT_PICKED_UP ? &s->npu_timer
                                                : NULL;
    return slot && *slot == id ? slot : NULL;
}

static void sla_on_timer(void *vctx, csm_host *h, const csm_timer *t)
{
    sla_ctx *c = vctx;
    sla_sess *s = sess_find(c, t->key);
    uint64_t *slot = s ? current_timer(s, t->tag, t->id) : NULL;
    if (!slot)
        return;
    *slot = 0;
    csm_state_touch(h, s->id);
    switch (t->tag) {
    case TAG_FIRST_RESPONSE:
        alert(h, s, "FIRST_RESPONSE_TIMEOUT", s->request_ts);
        break;
    case TAG_RESPONSE:
        s->flags |= F_RT_RAISED;
        alert(h, s, "RESPONSE_TIMEOUT", s->round_ts);
        break;
    default:
        s->flags |= F_NPU_DONE;
        alert(h, s, "NOT_PICKED_UP", s->request_ts);
        break;
    }
    maybe_evict(c, s);
}

/* ---- derived events ---- */

static sla_sess *sess_add(sla_ctx *c, uint64_t id, const char *shop, const char *customer)
{
    size_t len = strlen(customer);
    sla_sess *s = calloc(1, sizeof *s + len + 1);
    if (!s)
        abort();
    s->id = id;
    s->shop = csm_intern(&c->strings, shop);
    memcpy(s->customer, customer, len + 1);
    csm_ptab_add(&c->sessions, s);
    return s;
}

/* The view tells whether a customer MESSAGE awaits a human reply. */
static int view_has_unanswered(const csm_session *v)
{
    return v->struct_size >= offsetof(csm_session, unanswered) + sizeof v->unanswered;
}

/* Until a human is requested or an agent assigned, the only state of a
 * session is F_WAITING, which the view carries as `unanswered`: the record
 * is created then, not at the opening, so a million sessions that never
 * ask for a human cost nothing here. */
static int needs_record(const csm_derived *d)
{
    const csm_session *v = d->session;
    return !view_has_unanswered(v) || v->request_ts != CSM_TS_NONE ||
           d->type == CSM_SESSION_ASSIGNED || d->type == CSM_SESSION_TRANSFERRED;
}

static sla_sess *sess_new(sla_ctx *c, const csm_session *v)
{
    sla_sess *s = sess_add(c, v->id, v->shop_id, v->customer_id);
    s->platform = v->platform;
    s->open_ts = v->open_ts;
    s->request_ts = s->assign_ts = s->round_ts = CSM_TS_NONE;
    if (view_has_unanswered(v) && v->unanswered)
        s->flags |= F_WAITING;
    return s;
}

static void set_agent(sla_ctx *c, sla_sess *s, const char *agent)
{
    if (agent)
        s->agent = csm_intern(&c->strings, agent);
}

/* Appends an agent's first assignment (interned id); most sessions see
 * one agent, so the array starts with one slot. */
static void add_agent_first(sla_ctx *c, sla_sess *s, const char *agent, csm_ts ts, int done)
{
    if (s->n_agents == s->cap_agents) {
        uint32_t cap = s->cap_agents ? s->cap_agents * 2 : 1;
        agent_first *a = realloc(s->agents, cap * sizeof *a);
        if (!a)
            abort();
        s->agents = a;
        s->cap_agents = cap;
    }
    s->agents[s->n_agents++] =
        (agent_first){.agent = csm_intern(&c->strings, agent), .assign_ts = ts, .done = done};
}

/* The agent's first assignment to this session starts its first response. */
static void note_agent_assignment(sla_ctx *c, sla_sess *s, const char *agent, csm_ts ts)
{
    if (!agent)
        return;
    for (uint32_t i = 0; i < s->n_agents; i++)
        if (!strcmp(s->agents[i].agent, agent))
            return;
    add_agent_first(c, s, agent, ts, 0);
}

static void on_request(sla_ctx *c, csm_host *h, sla_sess *s, const csm_derived *d)
{
    if (s->flags & F_REQUESTED)
        return;
    s->flags |= F_REQUESTED;
    s->request_ts = d->session->request_ts;
    s->frt_timer =
        csm_timer_set(h, s->request_ts + c->first_response_timeout_ms, s->id, TAG_FIRST_RESPONSE);
    int32_t day = csm_local_day(h, s->shop, s->request_ts);
    s->npu_timer = csm_timer_set(h, csm_day_start(h, s->shop, day + 1), s->id, TAG_NOT_PICKED_UP);
}

static void on_assigned(sla_ctx *c, csm_host *h, sla_sess *s, const csm_derived *d)
{
    note_agent_assignment(c, s, d->agent_id, d->ts);
    if ((s->flags & F_ASSIGNED) || !(s->flags & F_REQUESTED) ||
        d->session->assign_ts == CSM_TS_NONE)
        return;
    s->flags |= F_ASSIGNED;
    s->assign_ts = d->session->assign_ts;
    if (csm_local_day(h, s->shop, s->assign_ts) == csm_local_day(h, s->shop, s->request_ts))
        s->flags |= F_SAME_DAY;
    s->flags |= F_NPU_DONE;
    cancel(h, &s->npu_timer);
    if (s->flags & F_WAITING)
        open_round(c, h, s, s->assign_ts);
}

static void on_customer_message(sla_ctx *c, csm_host *h, sla_sess *s, const csm_derived *d)
{
    s->flags |= F_WAITING;
    if ((s->flags & F_ASSIGNED) && !(s->flags & F_ROUND_OPEN))
        open_round(c, h, s, d->ts);
}

static void on_human_reply(csm_host *h, sla_sess *s, const csm_derived *d)
{
    s->flags &= ~(uint32_t)F_WAITING;
    if ((s->flags & F_REQUESTED) && !(s->flags & F_REPLIED)) {
        s->flags |= F_REPLIED;
        cancel(h, &s->frt_timer);
        if (d->ts - s->request_ts <= FIRST_REPLY_MS)
            emit(h, s, CSM_SCOPE_SHOP, NULL, "first_reply_2m", s->request_ts, 1, CSM_COUNT_HOURLY);
    }
    if ((s->flags & F_ASSIGNED) && !(s->flags & F_FIRST_RESP)) {
        s->flags |= F_FIRST_RESP;
        if (s->flags & F_SAME_DAY) {
            emit(h, s, CSM_SCOPE_SHOP, NULL, "first_resp_ms_sum", s->request_ts,
                 d->ts - s->assign_ts, 0);
            emit(h, s, CSM_SCOPE_SHOP, NULL, "first_resp_n", s->request_ts, 1, 0);
        }
    }
    if (d->agent_id) {
        for (uint32_t i = 0; i < s->n_agents; i++) {
            agent_first *a = &s->agents[i];
            if (a->done || strcmp(a->agent, d->agent_id))
                continue;
            a->done = 1;
            emit(h, s, CSM_SCOPE_AGENT, a->agent, "first_resp_ms_sum", a->assign_ts,
                 d->ts - a->assign_ts, 0);
            emit(h, s, CSM_SCOPE_AGENT, a->agent, "first_resp_n", a->assign_ts, 1, 0);
        }
    }
    if (s->flags & F_ROUND_OPEN) {
        count_round(h, s, d->ts);
        s->flags &= ~(uint32_t)F_ROUND_OPEN;
        cancel(h, &s->rt_timer);
    }
}

static void on_offline(csm_host *h, sla_sess *s)
{
    if (!(s->flags & F_REQUESTED) || (s->flags & F_NPU_DONE))
        return;
    s->flags |= F_NPU_DONE;
    cancel(h, &s->npu_timer);
    alert(h, s, "NOT_PICKED_UP", s->request_ts);
}

static void on_closed(sla_ctx *c, csm_host *h, sla_sess *s)
{
    if (s->flags & F_ROUND_OPEN) {
        count_round(h, s, CSM_TS_NONE);
        s->flags &= ~(uint32_t)F_ROUND_OPEN;
    }
    /* The round is over: it can no longer be open for the threshold. */
    cancel(h, &s->rt_timer);
    s->flags |= F_CLOSED;
    maybe_evict(c, s);
}

static void sla_on_derived(void *vctx, csm_host *h, const csm_derived *d)
{
    sla_ctx *c = vctx;
    const csm_session *v = d->session;
    if (!v)
        return;
    switch (d->type) {
    case CSM_SESSION_OPENED:
    case CSM_SESSION_HUMAN_REQUESTED:
    case CSM_SESSION_ASSIGNED:
    case CSM_SESSION_TRANSFERRED:
    case CSM_SESSION_CUSTOMER_MESSAGE:
    case CSM_SESSION_HUMAN_REPLY:
    case CSM_SESSION_OFFLINE_MESSAGE:
    case CSM_SESSION_CLOSED:
        break;
    default:
        return; /* auto messages, ratings, intents: nothing for the SLA */
    }
    sla_sess *s = sess_find(c, v->id);
    if (!s) {
        /* Only an open session gets a record (a closed one was evicted). */
        if (v->close_ts != CSM_TS_NONE || !needs_record(d))
            return;
        s = sess_new(c, v);
    }
    if (s->flags & F_CLOSED)
        return;
    csm_state_touch(h, s->id);
    set_agent(c, s, v->agent_id);
    if (v->request_ts != CSM_TS_NONE)
        on_request(c, h, s, d);
    switch (d->type) {
    case CSM_SESSION_ASSIGNED:
        on_assigned(c, h, s, d);
        break;
    case CSM_SESSION_TRANSFERRED:
        note_agent_assignment(c, s, d->agent_id, d->ts);
        break;
    case CSM_SESSION_CUSTOMER_MESSAGE:
        on_customer_message(c, h, s, d);
        break;
    case CSM_SESSION_HUMAN_REPLY:
        on_human_reply(h, s, d);
        break;
    case CSM_SESSION_OFFLINE_MESSAGE:
        on_offline(h, s);
        break;
    case CSM_SESSION_CLOSED:
        on_closed(c, h, s);
        break;
    default:
        break;
    }
}

/* ---- checkpoint entries: one per session, key = session id ---- */

static int sla_save_entry(void *vctx, csm_host *h, uint64_t key, csm_writer *w)
{
    sla_sess *s = sess_find(vctx, key);
    (void)h;
    if (!s)
        return 1;
    csm_api->put_str(w, s->shop);
    csm_api->put_str(w, s->customer);
    csm_api->put_str(w, s->agent);
    csm_api->put_i64(w, s->platform);
    csm_api->put_i64(w, s->open_ts);
    csm_api->put_i64(w, s->request_ts);
    csm_api->put_i64(w, s->assign_ts);
    csm_api->put_i64(w, s->round_ts);
    csm_api->put_i64(w, s->flags);
    csm_api->put_i64(w, (int64_t)s->frt_timer);
    csm_api->put_i64(w, (int64_t)s->rt_timer);
    csm_api->put_i64(w, (int64_t)s->npu_timer);
    csm_api->put_i64(w, s->n_agents);
    for (uint32_t i = 0; i < s->n_agents; i++) {
        csm_api->put_str(w, s->agents[i].agent);
        csm_api->put_i64(w, s->agents[i].assign_ts);
        csm_api->put_i64(w, s->agents[i].done);
    }
    return 0;
}

static int get_u64(csm_reader *r, uint64_t *v)
{
    int64_t x;
    if (csm_api->get_i64(r, &x))
        return -1;
    *v = (uint64_t)x;
    return 0;
}

static int load_agents(sla_ctx *c, csm_reader *r, sla_sess *s)
{
    int64_t n;
    if (csm_api->get_i64(r, &n) || n < 0 || n > 1000000)
        return -1;
    for (int64_t i = 0; i < n; i++) {
        const char *agent;
        int64_t assign_ts, done;
        if (csm_get_interned(&c->strings, r, &agent) || !agent || csm_api->get_i64(r, &assign_ts) ||
            csm_api->get_i64(r, &done))
            return -1;
        add_agent_first(c, s, agent, assign_ts, done != 0);
    }
    return 0;
}

static int load_sess(sla_ctx *c, uint64_t key, csm_reader *r)
{
    char *shop = NULL, *customer = NULL;
    int bad = csm_api->get_str(r, &shop) || csm_api->get_str(r, &customer) || !shop || !customer ||
              sess_find(c, key);
    sla_sess *s = bad ? NULL : sess_add(c, key, shop, customer);
    free(shop);
    free(customer);
    if (!s)
        return -1;
    int64_t platform, flags;
    if (csm_get_interned(&c->strings, r, &s->agent) || csm_api->get_i64(r, &platform) ||
        csm_api->get_i64(r, &s->open_ts) || csm_api->get_i64(r, &s->request_ts) ||
        csm_api->get_i64(r, &s->assign_ts) || csm_api->get_i64(r, &s->round_ts) ||
        csm_api->get_i64(r, &flags) || get_u64(r, &s->frt_timer) || get_u64(r, &s->rt_timer) ||
        get_u64(r, &s->npu_timer) || platform < 0 || platform >= CSM_PLATFORM_COUNT)
        return -1;
    s->platform = (csm_platform)platform;
    s->flags = (uint32_t)flags;
    return load_agents(c, r, s);
}

static int sla_load_entry(void *vctx, csm_host *h, uint64_t key, uint32_t version, csm_reader *r)
{
    if (version != SLA_STATE_VERSION) {
        csm_log(h, 0, "sla: state version %u is not %u", version, SLA_STATE_VERSION);
        return -1;
    }
    if (load_sess(vctx, key, r)) {
        csm_log(h, 0, "sla: state of session %llu is corrupt", (unsigned long long)key);
        return -1;
    }
    return 0;
}

/* The figures of metrics.md this plugin emits, and the rates and averages
 * made of them, for the report, the exporter and the dashboard. */
static const csm_figure_decl figures[] = {
    CSM_FIGURE(.name = "first_reply_2m", .label = "first replies ≤ 2 min", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD | CSM_FIGURE_HOURLY,
               .group = "core monitor"),
    /* The 2-minute first-reply rate the platforms' boards hold shops to. */
    CSM_FIGURE(.name = "first_reply_2m_rate", .label = "first reply ≤ 2 min", .unit = "ratio",
               .kind = CSM_FIGURE_RATE, .num = "first_reply_2m", .den = "human_requested",
               .group = "core monitor", .target = 0.85, .target_dir = CSM_TARGET_AT_LEAST),
    CSM_FIGURE(.name = "first_resp_ms_sum", .label = "first response (sum)", .unit = "ms",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD | CSM_FIGURE_AGENTS,
               .group = "core monitor"),
    CSM_FIGURE(.name = "first_resp_n", .label = "first responses", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD | CSM_FIGURE_AGENTS,
               .group = "core monitor"),
    CSM_FIGURE(.name = "avg_first_resp_ms", .label = "avg first response", .unit = "ms",
               .kind = CSM_FIGURE_AVERAGE, .num = "first_resp_ms_sum", .den = "first_resp_n",
               .group = "core monitor", .flags = CSM_FIGURE_SUMMARY),
    CSM_FIGURE(.name = "rounds", .label = "reply rounds", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD | CSM_FIGURE_AGENTS,
               .group = "core monitor"),
    CSM_FIGURE(.name = "rounds_answered", .label = "rounds answered", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD | CSM_FIGURE_AGENTS,
               .group = "core monitor"),
    CSM_FIGURE(.name = "resp_ms_sum", .label = "response time (sum)", .unit = "ms",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD | CSM_FIGURE_AGENTS,
               .group = "core monitor"),
    CSM_FIGURE(.name = "avg_resp_ms", .label = "avg response", .unit = "ms",
               .kind = CSM_FIGURE_AVERAGE, .num = "resp_ms_sum", .den = "rounds_answered",
               .group = "core monitor", .flags = CSM_FIGURE_SUMMARY),
    CSM_FIGURE(.name = "resp_30s", .label = "answered ≤ 30 s", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD | CSM_FIGURE_AGENTS,
               .group = "core monitor"),
    CSM_FIGURE(.name = "resp_60s", .label = "answered ≤ 60 s", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD | CSM_FIGURE_AGENTS,
               .group = "core monitor"),
    CSM_FIGURE(.name = "resp_3m", .label = "answered ≤ 3 min", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD | CSM_FIGURE_AGENTS,
               .group = "core monitor"),
    CSM_FIGURE(.name = "resp_30s_rate", .label = "response ≤ 30 s", .unit = "ratio",
               .kind = CSM_FIGURE_RATE, .num = "resp_30s", .den = "rounds_answered",
               .group = "core monitor"),
    CSM_FIGURE(.name = "resp_60s_rate", .label = "response ≤ 60 s", .unit = "ratio",
               .kind = CSM_FIGURE_RATE, .num = "resp_60s", .den = "rounds_answered",
               .group = "core monitor"),
    CSM_FIGURE(.name = "human_reply_3m_rate", .label = "human reply ≤ 3 min", .unit = "ratio",
               .kind = CSM_FIGURE_RATE, .num = "resp_3m", .den = "rounds", .group = "core monitor",
               .flags = CSM_FIGURE_SUMMARY),
    {0},
};

static const csm_alert_decl alerts[] = {
    CSM_ALERT_TYPE(.type = "FIRST_RESPONSE_TIMEOUT", .label = "no first reply in time",
                   .unit = "ms"),
    CSM_ALERT_TYPE(.type = "RESPONSE_TIMEOUT", .label = "reply round too long", .unit = "ms"),
    CSM_ALERT_TYPE(.type = "NOT_PICKED_UP", .label = "not picked up", .unit = "ms"),
    {0},
};

/* Reply and response times are measured on the session lifecycle. */
static const char *const needs[] = {"session", NULL};

static const csm_plugin descriptor = {
    .struct_size = sizeof(csm_plugin),
    .abi_major = CSM_PLUGIN_ABI_MAJOR,
    .abi_minor = CSM_PLUGIN_ABI_MINOR,
    .name = "sla",
    .description = "first reply, first response and reply-round figures; timeout alerts",
    .version = "1.0",
    .ctx_size = sizeof(sla_ctx),
    .config_map = config_map,
    .subscribe = CSM_SUBSCRIBE_DERIVED,
    .init = sla_init,
    .destroy = sla_destroy,
    .on_derived = sla_on_derived,
    .on_timer = sla_on_timer,
    .state_entries = sla_state_entries,
    .needs = needs,
    .state_version = SLA_STATE_VERSION,
    .save_entry = sla_save_entry,
    .load_entry = sla_load_entry,
    .figures = figures,
    .alerts = alerts,
};
CSM_PLUGIN_DEFINE(descriptor)
