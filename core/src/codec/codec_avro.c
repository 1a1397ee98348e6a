/* Avro binary events, both framings of events.md, and event files (JSON
 * Lines or Avro object container files). avro-c reads each record straight
 * into the event slot through a value interface of ours (below), within a
 * scratch scope (scratch.h): a message is decoded without any heap
 * allocation. Encoding uses avro-c's generic values. */
#include <avro.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_util.h"
#include "codec.h"
#include "codec_decoder.h"
#include "codec_fields.h"
#include "schema_ids.h"
#include "scratch.h"

const char *const csm_field_names[F_COUNT] = {
    "event_id", "platform",     "shop_id",   "customer_id",     "ts",
    "type",     "sender",       "msg_kind",  "agent_id",        "from_agent_id",
    "group_id", "entry",        "order_id",  "intent",          "stars",
    "reason",   "amount_cents", "refund_id", "logistics_status"};

/* One schema's generic value, for encoding. */
typedef struct schema_codec {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t value;
    int index[F_COUNT]; /* field position in the record, -1 if absent */
} schema_codec;

/* ---- decoding straight into the slot ----
 * avro_value_read() fills whatever avro_value_iface_t it is given, so the
 * record it reads into is a view of the event being decoded rather than a
 * generic value read back field by field afterwards: each field of the
 * writer schema is bound once, when the schema is loaded, to the contract
 * field it fills (or to none, and avro-c skips it); enum symbols are
 * mapped by name then too. Per record, avro-c only calls back with the
 * values; nothing of avro-c is allocated, reset or looked up by name. */

enum kind { K_STRING, K_ENUM, K_NUMBER };

static const unsigned char field_kind[F_COUNT] = {[F_EVENT_ID] = K_STRING,
                                                  [F_PLATFORM] = K_ENUM,
                                                  [F_SHOP_ID] = K_STRING,
                                                  [F_CUSTOMER_ID] = K_STRING,
                                                  [F_TS] = K_NUMBER,
                                                  [F_TYPE] = K_ENUM,
                                                  [F_SENDER] = K_ENUM,
                                                  [F_MSG_KIND] = K_ENUM,
                                                  [F_AGENT_ID] = K_STRING,
                                                  [F_FROM_AGENT_ID] = K_STRING,
                                                  [F_GROUP_ID] = K_STRING,
                                                  [F_ENTRY] = K_ENUM,
                                                  [F_ORDER_ID] = K_STRING,
                                                  [F_INTENT] = K_STRING,
                                                  [F_STARS] = K_NUMBER,
                                                  [F_REASON] = K_STRING,
                                                  [F_AMOUNT_CENTS] = K_NUMBER,
                                                  [F_REFUND_ID] = K_STRING,
                                                  [F_LOGISTICS_STATUS] = K_STRING};

static const char *const not_a[] = {"not a string", "not an enum", "not a number"};

typedef int (*symbol_parser)(const char *);

/* The fields of one stream's events, with their enum parsers; a writer
 * field that is none of them is skipped. */
static int stream_reads(csm_stream s, enum field f, symbol_parser *parse)
{
    static const symbol_parser chat[F_COUNT] = {[F_PLATFORM] = csm_platform_parse,
                                                [F_TYPE] = csm_chat_type_parse,
                                                [F_SENDER] = csm_sender_parse,
                                                [F_MSG_KIND] = csm_msg_kind_parse,
                                                [F_ENTRY] = csm_entry_parse};
    static const symbol_parser order[F_COUNT] = {
        [F_PLATFORM] = csm_platform_parse, [F_TYPE] = csm_order_type_parse};
    static const unsigned char chat_only = 1, order_only = 2;
    static const unsigned char only[F_COUNT] = {
        [F_SENDER] = chat_only,     [F_MSG_KIND] = chat_only,
        [F_AGENT_ID] = chat_only,   [F_FROM_AGENT_ID] = chat_only,
        [F_GROUP_ID] = chat_only,   [F_ENTRY] = chat_only,
        [F_INTENT] = chat_only,     [F_STARS] = chat_only,
        [F_REASON] = chat_only,     [F_AMOUNT_CENTS] = order_only,
        [F_REFUND_ID] = order_only, [F_LOGISTICS_STATUS] = order_only};
    *parse = s == CSM_STREAM_CHAT ? chat[f] : order[f];
    return !only[f] || only[f] == (s == CSM_STREAM_CHAT ? chat_only : order_only);
}

enum got_state { GOT_NONE = 0, GOT_VALUE, GOT_WRONG_TYPE, GOT_BAD_TEXT };

/* What the record being read said about one contract field. */
typedef struct got {
    int64_t num;   /* numbers; enums: the writer's symbol index */
    int value;     /* enums: the contract value of that symbol, -1 if none */
    const char *s; /* strings: the copy in the slot, NULL if it did not fit */
    size_t n;
    char why[64]; /* GOT_BAD_TEXT: what csm_text_check() found */
} got;

/* One field of the writer schema. */
typedef struct wfield {
    avro_value_t value;   /* what it is read into (iface NULL: avro-c skips it) */
    avro_schema_t schema; /* for the bounds walk: avro-c looks these two up in a hash */
    const char *name;     /* table per call, which costs more than the walk itself */
    signed char wrong;    /* the contract field its type cannot fill, or -1 */
} wfield;

/* A reader field the writer lacks, filled with the reader's default. */
typedef struct preset {
    enum field f;
    int64_t num;
    int value;
    const char *s; /* the reader schema's copy */
    size_t n;
} preset;

typedef struct decoder {
    avro_schema_t schema; /* the writer schema (a reference) */
    csm_stream stream;
    size_t n_fields;
    wfield *fields;
    void **nodes; /* what the values above point to */
    size_t n_nodes;
    const csm_reader_schema *reader; /* NULL: writer symbols are mapped by name only */
    size_t n_presets;
    preset *presets;
    csm_event_slot *slot; /* the record being read */
    unsigned char state[F_COUNT];
    got got[F_COUNT];
} decoder;

