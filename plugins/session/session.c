/* The session builder: cuts each (shop, customer) conversation into
 * sessions as metrics.md "Sessions" and "Settled details" define them,
 * publishes their lifecycle as derived events for the later plugins, and
 * counts the session figures that need nothing else (sessions_started,
 * human_requested, assigned, queue_ms_sum, per-agent assigned). The
 * contract with later plugins is plugins/session/README.md. */
#include <stdlib.h>
#include <string.h>

#include "csmetrics/plugin.h"
#include "session_state.h"

#define OFF(m) offsetof(session_ctx, m)

static const csm_config_entry config_map[] = {
    {CSM_CONFIG_DURATION, "idle_close", "15m", OFF(idle_close_ms),
     "a session closes once the customer has sent nothing for this long"},
    {CSM_CONFIG_DURATION, "max_open", "24h", OFF(max_open_ms),
     "a session closes this long after it opened, whatever its state"},
    {CSM_CONFIG_INT, "aftersale_days", "21", OFF(aftersale_days),
     "a session is after-sale if the customer paid at the shop on one of this many "
     "shop-local days before the opening day"},
    {CSM_CONFIG_END, NULL, NULL, 0, NULL}};

static int session_init(void *vctx, csm_host *h)
{
    session_ctx *c = vctx;
    if (c->idle_close_ms <= 0 || c->max_open_ms <= 0) {
        csm_log(h, 0, "idle_close and max_open must be positive");
        return -1;
    }
    if (c->aftersale_days < 0 || c->aftersale_days > 3660) {
        csm_log(h, 0, "aftersale_days must be between 0 and 3660, got %lld",
                (long long)c->aftersale_days);
        return -1;
    }
    session_tables_init(c);
    return 0;
}

static void session_destroy(void *vctx, csm_host *h)
{
    session_ctx *c = vctx;
    session_tables_free(c);
    csm_intern_free(&c->strings);
}

static uint64_t session_state_entries(void *vctx, csm_host *h)
{
    session_ctx *c = vctx;
    return c->recs.n;
}

/* ---- output helpers ---- */

static void count_shop(csm_host *h, const rec *r, const sess *s, const char *name, csm_ts anchor,
                       int64_t delta, uint32_t flags)
{
    csm_count k = {.struct_size = sizeof k,
                   .shop_id = rec_shop(r),
                   .platform = (csm_platform)s->platform,
                   .anchor_ts = anchor,
                   .scope = CSM_SCOPE_SHOP,
                   .name = name,
                   .flags = flags,
                   .delta = delta};
    csm_emit_count(h, &k);
}

static void count_agent(csm_host *h, const rec *r, const sess *s, const char *agent,
                        const char *name, csm_ts anchor)
{
    csm_count k = {.struct_size = sizeof k,
                   .shop_id = rec_shop(r),
                   .platform = (csm_platform)s->platform,
                   .anchor_ts = anchor,
                   .scope = CSM_SCOPE_AGENT,
                   .subject = agent,
                   .name = name,
                   .delta = 1};
    csm_emit_count(h, &k);
}

/* What later plugins see of a session (plugins/session/README.md). */
static csm_session view_of(const rec *r, const sess *s)
{
    return (csm_session){.struct_size = sizeof(csm_session),
                         .id = s->id,
                         .shop_id = rec_shop(r),
                         .customer_id = rec_customer(r),
                         .platform = (csm_platform)s->platform,
                         .open_ts = s->open_ts,
                         .merchant_initiated = s->merchant_initiated,
                         .aftersale = s->aftersale,
                         .request_ts = s->request_ts,
                         .assign_ts = s->assign_ts,
                         .agent_id = s->agent_id,
                         .intent = s->intent,
                         .last_customer_ts = s->last_customer_ts,
                         .first_human_reply_ts = s->first_human_reply_ts,
                         .offline = s->offline,
                         .close_ts = s->close_ts,
                         .unanswered = s->unanswered};
}

