#include "sbt_redis.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intern.h"
#include "keys.h"
#include "redis_conn.h"
#include "time_bounds.h"

/* Removing the due member is the guard: whoever removes it writes the
 * alert, in the same script, so the decision happens exactly once. */
/* With the outbox on, the alert is also numbered (P:sbt:seq) and kept in
 * P:sbt:outbox until the alerts topic has it (run_alerts.c). */
static const char *const close_script =
    "if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end\n"
    "if #ARGV > 4 then\n"
    "  redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], '*', unpack(ARGV, 5))\n"
    "  if ARGV[3] == '1' then\n"
    "    local n = redis.call('INCR', KEYS[3])\n"
    "    redis.call('HSET', KEYS[4], n, ARGV[4])\n"
    "  end\n"
    "end\n"
    "return 1\n";

/* Deletes the outbox entries numbered ARGV[1] .. ARGV[2]. */
static const char *const ack_script =
    "local lo, hi = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "for _, k in ipairs(redis.call('HKEYS', KEYS[1])) do\n"
    "  local n = tonumber(k)\n"
    "  if n and n >= lo and n <= hi then redis.call('HDEL', KEYS[1], k) end\n"
    "end\n"
    "return 0\n";

/* The connection's error in words; the buffer is used at once by the
 * caller's snprintf (the daemon's Redis work is single-threaded). */
static const char *transport(const redisContext *c, const csm_config *cfg)
{
    static char buf[96];
    return csm_redis_transport_error(c, cfg->redis.timeout_ms, buf, sizeof buf);
}

int csm_sbt_outbox_keys(char *seq_key, char *outbox_key, size_t n, const char *prefix)
{
    int a = snprintf(seq_key, n, "%s:sbt:seq", prefix);
    int b = snprintf(outbox_key, n, "%s:sbt:outbox", prefix);
    return a < 0 || b < 0 || (size_t)a >= n || (size_t)b >= n ? -1 : 0;
}

/* Record values joined by the ASCII unit separator, which ids do not hold. */
#define SEP '\x1f'

size_t csm_sbt_pack(const csm_alert_rec *rec, char *buf, size_t n)
{
    size_t used = 0;
    for (int i = 0; i < CSM_ALERT_NFIELDS; i++) {
        int k = snprintf(buf + used, n - used, "%s%c", rec->v[i] ? rec->v[i] : "",
                         i + 1 < CSM_ALERT_NFIELDS ? SEP : '\0');
        if (k < 0 || (size_t)k >= n - used)
            return 0;
        used += (size_t)k;
    }
    return used;
}

