/* The exactly-once writer against a real redis-server started here, and
 * the report's reading of what it wrote. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "deltas.h"
#include "ckpt_store.h"
#include "redis_store.h"
#include "report.h"

static pid_t server_pid = -1;
static int server_port;

static const char *redis_server_path(void)
{
    const char *env = getenv("CSM_REDIS_SERVER");
    if (env && *env)
        return env;
    return "/usr/bin/redis-server";
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
        getsockname(fd, (struct sockaddr *)&a, &len)) {
        perror("free port");
        exit(1);
    }
    close(fd);
    return ntohs(a.sin_port);
}

static redisContext *raw_connect(void)
{
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", server_port, tv);
    if (c && c->err) {
        redisFree(c);
        return NULL;
    }
    return c;
}

static void start_server(void)
{
    const char *bin = redis_server_path();
    if (access(bin, X_OK)) {
        fprintf(stderr,
                "test_redis_store: %s not found or not executable; install redis-server "
                "or set CSM_REDIS_SERVER\n",
                bin);
        exit(1);
    }
    char port[16];
    snprintf(port, sizeof port, "%d", server_port);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        /* No stray server if this test crashes. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* Its start-up banner would bury the test output. */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        execl(bin, bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
              "--loglevel", "warning", (char *)NULL);
        _exit(127);
    }
    server_pid = pid;
    for (int i = 0; i < 500; i++) {
        redisContext *c = raw_connect();
        if (c) {
            redisReply *r = redisCommand(c, "PING");
            int ok = r && r->type == REDIS_REPLY_STATUS;
            freeReplyObject(r);
            redisFree(c);
            if (ok)
                return;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            fprintf(stderr, "test_redis_store: redis-server exited at start\n");
            exit(1);
        }
        usleep(10000);
    }
    fprintf(stderr, "test_redis_store: redis-server did not answer PING within 5 s\n");
    kill(pid, SIGKILL);
    exit(1);
}

static void stop_server(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, NULL, 0);
        server_pid = -1;
    }
}

static redisContext *raw;

static redisReply *cmd(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(raw, fmt, ap);
    va_end(ap);
    assert_non_null(r);
    return r;
}

static long long cmd_int(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(raw, fmt, ap);
    va_end(ap);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

static void assert_hget(const char *key, const char *field, const char *want)
{
    redisReply *r = cmd("HGET %s %s", key, field);
    if (!want) {
        assert_int_equal(r->type, REDIS_REPLY_NIL);
    } else {
        assert_int_equal(r->type, REDIS_REPLY_STRING);
        assert_string_equal(r->str, want);
    }
    freeReplyObject(r);
}

static int setup(void **state)
{
    (void)state;
    freeReplyObject(cmd("FLUSHALL"));
    return 0;
}

static csm_redis_store *open_store(void)
{
    csm_redis_config cfg = {.host = "127.0.0.1", .port = server_port, .timeout_ms = 1000};
    char err[256] = "";
    csm_redis_store *s = csm_redis_store_open(&cfg, err, sizeof err);
    if (!s)
        fail_msg("open: %s", err);
    return s;
}

#define DAY 20779 /* 2026-11-22 */
#define NONE CSM_INTERN_NONE
#define FAR 4102444800 /* 2100-01-01: an expiry that stays in the future */

static uint32_t id(csm_deltas *d, const char *s)
{
    return csm_intern_id(csm_deltas_names(d), s);
}

/* Adds to field of the shop's hash of kind (board, allday) of DAY. */
static void hincr(csm_deltas *d, csm_key_kind kind, const char *shop, const char *field,
                  int64_t delta, int64_t expire_at)
{
    csm_dkey k = {kind, id(d, shop), DAY, NONE};
    csm_deltas_hincr(d, &k, id(d, field), NONE, -1, delta, expire_at);
}

static void sadd(csm_deltas *d, csm_key_kind kind, const char *shop, const char *name,
                 const char *member, int64_t expire_at)
{
    csm_dkey k = {kind, id(d, shop), DAY, name ? id(d, name) : NONE};
    csm_deltas_sadd_str(d, &k, member, expire_at);
}

static const char state_bytes[] = {'s', 0, 't', '\xff', 0, 'e'};

static void test_flush_writes_atomically(void **state)
{
    (void)state;
    csm_redis_store *s = open_store();
    csm_deltas *d = csm_deltas_new("t");
    hincr(d, CSM_KEY_BOARD, "s1", "rated", 2, FAR);
    hincr(d, CSM_KEY_BOARD, "s1", "rated", 1, FAR);
    sadd(d, CSM_KEY_SET, "s1", "aftersale_seekers", "c1", FAR);
    const char *fv[] = {"type", "DISSATISFIED", "figure", "2"};
    csm_dkey alerts = {CSM_KEY_ALERTS, id(d, "s1"), 0, NONE};
    csm_deltas_xadd(d, &alerts, 2, fv, 4);
    csm_deltas_xadd(d, &alerts, 2, fv, 4);
    csm_deltas_xadd(d, &alerts, 2, fv, 4);

    csm_flush_part p = {.ckpt_key = "t:ckpt:g:0",
                        .expected_seq = 0,
                        .chat_offset = 41,
                        .order_offset = 7,
                        .deltas = d};
    char err[256] = "";
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 0);
    assert_int_equal(p.conflict, 0);
    assert_true(csm_redis_store_healthy(s));
    /* WATCH, HMGET, MULTI, HINCRBY, EXPIREAT, SADD, EXPIREAT, 3 XADD, HSET,
     * EXEC */
    assert_int_equal(csm_redis_store_commands(s), 12);

    assert_hget("t:{s1}:board:2026-11-22", "rated", "3");
    assert_int_equal(cmd_int("SCARD t:{s1}:set:2026-11-22:aftersale_seekers"), 1);
    assert_int_equal(cmd_int("XLEN t:{s1}:alerts"), 2); /* exact MAXLEN */
    assert_int_equal(cmd_int("EXPIRETIME t:{s1}:board:2026-11-22"), FAR);
    assert_int_equal(cmd_int("EXPIRETIME t:{s1}:set:2026-11-22:aftersale_seekers"), FAR);
    assert_int_equal(cmd_int("TTL t:{s1}:alerts"), -1);
    assert_hget("t:ckpt:g:0", "seq", "1");
    assert_hget("t:ckpt:g:0", "chat_offset", "41");
    assert_int_equal(cmd_int("TTL t:ckpt:g:0"), -1);

    /* The next flush continues from seq 1. */
    csm_deltas_clear(d);
    hincr(d, CSM_KEY_BOARD, "s1", "rated", 10, FAR);
    p.expected_seq = 1;
    p.chat_offset = 50;
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 0);
    assert_hget("t:{s1}:board:2026-11-22", "rated", "13");
    assert_hget("t:ckpt:g:0", "seq", "2");
    /* The expiry is written: WATCH HMGET MULTI HINCRBY HSET EXEC */
    assert_int_equal(csm_redis_store_commands(s), 6);

    /* Offline replay: no checkpoint, deltas only. */
    csm_flush_part off = {.deltas = d};
    assert_int_equal(csm_redis_flush(s, &off, 1, err, sizeof err), 0);
    assert_hget("t:{s1}:board:2026-11-22", "rated", "23");
    assert_int_equal(csm_redis_store_commands(s), 3); /* MULTI HINCRBY EXEC */
    assert_int_equal(cmd_int("EXPIRETIME t:{s1}:board:2026-11-22"), FAR);

    csm_deltas_free(d);
    csm_redis_store_close(s);
}

