/* Every dead letter lands, through librdkafka's mock broker: one too
 * large for the producer's message.max.bytes or refused by the broker for
 * its size is cut to fit and flagged (csm.truncated); any other failure
 * keeps it, and csm_deadletter_sync() fails until it is delivered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "config.h"
#include "deadletter.h"

#define PRODUCE_API 0   /* Kafka protocol ApiKey of ProduceRequest */
#define MAX_BYTES 20000 /* the dead-letter producer's message.max.bytes here */

typedef struct cluster {
    rd_kafka_t *anchor;
    rd_kafka_mock_cluster_t *mc;
    char bootstrap[256];
    csm_config cfg;
    csm_deadletter *d;
} cluster;

static int setup(void **state)
{
    cluster *c = calloc(1, sizeof *c);
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    c->anchor = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    assert_non_null(c->anchor);
    c->mc = rd_kafka_mock_cluster_new(c->anchor, 1);
    assert_non_null(c->mc);
    assert_int_equal(rd_kafka_mock_topic_create(c->mc, "dlq", 1, 1), 0);
    snprintf(c->bootstrap, sizeof c->bootstrap, "%s", rd_kafka_mock_cluster_bootstraps(c->mc));
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "kafka:\n  brokers: \"%s\"\n  deadletter_topic: dlq\n  properties:\n"
             "    message.max.bytes: %d\n    log_level: 3\n",
             c->bootstrap, MAX_BYTES);
    if (csm_config_load_string(yaml, &c->cfg, err, sizeof err))
        fail_msg("config: %s", err);
    c->d = csm_deadletter_new(&c->cfg, err, sizeof err);
    if (!c->d)
        fail_msg("deadletter: %s", err);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    cluster *c = *state;
    csm_deadletter_free(c->d);
    csm_config_free(&c->cfg);
    rd_kafka_mock_cluster_destroy(c->mc);
    rd_kafka_destroy(c->anchor);
    free(c);
    return 0;
}

/* A consumed message of cs.chat.events partition 3 at @p offset. */
static void send_letter(cluster *c, const char *value, size_t len, int64_t offset)
{
    rd_kafka_message_t m = {0};
    m.payload = (void *)value;
    m.len = len;
    m.key = (void *)"S1:c1";
    m.key_len = 5;
    m.partition = 3;
    m.offset = offset;
    csm_deadletter_send(c->d, &m, "cs.chat.events", "invalid Avro: test");
}

typedef struct landed {
    size_t n;
    struct {
        size_t len;
        char *value;
        char key[16], truncated[24], offset[24], partition[16], topic[64], reason[64];
        size_t wire; /* key + value + header names and values */
    } m[8];
} landed;

static void header(rd_kafka_headers_t *h, const char *name, char *out, size_t n, size_t *wire)
{
    const void *v;
    size_t len;
    snprintf(out, n, "-");
    if (!h || rd_kafka_header_get_last(h, name, &v, &len))
        return;
    snprintf(out, n, "%.*s", (int)len, (const char *)v);
    *wire += strlen(name) + len;
}

/* Everything the dlq topic holds, from its beginning. */
static void read_topic(cluster *c, landed *out)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[] = {
        "bootstrap.servers", c->bootstrap, "group.id", "t", "enable.partition.eof", "true",
        "log_level",         "3",          NULL};
    for (int i = 0; kv[i]; i += 2)
        assert_int_equal(rd_kafka_conf_set(conf, kv[i], kv[i + 1], err, sizeof err), 0);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    assert_non_null(rk);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, "dlq", 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    memset(out, 0, sizeof *out);
    time_t deadline = time(NULL) + 20;
    for (int eof = 0; !eof && time(NULL) < deadline;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eof = 1;
        } else if (!m->err && out->n < 8) {
            rd_kafka_headers_t *h = NULL;
            rd_kafka_message_headers(m, &h);
            size_t *wire = &out->m[out->n].wire;
            *wire = m->len + m->key_len;
            header(h, "csm.truncated", out->m[out->n].truncated, 24, wire);
            header(h, "csm.offset", out->m[out->n].offset, 24, wire);
            header(h, "csm.partition", out->m[out->n].partition, 16, wire);
            header(h, "csm.topic", out->m[out->n].topic, 64, wire);
            header(h, "csm.reason", out->m[out->n].reason, 64, wire);
            snprintf(out->m[out->n].key, 16, "%.*s", (int)m->key_len, (const char *)m->key);
            out->m[out->n].len = m->len;
            out->m[out->n].value = malloc(m->len + 1);
            memcpy(out->m[out->n].value, m->payload, m->len);
            out->n++;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

static void free_landed(landed *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->m[i].value);
}

static char *pattern(size_t n)
{
    char *v = malloc(n);
    for (size_t i = 0; i < n; i++)
        v[i] = (char)('a' + i % 26);
    return v;
}

