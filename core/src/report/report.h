/* A shop's figures for a day or a range of days, read from Redis: the
 * board and all-day blocks, the agents, the intents and the alerts, with
 * counters summed over the range. The report command, the exporter and the
 * dashboard all read through here; rates are computed from the sums by the
 * figure table (figures.h), never stored. */
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

typedef struct csm_report {
    const char *shop; /* set by the caller, with from and to */
    int32_t from, to;
    csm_block board, allday;
    csm_report_list agents, intents;
    csm_report_alert *alerts;
    size_t n_alerts;
} csm_report;

/* Reads r->shop's figures for days r->from..r->to (set by the caller, the
 * rest zeroed). Agents and intents come sorted by name, alerts in stream
 * order. 0, or -1 with the reason in err. */
int csm_report_read(const csm_config *cfg, csm_report *r, char *err, size_t errlen);
void csm_report_free(csm_report *r);

/* The first min(10, n) intents by sessions, or by contribution to the
 * dissatisfied ratings, as a sorted copy to free. */
csm_report_named *csm_report_top10(const csm_report_list *l, int by_contribution, size_t *n);
/* Sum of rated_1_2 over the intents: the contributions' denominator. */
int64_t csm_report_total_rated_1_2(const csm_report_list *l);

/* The operations.md JSON shape; only_agent NULL for every agent. */
json_t *csm_report_json(const csm_report *r, const char *only_agent);
/* One alert record as in that JSON's "alerts" (also the dashboard's feed). */
json_t *csm_report_alert_json(const csm_report_alert *a);
/* Frees an alert's strings and zeroes it. */
void csm_report_alert_clear(csm_report_alert *a);

/* Every shop id seen (the P:shops set), sorted; free with
 * csm_report_shops_free. 0, or -1 with the reason in err. */
int csm_report_shops(const csm_config *cfg, char ***shops, size_t *n, char *err, size_t errlen);
void csm_report_shops_free(char **shops, size_t n);

#endif
