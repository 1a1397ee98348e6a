/* csmetrics.yaml → csm_config. The scalar keys live in one typed table
 * (documented by `csmetrics config`); the few maps and lists (schema ids,
 * librdkafka properties, platform windows, shops, plugins) are read by
 * hand below. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "config_map.h"
#include "event_slot.h"
#include "install_paths.h"
#include "sat_target.h"

#define OFF(m) offsetof(csm_config, m)

/* The chain used when the configuration names no plugins. */
static const char *const default_chain[] = {"session",      "sla", "unserved",
                                            "satisfaction", "fcr", "orders"};

static const csm_config_entry kafka_keys[] = {
    {CSM_CONFIG_STRING, "brokers", "127.0.0.1:9092", OFF(brokers),
     "bootstrap servers (env CSM_BROKERS, option --brokers)"},
    {CSM_CONFIG_STRING, "group_id", "csmetrics", OFF(group_id), "consumer group of all instances"},
    {CSM_CONFIG_STRING, "chat_topic", "cs.chat.events", OFF(chat_topic), "chat events topic"},
    {CSM_CONFIG_STRING, "order_topic", "cs.order.events", OFF(order_topic), "order events topic"},
    {CSM_CONFIG_STRING, "deadletter_topic", "cs.deadletter", OFF(deadletter_topic),
     "where undecodable, invalid and late events go, with the reason"},
    {CSM_CONFIG_STRING, "alerts_topic", "", OFF(alerts_topic),
     "if set, alerts are also produced there (Avro, schemas/alert.avsc); it needs at least as "
     "many partitions as the chat topic"},
    {CSM_CONFIG_INT, "alerts_schema_id", "-1", OFF(alerts_schema_id),
     "Confluent schema id of alert.avsc: alerts get the Confluent framing; -1: plain Avro"},
    {CSM_CONFIG_STRING, "framing", "auto", OFF(framing_),
     "auto, confluent (magic byte + schema id) or plain (bare Avro)"},
    {CSM_CONFIG_END, NULL, NULL, 0, NULL}};

static const csm_config_entry redis_keys[] = {
    {CSM_CONFIG_STRING, "host", "127.0.0.1", OFF(redis_host_),
     "Redis host or unix socket path (env CSM_REDIS=host:port, option --redis)"},
    {CSM_CONFIG_INT, "port", "6379", OFF(redis_port_), "Redis port"},
    {CSM_CONFIG_STRING, "password", "", OFF(redis_password_),
     "AUTH password (env CSM_REDIS_PASSWORD)"},
    {CSM_CONFIG_STRING, "username", "", OFF(redis_username_), "ACL user name (Redis 6+)"},
    {CSM_CONFIG_INT, "db", "0", OFF(redis_db_), "database number"},
    {CSM_CONFIG_DURATION, "timeout", "2s", OFF(redis_timeout_ms_), "connect and command timeout"},
    {CSM_CONFIG_STRING, "prefix", "csm", OFF(prefix), "prefix of every key"},
    {CSM_CONFIG_INT, "day_ttl_days", "400", OFF(day_ttl_days),
     "daily keys expire this many days after their day"},
    {CSM_CONFIG_INT, "alerts_maxlen", "10000", OFF(alerts_maxlen),
     "alerts kept per shop stream (XADD MAXLEN)"},
    {CSM_CONFIG_END, NULL, NULL, 0, NULL}};

static const csm_config_entry pipeline_keys[] = {
    {CSM_CONFIG_DURATION, "allowed_lateness", "5s", OFF(allowed_lateness_ms),
     "events up to this far behind their partition's event time are reordered; later ones "
     "are late"},
    {CSM_CONFIG_DURATION, "idle_advance", "10s", OFF(idle_advance_ms),
     "a partition quiet for this long (wall clock) advances its event time with the wall clock"},
    {CSM_CONFIG_DURATION, "flush_interval", "100ms", OFF(flush_interval_ms),
     "how often pending counters are written to Redis"},
    {CSM_CONFIG_INT, "flush_max_events", "20000", OFF(flush_max_events),
     "flush early after this many events"},
    {CSM_CONFIG_DURATION, "dedup_window", "10m", OFF(dedup_window_ms),
     "event ids are remembered this far behind event time (older copies are late anyway)"},
    {CSM_CONFIG_DURATION, "max_event_age", "7d", OFF(max_event_age_ms),
     "events this far from the partition's event time are dead-lettered"},
    {CSM_CONFIG_DURATION, "max_clock_skew", "1h", OFF(max_clock_skew_ms),
     "events whose ts is further ahead of the wall clock are dead-lettered (run and replay)"},
    {CSM_CONFIG_DURATION, "horizon", "400d", OFF(horizon_ms),
     "run: events whose ts is further behind the wall clock are dead-lettered (at least 1d; "
     "keep it >= redis.day_ttl_days to let a backfill of the kept days through)"},
    {CSM_CONFIG_END, NULL, NULL, 0, NULL}};