/* The fields of a derived event other than its session and time. */
typedef struct about {
    const csm_event *cause;
    const char *agent;
    const char *from_agent;
    const char *reason;
    int32_t stars;
} about;

static void publish(csm_host *h, int type, const char *name, csm_ts ts, const rec *r, const sess *s,
                    about a)
{
    csm_session v = view_of(r, s);
    csm_derived d = {.struct_size = sizeof d,
                     .type = type,
                     .name = name,
                     .ts = ts,
                     .session = &v,
                     .cause = a.cause,
                     .agent_id = a.agent,
                     .from_agent_id = a.from_agent,
                     .reason = a.reason,
                     .stars = a.stars};
    csm_publish(h, &d);
}

/* ---- session lifecycle ---- */

static int is_assigned(const sess *s)
{
    return s->assign_ts != CSM_TS_NONE;
}

/* The no-auto-close rule: a human-served session whose last customer
 * message no human has answered yet does not close for idleness. */
static int is_blocked(const sess *s)
{
    return is_assigned(s) && s->unanswered;
}

static int is_human_reply(const csm_chat_fields *f)
{
    return f->type == CSM_CHAT_MESSAGE && f->sender == CSM_SENDER_AGENT &&
           f->msg_kind != CSM_MSG_WELCOME && f->msg_kind != CSM_MSG_AUTO_REPLY;
}

static int opens_session(const csm_chat_fields *f)
{
    if (f->entry == CSM_ENTRY_MERCHANT_INITIATED)
        return 1;
    if (f->type == CSM_CHAT_HUMAN_REQUESTED)
        return 1;
    return f->type == CSM_CHAT_MESSAGE &&
           (f->sender == CSM_SENDER_CUSTOMER || f->sender == CSM_SENDER_AGENT);
}

static int paid_in_lookback(const session_ctx *c, const rec *r, int32_t open_day)
{
    int32_t first = open_day - (int32_t)c->aftersale_days;
    for (uint32_t i = 0; i < r->n_paid; i++)
        if (r->paid_days[i] >= first && r->paid_days[i] < open_day)
            return 1;
    return 0;
}

static void arm_sweep(session_ctx *c, csm_host *h)
{
    if (c->sweep_timer)
        return;
    c->sweep_timer = csm_timer_set(h, csm_now(h) + SWEEP_EVERY_MS, 0, TAG_SWEEP);
    csm_state_touch(h, 0);
}

/* (Re-)arms the session's close timer at the earlier of @p idle_due
 * (unless the idle close is held) and its max_open deadline. */
static void arm_close(session_ctx *c, csm_host *h, const rec *r, sess *s, csm_ts idle_due)
{
    csm_ts due = s->open_ts + c->max_open_ms;
    if (!s->idle_held && idle_due < due)
        due = idle_due;
    if (s->timer)
        csm_timer_cancel(h, s->timer);
    s->timer = csm_timer_set(h, due, r->id, TAG_CLOSE);
}

static sess *open_session(session_ctx *c, csm_host *h, rec *r, const csm_event *ev)
{
    const csm_chat_fields *f = &ev->chat;
    sess *s = sess_new();
    s->id = ++c->last_id;
    csm_state_touch(h, 0);
    s->platform = ev->platform;
    s->open_ts = ev->ts;
    s->merchant_initiated = f->entry == CSM_ENTRY_MERCHANT_INITIATED ||
                            (f->type == CSM_CHAT_MESSAGE && f->sender == CSM_SENDER_AGENT);
    s->aftersale = paid_in_lookback(c, r, csm_local_day(h, ev->shop_id, ev->ts));
    /* The idle clock starts at the opening even when the merchant spoke
     * first: "the customer has sent nothing for idle_close". */
    s->last_customer_ts = ev->ts;
    arm_close(c, h, r, s, ev->ts + c->idle_close_ms);
    r->open = s;
    if (!s->merchant_initiated)
        count_shop(h, r, s, "sessions_started", s->open_ts, 1, CSM_COUNT_HOURLY);
    return s;
}

