/* The figures of run_telemetry.h: harvested from the engines by the loop,
 * judged and printed by the HTTP handlers (docs/telemetry.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom_text.h"
#include "run_telemetry.h"

const char *const csm_tel_dl_reasons[CSM_DL_NREASONS] = {"undecodable", "rejected", "late",
                                                         "schema_incompatible", "unknown_schema"};
static const char *const lookup_outcomes[CSM_LOOKUP_NOUTCOMES] = {"found", "not_found",
                                                                  "unavailable"};
static const char *const flush_outcomes[CSM_FLUSH_NOUTCOMES] = {"ok", "failed", "conflict"};
/* A flush is two round trips: milliseconds when all is well, seconds
 * when Redis is slow (redis.timeout is 2 s by default). */
const double csm_tel_flush_le[CSM_TEL_NBUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,   0.25,   0.5,   1,    2.5,   5};

void csm_tel_adopt(csm_tel_seen *seen, const csm_engine *e)
{
    memset(seen, 0, sizeof *seen);
    seen->stats = *csm_engine_stats_get(e);
    seen->alerts = csm_engine_alerts((csm_engine *)e)->last_seq;
    size_t n;
    const csm_plugin_stat *ps = csm_engine_plugin_stats(e, &n);
    for (size_t i = 0; i < n; i++)
        seen->pstats[i] = ps[i].value;
    seen->n_pstats = n;
    for (size_t i = 0; i < CSM_MAX_PLUGINS; i++)
        seen->plugin_ns[i] = csm_engine_plugin_ns(e, i);
}

static void harvest_topics(csm_tel_counters *c, csm_tel_seen *seen, const csm_engine_stats *now)
{
    const csm_engine_stats *was = &seen->stats;
    for (int t = 0; t < 2; t++) {
        csm_tel_topic *tp = &c->topic[t];
        tp->in += now->offered[t] - was->offered[t];
        tp->applied += now->applied[t] - was->applied[t];
        tp->duplicate += now->duplicate[t] - was->duplicate[t];
        tp->late += now->late[t] - was->late[t];
        tp->dead[CSM_DL_LATE] += now->late[t] - was->late[t];
        tp->dead[CSM_DL_REJECTED] += now->deadletter[t] - was->deadletter[t];
    }
    c->timers_fired += now->timers_fired - was->timers_fired;
    seen->stats = *now;
}

static csm_plugin_stat *pstat_slot(csm_tel_counters *c, uint32_t plugin, const char *name)
{
    for (size_t i = 0; i < c->n_pstats; i++)
        if (c->pstats[i].plugin == plugin && !strcmp(c->pstats[i].name, name))
            return &c->pstats[i];
    if (c->n_pstats == CSM_TEL_MAX_PSTATS)
        return NULL;
    csm_plugin_stat *s = &c->pstats[c->n_pstats++];
    s->plugin = plugin;
    snprintf(s->name, sizeof s->name, "%s", name);
    s->value = 0;
    return s;
}

static void harvest_plugins(csm_tel_counters *c, csm_tel_seen *seen, const csm_engine *e)
{
    size_t n;
    const csm_plugin_stat *ps = csm_engine_plugin_stats(e, &n);
    for (size_t i = 0; i < n; i++) {
        int64_t was = i < seen->n_pstats ? seen->pstats[i] : 0;
        if (ps[i].value == was)
            continue;
        csm_plugin_stat *s = pstat_slot(c, ps[i].plugin, ps[i].name);
        if (s)
            s->value += ps[i].value - was;
        seen->pstats[i] = ps[i].value;
    }
    seen->n_pstats = n;
    for (size_t i = 0; i < CSM_MAX_PLUGINS; i++) {
        uint64_t ns = csm_engine_plugin_ns(e, i);
        c->plugin_ns[i] += ns - seen->plugin_ns[i];
        seen->plugin_ns[i] = ns;
    }
}

void csm_tel_harvest(csm_tel_counters *c, csm_tel_seen *seen, const csm_engine *e)
{
    harvest_topics(c, seen, csm_engine_stats_get(e));
    uint64_t alerts = csm_engine_alerts((csm_engine *)e)->last_seq;
    c->alerts += alerts - seen->alerts;
    seen->alerts = alerts;
    harvest_plugins(c, seen, e);
}

