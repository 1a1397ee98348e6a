/* Test-only plugin "session_probe": chained after the session builder, it
 * turns every derived event it receives into counters, so the tests can
 * assert on the lifecycle through the test kit. Everything goes to the
 * intent block "probe" of the session's opening day (anchor = open time),
 * which the session builder itself never writes:
 *   <name>              derived events by name ("opened", "closed", …)
 *   closed.<REASON>     closes by reason; close_ms: Σ (close − open)
 *   closed_agent.<id>   the session's agent at close
 *   intent.<intent>     INTENT_SET by intent
 *   aftersale, merchant OPENED sessions with that flag
 *   stars               Σ stars of RATED; rated_after_close: RATED to a closed session
 *   queue_ms            Σ (assign − request) at the first assignment
 *   first_reply_ms      Σ (first human reply − open) at the first reply
 *   max_id              the largest session id seen (as a running max)
 *   bad_view            derived events whose session view breaks the
 *                       README's guarantees (must stay 0)
 * Its one piece of state, the running max, is checkpointed as entry 0, so
 * that the tests can restart the chain anywhere. */
#include <stdio.h>
#include <string.h>

#include "csmetrics/plugin.h"

typedef struct probe_ctx {
    uint64_t max_id;
} probe_ctx;

static void add(csm_host *h, const csm_session *s, const char *name, int64_t delta)
{
    csm_count k = {.struct_size = sizeof k,
                   .shop_id = s->shop_id,
                   .platform = s->platform,
                   .anchor_ts = s->open_ts,
                   .scope = CSM_SCOPE_INTENT,
                   .subject = "probe",
                   .name = name,
                   .delta = delta};
    csm_emit_count(h, &k);
}

static void add2(csm_host *h, const csm_session *s, const char *prefix, const char *what,
                 int64_t delta)
{
    char name[200];
    snprintf(name, sizeof name, "%s.%s", prefix, what ? what : "null");
    add(h, s, name, delta);
}

/* 1 when the view breaks a guarantee of plugins/session/README.md. */
static int bad_view(const csm_derived *d)
{
    const csm_session *s = d->session;
    int closed = s->close_ts != CSM_TS_NONE;
    if (s->struct_size < sizeof *s || !s->id || !s->shop_id || !s->customer_id)
        return 1;
    if (d->ts < s->open_ts)
        return 1;
    switch (d->type) {
    case CSM_SESSION_OPENED:
        return d->ts != s->open_ts || closed;
    case CSM_SESSION_HUMAN_REQUESTED:
        return s->request_ts == CSM_TS_NONE || s->request_ts > d->ts ||
               s->last_customer_ts != d->ts || closed;
    case CSM_SESSION_ASSIGNED:
        return (s->request_ts != CSM_TS_NONE && s->assign_ts == CSM_TS_NONE) ||
               (s->assign_ts != CSM_TS_NONE && s->assign_ts > d->ts) ||
               (d->agent_id && (!s->agent_id || strcmp(d->agent_id, s->agent_id))) || closed;
    case CSM_SESSION_TRANSFERRED:
        return (d->agent_id && (!s->agent_id || strcmp(d->agent_id, s->agent_id))) || closed;
    case CSM_SESSION_CUSTOMER_MESSAGE:
        return s->last_customer_ts != d->ts || closed;
    case CSM_SESSION_HUMAN_REPLY:
        return s->first_human_reply_ts == CSM_TS_NONE || s->first_human_reply_ts > d->ts || closed;
    case CSM_SESSION_AUTO_MESSAGE:
        return closed;
    case CSM_SESSION_OFFLINE_MESSAGE:
        return !s->offline || closed;
    case CSM_SESSION_CLOSED:
        return s->close_ts != d->ts;
    case CSM_SESSION_INTENT_SET:
        return !s->intent;
    case CSM_SESSION_RATED:
        return d->stars < 1 || d->stars > 5;
    case CSM_SESSION_RATING_INVITED:
        return 0;
    default:
        return 1;
    }
}

static void on_derived(void *vctx, csm_host *h, const csm_derived *d)
{
    probe_ctx *c = vctx;
    const csm_session *s = d->session;
    if (!s)
        return;
    add(h, s, d->name, 1);
    if (bad_view(d))
        add(h, s, "bad_view", 1);
    if (s->id > c->max_id) {
        add(h, s, "max_id", (int64_t)(s->id - c->max_id));
        c->max_id = s->id;
        csm_state_touch(h, 0);
    }
    switch (d->type) {
    case CSM_SESSION_OPENED:
        if (s->aftersale)
            add(h, s, "aftersale", 1);
        if (s->merchant_initiated)
            add(h, s, "merchant", 1);
        break;
    case CSM_SESSION_CLOSED:
        add2(h, s, "closed", d->reason, 1);
        add(h, s, "close_ms", d->ts - s->open_ts);
        add2(h, s, "closed_agent", s->agent_id, 1);
        break;
    case CSM_SESSION_INTENT_SET:
        add2(h, s, "intent", s->intent, 1);
        break;
    case CSM_SESSION_RATED:
        add(h, s, "stars", d->stars);
        if (s->close_ts != CSM_TS_NONE)
            add(h, s, "rated_after_close", 1);
        break;
    case CSM_SESSION_ASSIGNED:
        if (s->assign_ts == d->ts && s->request_ts != CSM_TS_NONE)
            add(h, s, "queue_ms", s->assign_ts - s->request_ts);
        break;
    case CSM_SESSION_HUMAN_REPLY:
        if (s->first_human_reply_ts == d->ts)
            add(h, s, "first_reply_ms", d->ts - s->open_ts);
        break;
    default:
        break;
    }
}

static int save_entry(void *vctx, csm_host *h, uint64_t key, csm_writer *w)
{
    const probe_ctx *c = vctx;
    (void)h;
    (void)key;
    csm_api->put_i64(w, (int64_t)c->max_id);
    return 0;
}

static int load_entry(void *vctx, csm_host *h, uint64_t key, uint32_t version, csm_reader *r)
{
    probe_ctx *c = vctx;
    int64_t max_id;
    (void)h;
    if (key != 0 || version != 1 || csm_api->get_i64(r, &max_id))
        return -1;
    c->max_id = (uint64_t)max_id;
    return 0;
}

static const csm_plugin descriptor = {
    .struct_size = sizeof(csm_plugin),
    .abi_major = CSM_PLUGIN_ABI_MAJOR,
    .abi_minor = CSM_PLUGIN_ABI_MINOR,
    .name = "session_probe",
    .description = "test only: derived events of the session builder as counters",
    .version = "0",
    .ctx_size = sizeof(probe_ctx),
    .subscribe = CSM_SUBSCRIBE_DERIVED,
    .on_derived = on_derived,
    .state_version = 1,
    .save_entry = save_entry,
    .load_entry = load_entry,
};

CSM_PLUGIN_DEFINE(descriptor)
