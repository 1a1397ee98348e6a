/* A minimal fake host for snapshot tests (the test kit does not expose
 * snapshots): the plugin is dlopen'ed and driven directly. Timers fire as
 * the engine fires them (deadline < next event ts; at the end in deadline
 * order) and survive a restore, as the engine checkpoints them; every
 * count and set member is appended to a text log, so an interrupted run
 * can be compared with an uninterrupted one. Shop-local days are UTC+8. */
#ifndef FAKE_HOST_H
#define FAKE_HOST_H

#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csmetrics/plugin.h"

#define FH_DAY_MS 86400000LL
#define FH_OFFSET_MS (8 * 3600000LL)

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
} fake_timer;

static struct {
    fake_timer *timers; /* live timers only */
    size_t n_timers, cap_timers;
    uint64_t next_timer;
    csm_ts now;
    char *log;
    size_t log_len, log_cap;
} F;

static csm_host the_host;
static const csm_plugin *P;
static void *ctx;
static void *handle;

static void fh_logf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fh_logf(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line)
        abort();
    if (F.log_len + (size_t)n + 1 > F.log_cap) {
        F.log_cap = (F.log_len + (size_t)n + 1) * 2;
        F.log = realloc(F.log, F.log_cap);
    }
    memcpy(F.log + F.log_len, line, (size_t)n + 1);
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
    if (F.n_timers == F.cap_timers) {
        F.cap_timers = F.cap_timers ? F.cap_timers * 2 : 16;
        F.timers = realloc(F.timers, F.cap_timers * sizeof *F.timers);
    }
    F.timers[F.n_timers++] = (fake_timer){++F.next_timer, deadline, key, tag};
    return F.next_timer;
}
static int h_timer_cancel(csm_host *h, uint64_t id)
{
    (void)h;
    for (size_t i = 0; i < F.n_timers; i++)
        if (F.timers[i].id == id) {
            F.timers[i] = F.timers[--F.n_timers];
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
    fh_logf("count %s %d %s %d %lld %lld at %lld\n", c->shop_id, (int)c->scope, c->name,
            (int)c->platform, (long long)c->anchor_ts, (long long)c->delta, (long long)F.now);
}
static void h_set_add(csm_host *h, const csm_set_member *m)
{
    (void)h;
    fh_logf("set %s %s %s %lld at %lld\n", m->shop_id, m->name, m->member, (long long)m->anchor_ts,
            (long long)F.now);
}
static void h_alert(csm_host *h, const csm_alert *a)
{
    (void)h;
    fh_logf("alert %s\n", a->type);
}
static int32_t h_local_day(csm_host *h, const char *shop, csm_ts ts)
{
    (void)h;
    (void)shop;
    csm_ts t = ts + FH_OFFSET_MS;
    return (int32_t)((t - (((t % FH_DAY_MS) + FH_DAY_MS) % FH_DAY_MS)) / FH_DAY_MS);
}
static csm_ts h_day_start(csm_host *h, const char *shop, int32_t day)
{
    (void)h;
    (void)shop;
    return (csm_ts)day * FH_DAY_MS - FH_OFFSET_MS;
}
static int h_local_hour(csm_host *h, const char *shop, csm_ts ts)
{
    (void)h;
    (void)shop;
    return (int)((((ts + FH_OFFSET_MS) % FH_DAY_MS) + FH_DAY_MS) % FH_DAY_MS / 3600000LL);
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
    (void)delta;
    fh_logf("stat %s\n", name);
}

static const csm_host_api fh_api = {
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

/* Loads <CSM_PLUGIN_PATH>/<name>.so (first directory). */
static int fh_load(const char *name)
{
    char path[4096];
    const char *dir = getenv("CSM_PLUGIN_PATH");
    snprintf(path, sizeof path, "%s/%s.so", dir ? dir : ".", name);
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        return -1;
    csm_plugin_entry_fn entry = (csm_plugin_entry_fn)dlsym(handle, CSM_PLUGIN_ENTRY_SYMBOL);
    P = entry ? entry(&fh_api) : NULL;
    return P ? 0 : -1;
}

static void fh_unload(void)
{
    if (handle)
        dlclose(handle);
    handle = NULL;
}

/* Resets the host: no timers, empty log. */
static void fh_reset(void)
{
    free(F.timers);
    free(F.log);
    memset(&F, 0, sizeof F);
    F.log = calloc(1, 1);
    F.log_cap = 1;
}

/* A fresh instance with each duration key set to the value @p value_of
 * gives it (the host parses defaults; this fake takes them as given). */
static int fh_new_instance(int64_t (*value_of)(const char *key))
{
    ctx = calloc(1, P->ctx_size);
    for (const csm_config_entry *e = P->config_map; e->type != CSM_CONFIG_END; e++) {
        int64_t v = value_of(e->name);
        memcpy((char *)ctx + e->offset, &v, sizeof v);
    }
    return P->init ? P->init(ctx, &the_host) : 0;
}

static void fh_drop_instance(void)
{
    P->destroy(ctx, &the_host);
    free(ctx);
    ctx = NULL;
}

/* Fires the earliest timer with deadline < limit; 0 if none. */
static int fh_fire_one(csm_ts limit)
{
    size_t best = F.n_timers;
    for (size_t i = 0; i < F.n_timers; i++)
        if (F.timers[i].deadline < limit &&
            (best == F.n_timers || F.timers[i].deadline < F.timers[best].deadline ||
             (F.timers[i].deadline == F.timers[best].deadline &&
              F.timers[i].id < F.timers[best].id)))
            best = i;
    if (best == F.n_timers)
        return 0;
    fake_timer t = F.timers[best];
    F.timers[best] = F.timers[--F.n_timers];
    F.now = t.deadline;
    csm_timer ct = {sizeof ct, t.id, t.deadline, t.key, t.tag};
    P->on_timer(ctx, &the_host, &ct);
    return 1;
}

/* Snapshot, drop the instance, restore into a fresh one: the cut a crash
 * and restart make. Returns 0 when the restore consumed the whole
 * snapshot and state_entries agrees. */
static int fh_snapshot_restore(int64_t (*value_of)(const char *key))
{
    csm_writer w = {0};
    if (P->snapshot(ctx, &the_host, &w))
        return -1;
    uint64_t entries = P->state_entries(ctx, &the_host);
    fh_drop_instance();
    if (fh_new_instance(value_of))
        return -1;
    csm_reader r = {w.buf, w.len, 0};
    int rc = P->restore(ctx, &the_host, &r);
    if (!rc && (r.pos != w.len || P->state_entries(ctx, &the_host) != entries))
        rc = -1;
    free(w.buf);
    return rc;
}

#endif
