/* The schema_registry section of csm_config as the csm_registry_conf of
 * the fetcher: config/ sits below http/ and cannot know that struct. */
#ifndef CSM_REGISTRY_CONF_H
#define CSM_REGISTRY_CONF_H

#include "config.h"
#include "schema_registry.h"

/* @p out points into @p cfg (keep cfg alive); unset keys become NULL. */
void csm_registry_conf_from_config(const csm_config *cfg, csm_registry_conf *out);

#endif