/* A value of the writer schema that fills contract field f. */
typedef struct leaf {
    decoder *d;
    enum field f;
    int n_symbols;
    int symbols[]; /* enums: the contract value of each writer symbol, -1 if none */
} leaf;

/* A union of the writer schema for contract field f. */
typedef struct choice {
    decoder *d;
    enum field f;
    avro_schema_t schema; /* avro-c checks the branch number against it */
    size_t n;
    struct {
        avro_value_t value;
        avro_schema_t schema; /* for the bounds walk */
        int wrong;            /* a branch whose type cannot fill f: read, thrown away, refused */
    } branch[];
} choice;

static avro_type_t type_string(const avro_value_iface_t *i, const void *self)
{
    return AVRO_STRING;
}

static int give_string(const avro_value_iface_t *i, void *self, avro_wrapped_buffer_t *buf)
{
    const leaf *l = self;
    decoder *d = l->d;
    got *g = &d->got[l->f];
    size_t n = buf->size ? buf->size - 1 : 0; /* the size counts avro-c's NUL */
    if (csm_text_check(buf->buf, n, g->why, sizeof g->why)) {
        d->state[l->f] = GOT_BAD_TEXT;
    } else {
        g->s = csm_event_slot_strndup(d->slot, buf->buf, n);
        g->n = n;
        d->state[l->f] = GOT_VALUE;
    }
    avro_wrapped_buffer_free(buf);
    return 0;
}

static avro_type_t type_enum(const avro_value_iface_t *i, const void *self)
{
    return AVRO_ENUM;
}

static int set_enum(const avro_value_iface_t *i, void *self, int val)
{
    const leaf *l = self;
    got *g = &l->d->got[l->f];
    g->num = val;
    g->value = val >= 0 && val < l->n_symbols ? l->symbols[val] : -1;
    l->d->state[l->f] = GOT_VALUE;
    return 0;
}

static void set_number(const leaf *l, int64_t val)
{
    l->d->got[l->f].num = val;
    l->d->state[l->f] = GOT_VALUE;
}

static avro_type_t type_long(const avro_value_iface_t *i, const void *self)
{
    return AVRO_INT64;
}

static int set_long(const avro_value_iface_t *i, void *self, int64_t val)
{
    set_number(self, val);
    return 0;
}

static avro_type_t type_int(const avro_value_iface_t *i, const void *self)
{
    return AVRO_INT32;
}

static int set_int(const avro_value_iface_t *i, void *self, int32_t val)
{
    set_number(self, val);
    return 0;
}

static avro_type_t type_null(const avro_value_iface_t *i, const void *self)
{
    return AVRO_NULL;
}

static int set_null(const avro_value_iface_t *i, void *self)
{
    return 0;
}

static avro_type_t type_union(const avro_value_iface_t *i, const void *self)
{
    return AVRO_UNION;
}

static avro_schema_t union_schema(const avro_value_iface_t *i, const void *self)
{
    return ((const choice *)self)->schema;
}

static int set_branch(const avro_value_iface_t *i, void *self, int discriminant,
                      avro_value_t *branch)
{
    const choice *c = self;
    if (discriminant < 0 || (size_t)discriminant >= c->n) {
        avro_set_error("union branch %d out of range", discriminant);
        return EINVAL;
    }
    if (c->branch[discriminant].wrong)
        c->d->state[c->f] = GOT_WRONG_TYPE;
    *branch = c->branch[discriminant].value;
    return 0;
}

static avro_type_t type_record(const avro_value_iface_t *i, const void *self)
{
    return AVRO_RECORD;
}

static avro_schema_t record_schema(const avro_value_iface_t *i, const void *self)
{
    return ((const decoder *)self)->schema;
}

static void fill_presets(decoder *d)
{
    for (size_t i = 0; i < d->n_presets; i++) {
        const preset *p = &d->presets[i];
        got *g = &d->got[p->f];
        g->num = p->num;
        g->value = p->value;
        if (p->s) {
            g->s = csm_event_slot_strndup(d->slot, p->s, p->n);
            g->n = p->n;
        }
        d->state[p->f] = GOT_VALUE;
    }
}

static int record_reset(const avro_value_iface_t *i, void *self)
{
    decoder *d = self;
    csm_event_slot_reset(d->slot, d->stream);
    memset(d->state, GOT_NONE, sizeof d->state);
    if (d->n_presets)
        fill_presets(d);
    return 0;
}

static int record_size(const avro_value_iface_t *i, const void *self, size_t *size)
{
    *size = ((const decoder *)self)->n_fields;
    return 0;
}

static int record_field(const avro_value_iface_t *i, const void *self, size_t index,
                        avro_value_t *child, const char **name)
{
    decoder *d = (decoder *)self;
    if (index >= d->n_fields) {
        avro_set_error("field %zu out of range", index);
        return EINVAL;
    }
    const wfield *wf = &d->fields[index];
    if (wf->wrong >= 0)
        d->state[wf->wrong] = GOT_WRONG_TYPE;
    *child = wf->value;
    if (name)
        *name = wf->name;
    return 0;
}

/* A value of a wrong-typed union branch: read (to stay in step with the
 * bytes) and thrown away. self is its schema. */
static avro_type_t type_discard(const avro_value_iface_t *i, const void *self)
{
    return avro_typeof((avro_schema_t)self);
}

static avro_schema_t schema_discard(const avro_value_iface_t *i, const void *self)
{
    return (avro_schema_t)self;
}

static int discard_scalar(const avro_value_iface_t *i, void *self)
{
    return 0;
}

static int discard_boolean(const avro_value_iface_t *i, void *self, int val)
{
    return 0;
}

static int discard_double(const avro_value_iface_t *i, void *self, double val)
{
    return 0;
}

static int discard_float(const avro_value_iface_t *i, void *self, float val)
{
    return 0;
}

static int discard_int(const avro_value_iface_t *i, void *self, int32_t val)
{
    return 0;
}

