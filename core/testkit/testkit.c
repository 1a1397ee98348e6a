/* The plugin test kit: the engine of `run`, fed from JSON Lines, with the
 * pending Redis writes kept (never flushed) so tests can read them. */
#include "csmetrics/testkit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bytebuf.h"
#include "chain.h"
#include "civil_day.h"
#include "ckpt_batch.h"
#include "ckpt_mem.h"
#include "codec.h"
#include "config.h"
#include "delta_view.h"
#include "engine.h"
#include "keys.h"
#include "sat_target.h"
#include "shoptime.h"

struct csm_testkit {
    csm_config cfg;
    csm_chain *chain;
    csm_shoptime *st;
    csm_engine *engine;
    csm_event_slot slot;
    char reason[512];
    /* Alerts in emission order, as XADD field/value lists. */
    csm_delta_op *alerts; /* copies; their strings are the deltas' */
    size_t n_alerts, cap_alerts;
    /* csm_testkit_restart(): the checkpoint so far, as Redis would hold it. */
    csm_ckpt_mem *store;
    csm_ckpt_batch batch;
};

csm_testkit *csm_testkit_new(const char *config_yaml, char *err, size_t errlen)
{
    csm_testkit *tk = calloc(1, sizeof *tk);
    if (!tk)
        return NULL;
    if (csm_config_load_string(config_yaml ? config_yaml : "", &tk->cfg, err, errlen) != 0) {
        free(tk);
        return NULL;
    }
    if (!(tk->chain = csm_chain_load(&tk->cfg, err, errlen)) ||
        !(tk->st = csm_shoptime_new(&tk->cfg, err, errlen)) ||
        !(tk->engine = csm_engine_new(&tk->cfg, tk->chain, tk->st, 0, err, errlen))) {
        csm_testkit_free(tk);
        return NULL;
    }
    return tk;
}

void csm_testkit_free(csm_testkit *tk)
{
    if (!tk)
        return;
    csm_engine_free(tk->engine);
    csm_shoptime_free(tk->st);
    csm_chain_free(tk->chain);
    csm_config_free(&tk->cfg);
    free(tk->alerts);
    csm_ckpt_mem_free(tk->store);
    csm_ckpt_batch_free(&tk->batch);
    free(tk);
}

int csm_testkit_feed(csm_testkit *tk, const char *json_line)
{
    tk->reason[0] = 0;
    if (csm_json_decode_line(json_line, strlen(json_line), &tk->slot, tk->reason,
                             sizeof tk->reason) != 0)
        return CSM_TK_DEADLETTER;
    switch (csm_engine_offer(tk->engine, &tk->slot.ev, tk->reason, sizeof tk->reason)) {
    case CSM_VERDICT_ACCEPTED:
        tk->reason[0] = 0;
        return CSM_TK_ACCEPTED;
    case CSM_VERDICT_DUPLICATE:
        return CSM_TK_DUPLICATE;
    case CSM_VERDICT_LATE:
        return CSM_TK_LATE;
    default:
        return CSM_TK_DEADLETTER;
    }
}

const char *csm_testkit_last_reason(csm_testkit *tk)
{
    return tk->reason;
}

long csm_testkit_feed_file(csm_testkit *tk, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    long n = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        const char *p = line + strspn(line, " \t");
        if (!*p || *p == '#')
            continue;
        csm_testkit_feed(tk, p);
        n++;
    }
    free(line);
    fclose(f);
    return n;
}

void csm_testkit_end(csm_testkit *tk)
{
    csm_engine_finish(tk->engine);
    /* As `replay`: at the end of input every shop-day decision is due. */
    csm_sbt_close_in_deltas(&tk->cfg, tk->st, csm_engine_deltas(tk->engine), INT64_MAX);
}

