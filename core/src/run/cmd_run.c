/* `csmetrics run`: the daemon. Consumes both topics in one consumer group,
 * feeds each partition number's engine in event-time order and writes the
 * figures with the partition's offsets in one Redis transaction. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config_check.h"
#include "kafka_conf.h"
#include "log.h"
#include "run_internal.h"
#include "run_schemas.h"

static volatile sig_atomic_t run_stop;

static void on_signal(int sig)
{
    (void)sig;
    run_stop = 1;
}

int csm_run_topic_index(const csm_run *r, const char *topic)
{
    for (int t = 0; t < 2; t++)
        if (!strcmp(r->topics[t], topic))
            return t;
    return -1;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: csmetrics run [-c FILE] [--redis HOST:PORT] [--brokers LIST]\n"
                 "  Consumes the chat and order topics in the configured consumer group and\n"
                 "  keeps the figures in Redis, exactly once. SIGTERM/SIGINT: flush, leave the\n"
                 "  group, exit.\n");
}

static void on_message(csm_run *r, rd_kafka_message_t *m)
{
    int t = m->rkt ? csm_run_topic_index(r, rd_kafka_topic_name(m->rkt)) : -1;
    csm_pslot *s = t < 0 ? NULL : csm_pset_get(&r->ps, m->partition);
    if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (s && (s->tp[t].fetched < 0 || m->offset >= s->tp[t].fetched)) {
                s->tp[t].eof = 1;
                s->tp[t].fetched = m->offset;
            }
        } else {
            csm_logf(CSM_LOG_WARN, "kafka", "%s%s%s", m->rkt ? rd_kafka_topic_name(m->rkt) : "",
                     m->rkt ? ": " : "", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
        return;
    }
    /* Messages of partitions we no longer own, of unloaded slots (they are
     * fetched again after the seek) or from before a seek: not ours. */
    if (!s || !s->engine || !s->tp[t].assigned ||
        (s->tp[t].fetched >= 0 && m->offset < s->tp[t].fetched)) {
        rd_kafka_message_destroy(m);
        return;
    }
    csm_tp *tp = &s->tp[t];
    csm_msgq_push(&tp->q, m);
    tp->fetched = m->offset + 1;
    tp->eof = 0;
    if (!tp->backlog && tp->q.len >= CSM_RUN_BACKLOG_HIGH) {
        tp->backlog = 1;
        r->pause_stale = 1;
    }
}