static const csm_config_entry time_keys[] = {
    {CSM_CONFIG_STRING, "timezone", "Asia/Shanghai", OFF(default_timezone),
     "time zone of shops without their own (tz database name)"},
    {CSM_CONFIG_STRING, "window", "08:00-23:00", OFF(window_),
     "assessment window, shop-local, start <= t < end"},
    {CSM_CONFIG_END, NULL, NULL, 0, NULL}};

static const csm_config_entry top_keys[] = {
    {CSM_CONFIG_STRING, "plugin_path", "", OFF(plugin_path),
     "extra ':'-separated directories searched for plugins before the built-in ones"},
    {CSM_CONFIG_STRING, "schema_dir", "", OFF(schema_dir),
     "directory of chat_event.avsc and order_event.avsc (default: installed schemas)"},
    {CSM_CONFIG_END, NULL, NULL, 0, NULL}};

static const csm_config_entry http_keys[] = {
    {CSM_CONFIG_STRING, "bind", "127.0.0.1", OFF(http_bind),
     "address of /metrics, /healthz, /readyz"},
    {CSM_CONFIG_INT, "port", "0", OFF(http_port), "port of the HTTP endpoint; 0 turns it off"},
    {CSM_CONFIG_END, NULL, NULL, 0, NULL}};

static const csm_config_entry alerts_keys[] = {
    {CSM_CONFIG_STRING, "satisfaction_target", "0.8", OFF(satisfaction_target),
     "SATISFACTION_BELOW_TARGET when the 7-day rate is under this (0.8 or \"80%\"); "
     "shops.<id>.satisfaction_target overrides it"},
    {CSM_CONFIG_END, NULL, NULL, 0, NULL}};

static const csm_config_entry log_keys[] = {
    {CSM_CONFIG_STRING, "level", "info", OFF(log_level_), "error, warn, info or debug"},
    {CSM_CONFIG_END, NULL, NULL, 0, NULL}};

static const csm_config_entry registry_keys[] = {
    {CSM_CONFIG_STRING, "url", "", OFF(registry_url),
     "schema registry base URL, http://HOST[:PORT] or https://… (Confluent REST API)"},
    {CSM_CONFIG_STRING, "dir", "", OFF(registry_dir),
     "directory of <id>.avsc writer schemas, consulted before the registry"},
    {CSM_CONFIG_STRING, "username", "", OFF(registry_username),
     "basic auth user name (with password)"},
    {CSM_CONFIG_STRING, "password", "", OFF(registry_password),
     "basic auth password (env CSM_SCHEMA_REGISTRY_PASSWORD)"},
    {CSM_CONFIG_STRING, "ca_file", "", OFF(registry_ca_file),
     "CA bundle (PEM) that verifies the registry's certificate (none: the system's)"},
    {CSM_CONFIG_STRING, "cert_file", "", OFF(registry_cert_file),
     "client certificate (PEM) for TLS client authentication"},
    {CSM_CONFIG_STRING, "key_file", "", OFF(registry_key_file), "private key of cert_file (PEM)"},
    {CSM_CONFIG_DURATION, "timeout", "5s", OFF(registry_timeout_ms),
     "connect and request timeout of one registry request"},
    {CSM_CONFIG_DURATION, "retry_max", "30s", OFF(registry_retry_max_ms),
     "an unreachable registry is retried after 250ms, doubling up to this"},
    {CSM_CONFIG_INT, "cache_max", "1000", OFF(registry_cache_max),
     "writer schemas kept in memory (least recently used forgotten, fetched again)"},
    {CSM_CONFIG_END, NULL, NULL, 0, NULL}};

