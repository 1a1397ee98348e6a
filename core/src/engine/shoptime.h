/* Shop-local time: each shop's time zone (tz database, via the C
 * library) and assessment window, from the configuration. */
#ifndef CSM_SHOPTIME_H
#define CSM_SHOPTIME_H

#include <stdint.h>

#include "config.h"
#include "csmetrics/plugin.h"

typedef struct csm_shoptime csm_shoptime;

/* Fails (NULL + err naming the key) for a time zone the system's tz
 * database does not know. */
csm_shoptime *csm_shoptime_new(const csm_config *cfg, char *err, size_t errlen);
void csm_shoptime_free(csm_shoptime *st);

/* The tz database name of the shop's zone ("Asia/Shanghai"): its own, else
 * time.timezone. */
const char *csm_shoptime_zone(csm_shoptime *st, const char *shop);
/* UTC offset in seconds of the shop's zone at ts. */
int32_t csm_shoptime_offset(csm_shoptime *st, const char *shop, csm_ts ts);
int32_t csm_shoptime_day(csm_shoptime *st, const char *shop, csm_ts ts);
int csm_shoptime_hour(csm_shoptime *st, const char *shop, csm_ts ts);
csm_ts csm_shoptime_day_start(csm_shoptime *st, const char *shop, int32_t day);
/* 1 if ts's shop-local time of day is in the window of the shop (its
 * own, else its platform's, else the default): start <= t < end. */
int csm_shoptime_in_window(csm_shoptime *st, const char *shop, csm_platform platform, csm_ts ts);
/* A shop's extra setting (shops.<id>.<key>), or NULL. */
const char *csm_shoptime_setting(csm_shoptime *st, const char *shop, const char *key);

#endif