static int block_key(csm_testkit *tk, const char *block, const char *shop, int32_t day, char *key,
                     size_t n)
{
    const char *prefix = tk->cfg.prefix;
    if (!strncmp(block, "agent:", 6))
        return csm_key_agent(key, n, prefix, shop, day, block + 6);
    if (!strncmp(block, "intent:", 7))
        return csm_key_intent(key, n, prefix, shop, day, block + 7);
    return csm_key_block(key, n, prefix, shop, block, day);
}

int64_t csm_testkit_counter(csm_testkit *tk, const char *block, const char *shop, const char *day,
                            const char *field)
{
    int32_t d;
    char key[512];
    if (csm_day_parse(day, &d) || block_key(tk, block, shop, d, key, sizeof key) < 0)
        return INT64_MIN;
    return csm_deltas_get(csm_engine_deltas(tk->engine), key, field);
}

typedef struct walk {
    csm_testkit *tk;
    const char *key;
    int64_t n;
    csm_testkit_counter_fn fn;
    void *arg;
    int stop;
} walk;

static void count_members(void *arg, const csm_delta_op *op)
{
    walk *w = arg;
    if (op->kind == CSM_DELTA_SADD && !strcmp(op->key, w->key))
        w->n++;
}

typedef int (*set_key_fn)(char *buf, size_t n, const char *prefix, const char *shop, int32_t day,
                          const char *name);

static int64_t members_of(csm_testkit *tk, set_key_fn key_of, const char *shop, const char *day,
                          const char *name)
{
    int32_t d;
    char key[512];
    if (csm_day_parse(day, &d) || key_of(key, sizeof key, tk->cfg.prefix, shop, d, name) < 0)
        return -1;
    walk w = {.key = key};
    csm_deltas_foreach(csm_engine_deltas(tk->engine), count_members, &w);
    return w.n;
}

int64_t csm_testkit_set_size(csm_testkit *tk, const char *shop, const char *day, const char *name)
{
    return members_of(tk, csm_key_set, shop, day, name);
}

int64_t csm_testkit_board_set_size(csm_testkit *tk, const char *shop, const char *day,
                                   const char *name)
{
    return members_of(tk, csm_key_boardset, shop, day, name);
}

static void collect_alert(void *arg, const csm_delta_op *op)
{
    csm_testkit *tk = arg;
    if (op->kind != CSM_DELTA_XADD)
        return;
    if (tk->n_alerts == tk->cap_alerts) {
        tk->cap_alerts = tk->cap_alerts ? tk->cap_alerts * 2 : 16;
        tk->alerts = realloc(tk->alerts, tk->cap_alerts * sizeof *tk->alerts);
    }
    tk->alerts[tk->n_alerts++] = *op;
}

static void refresh_alerts(csm_testkit *tk)
{
    tk->n_alerts = 0;
    csm_deltas_foreach(csm_engine_deltas(tk->engine), collect_alert, tk);
}

static const char *fv_get(const csm_delta_op *op, const char *field)
{
    for (size_t i = 0; i + 1 < op->n_fv; i += 2)
        if (!strcmp(op->fv[i], field))
            return op->fv[i + 1];
    return NULL;
}

long csm_testkit_alert_count(csm_testkit *tk, const char *shop, const char *type)
{
    refresh_alerts(tk);
    long n = 0;
    for (size_t i = 0; i < tk->n_alerts; i++) {
        const char *s = fv_get(&tk->alerts[i], "shop_id"), *t = fv_get(&tk->alerts[i], "type");
        if ((!shop || (s && !strcmp(s, shop))) && (!type || (t && !strcmp(t, type))))
            n++;
    }
    return n;
}

const char *csm_testkit_alert_field(csm_testkit *tk, long i, const char *field)
{
    refresh_alerts(tk);
    if (i < 0 || (size_t)i >= tk->n_alerts)
        return NULL;
    return fv_get(&tk->alerts[i], field);
}

