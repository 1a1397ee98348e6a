#include "deadletter.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_conf.h"
#include "log.h"
#include "time_bounds.h"

/* Bytes kept free of the message size limit for what librdkafka and the
 * broker count besides key, value and headers: the record's own fields
 * (at most 36 bytes) and the record batch header (61 bytes). */
#define RECORD_SLACK 512
/* Per header on the wire besides name and value: two varint lengths. */
#define HEADER_SLACK 10

/* One dead letter, owned by us until it is delivered: a failed or
 * rejected one is produced again, never dropped. */
typedef struct letter {
    struct letter *next; /* in the retry list */
    char *key, *value;   /* the consumed message's bytes */
    size_t key_len, value_len;
    size_t key_keep, value_keep; /* how much of them is sent */
    int failed;                  /* retry list: 1 failed, 0 only shrunk */
    unsigned failures;           /* attempts that failed */
    char part[16], off[24];
    char *topic, *reason;
} letter;

struct csm_deadletter {
    rd_kafka_t *rk;
    char *topic;
    size_t max_bytes; /* the producer's message.max.bytes */
    letter *retry;
    size_t in_flight; /* letters librdkafka holds */
    uint64_t sent, truncated, failed;
};

static char *copy_bytes(const void *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    if (!c)
        abort();
    if (n)
        memcpy(c, p, n);
    return c;
}

static letter *letter_new(const rd_kafka_message_t *m, const char *topic, const char *reason)
{
    letter *l = calloc(1, sizeof *l);
    if (!l)
        abort();
    l->key = copy_bytes(m->key, m->key ? m->key_len : 0);
    l->key_len = l->key_keep = m->key ? m->key_len : 0;
    l->value = copy_bytes(m->payload, m->payload ? m->len : 0);
    l->value_len = l->value_keep = m->payload ? m->len : 0;
    snprintf(l->part, sizeof l->part, "%" PRId32, m->partition);
    snprintf(l->off, sizeof l->off, "%" PRId64, m->offset);
    l->topic = copy_bytes(topic, strlen(topic) + 1);
    l->reason = copy_bytes(reason, strlen(reason) + 1);
    return l;
}

static void letter_free(letter *l)
{
    free(l->key);
    free(l->value);
    free(l->topic);
    free(l->reason);
    free(l);
}

static int letter_truncated(const letter *l)
{
    return l->value_keep < l->value_len || l->key_keep < l->key_len;
}

/* Headers of a letter, the truncation marks included when it is cut. */
static rd_kafka_headers_t *letter_headers(const letter *l)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(6);
    rd_kafka_header_add(h, "csm.topic", -1, l->topic, -1);
    rd_kafka_header_add(h, "csm.partition", -1, l->part, -1);
    rd_kafka_header_add(h, "csm.offset", -1, l->off, -1);
    rd_kafka_header_add(h, "csm.reason", -1, l->reason, -1);
    char n[24];
    if (l->value_keep < l->value_len) {
        snprintf(n, sizeof n, "%zu", l->value_len);
        rd_kafka_header_add(h, "csm.truncated", -1, n, -1);
    }
    if (l->key_keep < l->key_len) {
        snprintf(n, sizeof n, "%zu", l->key_len);
        rd_kafka_header_add(h, "csm.key_truncated", -1, n, -1);
    }
    return h;
}

/* Cuts the letter to what the producer accepts: the value first, the key
 * only when it alone does not fit. */
static void letter_fit(letter *l, size_t max_bytes)
{
    /* Both truncation headers, the longest form, are counted. */
    size_t headers = strlen(l->topic) + strlen(l->part) + strlen(l->off) + strlen(l->reason) +
                     2 * 24 + 6 * (HEADER_SLACK + sizeof "csm.key_truncated");
    size_t budget = max_bytes > RECORD_SLACK + headers ? max_bytes - RECORD_SLACK - headers : 0;
    if (l->key_keep + l->value_keep <= budget)
        return;
    if (l->key_keep > budget)
        l->key_keep = budget;
    l->value_keep = budget - l->key_keep;
}

/* After a rejection for size: half of what was sent. 0, or -1 when
 * nothing is left to cut. */
static int letter_shrink(letter *l)
{
    if (l->value_keep) {
        l->value_keep /= 2;
        return 0;
    }
    if (l->key_keep) {
        l->key_keep /= 2;
        return 0;
    }
    return -1;
}

static void retry_later(csm_deadletter *d, letter *l, int failed)
{
    l->failed = failed;
    l->next = d->retry;
    d->retry = l;
}

/* ERROR once per letter: the retries follow the flush's backoff, and a
 * lasting failure would otherwise repeat the line every few seconds. */
static void log_failure(csm_deadletter *d, letter *l, rd_kafka_resp_err_t e)
{
    d->failed++;
    l->failures++;
    csm_logf(l->failures > 1 ? CSM_LOG_DEBUG : CSM_LOG_ERROR, "deadletter",
             "cannot produce to %s: %s (topic=%s partition=%s offset=%s; kept, attempt %u; the "
             "checkpoint stays before it until it is delivered)",
             d->topic, rd_kafka_err2str(e), l->topic, l->part, l->off, l->failures);
}

