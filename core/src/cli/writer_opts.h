/* The options of `produce` and `gen` that choose what Avro is written:
 * --schema-id-chat N, --schema-id-order N (Confluent framing's ids) and
 * --writer-schema-chat FILE, --writer-schema-order FILE (a writer schema
 * other than ours, to try how a schema change is read). */
#ifndef CSM_WRITER_OPTS_H
#define CSM_WRITER_OPTS_H

#include <stdint.h>

#include "config.h"
#include "json_avro.h"

typedef struct csm_writer_opts {
    const char *file[2]; /* by stream; NULL: our schema */
    long id[2];          /* -2: not given */
    csm_json_avro *writer[2];
} csm_writer_opts;

#define CSM_WRITER_OPTS_USAGE                                                                      \
    "[--schema-id-chat N] [--schema-id-order N] [--writer-schema-chat FILE.avsc]\n"                \
    "         [--writer-schema-order FILE.avsc]"

void csm_writer_opts_init(csm_writer_opts *o);
/* If argv[*i] is one of the options, stores its value (advancing *i past
 * it) and returns 1; 0 if it is not one; -1 (message printed, prefixed
 * with @p cmd) when its value is missing or not an id. */
int csm_writer_opts_arg(csm_writer_opts *o, const char *cmd, int argc, char **argv, int *i);
/* The ids to write with, by stream: the one given, else the first of
 * kafka.schema_ids for the stream, else -1 (plain Avro); -1 with
 * @p plain. A writer schema with Confluent framing needs its id given:
 * the configured one names our own schema. Then loads the writer schemas.
 * 0, or -1 with the message printed. */
int csm_writer_opts_resolve(csm_writer_opts *o, const char *cmd, const csm_config *cfg, int plain,
                            int32_t ids[2]);
void csm_writer_opts_free(csm_writer_opts *o);

#endif
