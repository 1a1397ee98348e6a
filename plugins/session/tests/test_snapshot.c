/* The session builder's checkpoint entries and eviction, driven through a
 * small fake host (no engine): the plugin is dlopen'ed and fed events
 * directly, timers fire as the engine fires them (deadline < next event
 * ts; at the end in deadline order), and everything it publishes or
 * counts is written to a text log. Touched entries are saved after every
 * event (entry_store.h); a run restarted at any event (fresh instance
 * loading the saved entries, the host's timers kept) must log exactly
 * what the uninterrupted run logs. Shop-local days are UTC+8 here. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csmetrics/plugin.h"

#define T0 1795104000000LL /* 2026-11-20T00:00:00+08:00 */
#define DAY_MS 86400000LL
#define OFFSET_MS (8 * 3600000LL)

struct csm_host {
    int unused;
};
struct csm_writer {
    char *buf;
    size_t len, cap;
};
struct csm_reader {
    const char *buf;
    size_t len, pos;
};
#include "entry_store.h"

typedef struct fake_timer {
    uint64_t id;
    csm_ts deadline;
    uint64_t key;
    uint32_t tag;
    int live;
} fake_timer;

static struct {
    fake_timer timers[4096];
    size_t n_timers;
    uint64_t next_timer;
    csm_ts now;
    char *log;
    size_t log_len, log_cap;
} F;

static csm_host the_host;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (F.log_len + (size_t)n + 1 > F.log_cap) {
        F.log_cap = (F.log_cap + (size_t)n + 1) * 2;
        F.log = realloc(F.log, F.log_cap);
    }
    memcpy(F.log + F.log_len, line, (size_t)n + 1);
    F.log_len += (size_t)n;
}