static const struct section {
    const char *name;
    const csm_config_entry *keys;
} sections[] = {{"kafka", kafka_keys},
                {"redis", redis_keys},
                {"pipeline", pipeline_keys},
                {"time", time_keys},
                {"http", http_keys},
                {"log", log_keys},
                {"alerts", alerts_keys},
                {"schema_registry", registry_keys},
                {"", top_keys}};

static void print_ranges(FILE *out);

void csm_config_print_reference(void *file)
{
    FILE *out = file;
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++)
        csm_config_map_print(sections[i].keys, sections[i].name, out);
    print_ranges(out);
    fprintf(out, "  kafka.schema_ids (map id -> chat|order): Confluent schema ids\n"
                 "  kafka.properties (map): librdkafka properties (SASL, TLS, …)\n"
                 "  time.platform_windows (map PLATFORM -> \"HH:MM-HH:MM\")\n"
                 "  shops (map shop_id -> {timezone, window, <setting>: value})\n"
                 "  plugins (list of names, or {name: N, <key>: value}); default: session, sla, "
                 "unserved, satisfaction, fcr, orders\n");
}

/* ---- YAML helpers over libyaml's document model ---- */

typedef struct doc {
    yaml_document_t d;
} doc;

static yaml_node_t *node(doc *d, int id)
{
    return yaml_document_get_node(&d->d, id);
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int kv_push(csm_kv **arr, size_t *n, const char *k, const char *v)
{
    csm_kv *grown = realloc(*arr, (*n + 1) * sizeof **arr);
    if (!grown)
        return -1;
    *arr = grown;
    grown[*n].key = strdup(k);
    grown[*n].value = strdup(v);
    (*n)++;
    return 0;
}

static void free_kvs(csm_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

/* Reads a mapping of scalars into kv pairs; err names path.key. */
static int read_scalar_map(doc *d, yaml_node_t *m, const char *path, csm_kv **kv, size_t *n,
                           char *err, size_t errlen)
{
    if (m->type != YAML_MAPPING_NODE) {
        snprintf(err, errlen, "%s: expected a mapping", path);
        return -1;
    }
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const char *k = scalar(node(d, p->key));
        const char *v = scalar(node(d, p->value));
        if (!k || !v) {
            snprintf(err, errlen, "%s.%s: expected a scalar value", path, k ? k : "?");
            /* Callers keep nothing of a refused map (a leak found by
             * tests/fuzz/fuzz_config). */
            free_kvs(*kv, *n);
            *kv = NULL;
            *n = 0;
            return -1;
        }
        kv_push(kv, n, k, v);
    }
    return 0;
}

int csm_parse_window(const char *s, csm_window *w)
{
    int h1, m1, h2, m2, used = 0;
    if (sscanf(s, "%d:%d-%d:%d%n", &h1, &m1, &h2, &m2, &used) != 4 || s[used] || h1 < 0 ||
        h1 > 24 || h2 < 0 || h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59)
        return -1;
    w->start_min = h1 * 60 + m1;
    w->end_min = h2 * 60 + m2;
    if (w->start_min > 1440 || w->end_min > 1440 || w->start_min >= w->end_min)
        return -1;
    return 0;
}

static int read_section(doc *d, yaml_node_t *m, const struct section *sec, csm_config *cfg,
                        char *err, size_t errlen)
{
    csm_kv *kv = NULL;
    size_t n = 0;
    int rc = 0;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const char *k = scalar(node(d, p->key));
        yaml_node_t *v = node(d, p->value);
        char path[128];
        snprintf(path, sizeof path, "%s.%s", sec->name, k ? k : "?");
        if (!strcmp(sec->name, "kafka") && k && !strcmp(k, "properties")) {
            if (read_scalar_map(d, v, path, &cfg->kafka_props, &cfg->n_kafka_props, err, errlen))
                goto fail;
        } else if (!strcmp(sec->name, "kafka") && k && !strcmp(k, "schema_ids")) {
            csm_kv *ids = NULL;
            size_t nid = 0;
            if (read_scalar_map(d, v, path, &ids, &nid, err, errlen))
                goto fail;
            for (size_t i = 0; i < nid; i++) {
                char *end;
                long id = strtol(ids[i].key, &end, 10);
                int is_chat = !strcmp(ids[i].value, "chat");
                if (*end || id < 0 || (!is_chat && strcmp(ids[i].value, "order")) ||
                    cfg->n_schema_ids >= 16) {
                    snprintf(err, errlen, "%s.%s: expected <schema id>: chat|order", path,
                             ids[i].key);
                    free_kvs(ids, nid);
                    goto fail;
                }
                cfg->schema_ids[cfg->n_schema_ids] = (int32_t)id;
                cfg->schema_streams[cfg->n_schema_ids++] =
                    is_chat ? CSM_STREAM_CHAT : CSM_STREAM_ORDER;
            }
            free_kvs(ids, nid);
        } else if (!strcmp(sec->name, "time") && k && !strcmp(k, "platform_windows")) {
            csm_kv *w = NULL;
            size_t nw = 0;
            if (read_scalar_map(d, v, path, &w, &nw, err, errlen))
                goto fail;
            for (size_t i = 0; i < nw; i++) {
                int pl = csm_platform_parse(w[i].key);
                csm_window win;
                if (pl < 0 || csm_parse_window(w[i].value, &win)) {
                    snprintf(err, errlen, "%s.%s: expected PLATFORM: \"HH:MM-HH:MM\"", path,
                             w[i].key);
                    free_kvs(w, nw);
                    goto fail;
                }
                cfg->has_platform_window[pl] = 1;
                cfg->platform_window[pl] = win;
            }
            free_kvs(w, nw);
        } else {
            const char *sv = scalar(v);
            if (!k || !sv) {
                snprintf(err, errlen, "%s: expected a scalar value", path);
                goto fail;
            }
            kv_push(&kv, &n, k, sv);
        }
    }
    /* Defaults were applied up front; here only the given keys. */
    for (size_t i = 0; i < n; i++) {
        const csm_config_entry *e = sec->keys;
        while (e->type != CSM_CONFIG_END && strcmp(e->name, kv[i].key))
            e++;
        if (e->type == CSM_CONFIG_END) {
            snprintf(err, errlen, "%s%s%s: unknown key", sec->name, *sec->name ? "." : "",
                     kv[i].key);
            goto fail;
        }
        if (csm_config_map_set(e, sec->name, kv[i].value, cfg, err, errlen))
            goto fail;
    }
    goto out;
fail:
    rc = -1;
out:
    free_kvs(kv, n);
    return rc;
}