static int discard_long(const avro_value_iface_t *i, void *self, int64_t val)
{
    return 0;
}

static int discard_buffer(const avro_value_iface_t *i, void *self, avro_wrapped_buffer_t *buf)
{
    avro_wrapped_buffer_free(buf);
    return 0;
}

static int discard_size(const avro_value_iface_t *i, const void *self, size_t *size)
{
    *size = avro_schema_record_size((avro_schema_t)self);
    return 0;
}

/* iface NULL: avro-c skips the field with the record's schema. */
static int discard_field(const avro_value_iface_t *i, const void *self, size_t index,
                         avro_value_t *child, const char **name)
{
    child->iface = NULL;
    child->self = NULL;
    if (name)
        *name = NULL;
    return 0;
}

static avro_value_iface_t discard_iface;

static int discard_item(const avro_value_iface_t *i, void *self, avro_value_t *child, size_t *index)
{
    avro_schema_t s = self;
    child->iface = &discard_iface;
    child->self = csm_schema_unlinked(is_avro_map(s) ? avro_schema_map_values(s)
                                                     : avro_schema_array_items(s));
    if (index)
        *index = 0;
    return 0;
}

static int discard_entry(const avro_value_iface_t *i, void *self, const char *key,
                         avro_value_t *child, size_t *index, int *is_new)
{
    if (is_new)
        *is_new = 1;
    return discard_item(i, self, child, index);
}

static int discard_branch(const avro_value_iface_t *i, void *self, int discriminant,
                          avro_value_t *branch)
{
    avro_schema_t s = self;
    if (discriminant < 0 || (size_t)discriminant >= avro_schema_union_size(s)) {
        avro_set_error("union branch %d out of range", discriminant);
        return EINVAL;
    }
    branch->iface = &discard_iface;
    branch->self = csm_schema_unlinked(avro_schema_union_branch(s, discriminant));
    return 0;
}

static avro_value_iface_t string_iface = {.get_type = type_string, .give_string_len = give_string};
static avro_value_iface_t enum_iface = {.get_type = type_enum, .set_enum = set_enum};
static avro_value_iface_t long_iface = {.get_type = type_long, .set_long = set_long};
static avro_value_iface_t int_iface = {.get_type = type_int, .set_int = set_int};
static avro_value_iface_t null_iface = {.get_type = type_null, .set_null = set_null};
static avro_value_iface_t union_iface = {
    .get_type = type_union, .get_schema = union_schema, .set_branch = set_branch};
static avro_value_iface_t record_iface = {.reset = record_reset,
                                          .get_type = type_record,
                                          .get_schema = record_schema,
                                          .get_size = record_size,
                                          .get_by_index = record_field};
static avro_value_iface_t discard_iface = {.reset = discard_scalar,
                                           .get_type = type_discard,
                                           .get_schema = schema_discard,
                                           .set_boolean = discard_boolean,
                                           .give_bytes = discard_buffer,
                                           .set_double = discard_double,
                                           .set_float = discard_float,
                                           .set_int = discard_int,
                                           .set_long = discard_long,
                                           .set_null = discard_scalar,
                                           .give_string_len = discard_buffer,
                                           .set_enum = discard_boolean,
                                           .give_fixed = discard_buffer,
                                           .get_size = discard_size,
                                           .get_by_index = discard_field,
                                           .append = discard_item,
                                           .add = discard_entry,
                                           .set_branch = discard_branch};