/* Collects a section's fields as "field=value" lines, sorted. */
typedef struct seen {
    char lines[8][64];
    int n;
} seen;

static int collect(void *arg, const char *f, size_t flen, const void *v, size_t vlen)
{
    seen *s = arg;
    if (s->n < 8)
        snprintf(s->lines[s->n++], 64, "%.*s=%zu", (int)flen, f, vlen);
    return 0;
}

static void test_checkpoint_roundtrip(void **state)
{
    (void)state;
    csm_redis_store *s = open_store();
    char err[256] = "";
    csm_checkpoint ck;
    assert_int_equal(csm_redis_load_checkpoint(s, "t:ckpt:g:3", &ck, err, sizeof err), 0);
    assert_int_equal(ck.found, 0);

    csm_ckpt_batch b = {0};
    uint16_t core = csm_ckpt_batch_section(&b, ""), rec = csm_ckpt_batch_section(&b, "state:p");
    csm_ckpt_batch_hset(&b, core, "engine", state_bytes, sizeof state_bytes);
    csm_ckpt_batch_hset(&b, rec, "7", state_bytes, sizeof state_bytes);
    csm_ckpt_batch_hdel(&b, rec, "8");
    csm_ckpt_keys keys;
    assert_int_equal(csm_ckpt_keys_init(&keys, "t", "t:ckpt:g:3"), 0);
    csm_deltas *d = csm_deltas_new("t");
    csm_flush_part parts[2] = {
        {.ckpt_key = "t:ckpt:g:3",
         .chat_offset = 1234567890123,
         .order_offset = -1,
         .batch = &b,
         .keys = &keys,
         .state_epoch = 5,
         .deltas = d},
        {.ckpt_key = "t:ckpt:g:4", .chat_offset = 5, .order_offset = 6, .deltas = d},
    };
    hincr(d, CSM_KEY_ALLDAY, "s2", "sessions_started", 1, 0);
    freeReplyObject(cmd("HSET t:{t:ckpt:g:3}:state:p 8 gone"));
    assert_int_equal(csm_redis_flush(s, parts, 2, err, sizeof err), 0);
    /* The same deltas object in two parts is written twice. */
    assert_hget("t:{s2}:allday:2026-11-22", "sessions_started", "2");

    assert_int_equal(csm_redis_load_checkpoint(s, "t:ckpt:g:3", &ck, err, sizeof err), 0);
    assert_int_equal(ck.found, 1);
    assert_int_equal(ck.chat_offset, 1234567890123);
    assert_int_equal(ck.order_offset, -1);
    assert_int_equal(ck.seq, 1);
    /* The records sit in a hash tagged with the checkpoint key; binary
     * values survive; the deleted field is gone. */
    csm_ckpt_redis rs = {s, &keys};
    csm_ckpt_source src = csm_ckpt_store_source(&rs);
    seen got = {0};
    assert_int_equal(src.scan(src.arg, "state:p", collect, &got, err, sizeof err), 0);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.lines[0], "7=6");
    redisReply *r = cmd("HGET t:{t:ckpt:g:3}:state:p 7");
    assert_int_equal(r->len, sizeof state_bytes);
    assert_memory_equal(r->str, state_bytes, sizeof state_bytes);
    freeReplyObject(r);
    r = cmd("HGET t:ckpt:g:3 engine");
    assert_int_equal(r->len, sizeof state_bytes);
    freeReplyObject(r);

    /* No batch: the checkpoint holds offsets and seq only. */
    assert_int_equal(csm_redis_load_checkpoint(s, "t:ckpt:g:4", &ck, err, sizeof err), 0);
    assert_int_equal(ck.found, 1);
    assert_int_equal(ck.seq, 1);
    assert_int_equal(cmd_int("HEXISTS t:ckpt:g:4 engine"), 0);

    csm_ckpt_batch_free(&b);
    csm_deltas_free(d);
    csm_redis_store_close(s);
}

