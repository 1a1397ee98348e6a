/* librdkafka's mock cluster with the configured topics created up front
 * (the mock refuses CreateTopics requests, and its auto-created topics
 * would not have the partition count co-partitioning needs): the broker
 * of `csmetrics broker` and `csmetrics bench`. */
#ifndef CSM_MOCK_CLUSTER_H
#define CSM_MOCK_CLUSTER_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "config.h"

typedef struct csm_mock_cluster {
    rd_kafka_t *rk; /* only anchors the cluster; never connects anywhere */
    rd_kafka_mock_cluster_t *mc;
} csm_mock_cluster;

/* Starts @p nodes brokers with the chat, order, dead-letter (and alerts)
 * topics of @p cfg and the comma-separated @p extra_topics (may be NULL),
 * each with @p partitions partitions. 0, or -1 with the reason in err. */
int csm_mock_cluster_start(csm_mock_cluster *m, const csm_config *cfg, int partitions, int nodes,
                           const char *extra_topics, char *err, size_t errlen);
/* "host:port,..." of the running cluster. */
const char *csm_mock_cluster_bootstraps(const csm_mock_cluster *m);
void csm_mock_cluster_stop(csm_mock_cluster *m);

#endif
