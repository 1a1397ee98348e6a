/* Fault injection into `csmetrics broker`'s mock cluster, one text command
 * per line (see csm_broker_control_help), so tests can take brokers down,
 * slow them or make requests fail while a daemon is running. */
#ifndef CSM_BROKER_CONTROL_H
#define CSM_BROKER_CONTROL_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* The commands, for the usage text. */
extern const char csm_broker_control_help[];

/* Runs one command line against the cluster. 0, or -1 with err set. */
int csm_broker_control_exec(rd_kafka_mock_cluster_t *mc, char *line, char *err, size_t errlen);

#endif
