/* Exactly-once writes: the deltas of a flush and the checkpoint that says
 * which offsets they cover commit in one MULTI/EXEC, guarded by WATCH and
 * an explicit sequence number, so a writer that lost its partition (or a
 * Redis that lost data) can never apply deltas twice. Commands are
 * pipelined: a flush costs two round trips whatever its size. */
#include "redis_store.h"
#include "ckpt_store.h"
#include "delta_writer.h"
#include "redis_conn.h"
#include "time_bounds.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

/* A flush in flight (csm_redis_flush_start): which round trip, how many of
 * its replies came, and the outcome once known. */
enum { FL_IDLE, FL_CHECK, FL_UNWATCH, FL_EXEC, FL_DONE };
typedef struct csm_redis_flight {
    int state;
    csm_flush_part *parts;
    size_t n;
    size_t got, expect; /* replies of the current round trip */
    size_t next_part;   /* the part whose HMGET reply comes next */
    int had_error, conflict, want_write;
    size_t written; /* bytes of the output buffer already sent */
    int pending_rc; /* the outcome, once UNWATCH is answered */
    int rc;
    int64_t progress_ms; /* last time bytes moved */
    char err[512];
} csm_redis_flight;

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
    csm_redis_flight fl;
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

static void settle_io(csm_redis_store *s);