/* Hands the letter to librdkafka, cut to fit. 0, or -1 with the letter
 * in the retry list. */
static int produce_letter(csm_deadletter *d, letter *l)
{
    letter_fit(l, d->max_bytes);
    for (;;) {
        rd_kafka_headers_t *h = letter_headers(l);
        /* No copy: the letter outlives librdkafka's use of its value. */
        rd_kafka_resp_err_t e = rd_kafka_producev(
            d->rk, RD_KAFKA_V_TOPIC(d->topic), RD_KAFKA_V_MSGFLAGS(0),
            RD_KAFKA_V_VALUE(l->value, l->value_keep), RD_KAFKA_V_KEY(l->key, l->key_keep),
            RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(l), RD_KAFKA_V_END);
        if (!e) {
            d->in_flight++;
            return 0;
        }
        /* On failure the headers stay ours. */
        rd_kafka_headers_destroy(h);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(d->rk, 100);
        } else if (e != RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || letter_shrink(l)) {
            log_failure(d, l, e);
            retry_later(d, l, 1);
            return -1;
        }
    }
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    csm_deadletter *d = opaque;
    letter *l = m->_private;
    d->in_flight--;
    if (!m->err) {
        d->sent++;
        if (letter_truncated(l)) {
            d->truncated++;
            csm_logf(CSM_LOG_WARN, "deadletter",
                     "topic=%s partition=%s offset=%s sent truncated to %zu of %zu bytes", l->topic,
                     l->part, l->off, l->value_keep, l->value_len);
        }
        letter_free(l);
        return;
    }
    /* The broker's (or topic's) limit is below the producer's. */
    if (m->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE && !letter_shrink(l)) {
        retry_later(d, l, 0);
        return;
    }
    log_failure(d, l, m->err);
    retry_later(d, l, 1);
}

/* Produces the letters of the retry list again (only those rejected for
 * size unless @p all). Returns how many failed letters remain. */
static size_t resend(csm_deadletter *d, int all)
{
    letter *l = d->retry, *keep = NULL;
    d->retry = NULL;
    while (l) {
        letter *next = l->next;
        if (l->failed && !all) {
            l->next = keep;
            keep = l;
        } else {
            produce_letter(d, l);
        }
        l = next;
    }
    size_t failed = 0;
    while (keep) {
        letter *next = keep->next;
        retry_later(d, keep, 1);
        keep = next;
    }
    for (l = d->retry; l; l = l->next)
        failed += (size_t)l->failed;
    return failed;
}

static size_t producer_max_bytes(rd_kafka_t *rk)
{
    char v[32];
    size_t n = sizeof v;
    if (rd_kafka_conf_get(rd_kafka_conf(rk), "message.max.bytes", v, &n) != RD_KAFKA_CONF_OK)
        return 1000000; /* librdkafka's default */
    return (size_t)strtoull(v, NULL, 10);
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
    d->max_bytes = producer_max_bytes(d->rk);
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
    resend(d, 1);
    rd_kafka_flush(d->rk, 5000);
    /* What is still queued comes back through on_delivery, purged. */
    rd_kafka_purge(d->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(d->rk, 1000);
    size_t lost = 0;
    for (letter *l = d->retry, *next; l; l = next) {
        next = l->next;
        letter_free(l);
        lost++;
    }
    if (lost || d->in_flight)
        csm_logf(CSM_LOG_ERROR, "deadletter",
                 "%zu dead letters still undelivered at exit (their offsets were not checkpointed)",
                 lost + d->in_flight);
    rd_kafka_destroy(d->rk);
    free(d->topic);
    free(d);
}

void csm_deadletter_send(csm_deadletter *d, const rd_kafka_message_t *m, const char *topic,
                         const char *reason)
{
    letter *l = letter_new(m, topic, reason);
    csm_logf(CSM_LOG_WARN, "deadletter", "topic=%s partition=%s offset=%s reason=%s", topic,
             l->part, l->off, reason);
    produce_letter(d, l);
}

int csm_deadletter_sync(csm_deadletter *d, int timeout_ms)
{
    int64_t deadline = csm_monotonic_ms() + timeout_ms;
    for (;;) {
        /* Failed letters go again once per sync: the flush's backoff
         * paces them. Letters cut after a rejection go at once. */
        if (resend(d, 1))
            return -1;
        if (!d->in_flight) {
            rd_kafka_poll(d->rk, 0);
            if (!d->retry)
                return 0;
            continue;
        }
        int64_t left = deadline - csm_monotonic_ms();
        if (left <= 0 || rd_kafka_flush(d->rk, (int)left) != RD_KAFKA_RESP_ERR_NO_ERROR)
            return -1;
        if (!d->retry)
            return 0;
        for (letter *l = d->retry; l; l = l->next)
            if (l->failed)
                return -1;
    }
}

void csm_deadletter_poll(csm_deadletter *d)
{
    rd_kafka_poll(d->rk, 0);
    if (d->retry)
        resend(d, 0);
}

uint64_t csm_deadletter_sent(const csm_deadletter *d)
{
    return d->sent;
}
uint64_t csm_deadletter_truncated(const csm_deadletter *d)
{
    return d->truncated;
}
uint64_t csm_deadletter_failed(const csm_deadletter *d)
{
    return d->failed;
}
