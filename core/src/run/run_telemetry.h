/* The daemon's telemetry (docs/telemetry.md): what `run` counts for
 * /metrics and what /readyz judges by. The consume loop keeps the figures
 * (csm_tel_snap, loop-private) and publishes a copy a few times a second;
 * the HTTP handlers, on libmicrohttpd's threads, read only that copy.
 * This header holds the figures and the pure functions over them (the
 * harvest of an engine's counts, the text format, the readiness rules);
 * the loop's side is in run_internal.h (run_telemetry.c). */
#ifndef CSM_RUN_TELEMETRY_H
#define CSM_RUN_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"
#include "config.h"
#include "engine.h"

/* Not ready when the loop has not published for this long, or a flush
 * has been in flight this long (docs/telemetry.md, "Readiness"). */
#define CSM_TEL_STALL_MS 5000
/* How often the loop publishes its figures. */
#define CSM_TEL_PUBLISH_MS 250
/* With no flush reaching Redis for this long, the loop sends a PING, so
 * an idle daemon notices a Redis that went away. */
#define CSM_TEL_PROBE_MS 1000
/* Distinct (plugin, statistic) pairs kept; more are not shown. */
#define CSM_TEL_MAX_PSTATS 256

/* Why a message went to the dead-letter topic. */
enum {
    CSM_DL_UNDECODABLE,         /* not a record of the topic's schema, or breaks the contract */
    CSM_DL_REJECTED,            /* the engine's ingest rules: timestamp bounds, 7-day rule, size */
    CSM_DL_LATE,                /* behind event time - allowed_lateness */
    CSM_DL_SCHEMA_INCOMPATIBLE, /* written with a schema ours cannot read */
    CSM_DL_UNKNOWN_SCHEMA,      /* its schema id exists nowhere */
    CSM_DL_NREASONS
};
extern const char *const csm_tel_dl_reasons[CSM_DL_NREASONS];

/* How a writer-schema lookup ended (csm_schema_status). */
enum { CSM_LOOKUP_FOUND, CSM_LOOKUP_NOT_FOUND, CSM_LOOKUP_UNAVAILABLE, CSM_LOOKUP_NOUTCOMES };

/* How a flush ended. */
enum { CSM_FLUSH_OK, CSM_FLUSH_FAILED, CSM_FLUSH_CONFLICT, CSM_FLUSH_NOUTCOMES };

/* Upper bounds (seconds) of the flush-duration histogram's buckets. */
#define CSM_TEL_NBUCKETS 12
extern const double csm_tel_flush_le[CSM_TEL_NBUCKETS];

typedef struct csm_tel_topic {
    uint64_t in, applied, duplicate, late;
    uint64_t dead[CSM_DL_NREASONS];
} csm_tel_topic;

/* Counters of this process since it started (by csm_stream for topics,
 * by chain index for plugins). */
typedef struct csm_tel_counters {
    csm_tel_topic topic[2];
    uint64_t flushes[CSM_FLUSH_NOUTCOMES];
    uint64_t flush_bucket[CSM_TEL_NBUCKETS]; /* not cumulative; above the last: count - sum */
    uint64_t flush_count;
    double flush_seconds;
    uint64_t redis_errors, redis_retries, ckpt_bytes, alerts, timers_fired, bad_keys;
    uint64_t schema_lookups[CSM_LOOKUP_NOUTCOMES];
    uint64_t plugin_ns[CSM_MAX_PLUGINS];
    csm_plugin_stat pstats[CSM_TEL_MAX_PSTATS];
    size_t n_pstats;
} csm_tel_counters;

/* What a partition's engine had counted when last harvested: its counts
 * describe the engine (restored with the checkpoint, or since it was
 * created), the process's are the differences. */
typedef struct csm_tel_seen {
    csm_engine_stats stats;
    uint64_t alerts;
    uint64_t plugin_ns[CSM_MAX_PLUGINS];
    int64_t pstats[CSM_MAX_PLUGIN_STATS];
    size_t n_pstats;
} csm_tel_seen;

typedef struct csm_tel_lag {
    int32_t partition;
    int topic; /* csm_stream */
    int64_t lag;
} csm_tel_lag;

typedef enum csm_tel_phase { CSM_TEL_STARTING, CSM_TEL_RUNNING, CSM_TEL_STOPPING } csm_tel_phase;

typedef struct csm_tel_snap {
    csm_tel_counters c;
    /* Gauges, as of the publication. */
    uint64_t plugin_entries[CSM_MAX_PLUGINS];
    uint64_t timers_pending, partitions_owned;
    csm_tel_lag *lag;
    size_t n_lag, cap_lag;
    /* What readiness is judged by. */
    csm_tel_phase phase;
    int joined;           /* holds an assignment of the group (maybe empty) */
    int redis_ok;         /* the last command sent to Redis was answered */
    char redis_err[256];  /* when not */
    int64_t sink_down_ms; /* flushes failing since (monotonic ms); 0 not */
    char sink_err[256];   /* the last failure */
    int64_t flight_ms;    /* the flush in flight began (monotonic ms); 0 none */
    int64_t published_ms; /* the loop's last publication (monotonic ms) */
    /* Writer schemas: topic partitions waiting for one, and, when the
     * source failed to answer, since when and why. */
    uint64_t schema_waiting;
    int32_t schema_wait_id;
    int64_t schema_down_ms; /* 0: no failed lookup outstanding */
    char schema_err[256];
    uint64_t schemas_known, schemas_incompatible, schemas_missing;
} csm_tel_snap;

/* Names the figures are labelled with (fixed for the process's life). */
typedef struct csm_tel_names {
    const char *topics[2];
    const char *plugins[CSM_MAX_PLUGINS];
    size_t n_plugins;
    int session; /* chain index of the session plugin (open sessions), -1 none */
} csm_tel_names;

/* Starts counting a freshly loaded engine from where it stands. */
void csm_tel_adopt(csm_tel_seen *seen, const csm_engine *e);
/* Adds what @p e counted since the last harvest (or adopt) to @p c. */
void csm_tel_harvest(csm_tel_counters *c, csm_tel_seen *seen, const csm_engine *e);
/* A message of topic @p t that does not decode, for @p reason (CSM_DL_…). */
void csm_tel_undecodable(csm_tel_counters *c, int t, int reason);
/* A flush that took @p seconds, into the histogram. */
void csm_tel_flush_observe(csm_tel_counters *c, double seconds);

/* 1 ready; 0 with a one-line reason in @p why. @p now_ms: monotonic ms. */
int csm_tel_ready(const csm_tel_snap *s, int64_t now_ms, char *why, size_t n);
/* The /metrics text of @p s; @p ready and @p rss_bytes are the handler's. */
void csm_tel_format(csm_writer *w, const csm_tel_snap *s, const csm_tel_names *names, int ready,
                    uint64_t rss_bytes);
/* Copies @p from into @p to, keeping @p to's lag array (grown as needed). */
void csm_tel_snap_copy(csm_tel_snap *to, const csm_tel_snap *from);
void csm_tel_snap_free(csm_tel_snap *s);

#endif
