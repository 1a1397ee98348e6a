/* `csmetrics broker`: a development Kafka broker in-process, built on
 * librdkafka's mock cluster, with the configured topics created up front
 * (the mock refuses CreateTopics requests, and its auto-created topics
 * would not have the partition count co-partitioning needs). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "broker_control.h"
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
    fprintf(out,
            "usage: csmetrics broker [-c FILE] [--partitions N] [--topics T1,T2,...]\n"
            "                        [--nodes N] [--control FIFO]\n"
            "  Runs librdkafka's mock cluster (in memory, for development and tests) with\n"
            "  the configured chat, order, dead-letter (and alerts) topics, each with\n"
            "  --partitions partitions (default 4), on --nodes brokers numbered from 1\n"
            "  (default 1). Prints `BOOTSTRAP host:port,...` on stdout, then runs until\n"
            "  SIGTERM or SIGINT.\n"
            "  --control FIFO reads fault-injection commands, one per line, from FIFO\n"
            "  (create it with mkfifo; write with e.g. `echo 'down 1' >FIFO`) and answers\n"
            "  each on stdout with `CONTROL ok <command>` or `CONTROL error <command>: why`:\n"
            "%s"
            "  --port P is refused: librdkafka 2.0.2's mock cluster always listens on an\n"
            "  ephemeral loopback port and has no API to choose it.\n"
            "  Each mock partition keeps only about 5 MB; older messages vanish silently.\n",
            csm_broker_control_help);
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

static int parse_count(const char *opt, const char *s, long max, int *out)
{
    char *end;
    long n = strtol(s, &end, 10);
    if (*end || n < 1 || n > max) {
        fprintf(stderr, "csmetrics broker: %s: expected 1..%ld, got '%s'\n", opt, max, s);
        return -1;
    }
    *out = (int)n;
    return 0;
}

typedef struct control_chan {
    int fd;
    char buf[4096];
    size_t len;
} control_chan;

/* Read-write, so the FIFO never reports end-of-file between writers. */
static int control_open(control_chan *cc, const char *path)
{
    cc->len = 0;
    cc->fd = path ? open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC) : -1;
    if (path && cc->fd < 0) {
        fprintf(stderr, "csmetrics broker: --control %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void control_run_line(rd_kafka_mock_cluster_t *mc, char *line)
{
    char copy[sizeof((control_chan *)0)->buf], err[256] = "";
    snprintf(copy, sizeof copy, "%s", line);
    int rc = csm_broker_control_exec(mc, line, err, sizeof err);
    if (rc)
        printf("CONTROL error %s: %s\n", copy, err);
    else
        printf("CONTROL ok %s\n", copy);
    fflush(stdout);
    csm_logf(rc ? CSM_LOG_WARN : CSM_LOG_INFO, "broker", "control: %s%s%s", copy, rc ? ": " : "",
             err);
}

/* Waits up to 100 ms for commands and runs every complete line. */
static void control_serve(rd_kafka_mock_cluster_t *mc, control_chan *cc)
{
    struct pollfd p = {cc->fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0)
        return;
    ssize_t got = read(cc->fd, cc->buf + cc->len, sizeof cc->buf - 1 - cc->len);
    if (got <= 0)
        return;
    cc->len += (size_t)got;
    cc->buf[cc->len] = 0;
    char *start = cc->buf, *nl;
    while ((nl = strchr(start, '\n'))) {
        *nl = 0;
        if (*start)
            control_run_line(mc, start);
        start = nl + 1;
    }
    cc->len -= (size_t)(start - cc->buf);
    memmove(cc->buf, start, cc->len);
    /* A line longer than the buffer is not a command: dropped. */
    if (cc->len == sizeof cc->buf - 1)
        cc->len = 0;
}

int csm_cmd_broker(int argc, char **argv)
{
    csm_cli_common o = {0};
    int partitions = 4, brokers = 1;
    char *extra = NULL;
    const char *control = NULL;
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
            if (parse_count("--partitions", argv[++i], 10000, &partitions))
                return 2;
        } else if (!strcmp(argv[i], "--nodes")) {
            if (parse_count("--nodes", argv[++i], 16, &brokers))
                return 2;
        } else if (!strcmp(argv[i], "--control")) {
            control = argv[++i];
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
    control_chan cc;
    if (control_open(&cc, control)) {
        rd_kafka_destroy(rk);
        csm_config_free(&cfg);
        return 2;
    }
    char *extra_copy = extra ? strdup(extra) : NULL;
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
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
    while (!broker_stop) {
        if (cc.fd >= 0)
            control_serve(mc, &cc);
        else
            usleep(100 * 1000);
    }
    csm_logf(CSM_LOG_INFO, "broker", "stopping");
    rc = 0;
out:
    if (mc)
        rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    free(extra_copy);
    if (cc.fd >= 0)
        close(cc.fd);
    csm_config_free(&cfg);
    return rc;
}