void csm_tel_undecodable(csm_tel_counters *c, int t, int reason)
{
    c->topic[t].in++;
    c->topic[t].dead[reason]++;
}

void csm_tel_flush_observe(csm_tel_counters *c, double seconds)
{
    size_t b = 0;
    while (b < CSM_TEL_NBUCKETS && seconds > csm_tel_flush_le[b])
        b++;
    if (b < CSM_TEL_NBUCKETS)
        c->flush_bucket[b]++;
    c->flush_count++;
    c->flush_seconds += seconds;
}

/* ---- readiness ---- */

int csm_tel_ready(const csm_tel_snap *s, int64_t now_ms, char *why, size_t n)
{
    if (s->phase == CSM_TEL_STARTING)
        snprintf(why, n, "starting: connecting to Redis and Kafka");
    else if (s->phase == CSM_TEL_STOPPING)
        snprintf(why, n, "stopping");
    else if (now_ms - s->published_ms > CSM_TEL_STALL_MS)
        snprintf(why, n, "consume loop stalled: no turn for %" PRId64 " s",
                 (now_ms - s->published_ms) / 1000);
    else if (!s->joined)
        snprintf(why, n, "no partition assignment (joining the group, or a rebalance)");
    else if (!s->redis_ok)
        snprintf(why, n, "redis unreachable: %s", s->redis_err);
    else if (s->sink_down_ms)
        snprintf(why, n, "flushes failing for %" PRId64 " s: %s", (now_ms - s->sink_down_ms) / 1000,
                 s->sink_err);
    else if (s->flight_ms && now_ms - s->flight_ms > CSM_TEL_STALL_MS)
        snprintf(why, n, "a flush has been in flight for %" PRId64 " s",
                 (now_ms - s->flight_ms) / 1000);
    else if (s->schema_waiting && s->schema_down_ms)
        snprintf(why, n,
                 "%" PRIu64 " topic partition(s) paused for %" PRId64
                 " s waiting for writer schema id %d: %s",
                 s->schema_waiting, (now_ms - s->schema_down_ms) / 1000, (int)s->schema_wait_id,
                 s->schema_err);
    else
        return 1;
    return 0;
}

/* ---- the text ---- */

static void format_topics(csm_writer *w, const csm_tel_snap *s, const csm_tel_names *nm)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } fam[] = {
        {"csmetrics_messages_in_total", "Messages taken from the topic (decoded or not).",
         offsetof(csm_tel_topic, in)},
        {"csmetrics_messages_applied_total", "Events applied to the plugin chain.",
         offsetof(csm_tel_topic, applied)},
        {"csmetrics_messages_duplicate_total", "Events dropped as duplicates (event_id seen).",
         offsetof(csm_tel_topic, duplicate)},
        {"csmetrics_messages_late_total", "Events behind event time - allowed_lateness.",
         offsetof(csm_tel_topic, late)},
    };
    for (size_t f = 0; f < sizeof fam / sizeof *fam; f++) {
        csm_prom_family(w, fam[f].name, "counter", fam[f].help);
        for (int t = 0; t < 2; t++) {
            csm_prom_label l = {"topic", nm->topics[t]};
            const char *base = (const char *)&s->c.topic[t];
            csm_prom_u64(w, fam[f].name, &l, 1, *(const uint64_t *)(base + fam[f].off));
        }
    }
    csm_prom_family(w, "csmetrics_dead_letters_total", "counter",
                    "Messages sent to the dead-letter topic, by topic and reason.");
    for (int t = 0; t < 2; t++)
        for (int r = 0; r < CSM_DL_NREASONS; r++) {
            csm_prom_label l[2] = {{"topic", nm->topics[t]}, {"reason", csm_tel_dl_reasons[r]}};
            csm_prom_u64(w, "csmetrics_dead_letters_total", l, 2, s->c.topic[t].dead[r]);
        }
}

