#include "sat_target.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_slot.h"
#include "civil_day.h"

/* Members are "YYYY-MM-DD|PLATFORM|shop": fixed-width day first, so a shop
 * id may contain '|'. */

int csm_sbt_key(char *buf, size_t n, const char *prefix)
{
    int len = snprintf(buf, n, "%s:sbt:due", prefix);
    return len < 0 || (size_t)len >= n ? -1 : len;
}

int csm_sbt_member(char *buf, size_t n, int32_t day, csm_platform platform, const char *shop)
{
    char date[11];
    csm_day_format(day, date);
    int len = snprintf(buf, n, "%s|%s|%s", date, csm_platform_name(platform), shop);
    return len < 0 || (size_t)len >= n ? -1 : len;
}

void csm_sbt_note(csm_deltas *d, csm_shoptime *st, const char *shop, uint32_t shop_id,
                  csm_platform platform, int32_t day)
{
    const csm_dkey due = {CSM_KEY_SBT_DUE, CSM_INTERN_NONE, 0, CSM_INTERN_NONE};
    /* The score only depends on the day: work out the shop's day start
     * for members this interval has not marked yet. */
    for (int32_t k = 0; k < CSM_SBT_WINDOW_DAYS; k++)
        if (!csm_deltas_has(d, &due, shop_id, (uint32_t)platform, day + k))
            /* Decided once event time passes the end of D+1. */
            csm_deltas_zadd_due(d, &due, shop_id, (uint32_t)platform, day + k,
                                csm_shoptime_day_start(st, shop, day + k + 2));
}

const csm_alert_decl csm_sbt_alert_decl =
    CSM_ALERT_TYPE(.type = "SATISFACTION_BELOW_TARGET", .label = "7-day satisfaction under target",
                   .unit = "bp");

int64_t csm_sbt_parse_target(const char *s)
{
    if (!s || !*s)
        return -1;
    char *end;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    if (*end == '%' && !end[1])
        v /= 100.0;
    else if (*end)
        return -1;
    if (!(v >= 0.0 && v <= 1.0))
        return -1;
    return (int64_t)llround(v * 10000.0);
}

int64_t csm_sbt_target_bp(const csm_config *cfg, csm_shoptime *st, const char *shop)
{
    int64_t bp = csm_sbt_parse_target(csm_shoptime_setting(st, shop, "satisfaction_target"));
    if (bp < 0)
        bp = csm_sbt_parse_target(cfg->satisfaction_target);
    return bp < 0 ? 8000 : bp;
}

static char *fmt_i64(int64_t v)
{
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)v);
    return strdup(num);
}

int csm_sbt_decide(const csm_config *cfg, csm_shoptime *st, const char *member,
                   csm_sbt_counter_fn get, void *arg, csm_alert_rec *rec)
{
    memset(rec, 0, sizeof *rec);
    int32_t day;
    char date[11];
    const char *bar1 = strchr(member, '|');
    const char *bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;
    if (!bar1 || bar1 - member != 10 || !bar2)
        return -1;
    memcpy(date, member, 10);
    date[10] = 0;
    if (csm_day_parse(date, &day))
        return -1;
    char platform[16];
    size_t plen = (size_t)(bar2 - bar1 - 1);
    if (plen >= sizeof platform)
        return -1;
    memcpy(platform, bar1 + 1, plen);
    platform[plen] = 0;
    const char *shop = bar2 + 1;

    int64_t rated = 0, good = 0;
    for (int32_t k = 0; k < CSM_SBT_WINDOW_DAYS; k++) {
        rated += get(arg, shop, day - k, "rated");
        good += get(arg, shop, day - k, "rated_4_5");
    }
    int64_t target = csm_sbt_target_bp(cfg, st, shop);
    /* Strictly below: good / rated < target / 10000, in integers. */
    if (rated == 0 || good * 10000 >= target * rated)
        return 0;
    const char *values[CSM_ALERT_NFIELDS] = {[CSM_ALERT_TYPE] = csm_sbt_alert_decl.type,
                                             [CSM_ALERT_SHOP_ID] = shop,
                                             [CSM_ALERT_CUSTOMER_ID] = "",
                                             [CSM_ALERT_SESSION_OPEN_TS] = "",
                                             [CSM_ALERT_AGENT_ID] = "",
                                             [CSM_ALERT_DAY] = date,
                                             [CSM_ALERT_PLATFORM] = platform};
    for (int i = 0; i < CSM_ALERT_NFIELDS; i++)
        if (values[i] && !(rec->v[i] = strdup(values[i])))
            abort();
    /* Anchored at the start of D; raised when D+1 ends (event time, so
     * every run raises it with the same value); the figure is the 7-day
     * rate in basis points, rounded down. */
    rec->v[CSM_ALERT_ANCHOR_TS] = fmt_i64(csm_shoptime_day_start(st, shop, day));
    rec->v[CSM_ALERT_RAISED_TS] = fmt_i64(csm_shoptime_day_start(st, shop, day + 2));
    rec->v[CSM_ALERT_FIGURE] = fmt_i64(good * 10000 / rated);
    return 1;
}

