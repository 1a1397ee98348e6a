/* The Redis key scheme; docs/redis-keys.md is its reference. */
#include "keys.h"

#include "civil_day.h"

#include <stdio.h>
#include <string.h>

static int fits(int n, size_t cap)
{
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* Keys and fields are built for every counter of every flush: by hand,
 * not with snprintf (five times the cost). */
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

/* prefix:{shop}:what:day, then :name unless name is NULL. */
static int shop_day_key(char *buf, size_t n, const char *prefix, const char *shop, const char *what,
                        int32_t day, const char *name)
{
    char ds[11];
    csm_day_format(day, ds);
    sbuf b = {buf, n, 0, n == 0};
    const char *parts[] = {prefix, ":{", shop, "}:", what, ":", ds, name ? ":" : "", name};
    for (size_t i = 0; i < sizeof parts / sizeof *parts && parts[i]; i++)
        put(&b, parts[i]);
    return done(&b);
}

int csm_key_block(char *buf, size_t n, const char *prefix, const char *shop, const char *block,
                  int32_t day)
{
    return shop_day_key(buf, n, prefix, shop, block, day, NULL);
}

/* The agent's and intent's keys put the day before the name. */
int csm_key_agent(char *buf, size_t n, const char *prefix, const char *shop, int32_t day,
                  const char *agent)
{
    return shop_day_key(buf, n, prefix, shop, "agent", day, agent);
}

int csm_key_agents(char *buf, size_t n, const char *prefix, const char *shop, int32_t day)
{
    return shop_day_key(buf, n, prefix, shop, "agents", day, NULL);
}

int csm_key_intent(char *buf, size_t n, const char *prefix, const char *shop, int32_t day,
                   const char *intent)
{
    return shop_day_key(buf, n, prefix, shop, "intent", day, intent);
}

int csm_key_intents(char *buf, size_t n, const char *prefix, const char *shop, int32_t day)
{
    return shop_day_key(buf, n, prefix, shop, "intents", day, NULL);
}

int csm_key_set(char *buf, size_t n, const char *prefix, const char *shop, int32_t day,
                const char *name)
{
    return shop_day_key(buf, n, prefix, shop, "set", day, name);
}

int csm_key_boardset(char *buf, size_t n, const char *prefix, const char *shop, int32_t day,
                     const char *name)
{
    return shop_day_key(buf, n, prefix, shop, "boardset", day, name);
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
