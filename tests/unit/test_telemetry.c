/* The daemon's telemetry figures (run_telemetry.h, prom_text.h): the
 * readiness rules of docs/telemetry.md one by one, the exposition format
 * (escaping, histogram buckets), and figures placed in a snapshot by hand
 * coming out under their documented names. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "prom_text.h"
#include "run_telemetry.h"

#define NOW 1000000

static csm_tel_snap ready_snap(void)
{
    csm_tel_snap s;
    memset(&s, 0, sizeof s);
    s.phase = CSM_TEL_RUNNING;
    s.joined = 1;
    s.redis_ok = 1;
    s.published_ms = NOW - 100;
    return s;
}

static const char *verdict(const csm_tel_snap *s)
{
    static char why[512];
    return csm_tel_ready(s, NOW, why, sizeof why) ? "ready" : why;
}

static void readiness_rules(void **state)
{
    (void)state;
    csm_tel_snap s = ready_snap();
    assert_string_equal(verdict(&s), "ready");
    s.phase = CSM_TEL_STARTING;
    assert_string_equal(verdict(&s), "starting: connecting to Redis and Kafka");
    s.phase = CSM_TEL_STOPPING;
    assert_string_equal(verdict(&s), "stopping");

    s = ready_snap();
    s.published_ms = NOW - CSM_TEL_STALL_MS;
    assert_string_equal(verdict(&s), "ready");
    s.published_ms = NOW - 6500;
    assert_string_equal(verdict(&s), "consume loop stalled: no turn for 6 s");

    s = ready_snap();
    s.joined = 0;
    assert_string_equal(verdict(&s), "no partition assignment (joining the group, or a rebalance)");

    s = ready_snap();
    s.redis_ok = 0;
    strcpy(s.redis_err, "redis 127.0.0.1:6379: connect: Connection refused");
    assert_string_equal(verdict(&s),
                        "redis unreachable: redis 127.0.0.1:6379: connect: Connection refused");

    s = ready_snap();
    s.sink_down_ms = NOW - 3000;
    strcpy(s.sink_err, "dead letters not yet delivered to cs.deadletter");
    assert_string_equal(verdict(&s),
                        "flushes failing for 3 s: dead letters not yet delivered to cs.deadletter");

    s = ready_snap();
    s.flight_ms = NOW - CSM_TEL_STALL_MS;
    assert_string_equal(verdict(&s), "ready");
    s.flight_ms = NOW - 7200;
    assert_string_equal(verdict(&s), "a flush has been in flight for 7 s");

    /* Waiting for a writer schema is only a problem once the source failed to answer. */
    s = ready_snap();
    s.schema_waiting = 2;
    s.schema_wait_id = 21;
    assert_string_equal(verdict(&s), "ready");
    s.schema_down_ms = NOW - 12500;
    strcpy(s.schema_err, "http://127.0.0.1:8081: Couldn't connect to server");
    assert_string_equal(verdict(&s), "2 topic partition(s) paused for 12 s waiting for writer "
                                     "schema id 21: http://127.0.0.1:8081: Couldn't connect to "
                                     "server");
}

static char *text_of(csm_writer *w)
{
    csm_writer_put_bytes(w, "", 1);
    return (char *)w->data;
}

static void exposition_format(void **state)
{
    (void)state;
    csm_writer w = {0};
    csm_prom_family(&w, "x_total", "counter", "a \\ and a\nnewline, \"quoted\"");
    csm_prom_label l[2] = {{"a", "q\"b\\s\nn"}, {"b", ""}};
    csm_prom_u64(&w, "x_total", l, 2, 18446744073709551615u);
    csm_prom_i64(&w, "y", NULL, 0, -3);
    csm_prom_f64(&w, "z", l + 1, 1, 0.1);
    csm_prom_f64(&w, "z", NULL, 0, INFINITY);
    assert_string_equal(text_of(&w), "# HELP x_total a \\\\ and a\\nnewline, \"quoted\"\n"
                                     "# TYPE x_total counter\n"
                                     "x_total{a=\"q\\\"b\\\\s\\nn\",b=\"\"} 18446744073709551615\n"
                                     "y -3\n"
                                     "z{b=\"\"} 0.1\n"
                                     "z +Inf\n");
    csm_writer_free(&w);
}

/* The lines of @p text that start with @p prefix, joined. */
static const char *lines_of(const char *text, const char *prefix)
{
    static char out[4096];
    size_t used = 0, n = strlen(prefix);
    out[0] = 0;
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) + 1 : strlen(p);
        if (!strncmp(p, prefix, n) && used + len < sizeof out) {
            memcpy(out + used, p, len);
            used += len;
            out[used] = 0;
        }
        p += len;
    }
    return out;
}