/* An idle tick's flush leaves out offsets the stored checkpoint already
 * holds: they stay as stored (here changed behind its back, to show they
 * are not written), while seq still moves under the guard. */
static void test_stored_offsets_left_out(void **state)
{
    (void)state;
    csm_redis_store *s = open_store();
    char err[256] = "";
    csm_flush_part p = {.ckpt_key = "t:ckpt:g:0", .chat_offset = 10, .order_offset = 20};
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 0);
    freeReplyObject(cmd("HSET t:ckpt:g:0 chat_offset 11"));
    p = (csm_flush_part){.ckpt_key = "t:ckpt:g:0",
                         .expected_seq = 1,
                         .chat_offset = 10,
                         .order_offset = 20,
                         .offsets_stored = 1,
                         .clock = 5};
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 0);
    assert_hget("t:ckpt:g:0", "chat_offset", "11");
    assert_hget("t:ckpt:g:0", "order_offset", "20");
    assert_hget("t:ckpt:g:0", "seq", "2");
    assert_hget("t:ckpt:g:0", "clock", "5");
    csm_redis_store_close(s);
}

/* Pipelined loading: per checkpoint its offsets, then every section sent
 * ahead; a read takes the reply it asks for and drops those before it (a
 * section the load skips, the rest of an earlier checkpoint). */
static void test_prefetch_reads_in_order(void **state)
{
    (void)state;
    freeReplyObject(cmd("HSET t:ckpt:g:1 chat_offset 7 order_offset 8 seq 3 engine e1"));
    freeReplyObject(cmd("HSET t:{t:ckpt:g:1}:state:a 1 x"));
    freeReplyObject(cmd("HSET t:{t:ckpt:g:1}:state:b 2 yy 3 zzz"));
    freeReplyObject(cmd("HSET t:ckpt:g:2 chat_offset 70 order_offset 80 seq 30"));
    freeReplyObject(cmd("HSET t:{t:ckpt:g:2}:dedup 4 wwww"));
    csm_ckpt_keys k1, k2;
    assert_int_equal(csm_ckpt_keys_init(&k1, "t", "t:ckpt:g:1"), 0);
    assert_int_equal(csm_ckpt_keys_init(&k2, "t", "t:ckpt:g:2"), 0);
    const char sections[][CSM_CKPT_SECTION_MAX] = {"", "state:a", "state:b", "buffer", "dedup"};
    csm_redis_config cfg = {.host = "127.0.0.1", .port = server_port, .timeout_ms = 1000};
    char err[256] = "";
    csm_ckpt_prefetch pf;
    assert_int_equal(csm_ckpt_prefetch_open(&pf, &cfg, err, sizeof err), 0);
    assert_int_equal(csm_ckpt_prefetch_send(&pf, &k1, sections, 5), 0);
    assert_int_equal(csm_ckpt_prefetch_send(&pf, &k2, sections, 5), 0);

    csm_checkpoint ck;
    assert_int_equal(csm_ckpt_prefetch_head(&pf, &k1, &ck, err, sizeof err), 0);
    assert_int_equal(ck.found, 1);
    assert_int_equal(ck.chat_offset, 7);
    assert_int_equal(ck.order_offset, 8);
    assert_int_equal(ck.seq, 3);
    csm_ckpt_prefetched src1 = {&pf, &k1};
    csm_ckpt_source s1 = csm_ckpt_prefetch_source(&src1);
    seen got = {0};
    assert_int_equal(s1.scan(s1.arg, "state:b", collect, &got, err, sizeof err), 0);
    assert_int_equal(got.n, 2);
    /* k1's buffer and dedup are dropped on the way to k2's offsets. */
    assert_int_equal(csm_ckpt_prefetch_head(&pf, &k2, &ck, err, sizeof err), 0);
    assert_int_equal(ck.seq, 30);
    csm_ckpt_prefetched src2 = {&pf, &k2};
    csm_ckpt_source s2 = csm_ckpt_prefetch_source(&src2);
    got.n = 0;
    assert_int_equal(s2.scan(s2.arg, "dedup", collect, &got, err, sizeof err), 0);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.lines[0], "4=4");
    /* Nothing is left on its way: a read that was not sent ahead fails
     * (the caller retries one by one). */
    assert_int_equal(s1.scan(s1.arg, "state:a", collect, &got, err, sizeof err), -1);
    assert_non_null(strstr(err, "was not read ahead"));
    csm_ckpt_prefetch_close(&pf);
}