/* Printable form of a key for the log: at most 64 bytes, others as '?'. */
static void key_for_log(const rd_kafka_message_t *m, char *out, size_t n)
{
    size_t len = m->key ? m->key_len : 0, i = 0;
    for (; i < len && i < 64 && i + 1 < n; i++) {
        unsigned char c = ((const unsigned char *)m->key)[i];
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[i] = 0;
}

/* The partition is the producer's choice, so another key still counts
 * correctly here, but it says the producer does not key as events.md
 * requires: one customer's events may be spread over partitions. */
static void check_key(csm_run *r, int t, const rd_kafka_message_t *m, const csm_event *ev)
{
    size_t ns = strlen(ev->shop_id), nc = strlen(ev->customer_id);
    const char *k = m->key;
    if (k && m->key_len == ns + 1 + nc && !memcmp(k, ev->shop_id, ns) && k[ns] == ':' &&
        !memcmp(k + ns + 1, ev->customer_id, nc))
        return;
    r->bad_keys++;
    size_t p = (size_t)m->partition;
    if (p >= r->key_warned_n) {
        unsigned char *w = realloc(r->key_warned, p + 1);
        if (!w)
            abort();
        memset(w + r->key_warned_n, 0, p + 1 - r->key_warned_n);
        r->key_warned = w;
        r->key_warned_n = p + 1;
    }
    if (r->key_warned[p] & (1u << t))
        return;
    r->key_warned[p] |= (unsigned char)(1u << t);
    char shown[65];
    key_for_log(m, shown, sizeof shown);
    csm_logf(CSM_LOG_WARN, "run",
             "%s partition %d offset %" PRId64 ": message key '%s' (%zu bytes) is not "
             "<shop_id>:<customer_id>; counted as bad_keys, logged once per partition",
             r->topics[t], (int)m->partition, m->offset, shown, m->key ? m->key_len : 0);
}

/* The merge waits without limit for a topic that is behind (a stalled
 * fetch, a broker down); ops should hear of it once, and of its end. */
static void report_merge_wait(const csm_run *r, csm_pslot *s, int64_t now)
{
    if (!s->wait_since_ms) {
        if (s->wait_logged)
            csm_logf(CSM_LOG_INFO, "run", "partition %d: both topics flowing again",
                     (int)s->partition);
        s->wait_logged = 0;
        return;
    }
    if (s->wait_logged || now - s->wait_since_ms < CSM_RUN_MERGE_WAIT_LOG_MS)
        return;
    int waiting_for = s->tp[CSM_STREAM_CHAT].q.len ? CSM_STREAM_ORDER : CSM_STREAM_CHAT;
    csm_logf(CSM_LOG_WARN, "run",
             "partition %d: waiting %" PRId64 " s for %s (behind, not at its end) before "
             "applying more events, so that none of its events become late",
             (int)s->partition, (now - s->wait_since_ms) / 1000, r->topics[waiting_for]);
    s->wait_logged = 1;
}

/* The /metrics reason of a message that did not decode. */
static int dead_letter_class(int decode_code)
{
    return decode_code == CSM_DECODE_INCOMPATIBLE     ? CSM_DL_SCHEMA_INCOMPATIBLE
           : decode_code == CSM_DECODE_UNKNOWN_SCHEMA ? CSM_DL_UNKNOWN_SCHEMA
                                                      : CSM_DL_UNDECODABLE;
}

static size_t process_slot(csm_run *r, csm_pslot *s, int64_t now)
{
    size_t n = 0;
    char reason[512];
    csm_engine_set_wall_clock(s->engine, &r->bounds, csm_wall_clock_ms());
    /* Stops at flush_max_events so a flush never covers much more. */
    while (n < 1000 && r->pending + n < (uint64_t)r->cfg.flush_max_events) {
        int t = csm_pslot_pick(s, r->codec, r->cfg.framing, now);
        if (t < 0) {
            if (csm_pslot_needs_schema(s))
                csm_run_schemas_want(r, s);
            break;
        }
        csm_tp *tp = &s->tp[t];
        const rd_kafka_message_t *m = csm_msgq_peek(&tp->q);
        if (tp->head_bad) {
            csm_deadletter_send(r->dlq, m, r->topics[t], tp->head_reason);
            r->dead_letters++;
            csm_tel_undecodable(&r->tel_now.c, t, dead_letter_class(tp->head_code));
        } else {
            check_key(r, t, m, &tp->head.ev);
            csm_verdict v =
                csm_engine_offer_decoded(s->engine, &tp->head.ev, reason, sizeof reason);
            if (v == CSM_VERDICT_LATE || v == CSM_VERDICT_DEADLETTER) {
                csm_deadletter_send(r->dlq, m, r->topics[t], reason);
                r->dead_letters++;
            }
        }
        csm_pslot_consume_head(s, t);
        n++;
    }
    report_merge_wait(r, s, now);
    for (int t = 0; t < 2; t++)
        if (s->tp[t].backlog && s->tp[t].q.len <= CSM_RUN_BACKLOG_LOW) {
            s->tp[t].backlog = 0;
            r->pause_stale = 1;
        }
    if (n) {
        s->dirty = 1;
        s->last_msg_ms = now;
        s->w_last = csm_engine_event_time(s->engine);
        r->pending += n;
        r->offered += n;
    }
    return n;
}

/* A quiet partition's event time follows the wall clock from its last
 * event, so session timeouts and alerts fire without new traffic. One
 * step a second is plenty for minute-scale timers. A partition that has
 * never carried an event starts from the wall clock once both its topics
 * are read to the end: it too must have an event time, or the shop-day
 * decisions (which wait for every partition) would never be made. */
static void idle_advance(csm_run *r, csm_pslot *s, int64_t now)
{
    int64_t quiet = now - s->last_msg_ms;
    if (s->tp[0].q.len || s->tp[1].q.len || quiet < r->cfg.idle_advance_ms ||
        now - s->last_idle_ms < 1000)
        return;
    if (s->w_last == CSM_TS_NONE) {
        if (!s->tp[0].eof || !s->tp[1].eof || csm_engine_event_time(s->engine) != CSM_TS_NONE)
            return;
        s->w_last = csm_wall_clock_ms() - quiet;
    }
    csm_engine_advance_to(s->engine, csm_ts_add(s->w_last, quiet));
    s->last_idle_ms = now;
    s->dirty = 1;
}

/* 0 connected, -1 stopped while waiting, 1 Redis refused the
 * configuration (retrying cannot help). */
static int open_redis(csm_run *r)
{
    char err[512];
    int64_t backoff = CSM_RUN_BACKOFF_MIN_MS;
    int logged = 0, refused = 0;
    while (!run_stop) {
        r->redis = csm_redis_store_try_open(&r->cfg.redis, &refused, err, sizeof err);
        if (refused) {
            fprintf(stderr, "csmetrics run: %s\n", err);
            return 1;
        }
        if (r->redis) {
            if (logged)
                csm_logf(CSM_LOG_INFO, "run", "redis %s:%d reachable", r->cfg.redis.host,
                         r->cfg.redis.port);
            return 0;
        }
        if (!logged++)
            csm_logf(CSM_LOG_ERROR, "run", "redis %s:%d: %s; retrying", r->cfg.redis.host,
                     r->cfg.redis.port, err);
        struct timespec ts = {backoff / 1000, (backoff % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        backoff = backoff * 2 > CSM_RUN_BACKOFF_MAX_MS ? CSM_RUN_BACKOFF_MAX_MS : backoff * 2;
    }
    return -1;
}

static int create_consumer(csm_run *r, char *err, size_t errlen)
{
    /* Offsets live in Redis; Kafka gets them after each flush only for lag
     * tooling. Partition EOF events tell the merge a topic has caught up. */
    const char *defaults[] = {"group.id",
                              r->cfg.group_id,
                              "client.id",
                              "csmetrics",
                              "partition.assignment.strategy",
                              "range",
                              "enable.auto.commit",
                              "false",
                              "enable.auto.offset.store",
                              "false",
                              "auto.offset.reset",
                              "earliest",
                              "enable.partition.eof",
                              "true",
                              "fetch.wait.max.ms",
                              "10",
                              "fetch.max.bytes",
                              "1048576",
                              NULL};
    rd_kafka_conf_t *conf = csm_kafka_conf_new(&r->cfg, defaults, err, errlen);
    if (!conf)
        return -1;
    rd_kafka_conf_set_opaque(conf, r);
    rd_kafka_conf_set_rebalance_cb(conf, csm_run_rebalance_cb);
    char why[512];
    r->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    if (!r->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "consumer: %s", why);
        return -1;
    }
    rd_kafka_poll_set_consumer(r->rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(2);
    for (int t = 0; t < 2; t++)
        rd_kafka_topic_partition_list_add(topics, r->topics[t], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(r->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e) {
        snprintf(err, errlen, "subscribe: %s", rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

static void log_start(csm_run *r)
{
    char chain[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < r->chain->n && used < sizeof chain; i++)
        used += (size_t)snprintf(chain + used, sizeof chain - used, "%s%s", i ? "," : "",
                                 r->chain->links[i].plugin->name);
    csm_logf(CSM_LOG_INFO, "run",
             "start: brokers=%s group=%s topics=%s,%s deadletter=%s chain=%s redis=%s:%d/%d",
             r->cfg.brokers, r->cfg.group_id, r->topics[0], r->topics[1], r->cfg.deadletter_topic,
             chain, r->cfg.redis.host, r->cfg.redis.port, r->cfg.redis.db);
}

static void main_loop(csm_run *r)
{
    int busy = 0;
    int64_t last_stats = csm_monotonic_ms();
    while (!run_stop && !r->fatal) {
        /* A flush in flight is looked at every millisecond when idle. */
        int wait_ms = busy ? 0 : csm_redis_flush_busy(r->redis) ? 1 : 10;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r->rk, wait_ms);
        for (int n = 0; m; m = ++n < 10000 ? rd_kafka_consumer_poll(r->rk, 0) : NULL)
            on_message(r, m);
        int64_t now = csm_monotonic_ms();
        busy = 0;
        if (!r->sink_down) {
            CSM_PSET_FOREACH(&r->ps, s)
            {
                if (!s->engine)
                    continue;
                busy |= process_slot(r, s, now) > 0;
                idle_advance(r, s, now);
                csm_tel_harvest(&r->tel_now.c, &s->tel, s->engine);
            }
        }
        csm_run_schemas_tick(r, now);
        csm_run_reload_pending(r, now);
        csm_run_flush_tick(r, now, 0);
        csm_run_trim_tick(r, now);
        if (r->pause_stale)
            csm_run_apply_pause(r);
        csm_deadletter_poll(r->dlq);
        csm_run_sbt_tick(r, now, 0);
        csm_run_alerts_pump(r, now);
        csm_run_tel_tick(r, now);
        if (now - last_stats >= 60000) {
            last_stats = now;
            csm_logf(CSM_LOG_INFO, "run",
                     "progress: %" PRIu64 " events offered, %" PRIu64 " dead letters, %" PRIu64
                     " flushes, %zu partition numbers owned, %" PRIu64 " bad keys",
                     r->offered, r->dead_letters, r->flushes, r->ps.n, r->bad_keys);
        }
    }
}

/* SIGTERM: what was consumed is written before the group is left; a
 * Redis that stays down is given a few seconds, then the checkpoint
 * simply stays where it was. */
static int shutdown_flush(csm_run *r)
{
    char err[512] = "";
    int64_t deadline = csm_monotonic_ms() + 3000;
    for (;;) {
        int rc = csm_run_flush(r, 0, err, sizeof err);
        if (rc == 0)
            return 0;
        if (rc == 1) {
            /* Dropped conflicting slots; the others may go now. */
            continue;
        }
        if (csm_monotonic_ms() >= deadline) {
            csm_logf(CSM_LOG_ERROR, "run", "final flush failed: %s", err);
            return -1;
        }
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Leaves the group, serving the revoke, but not past @p deadline_ms: a
 * close during a rebalance waits for the join in flight (with the mock
 * coordinator, up to session.timeout.ms), and SIGTERM promises an exit
 * within a few seconds. Everything is flushed by then; a member that
 * does not say goodbye is noticed at session.timeout.ms. 1 if it left. */
static int leave_group(csm_run *r, int64_t deadline_ms)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(r->rk);
    rd_kafka_error_t *e = rd_kafka_consumer_close_queue(r->rk, q);
    int left = 1;
    if (e) {
        csm_logf(CSM_LOG_WARN, "run", "leaving the group: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        left = 0;
    }
    while (left && !rd_kafka_consumer_closed(r->rk)) {
        if (csm_monotonic_ms() >= deadline_ms) {
            csm_logf(CSM_LOG_WARN, "run",
                     "leaving the group did not finish in time (a rebalance in progress); "
                     "exiting anyway: the group notices at session.timeout.ms");
            left = 0;
            break;
        }
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 50);
        if (ev && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
            csm_run_rebalance_cb(r->rk, rd_kafka_event_error(ev),
                                 rd_kafka_event_topic_partition_list(ev), r);
        if (ev)
            rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    return left;
}

int csm_cmd_run(int argc, char **argv)
{
    csm_cli_common o = {0};
    for (int i = 1; i < argc; i++) {
        int c = csm_cli_common_arg(&o, argc, argv, &i);
        if (c < 0)
            return 2;
        if (c)
            continue;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
        usage(stderr);
        return 2;
    }
    csm_run *r = calloc(1, sizeof *r);
    if (!r)
        return 1;
    if (csm_cli_load_config(&o, &r->cfg)) {
        free(r);
        return 2;
    }
    r->topics[CSM_STREAM_CHAT] = r->cfg.chat_topic;
    r->topics[CSM_STREAM_ORDER] = r->cfg.order_topic;
    r->bounds = csm_time_bounds_run(&r->cfg);
    r->stop = &run_stop;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int rc = 1, left = 0;
    char err[1024];
    csm_checked checked;
    if (csm_config_check(&r->cfg, &checked, err, sizeof err)) {
        fprintf(stderr, "csmetrics run: %s\n", err);
        goto out;
    }
    r->chain = checked.chain;
    r->st = checked.st;
    r->codec = checked.codec;
    for (size_t i = 0; i < r->cfg.n_schema_ids; i++)
        csm_codec_map_schema_id(r->codec, r->cfg.schema_ids[i], r->cfg.schema_streams[i]);
    log_start(r);
    if (csm_run_schemas_start(r, err, sizeof err)) {
        fprintf(stderr, "csmetrics run: schema registry: %s\n", err);
        goto out;
    }
    if (csm_run_tel_start(r, err, sizeof err)) {
        fprintf(stderr, "csmetrics run: %s\n", err);
        goto out;
    }
    int opened = open_redis(r);
    if (opened) {
        rc = opened > 0; /* refused: 1; stopped while waiting: nothing consumed, 0 */
        goto out;
    }
    if (!(r->dlq = csm_deadletter_new(&r->cfg, err, sizeof err)) ||
        (*r->cfg.alerts_topic && !(r->alerts = csm_alerts_out_new(&r->cfg, csm_run_alerts_delivered,
                                                                  r, err, sizeof err))) ||
        create_consumer(r, err, sizeof err)) {
        fprintf(stderr, "csmetrics run: %s\n", err);
        goto out;
    }
    r->last_flush_ms = csm_monotonic_ms();
    /* Known before any assignment: even an instance that owns nothing
     * yet can decide shop-days that every partition has passed. */
    csm_run_count_partitions(r);
    csm_run_tel_phase(r, CSM_TEL_RUNNING);
    main_loop(r);
    csm_run_tel_phase(r, CSM_TEL_STOPPING);
    csm_logf(CSM_LOG_INFO, "run", "stopping%s", r->fatal ? " after a fatal error" : "");
    int64_t leave_by = csm_monotonic_ms() + CSM_RUN_STOP_BUDGET_MS;
    int flushed = r->fatal ? -1 : shutdown_flush(r);
    /* What the last flush made due is decided before leaving, so a stopped
     * run leaves Redis as complete as its checkpoints say. */
    if (!flushed)
        csm_run_sbt_tick(r, csm_monotonic_ms(), 1);
    if (!flushed && r->alerts) {
        /* Alerts of the last flush go out, and their delivery is recorded. */
        int64_t budget = leave_by - csm_monotonic_ms();
        csm_run_alerts_drain(r, budget > 500 ? (int)budget - 500 : 0);
        flushed = shutdown_flush(r);
    }
    /* Leaving the group revokes (nothing left to flush) and frees slots. */
    left = leave_group(r, leave_by);
    csm_logf(CSM_LOG_INFO, "run",
             "stopped: %" PRIu64 " events offered, %" PRIu64 " dead letters (%" PRIu64
             " delivered, %" PRIu64 " truncated), %" PRIu64 " flushes, %" PRIu64 " bad keys",
             r->offered, r->dead_letters, csm_deadletter_sent(r->dlq),
             csm_deadletter_truncated(r->dlq), r->flushes, r->bad_keys);
    rc = r->fatal || flushed ? 1 : 0;
out:
    if (r->rk)
        rd_kafka_destroy_flags(r->rk, left ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    csm_run_tel_stop(r);
    csm_run_schemas_stop(r);
    csm_run_flush_end(r);
    csm_pset_free(&r->ps);
    csm_deadletter_free(r->dlq);
    free(r->key_warned);
    csm_alerts_out_free(r->alerts);
    csm_redis_store_close(r->redis);
    csm_codec_free(r->codec);
    csm_shoptime_free(r->st);
    csm_chain_free(r->chain);
    csm_config_free(&r->cfg);
    free(r);
    return rc;
}