static int read_shops(doc *d, yaml_node_t *m, csm_config *cfg, char *err, size_t errlen)
{
    if (m->type != YAML_MAPPING_NODE) {
        snprintf(err, errlen, "shops: expected a mapping of shop_id -> settings");
        return -1;
    }
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const char *shop = scalar(node(d, p->key));
        char path[256];
        snprintf(path, sizeof path, "shops.%s", shop ? shop : "?");
        csm_kv *kv = NULL;
        size_t n = 0;
        if (!shop) {
            /* e.g. "? [a]": found by tests/fuzz/fuzz_config (it said nothing). */
            snprintf(err, errlen, "shops: a shop id must be a scalar");
            return -1;
        }
        if (read_scalar_map(d, node(d, p->value), path, &kv, &n, err, errlen)) {
            free_kvs(kv, n);
            return -1;
        }
        cfg->shops = realloc(cfg->shops, (cfg->n_shops + 1) * sizeof *cfg->shops);
        csm_shop_override *o = &cfg->shops[cfg->n_shops++];
        memset(o, 0, sizeof *o);
        o->shop_id = strdup(shop);
        for (size_t i = 0; i < n; i++) {
            if (!strcmp(kv[i].key, "timezone")) {
                free(o->timezone); /* a repeated key: the last one wins */
                o->timezone = strdup(kv[i].value);
            } else if (!strcmp(kv[i].key, "window")) {
                if (csm_parse_window(kv[i].value, &o->window)) {
                    snprintf(err, errlen, "%s.window: expected \"HH:MM-HH:MM\", got '%s'", path,
                             kv[i].value);
                    free_kvs(kv, n);
                    return -1;
                }
                o->has_window = 1;
            } else {
                kv_push(&o->settings, &o->n_settings, kv[i].key, kv[i].value);
            }
        }
        free_kvs(kv, n);
    }
    return 0;
}

