/* Fault injection commands of `csmetrics broker --control`: thin wrappers
 * over librdkafka's rdkafka_mock.h, with names instead of numbers so a
 * test reads like the fault it injects. */
#include "broker_control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <librdkafka/rdkafka.h>

const char csm_broker_control_help[] =
    "    down ID | up ID            broker ID (1..N, -1 all) drops connections / accepts again\n"
    "    rtt ID MS                  broker ID answers every request MS ms late (0: normal)\n"
    "    errors API COUNT ERR       the next COUNT requests of API (Fetch, Produce,\n"
    "                               OffsetCommit, JoinGroup, Heartbeat, SyncGroup, Metadata,\n"
    "                               FindCoordinator, ... or a number) fail with ERR (a Kafka\n"
    "                               error name such as NOT_LEADER_FOR_PARTITION, or _TRANSPORT\n"
    "                               to cut the connection)\n"
    "    clear API                  drops API's pending errors\n"
    "    leader TOPIC PART ID       moves the partition's leadership to broker ID\n"
    "    coordinator GROUP ID       moves the consumer group's coordinator\n";

static const struct {
    const char *name;
    int16_t key;
} api_keys[] = {
    {"Produce", 0},         {"Fetch", 1},       {"ListOffsets", 2},      {"Metadata", 3},
    {"OffsetCommit", 8},    {"OffsetFetch", 9}, {"FindCoordinator", 10}, {"JoinGroup", 11},
    {"Heartbeat", 12},      {"LeaveGroup", 13}, {"SyncGroup", 14},       {"ApiVersions", 18},
    {"InitProducerId", 22},
};

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    if (!s || !*s)
        return -1;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_api(const char *s, int16_t *key)
{
    for (size_t i = 0; s && i < sizeof api_keys / sizeof *api_keys; i++)
        if (!strcasecmp(s, api_keys[i].name)) {
            *key = api_keys[i].key;
            return 0;
        }
    long v;
    if (parse_long(s, 0, 100, &v))
        return -1;
    *key = (int16_t)v;
    return 0;
}

/* By the names librdkafka gives its errors, with or without "ERR_". */
static int parse_error(const char *s, rd_kafka_resp_err_t *err)
{
    if (!s)
        return -1;
    if (!strncmp(s, "ERR_", 4))
        s += 4;
    const struct rd_kafka_err_desc *d;
    size_t n;
    rd_kafka_get_err_descs(&d, &n);
    for (size_t i = 0; i < n; i++)
        if (d[i].name && !strcasecmp(s, d[i].name)) {
            *err = d[i].code;
            return 0;
        }
    return -1;
}

static int push_errors(rd_kafka_mock_cluster_t *mc, char **w, char *err, size_t errlen)
{
    int16_t api;
    long cnt;
    rd_kafka_resp_err_t code;
    if (parse_api(w[1], &api) || parse_long(w[2], 1, 100000, &cnt) || parse_error(w[3], &code)) {
        snprintf(err, errlen, "usage: errors API COUNT ERR");
        return -1;
    }
    rd_kafka_resp_err_t *codes = malloc((size_t)cnt * sizeof *codes);
    if (!codes) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (long i = 0; i < cnt; i++)
        codes[i] = code;
    rd_kafka_mock_push_request_errors_array(mc, api, (size_t)cnt, codes);
    free(codes);
    return 0;
}

static int mock_result(rd_kafka_resp_err_t e, char *err, size_t errlen)
{
    if (!e)
        return 0;
    snprintf(err, errlen, "%s", rd_kafka_err2str(e));
    return -1;
}

int csm_broker_control_exec(rd_kafka_mock_cluster_t *mc, char *line, char *err, size_t errlen)
{
    char *w[5] = {0};
    int n = 0;
    for (char *save = NULL, *t = strtok_r(line, " \t\r\n", &save); t && n < 5;
         t = strtok_r(NULL, " \t\r\n", &save))
        w[n++] = t;
    long id, v;
    if (n == 0)
        return 0;
    if (n == 2 && (!strcmp(w[0], "down") || !strcmp(w[0], "up")) &&
        !parse_long(w[1], -1, 1000, &id))
        return mock_result(*w[0] == 'd' ? rd_kafka_mock_broker_set_down(mc, (int32_t)id)
                                        : rd_kafka_mock_broker_set_up(mc, (int32_t)id),
                           err, errlen);
    if (n == 3 && !strcmp(w[0], "rtt") && !parse_long(w[1], -1, 1000, &id) &&
        !parse_long(w[2], 0, 600000, &v))
        return mock_result(rd_kafka_mock_broker_set_rtt(mc, (int32_t)id, (int)v), err, errlen);
    if (n == 4 && !strcmp(w[0], "errors"))
        return push_errors(mc, w, err, errlen);
    int16_t api;
    if (n == 2 && !strcmp(w[0], "clear") && !parse_api(w[1], &api)) {
        rd_kafka_mock_clear_request_errors(mc, api);
        return 0;
    }
    if (n == 4 && !strcmp(w[0], "leader") && !parse_long(w[2], 0, 100000, &v) &&
        !parse_long(w[3], -1, 1000, &id))
        return mock_result(rd_kafka_mock_partition_set_leader(mc, w[1], (int32_t)v, (int32_t)id),
                           err, errlen);
    if (n == 3 && !strcmp(w[0], "coordinator") && !parse_long(w[2], 1, 1000, &id))
        return mock_result(rd_kafka_mock_coordinator_set(mc, "group", w[1], (int32_t)id), err,
                           errlen);
    snprintf(err, errlen, "unknown or malformed command (see csmetrics broker --help)");
    return -1;
}