int csm_sbt_unpack(const char *packed, csm_alert_rec *rec)
{
    memset(rec, 0, sizeof *rec);
    const char *p = packed;
    for (int i = 0; i < CSM_ALERT_NFIELDS; i++) {
        const char *end = strchr(p, SEP);
        if (!end)
            end = p + strlen(p);
        if (!(rec->v[i] = strndup(p, (size_t)(end - p))))
            abort();
        if (!*end && i + 1 < CSM_ALERT_NFIELDS) {
            csm_alert_rec_clear(rec);
            return -1;
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}

int csm_sbt_min_clock(csm_redis_store *s, const csm_config *cfg, int32_t n_partitions,
                      int64_t *clock, char *err, size_t errlen)
{
    *clock = INT64_MIN;
    redisContext *c = csm_redis_store_context(s, err, errlen);
    if (!c)
        return -1;
    int64_t min = INT64_MAX;
    for (int32_t p = 0; p < n_partitions; p++) {
        char key[512];
        if (csm_key_checkpoint(key, sizeof key, cfg->prefix, cfg->group_id, p) < 0)
            return 0;
        redisReply *r = redisCommand(c, "HGET %s clock", key);
        if (!r) {
            snprintf(err, errlen, "redis: HGET clock: %s", transport(c, cfg));
            csm_redis_store_broken(s);
            return -1;
        }
        /* A partition without a clock yet may still hold ratings of any
         * day: nothing is final until it has one. */
        int has = r->type == REDIS_REPLY_STRING && r->len > 0;
        int64_t v = has ? strtoll(r->str, NULL, 10) : 0;
        freeReplyObject(r);
        if (!has)
            return 0;
        if (v < min)
            min = v;
    }
    if (n_partitions > 0)
        *clock = min;
    return 0;
}

/* 0 when @p r is an array; else err says why, @p r is freed and a lost
 * connection dropped: 1. */
static int not_array(csm_redis_store *s, const redisContext *c, const csm_config *cfg,
                     redisReply *r, const char *verb, const char *key, char *err, size_t errlen)
{
    if (r && r->type == REDIS_REPLY_ARRAY)
        return 0;
    snprintf(err, errlen, "redis: %s %s: %s", verb, key,
             r && r->type == REDIS_REPLY_ERROR ? r->str : transport(c, cfg));
    if (!r)
        csm_redis_store_broken(s);
    freeReplyObject(r);
    return 1;
}

int csm_sbt_earliest_due(csm_redis_store *s, const csm_config *cfg, int64_t *score, char *err,
                         size_t errlen)
{
    *score = INT64_MAX;
    char key[256];
    if (csm_sbt_key(key, sizeof key, cfg->prefix) < 0) {
        snprintf(err, errlen, "redis.prefix too long");
        return -1;
    }
    redisContext *c = csm_redis_store_context(s, err, errlen);
    if (!c)
        return -1;
    redisReply *r = redisCommand(c, "ZRANGE %s 0 0 WITHSCORES", key);
    if (not_array(s, c, cfg, r, "ZRANGE", key, err, errlen))
        return -1;
    /* Scores are integer milliseconds (end of a day), written by ZADD. */
    if (r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING)
        *score = strtoll(r->element[1]->str, NULL, 10);
    freeReplyObject(r);
    return 0;
}

/* The counters a decision reads, fetched in one round trip: a first
 * pass of csm_sbt_decide() only queues an HGET per counter it asks for
 * (answering 0), the replies are read at once, and a second pass answers
 * from them. One HGET per round trip made a slow Redis hold SIGTERM for
 * seconds. Counters read once are kept for the rest of the call: the
 * seven-day windows of one shop's due days overlap, and read again they
 * were most of a replay's Redis commands. */
#define GETTER_MAX (2 * CSM_SBT_WINDOW_DAYS)

typedef struct board_cache {
    csm_intern *names; /* shops and fields, for the codes below */
    csm_intern *ids;   /* counter codes */
    int64_t *v;
    size_t cap;
} board_cache;

typedef struct getter {
    redisContext *c;
    const char *prefix;
    board_cache *cache;
    int failed, replay;
    size_t n;
    uint32_t queued[GETTER_MAX];
    const char *shop; /* the decision's shop (one string for all its counters) */
    uint32_t shop_id;
} getter;

/* A counter's cache code: its shop's, day's and field's numbers, six bits
 * a character from '0' (never a NUL). Built and hashed for every counter
 * a decision asks for, it is a fraction of the Redis key's cost. */
#define CODE_LEN 18

static void counter_code(getter *g, const char *shop, int32_t day, const char *field,
                         char code[CODE_LEN + 1])
{
    if (g->shop != shop) {
        g->shop = shop;
        g->shop_id = csm_intern_id(g->cache->names, shop);
    }
    uint32_t parts[3] = {g->shop_id, (uint32_t)day, csm_intern_id(g->cache->names, field)};
    char *p = code;
    for (int k = 0; k < 3; k++)
        for (int b = 0; b < 6; b++)
            *p++ = (char)('0' + ((parts[k] >> (6 * b)) & 63));
    *p = 0;
}

/* The cache id of a counter (CSM_INTERN_NONE if not read yet); add: make
 * one and queue its HGET. */
static uint32_t counter_id(getter *g, const char *shop, int32_t day, const char *field, int add)
{
    char code[CODE_LEN + 1], key[512];
    counter_code(g, shop, day, field, code);
    if (!add)
        return csm_intern_find(g->cache->ids, code);
    int n = csm_key_block(key, sizeof key, g->prefix, shop, "board", day);
    if (n < 0) {
        g->failed = 1;
        return CSM_INTERN_NONE;
    }
    uint32_t i = csm_intern_id(g->cache->ids, code);
    if (i >= g->cache->cap) {
        g->cache->cap = g->cache->cap ? g->cache->cap * 2 : 64;
        if (!(g->cache->v = realloc(g->cache->v, g->cache->cap * sizeof *g->cache->v)))
            abort();
    }
    g->cache->v[i] = 0;
    const char *argv[] = {"HGET", key, field};
    size_t lens[] = {4, (size_t)n, strlen(field)};
    return redisAppendCommandArgv(g->c, 3, argv, lens) == REDIS_OK ? i : CSM_INTERN_NONE;
}

static int64_t hget(void *arg, const char *shop, int32_t day, const char *field)
{
    getter *g = arg;
    uint32_t i = counter_id(g, shop, day, field, 0);
    if (g->replay || i != CSM_INTERN_NONE)
        return g->replay && i != CSM_INTERN_NONE ? g->cache->v[i] : 0;
    if (g->failed || g->n == GETTER_MAX ||
        (i = counter_id(g, shop, day, field, 1)) == CSM_INTERN_NONE)
        g->failed = 1;
    else
        g->queued[g->n++] = i;
    return 0;
}

/* Reads the queued replies; 0, or -1 on a transport error. */
static int getter_fetch(getter *g)
{
    for (size_t i = 0; i < g->n; i++) {
        redisReply *r = NULL;
        if (redisGetReply(g->c, (void **)&r) != REDIS_OK || !r) {
            g->failed = 1;
            return -1;
        }
        g->cache->v[g->queued[i]] = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
        freeReplyObject(r);
    }
    g->replay = 1;
    return g->failed ? -1 : 0;
}

/* csm_sbt_decide() on counters read in one round trip. */
static int decide(redisContext *c, const csm_config *cfg, csm_shoptime *st, const char *member,
                  board_cache *cache, csm_alert_rec *rec, int *failed)
{
    getter g = {.c = c, .prefix = cfg->prefix, .cache = cache};
    csm_sbt_decide(cfg, st, member, hget, &g, rec);
    csm_alert_rec_clear(rec);
    if (getter_fetch(&g)) {
        *failed = 1;
        return -1;
    }
    return csm_sbt_decide(cfg, st, member, hget, &g, rec);
}

/* 1 decided here, 0 someone else did, -1 transport error. */
static int commit(redisContext *c, const char *due_key, const char *member, const csm_config *cfg,
                  const csm_alert_rec *rec, int alert, int outbox)
{
    char stream[512] = "", maxlen[24], seq_key[256], outbox_key[256], packed[4096];
    if (alert && csm_key_alerts(stream, sizeof stream, cfg->prefix, rec->v[CSM_ALERT_SHOP_ID]) < 0)
        alert = 0;
    if (csm_sbt_outbox_keys(seq_key, outbox_key, sizeof seq_key, cfg->prefix) ||
        (alert && !csm_sbt_pack(rec, packed, sizeof packed)))
        outbox = 0;
    snprintf(maxlen, sizeof maxlen, "%" PRId64, cfg->alerts_maxlen);
    const char *argv[11 + 2 * CSM_ALERT_NFIELDS];
    int argc = 0;
    argv[argc++] = "EVAL";
    argv[argc++] = close_script;
    argv[argc++] = "4";
    argv[argc++] = due_key;
    argv[argc++] = alert ? stream : due_key;
    argv[argc++] = seq_key;
    argv[argc++] = outbox_key;
    argv[argc++] = member;
    argv[argc++] = maxlen;
    argv[argc++] = outbox ? "1" : "0";
    argv[argc++] = alert && outbox ? packed : "";
    if (alert) {
        csm_alert_fv((const char *const *)rec->v, argv + argc);
        argc += 2 * CSM_ALERT_NFIELDS;
    }
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    if (!r)
        return -1;
    int rc = r->type == REDIS_REPLY_INTEGER ? (int)r->integer : -1;
    freeReplyObject(r);
    return rc;
}

static long close_due(csm_redis_store *s, const csm_config *cfg, csm_shoptime *st, int64_t clock,
                      int outbox, int64_t budget_ms, csm_sbt_raised_fn raised, void *arg,
                      board_cache *cache, char *err, size_t errlen)
{
    int64_t deadline = budget_ms > 0 ? csm_monotonic_ms() + budget_ms : INT64_MAX;
    redisContext *c = csm_redis_store_context(s, err, errlen);
    if (!c)
        return -1;
    char key[256], max[24];
    if (csm_sbt_key(key, sizeof key, cfg->prefix) < 0) {
        snprintf(err, errlen, "redis.prefix too long");
        return -1;
    }
    /* Due once event time has passed the score: score < clock. */
    snprintf(max, sizeof max, "(%" PRId64, clock);
    long decided = 0;
    for (;;) {
        redisReply *r = redisCommand(c, "ZRANGEBYSCORE %s -inf %s LIMIT 0 256", key, max);
        if (not_array(s, c, cfg, r, "ZRANGEBYSCORE", key, err, errlen))
            return -1;
        size_t n = r->elements;
        for (size_t i = 0; i < n; i++) {
            if (csm_monotonic_ms() >= deadline) {
                freeReplyObject(r);
                return decided;
            }
            const char *member = r->element[i]->str;
            csm_alert_rec rec;
            int failed = 0;
            int alert = decide(c, cfg, st, member, cache, &rec, &failed);
            int rc = failed ? -1 : commit(c, key, member, cfg, &rec, alert == 1, outbox);
            if (rc < 0) {
                snprintf(err, errlen, "redis: deciding %s: %s", member, transport(c, cfg));
                csm_alert_rec_clear(&rec);
                freeReplyObject(r);
                csm_redis_store_broken(s);
                return -1;
            }
            if (rc == 1) {
                decided++;
                if (alert == 1 && raised)
                    raised(arg, &rec);
            }
            csm_alert_rec_clear(&rec);
        }
        freeReplyObject(r);
        if (n < 256)
            return decided;
    }
}

long csm_sbt_close_due(csm_redis_store *s, const csm_config *cfg, csm_shoptime *st, int64_t clock,
                       int outbox, int64_t budget_ms, csm_sbt_raised_fn raised, void *arg,
                       char *err, size_t errlen)
{
    board_cache cache = {csm_intern_new(), csm_intern_new(), NULL, 0};
    long rc = close_due(s, cfg, st, clock, outbox, budget_ms, raised, arg, &cache, err, errlen);
    csm_intern_free(cache.names);
    csm_intern_free(cache.ids);
    free(cache.v);
    return rc;
}

static int by_seq(const void *a, const void *b)
{
    uint64_t x = ((const csm_alert_rec *)a)->seq, y = ((const csm_alert_rec *)b)->seq;
    return x < y ? -1 : x > y;
}

int csm_sbt_outbox_read(csm_redis_store *s, const csm_config *cfg, uint64_t after,
                        csm_alert_rec **out, size_t *n_out, char *err, size_t errlen)
{
    *out = NULL;
    *n_out = 0;
    char seq_key[256], outbox_key[256];
    redisContext *c = csm_redis_store_context(s, err, errlen);
    if (!c || csm_sbt_outbox_keys(seq_key, outbox_key, sizeof seq_key, cfg->prefix))
        return -1;
    redisReply *r = redisCommand(c, "HGETALL %s", outbox_key);
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errlen, "redis: HGETALL %s: %s", outbox_key,
                 r ? "bad reply" : transport(c, cfg));
        if (!r)
            csm_redis_store_broken(s);
        freeReplyObject(r);
        return -1;
    }
    csm_alert_rec *v = calloc(r->elements / 2 + 1, sizeof *v);
    if (!v)
        abort();
    size_t n = 0;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        uint64_t seq = strtoull(r->element[i]->str, NULL, 10);
        if (seq <= after || csm_sbt_unpack(r->element[i + 1]->str, &v[n]))
            continue;
        v[n++].seq = seq;
    }
    freeReplyObject(r);
    qsort(v, n, sizeof *v, by_seq);
    *out = v;
    *n_out = n;
    return 0;
}

int csm_sbt_outbox_ack(csm_redis_store *s, const csm_config *cfg, uint64_t from, uint64_t upto,
                       char *err, size_t errlen)
{
    char seq_key[256], outbox_key[256];
    redisContext *c = csm_redis_store_context(s, err, errlen);
    if (!c || csm_sbt_outbox_keys(seq_key, outbox_key, sizeof seq_key, cfg->prefix))
        return -1;
    /* One round trip whatever the range: a takeover may skip thousands. */
    char lo[24], hi[24];
    snprintf(lo, sizeof lo, "%llu", (unsigned long long)from);
    snprintf(hi, sizeof hi, "%llu", (unsigned long long)upto);
    const char *argv[] = {"EVAL", ack_script, "1", outbox_key, lo, hi};
    redisReply *r = redisCommandArgv(c, 6, argv, NULL);
    if (!r || r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "redis: outbox ack: %s", r ? r->str : transport(c, cfg));
        if (!r)
            csm_redis_store_broken(s);
        freeReplyObject(r);
        return -1;
    }
    freeReplyObject(r);
    return 0;
}