static int read_plugins(doc *d, yaml_node_t *s, csm_config *cfg, char *err, size_t errlen)
{
    if (s->type != YAML_SEQUENCE_NODE) {
        snprintf(err, errlen, "plugins: expected a list");
        return -1;
    }
    if (s->data.sequence.items.start == s->data.sequence.items.top) {
        snprintf(err, errlen,
                 "plugins: the list is empty; name at least one plugin, or remove the key for "
                 "the default chain");
        return -1;
    }
    for (yaml_node_item_t *it = s->data.sequence.items.start; it < s->data.sequence.items.top;
         it++) {
        yaml_node_t *n = node(d, *it);
        size_t idx = cfg->n_plugins;
        if (idx >= CSM_MAX_PLUGINS) {
            snprintf(err, errlen, "plugins: at most %d plugins", CSM_MAX_PLUGINS);
            return -1;
        }
        csm_plugin_spec *spec = &cfg->plugins[idx];
        memset(spec, 0, sizeof *spec);
        char path[64];
        snprintf(path, sizeof path, "plugins[%zu]", idx);
        if (scalar(n)) {
            spec->name = strdup(scalar(n));
        } else {
            csm_kv *kv = NULL;
            size_t nkv = 0;
            if (read_scalar_map(d, n, path, &kv, &nkv, err, errlen)) {
                free_kvs(kv, nkv);
                return -1;
            }
            for (size_t i = 0; i < nkv; i++) {
                if (!strcmp(kv[i].key, "name")) {
                    free(spec->name); /* a repeated key: the last one wins */
                    spec->name = strdup(kv[i].value);
                } else {
                    kv_push(&spec->settings, &spec->n_settings, kv[i].key, kv[i].value);
                }
            }
            free_kvs(kv, nkv);
            if (!spec->name) {
                /* Not counted in n_plugins yet: csm_config_free would miss them. */
                free_kvs(spec->settings, spec->n_settings);
                snprintf(err, errlen, "%s.name: missing", path);
                return -1;
            }
        }
        cfg->n_plugins++;
    }
    return 0;
}

/* ---- ranges and cross-key rules (docs/configuration.md gives each) ---- */

typedef struct range {
    const char *key;
    size_t offset; /* of an int64_t */
    int64_t min, max;
    int duration; /* print the bounds as durations */
} range;

#define DAY_MS 86400000LL
static const range ranges[] = {
    {"pipeline.allowed_lateness", OFF(allowed_lateness_ms), 0, 3600000, 1},
    {"pipeline.idle_advance", OFF(idle_advance_ms), 1000, 365 * DAY_MS, 1},
    {"pipeline.flush_interval", OFF(flush_interval_ms), 1, 600000, 1},
    {"pipeline.flush_max_events", OFF(flush_max_events), 1, 10000000, 0},
    {"pipeline.dedup_window", OFF(dedup_window_ms), 0, 30 * DAY_MS, 1},
    {"pipeline.max_event_age", OFF(max_event_age_ms), 3600000, 365 * DAY_MS, 1},
    {"pipeline.max_clock_skew", OFF(max_clock_skew_ms), 0, 365 * DAY_MS, 1},
    {"pipeline.horizon", OFF(horizon_ms), DAY_MS, 3650 * DAY_MS, 1},
    {"redis.timeout", OFF(redis_timeout_ms_), 10, 60000, 1},
    {"redis.db", OFF(redis_db_), 0, INT32_MAX, 0},
    {"redis.day_ttl_days", OFF(day_ttl_days), 1, 3650, 0},
    {"redis.alerts_maxlen", OFF(alerts_maxlen), 1, 100000000, 0},
    {"schema_registry.timeout", OFF(registry_timeout_ms), 10, 600000, 1},
    {"schema_registry.retry_max", OFF(registry_retry_max_ms), 250, 3600000, 1},
    {"schema_registry.cache_max", OFF(registry_cache_max), 1, 1000000, 0},
};

