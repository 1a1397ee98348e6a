/* The satisfaction calculator's snapshot/restore and eviction, driven
 * through a small fake host (no engine): satisfaction.so is dlopen'ed and
 * fed derived events as the session builder publishes them, timers fire
 * as the engine fires them (deadline < next event ts; at the end in
 * deadline order), and every count and alert is written to a text log. A
 * run cut before any step by snapshot -> fresh instance -> restore must log
 * exactly what the uninterrupted run logs, and once every timer has fired
 * all state must be evicted. Shop-local days are UTC+8 here. */
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
    logf_("count %s %d %s %s %s %lld %lld %u\n", c->shop_id, (int)c->scope,
          c->subject ? c->subject : "-", c->split ? c->split : "-", c->name,
          (long long)c->anchor_ts, (long long)c->delta, c->flags);
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
};

/* ---- the scenario: derived events as the session builder publishes them ---- */

#define N_SESS 5

typedef struct step {
    int sess;
    int type;
    csm_ts ts;
    const char *arg; /* ASSIGNED/TRANSFERRED: new agent; INTENT_SET: the intent */
    int32_t stars;
} step;

/* Sessions (customer, after-sale):
 *  0 c1 presale: opens 10:00, assigned a1 10:01, invited 10:05, moved to a2
 *    10:06, rated 2 at 10:07 (agent a1; alert agent a2), closed 10:10.
 *  1 c1 aftersale, no intent: opens 11:00, invited 11:01, rated 5 at 11:02
 *    (c1's 2nd of the day), 4 at 11:03 (3rd; a second rating, ignored),
 *    closed 11:20; at 11:30 an invitation after the close sets intent
 *    "size" (the pending intent rating counts then); 1 at 11:40 is c1's
 *    4th of the day: vanishes. 11-21 10:00: rated again (ignored).
 *  2 c2: opens 12:00, closed 12:15, rates 4 at 13:00 with no invitation.
 *  3 c3 intent "refund": opens 23:00, invited 23:30, closed 23:45, rates 1
 *    at 11-21 23:30, exactly 24 h later: counts on 11-20.
 *  4 c4: opens 11-21 09:00, invited 09:01, closed 09:10, rates 5 at 11-22
 *    09:01:00.001, 24 h + 1 ms later: not counted. */
static const step script[] = {
    {0, CSM_SESSION_OPENED, AT(10, 0, 0), NULL, 0},
    {0, CSM_SESSION_ASSIGNED, AT(10, 1, 0), "a1", 0},
    {0, CSM_SESSION_RATING_INVITED, AT(10, 5, 0), NULL, 0},
    {0, CSM_SESSION_TRANSFERRED, AT(10, 6, 0), "a2", 0},
    {0, CSM_SESSION_RATED, AT(10, 7, 0), NULL, 2},
    {0, CSM_SESSION_CLOSED, AT(10, 10, 0), NULL, 0},
    {1, CSM_SESSION_OPENED, AT(11, 0, 0), NULL, 0},
    {1, CSM_SESSION_RATING_INVITED, AT(11, 1, 0), NULL, 0},
    {1, CSM_SESSION_RATED, AT(11, 2, 0), NULL, 5},
    {1, CSM_SESSION_RATED, AT(11, 3, 0), NULL, 4},
    {1, CSM_SESSION_CLOSED, AT(11, 20, 0), NULL, 0},
    {1, CSM_SESSION_INTENT_SET, AT(11, 30, 0), "size", 0},
    {1, CSM_SESSION_RATING_INVITED, AT(11, 30, 0), NULL, 0},
    {1, CSM_SESSION_RATED, AT(11, 40, 0), NULL, 1},
    {2, CSM_SESSION_OPENED, AT(12, 0, 0), NULL, 0},
    {2, CSM_SESSION_CLOSED, AT(12, 15, 0), NULL, 0},
    {2, CSM_SESSION_RATED, AT(13, 0, 0), NULL, 4},
    {3, CSM_SESSION_OPENED, AT(23, 0, 0), NULL, 0},
    {3, CSM_SESSION_INTENT_SET, AT(23, 0, 0), "refund", 0},
    {3, CSM_SESSION_RATING_INVITED, AT(23, 30, 0), NULL, 0},
    {3, CSM_SESSION_CLOSED, AT(23, 45, 0), NULL, 0},
    {4, CSM_SESSION_OPENED, AT(33, 0, 0), NULL, 0},
    {4, CSM_SESSION_RATING_INVITED, AT(33, 1, 0), NULL, 0},
    {4, CSM_SESSION_CLOSED, AT(33, 10, 0), NULL, 0},
    {1, CSM_SESSION_RATED, AT(34, 0, 0), NULL, 3},
    {3, CSM_SESSION_RATED, AT(47, 30, 0), NULL, 1},
    {4, CSM_SESSION_RATED, AT(57, 1, 0) + 1, NULL, 5},
};
#define N_STEPS (sizeof script / sizeof *script)

