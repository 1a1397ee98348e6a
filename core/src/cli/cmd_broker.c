/* `csmetrics broker`: a development Kafka broker in-process, built on
 * librdkafka's mock cluster (mock_cluster.h), with fault injection. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_control.h"
#include "cli.h"
#include "log.h"
#include "mock_cluster.h"

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
    control_chan cc;
    if (control_open(&cc, control)) {
        csm_config_free(&cfg);
        return 2;
    }
    int rc = 1;
    csm_mock_cluster m;
    if (csm_mock_cluster_start(&m, &cfg, partitions, brokers, extra, errstr, sizeof errstr)) {
        fprintf(stderr, "csmetrics broker: %s\n", errstr);
        goto out;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* A reader that went away must not kill the broker mid-test. */
    signal(SIGPIPE, SIG_IGN);

    const char *bootstrap = csm_mock_cluster_bootstraps(&m);
    csm_logf(CSM_LOG_INFO, "broker", "mock cluster listening on %s", bootstrap);
    printf("BOOTSTRAP %s\n", bootstrap);
    fflush(stdout);

    /* Polled rather than pause()d: the signal may land on one of
     * librdkafka's threads and leave the main thread asleep. */
    while (!broker_stop) {
        if (cc.fd >= 0)
            control_serve(m.mc, &cc);
        else
            usleep(100 * 1000);
    }
    csm_logf(CSM_LOG_INFO, "broker", "stopping");
    rc = 0;
    csm_mock_cluster_stop(&m);
out:
    if (cc.fd >= 0)
        close(cc.fd);
    csm_config_free(&cfg);
    return rc;
}