/* The largest unit that divides ms exactly: 3600000 -> "1h". */
static void format_duration(int64_t ms, char *out, size_t len)
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{DAY_MS, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (ms && ms % units[i].ms == 0) {
            snprintf(out, len, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return;
        }
    snprintf(out, len, ms ? "%lldms" : "%lld", (long long)ms);
}

static void format_value(const range *r, int64_t v, char *out, size_t len)
{
    if (r->duration)
        format_duration(v, out, len);
    else
        snprintf(out, len, "%lld", (long long)v);
}

static void print_ranges(FILE *out)
{
    fprintf(out, "  ranges (inclusive):");
    for (size_t i = 0; i < sizeof ranges / sizeof *ranges; i++) {
        char lo[32], hi[32];
        format_value(&ranges[i], ranges[i].min, lo, sizeof lo);
        format_value(&ranges[i], ranges[i].max, hi, sizeof hi);
        fprintf(out, "%s %s %s..%s", i ? "," : "", ranges[i].key, lo, hi);
    }
    fprintf(out, "; any duration at most 3650d\n");
}

static int check_ranges(const csm_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof ranges / sizeof *ranges; i++) {
        const range *r = &ranges[i];
        int64_t v = *(const int64_t *)((const char *)cfg + r->offset);
        if (v >= r->min && v <= r->max)
            continue;
        char lo[32], hi[32], got[32];
        format_value(r, r->min, lo, sizeof lo);
        format_value(r, r->max, hi, sizeof hi);
        format_value(r, v, got, sizeof got);
        snprintf(err, errlen, "%s: must be between %s and %s, got %s", r->key, lo, hi, got);
        return -1;
    }
    return 0;
}

/* `run` reads the two input topics and writes the others: one topic in
 * two roles would loop or mix streams. */
static int check_topics(const csm_config *cfg, char *err, size_t errlen)
{
    const struct {
        const char *key, *topic;
    } t[] = {{"kafka.chat_topic", cfg->chat_topic},
             {"kafka.order_topic", cfg->order_topic},
             {"kafka.deadletter_topic", cfg->deadletter_topic},
             {"kafka.alerts_topic", cfg->alerts_topic}};
    if (!*cfg->group_id) {
        snprintf(err, errlen, "kafka.group_id: must not be empty");
        return -1;
    }
    for (size_t i = 0; i < 4; i++) {
        if (!*t[i].topic) {
            if (i == 3)
                continue; /* no alerts topic */
            snprintf(err, errlen, "%s: must not be empty", t[i].key);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(t[i].topic, t[j].topic)) {
                snprintf(err, errlen, "%s: '%s' is already %s; each topic has one role", t[i].key,
                         t[i].topic, t[j].key);
                return -1;
            }
    }
    return 0;
}

/* libcurl would take "registry:8081" as a host name with a default
 * scheme and answer with a puzzling error on the first event. */
static int check_registry(const csm_config *cfg, char *err, size_t errlen)
{
    const char *u = cfg->registry_url;
    if (*u && strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) {
        snprintf(err, errlen,
                 "schema_registry.url: expected http://HOST[:PORT] or https://…, got '%s'", u);
        return -1;
    }
    return 0;
}

static void apply_defaults(csm_config *cfg)
{
    char err[64];
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++)
        csm_config_map_fill(sections[i].keys, sections[i].name, NULL, 0, cfg, err, sizeof err);
}

/* Copies the table's storage into the typed fields and checks values
 * that the table's types cannot. */