static void test_seq_conflict_writes_nothing(void **state)
{
    (void)state;
    csm_redis_store *s = open_store();
    char err[256] = "";
    freeReplyObject(cmd("HSET t:ckpt:g:1 seq 5 chat_offset 9 order_offset 9 state x"));
    csm_deltas *d = csm_deltas_new("t");
    hincr(d, CSM_KEY_BOARD, "s1", "rated", 1, 0);
    csm_flush_part parts[2] = {
        {.ckpt_key = "t:ckpt:g:0", .expected_seq = 0, .deltas = d},
        {.ckpt_key = "t:ckpt:g:1", .expected_seq = 4, .deltas = d},
    };
    assert_int_equal(csm_redis_flush(s, parts, 2, err, sizeof err), 1);
    assert_int_equal(parts[0].conflict, 0);
    assert_int_equal(parts[1].conflict, 1);
    assert_int_equal(cmd_int("EXISTS t:{s1}:board:2026-11-22 t:ckpt:g:0"), 0);
    assert_hget("t:ckpt:g:1", "seq", "5");

    /* A checkpoint we expect but that is gone (Redis lost data). */
    parts[1].expected_seq = 5;
    parts[0].expected_seq = 3;
    assert_int_equal(csm_redis_flush(s, parts, 2, err, sizeof err), 1);
    assert_int_equal(parts[0].conflict, 1);
    assert_int_equal(parts[1].conflict, 0);
    assert_int_equal(cmd_int("EXISTS t:{s1}:board:2026-11-22 t:ckpt:g:0"), 0);

    /* The connection is still usable and unwatched afterwards. */
    parts[0].expected_seq = 0;
    assert_int_equal(csm_redis_flush(s, parts, 2, err, sizeof err), 0);
    assert_hget("t:{s1}:board:2026-11-22", "rated", "2");
    assert_hget("t:ckpt:g:1", "seq", "6");

    /* A wrong-typed checkpoint is an error, not a conflict. */
    freeReplyObject(cmd("SET t:ckpt:g:9 oops"));
    csm_flush_part bad = {.ckpt_key = "t:ckpt:g:9", .deltas = d};
    assert_int_equal(csm_redis_flush(s, &bad, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "WRONGTYPE"));
    assert_int_equal(csm_redis_flush(s, parts, 2, err, sizeof err), 1); /* seqs moved */

    csm_deltas_free(d);
    csm_redis_store_close(s);
}

static void test_connection_error_then_recovery(void **state)
{
    (void)state;
    csm_redis_store *s = open_store();
    char err[256] = "";
    csm_deltas *d = csm_deltas_new("t");
    hincr(d, CSM_KEY_BOARD, "s1", "rated", 1, 0);
    csm_flush_part p = {.ckpt_key = "t:ckpt:g:0", .deltas = d};

    redisFree(raw);
    raw = NULL;
    stop_server();
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), -1);
    assert_true(err[0] != '\0');
    assert_false(csm_redis_store_healthy(s));
    csm_checkpoint ck;
    assert_int_equal(csm_redis_load_checkpoint(s, "t:ckpt:g:0", &ck, err, sizeof err), -1);

    start_server();
    raw = raw_connect();
    assert_non_null(raw);
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 0);
    assert_true(csm_redis_store_healthy(s));
    assert_hget("t:{s1}:board:2026-11-22", "rated", "1");
    assert_int_equal(csm_redis_load_checkpoint(s, "t:ckpt:g:0", &ck, err, sizeof err), 0);
    assert_int_equal(ck.seq, 1);

    /* Opening against a dead server fails with a message. */
    stop_server();
    csm_redis_config cfg = {.host = "127.0.0.1", .port = server_port, .timeout_ms = 500};
    assert_null(csm_redis_store_open(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "connect"));
    start_server();
    redisFree(raw);
    raw = raw_connect();

    csm_deltas_free(d);
    csm_redis_store_close(s);
}

