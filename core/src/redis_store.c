/* Exactly-once writes: the deltas of a flush and the checkpoint that says
 * which offsets they cover commit in one MULTI/EXEC, guarded by WATCH and
 * an explicit sequence number, so a writer that lost its partition (or a
 * Redis that lost data) can never apply deltas twice. Commands are
 * pipelined: a flush costs two round trips whatever its size. */
#include "redis_store.h"
#include "ckpt_store.h"
#include "delta_writer.h"
#include "redis_conn.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

struct csm_redis_store {
    redisContext *c;
    char *host, *password, *username;
    int port, db, timeout_ms;
    int healthy;
    uint64_t commands;
    csm_delta_writer *writer; /* the deltas' commands (delta_writer.c) */
    /* Names this process in the checkpoints it writes, so a flush whose
     * EXEC reply was lost can recognise its own write (check_seqs). */
    char instance[40];
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static struct timeval tv_of(int ms)
{
    if (ms <= 0)
        ms = 2000;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

const char *csm_redis_transport_error(const redisContext *c, int timeout_ms, char *buf, size_t len)
{
    if (!c || !c->errstr[0])
        return "connection lost";
    if (!strcmp(c->errstr, strerror(EAGAIN)) || !strcmp(c->errstr, strerror(ETIMEDOUT))) {
        snprintf(buf, len, "timed out after %d ms (redis.timeout)",
                 timeout_ms > 0 ? timeout_ms : 2000);
        return buf;
    }
    return c->errstr;
}

/* Error replies that a retry may cure: the server is starting or busy. */
static int transient_reply(const char *msg)
{
    static const char *const codes[] = {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN"};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        if (!strncmp(msg, codes[i], strlen(codes[i])))
            return 1;
    return 0;
}

static void drop(csm_redis_store *s)
{
    if (s->c)
        redisFree(s->c);
    s->c = NULL;
    s->healthy = 0;
    /* The next connection may reach a Redis restarted empty. */
    if (s->writer)
        csm_delta_writer_forget(s->writer);
}

/* Runs one command synchronously during connection setup. An error reply
 * means Redis refuses this configuration (*refused = 1; @p keys says which
 * keys to check), unless it is a transient state. */
static int setup_cmd(redisContext *c, const csm_redis_config *cfg, int argc, const char **argv,
                     const char *keys, int *refused, char *err, size_t errlen)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    char tbuf[64];
    if (!r) {
        snprintf(err, errlen, "redis %s:%d: %s: %s", cfg->host, cfg->port, argv[0],
                 csm_redis_transport_error(c, cfg->timeout_ms, tbuf, sizeof tbuf));
        return -1;
    }
    int rc = 0;
    if (r->type == REDIS_REPLY_ERROR) {
        int fatal = !transient_reply(r->str);
        if (!strncmp(r->str, "NOAUTH", 6))
            keys = "redis.password (env CSM_REDIS_PASSWORD) and redis.username";
        snprintf(err, errlen, "redis %s:%d: %s: %s%s%s%s", cfg->host, cfg->port, argv[0], r->str,
                 fatal ? " (check " : "", fatal ? keys : "", fatal ? ")" : "");
        if (refused)
            *refused = fatal;
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

/* AUTH and SELECT when configured, then PING: without a password the
 * first command is the one a protected server refuses (NOAUTH), and that
 * must happen here, not at the first flush. */
static redisContext *connect_cfg(const csm_redis_config *cfg, int *refused, char *err,
                                 size_t errlen)
{
    if (refused)
        *refused = 0;
    struct timeval tv = tv_of(cfg->timeout_ms);
    const char *host = cfg->host ? cfg->host : "127.0.0.1";
    redisContext *c = host[0] == '/' ? redisConnectUnixWithTimeout(host, tv)
                                     : redisConnectWithTimeout(host, cfg->port, tv);
    if (!c || c->err) {
        char tbuf[64];
        snprintf(err, errlen, "redis %s:%d: connect: %s", host, cfg->port,
                 c ? csm_redis_transport_error(c, cfg->timeout_ms, tbuf, sizeof tbuf)
                   : "out of memory");
        goto fail;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        snprintf(err, errlen, "redis %s:%d: cannot set timeout", host, cfg->port);
        goto fail;
    }
    if (cfg->password) {
        const char *argv[3] = {"AUTH", cfg->username ? cfg->username : cfg->password,
                               cfg->password};
        if (setup_cmd(c, cfg, cfg->username ? 3 : 2, argv,
                      "redis.password (env CSM_REDIS_PASSWORD) and redis.username", refused, err,
                      errlen))
            goto fail;
    }
    if (cfg->db) {
        char db[16];
        snprintf(db, sizeof db, "%d", cfg->db);
        const char *argv[2] = {"SELECT", db};
        if (setup_cmd(c, cfg, 2, argv, "redis.db", refused, err, errlen))
            goto fail;
    }
    const char *ping[1] = {"PING"};
    if (setup_cmd(c, cfg, 1, ping, "redis.password", refused, err, errlen))
        goto fail;
    return c;
fail:
    if (c)
        redisFree(c);
    return NULL;
}

redisContext *csm_redis_connect(const csm_redis_config *cfg, char *err, size_t errlen)
{
    return connect_cfg(cfg, NULL, err, errlen);
}

static int connect_now(csm_redis_store *s, int *refused, char *err, size_t errlen)
{
    csm_redis_config cfg = {s->host, s->port, s->password, s->username, s->db, s->timeout_ms};
    s->c = connect_cfg(&cfg, refused, err, errlen);
    s->healthy = s->c != NULL;
    return s->c ? 0 : -1;
}

static int ensure(csm_redis_store *s, char *err, size_t errlen)
{
    return s->c ? 0 : connect_now(s, NULL, err, errlen);
}

/* Unique enough across restarts and hosts: pid, time and urandom. */
static void make_instance_id(char *out, size_t len)
{
    uint64_t r = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(&r, sizeof r, 1, f) != 1) {
        struct timeval now;
        gettimeofday(&now, NULL);
        r = (uint64_t)now.tv_sec * 1000003u ^ (uint64_t)now.tv_usec;
    }
    if (f)
        fclose(f);
    snprintf(out, len, "%d-%016" PRIx64, (int)getpid(), r);
}

csm_redis_store *csm_redis_store_open(const csm_redis_config *cfg, char *err, size_t errlen)
{
    return csm_redis_store_try_open(cfg, NULL, err, errlen);
}

csm_redis_store *csm_redis_store_try_open(const csm_redis_config *cfg, int *refused, char *err,
                                          size_t errlen)
{
    if (refused)
        *refused = 0;
    csm_redis_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->host = strdup(cfg->host ? cfg->host : "127.0.0.1");
    s->password = dup_or_null(cfg->password);
    s->username = dup_or_null(cfg->username);
    s->port = cfg->port;
    s->db = cfg->db;
    s->timeout_ms = cfg->timeout_ms;
    make_instance_id(s->instance, sizeof s->instance);
    s->writer = csm_delta_writer_new();
    if (!s->host || connect_now(s, refused, err, errlen)) {
        csm_redis_store_close(s);
        return NULL;
    }
    return s;
}

void csm_redis_store_close(csm_redis_store *s)
{
    if (!s)
        return;
    drop(s);
    csm_delta_writer_free(s->writer);
    free(s->host);
    free(s->password);
    free(s->username);
    free(s);
}

int csm_redis_store_healthy(const csm_redis_store *s)
{
    return s && s->healthy;
}

struct redisContext *csm_redis_store_context(csm_redis_store *s, char *err, size_t errlen)
{
    return ensure(s, err, errlen) ? NULL : s->c;
}

void csm_redis_store_broken(csm_redis_store *s)
{
    drop(s);
}

uint64_t csm_redis_store_commands(const csm_redis_store *s)
{
    return s ? s->commands : 0;
}

/* A transport failure leaves the reply stream out of step with our
 * commands, so the connection is dropped and rebuilt on the next call. */
static int io_error(csm_redis_store *s, const char *what, char *err, size_t errlen)
{
    char tbuf[64];
    snprintf(err, errlen, "redis %s:%d: %s: %s", s->host, s->port, what,
             csm_redis_transport_error(s->c, s->timeout_ms, tbuf, sizeof tbuf));
    drop(s);
    return -1;
}

static int append(csm_redis_store *s, int argc, const char **argv, const size_t *lens)
{
    s->commands++;
    return redisAppendCommandArgv(s->c, argc, argv, lens) == REDIS_OK ? 0 : -1;
}

int csm_redis_store_append(csm_redis_store *s, int argc, const char **argv, const size_t *lens)
{
    return append(s, argc, argv, lens);
}

static int parse_i64(const redisReply *r, int64_t *v)
{
    if (!r || r->type != REDIS_REPLY_STRING)
        return -1;
    char *end;
    errno = 0;
    long long x = strtoll(r->str, &end, 10);
    if (errno || end == r->str || *end)
        return -1;
    *v = x;
    return 0;
}

static int parse_u64(const redisReply *r, uint64_t *v)
{
    if (!r || r->type != REDIS_REPLY_STRING || r->str[0] == '-')
        return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(r->str, &end, 10);
    if (errno || end == r->str || *end)
        return -1;
    *v = x;
    return 0;
}

int csm_redis_checkpoint_parse(const struct redisReply *r, const char *ckpt_key,
                               csm_checkpoint *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = 0;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "redis: HMGET %s: %s", ckpt_key, r->str);
        rc = -1;
    } else if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
        snprintf(err, errlen, "redis: HMGET %s: unexpected reply", ckpt_key);
        rc = -1;
    } else if (r->element[2]->type != REDIS_REPLY_NIL) {
        redisReply **e = r->element;
        if (parse_i64(e[0], &out->chat_offset) || parse_i64(e[1], &out->order_offset) ||
            parse_u64(e[2], &out->seq)) {
            snprintf(err, errlen, "redis: checkpoint %s is malformed", ckpt_key);
            rc = -1;
        } else {
            out->found = 1;
        }
    }
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

int csm_redis_load_checkpoint(csm_redis_store *s, const char *ckpt_key, csm_checkpoint *out,
                              char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (ensure(s, err, errlen))
        return -1;
    const char *argv[] = CSM_REDIS_CHECKPOINT_HMGET(ckpt_key);
    s->commands = 1;
    redisReply *r = redisCommandArgv(s->c, 5, argv, NULL);
    if (!r)
        return io_error(s, "HMGET checkpoint", err, errlen);
    s->healthy = 1;
    int rc = csm_redis_checkpoint_parse(r, ckpt_key, out, err, errlen);
    freeReplyObject(r);
    return rc;
}

typedef struct pipe_ctx {
    csm_redis_store *s;
    int failed;
    size_t queued;
} pipe_ctx;

/* Queues every part's deltas (delta_writer.c). */
static void append_deltas(pipe_ctx *pc, const csm_flush_part *parts, size_t n)
{
    const csm_deltas **v = malloc((n ? n : 1) * sizeof *v);
    size_t k = 0;
    for (size_t i = 0; v && i < n; i++)
        if (parts[i].deltas)
            v[k++] = parts[i].deltas;
    long q = !v ? -1 : k ? csm_delta_writer_append(pc->s->writer, pc->s->c, v, k) : 0;
    free(v);
    pc->failed = q < 0;
    if (q > 0) {
        pc->queued += (size_t)q;
        pc->s->commands += (uint64_t)q;
    }
}

/* Reads n pipelined replies, keeping the first error text. 0 if every
 * reply arrived (errors included), -1 on a transport failure. */
static int drain(csm_redis_store *s, size_t n, int *had_error, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        redisReply *r;
        if (redisGetReply(s->c, (void **)&r) != REDIS_OK || !r)
            return -1;
        if (r->type == REDIS_REPLY_ERROR && !*had_error) {
            *had_error = 1;
            snprintf(err, errlen, "redis: %s", r->str);
        }
        freeReplyObject(r);
    }
    return 0;
}

