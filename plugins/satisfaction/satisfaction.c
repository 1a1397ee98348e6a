/* The satisfaction calculator: invitations and ratings of metrics.md
 * ("Ratings", the invited/rated/rated_* figures, "Per-agent figures",
 * "Intents", the DISSATISFIED alert, "Settled details"), computed from the
 * session builder's derived events (plugins/session/README.md). The
 * readings chosen are in README.md. */
#include "csmetrics/plugin.h"
#include "satisfaction_state.h"

static const csm_config_entry config_map[] = {{CSM_CONFIG_END, NULL, NULL, 0, NULL}};

static void sat_destroy(void *vctx, csm_host *h)
{
    (void)h;
    sat_clear(vctx);
}

static uint64_t sat_state_entries(void *vctx, csm_host *h)
{
    (void)h;
    return sat_entries(vctx);
}

/* ---- output ---- */

static void emit(csm_host *h, const csm_session *v, csm_ts anchor, csm_scope scope,
                 const char *subject, const char *split, const char *name, uint32_t flags)
{
    csm_count k = {.struct_size = sizeof k,
                   .shop_id = v->shop_id,
                   .platform = v->platform,
                   .anchor_ts = anchor,
                   .scope = scope,
                   .subject = subject,
                   .split = split,
                   .name = name,
                   .flags = flags,
                   .delta = 1};
    csm_emit_count(h, &k);
}

/* One satisfaction counter of a session, anchored at its invitation: at the
 * shop (board if in the window, all day, optionally hourly), in both
 * splits, and for the agent at the invitation when @p per_agent. */
static void count_fig(csm_host *h, const csm_session *v, const sat_sess *e, const char *name,
                      int hourly, int per_agent)
{
    emit(h, v, e->invite_ts, CSM_SCOPE_SHOP, NULL, NULL, name, hourly ? CSM_COUNT_HOURLY : 0);
    emit(h, v, e->invite_ts, CSM_SCOPE_SHOP, NULL,
         (e->flags & F_AFTERSALE) ? "aftersale" : "presale", name, 0);
    emit(h, v, e->invite_ts, CSM_SCOPE_SHOP, NULL, (e->flags & F_HUMAN) ? "human" : "robot", name,
         0);
    if (per_agent && e->agent)
        emit(h, v, e->invite_ts, CSM_SCOPE_AGENT, e->agent, NULL, name, 0);
}

/* Intent figures belong to the session's opening day (metrics.md,
 * "Intents"), whatever the day of the rating. */
static void count_intent_rating(csm_host *h, const csm_session *v, int32_t stars)
{
    emit(h, v, v->open_ts, CSM_SCOPE_INTENT, v->intent, NULL, "rated", 0);
    if (stars <= 2)
        emit(h, v, v->open_ts, CSM_SCOPE_INTENT, v->intent, NULL, "rated_1_2", 0);
}

/* ---- invitations and ratings ---- */

/* The session's invitation: what the split and the agent are decided by.
 * The view is the session as it stands now, i.e. as it stood at the close
 * for an invitation after the close. */
static sat_sess *invite(sat_ctx *c, csm_host *h, const csm_session *v, csm_ts ts)
{
    sat_sess *e = sat_sess_add(c, v->id);
    e->invite_ts = ts;
    e->last_activity = ts;
    e->agent = sat_intern(c, v->agent_id);
    if (v->close_ts != CSM_TS_NONE)
        e->flags |= F_CLOSED;
    if (v->assign_ts != CSM_TS_NONE)
        e->flags |= F_HUMAN;
    if (v->aftersale)
        e->flags |= F_AFTERSALE;
    csm_state_touch(h, e->k.key);
    count_fig(h, v, e, "invited", 0, 1);
    sat_arm_sweep(c, h);
    return e;
}

static void on_invited(sat_ctx *c, csm_host *h, const csm_derived *d)
{
    sat_sess *e = sat_sess_find(c, d->session->id);
    if (e) {
        e->last_activity = d->ts;
        csm_state_touch(h, e->k.key);
        csm_stat_add(h, "invitation_repeated", 1);
        return;
    }
    invite(c, h, d->session, d->ts);
}

/* Numbers the rating among the customer's ratings at the shop on its own
 * shop-local day; only the first DAILY_RATING_CAP survive. */