static void format_lag(csm_writer *w, const csm_tel_snap *s, const csm_tel_names *nm)
{
    csm_prom_family(w, "csmetrics_consumer_lag_messages", "gauge",
                    "High watermark minus the next offset to apply, per topic partition owned.");
    for (size_t i = 0; i < s->n_lag; i++) {
        char part[16];
        snprintf(part, sizeof part, "%d", (int)s->lag[i].partition);
        csm_prom_label l[2] = {{"topic", nm->topics[s->lag[i].topic]}, {"partition", part}};
        csm_prom_i64(w, "csmetrics_consumer_lag_messages", l, 2, s->lag[i].lag);
    }
}

static void format_flushes(csm_writer *w, const csm_tel_snap *s)
{
    csm_prom_family(w, "csmetrics_flushes_total", "counter",
                    "Flushes to Redis by outcome (conflict: a checkpoint had moved).");
    for (int o = 0; o < CSM_FLUSH_NOUTCOMES; o++) {
        csm_prom_label l = {"outcome", flush_outcomes[o]};
        csm_prom_u64(w, "csmetrics_flushes_total", &l, 1, s->c.flushes[o]);
    }
    const char *h = "csmetrics_flush_duration_seconds";
    csm_prom_family(w, h, "histogram", "From the cut of a flush to Redis's outcome.");
    uint64_t cum = 0;
    for (int b = 0; b < CSM_TEL_NBUCKETS; b++) {
        char le[16];
        snprintf(le, sizeof le, "%g", csm_tel_flush_le[b]);
        cum += s->c.flush_bucket[b];
        csm_prom_label l = {"le", le};
        csm_prom_u64(w, "csmetrics_flush_duration_seconds_bucket", &l, 1, cum);
    }
    csm_prom_label inf = {"le", "+Inf"};
    csm_prom_u64(w, "csmetrics_flush_duration_seconds_bucket", &inf, 1, s->c.flush_count);
    csm_prom_f64(w, "csmetrics_flush_duration_seconds_sum", NULL, 0, s->c.flush_seconds);
    csm_prom_u64(w, "csmetrics_flush_duration_seconds_count", NULL, 0, s->c.flush_count);
}

static void format_one(csm_writer *w, const char *name, const char *type, const char *help,
                       uint64_t v)
{
    csm_prom_family(w, name, type, help);
    csm_prom_u64(w, name, NULL, 0, v);
}

static void format_process(csm_writer *w, const csm_tel_snap *s, int ready, uint64_t rss)
{
    format_one(w, "csmetrics_redis_errors_total", "counter",
               "Flushes and probes that did not reach Redis (connection, timeout, error reply).",
               s->c.redis_errors);
    format_one(w, "csmetrics_redis_retries_total", "counter",
               "Flush attempts made again, with backoff, after a failed one.", s->c.redis_retries);
    format_one(w, "csmetrics_checkpoint_bytes_total", "counter",
               "Bytes of engine state written to checkpoints by successful flushes.",
               s->c.ckpt_bytes);
    format_one(w, "csmetrics_alerts_raised_total", "counter", "Alerts raised by the plugins.",
               s->c.alerts);
    format_one(w, "csmetrics_timers_fired_total", "counter", "Event-time timers fired.",
               s->c.timers_fired);
    format_one(w, "csmetrics_bad_keys_total", "counter",
               "Messages whose key is not <shop_id>:<customer_id> (counted all the same).",
               s->c.bad_keys);
    format_one(w, "csmetrics_timers_pending", "gauge", "Event-time timers set and not yet fired.",
               s->timers_pending);
    format_one(w, "csmetrics_partitions_owned", "gauge",
               "Partition numbers this instance owns (both topics' partition N).",
               s->partitions_owned);
    format_one(w, "csmetrics_ready", "gauge", "1 when /readyz answers 200.", (uint64_t)ready);
    format_one(w, "csmetrics_process_resident_memory_bytes", "gauge",
               "Resident set size (/proc/self/statm).", rss);
}

