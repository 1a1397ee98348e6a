/* `csmetrics bench`: the daemon under test as a child process — started
 * from this very binary, stopped, killed, and looked at through /proc and
 * its log. */
#ifndef CSM_BENCH_PROC_H
#define CSM_BENCH_PROC_H

#include <stddef.h>
#include <sys/types.h>

typedef struct csm_bench_child {
    pid_t pid;
    char log[4096]; /* stdout and stderr, appended */
} csm_bench_child;

/* The path of this binary. 0 or -1 + err. */
int csm_bench_self_exe(char *buf, size_t len, char *err, size_t errlen);
/* Notes a child as running (or gone): SIGINT and SIGTERM kill the
 * running ones, once csm_bench_kill_children_on_signal is called. */
void csm_bench_track(pid_t pid, int running);
void csm_bench_kill_children_on_signal(void);
/* Runs argv (argv[0] "csmetrics" means this binary; else a PATH name,
 * e.g. valgrind) with its output appended to log. 0 or -1 + err. */
int csm_bench_spawn(csm_bench_child *ch, const char *const *argv, const char *log, char *err,
                    size_t errlen);
/* Waits for the child to exit; SIGKILL after timeout_ms. Exit status, or
 * -1 if killed. */
int csm_bench_wait(csm_bench_child *ch, int timeout_ms);
/* SIGTERM, then as csm_bench_wait. */
int csm_bench_stop(csm_bench_child *ch, int timeout_ms);
/* kill -9 and reap. */
void csm_bench_kill9(csm_bench_child *ch);
/* 1 while running (a reaped or exited child is not). */
int csm_bench_alive(csm_bench_child *ch);
/* User + system CPU seconds of a process, from /proc/<pid>/stat; -1
 * when it is gone. */
double csm_bench_proc_cpu(pid_t pid);
/* VmRSS in bytes; -1 when gone. */
long csm_bench_rss(pid_t pid);
/* The log's size now: the start of a window for csm_bench_flush_times. */
long csm_bench_log_size(const csm_bench_child *ch);
/* Flush durations (ms) the daemon logged at debug level between log
 * offsets from and to, into out (at most cap). Their number. */
size_t csm_bench_flush_times(const csm_bench_child *ch, long from, long to, double *out,
                             size_t cap);

/* Wall-clock time (µs) of the first line after log offset `from` that
 * contains needle, from its "2026-11-29T10:00:00.123Z" stamp; -1: none. */
double csm_bench_log_time(const csm_bench_child *ch, long from, const char *needle);

/* The integer right after needle in the first line after log offset
 * `from` that contains it; -1: none. */
long long csm_bench_log_number(const csm_bench_child *ch, long from, const char *needle);

/* Wall clock in microseconds. */
double csm_bench_now_us(void);
void csm_bench_sleep_ms(long ms);

#endif
