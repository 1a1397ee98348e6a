/* What `run` and `replay` refuse before they touch Kafka or Redis, in one
 * place, so `csmetrics config -c FILE` refuses exactly the same files:
 * the plugin chain (each plugin's keys, its dependencies, its init()), the
 * time zones, the schemas and the librdkafka properties. The values
 * themselves (ranges, topic roles) are checked when the file is loaded. */
#ifndef CSM_CONFIG_CHECK_H
#define CSM_CONFIG_CHECK_H

#include <stddef.h>

#include "chain.h"
#include "codec.h"
#include "config.h"
#include "shoptime.h"

/* What the check built; the commands go on with it. */
typedef struct csm_checked {
    csm_chain *chain;
    csm_shoptime *st;
    csm_codec *codec;
} csm_checked;

/* 0, or -1 with an error naming the key. On success @p keep (if not NULL)
 * holds what was built (free with csm_checked_free); otherwise nothing is
 * kept. */
int csm_config_check(const csm_config *cfg, csm_checked *keep, char *err, size_t errlen);
void csm_checked_free(csm_checked *c);

#endif
