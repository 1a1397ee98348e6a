#include "alerts_out.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "alert_avro.h"
#include "kafka_conf.h"
#include "log.h"

struct csm_alerts_out {
    rd_kafka_t *rk;
    char *topic;
    int partitions;
    int32_t schema_id;
    csm_alert_avro *avro;
    const csm_config *cfg;
    csm_alerts_delivered_fn fn;
    void *arg;
};

/* What a delivery report needs back, packed into the message opaque. */
#define SEQ_BITS 48
#define NO_PARTITION 0xffffu

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    csm_alerts_out *o = opaque;
    uint64_t tag = (uint64_t)(uintptr_t)m->_private;
    uint64_t ptag = tag >> SEQ_BITS;
    int32_t source = ptag == NO_PARTITION ? -1 : (int32_t)ptag;
    uint64_t seq = tag & ((1ull << SEQ_BITS) - 1);
    if (m->err)
        csm_logf(CSM_LOG_ERROR, "alerts", "delivery of alert %" PRIu64 " to %s [%d] failed: %s",
                 seq, o->topic, (int)m->partition, rd_kafka_err2str(m->err));
    o->fn(o->arg, source, seq, !m->err);
}

static int topic_partitions(rd_kafka_t *rk, const char *topic, char *err, size_t errlen)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    int n = -1;
    if (e)
        snprintf(err, errlen, "kafka.alerts_topic: metadata of '%s': %s", topic,
                 rd_kafka_err2str(e));
    else if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt <= 0)
        snprintf(err, errlen,
                 "kafka.alerts_topic: topic '%s' does not exist (create it with "
                 "as many partitions as the chat topic)",
                 topic);
    else
        n = md->topics[0].partition_cnt;
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return n;
}

csm_alerts_out *csm_alerts_out_new(const csm_config *cfg, csm_alerts_delivered_fn fn, void *arg,
                                   char *err, size_t errlen)
{
    static const char *const defaults[] = {"client.id",
                                           "csmetrics-alerts",
                                           "enable.idempotence",
                                           "true",
                                           "linger.ms",
                                           "5",
                                           "message.timeout.ms",
                                           "0",
                                           NULL};
    csm_alerts_out *o = calloc(1, sizeof *o);
    if (!o)
        abort();
    o->cfg = cfg;
    o->fn = fn;
    o->arg = arg;
    o->schema_id = (int32_t)cfg->alerts_schema_id;
    o->topic = strdup(cfg->alerts_topic);
    if (!(o->avro = csm_alert_avro_new(cfg->schema_dir, err, errlen)))
        goto fail;
    rd_kafka_conf_t *conf = csm_kafka_conf_new(cfg, defaults, err, errlen);
    if (!conf)
        goto fail;
    rd_kafka_conf_set_opaque(conf, o);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char why[512];
    if (!(o->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why))) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "alerts producer: %s", why);
        goto fail;
    }
    if ((o->partitions = topic_partitions(o->rk, o->topic, err, errlen)) < 0)
        goto fail;
    return o;
fail:
    csm_alerts_out_free(o);
    return NULL;
}

void csm_alerts_out_free(csm_alerts_out *o)
{
    if (!o)
        return;
    if (o->rk) {
        if (rd_kafka_flush(o->rk, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
            csm_logf(CSM_LOG_WARN, "alerts",
                     "%d alerts still in flight at exit; the next owner sends them again",
                     rd_kafka_outq_len(o->rk));
        rd_kafka_destroy(o->rk);
    }
    csm_alert_avro_free(o->avro);
    free(o->topic);
    free(o);
}

int csm_alerts_out_partitions(const csm_alerts_out *o)
{
    return o->partitions;
}

/* The value of header @p name as a number; -1 if absent or malformed. */
static int header_num(const rd_kafka_message_t *m, const char *name, int64_t *out)
{
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t n;
    char num[24];
    if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, name, &v, &n) || n == 0 ||
        n >= sizeof num)
        return -1;
    memcpy(num, v, n);
    num[n] = 0;
    char *end;
    *out = strtoll(num, &end, 10);
    return *end ? -1 : 0;
}

/* Reads offsets [start, hi) of the alerts partition: the largest
 * csm.alert_seq among the records of @p source (csm.partition header:
 * this partition's owners, or -1 for the shop-day alerts that share
 * partition 0). 1 found, 0 none, -1 when the records did not arrive in
 * time. */
