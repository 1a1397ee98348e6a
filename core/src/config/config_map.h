/* Typed configuration tables (csm_config_entry, as in plugin.h) filled
 * from key/value settings: shared by the core's own keys and by every
 * plugin's config_map, so both validate and document the same way. */
#ifndef CSM_CONFIG_MAP_H
#define CSM_CONFIG_MAP_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "csmetrics/plugin.h"

/* Applies defaults, then each setting, to the struct at base. An unknown
 * key or a value of the wrong type fails with "<section>.<key>: …".
 * String members receive strdup'd copies (free with csm_config_map_free). */
int csm_config_map_fill(const csm_config_entry *map, const char *section, const csm_kv *kv,
                        size_t n, void *base, char *err, size_t errlen);
void csm_config_map_free(const csm_config_entry *map, void *base);
/* Sets one entry from its textual value. */
int csm_config_map_set(const csm_config_entry *e, const char *section, const char *value,
                       void *base, char *err, size_t errlen);
/* "  key (type, default X): doc" lines. */
void csm_config_map_print(const csm_config_entry *map, const char *section, FILE *out);

#endif
