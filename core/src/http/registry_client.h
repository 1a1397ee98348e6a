/* One connection to the writer-schema sources of schema_registry.h: the
 * directory of <id>.avsc files, then the registry's REST API over one
 * libcurl handle (kept between requests: one TCP/TLS connection). Not
 * thread-safe: one thread uses a client, another may only wake it. */
#ifndef CSM_REGISTRY_CLIENT_H
#define CSM_REGISTRY_CLIENT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "schema_registry.h"

typedef struct csm_reg_client csm_reg_client;

/* Copies @p conf. A request under way gives up (UNAVAILABLE, "stopped")
 * soon after *stop becomes non-zero (@p stop may be NULL). NULL with err. */
csm_reg_client *csm_reg_client_new(const csm_registry_conf *conf, const atomic_int *stop, char *err,
                                   size_t errlen);
void csm_reg_client_free(csm_reg_client *c);
/* From any thread: a request under way looks at *stop now. */
void csm_reg_client_wake(csm_reg_client *c);

/* @p id's writer schema: the directory first, then the registry. FOUND:
 * *text malloc'd, NUL-terminated, *len its length; otherwise why. */
csm_schema_status csm_reg_client_lookup(csm_reg_client *c, int32_t id, char **text, size_t *len,
                                        char *why, size_t whylen);

/* csm_schema_list over this client's sources. */
int csm_reg_client_list(csm_reg_client *c, csm_schema_list_fn fn, void *arg, char *err,
                        size_t errlen);

#endif