static void close_session(csm_host *h, rec *r, sess *s, csm_ts ts, const char *reason,
                          const csm_event *cause)
{
    if (s->timer)
        csm_timer_cancel(h, s->timer);
    s->timer = 0;
    s->idle_held = 0;
    s->close_ts = ts;
    s->last_touch = ts;
    r->open = NULL;
    sess_free(r->closed);
    r->closed = s;
    publish(h, CSM_SESSION_CLOSED, "closed", ts, r, s,
            (about){.cause = cause, .agent = s->agent_id, .reason = reason});
}

static void set_agent(session_ctx *c, sess *s, const char *agent)
{
    if (agent)
        s->agent_id = csm_intern(&c->strings, agent);
}

static int set_intent(session_ctx *c, sess *s, const char *intent)
{
    if (s->intent || !intent)
        return 0;
    s->intent = csm_intern(&c->strings, intent);
    return 1;
}

/* Applies a chat event to the open session @p s and publishes what it
 * means. Every derived event shows the session as it stands after the
 * whole event was applied. */
static void apply_open(session_ctx *c, csm_host *h, rec *r, sess *s, const csm_event *ev,
                       int opened)
{
    const csm_chat_fields *f = &ev->chat;
    csm_ts ts = ev->ts;
    int intent_set = set_intent(c, s, f->intent);
    int type = 0;
    const char *name = NULL;

    switch (f->type) {
    case CSM_CHAT_MESSAGE:
        if (f->sender == CSM_SENDER_CUSTOMER) {
            s->last_customer_ts = ts;
            s->unanswered = 1;
            type = CSM_SESSION_CUSTOMER_MESSAGE, name = "customer_message";
        } else if (is_human_reply(f)) {
            if (s->first_human_reply_ts == CSM_TS_NONE)
                s->first_human_reply_ts = ts;
            s->unanswered = 0;
            /* A held idle close restarts when the block lifts: close at
             * max(last customer event + idle, now). */
            if (s->idle_held) {
                csm_ts due = s->last_customer_ts + c->idle_close_ms;
                s->idle_held = 0;
                arm_close(c, h, r, s, due > ts ? due : ts);
            }
            type = CSM_SESSION_HUMAN_REPLY, name = "human_reply";
        } else if (f->sender == CSM_SENDER_AGENT) {
            type = CSM_SESSION_AUTO_MESSAGE, name = "auto_message";
        }
        break;
    case CSM_CHAT_HUMAN_REQUESTED:
        s->last_customer_ts = ts;
        if (s->request_ts == CSM_TS_NONE) {
            s->request_ts = ts;
            count_shop(h, r, s, "human_requested", ts, 1, CSM_COUNT_HOURLY);
        }
        type = CSM_SESSION_HUMAN_REQUESTED, name = "human_requested";
        break;
    case CSM_CHAT_ASSIGNED:
        set_agent(c, s, f->agent_id);
        if (f->agent_id)
            count_agent(h, r, s, f->agent_id, "assigned", ts);
        if (s->request_ts != CSM_TS_NONE && s->assign_ts == CSM_TS_NONE) {
            s->assign_ts = ts;
            if (csm_local_day(h, rec_shop(r), s->request_ts) == csm_local_day(h, rec_shop(r), ts)) {
                count_shop(h, r, s, "assigned", s->request_ts, 1, 0);
                count_shop(h, r, s, "queue_ms_sum", s->request_ts, ts - s->request_ts, 0);
            }
        }
        type = CSM_SESSION_ASSIGNED, name = "assigned";
        break;
    case CSM_CHAT_TRANSFERRED:
        set_agent(c, s, f->agent_id);
        if (f->agent_id)
            count_agent(h, r, s, f->agent_id, "assigned", ts);
        type = CSM_SESSION_TRANSFERRED, name = "transferred";
        break;
    case CSM_CHAT_OFFLINE_MESSAGE:
        s->offline = 1;
        type = CSM_SESSION_OFFLINE_MESSAGE, name = "offline_message";
        break;
    case CSM_CHAT_RATING_INVITED:
        type = CSM_SESSION_RATING_INVITED, name = "rating_invited";
        break;
    case CSM_CHAT_RATED:
        type = CSM_SESSION_RATED, name = "rated";
        break;
    default:
        break;
    }

    if (opened)
        publish(h, CSM_SESSION_OPENED, "opened", s->open_ts, r, s,
                (about){.cause = ev, .agent = s->agent_id});
    if (intent_set)
        publish(h, CSM_SESSION_INTENT_SET, "intent_set", ts, r, s, (about){.cause = ev});
    if (f->type == CSM_CHAT_SESSION_CLOSED) {
        close_session(h, r, s, ts, f->reason, ev);
        return;
    }
    if (type)
        publish(h, type, name, ts, r, s,
                (about){.cause = ev,
                        .agent = f->agent_id,
                        .from_agent = f->type == CSM_CHAT_TRANSFERRED ? f->from_agent_id : NULL,
                        .reason = f->reason,
                        .stars = f->type == CSM_CHAT_RATED ? f->stars : 0});
}

