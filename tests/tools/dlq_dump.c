/* Test helper: reads a topic from the beginning to its end and prints
 * one line per message with the dead-letter headers,
 *   <csm.topic> TAB <csm.partition> TAB <csm.offset> TAB <csm.reason> TAB <key>
 * (with --full two more columns: the csm.truncated header, "-" when
 * absent, and the value's length in bytes),
 * or, with --watermarks, the sum of the partitions' high watermarks
 * (messages ever produced, since the mock never trims below 5 MB), or,
 * with --alerts SCHEMA_DIR, the alerts topic decoded, one line per record:
 *   <partition> TAB <csm.alert_seq> TAB <field>=<value> TAB …
 * or, with --raw, any topic with where each message is and its bytes:
 *   <partition> TAB <offset> TAB <key> TAB <value hex> TAB <csm.topic> TAB
 *   <csm.partition> TAB <csm.offset> TAB <csm.reason> TAB <csm.truncated> */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "alert_avro.h"

static void die(const char *what, const char *why)
{
    fprintf(stderr, "dlq_dump: %s: %s\n", what, why);
    exit(2);
}

static rd_kafka_t *consumer(const char *brokers)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[] = {"bootstrap.servers",
                        brokers,
                        "group.id",
                        "csm-dlq-dump",
                        "enable.auto.commit",
                        "false",
                        "enable.partition.eof",
                        "true",
                        "auto.offset.reset",
                        "earliest",
                        "fetch.wait.max.ms",
                        "10",
                        NULL};
    for (int i = 0; kv[i]; i += 2)
        if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], err, sizeof err) != RD_KAFKA_CONF_OK)
            die(kv[i], err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk)
        die("consumer", err);
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

static int partition_count(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    if (e)
        die("metadata", rd_kafka_err2str(e));
    int n = md->topic_cnt == 1 && !md->topics[0].err ? md->topics[0].partition_cnt : -1;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    if (n < 0)
        die(topic, "no such topic");
    return n;
}

static void header(const rd_kafka_message_t *m, const char *name, char *out, size_t n)
{
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t len;
    snprintf(out, n, "-");
    if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, name, &v, &len))
        return;
    snprintf(out, n, "%.*s", (int)len, (const char *)v);
}

static void print_alert(csm_alert_avro *a, const rd_kafka_message_t *m)
{
    char seq[32];
    header(m, "csm.alert_seq", seq, sizeof seq);
    csm_alert_rec rec;
    if (csm_alert_avro_decode(a, m->payload, m->len, &rec)) {
        printf("%d\t%s\tundecodable\n", (int)m->partition, seq);
        return;
    }
    printf("%d\t%s", (int)m->partition, seq);
    for (int i = 0; i < CSM_ALERT_NFIELDS; i++)
        printf("\t%s=%s", csm_alert_field_names[i], rec.v[i]);
    printf("\n");
    csm_alert_rec_clear(&rec);
}

/* --raw: the message where it is, its bytes and the dead-letter headers
 * (so a test can match each dead letter to the message it stands for). */
static void print_raw(const rd_kafka_message_t *m)
{
    static const char *const names[] = {"csm.topic", "csm.partition", "csm.offset", "csm.reason",
                                        "csm.truncated"};
    printf("%d\t%lld\t%.*s\t", (int)m->partition, (long long)m->offset, (int)m->key_len,
           m->key ? (const char *)m->key : "");
    for (size_t i = 0; i < m->len; i++)
        printf("%02x", ((const unsigned char *)m->payload)[i]);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char v[1024];
        header(m, names[i], v, sizeof v);
        printf("\t%s", v);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    int watermarks = argc > 1 && !strcmp(argv[1], "--watermarks");
    int alerts = argc > 2 && !strcmp(argv[1], "--alerts");
    int full = argc > 1 && !strcmp(argv[1], "--full");
    int raw = argc > 1 && !strcmp(argv[1], "--raw");
    int skip = watermarks + full + raw + 2 * alerts;
    if (argc != 3 + skip) {
        fprintf(stderr, "usage: dlq_dump [--watermarks | --full | --raw | --alerts SCHEMA_DIR] "
                        "BROKERS TOPIC\n");
        return 2;
    }
    const char *brokers = argv[1 + skip], *topic = argv[2 + skip];
    char err[512];
    csm_alert_avro *avro = alerts ? csm_alert_avro_new(argv[2], err, sizeof err) : NULL;
    if (alerts && !avro)
        die("--alerts", err);
    rd_kafka_t *rk = consumer(brokers);
    int n = partition_count(rk, topic);
    if (watermarks) {
        long long sum = 0;
        for (int p = 0; p < n; p++) {
            int64_t lo, hi;
            rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
            if (e)
                die("watermarks", rd_kafka_err2str(e));
            sum += hi;
        }
        printf("%lld\n", sum);
        rd_kafka_destroy(rk);
        return 0;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    for (int p = 0; p < n; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    int at_end = 0;
    time_t deadline = time(NULL) + 30;
    while (at_end < n && time(NULL) < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            at_end++;
        } else if (m->err) {
            fprintf(stderr, "dlq_dump: %s\n", rd_kafka_message_errstr(m));
        } else if (avro) {
            print_alert(avro, m);
        } else if (raw) {
            print_raw(m);
        } else {
            char t[256], p[32], o[32], r[1024];
            header(m, "csm.topic", t, sizeof t);
            header(m, "csm.partition", p, sizeof p);
            header(m, "csm.offset", o, sizeof o);
            header(m, "csm.reason", r, sizeof r);
            printf("%s\t%s\t%s\t%s\t%.*s", t, p, o, r, (int)m->key_len,
                   m->key ? (const char *)m->key : "");
            if (full) {
                char cut[32];
                header(m, "csm.truncated", cut, sizeof cut);
                printf("\t%s\t%zu", cut, m->len);
            }
            printf("\n");
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    csm_alert_avro_free(avro);
    if (at_end < n) {
        fprintf(stderr, "dlq_dump: timed out before the end of %s\n", topic);
        return 1;
    }
    return 0;
}
