/* Writer schemas for `run` (run_schemas.h): asks, takes the answers, and
 * tells ops what each schema id means for its messages. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "registry_conf.h"
#include "run_internal.h"
#include "run_schemas.h"
#include "schema_registry.h"

/* A wait on a source that does not answer is logged when it starts, then
 * once a minute while it lasts. */
#define REMIND_MS 60000

typedef struct csm_run_schemas {
    csm_schema_fetcher *fetcher;
    uint64_t *told; /* (id, stream) pairs whose verdict was logged */
    size_t n_told, cap_told;
    int64_t down_since_ms, reminded_ms; /* the source has not answered since; 0 it has */
    char down_why[256];
} csm_run_schemas;

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    void *g = realloc(*v, c * size);
    if (!g)
        return -1;
    *v = g;
    *cap = c;
    return 0;
}

int csm_run_schemas_start(csm_run *r, char *err, size_t errlen)
{
    csm_registry_conf conf;
    csm_registry_conf_from_config(&r->cfg, &conf);
    if (!csm_registry_configured(&conf))
        return 0;
    csm_run_schemas *rs = calloc(1, sizeof *rs);
    if (!rs || !(rs->fetcher = csm_schema_fetcher_new(&conf, err, errlen))) {
        free(rs);
        return -1;
    }
    r->schemas = rs;
    csm_codec_set_lookup(r->codec, 1);
    csm_codec_set_cache_max(r->codec, (size_t)r->cfg.registry_cache_max);
    csm_logf(CSM_LOG_INFO, "run", "writer schemas by id from %s%s%s",
             conf.dir && *conf.dir ? conf.dir : "",
             conf.dir && *conf.dir && conf.url && *conf.url ? " then " : "",
             conf.url && *conf.url ? conf.url : "");
    return 0;
}

void csm_run_schemas_stop(csm_run *r)
{
    csm_run_schemas *rs = r->schemas;
    if (!rs)
        return;
    csm_schema_fetcher_free(rs->fetcher);
    free(rs->told);
    free(rs);
    r->schemas = NULL;
}

void csm_run_schemas_want(csm_run *r, csm_pslot *s)
{
    csm_run_schemas *rs = r->schemas;
    for (int t = 0; t < 2; t++) {
        csm_tp *tp = &s->tp[t];
        if (!tp->needs_schema)
            continue;
        if (!tp->paused) {
            r->pause_stale = 1;
            csm_logf(CSM_LOG_DEBUG, "run", "%s partition %d: waits for writer schema id %d",
                     r->topics[t], (int)s->partition, (int)tp->schema_id);
        }
        /* Asked on every turn the partition waits: the fetcher asks the
         * source once until its answer has been taken. */
        if (rs)
            csm_schema_fetcher_want(rs->fetcher, tp->schema_id);
    }
}

/* What messages of @p id on topic @p t become, said once per pair. */
static void tell_verdict(csm_run *r, int32_t id, int t)
{
    csm_run_schemas *rs = r->schemas;
    uint64_t pair = (uint64_t)(uint32_t)id << 1 | (uint64_t)t;
    for (size_t i = 0; i < rs->n_told; i++)
        if (rs->told[i] == pair)
            return;
    if (!grow((void **)&rs->told, &rs->cap_told, rs->n_told, sizeof *rs->told))
        rs->told[rs->n_told++] = pair;
    csm_schema_verdict v;
    csm_codec_schema_verdict(r->codec, id, (csm_stream)t, &v);
    csm_tel_snap *n = &r->tel_now;
    n->schemas_known++;
    if (v.compatible)
        csm_logf(CSM_LOG_INFO, "run", "writer schema id %d on %s: compatible%s%s", (int)id,
                 r->topics[t], *v.why ? ": " : "", v.why);
    else
        csm_logf(CSM_LOG_WARN, "run",
                 "writer schema id %d on %s: incompatible: %s; its messages go to the "
                 "dead-letter topic",
                 (int)id, r->topics[t], v.why);
    n->schemas_incompatible += !v.compatible;
}