static void *new_node(decoder *d, size_t size)
{
    void **grown = realloc(d->nodes, (d->n_nodes + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    d->nodes = grown;
    return d->nodes[d->n_nodes++] = calloc(1, size);
}

/* The contract value of the reader enum's default symbol, which writer
 * symbols the reader lacks are read as; -1 if none. */
static int enum_fallback(const decoder *d, enum field f, symbol_parser parse)
{
    const csm_reader_field *rf =
        d->reader ? csm_reader_field_named(d->reader, csm_field_names[f]) : NULL;
    return rf && rf->enum_default && parse ? parse(rf->enum_default) : -1;
}

/* What reads a value of schema s (not a union) into field f: 0, 1 when s
 * cannot fill f, -1 out of memory. */
static int bind_leaf(decoder *d, enum field f, symbol_parser parse, avro_schema_t s,
                     avro_value_t *out)
{
    avro_type_t t = avro_typeof(s);
    avro_value_iface_t *iface = NULL;
    if (t == AVRO_NULL)
        iface = &null_iface;
    else if (field_kind[f] == K_STRING && t == AVRO_STRING)
        iface = &string_iface;
    else if (field_kind[f] == K_NUMBER && (t == AVRO_INT64 || t == AVRO_INT32))
        iface = t == AVRO_INT64 ? &long_iface : &int_iface;
    else if (field_kind[f] == K_ENUM && t == AVRO_ENUM)
        iface = &enum_iface;
    if (!iface)
        return 1;
    int n_symbols = t == AVRO_ENUM ? avro_schema_enum_number_of_symbols(s) : 0;
    leaf *l = new_node(d, sizeof *l + (size_t)n_symbols * sizeof l->symbols[0]);
    if (!l)
        return -1;
    l->d = d;
    l->f = f;
    l->n_symbols = n_symbols;
    int fallback = n_symbols ? enum_fallback(d, f, parse) : -1;
    for (int k = 0; k < n_symbols; k++) {
        const char *symbol = avro_schema_enum_get(s, k);
        l->symbols[k] = symbol ? parse(symbol) : -1;
        if (l->symbols[k] < 0)
            l->symbols[k] = fallback;
    }
    out->iface = iface;
    out->self = l;
    return 0;
}

static int field_named(const char *name)
{
    for (int f = 0; f < F_COUNT && name; f++)
        if (!strcmp(name, csm_field_names[f]))
            return f;
    return -1;
}

static int bind_field(decoder *d, wfield *wf, size_t index)
{
    wf->schema = avro_schema_record_field_get_by_index(d->schema, (int)index);
    wf->name = avro_schema_record_field_name(d->schema, (int)index);
    wf->wrong = -1;
    avro_schema_t s = csm_schema_unlinked(wf->schema);
    int f = field_named(wf->name);
    symbol_parser parse = NULL;
    if (f < 0 || !stream_reads(d->stream, (enum field)f, &parse))
        return 0;
    if (!is_avro_union(s)) {
        int rc = bind_leaf(d, (enum field)f, parse, s, &wf->value);
        if (rc > 0)
            wf->wrong = (signed char)f;
        return rc < 0 ? -1 : 0;
    }
    size_t n = avro_schema_union_size(s);
    choice *c = new_node(d, sizeof *c + n * sizeof c->branch[0]);
    if (!c)
        return -1;
    c->d = d;
    c->f = (enum field)f;
    c->schema = s;
    c->n = n;
    for (size_t b = 0; b < n; b++) {
        avro_schema_t bs = csm_schema_unlinked(avro_schema_union_branch(s, (int)b));
        c->branch[b].schema = bs;
        int rc = bind_leaf(d, (enum field)f, parse, bs, &c->branch[b].value);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            c->branch[b].wrong = 1;
            c->branch[b].value.iface = &discard_iface;
            c->branch[b].value.self = bs;
        }
    }
    wf->value.iface = &union_iface;
    wf->value.self = c;
    return 0;
}

static void decoder_free(decoder *d)
{
    for (size_t i = 0; i < d->n_nodes; i++)
        free(d->nodes[i]);
    free(d->nodes);
    free(d->fields);
    free(d->presets);
    if (d->schema)
        avro_schema_decref(d->schema);
    memset(d, 0, sizeof *d);
}

/* The reader's default of reader field @p rf (not null) as the contract
 * field it fills. 0, or -1 when the default cannot fill it. */
static int bind_preset(const decoder *d, const csm_reader_field *rf, preset *p)
{
    int f = field_named(rf->name);
    symbol_parser parse = NULL;
    if (f < 0 || !stream_reads(d->stream, (enum field)f, &parse))
        return -1;
    memset(p, 0, sizeof *p);
    p->f = (enum field)f;
    if (field_kind[f] == K_STRING && rf->default_kind == DEFAULT_STRING) {
        p->s = rf->default_string;
        p->n = strlen(p->s);
        return 0;
    }
    if (field_kind[f] == K_NUMBER && rf->default_kind == DEFAULT_INTEGER) {
        p->num = rf->default_integer;
        return 0;
    }
    if (field_kind[f] != K_ENUM || rf->default_kind != DEFAULT_STRING || !parse)
        return -1;
    avro_schema_t e = csm_schema_unlinked(avro_schema_record_field_get_by_index(
        d->reader->schema, avro_schema_record_field_get_index(d->reader->schema, rf->name)));
    p->value = parse(rf->default_string);
    p->num = is_avro_enum(e) ? avro_schema_enum_get_by_name(e, rf->default_string) : -1;
    return p->value < 0 ? -1 : 0;
}

static int bind_presets(decoder *d, const csm_resolution *res)
{
    d->presets = calloc(res->n_presets ? res->n_presets : 1, sizeof *d->presets);
    if (!d->presets) {
        avro_set_error("out of memory");
        return -1;
    }
    for (; d->n_presets < res->n_presets; d->n_presets++) {
        const csm_reader_field *rf = res->presets[d->n_presets];
        if (bind_preset(d, rf, &d->presets[d->n_presets])) {
            avro_set_error("reader field %s: its default %s cannot be read as the contract's",
                           rf->name, rf->default_json);
            return -1;
        }
    }
    return 0;
}

/* Takes a reference to @p schema. With @p reader (the stream's reader
 * schema) and @p res (the writer's resolution against it): writer enum
 * symbols the reader lacks are read as the reader enum's default, and
 * reader fields the writer lacks take the reader's default. -1 with the
 * reason in avro_strerror(). */
static int decoder_init(decoder *d, avro_schema_t schema, csm_stream stream,
                        const csm_reader_schema *reader, const csm_resolution *res)
{
    memset(d, 0, sizeof *d);
    d->schema = avro_schema_incref(schema);
    d->stream = stream;
    d->reader = reader;
    if (res && bind_presets(d, res))
        return -1;
    if (!is_avro_record(schema)) {
        avro_set_error("not a record");
        return -1;
    }
    d->n_fields = avro_schema_record_size(schema);
    d->fields = calloc(d->n_fields ? d->n_fields : 1, sizeof *d->fields);
    if (!d->fields)
        goto oom;
    for (size_t i = 0; i < d->n_fields; i++)
        if (bind_field(d, &d->fields[i], i))
            goto oom;
    return 0;
oom:
    avro_set_error("out of memory");
    return -1;
}

/* The value avro-c reads the next record into: a view of @p slot. */
static avro_value_t decoder_record(decoder *d, csm_event_slot *slot)
{
    d->slot = slot;
    return (avro_value_t){&record_iface, d};
}

struct decoder *csm_decoder_new(avro_schema_t writer, csm_stream stream,
                                const csm_reader_schema *reader, const csm_resolution *res,
                                char *why, size_t whylen)
{
    decoder *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    if (decoder_init(d, writer, stream, reader, res)) {
        snprintf(why, whylen, "%s", avro_strerror());
        csm_decoder_free(d);
        return NULL;
    }
    return d;
}

void csm_decoder_free(struct decoder *d)
{
    if (d)
        decoder_free(d);
    free(d);
}

struct csm_codec {
    schema_codec streams[2]; /* encoding */
    decoder decoders[2];     /* messages written with our own schemas */
    csm_schema_ids ids;      /* and the Confluent ids of others, with the reader schemas */
    avro_reader_t reader;
};

static const char *const schema_files[2] = {"chat_event.avsc", "order_event.avsc"};
static const char *const record_names[2] = {"ChatEvent", "OrderEvent"};

static int schema_codec_init(schema_codec *sc, avro_schema_t schema)
{
    sc->schema = schema;
    sc->iface = avro_generic_class_from_schema(schema);
    if (!sc->iface || avro_generic_value_new(sc->iface, &sc->value))
        return -1;
    for (int f = 0; f < F_COUNT; f++)
        sc->index[f] = avro_schema_record_field_get_index(schema, csm_field_names[f]);
    return 0;
}

static void schema_codec_free(schema_codec *sc)
{
    if (sc->iface) {
        avro_value_decref(&sc->value);
        avro_value_iface_decref(sc->iface);
    }
    if (sc->schema)
        avro_schema_decref(sc->schema);
    memset(sc, 0, sizeof *sc);
}

char *csm_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    fclose(f);
    if (s) {
        s[n] = 0;
        *len = (size_t)n;
    }
    return s;
}