/* What a flush writes into the checkpoint's "writer" field: this process,
 * the state of the deltas it sends and the engine's state epoch (a change
 * of state without deltas — a timer, an entry — must tell too). */
static void writer_of(const csm_redis_store *s, const csm_flush_part *p, char *out, size_t len)
{
    snprintf(out, len, "%s/%" PRIu64 ".%" PRIu64, s->instance,
             p->deltas ? csm_deltas_version(p->deltas) : 0, p->state_epoch);
}

/* Classifies a checkpoint that is not at expected_seq. Our own earlier
 * attempt at expected_seq (its EXEC applied, its reply lost) left seq + 1
 * with our writer; if the deltas have not changed since, that attempt wrote
 * exactly what this one would: it landed. */
static void classify(const csm_redis_store *s, csm_flush_part *p, uint64_t seq, const redisReply *w)
{
    char mine[80];
    writer_of(s, p, mine, sizeof mine);
    size_t n = strlen(s->instance);
    int ours =
        w->type == REDIS_REPLY_STRING && !strncmp(w->str, s->instance, n) && w->str[n] == '/';
    p->stored_seq = seq;
    p->stored_by_us = ours;
    if (ours && seq == p->expected_seq + 1 && !strcmp(w->str, mine))
        p->landed = 1;
    else
        p->conflict = 1;
}