static void test_auth_and_db(void **state)
{
    (void)state;
    freeReplyObject(cmd("ACL SETUSER csmtest on >pw ~* &* +@all"));
    csm_redis_config cfg = {.host = "127.0.0.1",
                            .port = server_port,
                            .timeout_ms = 1000,
                            .username = "csmtest",
                            .password = "pw",
                            .db = 3};
    char err[256] = "";
    csm_redis_store *s = csm_redis_store_open(&cfg, err, sizeof err);
    if (!s)
        fail_msg("open: %s", err);
    csm_deltas *d = csm_deltas_new("t");
    hincr(d, CSM_KEY_BOARD, "s1", "f", 1, 0);
    csm_flush_part p = {.deltas = d};
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 0);
    freeReplyObject(cmd("SELECT 3"));
    assert_hget("t:{s1}:board:2026-11-22", "f", "1");
    freeReplyObject(cmd("SELECT 0"));
    csm_redis_store_close(s);

    cfg.password = "wrong";
    assert_null(csm_redis_store_open(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "AUTH"));
    csm_deltas_free(d);
}

/* Redis answering "no" to the configuration is final; not answering is not. */
static void test_refusals_are_fatal(void **state)
{
    (void)state;
    freeReplyObject(cmd("ACL SETUSER csmtest on >pw ~* &* +@all"));
    csm_redis_config cfg = {.host = "127.0.0.1",
                            .port = server_port,
                            .timeout_ms = 1000,
                            .username = "csmtest",
                            .password = "wrong"};
    char err[512] = "";
    int refused = -1;
    assert_null(csm_redis_store_try_open(&cfg, &refused, err, sizeof err));
    assert_int_equal(refused, 1);
    assert_non_null(strstr(err, "AUTH: WRONGPASS"));
    assert_non_null(strstr(err, "check redis.password"));

    cfg.username = "nobody";
    refused = -1;
    assert_null(csm_redis_store_try_open(&cfg, &refused, err, sizeof err));
    assert_int_equal(refused, 1);

    /* The test server has the default 16 databases: 0..15. */
    cfg.username = NULL;
    cfg.password = NULL;
    cfg.db = 99;
    refused = -1;
    assert_null(csm_redis_store_try_open(&cfg, &refused, err, sizeof err));
    assert_int_equal(refused, 1);
    assert_non_null(strstr(err, "SELECT: ERR DB index is out of range (check redis.db)"));

    /* A password is required but none is configured: NOAUTH at the PING. */
    cfg.db = 0;
    freeReplyObject(cmd("CONFIG SET requirepass sesame"));
    refused = -1;
    csm_redis_store *s = csm_redis_store_try_open(&cfg, &refused, err, sizeof err);
    freeReplyObject(cmd("CONFIG SET requirepass %s", ""));
    assert_null(s);
    assert_int_equal(refused, 1);
    assert_non_null(strstr(err, "NOAUTH"));
    assert_non_null(strstr(err, "check redis.password"));

    /* Nothing listening: retry, not fatal. */
    cfg.port = free_port();
    refused = -1;
    assert_null(csm_redis_store_try_open(&cfg, &refused, err, sizeof err));
    assert_int_equal(refused, 0);
    assert_non_null(strstr(err, "connect"));
}

/* A server that stops answering: the error says it timed out, and after
 * how long, instead of hiredis's "Resource temporarily unavailable". */
static void test_timeout_is_named(void **state)
{
    (void)state;
    csm_redis_config cfg = {.host = "127.0.0.1", .port = server_port, .timeout_ms = 200};
    char err[512] = "";
    csm_redis_store *s = csm_redis_store_open(&cfg, err, sizeof err);
    assert_non_null(s);
    csm_deltas *d = csm_deltas_new("t");
    hincr(d, CSM_KEY_BOARD, "s1", "f", 1, 0);
    csm_flush_part p = {.ckpt_key = "t:ckpt:g:0", .deltas = d};
    kill(server_pid, SIGSTOP);
    int rc = csm_redis_flush(s, &p, 1, err, sizeof err);
    kill(server_pid, SIGCONT);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "timed out after 200 ms"));
    assert_null(strstr(err, "Resource temporarily unavailable"));
    csm_deltas_free(d);
    csm_redis_store_close(s);
}

/* The process's own EXEC applied but its reply was lost: the retry of the
 * same flush (same expected seq, same deltas) finds its own write and says
 * so (landed) instead of reporting another owner, and writes nothing twice.
 * Once deltas were added since, or another process wrote, it is a
 * conflict, and the part says who wrote. */