/* avro-c's allocator (avro/allocation.h): the scratch functions, which
 * behave as its default (realloc/free) outside a scratch scope. */
static void *scratch_allocator(void *user_data, void *p, size_t old_size, size_t size)
{
    return csm_scratch_realloc(p, old_size, size);
}

static void install_allocator(void)
{
    avro_set_allocator(scratch_allocator, NULL);
}

csm_codec *csm_codec_new(const char *schema_dir, char *err, size_t errlen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_allocator);
    csm_codec *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    csm_schema_ids_init(&c->ids);
    for (int s = 0; s < 2; s++) {
        char path[1024], why[256];
        snprintf(path, sizeof path, "%s/%s", schema_dir ? schema_dir : ".", schema_files[s]);
        size_t len = 0;
        char *json = csm_slurp(path, &len);
        avro_schema_t schema = NULL;
        if (!json) {
            snprintf(err, errlen, "schema %s: %s", path, strerror(errno));
            csm_codec_free(c);
            return NULL;
        }
        int rc = avro_schema_from_json_length(json, len, &schema);
        if (rc || schema_codec_init(&c->streams[s], schema) ||
            decoder_init(&c->decoders[s], schema, (csm_stream)s, NULL, NULL))
            snprintf(why, sizeof why, "%s", avro_strerror());
        else
            rc = csm_reader_schema_init(&c->ids.readers[s], schema, json, len, why, sizeof why);
        free(json);
        if (rc) {
            snprintf(err, errlen, "schema %s: %s", path, why);
            csm_codec_free(c); /* the schema went to streams[s] */
            return NULL;
        }
    }
    c->reader = avro_reader_memory("", 0);
    return c;
}

void csm_codec_free(csm_codec *c)
{
    if (!c)
        return;
    csm_schema_ids_free(&c->ids);
    for (int s = 0; s < 2; s++) {
        schema_codec_free(&c->streams[s]);
        decoder_free(&c->decoders[s]);
    }
    if (c->reader)
        avro_reader_free(c->reader);
    free(c);
}

/* ---- writer schemas by id (schema_ids.c) ---- */

void csm_codec_map_schema_id(csm_codec *c, int32_t schema_id, csm_stream stream)
{
    csm_schema_ids_pin(&c->ids, schema_id, stream == CSM_STREAM_ORDER ? stream : CSM_STREAM_CHAT);
}

void csm_codec_set_lookup(csm_codec *c, int on)
{
    c->ids.lookup = on;
}

int32_t csm_codec_needed_id(const csm_codec *c)
{
    return c->ids.needed_id;
}

void csm_codec_set_cache_max(csm_codec *c, size_t n)
{
    csm_schema_ids_set_max(&c->ids, n);
}

int csm_codec_add_writer_schema(csm_codec *c, int32_t id, const char *json, size_t len, char *why,
                                size_t whylen)
{
    return csm_schema_ids_add(&c->ids, id, json, len, why, whylen);
}

void csm_codec_add_missing_schema(csm_codec *c, int32_t id, const char *why)
{
    csm_schema_ids_add_missing(&c->ids, id, why);
}

void csm_codec_schema_verdict(csm_codec *c, int32_t id, csm_stream stream, csm_schema_verdict *out)
{
    csm_schema_ids_verdict(&c->ids, id, stream == CSM_STREAM_ORDER ? stream : CSM_STREAM_CHAT, out);
}

size_t csm_codec_schema_ids(const csm_codec *c, int32_t *ids, size_t cap)
{
    return csm_schema_ids_list(&c->ids, ids, cap);
}

/* ---- what was read → csm_event, in the contract's field order ---- */

typedef struct extract {
    const decoder *d;
    char *err;
    size_t errlen;
    int bad;
    size_t strings; /* bytes the strings so far take in a slot */
} extract;

/* 1 when field f has a value to take; a refusal of its value sets err. */
static int take(extract *x, enum field f)
{
    if (x->bad)
        return 0;
    switch (x->d->state[f]) {
    case GOT_VALUE:
        return 1;
    case GOT_WRONG_TYPE:
        x->bad = 1;
        snprintf(x->err, x->errlen, "field %s: %s", csm_field_names[f], not_a[field_kind[f]]);
        return 0;
    case GOT_BAD_TEXT:
        x->bad = 1;
        snprintf(x->err, x->errlen, "field %s: %s", csm_field_names[f], x->d->got[f].why);
        return 0;
    default:
        return 0;
    }
}

/* The slot's arena is filled in the writer's field order; its limit is
 * applied here, in this order, so the first refusal is the same whatever
 * order the writer schema has. */
static const char *get_string(extract *x, enum field f)
{
    if (!take(x, f))
        return NULL;
    const got *g = &x->d->got[f];
    x->strings += g->n + 1;
    if (x->strings > CSM_EVENT_STRINGS_MAX) {
        x->bad = 1;
        snprintf(x->err, x->errlen, "event too large (strings over %d bytes)",
                 CSM_EVENT_STRINGS_MAX);
        return NULL;
    }
    return g->s;
}