/* Invitations and ratings after the close go to the customer's most
 * recent session while it is kept. */
static void apply_closed(session_ctx *c, csm_host *h, const rec *r, sess *s, const csm_event *ev)
{
    const csm_chat_fields *f = &ev->chat;
    s->last_touch = ev->ts;
    if (set_intent(c, s, f->intent))
        publish(h, CSM_SESSION_INTENT_SET, "intent_set", ev->ts, r, s, (about){.cause = ev});
    about a = {.cause = ev, .agent = f->agent_id, .reason = f->reason};
    if (f->type == CSM_CHAT_RATED) {
        a.stars = f->stars;
        publish(h, CSM_SESSION_RATED, "rated", ev->ts, r, s, a);
    } else {
        publish(h, CSM_SESSION_RATING_INVITED, "rating_invited", ev->ts, r, s, a);
    }
}

static void on_paid(session_ctx *c, csm_host *h, const csm_event *ev)
{
    rec *r = rec_find(c, ev->shop_id, ev->customer_id);
    if (!r)
        r = rec_create(c, h, ev->shop_id, ev->customer_id);
    rec_add_paid_day(r, csm_local_day(h, ev->shop_id, ev->ts));
    csm_state_touch(h, r->id);
    arm_sweep(c, h);
}

static void session_on_event(void *vctx, csm_host *h, const csm_event *ev)
{
    session_ctx *c = vctx;
    if (ev->stream == CSM_STREAM_ORDER) {
        if (ev->order.type == CSM_ORDER_PAID)
            on_paid(c, h, ev);
        return;
    }
    const csm_chat_fields *f = &ev->chat;
    if (f->type == CSM_CHAT_AGENT_STATUS)
        return; /* about an agent, not a conversation */
    if (f->type == CSM_CHAT_RATED && (!f->has_stars || f->stars < 1 || f->stars > 5)) {
        csm_stat_add(h, "ignored_invalid_rating", 1);
        return;
    }
    rec *r = rec_find(c, ev->shop_id, ev->customer_id);
    if (r && r->open) {
        csm_state_touch(h, r->id);
        apply_open(c, h, r, r->open, ev, 0);
        return;
    }
    if (opens_session(f)) {
        if (!r)
            r = rec_create(c, h, ev->shop_id, ev->customer_id);
        csm_state_touch(h, r->id);
        arm_sweep(c, h);
        apply_open(c, h, r, open_session(c, h, r, ev), ev, 1);
        return;
    }
    if ((f->type == CSM_CHAT_RATED || f->type == CSM_CHAT_RATING_INVITED) && r && r->closed &&
        ev->ts <= r->closed->last_touch + CLOSED_KEEP_MS) {
        csm_state_touch(h, r->id);
        apply_closed(c, h, r, r->closed, ev);
        return;
    }
    csm_stat_add(h, "ignored_no_session", 1);
}