static void test_own_lost_reply_is_recognised(void **state)
{
    (void)state;
    csm_redis_store *s = open_store();
    char err[256] = "";
    csm_deltas *d = csm_deltas_new("t");
    hincr(d, CSM_KEY_BOARD, "s1", "rated", 5, 0);
    csm_flush_part p = {.ckpt_key = "t:ckpt:g:0", .expected_seq = 0, .deltas = d};
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 0);
    /* The caller never saw that reply: it tries the same flush again. */
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 1);
    assert_int_equal(p.landed, 1);
    assert_int_equal(p.conflict, 0);
    assert_int_equal(p.stored_seq, 1);
    assert_int_equal(p.stored_by_us, 1);
    assert_hget("t:{s1}:board:2026-11-22", "rated", "5");
    assert_hget("t:ckpt:g:0", "seq", "1");

    /* Same lost reply, but the partition's state changed since without a
     * delta (a timer, an entry): the state epoch tells. */
    p.state_epoch = 1;
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 1);
    assert_int_equal(p.landed, 0);
    assert_int_equal(p.conflict, 1);
    p.state_epoch = 0;

    /* Same lost reply, but the partition emitted more since. */
    hincr(d, CSM_KEY_BOARD, "s1", "rated", 1, 0);
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 1);
    assert_int_equal(p.landed, 0);
    assert_int_equal(p.conflict, 1);
    assert_int_equal(p.stored_by_us, 1);
    assert_hget("t:{s1}:board:2026-11-22", "rated", "5");

    /* Another process (another store) at the same expected seq. */
    csm_redis_store *other = open_store();
    assert_int_equal(csm_redis_flush(other, &p, 1, err, sizeof err), 1);
    assert_int_equal(p.landed, 0);
    assert_int_equal(p.conflict, 1);
    assert_int_equal(p.stored_seq, 1);
    assert_int_equal(p.stored_by_us, 0);

    /* At the right seq it writes; the checkpoint names its writer. */
    p.expected_seq = 1;
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 0);
    assert_hget("t:{s1}:board:2026-11-22", "rated", "11");
    assert_hget("t:ckpt:g:0", "seq", "2");
    csm_redis_store_close(other);
    csm_deltas_free(d);
    csm_redis_store_close(s);
}

/* One SADD carries every member of a set; EXPIREAT goes with the first
 * write of a key by this store and not again, while a key first written
 * later gets its own. Expected commands counted by hand from the deltas. */
static void test_members_and_first_touch_expiry(void **state)
{
    (void)state;
    csm_redis_store *s = open_store();
    char err[256] = "";
    csm_deltas *d = csm_deltas_new("t");
    hincr(d, CSM_KEY_BOARD, "s1", "rated", 1, FAR);
    hincr(d, CSM_KEY_BOARD, "s1", "rated_4_5", 1, FAR);
    sadd(d, CSM_KEY_AGENTS, "s1", NULL, "a1", FAR);
    sadd(d, CSM_KEY_AGENTS, "s1", NULL, "a2", FAR);
    sadd(d, CSM_KEY_AGENTS, "s1", NULL, "a1", FAR);
    csm_dkey shops = {CSM_KEY_SHOPS, NONE, 0, NONE};
    csm_deltas_sadd_id(d, &shops, id(d, "s1"), 0);
    csm_flush_part p = {.deltas = d};
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 0);
    /* MULTI, 2 HINCRBY + EXPIREAT, SADD a1 a2 + EXPIREAT, SADD s1, EXEC */
    assert_int_equal(csm_redis_store_commands(s), 8);
    assert_int_equal(cmd_int("SCARD t:{s1}:agents:2026-11-22"), 2);
    assert_int_equal(cmd_int("EXPIRETIME t:{s1}:agents:2026-11-22"), FAR);
    assert_int_equal(cmd_int("EXPIRETIME t:{s1}:board:2026-11-22"), FAR);
    assert_int_equal(cmd_int("TTL t:shops"), -1);

    csm_deltas_clear(d);
    hincr(d, CSM_KEY_BOARD, "s1", "rated", 1, FAR);
    sadd(d, CSM_KEY_AGENTS, "s1", NULL, "a3", FAR);
    hincr(d, CSM_KEY_ALLDAY, "s1", "rated", 1, FAR);
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 0);
    /* MULTI, HINCRBY, SADD, HINCRBY + EXPIREAT (allday is new), EXEC */
    assert_int_equal(csm_redis_store_commands(s), 6);
    assert_hget("t:{s1}:board:2026-11-22", "rated", "2");
    assert_int_equal(cmd_int("SCARD t:{s1}:agents:2026-11-22"), 3);
    assert_int_equal(cmd_int("EXPIRETIME t:{s1}:allday:2026-11-22"), FAR);

    /* Another store (another process) sends its own first EXPIREAT. */
    csm_redis_store *other = open_store();
    assert_int_equal(csm_redis_flush(other, &p, 1, err, sizeof err), 0);
    /* MULTI, 3 keys × (HINCRBY or SADD, EXPIREAT), EXEC */
    assert_int_equal(csm_redis_store_commands(other), 8);
    csm_redis_store_close(other);
    csm_deltas_free(d);
    csm_redis_store_close(s);
}

/* An EXEC that Redis aborts writes nothing, its expiries included: the
 * next flush must send them again, or the keys it creates would never
 * expire. Redis refuses write commands while over maxmemory, at MULTI
 * time, which aborts the EXEC (EXECABORT). */
