/**
 * @file testkit.h
 * @brief Plugin test kit: run a plugin chain in-process on events given
 * as JSON Lines and assert on the figures it emitted. No broker, no Redis:
 * the same engine as `csmetrics run`, with the writes kept in memory.
 *
 * @code
 *   csm_testkit *tk = csm_testkit_new("plugins:\n  - name: session\n", err, sizeof err);
 *   csm_testkit_feed(tk, "{\"stream\":\"chat\", …}");
 *   csm_testkit_end(tk);
 *   assert(csm_testkit_counter(tk, "board", "s1", "2026-11-20", "sessions_started") == 1);
 * @endcode
 */
#ifndef CSMETRICS_TESTKIT_H
#define CSMETRICS_TESTKIT_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct csm_testkit csm_testkit;

/** Verdicts of csm_testkit_feed(). */
#define CSM_TK_ACCEPTED 0 /**< buffered for application in ts order */
#define CSM_TK_DUPLICATE 1
#define CSM_TK_LATE 2
#define CSM_TK_DEADLETTER 3 /**< undecodable or outside the contract */

/**
 * A chain configured by @p config_yaml, the same YAML as csmetrics.yaml
 * (NULL: defaults, i.e. every built-in plugin). Plugins are looked up in
 * the directories of the CSM_PLUGIN_PATH environment variable, then those
 * of the configuration's plugin_path, then the csmetrics build tree's
 * plugin directory when the test runs inside one, else lib/csmetrics/plugins
 * of the prefix the test program itself sits in. To chain the installed
 * built-in plugins, name their directory (pkg-config variable plugindir,
 * CMake variable csmetrics_PLUGIN_DIR) in plugin_path. NULL with a reason
 * in @p err on failure.
 */
csm_testkit *csm_testkit_new(const char *config_yaml, char *err, size_t errlen);
void csm_testkit_free(csm_testkit *tk);

/** Offers one JSON Lines event (arrival order). Returns a CSM_TK_* verdict. */
int csm_testkit_feed(csm_testkit *tk, const char *json_line);
/** Feeds every line of a file; returns the number of lines fed or -1. */
long csm_testkit_feed_file(csm_testkit *tk, const char *path);
/** End of input: applies what is buffered and fires every timer. */
void csm_testkit_end(csm_testkit *tk);

/**
 * A counter as it would stand in Redis. @p block is "board", "allday",
 * "agent:<agent_id>" or "intent:<intent>"; @p field a figure name,
 * "split.<split>.<name>" or "hourly.<name>.<HH>".
 */
int64_t csm_testkit_counter(csm_testkit *tk, const char *block, const char *shop, const char *day,
                            const char *field);
/** Number of members of a per-day set, e.g. "aftersale_seekers". */
int64_t csm_testkit_set_size(csm_testkit *tk, const char *shop, const char *day, const char *name);
/** The same set on the board: the members added with an anchor in the
 *  shop's assessment window. */
int64_t csm_testkit_board_set_size(csm_testkit *tk, const char *shop, const char *day,
                                   const char *name);
/** Number of alerts of @p type (NULL: all) for @p shop (NULL: all shops). */
long csm_testkit_alert_count(csm_testkit *tk, const char *shop, const char *type);
/** The i-th alert (emission order) as field/value pairs; NULL past the end.
 *  Look a field up with csm_testkit_alert_field(). */
const char *csm_testkit_alert_field(csm_testkit *tk, long i, const char *field);

/** Calls @p fn for every counter emitted so far (Redis key, hash field,
 *  value), in first-emission order; a non-zero return stops the walk. */
typedef int (*csm_testkit_counter_fn)(void *arg, const char *key, const char *field, int64_t value);
void csm_testkit_foreach_counter(csm_testkit *tk, csm_testkit_counter_fn fn, void *arg);

/** Why the last csm_testkit_feed() did not accept its event ("" if it did). */
const char *csm_testkit_last_reason(csm_testkit *tk);

/** Prints every key and field emitted so far, sorted (for debugging). */
void csm_testkit_dump(csm_testkit *tk, FILE *out);

/** Redis key prefix used ("csm" unless configured). */
const char *csm_testkit_prefix(csm_testkit *tk);

/* Memory measurements (tests/tools/state_bench.c, docs/memory.md). */

/** Entries of state the chain holds now: the sum of every plugin's
 *  state_entries() (customer records, tracked sessions, open refunds …,
 *  each plugin counting its own). */
uint64_t csm_testkit_state_entries(csm_testkit *tk);
/** Size in bytes of the engine snapshot a flush would write now (event
 *  time, dedup memory, buffered events, timers and every plugin's state);
 *  0 if a plugin's snapshot fails. */
size_t csm_testkit_snapshot_bytes(csm_testkit *tk);
/**
 * Restart as after kill -9 at a flush: writes a checkpoint as a flush of
 * `run` would (only what changed since the previous one: touched entries,
 * timers, engine state), then replaces the engine with a fresh one
 * restored from everything checkpointed so far. Writes emitted so far are
 * kept. 0, or -1 with the reason in @p err (e.g. a plugin that cannot read
 * its state). Plugin tests call it between events to prove save_entry()
 * and load_entry() lose nothing.
 */
int csm_testkit_restart(csm_testkit *tk, char *err, size_t errlen);

/** Forgets every write emitted so far, as `run` does after each flush (the
 *  buffers are kept for reuse), so that a long run does not accumulate
 *  them. Counters, sets and alerts read afterwards, and the
 *  SATISFACTION_BELOW_TARGET decisions of csm_testkit_end(), see only what
 *  was emitted since. The engine and plugin state are untouched. */
void csm_testkit_discard_writes(csm_testkit *tk);

#ifdef __cplusplus
}
#endif
#endif