static csm_session views[N_SESS];

static void reset_views(void)
{
    static const char *const customers[N_SESS] = {"c1", "c1", "c2", "c3", "c4"};
    for (int i = 0; i < N_SESS; i++)
        views[i] = (csm_session){.struct_size = sizeof(csm_session),
                                 .id = (uint64_t)i + 1,
                                 .shop_id = "s1",
                                 .customer_id = customers[i],
                                 .platform = CSM_PLATFORM_DOUYIN,
                                 .aftersale = i == 1,
                                 .request_ts = CSM_TS_NONE,
                                 .assign_ts = CSM_TS_NONE,
                                 .first_human_reply_ts = CSM_TS_NONE,
                                 .close_ts = CSM_TS_NONE};
}

static void apply_view(const step *s)
{
    csm_session *v = &views[s->sess];
    switch (s->type) {
    case CSM_SESSION_OPENED:
        v->open_ts = v->last_customer_ts = s->ts;
        break;
    case CSM_SESSION_ASSIGNED:
        v->request_ts = v->open_ts;
        if (v->assign_ts == CSM_TS_NONE)
            v->assign_ts = s->ts;
        v->agent_id = s->arg;
        break;
    case CSM_SESSION_TRANSFERRED:
        v->agent_id = s->arg;
        break;
    case CSM_SESSION_INTENT_SET:
        v->intent = s->arg;
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
    if (P->init)
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

static void snapshot_restore(void)
{
    csm_writer w = {0};
    assert_int_equal(P->snapshot(ctx, &the_host, &w), 0);
    uint64_t entries = P->state_entries(ctx, &the_host);
    drop_instance();
    new_instance();
    csm_reader r = {w.buf, w.len, 0};
    assert_int_equal(P->restore(ctx, &the_host, &r), 0);
    assert_int_equal(r.pos, w.len);
    assert_int_equal(P->state_entries(ctx, &the_host), entries);
    free(w.buf);
}

/* Runs the script, cut before step @p cut (-1: never; N_STEPS: after the
 * last one); returns the log. */
static char *run(long cut)
{
    memset(&F, 0, sizeof F);
    reset_views();
    new_instance();
    for (size_t i = 0; i < N_STEPS; i++) {
        const step *s = &script[i];
        while (fire_one(s->ts))
            ;
        if ((long)i == cut)
            snapshot_restore();
        apply_view(s);
        F.now = s->ts;
        csm_derived d = {.struct_size = sizeof d,
                         .type = s->type,
                         .name = "x",
                         .ts = s->ts,
                         .session = &views[s->sess],
                         .stars = s->stars};
        P->on_derived(ctx, &the_host, &d);
    }
    if (cut == (long)N_STEPS)
        snapshot_restore();
    while (fire_one(INT64_MAX))
        ;
    /* Every session closed long ago and every day is over: all evicted. */
    assert_int_equal(P->state_entries(ctx, &the_host), 0);
    drop_instance();
    return strdup(F.log);
}

static void *handle;

static int setup(void **state)
{
    (void)state;
    char path[4096];
    const char *dir = getenv("CSM_PLUGIN_PATH");
    snprintf(path, sizeof path, "%s/satisfaction.so", dir ? dir : ".");
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        return -1;
    csm_plugin_entry_fn entry;
    *(void **)&entry = dlsym(handle, CSM_PLUGIN_ENTRY_SYMBOL);
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

static int occurrences(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

#define HAS(log, line) assert_non_null(strstr(log, line "\n"))

/* The uninterrupted run, worked out by hand (UTC+8: 10:00 on 11-20 is
 * 1795140000000; "count <shop> <scope> <subject> <split> <name> <anchor>
 * <delta> <flags>"):
 *  - session 0: invited at 10:05 (1795140300000) for a1, human presale; the
 *    2-star rating goes to a1 and raises DISSATISFIED with agent a2, anchor
 *    10:05, raised 10:07 (1795140420000), figure 2.
 *  - session 1: rated 5 at 11:01 (1795143660000) in the aftersale split;
 *    intent "size" gets rated anchored at the opening 11:00
 *    (1795143600000) when it is set, no rated_1_2; no alert for the 4th
 *    rating of c1.
 *  - session 2: invited and rated (hourly, flags 1) at 13:00
 *    (1795150800000), robot.
 *  - session 3: rated_1_2 anchored at 23:30 (1795188600000), intent refund
 *    rated_1_2 at 23:00 (1795186800000); DISSATISFIED raised 11-21 23:30
 *    (1795275000000).
 *  - session 4: invited at 11-21 09:01 (1795222860000), never rated.
 * Totals: 5 sessions invited, 4 rated, 2 alerts. */
static void test_uninterrupted(void **state)
{
    (void)state;
    char *log = run(-1);
    HAS(log, "count s1 1 a1 - invited 1795140300000 1 0");
    HAS(log, "count s1 0 - human rated_1_2 1795140300000 1 0");
    HAS(log, "count s1 1 a1 - rated 1795140300000 1 0");
    HAS(log, "alert DISSATISFIED s1 c1 1795140000000 a2 1795140300000 1795140420000 2");
    HAS(log, "count s1 0 - aftersale rated_5 1795143660000 1 0");
    HAS(log, "count s1 2 size - sessions 1795143600000 1 0");
    HAS(log, "count s1 2 size - rated 1795143600000 1 0");
    assert_null(strstr(log, "count s1 2 size - rated_1_2"));
    HAS(log, "count s1 0 - - invited 1795150800000 1 0");
    HAS(log, "count s1 0 - - rated 1795150800000 1 1");
    HAS(log, "count s1 0 - robot rated_4_5 1795150800000 1 0");
    HAS(log, "count s1 0 - - rated_1_2 1795188600000 1 0");
    HAS(log, "count s1 2 refund - rated_1_2 1795186800000 1 0");
    HAS(log, "alert DISSATISFIED s1 c3 1795186800000 - 1795188600000 1795275000000 1");
    HAS(log, "count s1 0 - - invited 1795222860000 1 0");
    assert_null(strstr(log, "rated 1795222860000"));
    assert_int_equal(occurrences(log, " - - invited "), 5);
    assert_int_equal(occurrences(log, " - - rated "), 4);
    assert_int_equal(occurrences(log, "alert "), 2);
    free(log);
}

static void test_cut_anywhere(void **state)
{
    (void)state;
    char *want = run(-1);
    for (long cut = 0; cut <= (long)N_STEPS; cut++) {
        char *got = run(cut);
        if (strcmp(want, got))
            fail_msg("cut before step %ld:\n--- want\n%s--- got\n%s", cut, want, got);
        free(got);
    }
    free(want);
}

/* A snapshot cut short anywhere is refused and leaves the instance empty. */
static void test_corrupt_snapshot(void **state)
{
    (void)state;
    memset(&F, 0, sizeof F);
    reset_views();
    new_instance();
    for (size_t i = 0; i < 10; i++) {
        apply_view(&script[i]);
        F.now = script[i].ts;
        csm_derived d = {.struct_size = sizeof d,
                         .type = script[i].type,
                         .ts = script[i].ts,
                         .session = &views[script[i].sess],
                         .stars = script[i].stars};
        P->on_derived(ctx, &the_host, &d);
    }
    csm_writer w = {0};
    assert_int_equal(P->snapshot(ctx, &the_host, &w), 0);
    assert_true(P->state_entries(ctx, &the_host) > 0);
    drop_instance();
    for (size_t len = 0; len < w.len; len += 8) {
        new_instance();
        csm_reader r = {w.buf, len, 0};
        assert_int_not_equal(P->restore(ctx, &the_host, &r), 0);
        assert_int_equal(P->state_entries(ctx, &the_host), 0);
        drop_instance();
    }
    int64_t junk[3] = {99, 0, 0};
    new_instance();
    csm_reader r = {(const char *)junk, sizeof junk, 0};
    assert_int_not_equal(P->restore(ctx, &the_host, &r), 0);
    drop_instance();
    free(w.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uninterrupted),
        cmocka_unit_test(test_cut_anywhere),
        cmocka_unit_test(test_corrupt_snapshot),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