/* Quiet: the corrupt-snapshot test makes the plugin log on purpose. */
static void h_log(csm_host *h, int level, const char *fmt, ...)
{
    if (!getenv("SESSION_TEST_VERBOSE"))
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const char *nz(const char *s)
{
    return s ? s : "-";
}

static void h_publish(csm_host *h, const csm_derived *d)
{
    const csm_session *s = d->session;
    logf_("P %s ts=%lld id=%llu %s/%s pl=%d open=%lld mi=%d as=%d req=%lld asg=%lld agent=%s "
          "intent=%s last=%lld fhr=%lld off=%d close=%lld | cause=%s agent=%s from=%s reason=%s "
          "stars=%d\n",
          d->name, (long long)d->ts, (unsigned long long)s->id, s->shop_id, s->customer_id,
          s->platform, (long long)s->open_ts, s->merchant_initiated, s->aftersale,
          (long long)s->request_ts, (long long)s->assign_ts, nz(s->agent_id), nz(s->intent),
          (long long)s->last_customer_ts, (long long)s->first_human_reply_ts, s->offline,
          (long long)s->close_ts, d->cause ? d->cause->event_id : "-", nz(d->agent_id),
          nz(d->from_agent_id), nz(d->reason), d->stars);
}

static uint64_t h_timer_set(csm_host *h, csm_ts deadline, uint64_t key, uint32_t tag)
{
    if (F.n_timers == sizeof F.timers / sizeof *F.timers)
        fail_msg("fake host: too many timers");
    fake_timer *t = &F.timers[F.n_timers++];
    *t = (fake_timer){++F.next_timer, deadline, key, tag, 1};
    return t->id;
}

static int h_timer_cancel(csm_host *h, uint64_t id)
{
    for (size_t i = 0; i < F.n_timers; i++)
        if (F.timers[i].id == id && F.timers[i].live) {
            F.timers[i].live = 0;
            return 0;
        }
    return -1;
}

static csm_ts h_now(csm_host *h)
{
    return F.now;
}

static void h_count(csm_host *h, const csm_count *c)
{
    logf_("C %d %s %s %s anchor=%lld delta=%lld flags=%u\n", c->scope, c->shop_id, nz(c->subject),
          c->name, (long long)c->anchor_ts, (long long)c->delta, c->flags);
}

static void h_set_add(csm_host *h, const csm_set_member *m) {}
static void h_alert(csm_host *h, const csm_alert *a) {}

static int32_t h_local_day(csm_host *h, const char *shop, csm_ts ts)
{
    csm_ts l = ts + OFFSET_MS;
    return (int32_t)((l - (((l % DAY_MS) + DAY_MS) % DAY_MS)) / DAY_MS);
}
static csm_ts h_day_start(csm_host *h, const char *shop, int32_t day)
{
    return day * DAY_MS - OFFSET_MS;
}
static int h_local_hour(csm_host *h, const char *shop, csm_ts ts)
{
    return (int)((ts - h_day_start(h, shop, h_local_day(h, shop, ts))) / 3600000);
}

static void put_bytes(csm_writer *w, const void *p, size_t n)
{
    if (w->len + n > w->cap) {
        w->cap = (w->len + n) * 2;
        w->buf = realloc(w->buf, w->cap);
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}
static void h_put_i64(csm_writer *w, int64_t v)
{
    put_bytes(w, &v, sizeof v);
}
static void h_put_str(csm_writer *w, const char *s)
{
    int64_t n = s ? (int64_t)strlen(s) : -1;
    h_put_i64(w, n);
    if (s)
        put_bytes(w, s, (size_t)n);
}
static int h_get_i64(csm_reader *r, int64_t *v)
{
    if (r->pos + sizeof *v > r->len)
        return -1;
    memcpy(v, r->buf + r->pos, sizeof *v);
    r->pos += sizeof *v;
    return 0;
}
static int h_get_str(csm_reader *r, char **s)
{
    int64_t n;
    if (h_get_i64(r, &n) || n < -1 || (n >= 0 && r->pos + (size_t)n > r->len))
        return -1;
    *s = NULL;
    if (n < 0)
        return 0;
    *s = malloc((size_t)n + 1);
    memcpy(*s, r->buf + r->pos, (size_t)n);
    (*s)[n] = 0;
    r->pos += (size_t)n;
    return 0;
}
static const char *h_shop_setting(csm_host *h, const char *shop, const char *key)
{
    return NULL;
}
static void h_stat_add(csm_host *h, const char *name, int64_t delta)
{
    logf_("S %s %lld\n", name, (long long)delta);
}

static const csm_host_api api = {
    .struct_size = sizeof(csm_host_api),
    .abi_major = CSM_PLUGIN_ABI_MAJOR,
    .abi_minor = CSM_PLUGIN_ABI_MINOR,
    .log = h_log,
    .publish = h_publish,
    .timer_set = h_timer_set,
    .timer_cancel = h_timer_cancel,
    .now = h_now,
    .count = h_count,
    .set_add = h_set_add,
    .alert = h_alert,
    .local_day = h_local_day,
    .day_start = h_day_start,
    .local_hour = h_local_hour,
    .put_i64 = h_put_i64,
    .put_str = h_put_str,
    .get_i64 = h_get_i64,
    .get_str = h_get_str,
    .shop_setting = h_shop_setting,
    .stat_add = h_stat_add,
    .state_touch = es_touch,
};

/* ---- the plugin ---- */

static void *dl;
static const csm_plugin *P;

static int setup(void **state)
{
    char path[1024];
    const char *dir = getenv("CSM_PLUGIN_PATH");
    snprintf(path, sizeof path, "%s/session.so", dir ? dir : ".");
    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        return -1;
    }
    csm_plugin_entry_fn entry;
    *(void **)&entry = dlsym(dl, CSM_PLUGIN_ENTRY_SYMBOL);
    P = entry ? entry(&api) : NULL;
    return P ? 0 : -1;
}

static int teardown(void **state)
{
    dlclose(dl);
    free(F.log);
    return 0;
}

static int64_t parse_default(const csm_config_entry *e)
{
    char *end;
    int64_t v = strtoll(e->default_value, &end, 10);
    if (e->type == CSM_CONFIG_DURATION) {
        if (!strcmp(end, "s"))
            v *= 1000;
        else if (!strcmp(end, "m"))
            v *= 60000;
        else if (!strcmp(end, "h"))
            v *= 3600000;
        else if (!strcmp(end, "d"))
            v *= DAY_MS;
    }
    return v;
}

/* A fresh, init()ed instance with the config_map defaults. */
static void *instance(void)
{
    void *ctx = calloc(1, P->ctx_size);
    for (const csm_config_entry *e = P->config_map; e->type != CSM_CONFIG_END; e++) {
        assert_true(e->type == CSM_CONFIG_INT || e->type == CSM_CONFIG_DURATION);
        *(int64_t *)((char *)ctx + e->offset) = parse_default(e);
    }
    assert_int_equal(P->init(ctx, &the_host), 0);
    return ctx;
}

static void drop(void *ctx)
{
    P->destroy(ctx, &the_host);
    free(ctx);
}

static void reset_host(void)
{
    es_reset();
    F.n_timers = 0;
    F.next_timer = 0;
    F.now = CSM_TS_NONE;
    F.log_len = 0;
    if (F.log)
        F.log[0] = 0;
}

/* Fires the earliest live timer with deadline < limit; 0 if none. */
static int fire_one(void *ctx, csm_ts limit)
{
    fake_timer *best = NULL;
    for (size_t i = 0; i < F.n_timers; i++) {
        fake_timer *t = &F.timers[i];
        if (t->live && t->deadline < limit &&
            (!best || t->deadline < best->deadline ||
             (t->deadline == best->deadline && t->id < best->id)))
            best = t;
    }
    if (!best)
        return 0;
    best->live = 0;
    csm_timer t = {sizeof t, best->id, best->deadline, best->key, best->tag};
    F.now = t.deadline;
    P->on_timer(ctx, &the_host, &t);
    /* Compact so that long runs of periodic timers stay cheap. */
    size_t j = 0;
    for (size_t i = 0; i < F.n_timers; i++)
        if (F.timers[i].live)
            F.timers[j++] = F.timers[i];
    F.n_timers = j;
    return 1;
}

static void advance(void *ctx, csm_ts to)
{
    while (fire_one(ctx, to))
        ;
}

static void apply(void *ctx, const csm_event *ev)
{
    advance(ctx, ev->ts);
    F.now = ev->ts;
    P->on_event(ctx, &the_host, ev);
}

static void finish(void *ctx, csm_ts last)
{
    advance(ctx, last + 31 * DAY_MS + 1);
}

/* ---- a scenario touching every piece of state ---- */

typedef struct spec {
    const char *cust;
    int64_t at;
    int order; /* 1: PAID */
    csm_chat_type type;
    csm_sender sender;
    csm_msg_kind kind;
    const char *agent;
    const char *intent;
    int stars;
    csm_entry entry;
} spec;

#define MIN(x) ((int64_t)(x)*60000)
#define PAID(c, t)                                                                                 \
    {                                                                                              \
        .cust = c, .at = t, .order = 1                                                             \
    }
#define CHAT(c, t, ty, ...)                                                                        \
    {                                                                                              \
        .cust = c, .at = t, .type = CSM_CHAT_##ty, __VA_ARGS__                                     \
    }
#define FROM_CUSTOMER .sender = CSM_SENDER_CUSTOMER, .kind = CSM_MSG_TEXT
static const spec scenario[] = {
    PAID("c1", -MIN(60 * 24 * 3)),
    CHAT("c1", MIN(600), MESSAGE, FROM_CUSTOMER, .intent = "after_sale/x"),
    CHAT("c2", MIN(600) + 1, MESSAGE, .sender = CSM_SENDER_AGENT, .kind = CSM_MSG_TEXT,
         .agent = "a9"),
    CHAT("c1", MIN(601), HUMAN_REQUESTED),
    CHAT("c1", MIN(602), ASSIGNED, .agent = "a1"),
    CHAT("c1", MIN(603), MESSAGE, .sender = CSM_SENDER_CUSTOMER, .kind = CSM_MSG_IMAGE),
    CHAT("c3", MIN(604), MESSAGE, FROM_CUSTOMER, .entry = CSM_ENTRY_MERCHANT_INITIATED),
    CHAT("c3", MIN(605), OFFLINE_MESSAGE),
    CHAT("c2", MIN(606), TRANSFERRED, .agent = "a2"),
    CHAT("c5", MIN(610), MESSAGE, FROM_CUSTOMER),
    CHAT("c5", MIN(611), HUMAN_REQUESTED),
    CHAT("c5", MIN(612), ASSIGNED, .agent = "a5"),
    CHAT("c1", MIN(640), MESSAGE, .sender = CSM_SENDER_AGENT, .kind = CSM_MSG_TEXT, .agent = "a1"),
    CHAT("c2", MIN(641), RATING_INVITED),
    CHAT("c2", MIN(642), RATED, .stars = 5),
    CHAT("c1", MIN(700), MESSAGE, FROM_CUSTOMER),
    CHAT("c1", MIN(701), SESSION_CLOSED),
    CHAT("c1", MIN(702), RATED, .stars = 2),
    CHAT("c4", MIN(703), ASSIGNED, .agent = "a3"),
    CHAT("c1", MIN(60 * 30), HUMAN_REQUESTED),
    CHAT("c1", MIN(60 * 30 + 1), ASSIGNED, .agent = "a4"),
};
#define N_EVENTS (sizeof scenario / sizeof *scenario)

static void make_event(const spec *s, long i, csm_event *ev, char *idbuf)
{
    memset(ev, 0, sizeof *ev);
    ev->struct_size = sizeof *ev;
    sprintf(idbuf, "e%ld", i);
    ev->event_id = idbuf;
    ev->platform = CSM_PLATFORM_TAOBAO;
    ev->shop_id = "s1";
    ev->customer_id = s->cust;
    ev->ts = T0 + s->at;
    if (s->order) {
        ev->stream = CSM_STREAM_ORDER;
        ev->order.type = CSM_ORDER_PAID;
        ev->order.order_id = "o1";
        return;
    }
    ev->stream = CSM_STREAM_CHAT;
    ev->chat.type = s->type;
    ev->chat.sender = s->sender;
    ev->chat.msg_kind = s->kind;
    ev->chat.agent_id = s->agent;
    ev->chat.intent = s->intent;
    ev->chat.entry = s->entry;
    ev->chat.stars = s->stars;
    ev->chat.has_stars = s->stars != 0;
    ev->chat.reason = s->type == CSM_CHAT_SESSION_CLOSED ? "CUSTOMER" : NULL;
}

/* Feeds events [from, to), saving the touched entries after each as a
 * flush would. */
static void feed_range(void *ctx, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        csm_event ev;
        char id[32];
        make_event(&scenario[i], (long)i, &ev, id);
        apply(ctx, &ev);
        es_flush(P, ctx, &the_host);
    }
}