static void visit_counter(void *arg, const csm_delta_op *op)
{
    walk *w = arg;
    if (w->stop || op->kind != CSM_DELTA_HINCRBY)
        return;
    w->stop = w->fn(w->arg, op->key, op->field, op->value);
}

void csm_testkit_foreach_counter(csm_testkit *tk, csm_testkit_counter_fn fn, void *arg)
{
    walk w = {.fn = fn, .arg = arg};
    csm_deltas_foreach(csm_engine_deltas(tk->engine), visit_counter, &w);
}

static int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct lines {
    char **v;
    size_t n, cap;
} lines;

static void dump_op(void *arg, const csm_delta_op *op)
{
    lines *l = arg;
    char buf[2048];
    int len = 0;
    switch (op->kind) {
    case CSM_DELTA_HINCRBY:
        len = snprintf(buf, sizeof buf, "%s %s = %lld", op->key, op->field, (long long)op->value);
        break;
    case CSM_DELTA_SADD:
        len = snprintf(buf, sizeof buf, "%s member %s", op->key, op->field);
        break;
    case CSM_DELTA_XADD:
        len = snprintf(buf, sizeof buf, "%s entry", op->key);
        for (size_t i = 0; i < op->n_fv && len < (int)sizeof buf; i++)
            len += snprintf(buf + len, sizeof buf - (size_t)len, " %s", op->fv[i]);
        break;
    case CSM_DELTA_ZADD:
        len = snprintf(buf, sizeof buf, "%s zmember %s score %lld", op->key, op->field,
                       (long long)op->value);
        break;
    case CSM_DELTA_EXPIREAT:
        len = snprintf(buf, sizeof buf, "%s expireat %lld", op->key, (long long)op->value);
        break;
    }
    (void)len;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = strdup(buf);
}

void csm_testkit_dump(csm_testkit *tk, FILE *out)
{
    lines l = {0};
    csm_deltas_foreach(csm_engine_deltas(tk->engine), dump_op, &l);
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, cmp_lines);
    for (size_t i = 0; i < l.n; i++) {
        fprintf(out, "%s\n", l.v[i]);
        free(l.v[i]);
    }
    free(l.v);
}

const char *csm_testkit_prefix(csm_testkit *tk)
{
    return tk->cfg.prefix;
}

uint64_t csm_testkit_state_entries(csm_testkit *tk)
{
    return csm_engine_state_entries(tk->engine);
}

size_t csm_testkit_snapshot_bytes(csm_testkit *tk)
{
    csm_writer w = {0};
    size_t n = csm_engine_snapshot(tk->engine, &w) == 0 ? w.len : 0;
    csm_writer_free(&w);
    return n;
}

/* As a flush of `run`: what changed since the last one, committed. */
static int checkpoint(csm_testkit *tk, char *err, size_t errlen)
{
    if (!tk->store)
        tk->store = csm_ckpt_mem_new();
    if (csm_engine_ckpt_build(tk->engine, &tk->batch, err, errlen))
        return -1;
    csm_ckpt_mem_apply(tk->store, &tk->batch);
    csm_engine_ckpt_committed(tk->engine);
    return 0;
}

int csm_testkit_restart(csm_testkit *tk, char *err, size_t errlen)
{
    if (checkpoint(tk, err, errlen))
        return -1;
    csm_engine *e = csm_engine_new(&tk->cfg, tk->chain, tk->st, 0, err, errlen);
    if (!e)
        return -1;
    csm_ckpt_source src = csm_ckpt_mem_source(tk->store);
    if (csm_engine_ckpt_load(e, &src, "the restart", err, errlen)) {
        csm_engine_free(e);
        return -1;
    }
    csm_engine_move_deltas(e, tk->engine);
    csm_engine_free(tk->engine);
    tk->engine = e;
    return 0;
}

void csm_testkit_discard_writes(csm_testkit *tk)
{
    csm_deltas_clear(csm_engine_deltas(tk->engine));
    tk->n_alerts = 0;
}