/* WATCH the checkpoints and compare their seq; 0 ok, 1 conflict or landed
 * (parts flagged), -1 error. */
static int check_seqs(csm_redis_store *s, csm_flush_part *parts, size_t n, char *err, size_t errlen)
{
    size_t nk = 0;
    for (size_t i = 0; i < n; i++)
        nk += parts[i].ckpt_key != NULL;
    if (!nk)
        return 0;
    const char **argv = malloc((nk + 1) * sizeof *argv);
    if (!argv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    argv[0] = "WATCH";
    for (size_t i = 0, k = 1; i < n; i++)
        if (parts[i].ckpt_key)
            argv[k++] = parts[i].ckpt_key;
    int bad = append(s, (int)nk + 1, argv, NULL);
    free(argv);
    for (size_t i = 0; i < n && !bad; i++) {
        if (!parts[i].ckpt_key)
            continue;
        const char *hm[4] = {"HMGET", parts[i].ckpt_key, "seq", "writer"};
        bad = append(s, 4, hm, NULL);
    }
    if (bad)
        return io_error(s, "WATCH", err, errlen);

    int had_error = 0, conflict = 0;
    if (drain(s, 1, &had_error, err, errlen))
        return io_error(s, "WATCH", err, errlen);
    for (size_t i = 0; i < n; i++) {
        if (!parts[i].ckpt_key)
            continue;
        redisReply *r;
        if (redisGetReply(s->c, (void **)&r) != REDIS_OK || !r)
            return io_error(s, "HMGET seq", err, errlen);
        uint64_t seq = 0;
        if (r->type == REDIS_REPLY_ERROR) {
            if (!had_error)
                snprintf(err, errlen, "redis: HMGET %s: %s", parts[i].ckpt_key, r->str);
            had_error = 1;
        } else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
                   (r->element[0]->type != REDIS_REPLY_NIL && parse_u64(r->element[0], &seq))) {
            if (!had_error)
                snprintf(err, errlen, "redis: checkpoint %s has a malformed seq",
                         parts[i].ckpt_key);
            had_error = 1;
        } else if (seq != parts[i].expected_seq) {
            classify(s, &parts[i], seq, r->element[1]);
            conflict = 1;
        }
        freeReplyObject(r);
    }
    if (had_error || conflict) {
        const char *un[1] = {"UNWATCH"};
        int dummy = 0;
        char ignored[8];
        if (append(s, 1, un, NULL) || drain(s, 1, &dummy, ignored, sizeof ignored))
            return io_error(s, "UNWATCH", err, errlen);
        return had_error ? -1 : 1;
    }
    return 0;
}