/* The partitions whose head waited for @p id decode it again. */
static void wake(csm_run *r, int32_t id, int found)
{
    CSM_PSET_FOREACH(&r->ps, s)
    {
        for (int t = 0; t < 2; t++) {
            csm_tp *tp = &s->tp[t];
            if (!tp->needs_schema || tp->schema_id != id)
                continue;
            if (found)
                tell_verdict(r, id, t);
            tp->needs_schema = 0;
            r->pause_stale = 1;
        }
    }
}

static void on_answer(void *arg, int32_t id, csm_schema_status st, const char *text, size_t len)
{
    csm_run *r = arg;
    csm_run_schemas *rs = r->schemas;
    csm_tel_snap *n = &r->tel_now;
    if (st == CSM_SCHEMA_UNAVAILABLE) {
        n->c.schema_lookups[CSM_LOOKUP_UNAVAILABLE]++;
        snprintf(rs->down_why, sizeof rs->down_why, "%s", text);
        if (!rs->down_since_ms) {
            rs->down_since_ms = rs->reminded_ms = csm_monotonic_ms();
            csm_logf(CSM_LOG_WARN, "run",
                     "writer schema id %d: %s; the partitions that need it stay paused, and "
                     "the lookup is retried (nothing is dead-lettered for this)",
                     (int)id, text);
        }
        return;
    }
    if (rs->down_since_ms) {
        csm_logf(CSM_LOG_INFO, "run",
                 "writer schemas: the source answers again after %" PRId64 " s",
                 (csm_monotonic_ms() - rs->down_since_ms) / 1000);
        rs->down_since_ms = 0;
    }
    if (st == CSM_SCHEMA_FOUND) {
        n->c.schema_lookups[CSM_LOOKUP_FOUND]++;
        char why[512];
        if (csm_codec_add_writer_schema(r->codec, id, text, len, why, sizeof why))
            csm_logf(CSM_LOG_WARN, "run", "writer schema id %d is not an Avro record schema: %s",
                     (int)id, why);
    } else {
        n->c.schema_lookups[CSM_LOOKUP_NOT_FOUND]++;
        n->schemas_known++; /* by id: whatever topic it was met on */
        n->schemas_missing++;
        csm_codec_add_missing_schema(r->codec, id, text);
        csm_logf(CSM_LOG_WARN, "run",
                 "writer schema id %d: %s; its messages go to the dead-letter topic", (int)id,
                 text);
    }
    wake(r, id, st == CSM_SCHEMA_FOUND);
}

/* For /readyz and /metrics: how many topic partitions wait, for what. */
static void publish_waits(csm_run *r)
{
    csm_tel_snap *n = &r->tel_now;
    n->schema_waiting = 0;
    CSM_PSET_FOREACH(&r->ps, s)
    {
        for (int t = 0; t < 2; t++)
            if (s->tp[t].needs_schema) {
                if (!n->schema_waiting++)
                    n->schema_wait_id = s->tp[t].schema_id;
            }
    }
    csm_run_schemas *rs = r->schemas;
    n->schema_down_ms = rs ? rs->down_since_ms : 0;
    snprintf(n->schema_err, sizeof n->schema_err, "%s", rs ? rs->down_why : "");
}

void csm_run_schemas_tick(csm_run *r, int64_t now)
{
    csm_run_schemas *rs = r->schemas;
    if (rs)
        csm_schema_fetcher_poll(rs->fetcher, on_answer, r);
    publish_waits(r);
    /* Only a wait that holds partitions back is worth a reminder: an id
     * asked for by a partition since revoked is still fetched, quietly. */
    uint64_t waiting = r->tel_now.schema_waiting;
    if (rs && rs->down_since_ms && waiting && now - rs->reminded_ms >= REMIND_MS) {
        rs->reminded_ms = now;
        csm_logf(CSM_LOG_WARN, "run",
                 "%" PRIu64 " topic partition(s) still paused after %" PRId64
                 " s waiting for writer schema id %d: %s",
                 waiting, (now - rs->down_since_ms) / 1000, (int)r->tel_now.schema_wait_id,
                 rs->down_why);
    }
}
