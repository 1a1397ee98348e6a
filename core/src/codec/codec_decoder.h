/* The codec's Avro decoders (codec_avro.c), for the writer schemas of
 * Confluent ids (schema_ids.c): one per writer schema and stream. */
#ifndef CSM_CODEC_DECODER_H
#define CSM_CODEC_DECODER_H

#include <avro.h>

#include "codec.h"
#include "schema_resolve.h"

struct decoder;

/* A decoder of @p writer's records on @p stream's topic, read as the
 * reader schema @p reader after the resolution @p res (compatible): writer
 * enum symbols the reader lacks read as its enum's default, reader fields
 * the writer lacks filled with their defaults. NULL with why. */
struct decoder *csm_decoder_new(avro_schema_t writer, csm_stream stream,
                                const csm_reader_schema *reader, const csm_resolution *res,
                                char *why, size_t whylen);
void csm_decoder_free(struct decoder *d);

#endif
