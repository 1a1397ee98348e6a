/* A shop's figures for a day or a range of days, read from Redis: the
 * board and all-day blocks, the agents, the intents and the alerts, with
 * counters summed over the range. The report command, the exporter and the
 * dashboard all read through here; the figures are those the plugins of
 * the chain declare (the registry, figures.h), and rates are computed from
 * the sums, never stored. */
#ifndef CSM_REPORT_H
#define CSM_REPORT_H

#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "figures.h"

/* A timestamp field that is empty (shop-level alerts have no session). */
#define CSM_REPORT_NO_TS LLONG_MIN

typedef struct csm_report_named {
    char *name;
    csm_block *b;
} csm_report_named;

typedef struct csm_report_list {
    csm_report_named *v;
    size_t n, cap;
} csm_report_list;

typedef struct csm_report_alert {
    char *type, *shop_id, *customer_id, *agent_id, *day;
    long long session_open_ts, anchor_ts, raised_ts, figure;
} csm_report_alert;

/* Parts of a report a caller can leave unread (csm_report.skip). */
#define CSM_REPORT_SKIP_AGENTS 0x1u
#define CSM_REPORT_SKIP_INTENTS 0x2u
#define CSM_REPORT_SKIP_ALERTS 0x4u

typedef struct csm_report {
    const char *shop; /* set by the caller, with from, to, reg and skip */
    int32_t from, to;
    const csm_registry *reg; /* csm_registry_load() */
    unsigned skip;           /* CSM_REPORT_SKIP_*; 0 reads everything */
    csm_block board, allday;
    csm_report_list agents, intents;
    csm_report_alert *alerts;
    size_t n_alerts;
} csm_report;

/* csm_report_read() of a shop that is not in P:shops (no event of it was
 * ever counted): err names the known shops. */
#define CSM_REPORT_UNKNOWN_SHOP (-2)

/* Reads r->shop's figures for days r->from..r->to (shop, days and reg set
 * by the caller, the rest zeroed). Agents and intents come sorted by name,
 * alerts in stream order. 0, or -1 (Redis, out of memory) or
 * CSM_REPORT_UNKNOWN_SHOP with the reason in err; csm_report_free() in
 * every case. */
int csm_report_read(const csm_config *cfg, csm_report *r, char *err, size_t errlen);
void csm_report_free(csm_report *r);

/* One Redis connection for several reads (the exporter reads every shop
 * in one scrape). */
typedef struct csm_report_redis csm_report_redis;
/* NULL with the reason in err when Redis cannot be reached. */
csm_report_redis *csm_report_connect(const csm_config *cfg, char *err, size_t errlen);
void csm_report_disconnect(csm_report_redis *rr);
/* csm_report_read on @p rr's connection, without the P:shops check
 * (for callers that list the shops from P:shops themselves). */
int csm_report_read_on(csm_report_redis *rr, csm_report *r, char *err, size_t errlen);
/* Every shop of P:shops (redis-keys.md), sorted, as a malloc'd array of
 * malloc'd strings (csm_report_shops_free). 0, or -1 with the reason. */
int csm_report_shops(csm_report_redis *rr, char ***shops, size_t *n, char *err, size_t errlen);
void csm_report_shops_free(char **shops, size_t n);

/* The first min(10, n) intents by sessions, or by contribution to the
 * dissatisfied ratings, as a sorted copy to free. */
csm_report_named *csm_report_top10(const csm_registry *reg, const csm_report_list *l,
                                   int by_contribution, size_t *n);
/* Sum of rated_1_2 over the intents: the contributions' denominator. */
int64_t csm_report_total_rated_1_2(const csm_registry *reg, const csm_report_list *l);

/* The operations.md JSON shape; only_agent NULL for every agent. */
json_t *csm_report_json(const csm_report *r, const char *only_agent);
/* One alert record as in that JSON's "alerts" (also the dashboard's feed). */
json_t *csm_report_alert_json(const csm_report_alert *a);
/* Frees an alert's strings and zeroes it. */
void csm_report_alert_clear(csm_report_alert *a);

/* csm_report_shops on a connection of its own, for one-off callers. */
int csm_report_list_shops(const csm_config *cfg, char ***shops, size_t *n, char *err,
                          size_t errlen);

#endif
