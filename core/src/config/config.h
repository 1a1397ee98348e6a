/* csmetrics.yaml: one file, every key typed, documented and validated
 * (docs/configuration.md). Environment overrides: CSM_BROKERS,
 * CSM_REDIS (host:port), CSM_REDIS_PASSWORD, CSM_SCHEMA_REGISTRY_PASSWORD.
 * Command-line overrides
 * --brokers / --redis win over both. */
#ifndef CSM_CONFIG_H
#define CSM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "redis_store.h"

#define CSM_MAX_PLUGINS 32

typedef struct csm_kv {
    char *key;
    char *value;
} csm_kv;

/* A shop-local time-of-day range [start, end) in minutes since midnight. */
typedef struct csm_window {
    int start_min, end_min;
} csm_window;

typedef struct csm_shop_override {
    char *shop_id;
    char *timezone; /* NULL: default */
    int has_window;
    csm_window window;
    csm_kv *settings; /* other keys, e.g. satisfaction_target */
    size_t n_settings;
} csm_shop_override;

typedef struct csm_plugin_spec {
    char *name;       /* name (looked up on the plugin path) or path to a .so */
    csm_kv *settings; /* its config section, validated against its config_map */
    size_t n_settings;
} csm_plugin_spec;

typedef struct csm_config {
    /* kafka */
    char *brokers;
    char *group_id;
    char *chat_topic, *order_topic, *deadletter_topic;
    char *alerts_topic;        /* "" = none */
    int64_t alerts_schema_id;  /* < 0: plain Avro */
    char *satisfaction_target; /* alerts.satisfaction_target, e.g. "0.8" */
    csm_framing framing;
    int32_t schema_ids[16];
    csm_stream schema_streams[16];
    size_t n_schema_ids;
    csm_kv *kafka_props; /* passed to librdkafka as they are (SASL, TLS…) */
    size_t n_kafka_props;
    /* redis */
    csm_redis_config redis; /* strings owned by the config */
    char *prefix;
    int64_t day_ttl_days;
    int64_t alerts_maxlen;
    /* pipeline */
    int64_t allowed_lateness_ms;
    int64_t idle_advance_ms;
    int64_t flush_interval_ms;
    int64_t flush_max_events;
    int64_t dedup_window_ms;
    int64_t max_event_age_ms;  /* the 7-day rule */
    int64_t max_clock_skew_ms; /* ts further ahead of the wall clock: dead letter */
    int64_t horizon_ms;        /* run: ts further behind the wall clock: dead letter */
    /* time */
    char *default_timezone;
    csm_window default_window;
    int has_platform_window[8];
    csm_window platform_window[8];
    csm_shop_override *shops;
    size_t n_shops;
    /* plugins */
    char *plugin_path; /* ':'-separated directories */
    char *schema_dir;
    csm_plugin_spec plugins[CSM_MAX_PLUGINS];
    size_t n_plugins;
    /* ops */
    char *http_bind;
    int64_t http_port; /* 0 = no HTTP endpoint */
    int log_level;     /* 0 error … 3 debug */
    /* schema_registry: where writer schemas come from by id. The fields
     * of csm_registry_conf (http/schema_registry.h, a layer above: see
     * csm_registry_conf_from_config), "" = not set, plus the cache bound. */
    char *registry_url, *registry_dir, *registry_username, *registry_password;
    char *registry_ca_file, *registry_cert_file, *registry_key_file;
    int64_t registry_timeout_ms, registry_retry_max_ms;
    int64_t registry_cache_max; /* writer schemas kept (csm_codec_set_cache_max) */

    /* Storage behind the typed table (config.c); read the fields above. */
    char *redis_host_, *redis_password_, *redis_username_, *framing_, *window_, *log_level_;
    int64_t redis_port_, redis_db_, redis_timeout_ms_;
} csm_config;

/* Defaults, then the file (NULL: none), then the environment. -1 with an
 * error naming the key ("redis.port: expected an integer, got 'abc'");
 * then cfg holds nothing to free. */
int csm_config_load(const char *path, csm_config *cfg, char *err, size_t errlen);
/* Same from a YAML string (test kit). */
int csm_config_load_string(const char *yaml, csm_config *cfg, char *err, size_t errlen);
/* --redis HOST:PORT and --brokers LIST. -1 + err on a malformed value. */
int csm_config_set_redis_address(csm_config *cfg, const char *hostport, char *err, size_t errlen);
void csm_config_set_brokers(csm_config *cfg, const char *brokers);
void csm_config_free(csm_config *cfg);

/* The longest duration any key accepts (3650 days): far from overflowing
 * when added to an epoch-millisecond timestamp. */
#define CSM_DURATION_MAX_MS (3650LL * 86400000LL)

/* Parses "150", "500ms", "30s", "15m", "24h", "3d" into ms; at most
 * CSM_DURATION_MAX_MS. 0 or -1. */
int csm_parse_duration_ms(const char *s, int64_t *ms);
/* Parses "08:00-23:00". 0 or -1. */
int csm_parse_window(const char *s, csm_window *w);

/* Writes the documented reference of every core key (for docs and
 * `csmetrics config --help`). */
void csm_config_print_reference(void *file);

#endif