struct redisContext *csm_redis_store_context(csm_redis_store *s, char *err, size_t errlen)
{
    settle_io(s);
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
    settle_io(s);
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

int csm_redis_store_ping(csm_redis_store *s, char *err, size_t errlen)
{
    settle_io(s);
    if (ensure(s, err, errlen))
        return -1;
    redisReply *r = redisCommand(s->c, "PING");
    if (!r)
        return io_error(s, "PING", err, errlen);
    int rc = r->type == REDIS_REPLY_ERROR ? -1 : 0;
    if (rc)
        snprintf(err, errlen, "redis %s:%d: PING: %s", s->host, s->port, r->str);
    s->healthy = !rc;
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

/* ---- the flush in flight ----
 * A flush is two pipelined round trips: WATCH + each checkpoint's
 * HMGET seq writer, then (if every seq is as expected) MULTI, the
 * deltas, the checkpoints, EXEC. While they travel the socket is
 * non-blocking and the caller goes on with its work, calling
 * csm_redis_flush_poll() now and then; the second round trip is composed
 * from the parts once the first one's replies are in, so the parts (and
 * what they point to) must stay unchanged until the outcome is taken. */

static void set_nonblocking(redisContext *c, int on)
{
    int fl = fcntl(c->fd, F_GETFL);
    if (fl >= 0)
        fcntl(c->fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
    /* hiredis treats EAGAIN as an error on a blocking context. */
    if (on)
        c->flags &= ~REDIS_BLOCK;
    else
        c->flags |= REDIS_BLOCK;
}

static int in_io(const csm_redis_flight *f)
{
    return f->state == FL_CHECK || f->state == FL_UNWATCH || f->state == FL_EXEC;
}

static void finish(csm_redis_store *s, int rc)
{
    csm_redis_flight *f = &s->fl;
    f->rc = rc;
    f->state = FL_DONE;
    if (s->c)
        set_nonblocking(s->c, 0);
}

static void fail_io(csm_redis_store *s, const char *what)
{
    io_error(s, what, s->fl.err, sizeof s->fl.err);
    finish(s, -1);
}

static const char *phase_name(const csm_redis_flight *f)
{
    return f->state == FL_CHECK ? "WATCH" : f->state == FL_UNWATCH ? "UNWATCH" : "EXEC";
}

/* Keeps the first error reply's text. */
static void note_error(csm_redis_flight *f, const char *fmt, const char *a, const char *b)
{
    if (f->had_error)
        return;
    f->had_error = 1;
    snprintf(f->err, sizeof f->err, fmt, a, b);
}

static void append_check(csm_redis_store *s, int *bad)
{
    csm_redis_flight *f = &s->fl;
    size_t nk = 0;
    for (size_t i = 0; i < f->n; i++)
        nk += f->parts[i].ckpt_key != NULL;
    const char **argv = malloc((nk + 1) * sizeof *argv);
    if (!argv)
        abort();
    argv[0] = "WATCH";
    for (size_t i = 0, k = 1; i < f->n; i++)
        if (f->parts[i].ckpt_key)
            argv[k++] = f->parts[i].ckpt_key;
    *bad = append(s, (int)nk + 1, argv, NULL);
    free(argv);
    for (size_t i = 0; i < f->n && !*bad; i++) {
        if (!f->parts[i].ckpt_key)
            continue;
        const char *hm[4] = {"HMGET", f->parts[i].ckpt_key, "seq", "writer"};
        *bad = append(s, 4, hm, NULL);
    }
    f->expect = nk + 1;
}

/* MULTI, every part's deltas and checkpoint, EXEC; -1 if not queued. */
static int append_transaction(csm_redis_store *s)
{
    csm_redis_flight *f = &s->fl;
    const char *multi[1] = {"MULTI"};
    if (append(s, 1, multi, NULL))
        return -1;
    pipe_ctx pc = {s, 0, 0};
    append_deltas(&pc, f->parts, f->n);
    size_t queued = pc.queued;
    for (size_t i = 0; i < f->n && !pc.failed; i++) {
        const csm_flush_part *p = &f->parts[i];
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
        return -1;
    /* MULTI's +OK, every +QUEUED, then EXEC's array. */
    f->expect = 1 + queued + 1;
    return 0;
}

static void start_transaction(csm_redis_store *s)
{
    csm_redis_flight *f = &s->fl;
    f->state = FL_EXEC;
    f->got = 0;
    f->had_error = 0;
    if (append_transaction(s))
        fail_io(s, "MULTI");
}

/* The seq and writer of the next part that has a checkpoint. */
static void check_reply(csm_redis_store *s, const redisReply *r)
{
    csm_redis_flight *f = &s->fl;
    if (f->got == 0) { /* WATCH */
        if (r->type == REDIS_REPLY_ERROR)
            note_error(f, "redis: %s%s", r->str, "");
        return;
    }
    while (!f->parts[f->next_part].ckpt_key)
        f->next_part++;
    csm_flush_part *p = &f->parts[f->next_part++];
    uint64_t seq = 0;
    if (r->type == REDIS_REPLY_ERROR)
        note_error(f, "redis: HMGET %s: %s", p->ckpt_key, r->str);
    else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
             (r->element[0]->type != REDIS_REPLY_NIL && parse_u64(r->element[0], &seq)))
        note_error(f, "redis: checkpoint %s has a malformed seq%s", p->ckpt_key, "");
    else if (seq != p->expected_seq) {
        classify(s, p, seq, r->element[1]);
        f->conflict = 1;
    }
}

static void check_done(csm_redis_store *s)
{
    csm_redis_flight *f = &s->fl;
    if (!f->had_error && !f->conflict) {
        start_transaction(s);
        return;
    }
    if (f->conflict) /* someone else writes here, or Redis lost data */
        csm_delta_writer_forget(s->writer);
    const char *un[1] = {"UNWATCH"};
    f->pending_rc = f->had_error ? -1 : 1;
    f->state = FL_UNWATCH;
    f->got = 0;
    f->expect = 1;
    if (append(s, 1, un, NULL))
        fail_io(s, "UNWATCH");
}

/* EXEC's reply: the outcome. */
static int exec_outcome(csm_redis_store *s, const redisReply *r)
{
    csm_redis_flight *f = &s->fl;
    if (r->type == REDIS_REPLY_NIL) {
        /* A watched checkpoint changed between our check and EXEC; nothing
         * was written. No part is flagged: the caller's immediate retry
         * reads who wrote what and decides. */
        return 1;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        note_error(f, "redis: EXEC: %s%s", r->str, "");
        return -1;
    }
    if (r->type != REDIS_REPLY_ARRAY) {
        snprintf(f->err, sizeof f->err, "redis: EXEC: unexpected reply");
        return -1;
    }
    /* Redis does not roll back a command that fails inside EXEC (e.g.
     * WRONGTYPE on a key someone else wrote). The checkpoint moved, so
     * the caller's retry sees a conflict and reloads it. */
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_ERROR) {
            snprintf(f->err, sizeof f->err, "redis: command %zu of the transaction failed: %s",
                     i + 1, r->element[i]->str);
            return -1;
        }
    return f->had_error ? -1 : 0;
}

static void take_reply(csm_redis_store *s, redisReply *r)
{
    csm_redis_flight *f = &s->fl;
    int last = f->got + 1 == f->expect;
    if (f->state == FL_CHECK) {
        check_reply(s, r);
        f->got++;
        if (last)
            check_done(s);
    } else if (f->state == FL_UNWATCH) {
        finish(s, f->pending_rc);
    } else if (!last) {
        /* MULTI's +OK and every +QUEUED; an error here (a malformed
         * command) makes Redis discard the whole transaction at EXEC. */
        if (r->type == REDIS_REPLY_ERROR)
            note_error(f, "redis: %s%s", r->str, "");
        f->got++;
    } else {
        s->healthy = 1;
        int rc = exec_outcome(s, r);
        csm_delta_writer_done(s->writer, rc == 0);
        finish(s, rc);
    }
}

/* Writes what the socket takes, from where the last write stopped.
 * hiredis's own redisBufferWrite() moves the rest of its buffer to the
 * front after every partial write: a flush of megabytes, written in
 * socket-sized pieces, would be copied over and over. 0, or -1 when the
 * flight failed. */
static int write_some(csm_redis_store *s)
{
    csm_redis_flight *f = &s->fl;
    redisContext *c = s->c;
    size_t len = sdslen(c->obuf);
    while (f->written < len) {
        ssize_t n = write(c->fd, c->obuf + f->written, len - f->written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            snprintf(c->errstr, sizeof c->errstr, "%s", n < 0 ? strerror(errno) : "write failed");
            fail_io(s, phase_name(f));
            return -1;
        }
        f->written += (size_t)n;
        f->progress_ms = csm_monotonic_ms();
    }
    if (len && f->written == len) {
        sdsclear(c->obuf); /* keeps the memory for the next flush */
        f->written = 0;
    }
    f->want_write = sdslen(c->obuf) > 0;
    return 0;
}

/* Writes what the socket takes and handles every reply that arrived.
 * -1 when the flight ended in a transport failure. */
static int exchange(csm_redis_store *s)
{
    csm_redis_flight *f = &s->fl;
    if (write_some(s))
        return -1;
    while (in_io(f)) {
        redisReply *r = NULL;
        if (redisGetReplyFromReader(s->c, (void **)&r) != REDIS_OK) {
            fail_io(s, phase_name(f));
            return -1;
        }
        if (!r)
            break;
        take_reply(s, r);
        freeReplyObject(r);
        if (in_io(f) && write_some(s))
            return -1;
    }
    return 0;
}

/* Reads what arrived within @p ms (0: only what is there). 1 progress,
 * 0 none, -1 the flight failed. */
static int wait_socket(csm_redis_store *s, int ms)
{
    csm_redis_flight *f = &s->fl;
    struct pollfd p = {s->c->fd, (short)(POLLIN | (f->want_write ? POLLOUT : 0)), 0};
    int n = poll(&p, 1, ms);
    if (n < 0 && errno != EINTR) {
        fail_io(s, phase_name(f));
        return -1;
    }
    if (n <= 0)
        return 0;
    f->progress_ms = csm_monotonic_ms();
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && redisBufferRead(s->c) != REDIS_OK) {
        fail_io(s, phase_name(f));
        return -1;
    }
    return 1;
}

/* Moves the flight on. redis.timeout bounds the time without progress,
 * like the socket timeout of a blocking call; @p block waits for the
 * outcome, else only what the socket has now is taken. */
static void pump(csm_redis_store *s, int block)
{
    csm_redis_flight *f = &s->fl;
    int limit = s->timeout_ms > 0 ? s->timeout_ms : 2000;
    while (in_io(f)) {
        if (exchange(s) || !in_io(f))
            return;
        int got = wait_socket(s, 0);
        if (got)
            continue;
        int64_t left = limit - (csm_monotonic_ms() - f->progress_ms);
        if (left <= 0) {
            snprintf(f->err, sizeof f->err,
                     "redis %s:%d: %s: timed out after %d ms (redis.timeout)", s->host, s->port,
                     phase_name(f), limit);
            drop(s);
            finish(s, -1);
            return;
        }
        if (!block || wait_socket(s, (int)left) < 0)
            return;
    }
}

static void settle_io(csm_redis_store *s)
{
    if (in_io(&s->fl))
        pump(s, 1);
}

int csm_redis_flush_start(csm_redis_store *s, csm_flush_part *parts, size_t n)
{
    csm_redis_flight *f = &s->fl;
    if (f->state != FL_IDLE)
        return -1;
    for (size_t i = 0; i < n; i++) {
        parts[i].conflict = parts[i].landed = parts[i].stored_by_us = 0;
        parts[i].stored_seq = 0;
    }
    *f = (csm_redis_flight){.parts = parts, .n = n, .progress_ms = csm_monotonic_ms()};
    s->commands = 0;
    if (ensure(s, f->err, sizeof f->err)) {
        finish(s, -1);
        return 0;
    }
    set_nonblocking(s->c, 1);
    size_t nk = 0;
    for (size_t i = 0; i < n; i++)
        nk += parts[i].ckpt_key != NULL;
    if (!nk) { /* no checkpoint to guard (offline replay) */
        start_transaction(s);
    } else {
        f->state = FL_CHECK;
        int bad = 0;
        append_check(s, &bad);
        if (bad)
            fail_io(s, "WATCH");
    }
    pump(s, 0);
    return 0;
}

int csm_redis_flush_poll(csm_redis_store *s, int block, char *err, size_t errlen)
{
    csm_redis_flight *f = &s->fl;
    if (f->state == FL_IDLE)
        return 0;
    pump(s, block);
    if (f->state != FL_DONE)
        return 2;
    if (f->rc < 0)
        snprintf(err, errlen, "%s", f->err);
    f->state = FL_IDLE;
    return f->rc;
}

int csm_redis_flush_busy(const csm_redis_store *s)
{
    return s->fl.state != FL_IDLE;
}

int csm_redis_flush(csm_redis_store *s, csm_flush_part *parts, size_t n, char *err, size_t errlen)
{
    if (csm_redis_flush_start(s, parts, n)) {
        snprintf(err, errlen, "a flush is still in flight");
        return -1;
    }
    return csm_redis_flush_poll(s, 1, err, errlen);
}