static int finish(csm_config *cfg, char *err, size_t errlen)
{
    if (!strcmp(cfg->framing_, "auto"))
        cfg->framing = CSM_FRAMING_AUTO;
    else if (!strcmp(cfg->framing_, "confluent"))
        cfg->framing = CSM_FRAMING_CONFLUENT;
    else if (!strcmp(cfg->framing_, "plain"))
        cfg->framing = CSM_FRAMING_PLAIN;
    else {
        snprintf(err, errlen, "kafka.framing: expected auto, confluent or plain, got '%s'",
                 cfg->framing_);
        return -1;
    }
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    cfg->log_level = -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(cfg->log_level_, levels[i]))
            cfg->log_level = i;
    if (cfg->log_level < 0) {
        snprintf(err, errlen, "log.level: expected error, warn, info or debug, got '%s'",
                 cfg->log_level_);
        return -1;
    }
    if (csm_parse_window(cfg->window_, &cfg->default_window)) {
        snprintf(err, errlen, "time.window: expected \"HH:MM-HH:MM\", got '%s'", cfg->window_);
        return -1;
    }
    if (cfg->redis_port_ <= 0 || cfg->redis_port_ > 65535) {
        snprintf(err, errlen, "redis.port: expected 1..65535, got %lld",
                 (long long)cfg->redis_port_);
        return -1;
    }
    if (cfg->http_port < 0 || cfg->http_port > 65535) {
        snprintf(err, errlen, "http.port: expected 0..65535");
        return -1;
    }
    if (csm_sbt_parse_target(cfg->satisfaction_target) < 0) {
        snprintf(err, errlen,
                 "alerts.satisfaction_target: expected a fraction 0..1 or a "
                 "percentage, got '%s'",
                 cfg->satisfaction_target);
        return -1;
    }
    for (size_t i = 0; i < cfg->n_shops; i++)
        for (size_t k = 0; k < cfg->shops[i].n_settings; k++)
            if (!strcmp(cfg->shops[i].settings[k].key, "satisfaction_target") &&
                csm_sbt_parse_target(cfg->shops[i].settings[k].value) < 0) {
                snprintf(err, errlen,
                         "shops.%s.satisfaction_target: expected a fraction 0..1 "
                         "or a percentage, got '%s'",
                         cfg->shops[i].shop_id, cfg->shops[i].settings[k].value);
                return -1;
            }
    if (cfg->alerts_schema_id > INT32_MAX) {
        snprintf(err, errlen, "kafka.alerts_schema_id: must be below 2^31");
        return -1;
    }
    if (!*cfg->prefix || strchr(cfg->prefix, '{')) {
        snprintf(err, errlen, "redis.prefix: must be non-empty and contain no '{'");
        return -1;
    }
    if (check_ranges(cfg, err, errlen) || check_topics(cfg, err, errlen) ||
        check_registry(cfg, err, errlen))
        return -1;
    cfg->redis.host = cfg->redis_host_;
    cfg->redis.port = (int)cfg->redis_port_;
    cfg->redis.password = *cfg->redis_password_ ? cfg->redis_password_ : NULL;
    cfg->redis.username = *cfg->redis_username_ ? cfg->redis_username_ : NULL;
    cfg->redis.db = (int)cfg->redis_db_;
    cfg->redis.timeout_ms = (int)cfg->redis_timeout_ms_;
    if (!*cfg->schema_dir) {
        const char *env = getenv("CSM_SCHEMA_DIR");
        const char *dir = env && *env ? env : csm_default_dir(CSM_DIR_SCHEMAS);
        free(cfg->schema_dir);
        cfg->schema_dir = strdup(dir);
    }
    if (cfg->n_plugins == 0)
        for (size_t i = 0; i < sizeof default_chain / sizeof *default_chain; i++)
            cfg->plugins[cfg->n_plugins++].name = strdup(default_chain[i]);
    return 0;
}

static int apply_env(csm_config *cfg, char *err, size_t errlen)
{
    const char *v;
    if ((v = getenv("CSM_BROKERS")) && *v)
        csm_config_set_brokers(cfg, v);
    if ((v = getenv("CSM_REDIS")) && *v && csm_config_set_redis_address(cfg, v, err, errlen))
        return -1;
    if ((v = getenv("CSM_REDIS_PASSWORD")) && *v) {
        free(cfg->redis_password_);
        cfg->redis_password_ = strdup(v);
        cfg->redis.password = cfg->redis_password_;
    }
    if ((v = getenv("CSM_SCHEMA_REGISTRY_PASSWORD")) && *v) {
        free(cfg->registry_password);
        cfg->registry_password = strdup(v);
    }
    return 0;
}

static int load_parser(yaml_parser_t *parser, csm_config *cfg, const char *what, char *err,
                       size_t errlen)
{
    doc d;
    if (!yaml_parser_load(parser, &d.d)) {
        snprintf(err, errlen, "%s: YAML error at line %zu: %s", what, parser->problem_mark.line + 1,
                 parser->problem ? parser->problem : "?");
        return -1;
    }
    int rc = 0;
    yaml_node_t *root = yaml_document_get_root_node(&d.d);
    if (!root || (root->type == YAML_SCALAR_NODE && !*scalar(root)))
        goto out; /* empty file: defaults */
    if (root->type != YAML_MAPPING_NODE) {
        snprintf(err, errlen, "%s: the top level must be a mapping", what);
        rc = -1;
        goto out;
    }
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        const char *k = scalar(node(&d, p->key));
        yaml_node_t *v = node(&d, p->value);
        if (!k) {
            snprintf(err, errlen, "%s: keys must be scalars", what);
            rc = -1;
            goto out;
        }
        if (!strcmp(k, "shops")) {
            rc = read_shops(&d, v, cfg, err, errlen);
        } else if (!strcmp(k, "plugins")) {
            rc = read_plugins(&d, v, cfg, err, errlen);
        } else {
            const struct section *sec = NULL;
            for (size_t i = 0; i < sizeof sections / sizeof *sections; i++)
                if (!strcmp(sections[i].name, k))
                    sec = &sections[i];
            if (sec && v->type == YAML_MAPPING_NODE) {
                rc = read_section(&d, v, sec, cfg, err, errlen);
            } else if (sec && *sec->name && scalar(v) && !*scalar(v)) {
                /* "pipeline:" with nothing under it: an empty section. */
            } else if (scalar(v)) {
                /* A top-level scalar key (plugin_path, schema_dir). */
                const csm_config_entry *e = top_keys;
                while (e->type != CSM_CONFIG_END && strcmp(e->name, k))
                    e++;
                if (e->type == CSM_CONFIG_END) {
                    snprintf(err, errlen, "%s: unknown key", k);
                    rc = -1;
                } else {
                    rc = csm_config_map_set(e, "", scalar(v), cfg, err, errlen);
                }
            } else {
                snprintf(err, errlen, "%s: unknown section", k);
                rc = -1;
            }
        }
        if (rc)
            goto out;
    }