static void format_schemas(csm_writer *w, const csm_tel_snap *s)
{
    csm_prom_family(w, "csmetrics_schema_lookups_total", "counter",
                    "Writer-schema lookups answered by the schema directory or registry, by "
                    "outcome (unavailable ones are retried).");
    for (int o = 0; o < CSM_LOOKUP_NOUTCOMES; o++) {
        csm_prom_label l = {"outcome", lookup_outcomes[o]};
        csm_prom_u64(w, "csmetrics_schema_lookups_total", &l, 1, s->c.schema_lookups[o]);
    }
    format_one(w, "csmetrics_schema_waiting_partitions", "gauge",
               "Topic partitions paused until the writer schema of their next message is "
               "fetched.",
               s->schema_waiting);
    csm_prom_family(w, "csmetrics_writer_schemas", "gauge",
                    "Writer schema ids known, by how they resolve against ours: compatible, "
                    "incompatible (their messages are dead-lettered), missing (found nowhere).");
    static const char *const verdicts[] = {"compatible", "incompatible", "missing"};
    uint64_t v[] = {s->schemas_known - s->schemas_incompatible - s->schemas_missing,
                    s->schemas_incompatible, s->schemas_missing};
    for (int k = 0; k < 3; k++) {
        csm_prom_label l = {"verdict", verdicts[k]};
        csm_prom_u64(w, "csmetrics_writer_schemas", &l, 1, v[k]);
    }
}

static void format_plugins(csm_writer *w, const csm_tel_snap *s, const csm_tel_names *nm)
{
    csm_prom_family(w, "csmetrics_plugin_callback_seconds_total", "counter",
                    "Time in the plugin's on_event, on_derived and on_timer (sampled 1 in 16).");
    for (size_t i = 0; i < nm->n_plugins; i++) {
        csm_prom_label l = {"plugin", nm->plugins[i]};
        csm_prom_f64(w, "csmetrics_plugin_callback_seconds_total", &l, 1,
                     (double)s->c.plugin_ns[i] / 1e9);
    }
    csm_prom_family(w, "csmetrics_plugin_state_entries", "gauge",
                    "Entries the plugin holds (its state_entries()), over the partitions owned.");
    for (size_t i = 0; i < nm->n_plugins; i++) {
        csm_prom_label l = {"plugin", nm->plugins[i]};
        csm_prom_u64(w, "csmetrics_plugin_state_entries", &l, 1, s->plugin_entries[i]);
    }
    csm_prom_family(w, "csmetrics_plugin_events_total", "counter",
                    "Statistics the plugins add with stat_add().");
    for (size_t i = 0; i < s->c.n_pstats; i++) {
        const csm_plugin_stat *p = &s->c.pstats[i];
        if (p->plugin >= nm->n_plugins)
            continue;
        csm_prom_label l[2] = {{"plugin", nm->plugins[p->plugin]}, {"name", p->name}};
        csm_prom_i64(w, "csmetrics_plugin_events_total", l, 2, p->value);
    }
    format_one(w, "csmetrics_open_sessions", "gauge",
               "The session plugin's state entries: customers with an open session, a closed "
               "one still taking ratings, or PAID days.",
               nm->session >= 0 ? s->plugin_entries[nm->session] : 0);
}

void csm_tel_format(csm_writer *w, const csm_tel_snap *s, const csm_tel_names *names, int ready,
                    uint64_t rss_bytes)
{
    format_topics(w, s, names);
    format_lag(w, s, names);
    format_flushes(w, s);
    format_plugins(w, s, names);
    format_schemas(w, s);
    format_process(w, s, ready, rss_bytes);
}

void csm_tel_snap_copy(csm_tel_snap *to, const csm_tel_snap *from)
{
    csm_tel_lag *lag = to->lag;
    size_t cap = to->cap_lag;
    if (cap < from->n_lag) {
        cap = from->n_lag * 2;
        lag = realloc(lag, cap * sizeof *lag);
        if (!lag)
            abort();
    }
    *to = *from;
    to->lag = lag;
    to->cap_lag = cap;
    if (from->n_lag)
        memcpy(lag, from->lag, from->n_lag * sizeof *lag);
}

void csm_tel_snap_free(csm_tel_snap *s)
{
    free(s->lag);
    s->lag = NULL;
    s->n_lag = s->cap_lag = 0;
}
