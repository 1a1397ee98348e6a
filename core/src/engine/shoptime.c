/* The C library's localtime_r reads the tz database but only for the
 * zone in $TZ, so a zone switch costs a tzset(). Offsets are therefore
 * cached per (zone, UTC hour): zones change offset on hour boundaries in
 * practice, and the engine asks about the same few hours over and over. */
#include "shoptime.h"
#include "time_bounds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uthash.h>

#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL
#define CACHE_SLOTS 1024

typedef struct zone {
    char *name;
    int64_t cached_hour[CACHE_SLOTS];
    int32_t cached_offset[CACHE_SLOTS];
} zone;

typedef struct shop_entry {
    const char *shop_id; /* owned by the config */
    zone *tz;
    int has_window;
    csm_window window;
    const csm_shop_override *override;
    UT_hash_handle hh;
} shop_entry;

struct csm_shoptime {
    const csm_config *cfg;
    zone **zones;
    size_t n_zones;
    zone *default_zone;
    shop_entry *shops;
    char *saved_tz;
};

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* Milliseconds since the start of the (UTC-aligned) day of @p local; no
 * product that could overflow near the ends of int64. */
static int64_t ms_of_day(int64_t local)
{
    int64_t r = local % DAY_MS;
    return r < 0 ? r + DAY_MS : r;
}

/* The offset at the start of UTC hour @p hour (hours since the epoch:
 * in seconds it cannot overflow, in ms it could). */
static int32_t offset_at_hour(zone *z, int64_t hour)
{
    setenv("TZ", z->name, 1);
    tzset();
    time_t t = (time_t)(hour * 3600);
    struct tm tm;
    /* Years the C library cannot represent have no offset to speak of. */
    if (!localtime_r(&t, &tm))
        return 0;
    return (int32_t)tm.tm_gmtoff;
}

static int32_t zone_offset(zone *z, int64_t ts_ms)
{
    int64_t hour = floor_div(ts_ms, HOUR_MS);
    size_t slot = (size_t)((uint64_t)hour % CACHE_SLOTS);
    if (z->cached_hour[slot] != hour) {
        z->cached_offset[slot] = offset_at_hour(z, hour);
        z->cached_hour[slot] = hour;
    }
    return z->cached_offset[slot];
}

/* @p ts in the shop's local time, as ms since a local epoch. */
static int64_t local_of(zone *z, csm_ts ts)
{
    return csm_ts_add(ts, (int64_t)zone_offset(z, ts) * 1000);
}

/* The tz database has no "does this zone exist" call: a zone the library
 * cannot find behaves as UTC with the abbreviation "UTC"/name-less, so the
 * zone file itself is looked for. */
