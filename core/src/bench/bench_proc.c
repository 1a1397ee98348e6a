#include "bench_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Children still running, killed if the bench is interrupted. */
#define MAX_TRACKED 16
static volatile pid_t tracked[MAX_TRACKED];

void csm_bench_track(pid_t pid, int running)
{
    for (int i = 0; i < MAX_TRACKED; i++)
        if (tracked[i] == (running ? 0 : pid)) {
            tracked[i] = running ? pid : 0;
            return;
        }
}

static void on_signal(int sig)
{
    for (int i = 0; i < MAX_TRACKED; i++)
        if (tracked[i] > 0)
            kill(tracked[i], SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

void csm_bench_kill_children_on_signal(void)
{
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
}

static void reaped(csm_bench_child *ch)
{
    csm_bench_track(ch->pid, 0);
    ch->pid = 0;
}

int csm_bench_self_exe(char *buf, size_t len, char *err, size_t errlen)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n < 0) {
        snprintf(err, errlen, "/proc/self/exe: %s", strerror(errno));
        return -1;
    }
    buf[n] = 0;
    return 0;
}

int csm_bench_spawn(csm_bench_child *ch, const char *const *argv, const char *log, char *err,
                    size_t errlen)
{
    char self[4096];
    if (csm_bench_self_exe(self, sizeof self, err, errlen))
        return -1;
    snprintf(ch->log, sizeof ch->log, "%s", log);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int self_bin = !strcmp(argv[0], "csmetrics");
    int rc = self_bin ? posix_spawn(&ch->pid, self, &fa, NULL, (char **)argv, environ)
                      : posix_spawnp(&ch->pid, argv[0], &fa, NULL, (char **)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc) {
        snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(rc));
        ch->pid = 0;
        return -1;
    }
    csm_bench_track(ch->pid, 1);
    return 0;
}

int csm_bench_alive(csm_bench_child *ch)
{
    if (ch->pid <= 0)
        return 0;
    if (waitpid(ch->pid, NULL, WNOHANG) == ch->pid) {
        reaped(ch);
        return 0;
    }
    return 1;
}

int csm_bench_wait(csm_bench_child *ch, int timeout_ms)
{
    if (ch->pid <= 0)
        return -1;
    int status = 0;
    for (int waited = 0; waitpid(ch->pid, &status, WNOHANG) == 0; waited += 20) {
        if (waited >= timeout_ms) {
            kill(ch->pid, SIGKILL);
            waitpid(ch->pid, &status, 0);
            break;
        }
        csm_bench_sleep_ms(20);
    }
    reaped(ch);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int csm_bench_stop(csm_bench_child *ch, int timeout_ms)
{
    if (ch->pid <= 0)
        return -1;
    kill(ch->pid, SIGTERM);
    kill(ch->pid, SIGCONT); /* a daemon stopped mid-measure must see it */
    return csm_bench_wait(ch, timeout_ms);
}

void csm_bench_kill9(csm_bench_child *ch)
{
    if (ch->pid <= 0)
        return;
    kill(ch->pid, SIGKILL);
    waitpid(ch->pid, NULL, 0);
    reaped(ch);
}

static FILE *proc_file(pid_t pid, const char *name)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    return fopen(path, "r");
}

double csm_bench_proc_cpu(pid_t pid)
{
    char buf[2048];
    FILE *f = proc_file(pid, "stat");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* Fields after the command name, which may hold spaces: state is 3rd,
     * utime the 14th and stime the 15th. */
    char *p = strrchr(buf, ')');
    unsigned long long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

long csm_bench_rss(pid_t pid)
{
    char line[256];
    FILE *f = proc_file(pid, "status");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

long csm_bench_log_size(const csm_bench_child *ch)
{
    struct stat st;
    return stat(ch->log, &st) ? 0 : (long)st.st_size;
}

size_t csm_bench_flush_times(const csm_bench_child *ch, long from, long to, double *out, size_t cap)
{
    FILE *f = fopen(ch->log, "r");
    if (!f)
        return 0;
    fseek(f, from, SEEK_SET);
    char line[1024];
    size_t n = 0;
    while (n < cap && ftell(f) < to && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "run: flush: ");
        size_t parts;
        if (p && sscanf(p, "run: flush: %zu partitions in %lf ms", &parts, &out[n]) == 2)
            n++;
    }
    fclose(f);
    return n;
}

static double stamp_us(const char *line)
{
    struct tm tm = {0};
    int ms;
    if (sscanf(line, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (double)timegm(&tm) * 1e6 + ms * 1e3;
}

/* The first line after `from` containing needle, into line; 0 or -1. */
static int log_line(const csm_bench_child *ch, long from, const char *needle, char *line,
                    size_t len)
{
    FILE *f = fopen(ch->log, "r");
    if (!f)
        return -1;
    fseek(f, from, SEEK_SET);
    int rc = -1;
    while (rc && fgets(line, (int)len, f))
        if (strstr(line, needle))
            rc = 0;
    fclose(f);
    return rc;
}

double csm_bench_log_time(const csm_bench_child *ch, long from, const char *needle)
{
    char line[1024];
    return log_line(ch, from, needle, line, sizeof line) ? -1 : stamp_us(line);
}

long long csm_bench_log_number(const csm_bench_child *ch, long from, const char *needle)
{
    char line[1024];
    long long n;
    if (log_line(ch, from, needle, line, sizeof line) ||
        sscanf(strstr(line, needle) + strlen(needle), "%lld", &n) != 1)
        return -1;
    return n;
}

double csm_bench_now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

void csm_bench_sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) && errno == EINTR)
        ;
}
