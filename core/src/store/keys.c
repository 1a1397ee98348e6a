/* The Redis key scheme; docs/redis-keys.md is its reference. */
#include "keys.h"

#include "civil_day.h"

#include <stdio.h>
#include <string.h>

static int fits(int n, size_t cap)
{
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

int csm_key_block(char *buf, size_t n, const char *prefix, const char *shop, const char *block,
                  int32_t day)
{
    char ds[11];
    csm_day_format(day, ds);
    return fits(snprintf(buf, n, "%s:{%s}:%s:%s", prefix, shop, block, ds), n);
}

int csm_key_agent(char *buf, size_t n, const char *prefix, const char *shop, int32_t day,
                  const char *agent)
{
    char ds[11];
    csm_day_format(day, ds);
    return fits(snprintf(buf, n, "%s:{%s}:agent:%s:%s", prefix, shop, ds, agent), n);
}

int csm_key_agents(char *buf, size_t n, const char *prefix, const char *shop, int32_t day)
{
    char ds[11];
    csm_day_format(day, ds);
    return fits(snprintf(buf, n, "%s:{%s}:agents:%s", prefix, shop, ds), n);
}

int csm_key_intent(char *buf, size_t n, const char *prefix, const char *shop, int32_t day,
                   const char *intent)
{
    char ds[11];
    csm_day_format(day, ds);
    return fits(snprintf(buf, n, "%s:{%s}:intent:%s:%s", prefix, shop, ds, intent), n);
}

int csm_key_intents(char *buf, size_t n, const char *prefix, const char *shop, int32_t day)
{
    char ds[11];
    csm_day_format(day, ds);
    return fits(snprintf(buf, n, "%s:{%s}:intents:%s", prefix, shop, ds), n);
}

int csm_key_set(char *buf, size_t n, const char *prefix, const char *shop, int32_t day,
                const char *name)
{
    char ds[11];
    csm_day_format(day, ds);
    return fits(snprintf(buf, n, "%s:{%s}:set:%s:%s", prefix, shop, ds, name), n);
}

int csm_key_alerts(char *buf, size_t n, const char *prefix, const char *shop)
{
    return fits(snprintf(buf, n, "%s:{%s}:alerts", prefix, shop), n);
}

int csm_key_shops(char *buf, size_t n, const char *prefix)
{
    return fits(snprintf(buf, n, "%s:shops", prefix), n);
}

int csm_key_checkpoint(char *buf, size_t n, const char *prefix, const char *group,
                       int32_t partition)
{
    return fits(snprintf(buf, n, "%s:ckpt:%s:%d", prefix, group, (int)partition), n);
}

/* Fields are built for every counter of every flush: by hand, not with
 * snprintf (five times the cost). */
typedef struct sbuf {
    char *p;
    size_t n, len;
    int over;
} sbuf;

static void put(sbuf *b, const char *s)
{
    size_t k = strlen(s);
    if (b->len + k >= b->n) {
        b->over = 1;
        return;
    }
    memcpy(b->p + b->len, s, k + 1);
    b->len += k;
}

static int done(const sbuf *b)
{
    return b->over ? -1 : (int)b->len;
}

int csm_field_split(char *buf, size_t n, const char *split, const char *name)
{
    sbuf b = {buf, n, 0, n == 0};
    put(&b, "split.");
    put(&b, split);
    put(&b, ".");
    put(&b, name);
    return done(&b);
}

int csm_field_hourly(char *buf, size_t n, const char *name, int hour)
{
    if (hour < 0 || hour > 23)
        return -1;
    char hh[4] = {'.', (char)('0' + hour / 10), (char)('0' + hour % 10), 0};
    sbuf b = {buf, n, 0, n == 0};
    put(&b, "hourly.");
    put(&b, name);
    put(&b, hh);
    return done(&b);
}