static void session_on_timer(void *vctx, csm_host *h, const csm_timer *t)
{
    session_ctx *c = vctx;
    if (t->tag == TAG_SWEEP) {
        if (t->id == c->sweep_timer) {
            c->sweep_timer = 0;
            csm_state_touch(h, 0);
            session_sweep(c, h);
            if (c->recs.n)
                arm_sweep(c, h);
        }
        return;
    }
    rec *r = rec_by_id(c, t->key);
    sess *s = r ? r->open : NULL;
    if (!s)
        return;
    if (t->tag != TAG_CLOSE || t->id != s->timer)
        return;
    csm_state_touch(h, r->id);
    s->timer = 0;
    /* At an equal deadline max_open wins. */
    if (t->deadline >= s->open_ts + c->max_open_ms) {
        close_session(h, r, s, t->deadline, "MAX_OPEN", NULL);
        return;
    }
    if (is_blocked(s)) {
        /* Held until a human reply (apply_open re-arms); max_open stays. */
        s->idle_held = 1;
        arm_close(c, h, r, s, CSM_TS_NONE);
        return;
    }
    csm_ts due = s->last_customer_ts + c->idle_close_ms;
    if (t->deadline < due) {
        /* The clock moved since this timer was set: re-arm lazily rather
         * than on every customer event. */
        arm_close(c, h, r, s, due);
        return;
    }
    close_session(h, r, s, t->deadline, "IDLE", NULL);
}

/* The figures of metrics.md this plugin emits, and the rates and averages
 * made of them, for the report, the exporter and the dashboard. */
static const csm_figure_decl figures[] = {
    CSM_FIGURE(.name = "sessions_started", .label = "sessions started", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD | CSM_FIGURE_HOURLY,
               .group = "core monitor"),
    CSM_FIGURE(.name = "human_requested", .label = "human requested", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD | CSM_FIGURE_HOURLY,
               .group = "core monitor"),
    CSM_FIGURE(.name = "assigned", .label = "assigned", .unit = "count", .kind = CSM_FIGURE_COUNTER,
               .where = CSM_FIGURE_BOARD | CSM_FIGURE_AGENTS, .group = "core monitor",
               .flags = CSM_FIGURE_SUMMARY),
    CSM_FIGURE(.name = "pickup_rate", .label = "picked up", .unit = "ratio",
               .kind = CSM_FIGURE_RATE, .num = "assigned", .den = "human_requested",
               .group = "core monitor"),
    CSM_FIGURE(.name = "queue_ms_sum", .label = "queue time (sum)", .unit = "ms",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD, .group = "core monitor"),
    CSM_FIGURE(.name = "avg_queue_ms", .label = "avg queue", .unit = "ms",
               .kind = CSM_FIGURE_AVERAGE, .num = "queue_ms_sum", .den = "assigned",
               .group = "core monitor"),
    {0},
};

static const csm_plugin descriptor = {
    .struct_size = sizeof(csm_plugin),
    .abi_major = CSM_PLUGIN_ABI_MAJOR,
    .abi_minor = CSM_PLUGIN_ABI_MINOR,
    .name = "session",
    .description = "session builder: sessions, their lifecycle events and session counts",
    .version = "0.1.0",
    .ctx_size = sizeof(session_ctx),
    .config_map = config_map,
    .subscribe = CSM_SUBSCRIBE_CHAT | CSM_SUBSCRIBE_ORDER,
    .init = session_init,
    .destroy = session_destroy,
    .on_event = session_on_event,
    .on_timer = session_on_timer,
    .state_entries = session_state_entries,
    .state_version = SESSION_STATE_VERSION,
    .save_entry = session_save_entry,
    .load_entry = session_load_entry,
    .load_done = session_load_done,
    .figures = figures,
};

CSM_PLUGIN_DEFINE(descriptor)
