/* A shop's alert stream read live with XREAD BLOCK (docs/redis-keys.md,
 * "Alert entries"). Entries come in batches; they are handed out one by
 * one, and the last id handed out is where the next XREAD starts. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "alert_follow.h"
#include "keys.h"
#include "redis_conn.h"
#include "report_redis.h"

#define BATCH "16"
#define ID_MAX 48 /* "<ms>-<seq>": two 64-bit numbers */

struct csm_alert_follow {
    redisContext *c;
    int timeout_ms;
    char key[512];
    char last_id[ID_MAX];
    redisReply *batch; /* the entries of the last XREAD */
    size_t next;       /* index of the next entry to hand out */
};

static void transport_failed(csm_alert_follow *f, char *err, size_t errlen)
{
    char buf[96];
    snprintf(err, errlen, "redis: %s",
             csm_redis_transport_error(f->c, f->timeout_ms, buf, sizeof buf));
}

/* The id of the stream's newest entry, "0-0" when the stream is empty. */
static int read_last_id(csm_alert_follow *f, char *err, size_t errlen)
{
    redisReply *x = redisCommand(f->c, "XREVRANGE %s + - COUNT 1", f->key);
    if (!x) {
        transport_failed(f, err, errlen);
        return -1;
    }
    int rc = 0;
    if (x->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errlen, "redis: %s: %s", f->key,
                 x->type == REDIS_REPLY_ERROR ? x->str : "unexpected reply type");
        rc = -1;
    } else if (x->elements && x->element[0]->type == REDIS_REPLY_ARRAY &&
               x->element[0]->elements == 2 &&
               x->element[0]->element[0]->type == REDIS_REPLY_STRING) {
        snprintf(f->last_id, sizeof f->last_id, "%s", x->element[0]->element[0]->str);
    } else {
        snprintf(f->last_id, sizeof f->last_id, "0-0");
    }
    freeReplyObject(x);
    return rc;
}

csm_alert_follow *csm_alert_follow_open(const csm_config *cfg, const char *shop, char *err,
                                        size_t errlen)
{
    csm_alert_follow *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->timeout_ms = cfg->redis.timeout_ms;
    if (csm_key_alerts(f->key, sizeof f->key, cfg->prefix, shop) < 0) {
        snprintf(err, errlen, "shop id too long");
        free(f);
        return NULL;
    }
    f->c = csm_redis_connect(&cfg->redis, err, errlen);
    if (!f->c || read_last_id(f, err, errlen)) {
        csm_alert_follow_close(f);
        return NULL;
    }
    return f;
}

/* The entries array of an XREAD reply on one stream: [[key, entries]]. */
static const redisReply *entries_of(const redisReply *x)
{
    if (x->type != REDIS_REPLY_ARRAY || x->elements != 1)
        return NULL;
    const redisReply *s = x->element[0];
    if (s->type != REDIS_REPLY_ARRAY || s->elements != 2 ||
        s->element[1]->type != REDIS_REPLY_ARRAY)
        return NULL;
    return s->element[1];
}

/* Blocks for a new batch: 1 with f->batch set, 0 on timeout, -1. */
static int read_batch(csm_alert_follow *f, int block_ms, char *err, size_t errlen)
{
    /* The socket must outwait the server's BLOCK, or a quiet stream would
     * read as a lost connection. */
    struct timeval tv = {(block_ms + f->timeout_ms) / 1000,
                         (block_ms + f->timeout_ms) % 1000 * 1000};
    redisSetTimeout(f->c, tv);
    char block[16];
    snprintf(block, sizeof block, "%d", block_ms);
    const char *argv[] = {"XREAD", "COUNT", BATCH, "BLOCK", block, "STREAMS", f->key, f->last_id};
    redisReply *x = redisCommandArgv(f->c, 8, argv, NULL);
    if (!x) {
        transport_failed(f, err, errlen);
        return -1;
    }
    if (x->type == REDIS_REPLY_NIL) {
        freeReplyObject(x);
        return 0;
    }
    if (!entries_of(x)) {
        snprintf(err, errlen, "redis: %s: %s", f->key,
                 x->type == REDIS_REPLY_ERROR ? x->str : "unexpected reply type");
        freeReplyObject(x);
        return -1;
    }
    f->batch = x;
    f->next = 0;
    return 1;
}

/* Hands out the batch's next well-formed entry: 1, or 0 when the batch is done. */
static int take_entry(csm_alert_follow *f, csm_report_alert *out)
{
    const redisReply *entries = entries_of(f->batch);
    while (f->next < entries->elements) {
        const redisReply *e = entries->element[f->next++];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY)
            continue;
        snprintf(f->last_id, sizeof f->last_id, "%s", e->element[0]->str);
        memset(out, 0, sizeof *out);
        if (csm_report_alert_from_entry(e->element[1], out) == 0)
            return 1;
        csm_report_alert_clear(out); /* out of memory: this entry is not shown */
    }
    freeReplyObject(f->batch);
    f->batch = NULL;
    return 0;
}

int csm_alert_follow_next(csm_alert_follow *f, int block_ms, csm_report_alert *out, char *err,
                          size_t errlen)
{
    if (f->batch && take_entry(f, out))
        return 1;
    int rc = read_batch(f, block_ms, err, errlen);
    if (rc <= 0)
        return rc;
    /* A batch of only malformed entries reads as a quiet interval. */
    return take_entry(f, out);
}

void csm_alert_follow_close(csm_alert_follow *f)
{
    if (!f)
        return;
    if (f->batch)
        freeReplyObject(f->batch);
    if (f->c)
        redisFree(f->c);
    free(f);
}