/* Enum as the C enumeration: 0 = null for nullable enums. */
static int get_enum(extract *x, enum field f, int nullable, int count)
{
    if (!take(x, f))
        return 0;
    const got *g = &x->d->got[f];
    int limit = nullable ? count : count - 1;
    if (g->value < (nullable ? 1 : 0) || g->value > limit) {
        x->bad = 1;
        snprintf(x->err, x->errlen, "bad enum value %d for field %s", (int)g->num,
                 csm_field_names[f]);
        return 0;
    }
    return g->value;
}

static int get_long(extract *x, enum field f, int64_t *out)
{
    if (!take(x, f))
        return 0;
    *out = x->d->got[f].num;
    return 1;
}

static int extract_event(const decoder *d, char *err, size_t errlen)
{
    extract x = {d, err, errlen, 0, 0};
    csm_event *ev = &d->slot->ev;
    ev->event_id = get_string(&x, F_EVENT_ID);
    ev->platform = (csm_platform)get_enum(&x, F_PLATFORM, 0, CSM_PLATFORM_COUNT);
    ev->shop_id = get_string(&x, F_SHOP_ID);
    ev->customer_id = get_string(&x, F_CUSTOMER_ID);
    int64_t n = 0;
    if (get_long(&x, F_TS, &n))
        ev->ts = n;
    if (d->stream == CSM_STREAM_CHAT) {
        csm_chat_fields *c = &ev->chat;
        c->type = (csm_chat_type)get_enum(&x, F_TYPE, 0, CSM_CHAT_TYPE_COUNT);
        c->sender = (csm_sender)get_enum(&x, F_SENDER, 1, CSM_SENDER_COUNT - 1);
        c->msg_kind = (csm_msg_kind)get_enum(&x, F_MSG_KIND, 1, CSM_MSG_COUNT - 1);
        c->entry = (csm_entry)get_enum(&x, F_ENTRY, 1, CSM_ENTRY_COUNT - 1);
        c->agent_id = get_string(&x, F_AGENT_ID);
        c->from_agent_id = get_string(&x, F_FROM_AGENT_ID);
        c->group_id = get_string(&x, F_GROUP_ID);
        c->order_id = get_string(&x, F_ORDER_ID);
        c->intent = get_string(&x, F_INTENT);
        c->reason = get_string(&x, F_REASON);
        if (get_long(&x, F_STARS, &n)) {
            c->stars = (int32_t)n;
            c->has_stars = 1;
        }
    } else {
        csm_order_fields *o = &ev->order;
        o->type = (csm_order_type)get_enum(&x, F_TYPE, 0, CSM_ORDER_TYPE_COUNT);
        o->order_id = get_string(&x, F_ORDER_ID);
        if (get_long(&x, F_AMOUNT_CENTS, &n)) {
            o->amount_cents = n;
            o->has_amount = 1;
        }
        o->refund_id = get_string(&x, F_REFUND_ID);
        o->logistics_status = get_string(&x, F_LOGISTICS_STATUS);
    }
    if (x.bad)
        return -1;
    return csm_event_validate(ev, err, errlen);
}

/* ---- bounds check before avro-c reads ----
 * avro-c leaks the buffer of a string it could not finish reading, so a
 * flood of truncated messages would grow the heap without bound. Walking
 * the bytes against the schema first means avro-c only ever reads records
 * that are complete, and tells truncation from leftover bytes exactly. */

enum { WALK_OK = 0, WALK_SHORT = -1, WALK_BAD = -2 };

typedef struct walk {
    const unsigned char *p;
    size_t len, pos;
    long budget; /* array/map items left: zero-size items must not loop forever */
    char *err;
    size_t errlen;
} walk;

static int walk_varint(walk *w, int max_bytes, int64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < max_bytes; i++) {
        if (w->pos >= w->len)
            return WALK_SHORT;
        unsigned char b = w->p[w->pos++];
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return WALK_OK;
        }
    }
    snprintf(w->err, w->errlen, "invalid Avro: varint longer than %d bytes", max_bytes);
    return WALK_BAD;
}

static int walk_skip(walk *w, int64_t n)
{
    if (n < 0) {
        snprintf(w->err, w->errlen, "invalid Avro: negative length %lld", (long long)n);
        return WALK_BAD;
    }
    if ((uint64_t)n > w->len - w->pos)
        return WALK_SHORT;
    w->pos += (size_t)n;
    return WALK_OK;
}

/* A union's branch number, checked against its @p size branches. */
static int walk_branch(walk *w, size_t size, const char *field, int64_t *n)
{
    int rc = walk_varint(w, 10, n);
    if (rc)
        return rc;
    if (*n < 0 || (uint64_t)*n >= size) {
        snprintf(w->err, w->errlen, "invalid Avro: union branch %lld for field %s", (long long)*n,
                 field);
        return WALK_BAD;
    }
    return WALK_OK;
}