static char *run_whole(void)
{
    reset_host();
    void *ctx = instance();
    feed_range(ctx, 0, N_EVENTS);
    finish(ctx, T0 + scenario[N_EVENTS - 1].at);
    assert_int_equal(P->state_entries(ctx, &the_host), 0);
    drop(ctx);
    return strdup(F.log);
}

/* Kill -9 after the last flush: a fresh instance loads what was saved.
 * The host keeps each pending timer beside the entry its key names, so
 * every such entry must exist. */
static void *restart(void *ctx)
{
    uint64_t entries = P->state_entries(ctx, &the_host);
    drop(ctx);
    for (size_t i = 0; i < F.n_timers; i++)
        if (F.timers[i].live && !es_has(F.timers[i].key))
            fail_msg("timer %llu has key %llu, which has no entry",
                     (unsigned long long)F.timers[i].id, (unsigned long long)F.timers[i].key);
    ctx = instance();
    es_load(P, ctx, &the_host);
    assert_int_equal(P->state_entries(ctx, &the_host), entries);
    return ctx;
}

/* Restarts after each event e with restart_at(e) true, then the rest. */
static char *run_restarting(int (*restart_at)(size_t e, size_t arg), size_t arg)
{
    reset_host();
    void *ctx = instance();
    for (size_t e = 0; e < N_EVENTS; e++) {
        feed_range(ctx, e, e + 1);
        if (restart_at(e, arg))
            ctx = restart(ctx);
    }
    finish(ctx, T0 + scenario[N_EVENTS - 1].at);
    drop(ctx);
    return strdup(F.log);
}

