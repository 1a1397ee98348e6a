#include "mock_cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int create_topic(rd_kafka_mock_cluster_t *mc, const char *topic, int partitions, char *err,
                        size_t errlen)
{
    if (!topic || !*topic)
        return 0;
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, topic, partitions, 1);
    if (e) {
        snprintf(err, errlen, "creating topic %s: %s", topic, rd_kafka_err2str(e));
        return -1;
    }
    csm_logf(CSM_LOG_INFO, "broker", "topic %s: %d partitions", topic, partitions);
    return 0;
}

/* A comma-separated list of extra topics. */
static int create_extra_topics(rd_kafka_mock_cluster_t *mc, const char *list, int partitions,
                               char *err, size_t errlen)
{
    char *copy = strdup(list);
    if (!copy)
        abort();
    int rc = 0;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && !rc;
         t = strtok_r(NULL, ",", &save))
        rc = create_topic(mc, t, partitions, err, errlen);
    free(copy);
    return rc;
}

static rd_kafka_t *anchor_handle(char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* Its notice about having no bootstrap.servers is noise (log_level 4). */
    if (rd_kafka_conf_set(conf, "client.id", "csmetrics-broker", err, errlen) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "log_level", "4", err, errlen) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
    if (!rk)
        rd_kafka_conf_destroy(conf);
    return rk;
}

int csm_mock_cluster_start(csm_mock_cluster *m, const csm_config *cfg, int partitions, int nodes,
                           const char *extra_topics, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (!(m->rk = anchor_handle(err, errlen)))
        return -1;
    if (!(m->mc = rd_kafka_mock_cluster_new(m->rk, nodes))) {
        snprintf(err, errlen, "cannot create the mock cluster");
        csm_mock_cluster_stop(m);
        return -1;
    }
    if (create_topic(m->mc, cfg->chat_topic, partitions, err, errlen) ||
        create_topic(m->mc, cfg->order_topic, partitions, err, errlen) ||
        create_topic(m->mc, cfg->deadletter_topic, partitions, err, errlen) ||
        create_topic(m->mc, cfg->alerts_topic, partitions, err, errlen) ||
        (extra_topics && create_extra_topics(m->mc, extra_topics, partitions, err, errlen))) {
        csm_mock_cluster_stop(m);
        return -1;
    }
    return 0;
}

const char *csm_mock_cluster_bootstraps(const csm_mock_cluster *m)
{
    return rd_kafka_mock_cluster_bootstraps(m->mc);
}

void csm_mock_cluster_stop(csm_mock_cluster *m)
{
    if (m->mc)
        rd_kafka_mock_cluster_destroy(m->mc);
    if (m->rk)
        rd_kafka_destroy(m->rk);
    memset(m, 0, sizeof *m);
}
