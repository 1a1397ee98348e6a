#include "producer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "kafka_conf.h"
#include "log.h"

struct csm_event_producer {
    rd_kafka_t *rk;
    rd_kafka_topic_t *topics[2];
    csm_codec *codec;
    csm_json_avro *writers[2]; /* NULL: our schema */
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

/* Every message of a stream has the key "<shop_id>:<customer_id>". */
static int send_keyed(csm_event_producer *p, csm_stream stream, const char *shop_id,
                      const char *customer_id, size_t len)
{
    char key[1024];
    snprintf(key, sizeof key, "%s:%s", shop_id ? shop_id : "", customer_id ? customer_id : "");
    int rc = csm_event_producer_send_raw(p, stream, key, p->buf, len);
    rd_kafka_poll(p->rk, 0);
    return rc;
}

static int send_with_writer(csm_event_producer *p, csm_stream stream, const char *json, size_t len,
                            const char *shop_id, const char *customer_id, char *err, size_t errlen)
{
    int s = stream == CSM_STREAM_ORDER ? 1 : 0;
    long n = csm_json_avro_encode(p->writers[s], json, len, p->schema_ids[s], p->buf, sizeof p->buf,
                                  err, errlen);
    if (n < 0)
        return -1;
    if (send_keyed(p, stream, shop_id, customer_id, (size_t)n) == 0)
        return 0;
    snprintf(err, errlen, "%s", rd_kafka_err2str(rd_kafka_last_error()));
    return -1;
}

void csm_event_producer_set_writer(csm_event_producer *p, csm_stream stream, csm_json_avro *w)
{
    p->writers[stream == CSM_STREAM_ORDER ? 1 : 0] = w;
}

int csm_event_producer_send_json(csm_event_producer *p, csm_stream stream, const char *json,
                                 size_t len, char *err, size_t errlen)
{
    if (!p->writers[stream == CSM_STREAM_ORDER ? 1 : 0]) {
        snprintf(err, errlen, "no writer schema for the stream");
        return -1;
    }
    json_t *o = json_loadb(json, len, 0, NULL);
    int rc =
        send_with_writer(p, stream, json, len, json_string_value(json_object_get(o, "shop_id")),
                         json_string_value(json_object_get(o, "customer_id")), err, errlen);
    json_decref(o);
    return rc;
}

/* The event as a JSON Lines line, then that through the writer schema. */
static int send_event_as_json(csm_event_producer *p, const csm_event *ev)
{
    char json[8192], err[512];
    long n = csm_json_encode(ev, json, sizeof json);
    if (n < 0)
        snprintf(err, sizeof err, "not representable as JSON");
    else if (send_with_writer(p, ev->stream, json, (size_t)n, ev->shop_id, ev->customer_id, err,
                              sizeof err) == 0)
        return 0;
    csm_logf(CSM_LOG_ERROR, "produce", "event %s not sent: %s", ev->event_id ? ev->event_id : "?",
             err);
    return -1;
}

int csm_event_producer_send(csm_event_producer *p, const csm_event *ev)
{
    int s = ev->stream == CSM_STREAM_ORDER ? 1 : 0;
    if (p->writers[s])
        return send_event_as_json(p, ev);
    long n = csm_codec_encode(p->codec, ev, p->schema_ids[s], p->buf, sizeof p->buf);
    if (n < 0)
        return -1;
    return send_keyed(p, ev->stream, ev->shop_id, ev->customer_id, (size_t)n);
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
