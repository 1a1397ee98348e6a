/* The plugin chain: every plugin of the configuration, loaded once with
 * dlopen, ABI-checked and configured; engines instantiate it per
 * partition. */
#ifndef CSM_CHAIN_H
#define CSM_CHAIN_H

#include <stddef.h>

#include "config.h"
#include "csmetrics/plugin.h"

typedef struct csm_chain_link {
    const csm_plugin *plugin;
    char *path;         /* the .so it came from */
    void *dl;           /* dlopen handle */
    void *ctx_template; /* ctx_size bytes with the configured values */
} csm_chain_link;

typedef struct csm_chain {
    csm_chain_link links[CSM_MAX_PLUGINS];
    size_t n;
} csm_chain;

/* The host's function table (engine.c). */
extern const csm_host_api csm_host_api_v1;

/* Loads cfg->plugins in order. NULL with a message naming the plugin and
 * the problem (not found — with the directories searched —, missing
 * entry symbol, ABI mismatch, bad configuration key, a plugin it needs
 * missing or placed after it). */
csm_chain *csm_chain_load(const csm_config *cfg, char *err, size_t errlen);
void csm_chain_free(csm_chain *c);

#endif