static int at_one(size_t e, size_t cut)
{
    return e == cut;
}
static int at_every(size_t e, size_t unused)
{
    return 1;
}

static void expect_same(const char *whole, char *split, const char *what, size_t cut)
{
    if (strcmp(whole, split)) {
        fprintf(stderr, "%s %zu differs.\n--- whole:\n%s--- restarted:\n%s", what, cut, whole,
                split);
        fail();
    }
    free(split);
}

static void test_restart_continues_exactly(void **state)
{
    char *whole = run_whole();
    if (getenv("SESSION_TEST_VERBOSE"))
        fputs(whole, stderr);
    /* The scenario does reach every state worth checkpointing. */
    assert_non_null(strstr(whole, "P opened"));
    assert_non_null(strstr(whole, "as=1"));
    assert_non_null(strstr(whole, "reason=IDLE"));
    assert_non_null(strstr(whole, "reason=MAX_OPEN"));
    assert_non_null(strstr(whole, "P rated"));
    assert_non_null(strstr(whole, "P intent_set"));
    for (size_t cut = 0; cut < N_EVENTS; cut++)
        expect_same(whole, run_restarting(at_one, cut), "restart after event", cut);
    expect_same(whole, run_restarting(at_every, 0), "restart after every event", 0);
    free(whole);
}