out:
    yaml_document_delete(&d.d);
    return rc;
}

static int load(const char *path, const char *text, csm_config *cfg, char *err, size_t errlen)
{
    apply_defaults(cfg);
    int rc = 0;
    if (path || text) {
        yaml_parser_t parser;
        yaml_parser_initialize(&parser);
        FILE *f = NULL;
        if (path) {
            struct stat st;
            if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
                snprintf(err, errlen, "%s: is a directory, not a configuration file", path);
                yaml_parser_delete(&parser);
                return -1;
            }
            f = fopen(path, "rb");
            if (!f) {
                snprintf(err, errlen, "%s: cannot open the configuration file", path);
                yaml_parser_delete(&parser);
                return -1;
            }
            yaml_parser_set_input_file(&parser, f);
        } else {
            yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
        }
        rc = load_parser(&parser, cfg, path ? path : "configuration", err, errlen);
        yaml_parser_delete(&parser);
        if (f)
            fclose(f);
    }
    if (!rc)
        rc = apply_env(cfg, err, errlen);
    if (!rc)
        rc = finish(cfg, err, errlen);
    return rc;
}

/* A refused file leaves nothing for the caller to free. */
static int load_or_free(const char *path, const char *text, csm_config *cfg, char *err,
                        size_t errlen)
{
    int rc = load(path, text, cfg, err, errlen);
    if (rc)
        csm_config_free(cfg);
    return rc;
}

int csm_config_load(const char *path, csm_config *cfg, char *err, size_t errlen)
{
    return load_or_free(path, NULL, cfg, err, errlen);
}

int csm_config_load_string(const char *yaml, csm_config *cfg, char *err, size_t errlen)
{
    return load_or_free(NULL, yaml ? yaml : "", cfg, err, errlen);
}

int csm_config_set_redis_address(csm_config *cfg, const char *hostport, char *err, size_t errlen)
{
    const char *colon = strrchr(hostport, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || colon == hostport || !end || *end || port <= 0 || port > 65535) {
        snprintf(err, errlen, "redis address: expected HOST:PORT, got '%s'", hostport);
        return -1;
    }
    free(cfg->redis_host_);
    cfg->redis_host_ = strndup(hostport, (size_t)(colon - hostport));
    cfg->redis_port_ = port;
    cfg->redis.host = cfg->redis_host_;
    cfg->redis.port = (int)port;
    return 0;
}

void csm_config_set_brokers(csm_config *cfg, const char *brokers)
{
    free(cfg->brokers);
    cfg->brokers = strdup(brokers);
}

void csm_config_free(csm_config *cfg)
{
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++)
        csm_config_map_free(sections[i].keys, cfg);
    free_kvs(cfg->kafka_props, cfg->n_kafka_props);
    for (size_t i = 0; i < cfg->n_shops; i++) {
        free(cfg->shops[i].shop_id);
        free(cfg->shops[i].timezone);
        free_kvs(cfg->shops[i].settings, cfg->shops[i].n_settings);
    }
    free(cfg->shops);
    for (size_t i = 0; i < cfg->n_plugins; i++) {
        free(cfg->plugins[i].name);
        free_kvs(cfg->plugins[i].settings, cfg->plugins[i].n_settings);
    }
    memset(cfg, 0, sizeof *cfg);
}
