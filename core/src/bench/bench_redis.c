#include "bench_redis.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* The kernel's choice of an unused port: bound, read, released. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static int spawn_redis(csm_bench_redis *r, const char *dir, char *err, size_t errlen)
{
    char port[16], log[4096];
    snprintf(port, sizeof port, "%d", r->port);
    snprintf(log, sizeof log, "%s/redis.log", dir);
    const char *argv[] = {"redis-server",
                          "--port",
                          port,
                          "--bind",
                          "127.0.0.1",
                          "--save",
                          "",
                          "--appendonly",
                          "no",
                          "--daemonize",
                          "no",
                          "--dir",
                          dir,
                          "--logfile",
                          log,
                          NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(&r->pid, "redis-server", &fa, NULL, (char **)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc) {
        snprintf(err, errlen, "cannot start redis-server: %s", strerror(rc));
        r->pid = 0;
        return -1;
    }
    csm_bench_track(r->pid, 1);
    return 0;
}

int csm_bench_redis_start(csm_bench_redis *r, const char *dir, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if ((r->port = free_port()) < 0) {
        snprintf(err, errlen, "no free loopback port: %s", strerror(errno));
        return -1;
    }
    if (spawn_redis(r, dir, err, errlen))
        return -1;
    for (int i = 0; i < 100; i++) {
        struct timeval tv = {1, 0};
        r->c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
        if (r->c && !r->c->err)
            return 0;
        redisFree(r->c);
        r->c = NULL;
        if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
            csm_bench_track(r->pid, 0);
            r->pid = 0;
            break;
        }
        usleep(100 * 1000);
    }
    snprintf(err, errlen, "redis-server did not accept connections on port %d (see %s/redis.log)",
             r->port, dir);
    csm_bench_redis_stop(r);
    return -1;
}

void csm_bench_redis_stop(csm_bench_redis *r)
{
    if (r->c)
        redisFree(r->c);
    r->c = NULL;
    if (r->pid > 0) {
        kill(r->pid, SIGKILL);
        waitpid(r->pid, NULL, 0);
        csm_bench_track(r->pid, 0);
    }
    r->pid = 0;
}

static uint64_t *cmds_slot(csm_bench_cmds *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->c[i].name, name))
            return &c->c[i].calls;
    if (c->n == CSM_BENCH_MAX_CMDS)
        return NULL;
    snprintf(c->c[c->n].name, sizeof c->c[c->n].name, "%s", name);
    c->c[c->n].calls = 0;
    return &c->c[c->n++].calls;
}

/* commandstats names commands in lower case. */
static void count_own(csm_bench_redis *r, const char *cmd)
{
    char name[48];
    size_t i = 0;
    for (; cmd[i] && i + 1 < sizeof name; i++)
        name[i] = (char)(cmd[i] >= 'A' && cmd[i] <= 'Z' ? cmd[i] + 32 : cmd[i]);
    name[i] = 0;
    uint64_t *slot = cmds_slot(&r->own, name);
    if (slot)
        (*slot)++;
}

redisReply *csm_bench_redis_cmd(csm_bench_redis *r, int argc, const char **argv)
{
    char *buf;
    long long len = redisFormatCommandArgv(&buf, argc, argv, NULL);
    if (len < 0)
        return NULL;
    r->own_bytes += (uint64_t)len;
    /* Redis counts a command's calls once it ran: after this reply. */
    redisAppendFormattedCommand(r->c, buf, (size_t)len);
    redisFreeCommand(buf);
    void *reply = NULL;
    if (redisGetReply(r->c, &reply) != REDIS_OK)
        return NULL;
    count_own(r, argv[0]);
    return reply;
}

/* "cmdstat_hincrby:calls=12,usec=..." lines of INFO commandstats. */
static void parse_commandstats(const char *info, csm_bench_cmds *out)
{
    out->n = 0;
    for (const char *p = strstr(info, "cmdstat_"); p; p = strstr(p + 1, "\ncmdstat_")) {
        if (*p == '\n')
            p++;
        const char *name = p + 8, *colon = strchr(name, ':');
        unsigned long long calls;
        if (!colon || sscanf(colon, ":calls=%llu", &calls) != 1)
            continue;
        char n[48];
        snprintf(n, sizeof n, "%.*s", (int)(colon - name), name);
        uint64_t *slot = cmds_slot(out, n);
        if (slot)
            *slot = calls;
    }
}

