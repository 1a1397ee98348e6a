/* Writer schemas for `run`: a message whose Confluent schema id is not
 * known yet pauses its partition number (partition_set.h) while the
 * schema is fetched from the schema directory or registry
 * (http/schema_registry.h) on another thread; the answer is given to the
 * codec, which resolves it against our reader schema, and the partition
 * goes on. A registry that does not answer is retried without end and
 * never costs a dead letter; a schema that exists nowhere, or that ours
 * cannot read, dead-letters its messages with the reason. */
#ifndef CSM_RUN_SCHEMAS_H
#define CSM_RUN_SCHEMAS_H

#include <stddef.h>
#include <stdint.h>

struct csm_run;
struct csm_pslot;

/* With a schema directory or registry configured: starts the fetcher and
 * turns the codec's lookup on. 0, or -1 with err. */
int csm_run_schemas_start(struct csm_run *r, char *err, size_t errlen);
/* Partition @p s cannot go on before the schema its head names: ask. */
void csm_run_schemas_want(struct csm_run *r, struct csm_pslot *s);
/* Once per loop turn: takes the answers, wakes the partitions waiting
 * for them and publishes the waits for /readyz. */
void csm_run_schemas_tick(struct csm_run *r, int64_t now_ms);
void csm_run_schemas_stop(struct csm_run *r);

#endif
