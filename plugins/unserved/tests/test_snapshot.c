/* The unserved detector's checkpoint entries, with the plugin loaded
 * directly under a minimal fake host (plugins/session/tests/entry_store.h
 * plays the host's incremental checkpoint). Derived events are built by
 * hand as the session builder would publish them
 * (plugins/session/README.md). The one piece of state is "this open
 * session was counted in unserved_offline", an empty entry keyed by the
 * session id: after a restart, a close of such a session must still not
 * count unserved_noreply, and a close of any other must. */
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
#define MIN(x) ((int64_t)(x)*60000LL)

struct csm_writer {
    char *buf;
    size_t len, cap;
};
struct csm_reader {
    const char *buf;
    size_t len, pos;
};
#include "../../session/tests/entry_store.h"

static struct {
    csm_ts now;
    int offline, noreply, agent_noreply, alerts;
} F;

static csm_host *const HOST = NULL;

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
    (void)deadline;
    (void)key;
    (void)tag;
    return 1;
}
static int h_timer_cancel(csm_host *h, uint64_t id)
{
    (void)h;
    (void)id;
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
    if (c->scope == CSM_SCOPE_AGENT && !strcmp(c->name, "unserved_noreply"))
        F.agent_noreply += (int)c->delta;
    else if (!strcmp(c->name, "unserved_noreply"))
        F.noreply += (int)c->delta;
    else if (!strcmp(c->name, "unserved_offline"))
        F.offline += (int)c->delta;
}
static void h_set_add(csm_host *h, const csm_set_member *m)
{
    (void)h;
    (void)m;
}
static void h_alert(csm_host *h, const csm_alert *a)
{
    (void)h;
    if (!strcmp(a->type, "UNSERVED"))
        F.alerts++;
}
static int32_t h_local_day(csm_host *h, const char *shop, csm_ts ts)
{
    (void)h;
    (void)shop;
    return (int32_t)((ts + 8 * 3600000LL) / 86400000LL);
}
static csm_ts h_day_start(csm_host *h, const char *shop, int32_t day)
{
    (void)h;
    (void)shop;
    return (csm_ts)day * 86400000LL - 8 * 3600000LL;
}
static int h_local_hour(csm_host *h, const char *shop, csm_ts ts)
{
    (void)h;
    (void)shop;
    return (int)(((ts + 8 * 3600000LL) / 3600000LL) % 24);
}
/* An entry's presence is the whole state: nothing is ever written. */
static void h_put_i64(csm_writer *w, int64_t v)
{
    (void)w;
    (void)v;
    fail_msg("unserved writes no numbers");
}
static void h_put_str(csm_writer *w, const char *s)
{
    (void)w;
    (void)s;
    fail_msg("unserved writes no strings");
}
static int h_get_i64(csm_reader *r, int64_t *v)
{
    (void)r;
    *v = 0;
    return -1;
}
static int h_get_str(csm_reader *r, char **s)
{
    (void)r;
    *s = NULL;
    return -1;
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

static void *dl;
static const csm_plugin *P;

static int setup(void **state)
{
    (void)state;
    char path[1024];
    const char *dir = getenv("CSM_PLUGIN_PATH");
    snprintf(path, sizeof path, "%s/unserved.so", dir ? dir : ".");
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
    (void)state;
    dlclose(dl);
    return 0;
}

static void *instance(void)
{
    void *ctx = calloc(1, P->ctx_size);
    assert_non_null(ctx);
    if (P->init)
        assert_int_equal(P->init(ctx, HOST), 0);
    return ctx;
}

static void drop(void *ctx)
{
    P->destroy(ctx, HOST);
    free(ctx);
}

/* A human-requested session of customer "c<id>", requested at 10:00 and
 * assigned to a1 at 10:01, no human reply. */
static csm_session view(uint64_t id)
{
    static char cust[8][8];
    snprintf(cust[id % 8], sizeof cust[0], "c%llu", (unsigned long long)id);
    csm_session s = {.struct_size = sizeof s,
                     .id = id,
                     .shop_id = "s1",
                     .customer_id = cust[id % 8],
                     .platform = CSM_PLATFORM_DOUYIN,
                     .open_ts = T0 + MIN(600),
                     .request_ts = T0 + MIN(600),
                     .assign_ts = CSM_TS_NONE,
                     .first_human_reply_ts = CSM_TS_NONE,
                     .last_customer_ts = T0 + MIN(600),
                     .close_ts = CSM_TS_NONE};
    return s;
}

static void deliver(void *ctx, int type, csm_session *s, csm_ts ts)
{
    csm_derived d = {.struct_size = sizeof d, .type = type, .ts = ts, .session = s};
    F.now = ts;
    P->on_derived(ctx, HOST, &d);
}

static void offline(void *ctx, csm_session *s, csm_ts ts)
{
    s->offline = 1;
    deliver(ctx, CSM_SESSION_OFFLINE_MESSAGE, s, ts);
}

static void assign_and_close(void *ctx, csm_session *s)
{
    s->assign_ts = T0 + MIN(601);
    s->agent_id = "a1";
    deliver(ctx, CSM_SESSION_ASSIGNED, s, s->assign_ts);
    s->close_ts = T0 + MIN(610);
    deliver(ctx, CSM_SESSION_CLOSED, s, s->close_ts);
}

/* Kill -9 after a flush: a fresh instance loads the saved entries. */
static void *restart(void *ctx)
{
    es_flush(P, ctx, HOST);
    uint64_t entries = P->state_entries(ctx, HOST);
    drop(ctx);
    ctx = instance();
    es_load(P, ctx, HOST);
    assert_int_equal(P->state_entries(ctx, HOST), entries);
    return ctx;
}

/* Sessions 1 and 2 went offline (counted), 3 did not: two entries, keys
 * 1 and 2. After a restart: a further offline message in 1 counts
 * nothing; 1 and 2 closed assigned-unanswered count no noreply; 3 does
 * (noreply 1, agent 1, alert 1). state_entries follows: 2, then 0, and
 * the closes delete both entries from the checkpoint. */
static void test_restart(void **state)
{
    (void)state;
    memset(&F, 0, sizeof F);
    es_reset();
    void *a = instance();
    csm_session s1 = view(1), s2 = view(2), s3 = view(3);
    offline(a, &s1, T0 + MIN(600) + 1000);
    offline(a, &s2, T0 + MIN(600) + 2000);
    assert_int_equal(F.offline, 2);
    assert_int_equal(P->state_entries(a, HOST), 2);

    void *b = restart(a);
    assert_int_equal(ES.n, 2);
    assert_true(es_has(1) && es_has(2));

    offline(b, &s1, T0 + MIN(600) + 3000);
    assert_int_equal(F.offline, 2);
    assign_and_close(b, &s1);
    b = restart(b);
    assign_and_close(b, &s2);
    assert_int_equal(F.noreply, 0);
    assert_int_equal(F.alerts, 0);
    assign_and_close(b, &s3);
    assert_int_equal(F.noreply, 1);
    assert_int_equal(F.agent_noreply, 1);
    assert_int_equal(F.alerts, 1);
    assert_int_equal(P->state_entries(b, HOST), 0);
    es_flush(P, b, HOST);
    assert_int_equal(ES.n, 0);
    drop(b);
}

/* Only counted sessions make entries: a close of a session never counted
 * offline touches nothing (3 saves in all: two counts, one close). */
static void test_flush_writes_what_changed(void **state)
{
    (void)state;
    memset(&F, 0, sizeof F);
    es_reset();
    void *a = instance();
    csm_session s1 = view(1), s2 = view(2);
    offline(a, &s1, T0 + MIN(600) + 1000);
    es_flush(P, a, HOST);
    assert_int_equal(ES.saves, 1);
    offline(a, &s1, T0 + MIN(600) + 2000);
    assign_and_close(a, &s2);
    es_flush(P, a, HOST);
    assert_int_equal(ES.saves, 1);
    assign_and_close(a, &s1);
    es_flush(P, a, HOST);
    assert_int_equal(ES.saves, 2);
    assert_int_equal(ES.n, 0);
    drop(a);
}

/* A state version newer than the plugin's is refused. */
static void test_newer_version_refused(void **state)
{
    (void)state;
    memset(&F, 0, sizeof F);
    es_reset();
    void *a = instance();
    csm_session s1 = view(1);
    offline(a, &s1, T0 + MIN(600) + 1000);
    es_flush(P, a, HOST);
    drop(a);
    assert_int_equal(ES.n, 1);
    es_check_refusals(P, HOST, instance, drop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart),
        cmocka_unit_test(test_flush_writes_what_changed),
        cmocka_unit_test(test_newer_version_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