static int within_daily_cap(sat_ctx *c, csm_host *h, const csm_session *v, csm_ts ts)
{
    int32_t day = csm_local_day(h, v->shop_id, ts);
    cust_day *cd = sat_cust_day(c, v->shop_id, v->customer_id, day);
    csm_state_touch(h, cd->k.key);
    sat_arm_sweep(c, h);
    return ++cd->n <= DAILY_RATING_CAP;
}

static void raise_dissatisfied(csm_host *h, const csm_session *v, const sat_sess *e, int32_t stars)
{
    csm_alert a = {.struct_size = sizeof a,
                   .type = "DISSATISFIED",
                   .shop_id = v->shop_id,
                   .customer_id = v->customer_id,
                   .session_open_ts = v->open_ts,
                   /* metrics.md, Settled details: an alert carries the
                    * session's agent when raised, here at the rating. */
                   .agent_id = v->agent_id,
                   .anchor_ts = e->invite_ts,
                   .raised_ts = csm_now(h),
                   .figure = stars,
                   .platform = v->platform};
    csm_emit_alert(h, &a);
}

static void count_rating(csm_host *h, const csm_session *v, sat_sess *e, int32_t stars)
{
    e->stars = (int8_t)stars;
    csm_state_touch(h, e->k.key);
    count_fig(h, v, e, "rated", 1, 1);
    if (stars >= 4)
        count_fig(h, v, e, "rated_4_5", 1, 1);
    if (stars == 5)
        count_fig(h, v, e, "rated_5", 0, 1);
    if (stars <= 2)
        count_fig(h, v, e, "rated_1_2", 0, 0);
    if (v->intent)
        count_intent_rating(h, v, stars);
    else
        e->flags |= F_INTENT_PENDING;
    if (stars <= 2)
        raise_dissatisfied(h, v, e, stars);
}

static void on_rated(sat_ctx *c, csm_host *h, const csm_derived *d)
{
    const csm_session *v = d->session;
    if (d->stars < 1 || d->stars > 5)
        return; /* the session builder drops these already */
    sat_sess *e = sat_sess_find(c, v->id);
    if (e) {
        /* Also for a capped rating: the builder counts it as activity. */
        e->last_activity = d->ts;
        csm_state_touch(h, e->k.key);
    }
    if (!within_daily_cap(c, h, v, d->ts)) {
        csm_stat_add(h, "rating_over_daily_cap", 1);
        return;
    }
    if (!e) {
        /* No invitation: the customer's own rating is its invitation. */
        e = invite(c, h, v, d->ts);
    } else if (e->stars) {
        csm_stat_add(h, "rating_repeated", 1);
        return;
    } else if (d->ts - e->invite_ts > RATING_VALID_MS) {
        csm_stat_add(h, "rating_after_24h", 1);
        return;
    }
    count_rating(h, v, e, d->stars);
}

static void on_intent_set(sat_ctx *c, csm_host *h, const csm_derived *d)
{
    const csm_session *v = d->session;
    if (!v->intent)
        return;
    emit(h, v, v->open_ts, CSM_SCOPE_INTENT, v->intent, NULL, "sessions", 0);
    sat_sess *e = sat_sess_find(c, v->id);
    if (e && (e->flags & F_INTENT_PENDING)) {
        e->flags &= (uint8_t)~F_INTENT_PENDING;
        csm_state_touch(h, e->k.key);
        count_intent_rating(h, v, e->stars);
    }
}

static void sat_on_derived(void *vctx, csm_host *h, const csm_derived *d)
{
    sat_ctx *c = vctx;
    if (!d->session)
        return;
    switch (d->type) {
    case CSM_SESSION_RATING_INVITED:
        on_invited(c, h, d);
        break;
    case CSM_SESSION_RATED:
        on_rated(c, h, d);
        break;
    case CSM_SESSION_INTENT_SET:
        on_intent_set(c, h, d);
        break;
    case CSM_SESSION_CLOSED: {
        sat_sess *e = sat_sess_find(c, d->session->id);
        if (e) {
            e->flags |= F_CLOSED;
            if (d->ts > e->last_activity)
                e->last_activity = d->ts;
            csm_state_touch(h, e->k.key);
        }
        break;
    }
    default:
        break;
    }
}

static void sat_on_timer(void *vctx, csm_host *h, const csm_timer *t)
{
    sat_ctx *c = vctx;
    if (t->tag != TAG_SWEEP || t->id != c->sweep_timer)
        return;
    c->sweep_timer = 0;
    csm_state_touch(h, 0);
    sat_sweep(c, h);
    if (sat_entries(c))
        sat_arm_sweep(c, h);
}

