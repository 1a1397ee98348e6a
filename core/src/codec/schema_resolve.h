/* Avro schema resolution of a writer schema against one of our reader
 * schemas (the .avsc files of schemas/), once per writer schema: is it compatible, and
 * what the decoder must do besides reading the writer's fields by name
 * (the reader's defaults for the fields the writer lacks). */
#ifndef CSM_SCHEMA_RESOLVE_H
#define CSM_SCHEMA_RESOLVE_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

/* What avro-c does not keep of a reader field: its default (avro-c's
 * schema parser drops "default"), and the default symbol of its enum. */
typedef struct csm_reader_field {
    char *name;
    int has_default;
    char *default_json; /* the default as compact JSON, for verdicts */
    enum { DEFAULT_NULL, DEFAULT_STRING, DEFAULT_INTEGER, DEFAULT_OTHER } default_kind;
    char *default_string; /* DEFAULT_STRING (a string, or an enum symbol) */
    int64_t default_integer;
    char *enum_default; /* the symbol writer symbols the reader lacks are read as, or NULL */
} csm_reader_field;

typedef struct csm_reader_schema {
    avro_schema_t schema; /* a reference */
    char *full_name;      /* "csmetrics.ChatEvent" */
    size_t n_fields;
    csm_reader_field *fields; /* in the schema's order */
} csm_reader_schema;

/* @p schema is the parse of @p json (a reader record schema); takes a
 * reference to it. 0, or -1 with err. */
int csm_reader_schema_init(csm_reader_schema *r, avro_schema_t schema, const char *json, size_t len,
                           char *err, size_t errlen);
void csm_reader_schema_free(csm_reader_schema *r);
const csm_reader_field *csm_reader_field_named(const csm_reader_schema *r, const char *name);

#define CSM_RESOLVE_MAX_PRESETS 32

typedef struct csm_resolution {
    int compatible;
    int other_record; /* the writer record's name is not the reader's */
    /* Incompatible: why; compatible: what resolution does ("; "-separated,
     * codec.h's csm_schema_verdict). */
    char why[512];
    /* Reader fields the writer lacks whose default is not null (the
     * decoder fills them in; a null default is what an unread field is). */
    size_t n_presets;
    const csm_reader_field *presets[CSM_RESOLVE_MAX_PRESETS];
} csm_resolution;

/* Resolves @p writer (any parsed schema) against @p r. */
void csm_resolve(const csm_reader_schema *r, avro_schema_t writer, csm_resolution *out);

/* "csmetrics.ChatEvent", or the bare name without a namespace, into buf. */
const char *csm_schema_full_name(avro_schema_t s, char *buf, size_t cap);

#endif