/* The due members of @p d scored below @p clock, as strings (the decision
 * takes them as Redis holds them). */
typedef struct due_list {
    char **v;
    size_t n, cap;
} due_list;

static void collect_due(const csm_deltas *d, int64_t clock, due_list *l)
{
    size_t nk;
    const csm_dkeyrec *keys = csm_deltas_keys(d, &nk);
    char member[512];
    for (size_t i = 0; i < nk; i++) {
        if (keys[i].key.kind != CSM_KEY_SBT_DUE)
            continue;
        for (uint32_t j = keys[i].first; j != CSM_INTERN_NONE; j = csm_deltas_item(d, j)->next) {
            const csm_ditem *it = csm_deltas_item(d, j);
            const char *shop = csm_intern_str(csm_deltas_names_c(d), it->a);
            if (it->value >= clock || !shop ||
                csm_sbt_member(member, sizeof member, it->c, (csm_platform)it->b, shop) < 0)
                continue;
            if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 16;
                if (!(l->v = realloc(l->v, l->cap * sizeof *l->v)))
                    abort();
            }
            if (!(l->v[l->n++] = strdup(member)))
                abort();
        }
    }
}

static int64_t delta_counter(void *arg, const char *shop, int32_t day, const char *field)
{
    const csm_deltas *d = arg;
    const csm_intern *names = csm_deltas_names_c(d);
    csm_dkey k = {CSM_KEY_BOARD, csm_intern_find(names, shop), day, CSM_INTERN_NONE};
    uint32_t f = csm_intern_find(names, field);
    if (k.shop == CSM_INTERN_NONE || f == CSM_INTERN_NONE)
        return 0;
    return csm_deltas_counter(d, &k, f, CSM_INTERN_NONE, -1);
}

long csm_sbt_close_in_deltas(const csm_config *cfg, csm_shoptime *st, csm_deltas *d, int64_t clock)
{
    due_list l = {0};
    collect_due(d, clock, &l);
    long raised = 0;
    for (size_t i = 0; i < l.n; i++) {
        csm_alert_rec rec;
        if (csm_sbt_decide(cfg, st, l.v[i], delta_counter, d, &rec) == 1) {
            csm_dkey stream = {CSM_KEY_ALERTS,
                               csm_intern_id(csm_deltas_names(d), rec.v[CSM_ALERT_SHOP_ID]), 0,
                               CSM_INTERN_NONE};
            const char *fv[2 * CSM_ALERT_NFIELDS];
            csm_alert_fv((const char *const *)rec.v, fv);
            csm_deltas_xadd(d, &stream, (long)cfg->alerts_maxlen, fv, 2 * CSM_ALERT_NFIELDS);
            raised++;
        }
        csm_alert_rec_clear(&rec);
        free(l.v[i]);
    }
    free(l.v);
    return raised;
}
