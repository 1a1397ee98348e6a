/* Operator errors: every file `run` would refuse is refused by the same
 * check `csmetrics config -c` runs (csm_config_check), with a message
 * naming the key; the plugin chain's declared needs; the SHA-256 that
 * names replayed files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "config_check.h"
#include "file_digest.h"

static char err[1024];

/* Loads and checks @p yaml; -1 with err set if either refuses. */
static int check(const char *yaml)
{
    csm_config cfg;
    err[0] = 0;
    if (csm_config_load_string(yaml, &cfg, err, sizeof err))
        return -1;
    int rc = csm_config_check(&cfg, NULL, err, sizeof err);
    csm_config_free(&cfg);
    return rc;
}

static void assert_refused(const char *yaml, const char *want)
{
    if (check(yaml) == 0)
        fail_msg("accepted:\n%s", yaml);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
}

static void defaults_pass(void **state)
{
    (void)state;
    if (check(""))
        fail_msg("%s", err);
    if (check("plugins:\n  - probe\n  - needy\n"))
        fail_msg("%s", err);
}

static void plugins_and_their_keys(void **state)
{
    (void)state;
    assert_refused("plugins:\n  - nosuch\n", "plugin 'nosuch': not found");
    assert_refused("plugins:\n  - session\n  - name: sla\n    first_respons_timeout: 5s\n",
                   "plugins.sla.first_respons_timeout: unknown key");
    /* Values a plugin refuses in init() are refused here too. */
    assert_refused("plugins:\n  - session\n  - name: orders\n    refund_keep: 0\n",
                   "plugin 'orders': init failed");
    assert_refused("plugins: []\n", "plugins: the list is empty");
    /* Declared figures must hold together (ABI 1.3). */
    assert_refused("plugins:\n  - bad_figures\n",
                   "plugin 'bad_figures': figure 'orphan_rate' is made of 'no_such_counter', "
                   "which no plugin of the chain declares as a counter");
}

static void zones_schemas_kafka(void **state)
{
    (void)state;
    assert_refused("time:\n  timezone: Mars/Olympus\n",
                   "time.timezone: unknown time zone 'Mars/Olympus'");
    assert_refused("shops:\n  s1:\n    timezone: Europe/Atlantis\n",
                   "shops.s1.timezone: unknown time zone 'Europe/Atlantis'");
    assert_refused("schema_dir: /nonexistent/csm-schemas\n",
                   "schema_dir: '/nonexistent/csm-schemas': No such file or directory");
    assert_refused("kafka:\n  properties:\n    session.timeout.mss: 3000\n",
                   "kafka.properties.session.timeout.mss: No such configuration property");
    assert_refused("kafka:\n  properties:\n    session.timeout.ms: soon\n",
                   "kafka.properties.session.timeout.ms:");
    assert_refused("kafka:\n  properties:\n    partition.assignment.strategy: roundrobin\n",
                   "kafka.properties.partition.assignment.strategy: must be range");
}

static void topics_and_group(void **state)
{
    (void)state;
    assert_refused("kafka:\n  group_id: \"\"\n", "kafka.group_id: must not be empty");
    assert_refused("kafka:\n  chat_topic: t\n  order_topic: t\n",
                   "kafka.order_topic: 't' is already kafka.chat_topic");
    assert_refused("kafka:\n  deadletter_topic: cs.chat.events\n",
                   "kafka.deadletter_topic: 'cs.chat.events' is already kafka.chat_topic");
    assert_refused("kafka:\n  deadletter_topic: cs.order.events\n",
                   "kafka.deadletter_topic: 'cs.order.events' is already kafka.order_topic");
    assert_refused("kafka:\n  alerts_topic: cs.deadletter\n",
                   "kafka.alerts_topic: 'cs.deadletter' is already kafka.deadletter_topic");
    assert_refused("kafka:\n  order_topic: \"\"\n", "kafka.order_topic: must not be empty");
}

