/* `csmetrics bench`: a throwaway redis-server and what the bench reads of
 * it (INFO, checkpoint offsets), with the bench's own traffic to it kept
 * apart so the figures are the daemon's alone. */
#ifndef CSM_BENCH_REDIS_H
#define CSM_BENCH_REDIS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

#include "bench_proc.h"

#define CSM_BENCH_MAX_CMDS 64

/* Calls per command name. */
typedef struct csm_bench_cmds {
    size_t n;
    struct {
        char name[48];
        uint64_t calls;
    } c[CSM_BENCH_MAX_CMDS];
} csm_bench_cmds;

typedef struct csm_bench_redis {
    pid_t pid;
    int port;
    redisContext *c;
    /* What the bench sent on c, subtracted from INFO's figures. */
    uint64_t own_bytes;
    csm_bench_cmds own;
} csm_bench_redis;

/* INFO figures at one moment, the bench's own share already taken out. */
typedef struct csm_bench_redis_snap {
    uint64_t net_input_bytes;
    double cpu_s; /* redis-server's user + system time */
    csm_bench_cmds cmds;
} csm_bench_redis_snap;

/* Starts `redis-server` (PATH) on a free loopback port, without
 * persistence, logging to dir/redis.log. 0 or -1 + err. */
int csm_bench_redis_start(csm_bench_redis *r, const char *dir, char *err, size_t errlen);
void csm_bench_redis_stop(csm_bench_redis *r);
/* A command on the bench's connection, counted as the bench's own. The
 * reply (NULL when the connection failed) is the caller's to free. */
redisReply *csm_bench_redis_cmd(csm_bench_redis *r, int argc, const char **argv);
/* 0 or -1 (Redis unreachable). */
int csm_bench_redis_snap_take(csm_bench_redis *r, csm_bench_redis_snap *s);
/* Calls of every command between two snapshots, into d (d may be b). */
void csm_bench_cmds_delta(const csm_bench_cmds *a, const csm_bench_cmds *b, csm_bench_cmds *d);
uint64_t csm_bench_cmds_total(const csm_bench_cmds *c);

/* Checkpoint offsets of partitions 0..n-1: chat and order "next offset"
 * fields of {prefix}:ckpt:{group}:{p} (0 when absent). Pipelined on a
 * connection of its own (a poller thread may own it); with @p acct, its
 * commands count as the bench's own on acct (same thread only).
 * 0, or -1 when Redis did not answer. */
typedef struct csm_bench_ckpt {
    redisContext *c;
    csm_bench_redis *acct;
    char prefix[64], group[64];
    int n;
} csm_bench_ckpt;
int csm_bench_ckpt_open(csm_bench_ckpt *k, csm_bench_redis *r, int accounted, const char *prefix,
                        const char *group, int n);
int csm_bench_ckpt_read(csm_bench_ckpt *k, int64_t *chat, int64_t *order);
void csm_bench_ckpt_close(csm_bench_ckpt *k);

#endif
