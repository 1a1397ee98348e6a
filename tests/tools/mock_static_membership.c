/* Does the embedded broker (librdkafka's mock cluster) honour static
 * membership, group.instance.id (KIP-345)? A consumer joins and is killed
 * with SIGKILL; another with the same instance id (or none) joins at once;
 * the time until it owns partitions again is printed. Against a broker
 * that honours it, the second one takes the assignment back without
 * waiting for the killed one's session timeout. Not a test: a measurement
 * (docs/performance.md, "Method").
 *
 *   mock_static_membership [INSTANCE_ID]    (none: dynamic membership) */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SESSION_TIMEOUT "6000" /* the bench's */
#define HEARTBEAT "1000"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char err[256];
    if (rd_kafka_conf_set(c, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "%s: %s\n", k, err);
        exit(2);
    }
}

static int owned(rd_kafka_t *rk)
{
    rd_kafka_topic_partition_list_t *a = NULL;
    rd_kafka_assignment(rk, &a);
    int n = a ? a->cnt : 0;
    if (a)
        rd_kafka_topic_partition_list_destroy(a);
    return n;
}

/* In a child: joins, waits until it owns partitions, then stays (to be
 * killed) or exits. */
static void consume(const char *bootstrap, const char *instance, int stay)
{
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    set(c, "bootstrap.servers", bootstrap);
    set(c, "group.id", "g");
    set(c, "session.timeout.ms", SESSION_TIMEOUT);
    set(c, "heartbeat.interval.ms", HEARTBEAT);
    if (instance)
        set(c, "group.instance.id", instance);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "consumer: %s\n", err);
        _exit(2);
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(t, "t", RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, t);
    while (!owned(rk)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m)
            rd_kafka_message_destroy(m);
    }
    while (stay)
        pause();
    _exit(0);
}

static pid_t spawn(const char *bootstrap, const char *instance, int stay)
{
    fflush(stdout);
    pid_t p = fork();
    if (p == 0)
        consume(bootstrap, instance, stay);
    return p;
}

int main(int argc, char **argv)
{
    const char *instance = argc > 1 ? argv[1] : NULL;
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err);
    rd_kafka_mock_cluster_t *mc = rk ? rd_kafka_mock_cluster_new(rk, 1) : NULL;
    if (!mc) {
        fprintf(stderr, "mock cluster: %s\n", rk ? "cannot start" : err);
        return 1;
    }
    rd_kafka_mock_topic_create(mc, "t", 4, 1);
    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    pid_t first = spawn(bootstrap, instance, 1);
    sleep(6); /* joined (about 3 s) and heartbeating */
    kill(first, SIGKILL);
    waitpid(first, NULL, 0);
    double t0 = now_s();
    waitpid(spawn(bootstrap, instance, 0), NULL, 0);
    printf("group.instance.id %s: assignment back %.2f s after the kill\n",
           instance ? instance : "(none)", now_s() - t0);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
