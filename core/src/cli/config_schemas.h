/* `csmetrics config -c FILE --schemas`: every writer schema id the
 * configuration knows (kafka.schema_ids, schema_registry.dir and .url)
 * and what the codec's resolution makes of it on each stream. */
#ifndef CSM_CONFIG_SCHEMAS_H
#define CSM_CONFIG_SCHEMAS_H

#include <stdio.h>

#include "config.h"

/* Prints one line per id and stream (or, with @p json, one JSON
 * document) to @p out. 0; or -1 with err when a source cannot be listed
 * or the reader schemas cannot be loaded. */
int csm_config_schemas(const csm_config *cfg, int json, FILE *out, char *err, size_t errlen);

#endif
