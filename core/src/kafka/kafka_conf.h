/* librdkafka configuration shared by the consumer and the dead-letter
 * producer: our defaults first, then the user's kafka.properties verbatim
 * (SASL, TLS, tuning), so the user always has the last word. */
#ifndef CSM_KAFKA_CONF_H
#define CSM_KAFKA_CONF_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "config.h"

/* @p defaults: NULL-terminated name/value pairs. NULL + err naming the
 * property on a value librdkafka refuses. */
rd_kafka_conf_t *csm_kafka_conf_new(const csm_config *cfg, const char *const *defaults, char *err,
                                    size_t errlen);

/* The value kafka.properties gives @p name, or NULL. */
const char *csm_kafka_prop(const csm_config *cfg, const char *name);

#endif
