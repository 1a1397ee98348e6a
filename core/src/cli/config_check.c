#include "config_check.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "alert_avro.h"
#include "engine.h"
#include "figures.h"
#include "kafka_conf.h"

static int check_schema_dir(const csm_config *cfg, csm_codec **codec, char *err, size_t errlen)
{
    struct stat st;
    if (stat(cfg->schema_dir, &st) != 0) {
        snprintf(err, errlen, "schema_dir: '%s': %s", cfg->schema_dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "schema_dir: '%s' is not a directory", cfg->schema_dir);
        return -1;
    }
    char why[512];
    if (!(*codec = csm_codec_new(cfg->schema_dir, why, sizeof why))) {
        snprintf(err, errlen, "schema_dir: %s", why);
        return -1;
    }
    if (*cfg->alerts_topic) {
        csm_alert_avro *a = csm_alert_avro_new(cfg->schema_dir, why, sizeof why);
        if (!a) {
            snprintf(err, errlen, "schema_dir (needed by kafka.alerts_topic): %s", why);
            return -1;
        }
        csm_alert_avro_free(a);
    }
    return 0;
}

/* Every property librdkafka refuses (unknown name, bad value) fails here,
 * not when the consumer is created after Redis was reached. */
static int check_kafka(const csm_config *cfg, char *err, size_t errlen)
{
    const char *strategy = csm_kafka_prop(cfg, "partition.assignment.strategy");
    if (strategy && strcmp(strategy, "range")) {
        snprintf(err, errlen,
                 "kafka.properties.partition.assignment.strategy: must be range (partition N "
                 "of both topics has to go to the same member), got '%s'",
                 strategy);
        return -1;
    }
    rd_kafka_conf_t *conf = csm_kafka_conf_new(cfg, NULL, err, errlen);
    if (!conf)
        return -1;
    rd_kafka_conf_destroy(conf);
    return 0;
}

/* A plugin validates its values in init(): one throwaway instance. */
static int check_plugin_init(const csm_config *cfg, const csm_checked *c, char *err, size_t errlen)
{
    csm_engine *e = csm_engine_new(cfg, c->chain, c->st, 0, err, errlen);
    if (!e)
        return -1;
    csm_engine_free(e);
    return 0;
}

/* Declarations that do not hold together would only show when someone
 * reads the figures; they are the plugin author's to fix, at start. */
static int check_figures(const csm_chain *chain, char *err, size_t errlen)
{
    csm_registry *reg = csm_registry_of_chain(chain, err, errlen);
    int rc = reg ? 0 : -1;
    csm_registry_free(reg);
    return rc;
}

int csm_config_check(const csm_config *cfg, csm_checked *keep, char *err, size_t errlen)
{
    csm_checked c = {0};
    int rc = -1;
    if (!(c.chain = csm_chain_load(cfg, err, errlen)) || check_figures(c.chain, err, errlen) ||
        !(c.st = csm_shoptime_new(cfg, err, errlen)) ||
        check_schema_dir(cfg, &c.codec, err, errlen) || check_kafka(cfg, err, errlen) ||
        check_plugin_init(cfg, &c, err, errlen))
        goto out;
    rc = 0;
    if (keep) {
        *keep = c;
        return 0;
    }
out:
    csm_checked_free(&c);
    return rc;
}

void csm_checked_free(csm_checked *c)
{
    csm_codec_free(c->codec);
    csm_shoptime_free(c->st);
    csm_chain_free(c->chain);
    memset(c, 0, sizeof *c);
}