static int walk_value(walk *w, avro_schema_t s, const char *field, int depth)
{
    int64_t n = 0;
    int rc;
    if (depth > 32) {
        snprintf(w->err, w->errlen, "invalid Avro: schema nested too deep");
        return WALK_BAD;
    }
    switch (avro_typeof(s)) {
    case AVRO_NULL:
        return WALK_OK;
    case AVRO_BOOLEAN:
        return walk_skip(w, 1);
    case AVRO_INT32:
        return walk_varint(w, 5, &n);
    case AVRO_INT64:
        return walk_varint(w, 10, &n);
    case AVRO_FLOAT:
        return walk_skip(w, 4);
    case AVRO_DOUBLE:
        return walk_skip(w, 8);
    case AVRO_STRING:
    case AVRO_BYTES:
        return (rc = walk_varint(w, 10, &n)) ? rc : walk_skip(w, n);
    case AVRO_FIXED:
        return walk_skip(w, avro_schema_fixed_size(s));
    case AVRO_ENUM:
        if ((rc = walk_varint(w, 5, &n)))
            return rc;
        if (n < 0 || n >= avro_schema_enum_number_of_symbols(s)) {
            snprintf(w->err, w->errlen, "bad enum value %lld for field %s", (long long)n, field);
            return WALK_BAD;
        }
        return WALK_OK;
    case AVRO_UNION:
        if ((rc = walk_branch(w, avro_schema_union_size(s), field, &n)))
            return rc;
        return walk_value(w, avro_schema_union_branch(s, (int)n), field, depth + 1);
    case AVRO_RECORD:
        for (size_t i = 0; i < avro_schema_record_size(s); i++) {
            rc = walk_value(w, avro_schema_record_field_get_by_index(s, (int)i),
                            avro_schema_record_field_name(s, (int)i), depth + 1);
            if (rc)
                return rc;
        }
        return WALK_OK;
    case AVRO_ARRAY:
    case AVRO_MAP:
        for (;;) {
            int64_t count, bytes;
            if ((rc = walk_varint(w, 10, &count)))
                return rc;
            if (count == 0)
                return WALK_OK;
            if (count < 0) { /* a block that also tells its size in bytes */
                count = count == INT64_MIN ? INT64_MAX : -count;
                if ((rc = walk_varint(w, 10, &bytes)))
                    return rc;
            }
            if (count > w->budget) {
                snprintf(w->err, w->errlen, "invalid Avro: %lld items in field %s",
                         (long long)count, field);
                return WALK_BAD;
            }
            w->budget -= (long)count;
            for (int64_t i = 0; i < count; i++) {
                if (avro_typeof(s) == AVRO_MAP &&
                    ((rc = walk_varint(w, 10, &n)) || (rc = walk_skip(w, n))))
                    return rc;
                avro_schema_t item = avro_typeof(s) == AVRO_MAP ? avro_schema_map_values(s)
                                                                : avro_schema_array_items(s);
                if ((rc = walk_value(w, item, field, depth + 1)))
                    return rc;
            }
        }
    case AVRO_LINK:
        return walk_value(w, avro_schema_link_target(s), field, depth + 1);
    default:
        snprintf(w->err, w->errlen, "schema type %d not supported", (int)avro_typeof(s));
        return WALK_BAD;
    }
}

/* The top record, with the fields and union branches the decoder looked
 * up at load time. */
static int walk_record(walk *w, const decoder *d)
{
    for (size_t i = 0; i < d->n_fields; i++) {
        const wfield *wf = &d->fields[i];
        const choice *c = wf->value.iface == &union_iface ? wf->value.self : NULL;
        int64_t n = 0;
        int rc = c ? walk_branch(w, c->n, wf->name, &n) : WALK_OK;
        if (!rc)
            rc = walk_value(w, c ? c->branch[n].schema : wf->schema, wf->name, c ? 2 : 1);
        if (rc)
            return rc;
    }
    return WALK_OK;
}

