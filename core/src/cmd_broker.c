/* `csmetrics broker`: a development Kafka broker in-process, built on
 * librdkafka's mock cluster, with the configured topics created up front
 * (the mock refuses CreateTopics requests, and its auto-created topics
 * would not have the partition count co-partitioning needs). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "cli.h"
#include "log.h"

static volatile sig_atomic_t broker_stop;

static void on_signal(int sig)
{
    (void)sig;
    broker_stop = 1;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: csmetrics broker [-c FILE] [--partitions N] [--topics T1,T2,...]\n"
                 "  Runs librdkafka's mock cluster (one broker, in memory, for development and\n"
                 "  tests) with the configured chat, order, dead-letter (and alerts) topics, each\n"
                 "  with N partitions (default 4). Prints `BOOTSTRAP host:port` on stdout, then\n"
                 "  runs until SIGTERM or SIGINT.\n"
                 "  --port P is refused: librdkafka 2.0.2's mock cluster always listens on an\n"
                 "  ephemeral loopback port and has no API to choose it.\n"
                 "  Each mock partition keeps only about 5 MB; older messages vanish silently.\n");
}

static int create_topic(rd_kafka_mock_cluster_t *mc, const char *topic, int partitions)
{
    if (!topic || !*topic)
        return 0;
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, topic, partitions, 1);
    if (e) {
        fprintf(stderr, "csmetrics broker: creating topic %s: %s\n", topic, rd_kafka_err2str(e));
        return -1;
    }
    csm_logf(CSM_LOG_INFO, "broker", "topic %s: %d partitions", topic, partitions);
    return 0;
}

/* A comma-separated list of extra topics; the list is modified in place. */
static int create_extra_topics(rd_kafka_mock_cluster_t *mc, char *list, int partitions)
{
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (create_topic(mc, t, partitions))
            return -1;
    return 0;
}

int csm_cmd_broker(int argc, char **argv)
{
    csm_cli_common o = {0};
    int partitions = 4;
    char *extra = NULL;
    for (int i = 1; i < argc; i++) {
        int c = csm_cli_common_arg(&o, argc, argv, &i);
        if (c < 0)
            return 2;
        if (c)
            continue;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--port")) {
            fprintf(stderr, "csmetrics broker: --port is not supported: librdkafka 2.0.2's mock "
                            "cluster binds an ephemeral loopback port and offers no way to "
                            "choose it; read the BOOTSTRAP line instead\n");
            return 2;
        }
        if (i + 1 >= argc) {
            usage(stderr);
            return 2;
        }
        if (!strcmp(argv[i], "--partitions")) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > 10000) {
                fprintf(stderr, "csmetrics broker: --partitions: expected 1..10000, got '%s'\n",
                        argv[i]);
                return 2;
            }
            partitions = (int)n;
        } else if (!strcmp(argv[i], "--topics")) {
            extra = argv[++i];
        } else {
            usage(stderr);
            return 2;
        }
    }

    csm_config cfg;
    if (csm_cli_load_config(&o, &cfg))
        return 2;

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* The handle only anchors the cluster; it never connects anywhere. */
    /* Its notice about having no bootstrap.servers is noise (log_level 4). */
    if (rd_kafka_conf_set(conf, "client.id", "csmetrics-broker", errstr, sizeof errstr) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "log_level", "4", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "csmetrics broker: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        csm_config_free(&cfg);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "csmetrics broker: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        csm_config_free(&cfg);
        return 1;
    }
    int rc = 1;
    char *extra_copy = extra ? strdup(extra) : NULL;
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
    if (!mc) {
        fprintf(stderr, "csmetrics broker: cannot create the mock cluster\n");
        goto out;
    }
    if (create_topic(mc, cfg.chat_topic, partitions) ||
        create_topic(mc, cfg.order_topic, partitions) ||
        create_topic(mc, cfg.deadletter_topic, partitions) ||
        create_topic(mc, cfg.alerts_topic, partitions) ||
        (extra_copy && create_extra_topics(mc, extra_copy, partitions)))
        goto out;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* A reader that went away must not kill the broker mid-test. */
    signal(SIGPIPE, SIG_IGN);

    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    csm_logf(CSM_LOG_INFO, "broker", "mock cluster listening on %s", bootstrap);
    printf("BOOTSTRAP %s\n", bootstrap);
    fflush(stdout);

    /* Polled rather than pause()d: the signal may land on one of
     * librdkafka's threads and leave the main thread asleep. */
    while (!broker_stop)
        usleep(100 * 1000);
    csm_logf(CSM_LOG_INFO, "broker", "stopping");
    rc = 0;
out:
    if (mc)
        rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    free(extra_copy);
    csm_config_free(&cfg);
    return rc;
}
