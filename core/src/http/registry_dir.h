/* The directory source of writer schemas: <dir>/<id>.avsc, for sites
 * with no registry (air-gapped) or to pin a schema ahead of it. */
#ifndef CSM_REGISTRY_DIR_H
#define CSM_REGISTRY_DIR_H

#include <stddef.h>
#include <stdint.h>

#include "schema_registry.h"

/* FOUND (*text malloc'd, *len), NOT_FOUND "no file 99.avsc in DIR", or
 * UNAVAILABLE when the file exists but cannot be read (e.g. permissions:
 * an operator's fix, not a reason to dead-letter). */
csm_schema_status csm_reg_dir_lookup(const char *dir, int32_t id, char **text, size_t *len,
                                     char *why, size_t whylen);

/* Calls fn for each <id>.avsc, ascending ids, where = "DIR/<id>.avsc".
 * 0, or -1 with err. */
int csm_reg_dir_list(const char *dir, csm_schema_list_fn fn, void *arg, char *err, size_t errlen);

#endif