/* The figures of metrics.md this plugin emits, and the rates and averages
 * made of them, for the report, the exporter and the dashboard. */
static const csm_figure_decl figures[] = {
    CSM_FIGURE(.name = "sessions", .label = "sessions", .unit = "count", .kind = CSM_FIGURE_COUNTER,
               .where = CSM_FIGURE_INTENTS, .group = "satisfaction"),
    CSM_FIGURE(.name = "invited", .label = "invited to rate", .unit = "count",
               .kind = CSM_FIGURE_COUNTER,
               .where = CSM_FIGURE_BOARD | CSM_FIGURE_SPLITS | CSM_FIGURE_AGENTS,
               .group = "satisfaction"),
    CSM_FIGURE(.name = "rated", .label = "rated", .unit = "count", .kind = CSM_FIGURE_COUNTER,
               .where = CSM_FIGURE_BOARD | CSM_FIGURE_SPLITS | CSM_FIGURE_AGENTS |
                        CSM_FIGURE_INTENTS | CSM_FIGURE_HOURLY,
               .group = "satisfaction"),
    CSM_FIGURE(.name = "rated_4_5", .label = "rated 4–5 stars", .unit = "count",
               .kind = CSM_FIGURE_COUNTER,
               .where =
                   CSM_FIGURE_BOARD | CSM_FIGURE_SPLITS | CSM_FIGURE_AGENTS | CSM_FIGURE_HOURLY,
               .group = "satisfaction"),
    CSM_FIGURE(.name = "rated_5", .label = "rated 5 stars", .unit = "count",
               .kind = CSM_FIGURE_COUNTER,
               .where = CSM_FIGURE_BOARD | CSM_FIGURE_SPLITS | CSM_FIGURE_AGENTS,
               .group = "satisfaction"),
    CSM_FIGURE(.name = "rated_1_2", .label = "rated 1–2 stars", .unit = "count",
               .kind = CSM_FIGURE_COUNTER,
               .where = CSM_FIGURE_BOARD | CSM_FIGURE_SPLITS | CSM_FIGURE_INTENTS,
               .group = "satisfaction"),
    CSM_FIGURE(.name = "satisfaction_rate", .label = "satisfaction", .unit = "ratio",
               .kind = CSM_FIGURE_RATE, .num = "rated_4_5", .den = "rated", .group = "satisfaction",
               .flags = CSM_FIGURE_SUMMARY, .target = 0.8, .target_dir = CSM_TARGET_AT_LEAST,
               .target_setting = "satisfaction_target"),
    CSM_FIGURE(.name = "very_satisfied_rate", .label = "very satisfied", .unit = "ratio",
               .kind = CSM_FIGURE_RATE, .num = "rated_5", .den = "rated", .group = "satisfaction"),
    CSM_FIGURE(.name = "dissatisfied_rate", .label = "dissatisfied", .unit = "ratio",
               .kind = CSM_FIGURE_RATE, .num = "rated_1_2", .den = "rated",
               .group = "satisfaction"),
    CSM_FIGURE(.name = "rating_rate", .label = "rating rate", .unit = "ratio",
               .kind = CSM_FIGURE_RATE, .num = "rated", .den = "invited", .group = "satisfaction"),
    {0},
};

static const csm_alert_decl alerts[] = {
    CSM_ALERT_TYPE(.type = "DISSATISFIED", .label = "dissatisfied rating", .unit = "stars"),
    {0},
};

/* Ratings are counted per session: the session builder routes them. */
static const char *const needs[] = {"session", NULL};

static const csm_plugin descriptor = {
    .struct_size = sizeof(csm_plugin),
    .abi_major = CSM_PLUGIN_ABI_MAJOR,
    .abi_minor = CSM_PLUGIN_ABI_MINOR,
    .name = "satisfaction",
    .description = "satisfaction: invited, rated, rated_4_5/5/1_2 (splits, agents, intents); "
                   "DISSATISFIED alerts",
    .version = "0.1.0",
    .ctx_size = sizeof(sat_ctx),
    .config_map = config_map,
    .subscribe = CSM_SUBSCRIBE_DERIVED,
    .destroy = sat_destroy,
    .on_derived = sat_on_derived,
    .on_timer = sat_on_timer,
    .state_entries = sat_state_entries,
    .needs = needs,
    .state_version = SAT_STATE_VERSION,
    .save_entry = sat_save_entry,
    .load_entry = sat_load_entry,
    .figures = figures,
    .alerts = alerts,
};

CSM_PLUGIN_DEFINE(descriptor)