static void figures_named(void **state)
{
    (void)state;
    csm_tel_snap s = ready_snap();
    /* 2^-10 s falls in the first bucket (le is inclusive), 2^-8 s in le=0.005, 8 s above
     * them all; the sum is exact in binary. */
    csm_tel_flush_observe(&s.c, 0.0009765625);
    csm_tel_flush_observe(&s.c, 0.00390625);
    csm_tel_flush_observe(&s.c, 8);
    csm_tel_undecodable(&s.c, 1, CSM_DL_UNDECODABLE);
    csm_tel_undecodable(&s.c, 1, CSM_DL_UNDECODABLE);
    csm_tel_undecodable(&s.c, 1, CSM_DL_SCHEMA_INCOMPATIBLE);
    s.c.schema_lookups[CSM_LOOKUP_FOUND] = 3;
    s.c.schema_lookups[CSM_LOOKUP_UNAVAILABLE] = 5;
    s.schema_waiting = 1;
    s.schemas_known = 4; /* of which 1 incompatible, 1 missing */
    s.schemas_incompatible = 1;
    s.schemas_missing = 1;
    s.c.topic[0].in = 7;
    s.c.pstats[0] = (csm_plugin_stat){1, "ignored_x", -2};
    s.c.n_pstats = 1;
    s.c.plugin_ns[0] = 1500000000;
    s.plugin_entries[0] = 4;
    s.plugin_entries[1] = 9;
    csm_tel_lag lag = {3, 1, 42};
    s.lag = &lag;
    s.n_lag = 1;
    csm_tel_names nm = {{"chat", "order"}, {"session", "sla"}, 2, 0};
    csm_writer w = {0};
    csm_tel_format(&w, &s, &nm, 1, 4096);
    const char *t = text_of(&w);
    assert_string_equal(lines_of(t, "csmetrics_flush_duration_seconds"),
                        "csmetrics_flush_duration_seconds_bucket{le=\"0.001\"} 1\n"
                        "csmetrics_flush_duration_seconds_bucket{le=\"0.0025\"} 1\n"
                        "csmetrics_flush_duration_seconds_bucket{le=\"0.005\"} 2\n"
                        "csmetrics_flush_duration_seconds_bucket{le=\"0.01\"} 2\n"
                        "csmetrics_flush_duration_seconds_bucket{le=\"0.025\"} 2\n"
                        "csmetrics_flush_duration_seconds_bucket{le=\"0.05\"} 2\n"
                        "csmetrics_flush_duration_seconds_bucket{le=\"0.1\"} 2\n"
                        "csmetrics_flush_duration_seconds_bucket{le=\"0.25\"} 2\n"
                        "csmetrics_flush_duration_seconds_bucket{le=\"0.5\"} 2\n"
                        "csmetrics_flush_duration_seconds_bucket{le=\"1\"} 2\n"
                        "csmetrics_flush_duration_seconds_bucket{le=\"2.5\"} 2\n"
                        "csmetrics_flush_duration_seconds_bucket{le=\"5\"} 2\n"
                        "csmetrics_flush_duration_seconds_bucket{le=\"+Inf\"} 3\n"
                        "csmetrics_flush_duration_seconds_sum 8.0048828125\n"
                        "csmetrics_flush_duration_seconds_count 3\n");
    assert_string_equal(lines_of(t, "csmetrics_messages_in_total{"),
                        "csmetrics_messages_in_total{topic=\"chat\"} 7\n"
                        "csmetrics_messages_in_total{topic=\"order\"} 3\n");
    assert_string_equal(
        lines_of(t, "csmetrics_dead_letters_total{topic=\"order\""),
        "csmetrics_dead_letters_total{topic=\"order\",reason=\"undecodable\"} 2\n"
        "csmetrics_dead_letters_total{topic=\"order\",reason=\"rejected\"} 0\n"
        "csmetrics_dead_letters_total{topic=\"order\",reason=\"late\"} 0\n"
        "csmetrics_dead_letters_total{topic=\"order\",reason=\"schema_incompatible\"} "
        "1\n"
        "csmetrics_dead_letters_total{topic=\"order\",reason=\"unknown_schema\"} "
        "0\n");
    assert_string_equal(lines_of(t, "csmetrics_schema_"),
                        "csmetrics_schema_lookups_total{outcome=\"found\"} 3\n"
                        "csmetrics_schema_lookups_total{outcome=\"not_found\"} 0\n"
                        "csmetrics_schema_lookups_total{outcome=\"unavailable\"} 5\n"
                        "csmetrics_schema_waiting_partitions 1\n");
    assert_string_equal(lines_of(t, "csmetrics_writer_schemas{"),
                        "csmetrics_writer_schemas{verdict=\"compatible\"} 2\n"
                        "csmetrics_writer_schemas{verdict=\"incompatible\"} 1\n"
                        "csmetrics_writer_schemas{verdict=\"missing\"} 1\n");
    assert_string_equal(lines_of(t, "csmetrics_consumer_lag_messages{"),
                        "csmetrics_consumer_lag_messages{topic=\"order\",partition=\"3\"} 42\n");
    assert_string_equal(lines_of(t, "csmetrics_plugin_events_total{"),
                        "csmetrics_plugin_events_total{plugin=\"sla\",name=\"ignored_x\"} -2\n");
    assert_string_equal(lines_of(t, "csmetrics_plugin_callback_seconds_total{"),
                        "csmetrics_plugin_callback_seconds_total{plugin=\"session\"} 1.5\n"
                        "csmetrics_plugin_callback_seconds_total{plugin=\"sla\"} 0\n");
    assert_string_equal(lines_of(t, "csmetrics_open_sessions "), "csmetrics_open_sessions 4\n");
    assert_string_equal(lines_of(t, "csmetrics_ready "), "csmetrics_ready 1\n");
    assert_string_equal(lines_of(t, "csmetrics_process_resident_memory_bytes "),
                        "csmetrics_process_resident_memory_bytes 4096\n");
    /* Every family is announced once, with its type, before its samples. */
    assert_string_equal(lines_of(t, "# TYPE csmetrics_flush_d"),
                        "# TYPE csmetrics_flush_duration_seconds histogram\n");
    assert_string_equal(lines_of(t, "# TYPE csmetrics_dead"),
                        "# TYPE csmetrics_dead_letters_total counter\n");
    csm_writer_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(readiness_rules),
        cmocka_unit_test(exposition_format),
        cmocka_unit_test(figures_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