static int zone_exists(const char *name)
{
    if (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC"))
        return 1;
    if (strstr(name, ".."))
        return 0;
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char magic[4] = {0};
    size_t got = fread(magic, 1, 4, f);
    fclose(f);
    return got == 4 && !memcmp(magic, "TZif", 4);
}

static zone *find_zone(csm_shoptime *st, const char *name)
{
    for (size_t i = 0; i < st->n_zones; i++)
        if (!strcmp(st->zones[i]->name, name))
            return st->zones[i];
    zone *z = calloc(1, sizeof *z);
    z->name = strdup(name);
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        z->cached_hour[i] = INT64_MIN;
    st->zones = realloc(st->zones, (st->n_zones + 1) * sizeof *st->zones);
    st->zones[st->n_zones++] = z;
    return z;
}

csm_shoptime *csm_shoptime_new(const csm_config *cfg, char *err, size_t errlen)
{
    csm_shoptime *st = calloc(1, sizeof *st);
    st->cfg = cfg;
    const char *tz = getenv("TZ");
    st->saved_tz = tz ? strdup(tz) : NULL;
    if (!zone_exists(cfg->default_timezone)) {
        snprintf(err, errlen, "time.timezone: unknown time zone '%s'", cfg->default_timezone);
        csm_shoptime_free(st);
        return NULL;
    }
    st->default_zone = find_zone(st, cfg->default_timezone);
    for (size_t i = 0; i < cfg->n_shops; i++) {
        const csm_shop_override *o = &cfg->shops[i];
        shop_entry *e = calloc(1, sizeof *e);
        e->shop_id = o->shop_id;
        e->override = o;
        if (o->timezone && !zone_exists(o->timezone)) {
            snprintf(err, errlen, "shops.%s.timezone: unknown time zone '%s'", o->shop_id,
                     o->timezone);
            free(e);
            csm_shoptime_free(st);
            return NULL;
        }
        e->tz = o->timezone ? find_zone(st, o->timezone) : st->default_zone;
        e->has_window = o->has_window;
        e->window = o->window;
        HASH_ADD_KEYPTR(hh, st->shops, e->shop_id, strlen(e->shop_id), e);
    }
    return st;
}

void csm_shoptime_free(csm_shoptime *st)
{
    if (!st)
        return;
    shop_entry *e, *tmp;
    HASH_ITER(hh, st->shops, e, tmp)
    {
        HASH_DEL(st->shops, e);
        free(e);
    }
    for (size_t i = 0; i < st->n_zones; i++) {
        free(st->zones[i]->name);
        free(st->zones[i]);
    }
    free(st->zones);
    if (st->saved_tz)
        setenv("TZ", st->saved_tz, 1);
    else
        unsetenv("TZ");
    tzset();
    free(st->saved_tz);
    free(st);
}

static shop_entry *lookup(csm_shoptime *st, const char *shop)
{
    shop_entry *e = NULL;
    if (st->shops && shop)
        HASH_FIND_STR(st->shops, shop, e);
    return e;
}

static zone *shop_zone(csm_shoptime *st, const char *shop)
{
    shop_entry *e = lookup(st, shop);
    return e ? e->tz : st->default_zone;
}

int32_t csm_shoptime_offset(csm_shoptime *st, const char *shop, csm_ts ts)
{
    return zone_offset(shop_zone(st, shop), ts);
}

int32_t csm_shoptime_day(csm_shoptime *st, const char *shop, csm_ts ts)
{
    int64_t local = local_of(shop_zone(st, shop), ts);
    return (int32_t)floor_div(local, DAY_MS);
}

int csm_shoptime_hour(csm_shoptime *st, const char *shop, csm_ts ts)
{
    return (int)(ms_of_day(local_of(shop_zone(st, shop), ts)) / HOUR_MS);
}

csm_ts csm_shoptime_day_start(csm_shoptime *st, const char *shop, int32_t day)
{
    zone *z = shop_zone(st, shop);
    int64_t local_midnight = (int64_t)day * DAY_MS;
    /* Two rounds settle the offset in force at that local midnight. */
    int64_t guess = local_midnight - (int64_t)zone_offset(z, local_midnight) * 1000;
    guess = local_midnight - (int64_t)zone_offset(z, guess) * 1000;
    return guess;
}

int csm_shoptime_in_window(csm_shoptime *st, const char *shop, csm_platform platform, csm_ts ts)
{
    shop_entry *e = lookup(st, shop);
    const csm_window *w = &st->cfg->default_window;
    if (e && e->has_window)
        w = &e->window;
    else if ((unsigned)platform < 8 && st->cfg->has_platform_window[platform])
        w = &st->cfg->platform_window[platform];
    zone *z = e ? e->tz : st->default_zone;
    int64_t ms = ms_of_day(local_of(z, ts));
    return ms >= (int64_t)w->start_min * 60000 && ms < (int64_t)w->end_min * 60000;
}

const char *csm_shoptime_setting(csm_shoptime *st, const char *shop, const char *key)
{
    shop_entry *e = lookup(st, shop);
    if (!e)
        return NULL;
    for (size_t i = 0; i < e->override->n_settings; i++)
        if (!strcmp(e->override->settings[i].key, key))
            return e->override->settings[i].value;
    return NULL;
}

const char *csm_shoptime_zone(csm_shoptime *st, const char *shop)
{
    return shop_zone(st, shop)->name;
}