int csm_redis_flush(csm_redis_store *s, csm_flush_part *parts, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        parts[i].conflict = parts[i].landed = parts[i].stored_by_us = 0;
        parts[i].stored_seq = 0;
    }
    s->commands = 0;
    if (ensure(s, err, errlen))
        return -1;
    int rc = check_seqs(s, parts, n, err, errlen);
    if (rc == 1) /* someone else writes here, or Redis lost data */
        csm_delta_writer_forget(s->writer);
    if (rc)
        return rc;

    const char *multi[1] = {"MULTI"};
    if (append(s, 1, multi, NULL))
        return io_error(s, "MULTI", err, errlen);
    pipe_ctx pc = {s, 0, 0};
    append_deltas(&pc, parts, n);
    size_t queued = pc.queued;
    for (size_t i = 0; i < n && !pc.failed; i++) {
        const csm_flush_part *p = &parts[i];
        if (!p->ckpt_key)
            continue;
        char chat[24], order[24], seq[24], clock[24], writer[80];
        writer_of(s, p, writer, sizeof writer);
        snprintf(chat, sizeof chat, "%" PRId64, p->chat_offset);
        snprintf(order, sizeof order, "%" PRId64, p->order_offset);
        snprintf(seq, sizeof seq, "%" PRIu64, p->expected_seq + 1);
        /* An engine that has seen no event yet has no clock: "". */
        if (p->clock == INT64_MIN)
            clock[0] = 0;
        else
            snprintf(clock, sizeof clock, "%" PRId64, p->clock);
        enum { FIXED = 12, MAX_ARGS = FIXED + 2 * 8 };
        const char *argv[MAX_ARGS] = {"HSET",        p->ckpt_key, "seq",          seq,
                                      "clock",       clock,       "writer",       writer,
                                      "chat_offset", chat,        "order_offset", order};
        size_t lens[MAX_ARGS];
        /* Unchanged offsets stay as stored: seq + 1 still guards the write. */
        int argc = p->offsets_stored ? FIXED - 4 : FIXED;
        for (int k = 0; k < argc; k++)
            lens[k] = strlen(argv[k]);
        if (p->batch)
            csm_ckpt_store_core_args(p->batch, argv, lens, &argc, MAX_ARGS);
        pc.failed = append(s, argc, argv, lens);
        queued++;
        long cmds =
            p->batch && p->keys && !pc.failed ? csm_ckpt_store_append(s, p->keys, p->batch) : 0;
        pc.failed = pc.failed || cmds < 0;
        queued += cmds > 0 ? (size_t)cmds : 0;
    }
    const char *exec[1] = {"EXEC"};
    if (pc.failed || append(s, 1, exec, NULL))
        return io_error(s, "MULTI", err, errlen);

    /* MULTI's +OK and every +QUEUED; an error here (a malformed command)
     * makes Redis discard the whole transaction at EXEC. */
    int had_error = 0;
    if (drain(s, 1 + queued, &had_error, err, errlen))
        return io_error(s, "MULTI", err, errlen);
    redisReply *r;
    if (redisGetReply(s->c, (void **)&r) != REDIS_OK || !r)
        return io_error(s, "EXEC", err, errlen);
    s->healthy = 1;
    if (r->type == REDIS_REPLY_NIL) {
        /* A watched checkpoint changed between our check and EXEC; nothing
         * was written. No part is flagged: the caller's immediate retry
         * reads who wrote what (check_seqs) and decides. */
        rc = 1;
    } else if (r->type == REDIS_REPLY_ERROR) {
        if (!had_error)
            snprintf(err, errlen, "redis: EXEC: %s", r->str);
        rc = -1;
    } else if (r->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errlen, "redis: EXEC: unexpected reply");
        rc = -1;
    } else {
        /* Redis does not roll back a command that fails inside EXEC (e.g.
         * WRONGTYPE on a key someone else wrote). The checkpoint moved,
         * so the caller's retry sees a conflict and reloads it. */
        for (size_t i = 0; i < r->elements; i++) {
            if (r->element[i]->type == REDIS_REPLY_ERROR) {
                snprintf(err, errlen, "redis: command %zu of the transaction failed: %s", i + 1,
                         r->element[i]->str);
                rc = -1;
                break;
            }
        }
    }
    freeReplyObject(r);
    csm_delta_writer_done(s->writer, rc == 0);
    return rc;
}
