/* The SLA plugin's checkpoint entries and eviction, driven through a
 * small fake host (no engine): sla.so is dlopen'ed and fed derived events
 * directly, timers fire as the engine fires them (deadline < next event
 * ts; at the end in deadline order), and every count and alert is written
 * to a text log. Touched entries are saved after every step
 * (plugins/session/tests/entry_store.h); a run restarted at any step
 * (fresh instance loading the saved entries, the host's timers kept) must
 * log exactly what the uninterrupted run logs, and at the end every
 * session must be evicted, from memory and from the checkpoint. Shop-local
 * days are UTC+8 here. */
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
#define AT(h, m, s) (T0 + (h)*3600000LL + (m)*60000LL + (s)*1000LL)

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
#include "../../session/tests/entry_store.h"

typedef struct fake_timer {
    uint64_t id;
    csm_ts deadline;
    uint64_t key;
    uint32_t tag;
    int live;
} fake_timer;

static struct {
    fake_timer timers[256];
    size_t n_timers;
    uint64_t next_timer;
    csm_ts now;
    char log[65536];
    size_t log_len;
} F;

static csm_host the_host;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(F.log + F.log_len, sizeof F.log - F.log_len, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && F.log_len + (size_t)n < sizeof F.log);
    F.log_len += (size_t)n;
}

