#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static int g_level = CSM_LOG_INFO;
static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void csm_log_set_level(int level)
{
    g_level = level;
}
int csm_log_level(void)
{
    return g_level;
}

void csm_vlogf(int level, const char *component, const char *fmt, va_list ap)
{
    if (level > g_level)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    /* One fprintf per line so lines from threads do not interleave. */
    fprintf(stderr, "%s.%03ldZ %s %s: %s\n", stamp, now.tv_nsec / 1000000L,
            level_names[level < 0   ? 0
                        : level > 3 ? 3
                                    : level],
            component, line);
}

void csm_logf(int level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    csm_vlogf(level, component, fmt, ap);
    va_end(ap);
}
