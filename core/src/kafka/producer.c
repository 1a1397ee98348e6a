#include "producer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "kafka_conf.h"
#include "log.h"

struct csm_event_producer {
    rd_kafka_t *rk;
    rd_kafka_topic_t *topics[2];
    csm_codec *codec;
    int32_t schema_ids[2];
    uint64_t delivered[2];
    uint64_t failed;
    unsigned char buf[64 * 1024];
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    csm_event_producer *p = opaque;
    int stream = (int)(intptr_t)m->_private;
    if (m->err) {
        p->failed++;
        csm_logf(CSM_LOG_ERROR, "produce", "delivery failed: %s", rd_kafka_err2str(m->err));
    } else {
        p->delivered[stream]++;
    }
}

csm_event_producer *csm_event_producer_new(const csm_config *cfg, csm_codec *codec,
                                           int32_t chat_schema_id, int32_t order_schema_id,
                                           char *err, size_t errlen)
{
    static const char *const defaults[] = {
        "acks",      "all",         "enable.idempotence",
        "true",      "partitioner", "murmur2_random",
        "linger.ms", "5",           "queue.buffering.max.messages",
        "500000",    NULL};
    rd_kafka_conf_t *conf = csm_kafka_conf_new(cfg, defaults, err, errlen);
    if (!conf)
        return NULL;
    csm_event_producer *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, p);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
    if (!p->rk) {
        rd_kafka_conf_destroy(conf);
        free(p);
        return NULL;
    }
    p->topics[0] = rd_kafka_topic_new(p->rk, cfg->chat_topic, NULL);
    p->topics[1] = rd_kafka_topic_new(p->rk, cfg->order_topic, NULL);
    p->codec = codec;
    p->schema_ids[0] = chat_schema_id;
    p->schema_ids[1] = order_schema_id;
    return p;
}

int csm_event_producer_send_raw(csm_event_producer *p, csm_stream stream, const char *key,
                                const void *value, size_t len)
{
    int s = stream == CSM_STREAM_ORDER ? 1 : 0;
    for (;;) {
        if (rd_kafka_produce(p->topics[s], RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                             (void *)value, len, key, key ? strlen(key) : 0,
                             (void *)(intptr_t)s) == 0)
            return 0;
        if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            csm_logf(CSM_LOG_ERROR, "produce", "%s", rd_kafka_err2str(rd_kafka_last_error()));
            return -1;
        }
        rd_kafka_poll(p->rk, 100); /* let deliveries drain the queue */
    }
}

int csm_event_producer_send(csm_event_producer *p, const csm_event *ev)
{
    int s = ev->stream == CSM_STREAM_ORDER ? 1 : 0;
    long n = csm_codec_encode(p->codec, ev, p->schema_ids[s], p->buf, sizeof p->buf);
    if (n < 0)
        return -1;
    char key[1024];
    snprintf(key, sizeof key, "%s:%s", ev->shop_id ? ev->shop_id : "",
             ev->customer_id ? ev->customer_id : "");
    int rc = csm_event_producer_send_raw(p, ev->stream, key, p->buf, (size_t)n);
    rd_kafka_poll(p->rk, 0);
    return rc;
}

long csm_event_producer_finish(csm_event_producer *p, int timeout_ms)
{
    if (rd_kafka_flush(p->rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return (long)p->failed + rd_kafka_outq_len(p->rk);
    return (long)p->failed;
}

uint64_t csm_event_producer_delivered(const csm_event_producer *p, csm_stream stream)
{
    return p->delivered[stream == CSM_STREAM_ORDER ? 1 : 0];
}

void csm_event_producer_free(csm_event_producer *p)
{
    if (!p)
        return;
    for (int s = 0; s < 2; s++)
        if (p->topics[s])
            rd_kafka_topic_destroy(p->topics[s]);
    rd_kafka_destroy(p->rk);
    free(p);
}