static void assert_counters(cluster *c, uint64_t sent, uint64_t truncated, uint64_t failed)
{
    assert_int_equal(csm_deadletter_sent(c->d), sent);
    assert_int_equal(csm_deadletter_truncated(c->d), truncated);
    assert_int_equal(csm_deadletter_failed(c->d), failed);
}

static void assert_headers(const landed *l, size_t i, const char *offset, const char *truncated)
{
    assert_string_equal(l->m[i].topic, "cs.chat.events");
    assert_string_equal(l->m[i].partition, "3");
    assert_string_equal(l->m[i].offset, offset);
    assert_string_equal(l->m[i].reason, "invalid Avro: test");
    assert_string_equal(l->m[i].key, "S1:c1");
    assert_string_equal(l->m[i].truncated, truncated);
}

/* Larger than the producer accepts, just over it with the headers, and
 * a small one: the first two are cut to a prefix that fits, the small
 * one goes whole. */
static void too_large_for_the_producer(void **state)
{
    cluster *c = *state;
    char *v = pattern(50000);
    send_letter(c, v, 50000, 7);
    send_letter(c, v, MAX_BYTES - 10, 8); /* value fits, with key and headers not */
    send_letter(c, v, 100, 9);
    assert_int_equal(csm_deadletter_sync(c->d, 10000), 0);
    assert_counters(c, 3, 2, 0);
    landed l;
    read_topic(c, &l);
    assert_int_equal(l.n, 3);
    assert_headers(&l, 0, "7", "50000");
    assert_headers(&l, 1, "8", "19990");
    assert_headers(&l, 2, "9", "-");
    assert_int_equal(l.m[2].len, 100);
    for (size_t i = 0; i < 3; i++)
        assert_memory_equal(l.m[i].value, v, l.m[i].len);
    for (size_t i = 0; i < 2; i++) {
        /* cut to what fits, and not to much less (the slack is < 1 KB) */
        assert_true(l.m[i].wire < MAX_BYTES);
        assert_true(l.m[i].wire > MAX_BYTES - 1024);
    }
    free_landed(&l);
    free(v);
}

/* The broker's limit is below the producer's: a letter it refuses for
 * its size goes again with half the value until it is accepted. */
static void too_large_for_the_broker(void **state)
{
    cluster *c = *state;
    char *v = pattern(1000);
    rd_kafka_mock_push_request_errors(c->mc, PRODUCE_API, 2, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    send_letter(c, v, 1000, 11);
    assert_int_equal(csm_deadletter_sync(c->d, 10000), 0);
    assert_counters(c, 1, 1, 0);
    landed l;
    read_topic(c, &l);
    assert_int_equal(l.n, 1);
    assert_headers(&l, 0, "11", "1000");
    assert_int_equal(l.m[0].len, 250); /* refused at 1000 and at 500 */
    assert_memory_equal(l.m[0].value, v, 250);
    free_landed(&l);
    free(v);
}

/* Any other failure: sync fails (the caller's checkpoint stays before
 * the letter), and the letter is sent again by the next sync, once. */
static void other_failure_is_retried(void **state)
{
    cluster *c = *state;
    rd_kafka_mock_push_request_errors(c->mc, PRODUCE_API, 1, RD_KAFKA_RESP_ERR_INVALID_RECORD);
    send_letter(c, "abc", 3, 12);
    assert_int_equal(csm_deadletter_sync(c->d, 10000), -1);
    assert_counters(c, 0, 0, 1);
    assert_int_equal(csm_deadletter_sync(c->d, 10000), 0);
    assert_counters(c, 1, 0, 1);
    assert_int_equal(csm_deadletter_sync(c->d, 10000), 0);
    landed l;
    read_topic(c, &l);
    assert_int_equal(l.n, 1);
    assert_headers(&l, 0, "12", "-");
    assert_memory_equal(l.m[0].value, "abc", 3);
    free_landed(&l);
}

/* A broker that is down: undelivered, so sync fails; delivered once it
 * is back. */
static void broker_down_then_up(void **state)
{
    cluster *c = *state;
    send_letter(c, "x", 1, 13);
    assert_int_equal(csm_deadletter_sync(c->d, 10000), 0);
    rd_kafka_mock_broker_set_down(c->mc, 1);
    send_letter(c, "y", 1, 14);
    assert_int_equal(csm_deadletter_sync(c->d, 1500), -1);
    rd_kafka_mock_broker_set_up(c->mc, 1);
    assert_int_equal(csm_deadletter_sync(c->d, 20000), 0);
    assert_counters(c, 2, 0, 0);
    landed l;
    read_topic(c, &l);
    assert_int_equal(l.n, 2);
    assert_headers(&l, 1, "14", "-");
    free_landed(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(too_large_for_the_producer, setup, teardown),
        cmocka_unit_test_setup_teardown(too_large_for_the_broker, setup, teardown),
        cmocka_unit_test_setup_teardown(other_failure_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(broker_down_then_up, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