static void ranges(void **state)
{
    (void)state;
    assert_refused("pipeline:\n  flush_max_events: 0\n",
                   "pipeline.flush_max_events: must be between 1 and 10000000, got 0");
    assert_refused("pipeline:\n  max_event_age: 0\n",
                   "pipeline.max_event_age: must be between 1h and 365d, got 0");
    assert_refused("pipeline:\n  max_event_age: 366d\n",
                   "pipeline.max_event_age: must be between 1h and 365d, got 366d");
    /* 200000000000 days in ms does not fit in 64 bits. */
    assert_refused("pipeline:\n  allowed_lateness: 200000000000d\n",
                   "pipeline.allowed_lateness: expected a duration up to 3650d");
    assert_refused("pipeline:\n  allowed_lateness: 2h\n",
                   "pipeline.allowed_lateness: must be between 0 and 1h, got 2h");
    assert_refused("pipeline:\n  dedup_window: inf\n",
                   "pipeline.dedup_window: expected a duration");
    assert_refused("pipeline:\n  idle_advance: 500ms\n",
                   "pipeline.idle_advance: must be between 1s and 365d, got 500ms");
    assert_refused("pipeline:\n  flush_interval: 0\n",
                   "pipeline.flush_interval: must be between 1ms and 10m, got 0");
    assert_refused("redis:\n  timeout: 0\n", "redis.timeout: must be between 10ms and 1m, got 0");
    assert_refused("redis:\n  db: -1\n", "redis.db: must be between 0 and 2147483647, got -1");
    assert_refused("redis:\n  day_ttl_days: 0\n", "redis.day_ttl_days: must be between 1 and 3650");
    assert_refused("redis:\n  alerts_maxlen: 0\n", "redis.alerts_maxlen: must be between 1");
    /* Plugins' durations are bounded the same way. */
    assert_refused("plugins:\n  - name: probe\n    timer_after: 3651d\n",
                   "plugins.probe.timer_after: expected a duration up to 3650d");
    /* The bounds themselves are accepted. */
    if (check("pipeline:\n  allowed_lateness: 1h\n  max_event_age: 365d\n  flush_max_events: 1\n"
              "  idle_advance: 1s\n  dedup_window: 0\nredis:\n  timeout: 10ms\n"))
        fail_msg("%s", err);
}

static void directory_as_file(void **state)
{
    (void)state;
    csm_config cfg;
    const char *dir = getenv("CSM_TEST_DATA");
    assert_non_null(dir);
    assert_int_equal(csm_config_load(dir, &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "is a directory, not a configuration file"));
}

static void chain_needs(void **state)
{
    (void)state;
    assert_refused("plugins:\n  - needy\n",
                   "plugin 'needy' needs 'probe' before it in the chain (it is not in the chain)");
    assert_refused("plugins:\n  - needy\n  - probe\n",
                   "plugin 'needy' needs 'probe' before it in the chain (it comes after it");
    assert_refused("plugins:\n  - sla\n", "plugin 'sla' needs 'session' before it in the chain");
    assert_refused("plugins:\n  - fcr\n  - session\n",
                   "plugin 'fcr' needs 'session' before it in the chain");
    assert_refused("plugins:\n  - half_state\n",
                   "has save_entry but not load_entry: its state could not be restored after a "
                   "restart");
    /* A 1.0 descriptor ends before `needs`: what lies there is not read
     * (old_abi puts an impossible need there). */
    if (check("plugins:\n  - old_abi\n"))
        fail_msg("%s", err);
    /* Every built-in consumer of the session lifecycle says so. */
    static const char *const users[] = {"sla", "unserved", "satisfaction", "fcr", "orders"};
    for (size_t i = 0; i < sizeof users / sizeof *users; i++) {
        char yaml[128], want[128];
        snprintf(yaml, sizeof yaml, "plugins:\n  - %s\n", users[i]);
        snprintf(want, sizeof want, "plugin '%s' needs 'session'", users[i]);
        assert_refused(yaml, want);
    }
}

/* The digest of a file holding @p len bytes of @p data @p repeat times. */
static void sha(const void *data, size_t len, size_t repeat, const char *want)
{
    char path[] = "/tmp/csm_sha_XXXXXX", hex[65];
    int fd = mkstemp(path);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < repeat; i++)
        assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    int rc = csm_file_sha256(path, hex, err, sizeof err);
    unlink(path);
    assert_int_equal(rc, 0);
    assert_string_equal(hex, want);
}

/* FIPS 180-2 examples and the empty input. */
static void sha256_vectors(void **state)
{
    (void)state;
    sha("", 0, 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha("abc", 3, 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, 1,
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    sha("a", 1, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    char hex[65];
    assert_int_equal(csm_file_sha256("/nonexistent/csm.jsonl", hex, err, sizeof err), -1);
    assert_string_equal(err, "/nonexistent/csm.jsonl: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_pass),
        cmocka_unit_test(plugins_and_their_keys),
        cmocka_unit_test(zones_schemas_kafka),
        cmocka_unit_test(topics_and_group),
        cmocka_unit_test(ranges),
        cmocka_unit_test(directory_as_file),
        cmocka_unit_test(chain_needs),
        cmocka_unit_test(sha256_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
