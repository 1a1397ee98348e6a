#include "deadletter.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_conf.h"
#include "log.h"

struct csm_deadletter {
    rd_kafka_t *rk;
    char *topic;
    uint64_t sent, failed;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    csm_deadletter *d = opaque;
    if (!m->err)
        return;
    /* librdkafka retries on its own (message.timeout.ms is infinite by
     * default here), so an error at this point is permanent. */
    d->failed++;
    csm_logf(CSM_LOG_ERROR, "deadletter", "delivery to %s failed: %s", d->topic,
             rd_kafka_err2str(m->err));
}

csm_deadletter *csm_deadletter_new(const csm_config *cfg, char *err, size_t errlen)
{
    /* Idempotence keeps retried dead letters single and in order;
     * message.timeout.ms=0 makes a broker outage delay them, not drop them. */
    static const char *const defaults[] = {"client.id",
                                           "csmetrics-deadletter",
                                           "enable.idempotence",
                                           "true",
                                           "linger.ms",
                                           "5",
                                           "message.timeout.ms",
                                           "0",
                                           NULL};
    csm_deadletter *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->topic = strdup(cfg->deadletter_topic);
    rd_kafka_conf_t *conf = csm_kafka_conf_new(cfg, defaults, err, errlen);
    if (!conf)
        goto fail;
    rd_kafka_conf_set_opaque(conf, d);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char why[512];
    d->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!d->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "dead-letter producer: %s", why);
        goto fail;
    }
    return d;
fail:
    free(d->topic);
    free(d);
    return NULL;
}

void csm_deadletter_free(csm_deadletter *d)
{
    if (!d)
        return;
    if (rd_kafka_flush(d->rk, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        csm_logf(CSM_LOG_ERROR, "deadletter", "%d dead letters still undelivered at exit",
                 rd_kafka_outq_len(d->rk));
    rd_kafka_destroy(d->rk);
    free(d->topic);
    free(d);
}

void csm_deadletter_send(csm_deadletter *d, const rd_kafka_message_t *m, const char *topic,
                         const char *reason)
{
    char part[16], off[24];
    snprintf(part, sizeof part, "%" PRId32, m->partition);
    snprintf(off, sizeof off, "%" PRId64, m->offset);
    csm_logf(CSM_LOG_WARN, "deadletter", "topic=%s partition=%s offset=%s reason=%s", topic, part,
             off, reason);
    for (;;) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(4);
        rd_kafka_header_add(h, "csm.topic", -1, topic, -1);
        rd_kafka_header_add(h, "csm.partition", -1, part, -1);
        rd_kafka_header_add(h, "csm.offset", -1, off, -1);
        rd_kafka_header_add(h, "csm.reason", -1, reason, -1);
        rd_kafka_resp_err_t e = rd_kafka_producev(
            d->rk, RD_KAFKA_V_TOPIC(d->topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_KEY(m->key, m->key_len),
            RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
        if (!e) {
            d->sent++;
            return;
        }
        /* On failure the headers stay ours. */
        rd_kafka_headers_destroy(h);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            d->failed++;
            csm_logf(CSM_LOG_ERROR, "deadletter", "cannot produce to %s: %s", d->topic,
                     rd_kafka_err2str(e));
            return;
        }
        rd_kafka_poll(d->rk, 100);
    }
}

int csm_deadletter_sync(csm_deadletter *d, int timeout_ms)
{
    if (rd_kafka_outq_len(d->rk) == 0) {
        rd_kafka_poll(d->rk, 0);
        return 0;
    }
    return rd_kafka_flush(d->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

void csm_deadletter_poll(csm_deadletter *d)
{
    rd_kafka_poll(d->rk, 0);
}

uint64_t csm_deadletter_sent(const csm_deadletter *d)
{
    return d->sent;
}
uint64_t csm_deadletter_failed(const csm_deadletter *d)
{
    return d->failed;
}