static int info_u64(const char *info, const char *field, uint64_t *out)
{
    char key[64];
    snprintf(key, sizeof key, "\n%s:", field);
    const char *p = strstr(info, key);
    unsigned long long v;
    if (!p || sscanf(p + strlen(key), "%llu", &v) != 1)
        return -1;
    *out = v;
    return 0;
}

int csm_bench_redis_snap_take(csm_bench_redis *r, csm_bench_redis_snap *s)
{
    const char *argv[] = {"INFO", "everything"};
    /* INFO counts its own request bytes but not yet its own call. */
    redisReply *rep = csm_bench_redis_cmd(r, 2, argv);
    int rc = -1;
    if (rep && rep->type == REDIS_REPLY_STRING &&
        info_u64(rep->str, "total_net_input_bytes", &s->net_input_bytes) == 0) {
        parse_commandstats(rep->str, &s->cmds);
        s->net_input_bytes -= r->own_bytes;
        uint64_t *info_calls = cmds_slot(&r->own, "info");
        for (size_t i = 0; i < r->own.n; i++) {
            uint64_t own = r->own.c[i].calls - (&r->own.c[i].calls == info_calls);
            uint64_t *slot = cmds_slot(&s->cmds, r->own.c[i].name);
            if (slot)
                *slot = *slot > own ? *slot - own : 0;
        }
        s->cpu_s = csm_bench_proc_cpu(r->pid);
        rc = 0;
    }
    if (rep)
        freeReplyObject(rep);
    return rc;
}

void csm_bench_cmds_delta(const csm_bench_cmds *a, const csm_bench_cmds *b, csm_bench_cmds *d)
{
    csm_bench_cmds out = {0};
    for (size_t i = 0; i < b->n; i++) {
        uint64_t before = 0;
        for (size_t j = 0; j < a->n; j++)
            if (!strcmp(a->c[j].name, b->c[i].name))
                before = a->c[j].calls;
        if (b->c[i].calls > before) {
            uint64_t *slot = cmds_slot(&out, b->c[i].name);
            if (slot)
                *slot = b->c[i].calls - before;
        }
    }
    *d = out;
}

uint64_t csm_bench_cmds_total(const csm_bench_cmds *c)
{
    uint64_t t = 0;
    for (size_t i = 0; i < c->n; i++)
        t += c->c[i].calls;
    return t;
}

int csm_bench_ckpt_open(csm_bench_ckpt *k, csm_bench_redis *r, int accounted, const char *prefix,
                        const char *group, int n)
{
    struct timeval tv = {2, 0};
    k->c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
    k->acct = accounted ? r : NULL;
    snprintf(k->prefix, sizeof k->prefix, "%s", prefix);
    snprintf(k->group, sizeof k->group, "%s", group);
    k->n = n;
    if (!k->c || k->c->err) {
        csm_bench_ckpt_close(k);
        return -1;
    }
    return 0;
}

/* A topic never read holds a logical offset (beginning, -2): nothing. */
static int64_t reply_offset(const redisReply *e)
{
    int64_t v = e->type == REDIS_REPLY_STRING ? strtoll(e->str, NULL, 10) : 0;
    return v > 0 ? v : 0;
}

int csm_bench_ckpt_read(csm_bench_ckpt *k, int64_t *chat, int64_t *order)
{
    for (int p = 0; p < k->n; p++) {
        char *buf;
        int len = redisFormatCommand(&buf, "HMGET %s:ckpt:%s:%d chat_offset order_offset",
                                     k->prefix, k->group, p);
        if (len < 0)
            return -1;
        redisAppendFormattedCommand(k->c, buf, (size_t)len);
        redisFreeCommand(buf);
        if (k->acct)
            k->acct->own_bytes += (uint64_t)len;
    }
    int rc = 0;
    for (int p = 0; p < k->n; p++) {
        redisReply *rep = NULL;
        if (redisGetReply(k->c, (void **)&rep) != REDIS_OK || !rep)
            return -1;
        if (k->acct)
            count_own(k->acct, "hmget");
        if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2) {
            chat[p] = reply_offset(rep->element[0]);
            order[p] = reply_offset(rep->element[1]);
        } else {
            rc = -1;
        }
        freeReplyObject(rep);
    }
    return rc;
}

void csm_bench_ckpt_close(csm_bench_ckpt *k)
{
    if (k->c)
        redisFree(k->c);
    k->c = NULL;
}