static void test_aborted_exec_sends_expiry_again(void **state)
{
    (void)state;
    csm_redis_store *s = open_store();
    char err[256] = "";
    csm_deltas *d = csm_deltas_new("t");
    hincr(d, CSM_KEY_BOARD, "s1", "rated", 1, FAR);
    sadd(d, CSM_KEY_SET, "s1", "aftersale_seekers", "c1", FAR);
    csm_flush_part p = {.ckpt_key = "t:ckpt:g:0", .deltas = d};
    freeReplyObject(cmd("CONFIG SET maxmemory 1"));
    int rc = csm_redis_flush(s, &p, 1, err, sizeof err);
    freeReplyObject(cmd("CONFIG SET maxmemory 0"));
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "OOM"));
    assert_int_equal(cmd_int("EXISTS t:{s1}:board:2026-11-22 t:ckpt:g:0"), 0);

    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 0);
    /* WATCH, HMGET, MULTI, HINCRBY, EXPIREAT, SADD, EXPIREAT, HSET, EXEC */
    assert_int_equal(csm_redis_store_commands(s), 9);
    assert_hget("t:{s1}:board:2026-11-22", "rated", "1");
    assert_int_equal(cmd_int("EXPIRETIME t:{s1}:board:2026-11-22"), FAR);
    assert_int_equal(cmd_int("EXPIRETIME t:{s1}:set:2026-11-22:aftersale_seekers"), FAR);
    csm_deltas_free(d);
    csm_redis_store_close(s);
}

/* A checkpoint that does not match may mean Redis lost data (or another
 * owner wrote): what this store remembers as written is forgotten, and
 * the keys it writes next get their expiry again. */
static void test_conflict_forgets_expiries(void **state)
{
    (void)state;
    csm_redis_store *s = open_store();
    char err[256] = "";
    csm_deltas *d = csm_deltas_new("t");
    hincr(d, CSM_KEY_BOARD, "s1", "rated", 1, FAR);
    csm_flush_part p = {.ckpt_key = "t:ckpt:g:0", .deltas = d};
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 0);
    freeReplyObject(cmd("FLUSHALL"));
    p.expected_seq = 1;
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 1);
    assert_int_equal(p.conflict, 1);
    p.expected_seq = 0; /* reloaded: no checkpoint */
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 0);
    /* WATCH, HMGET, MULTI, HINCRBY, EXPIREAT, HSET, EXEC */
    assert_int_equal(csm_redis_store_commands(s), 7);
    assert_int_equal(cmd_int("EXPIRETIME t:{s1}:board:2026-11-22"), FAR);
    csm_deltas_free(d);
    csm_redis_store_close(s);
}

/* An expiry already in the past is sent at every write: Redis deletes
 * such a key, and a key created again must not outlive its day. */
static void test_past_expiry_always_sent(void **state)
{
    (void)state;
    csm_redis_store *s = open_store();
    char err[256] = "";
    csm_deltas *d = csm_deltas_new("t");
    hincr(d, CSM_KEY_BOARD, "s1", "rated", 1, 1000000000); /* 2001 */
    csm_flush_part p = {.deltas = d};
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 0);
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 0);
    assert_int_equal(csm_redis_store_commands(s), 4); /* MULTI HINCRBY EXPIREAT EXEC */
    assert_int_equal(cmd_int("EXISTS t:{s1}:board:2026-11-22"), 0);
    csm_deltas_free(d);
    csm_redis_store_close(s);
}

/* The partitions of one flush commit together, so their writes are summed
 * first: a counter every partition touched is one HINCRBY, a set one SADD
 * of the members of all. Each partition interns its own names: the sum
 * goes by strings, not ids. The parts' own writes are left as they were. */
static void test_partitions_summed_in_one_flush(void **state)
{
    (void)state;
    csm_redis_store *s = open_store();
    char err[256] = "";
    csm_deltas *d1 = csm_deltas_new("t"), *d2 = csm_deltas_new("t");
    hincr(d1, CSM_KEY_BOARD, "s1", "rated", 2, FAR);
    sadd(d1, CSM_KEY_AGENTS, "s1", NULL, "a1", FAR);
    id(d2, "other"); /* d2's ids differ from d1's */
    hincr(d2, CSM_KEY_BOARD, "s1", "rated_4_5", 1, FAR);
    hincr(d2, CSM_KEY_BOARD, "s1", "rated", 3, FAR);
    sadd(d2, CSM_KEY_AGENTS, "s1", NULL, "a2", FAR);
    sadd(d2, CSM_KEY_AGENTS, "s1", NULL, "a1", FAR);
    csm_flush_part parts[2] = {{.ckpt_key = "t:ckpt:g:0", .deltas = d1},
                               {.ckpt_key = "t:ckpt:g:1", .deltas = d2}};
    assert_int_equal(csm_redis_flush(s, parts, 2, err, sizeof err), 0);
    /* WATCH, 2 HMGET, MULTI, HINCRBY rated 5, HINCRBY rated_4_5 1,
     * EXPIREAT, SADD a1 a2, EXPIREAT, 2 HSET, EXEC */
    assert_int_equal(csm_redis_store_commands(s), 12);
    assert_hget("t:{s1}:board:2026-11-22", "rated", "5");
    assert_hget("t:{s1}:board:2026-11-22", "rated_4_5", "1");
    assert_int_equal(cmd_int("SCARD t:{s1}:agents:2026-11-22"), 2);
    assert_int_equal(cmd_int("EXPIRETIME t:{s1}:agents:2026-11-22"), FAR);
    assert_int_equal(csm_deltas_size(d1), 2);
    assert_int_equal(csm_deltas_size(d2), 4);
    csm_deltas_free(d1);
    csm_deltas_free(d2);
    csm_redis_store_close(s);
}