/* A flush saves only the entries touched since the previous one: the
 * customer's record and the counters (key 0) for a new session; the
 * record alone for a message to an open one; nothing for an event that
 * routes nowhere. */
static void test_flush_writes_what_changed(void **state)
{
    reset_host();
    void *ctx = instance();
    const spec open = CHAT("c1", MIN(600), MESSAGE, FROM_CUSTOMER);
    const spec more = CHAT("c1", MIN(601), MESSAGE, FROM_CUSTOMER);
    const spec lost = CHAT("c9", MIN(602), RATED, .stars = 4);
    csm_event ev;
    char id[32];
    make_event(&open, 1, &ev, id);
    apply(ctx, &ev);
    es_flush(P, ctx, &the_host);
    assert_int_equal(ES.saves, 2);
    assert_true(es_has(0));
    make_event(&more, 2, &ev, id);
    apply(ctx, &ev);
    es_flush(P, ctx, &the_host);
    assert_int_equal(ES.saves, 3);
    make_event(&lost, 3, &ev, id);
    apply(ctx, &ev);
    es_flush(P, ctx, &the_host);
    assert_int_equal(ES.saves, 3);
    assert_int_equal(ES.n, 2);
    drop(ctx);
}

static void test_load_refuses_garbage_and_newer_versions(void **state)
{
    reset_host();
    void *ctx = instance();
    feed_range(ctx, 0, 8);
    drop(ctx);
    assert_true(ES.n >= 4);
    es_check_refusals(P, &the_host, instance, drop);
}

/* @p n records, and after a flush as many saved entries plus key 0:
 * evicted records are deleted from the checkpoint too. */
static void expect_entries(void *ctx, size_t n)
{
    assert_int_equal(P->state_entries(ctx, &the_host), n);
    es_flush(P, ctx, &the_host);
    assert_int_equal(ES.n, n + 1);
}

/* A record with only a closed session goes 48 h after its last activity
 * (at the next hourly sweep); one with a PAID stays while the PAID's day
 * can still make a session after-sale (21 days). */
static void test_eviction(void **state)
{
    reset_host();
    void *ctx = instance();
    const spec msg = CHAT("c1", MIN(600), MESSAGE, FROM_CUSTOMER);
    const spec paid = PAID("c2", MIN(600));
    csm_event ev;
    char id[32];
    make_event(&msg, 1, &ev, id);
    apply(ctx, &ev);
    make_event(&paid, 2, &ev, id);
    apply(ctx, &ev);
    expect_entries(ctx, 2);
    /* c1 closes at 10:15 day 20; kept up to 10:15 day 22. */
    advance(ctx, T0 + MIN(615) + 2 * DAY_MS);
    expect_entries(ctx, 2);
    advance(ctx, T0 + MIN(615) + 2 * DAY_MS + MIN(61));
    expect_entries(ctx, 1);
    /* c2 paid on day 20: it matters for sessions opened up to day 20 + 21. */
    advance(ctx, T0 + 22 * DAY_MS - OFFSET_MS);
    expect_entries(ctx, 1);
    advance(ctx, T0 + 22 * DAY_MS + 2 * 3600000);
    expect_entries(ctx, 0);
    drop(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart_continues_exactly),
        cmocka_unit_test(test_flush_writes_what_changed),
        cmocka_unit_test(test_load_refuses_garbage_and_newer_versions),
        cmocka_unit_test(test_eviction),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