int csm_codec_decode(csm_codec *c, csm_stream stream, csm_framing framing, const void *buf,
                     size_t len, csm_event_slot *out, char *err, size_t errlen)
{
    const unsigned char *p = buf;
    /* Auto: a plain record cannot start with byte 0 (that would be an
     * empty event_id, which the contract forbids), so byte 0 means the
     * Confluent magic byte. */
    int confluent =
        framing == CSM_FRAMING_CONFLUENT || (framing == CSM_FRAMING_AUTO && len > 0 && p[0] == 0);
    stream = stream == CSM_STREAM_ORDER ? CSM_STREAM_ORDER : CSM_STREAM_CHAT;
    decoder *d = &c->decoders[stream];
    if (confluent) {
        if (len < 5 || p[0] != 0) {
            snprintf(err, errlen, "not Confluent-framed (no magic byte 0 + schema id)");
            return -1;
        }
        int32_t id = (int32_t)((uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 |
                               (uint32_t)p[4]);
        decoder *theirs = NULL;
        int code = csm_schema_ids_decoder(&c->ids, id, stream, &theirs, err, errlen);
        if (code)
            return code;
        if (theirs)
            d = theirs;
        p += 5;
        len -= 5;
    }
    if (len == 0) {
        snprintf(err, errlen, "empty message");
        return -1;
    }
    walk w = {p, len, 0, 1L << 20, err, errlen};
    int rc = walk_record(&w, d);
    if (rc == WALK_SHORT) {
        snprintf(err, errlen, "truncated Avro: the record needs more than the %zu bytes there are",
                 len);
        return -1;
    }
    if (rc)
        return -1;
    /* Leftovers mean the writer used another schema than the one we decode
     * with, so the fields read so far cannot be trusted either. */
    if (w.pos < len) {
        snprintf(err, errlen, "invalid Avro: %zu bytes left after the record", len - w.pos);
        return -1;
    }
    avro_reader_memory_set_source(c->reader, (const char *)p, (int64_t)len);
    /* avro-c prefixes its read errors to whatever its error buffer holds,
     * e.g. a field lookup that failed at load time. */
    if (*avro_strerror())
        avro_set_error("%s", "");
    /* The walk above guarantees avro-c reads a whole record, so every
     * string buffer it allocates is handed to give_string() and freed. */
    avro_value_t record = decoder_record(d, out);
    csm_scratch_enter();
    rc = avro_value_read(c->reader, &record);
    csm_scratch_leave();
    if (rc) {
        const char *why = avro_strerror();
        snprintf(err, errlen, "invalid Avro%s%s", why && *why ? ": " : "", why ? why : "");
        csm_one_line(err); /* one line per dead letter */
        return -1;
    }
    return extract_event(d, err, errlen);
}

/* ---- csm_event → Avro ---- */

static int set_field(schema_codec *sc, enum field f, avro_value_t *out, int present)
{
    int idx = sc->index[f];
    if (idx < 0)
        return -1;
    avro_value_t v;
    if (avro_value_get_by_index(&sc->value, (size_t)idx, &v, NULL))
        return -1;
    if (avro_value_get_type(&v) == AVRO_UNION) {
        /* Unions are ["null", X]: branch 0 null, 1 the value. */
        avro_value_t branch;
        if (avro_value_set_branch(&v, present ? 1 : 0, &branch))
            return -1;
        if (!present)
            return avro_value_set_null(&branch), 1;
        v = branch;
    } else if (!present) {
        return -1;
    }
    *out = v;
    return 0;
}

static void put_string(schema_codec *sc, enum field f, const char *s)
{
    avro_value_t v;
    if (set_field(sc, f, &v, s != NULL) == 0)
        avro_value_set_string(&v, s);
}

static void put_enum(schema_codec *sc, enum field f, int value, int nullable)
{
    avro_value_t v;
    int present = !nullable || value != 0;
    if (set_field(sc, f, &v, present) == 0)
        avro_value_set_enum(&v, nullable ? value - 1 : value);
}

static void put_long(schema_codec *sc, enum field f, int64_t n, int present)
{
    avro_value_t v;
    if (set_field(sc, f, &v, present) != 0)
        return;
    if (avro_value_get_type(&v) == AVRO_INT32)
        avro_value_set_int(&v, (int32_t)n);
    else
        avro_value_set_long(&v, n);
}

long csm_codec_encode(csm_codec *c, const csm_event *ev, int32_t schema_id, void *buf, size_t cap)
{
    schema_codec *sc = &c->streams[ev->stream == CSM_STREAM_ORDER ? 1 : 0];
    avro_value_reset(&sc->value);
    put_string(sc, F_EVENT_ID, ev->event_id ? ev->event_id : "");
    put_enum(sc, F_PLATFORM, ev->platform, 0);
    put_string(sc, F_SHOP_ID, ev->shop_id ? ev->shop_id : "");
    put_string(sc, F_CUSTOMER_ID, ev->customer_id ? ev->customer_id : "");
    put_long(sc, F_TS, ev->ts, 1);
    if (ev->stream == CSM_STREAM_CHAT) {
        const csm_chat_fields *ch = &ev->chat;
        put_enum(sc, F_TYPE, ch->type, 0);
        put_enum(sc, F_SENDER, ch->sender, 1);
        put_enum(sc, F_MSG_KIND, ch->msg_kind, 1);
        put_enum(sc, F_ENTRY, ch->entry, 1);
        put_string(sc, F_AGENT_ID, ch->agent_id);
        put_string(sc, F_FROM_AGENT_ID, ch->from_agent_id);
        put_string(sc, F_GROUP_ID, ch->group_id);
        put_string(sc, F_ORDER_ID, ch->order_id);
        put_string(sc, F_INTENT, ch->intent);
        put_string(sc, F_REASON, ch->reason);
        put_long(sc, F_STARS, ch->stars, ch->has_stars);
    } else {
        const csm_order_fields *o = &ev->order;
        put_enum(sc, F_TYPE, o->type, 0);
        put_string(sc, F_ORDER_ID, o->order_id ? o->order_id : "");
        put_long(sc, F_AMOUNT_CENTS, o->amount_cents, o->has_amount);
        put_string(sc, F_REFUND_ID, o->refund_id);
        put_string(sc, F_LOGISTICS_STATUS, o->logistics_status);
    }
    return csm_avro_write_framed(&sc->value, schema_id, buf, cap);
}

/* ---- files ---- */

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static int read_container(const char *path, csm_file_event_fn fn, void *arg, char *err,
                          size_t errlen)
{
    avro_file_reader_t fr;
    if (avro_file_reader(path, &fr)) {
        snprintf(err, errlen, "not an Avro container file: %s", avro_strerror());
        return -1;
    }
    /* This returns a new reference. */
    avro_schema_t ws = avro_file_reader_get_writer_schema(fr);
    const char *name = ws ? avro_schema_name(ws) : NULL;
    int stream = -1;
    for (int s = 0; s < 2 && name; s++)
        if (!strcmp(name, record_names[s]))
            stream = s;
    if (stream < 0) {
        snprintf(err, errlen, "container schema '%s' is neither ChatEvent nor OrderEvent",
                 name ? name : "?");
        if (ws)
            avro_schema_decref(ws);
        avro_file_reader_close(fr);
        return -1;
    }
    decoder d;
    int bound = decoder_init(&d, ws, (csm_stream)stream, NULL, NULL);
    avro_schema_decref(ws);
    if (bound) {
        snprintf(err, errlen, "container schema: %s", avro_strerror());
        decoder_free(&d);
        avro_file_reader_close(fr);
        return -1;
    }
    csm_event_slot *slot = malloc(sizeof *slot);
    char why[512];
    long index = 0;
    int rc = 0;
    avro_value_t record = decoder_record(&d, slot);
    for (;;) {
        csm_scratch_enter();
        int r = avro_file_reader_read_value(fr, &record);
        csm_scratch_leave();
        if (r == EOF)
            break;
        if (r) {
            snprintf(err, errlen, "record %ld: %s", index + 1, avro_strerror());
            rc = -1;
            break;
        }
        int ok = extract_event(&d, why, sizeof why) == 0;
        if (fn(arg, index++, ok, slot, ok ? NULL : why, NULL, 0))
            break;
    }
    free(slot);
    decoder_free(&d);
    avro_file_reader_close(fr);
    return rc;
}

static int read_json_lines(const char *path, csm_file_event_fn fn, void *arg, char *err,
                           size_t errlen)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    csm_event_slot *slot = malloc(sizeof *slot);
    char *line = NULL, why[512];
    size_t cap = 0;
    ssize_t len;
    long index = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        const char *p = line + strspn(line, " \t");
        if (!*p || *p == '#')
            continue; /* blank lines and comments explain test files */
        size_t n = (size_t)(len - (p - line));
        int ok = csm_json_decode_line(p, n, slot, why, sizeof why) == 0;
        if (fn(arg, index++, ok, slot, ok ? NULL : why, p, n))
            break;
    }
    free(line);
    free(slot);
    if (f != stdin)
        fclose(f);
    return 0;
}

int csm_codec_read_file(csm_codec *c, const char *path, csm_file_event_fn fn, void *arg, char *err,
                        size_t errlen)
{
    (void)c;
    if (has_suffix(path, ".avro"))
        return read_container(path, fn, arg, err, errlen);
    return read_json_lines(path, fn, arg, err, errlen);
}
