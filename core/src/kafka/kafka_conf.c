#include "kafka_conf.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

/* librdkafka's lines in our format, minus one kind of noise: the
 * properties are shared by the consumer and the dead-letter producer, so
 * each warns about the other's. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    if (!strcmp(fac, "CONFWARN") &&
        (strstr(buf, "is a consumer property") || strstr(buf, "is a producer property")))
        return;
    int ours = level <= 3   ? CSM_LOG_ERROR
               : level == 4 ? CSM_LOG_WARN
               : level <= 6 ? CSM_LOG_INFO
                            : CSM_LOG_DEBUG;
    csm_logf(ours, "kafka", "%s %s: %s", rd_kafka_name(rk), fac, buf);
}

/* @p key is what the error names: the configuration key the value came
 * from, or NULL for one of our defaults. */
static int set(rd_kafka_conf_t *conf, const char *key, const char *name, const char *value,
               char *err, size_t errlen)
{
    char why[512];
    if (rd_kafka_conf_set(conf, name, value, why, sizeof why) != RD_KAFKA_CONF_OK) {
        if (key)
            snprintf(err, errlen, "%s: %s (value '%s')", key, why, value);
        else
            snprintf(err, errlen, "kafka property %s=%s: %s", name, value, why);
        return -1;
    }
    return 0;
}

rd_kafka_conf_t *csm_kafka_conf_new(const csm_config *cfg, const char *const *defaults, char *err,
                                    size_t errlen)
{
    if (!cfg->brokers || !*cfg->brokers) {
        snprintf(err, errlen, "kafka.brokers: empty (set it, CSM_BROKERS or --brokers)");
        return NULL;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, on_log);
    if (set(conf, "kafka.brokers", "bootstrap.servers", cfg->brokers, err, errlen))
        goto fail;
    for (size_t i = 0; defaults && defaults[i]; i += 2)
        if (set(conf, NULL, defaults[i], defaults[i + 1], err, errlen))
            goto fail;
    for (size_t i = 0; i < cfg->n_kafka_props; i++) {
        char key[300];
        snprintf(key, sizeof key, "kafka.properties.%s", cfg->kafka_props[i].key);
        if (set(conf, key, cfg->kafka_props[i].key, cfg->kafka_props[i].value, err, errlen))
            goto fail;
    }
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

const char *csm_kafka_prop(const csm_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_kafka_props; i++)
        if (!strcmp(cfg->kafka_props[i].key, name))
            return cfg->kafka_props[i].value;
    return NULL;
}