static void h_log(csm_host *h, int level, const char *fmt, ...)
{
    (void)h;
    (void)level;
    (void)fmt;
}
static void h_publish(csm_host *h, const csm_derived *d)
{
    (void)h;
    (void)d;
}
static uint64_t h_timer_set(csm_host *h, csm_ts deadline, uint64_t key, uint32_t tag)
{
    (void)h;
    assert_true(F.n_timers < sizeof F.timers / sizeof *F.timers);
    F.timers[F.n_timers++] = (fake_timer){++F.next_timer, deadline, key, tag, 1};
    return F.next_timer;
}
static int h_timer_cancel(csm_host *h, uint64_t id)
{
    (void)h;
    for (size_t i = 0; i < F.n_timers; i++)
        if (F.timers[i].id == id && F.timers[i].live) {
            F.timers[i].live = 0;
            return 0;
        }
    return -1;
}
static csm_ts h_now(csm_host *h)
{
    (void)h;
    return F.now;
}
static void h_count(csm_host *h, const csm_count *c)
{
    (void)h;
    logf_("count %s %d %s %s %lld %lld %u\n", c->shop_id, (int)c->scope,
          c->subject ? c->subject : "-", c->name, (long long)c->anchor_ts, (long long)c->delta,
          c->flags);
}
static void h_set_add(csm_host *h, const csm_set_member *m)
{
    (void)h;
    (void)m;
}
static void h_alert(csm_host *h, const csm_alert *a)
{
    (void)h;
    logf_("alert %s %s %s %lld %s %lld %lld %lld\n", a->type, a->shop_id, a->customer_id,
          (long long)a->session_open_ts, a->agent_id ? a->agent_id : "-", (long long)a->anchor_ts,
          (long long)a->raised_ts, (long long)a->figure);
}
static int32_t h_local_day(csm_host *h, const char *shop, csm_ts ts)
{
    (void)h;
    (void)shop;
    csm_ts t = ts + OFFSET_MS;
    return (int32_t)((t - (((t % DAY_MS) + DAY_MS) % DAY_MS)) / DAY_MS);
}
static csm_ts h_day_start(csm_host *h, const char *shop, int32_t day)
{
    (void)h;
    (void)shop;
    return (csm_ts)day * DAY_MS - OFFSET_MS;
}
static int h_local_hour(csm_host *h, const char *shop, csm_ts ts)
{
    (void)h;
    (void)shop;
    return (int)((((ts + OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS / 3600000LL);
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
    h_put_i64(w, s ? (int64_t)strlen(s) : -1);
    if (s)
        put_bytes(w, s, strlen(s));
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
    if (h_get_i64(r, &n))
        return -1;
    if (n < 0) {
        *s = NULL;
        return 0;
    }
    if ((size_t)n > r->len - r->pos)
        return -1;
    *s = malloc((size_t)n + 1);
    memcpy(*s, r->buf + r->pos, (size_t)n);
    (*s)[n] = 0;
    r->pos += (size_t)n;
    return 0;
}
static const char *h_shop_setting(csm_host *h, const char *shop, const char *key)
{
    (void)h;
    (void)shop;
    (void)key;
    return NULL;
}
static void h_stat_add(csm_host *h, const char *name, int64_t delta)
{
    (void)h;
    (void)name;
    (void)delta;
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

/* ---- the scenario: derived events as the session builder publishes them ---- */

typedef struct step {
    int sess; /* 0 or 1 */
    int type;
    csm_ts ts;
    const char *agent; /* d->agent_id */
} step;

static const step script[] = {
    /* session 1: c1, message, request, assignment (round at assignment),
     * reply, message, transfer, reply by the old agent, message open past
     * the RESPONSE_TIMEOUT, reply, message, close (unanswered round). */
    {0, CSM_SESSION_OPENED, AT(10, 0, 0), NULL},
    {0, CSM_SESSION_CUSTOMER_MESSAGE, AT(10, 0, 0), NULL},
    {0, CSM_SESSION_HUMAN_REQUESTED, AT(10, 0, 5), NULL},
    {0, CSM_SESSION_ASSIGNED, AT(10, 0, 30), "a1"},
    {1, CSM_SESSION_OPENED, AT(10, 1, 0), NULL},
    {1, CSM_SESSION_HUMAN_REQUESTED, AT(10, 1, 0), NULL},
    {0, CSM_SESSION_HUMAN_REPLY, AT(10, 1, 10), "a1"},
    {0, CSM_SESSION_CUSTOMER_MESSAGE, AT(10, 2, 0), NULL},
    {0, CSM_SESSION_TRANSFERRED, AT(10, 2, 10), "a2"},
    {0, CSM_SESSION_HUMAN_REPLY, AT(10, 2, 20), "a1"},
    {1, CSM_SESSION_OFFLINE_MESSAGE, AT(10, 2, 30), NULL},
    {0, CSM_SESSION_CUSTOMER_MESSAGE, AT(10, 3, 0), NULL},
    {1, CSM_SESSION_CLOSED, AT(10, 4, 0), NULL},
    {0, CSM_SESSION_HUMAN_REPLY, AT(10, 7, 0), "a2"},
    {0, CSM_SESSION_CUSTOMER_MESSAGE, AT(10, 8, 0), NULL},
    {0, CSM_SESSION_CLOSED, AT(10, 9, 0), NULL},
};
#define N_STEPS (sizeof script / sizeof *script)

static csm_session views[2];
static char *view_agent[2];

static void reset_views(void)
{
    static const char *const customers[2] = {"c1", "c2"};
    for (int i = 0; i < 2; i++) {
        free(view_agent[i]);
        view_agent[i] = NULL;
        views[i] = (csm_session){.struct_size = sizeof(csm_session),
                                 .id = (uint64_t)i + 1,
                                 .shop_id = "s1",
                                 .customer_id = customers[i],
                                 .platform = CSM_PLATFORM_DOUYIN,
                                 .request_ts = CSM_TS_NONE,
                                 .assign_ts = CSM_TS_NONE,
                                 .first_human_reply_ts = CSM_TS_NONE,
                                 .close_ts = CSM_TS_NONE};
    }
}

static void apply_view(const step *s)
{
    csm_session *v = &views[s->sess];
    switch (s->type) {
    case CSM_SESSION_OPENED:
        v->open_ts = v->last_customer_ts = s->ts;
        break;
    case CSM_SESSION_HUMAN_REQUESTED:
        if (v->request_ts == CSM_TS_NONE)
            v->request_ts = s->ts;
        break;
    case CSM_SESSION_ASSIGNED:
        if (v->request_ts != CSM_TS_NONE && v->assign_ts == CSM_TS_NONE)
            v->assign_ts = s->ts;
        /* fall through */
    case CSM_SESSION_TRANSFERRED:
        free(view_agent[s->sess]);
        view_agent[s->sess] = strdup(s->agent);
        v->agent_id = view_agent[s->sess];
        break;
    case CSM_SESSION_HUMAN_REPLY:
        if (v->first_human_reply_ts == CSM_TS_NONE)
            v->first_human_reply_ts = s->ts;
        break;
    case CSM_SESSION_OFFLINE_MESSAGE:
        v->offline = 1;
        break;
    case CSM_SESSION_CLOSED:
        v->close_ts = s->ts;
        break;
    default:
        break;
    }
}

static const csm_plugin *P;
static void *ctx;

static void new_instance(void)
{
    ctx = calloc(1, P->ctx_size);
    for (const csm_config_entry *e = P->config_map; e->type != CSM_CONFIG_END; e++) {
        int64_t ms = !strcmp(e->name, "first_response_timeout") ? 120000 : 180000;
        memcpy((char *)ctx + e->offset, &ms, sizeof ms);
    }
    assert_int_equal(P->init(ctx, &the_host), 0);
}

static void drop_instance(void)
{
    P->destroy(ctx, &the_host);
    free(ctx);
    ctx = NULL;
}

/* Fires the earliest live timer with deadline < limit; 0 if none. */
static int fire_one(csm_ts limit)
{
    fake_timer *best = NULL;
    for (size_t i = 0; i < F.n_timers; i++) {
        fake_timer *t = &F.timers[i];
        if (t->live && t->deadline < limit && (!best || t->deadline < best->deadline))
            best = t;
    }
    if (!best)
        return 0;
    best->live = 0;
    F.now = best->deadline;
    csm_timer t = {sizeof t, best->id, best->deadline, best->key, best->tag};
    P->on_timer(ctx, &the_host, &t);
    return 1;
}

/* Kill -9 after the last flush: a fresh instance loads what was saved.
 * The host keeps each pending timer beside the entry its key names (the
 * session id), so every such entry must exist. */
static void restart(void)
{
    es_flush(P, ctx, &the_host);
    uint64_t entries = P->state_entries(ctx, &the_host);
    drop_instance();
    for (size_t i = 0; i < F.n_timers; i++)
        if (F.timers[i].live && !es_has(F.timers[i].key))
            fail_msg("timer %llu has key %llu, which has no entry",
                     (unsigned long long)F.timers[i].id, (unsigned long long)F.timers[i].key);
    new_instance();
    es_load(P, ctx, &the_host);
    assert_int_equal(P->state_entries(ctx, &the_host), entries);
}

#define EVERY_STEP (-2)

/* Fires the timers due before step @p s, delivers it, saves what it
 * touched. */
static void play(const step *s)
{
    while (fire_one(s->ts))
        ;
    apply_view(s);
    F.now = s->ts;
    csm_derived d = {.struct_size = sizeof d,
                     .type = s->type,
                     .name = "x",
                     .ts = s->ts,
                     .session = &views[s->sess],
                     .agent_id = s->agent};
    P->on_derived(ctx, &the_host, &d);
    es_flush(P, ctx, &the_host);
}

/* Runs the script, saving the touched entries after each step, restarted
 * before step @p cut (-1: never; EVERY_STEP: before each); returns the
 * log. */
static char *run(long cut)
{
    memset(&F, 0, sizeof F);
    es_reset();
    reset_views();
    new_instance();
    for (size_t i = 0; i < N_STEPS; i++) {
        if ((long)i == cut || cut == EVERY_STEP) {
            /* The timers due before the step fire, then the flush. */
            while (fire_one(script[i].ts))
                ;
            restart();
        }
        play(&script[i]);
    }
    if (cut == (long)N_STEPS)
        restart();
    while (fire_one(INT64_MAX))
        ;
    /* Everything closed and every timer fired: all state evicted. */
    assert_int_equal(P->state_entries(ctx, &the_host), 0);
    es_flush(P, ctx, &the_host);
    assert_int_equal(ES.n, 0);
    drop_instance();
    reset_views();
    return strdup(F.log);
}

static void *handle;

static int setup(void **state)
{
    (void)state;
    char path[4096];
    const char *dir = getenv("CSM_PLUGIN_PATH");
    snprintf(path, sizeof path, "%s/sla.so", dir ? dir : ".");
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        return -1;
    csm_plugin_entry_fn entry = (csm_plugin_entry_fn)dlsym(handle, CSM_PLUGIN_ENTRY_SYMBOL);
    P = entry ? entry(&api) : NULL;
    return P ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    if (handle)
        dlclose(handle);
    return 0;
}

/* The uninterrupted run, worked out by hand (UTC+8, T0 = 11-20 00:00):
 * s1 round 1 opens at the assignment 10:00:30 (the 10:00 message waits),
 * answered by a1 at 10:01:10 (40 s); round 2 10:02:00 → 10:02:20 by a1,
 * credited to a2 (agent after the transfer); round 3 10:03:00 is open
 * past 10:06:00 → RESPONSE_TIMEOUT (agent a2), answered 10:07:00 (240 s);
 * round 4 10:08:00 unanswered at the close. s2: NOT_PICKED_UP at the
 * offline message 10:02:30 and FIRST_RESPONSE_TIMEOUT at 10:03:00,
 * although it closed at 10:04 it stays until then. */
static void test_uninterrupted(void **state)
{
    (void)state;
    char *log = run(-1);
    assert_non_null(strstr(log, "alert RESPONSE_TIMEOUT s1 c1 1795140000000 a2 1795140180000 "
                                "1795140360000 180000\n"));
    assert_non_null(strstr(log, "alert NOT_PICKED_UP s1 c2 1795140060000 - 1795140060000 "
                                "1795140150000 90000\n"));
    assert_non_null(strstr(log, "alert FIRST_RESPONSE_TIMEOUT s1 c2 1795140060000 - "
                                "1795140060000 1795140180000 120000\n"));
    assert_non_null(strstr(log, "count s1 1 a2 rounds_answered 1795140120000 1 0\n"));
    assert_non_null(strstr(log, "count s1 0 - first_reply_2m 1795140005000 1 1\n"));
    assert_non_null(strstr(log, "count s1 1 a2 rounds 1795140480000 1 0\n"));
    /* a1: first response 40 s; a2 assigned 10:02:10 replied 10:07:00. */
    assert_non_null(strstr(log, "count s1 1 a1 first_resp_ms_sum 1795140030000 40000 0\n"));
    assert_non_null(strstr(log, "count s1 1 a2 first_resp_ms_sum 1795140130000 290000 0\n"));
    free(log);
}

static void test_restart_anywhere(void **state)
{
    (void)state;
    char *want = run(-1);
    for (long cut = EVERY_STEP; cut <= (long)N_STEPS; cut++) {
        char *got = run(cut);
        if (strcmp(want, got))
            fail_msg("restart before step %ld:\n--- want\n%s--- got\n%s", cut, want, got);
        free(got);
    }
    free(want);
}

static void *fresh(void)
{
    new_instance();
    return ctx;
}
static void drop(void *c)
{
    ctx = c;
    drop_instance();
}

/* Both sessions mid-way (s1 transferred with a round open, s2 offline):
 * every truncated entry, and a newer state version, are refused. */
static void test_load_refuses_garbage_and_newer_versions(void **state)
{
    (void)state;
    memset(&F, 0, sizeof F);
    es_reset();
    reset_views();
    new_instance();
    for (size_t i = 0; i < 11; i++)
        play(&script[i]);
    drop_instance();
    reset_views();
    assert_int_equal(ES.n, 2);
    es_check_refusals(P, &the_host, fresh, drop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uninterrupted),
        cmocka_unit_test(test_restart_anywhere),
        cmocka_unit_test(test_load_refuses_garbage_and_newer_versions),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