static int scan_tail(rd_kafka_t *c, const char *topic, int32_t partition, int32_t source,
                     int64_t start, int64_t hi, uint64_t *seq)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = start;
    rd_kafka_assign(c, l);
    rd_kafka_topic_partition_list_destroy(l);
    int found = 0;
    int64_t next = start;
    for (int tries = 0; tries < 150 && next < hi;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m) {
            tries++;
            continue;
        }
        int64_t src, sq;
        if (!m->err && m->partition == partition && m->offset >= next) {
            next = m->offset + 1;
            if (!header_num(m, "csm.partition", &src) && src == source &&
                !header_num(m, "csm.alert_seq", &sq) && sq > 0 && (uint64_t)sq > *seq) {
                *seq = (uint64_t)sq;
                found = 1;
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_assign(c, NULL);
    return next < hi ? -1 : found;
}

#define TAIL_WINDOW 256

/* A short-lived groupless consumer: this runs only when a partition is
 * taken over with alerts still in its outbox. Records are in seq order
 * (one idempotent producer per owner), so the last one of ours wins; the
 * window widens backwards past shop-day alerts until one is found. */
int csm_alerts_out_last_seq(csm_alerts_out *o, int32_t partition, int32_t source, uint64_t *seq,
                            char *err, size_t errlen)
{
    *seq = 0;
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t e =
        rd_kafka_query_watermark_offsets(o->rk, o->topic, partition, &lo, &hi, 10000);
    if (e) {
        snprintf(err, errlen, "watermarks of %s [%d]: %s", o->topic, (int)partition,
                 rd_kafka_err2str(e));
        return -1;
    }
    if (hi <= lo)
        return 0;
    /* assign() joins no group, but librdkafka serves consumer_poll() only
     * on a consumer that has a group id. */
    char group[512];
    snprintf(group, sizeof group, "%s.alerts-tail", o->cfg->group_id);
    const char *const defaults[] = {
        "group.id", group, "enable.auto.commit", "false", "fetch.wait.max.ms", "10", NULL};
    rd_kafka_conf_t *conf = csm_kafka_conf_new(o->cfg, defaults, err, errlen);
    if (!conf)
        return -1;
    char why[512];
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    if (!c) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "alerts tail reader: %s", why);
        return -1;
    }
    int rc = 0;
    for (int64_t end = hi, window = TAIL_WINDOW; end > lo; end -= window, window *= 2) {
        int64_t start = end - window > lo ? end - window : lo;
        rc = scan_tail(c, o->topic, partition, source, start, end, seq);
        if (rc < 0)
            snprintf(err, errlen, "%s [%d]: offsets %" PRId64 "..%" PRId64 " not read within 15 s",
                     o->topic, (int)partition, start, end - 1);
        if (rc)
            break;
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return rc < 0 ? -1 : 0;
}

int csm_alerts_out_send(csm_alerts_out *o, int32_t partition, int32_t source,
                        const csm_alert_rec *rec)
{
    uint8_t buf[4096];
    long n = csm_alert_avro_encode(o->avro, rec, o->schema_id, buf, sizeof buf);
    if (n < 0) {
        csm_logf(CSM_LOG_ERROR, "alerts", "alert %" PRIu64 " of partition %d cannot be encoded",
                 rec->seq, (int)partition);
        return -1;
    }
    char key[512], seq[24], part[16];
    int klen = snprintf(key, sizeof key, "%s:%s", rec->v[CSM_ALERT_SHOP_ID],
                        rec->v[CSM_ALERT_CUSTOMER_ID]);
    if (klen < 0 || (size_t)klen >= sizeof key)
        klen = sizeof key - 1;
    snprintf(seq, sizeof seq, "%" PRIu64, rec->seq);
    snprintf(part, sizeof part, "%d", (int)source);
    uint64_t ptag = source < 0 ? NO_PARTITION : (uint64_t)source;
    uint64_t tag = (ptag << SEQ_BITS) | (rec->seq & ((1ull << SEQ_BITS) - 1));
    for (;;) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(2);
        rd_kafka_header_add(h, "csm.alert_seq", -1, seq, -1);
        rd_kafka_header_add(h, "csm.partition", -1, part, -1);
        rd_kafka_resp_err_t e = rd_kafka_producev(
            o->rk, RD_KAFKA_V_TOPIC(o->topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE(buf, (size_t)n),
            RD_KAFKA_V_KEY(key, (size_t)klen), RD_KAFKA_V_HEADERS(h),
            RD_KAFKA_V_OPAQUE((void *)(uintptr_t)tag), RD_KAFKA_V_END);
        if (!e)
            return 0;
        rd_kafka_headers_destroy(h);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            csm_logf(CSM_LOG_ERROR, "alerts", "cannot produce to %s: %s", o->topic,
                     rd_kafka_err2str(e));
            return -1;
        }
        rd_kafka_poll(o->rk, 100);
    }
}

void csm_alerts_out_poll(csm_alerts_out *o)
{
    rd_kafka_poll(o->rk, 0);
}

int csm_alerts_out_sync(csm_alerts_out *o, int timeout_ms)
{
    if (rd_kafka_outq_len(o->rk) == 0) {
        rd_kafka_poll(o->rk, 0);
        return 0;
    }
    return rd_kafka_flush(o->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}
