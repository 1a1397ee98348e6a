/* SATISFACTION_BELOW_TARGET (metrics.md "Alerts", "Settled details"): the
 * one alert about a shop rather than a session. For day D it is decided
 * when event time passes the end of D+1, from the board counters of
 * D-6 … D summed over every partition, so no single partition's engine
 * can decide it. Instead:
 *
 *  - whenever an engine adds to a board `rated` counter of day r, it marks
 *    (shop, D) "due" for D = r … r+6 in the sorted set P:sbt:due, scored
 *    with the end of D+1 (UTC ms), in the same flush as the counter;
 *  - once the event time of every partition has passed a member's score
 *    (the minimum of the checkpoints' clocks), csmetrics reads the seven
 *    board hashes — final by then — decides, and removes the member and
 *    writes the alert in one atomic step, so it happens once whichever
 *    instance gets there first.
 *
 * The decision itself is this file's pure function, shared by `run`,
 * `replay` and the test kit. */
#ifndef CSM_SAT_TARGET_H
#define CSM_SAT_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "alert_outbox.h"
#include "config.h"
#include "deltas.h"
#include "shoptime.h"

#define CSM_SBT_WINDOW_DAYS 7

/* The alert type the core raises itself, declared like the plugins'
 * (figure: the 7-day rate in basis points). */
extern const csm_alert_decl csm_sbt_alert_decl;

/* P:sbt:due into buf; its length or -1. */
int csm_sbt_key(char *buf, size_t n, const char *prefix);

/* A due member's string, "YYYY-MM-DD|PLATFORM|shop"; its length or -1. */
int csm_sbt_member(char *buf, size_t n, int32_t day, csm_platform platform, const char *shop);

/* Marks the days whose decision a board rating of @p day feeds; @p shop_id
 * is @p shop interned in @p d. */
void csm_sbt_note(csm_deltas *d, csm_shoptime *st, const char *shop, uint32_t shop_id,
                  csm_platform platform, int32_t day);

/* Reads a counter of the shop's board hash of a day (0 when absent). */
typedef int64_t (*csm_sbt_counter_fn)(void *arg, const char *shop, int32_t day, const char *field);

/* The decision for one due member. Returns 1 with the alert's values in
 * @p rec (strings owned by @p rec, free with csm_alert_rec_clear), 0 when
 * the rate is not below target (or there were no ratings), -1 for a
 * malformed member. */
int csm_sbt_decide(const csm_config *cfg, csm_shoptime *st, const char *member,
                   csm_sbt_counter_fn get, void *arg, csm_alert_rec *rec);

/* Without Redis (test kit, `replay --print`): decides every due member of
 * @p d scored below @p clock from the counters in @p d itself, adding the
 * alerts to it. Returns the number of alerts raised. */
long csm_sbt_close_in_deltas(const csm_config *cfg, csm_shoptime *st, csm_deltas *d, int64_t clock);

/* The shop's target in basis points: shops.<id>.satisfaction_target, else
 * alerts.satisfaction_target (a fraction such as 0.8, or "80%"). */
int64_t csm_sbt_target_bp(const csm_config *cfg, csm_shoptime *st, const char *shop);
/* Parses a target; -1 if it is not a number in [0, 1] or a percentage. */
int64_t csm_sbt_parse_target(const char *s);

#endif