/* The report reads the board's aftersale_seekers from the board's own set
 * and the all-day figure from the whole day's, written in one flush: c1
 * sought help outside the window only, c2 inside it. With one escalation
 * on both blocks, resolution_rate is 1 - 1/1 = 0 on the board and
 * 1 - 1/2 = 0.5 all day. */
static void test_report_reads_board_seekers(void **state)
{
    (void)state;
    csm_redis_store *s = open_store();
    char err[256] = "";
    csm_deltas *d = csm_deltas_new("t");
    hincr(d, CSM_KEY_BOARD, "s1", "escalations", 1, FAR);
    hincr(d, CSM_KEY_ALLDAY, "s1", "escalations", 1, FAR);
    sadd(d, CSM_KEY_SET, "s1", "aftersale_seekers", "c1", FAR);
    sadd(d, CSM_KEY_SET, "s1", "aftersale_seekers", "c2", FAR);
    sadd(d, CSM_KEY_BOARDSET, "s1", "aftersale_seekers", "c2", FAR);
    csm_flush_part p = {.ckpt_key = "t:ckpt:g:0", .deltas = d};
    assert_int_equal(csm_redis_flush(s, &p, 1, err, sizeof err), 0);
    assert_int_equal(cmd_int("EXPIRETIME t:{s1}:boardset:2026-11-22:aftersale_seekers"), FAR);

    char yaml[128];
    snprintf(yaml, sizeof yaml, "redis:\n  port: %d\n  prefix: t\n", server_port);
    csm_config cfg;
    if (csm_config_load_string(yaml, &cfg, err, sizeof err))
        fail_msg("config: %s", err);
    csm_registry *reg = csm_registry_load(&cfg, err, sizeof err);
    if (!reg)
        fail_msg("registry: %s", err);
    int seekers = csm_figure_lookup(reg, "aftersale_seekers");
    int resolution = csm_figure_lookup(reg, "resolution_rate");
    assert_true(seekers >= 0 && resolution >= 0);
    /* No P:shops member was written here: read without the shop check. */
    csm_report_redis *rr = csm_report_connect(&cfg, err, sizeof err);
    assert_non_null(rr);
    csm_report r = {.shop = "s1", .from = DAY, .to = DAY, .reg = reg};
    assert_int_equal(csm_report_read_on(rr, &r, err, sizeof err), 0);
    csm_report_disconnect(rr);
    assert_int_equal(r.board.c[seekers], 1);
    assert_int_equal(r.allday.c[seekers], 2);
    double v = -1;
    assert_int_equal(csm_figure_rate(reg, resolution, r.board.c, &v), 1);
    assert_true(v == 0.0);
    assert_int_equal(csm_figure_rate(reg, resolution, r.allday.c, &v), 1);
    assert_true(v == 0.5);
    csm_report_free(&r);
    csm_registry_free(reg);
    csm_config_free(&cfg);
    csm_deltas_free(d);
    csm_redis_store_close(s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    server_port = free_port();
    start_server();
    raw = raw_connect();
    if (!raw) {
        fprintf(stderr, "test_redis_store: cannot connect to the test server\n");
        stop_server();
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_flush_writes_atomically, setup),
        cmocka_unit_test_setup(test_checkpoint_roundtrip, setup),
        cmocka_unit_test_setup(test_stored_offsets_left_out, setup),
        cmocka_unit_test_setup(test_prefetch_reads_in_order, setup),
        cmocka_unit_test_setup(test_seq_conflict_writes_nothing, setup),
        cmocka_unit_test_setup(test_connection_error_then_recovery, setup),
        cmocka_unit_test_setup(test_auth_and_db, setup),
        cmocka_unit_test_setup(test_refusals_are_fatal, setup),
        cmocka_unit_test_setup(test_timeout_is_named, setup),
        cmocka_unit_test_setup(test_own_lost_reply_is_recognised, setup),
        cmocka_unit_test_setup(test_members_and_first_touch_expiry, setup),
        cmocka_unit_test_setup(test_aborted_exec_sends_expiry_again, setup),
        cmocka_unit_test_setup(test_conflict_forgets_expiries, setup),
        cmocka_unit_test_setup(test_past_expiry_always_sent, setup),
        cmocka_unit_test_setup(test_partitions_summed_in_one_flush, setup),
        cmocka_unit_test_setup(test_report_reads_board_seekers, setup),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (raw)
        redisFree(raw);
    stop_server();
    return rc;
}
