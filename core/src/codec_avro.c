/* Avro binary events (avro-c generic values), both framings of events.md,
 * and event files (JSON Lines or Avro object container files). Decoding
 * reuses one reader and one value per stream: no allocation per message
 * beyond what avro-c does inside its generic string values. */
#include <avro.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

enum field {
    F_EVENT_ID,
    F_PLATFORM,
    F_SHOP_ID,
    F_CUSTOMER_ID,
    F_TS,
    F_TYPE,
    F_SENDER,
    F_MSG_KIND,
    F_AGENT_ID,
    F_FROM_AGENT_ID,
    F_GROUP_ID,
    F_ENTRY,
    F_ORDER_ID,
    F_INTENT,
    F_STARS,
    F_REASON,
    F_AMOUNT_CENTS,
    F_REFUND_ID,
    F_LOGISTICS_STATUS,
    F_COUNT
};

static const char *const field_names[F_COUNT] = {
    "event_id", "platform",     "shop_id",   "customer_id",     "ts",
    "type",     "sender",       "msg_kind",  "agent_id",        "from_agent_id",
    "group_id", "entry",        "order_id",  "intent",          "stars",
    "reason",   "amount_cents", "refund_id", "logistics_status"};

/* One schema's decoding machinery. */
typedef struct schema_codec {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t value;
    int index[F_COUNT]; /* field position in the record, -1 if absent */
    int enums_by_name;  /* a foreign writer schema: map enum symbols by name */
} schema_codec;

#define MAX_SCHEMA_IDS 64

struct csm_codec {
    schema_codec streams[2];
    int32_t ids[MAX_SCHEMA_IDS];
    csm_stream id_stream[MAX_SCHEMA_IDS];
    size_t n_ids;
    avro_reader_t reader;
};

static const char *const schema_files[2] = {"chat_event.avsc", "order_event.avsc"};
static const char *const record_names[2] = {"ChatEvent", "OrderEvent"};

static int schema_codec_init(schema_codec *sc, avro_schema_t schema, int enums_by_name)
{
    sc->schema = schema;
    sc->enums_by_name = enums_by_name;
    sc->iface = avro_generic_class_from_schema(schema);
    if (!sc->iface || avro_generic_value_new(sc->iface, &sc->value))
        return -1;
    for (int f = 0; f < F_COUNT; f++)
        sc->index[f] = avro_schema_record_field_get_index(schema, field_names[f]);
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

csm_codec *csm_codec_new(const char *schema_dir, char *err, size_t errlen)
{
    csm_codec *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    for (int s = 0; s < 2; s++) {
        char path[1024];
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
        free(json);
        if (rc || schema_codec_init(&c->streams[s], schema, 0)) {
            snprintf(err, errlen, "schema %s: %s", path, avro_strerror());
            if (rc == 0)
                avro_schema_decref(schema);
            csm_codec_free(c);
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
    for (int s = 0; s < 2; s++)
        schema_codec_free(&c->streams[s]);
    if (c->reader)
        avro_reader_free(c->reader);
    free(c);
}

void csm_codec_map_schema_id(csm_codec *c, int32_t schema_id, csm_stream stream)
{
    for (size_t i = 0; i < c->n_ids; i++)
        if (c->ids[i] == schema_id) {
            c->id_stream[i] = stream;
            return;
        }
    if (c->n_ids < MAX_SCHEMA_IDS) {
        c->ids[c->n_ids] = schema_id;
        c->id_stream[c->n_ids++] = stream;
    }
}

/* ---- record → csm_event ---- */

typedef struct extract {
    schema_codec *sc;
    csm_event_slot *slot;
    char *err;
    size_t errlen;
    int bad;
} extract;

/* The field's value with a union's branch unwrapped; 0 when null/absent. */
static int field_value(extract *x, enum field f, avro_value_t *out)
{
    int idx = x->sc->index[f];
    if (idx < 0 || x->bad)
        return 0;
    avro_value_t v;
    if (avro_value_get_by_index(&x->sc->value, (size_t)idx, &v, NULL))
        return 0;
    if (avro_value_get_type(&v) == AVRO_UNION) {
        avro_value_t branch;
        if (avro_value_get_current_branch(&v, &branch))
            return 0;
        v = branch;
    }
    if (avro_value_get_type(&v) == AVRO_NULL)
        return 0;
    *out = v;
    return 1;
}

static const char *get_string(extract *x, enum field f)
{
    avro_value_t v;
    if (!field_value(x, f, &v))
        return NULL;
    const char *p = NULL;
    size_t size = 0;
    if (avro_value_get_type(&v) != AVRO_STRING || avro_value_get_string(&v, &p, &size)) {
        x->bad = 1;
        snprintf(x->err, x->errlen, "field %s: not a string", field_names[f]);
        return NULL;
    }
    char why[64];
    size_t n = size ? size - 1 : 0;
    if (csm_text_check(p, n, why, sizeof why)) {
        x->bad = 1;
        snprintf(x->err, x->errlen, "field %s: %s", field_names[f], why);
        return NULL;
    }
    const char *s = csm_event_slot_strndup(x->slot, p, n);
    if (!s) {
        x->bad = 1;
        snprintf(x->err, x->errlen, "event too large (strings over %d bytes)",
                 CSM_EVENT_STRINGS_MAX);
    }
    return s;
}

/* Enum as the C enumeration: schema order, +1 for nullable enums (0 = null). */
static int get_enum(extract *x, enum field f, int nullable, int count, int (*parse)(const char *))
{
    avro_value_t v;
    if (!field_value(x, f, &v))
        return 0;
    int i = -1;
    if (avro_value_get_type(&v) != AVRO_ENUM || avro_value_get_enum(&v, &i)) {
        x->bad = 1;
        snprintf(x->err, x->errlen, "field %s: not an enum", field_names[f]);
        return 0;
    }
    int value = i;
    if (x->sc->enums_by_name) {
        const char *sym = avro_schema_enum_get(avro_value_get_schema(&v), i);
        value = sym ? parse(sym) : -1; /* nullable parsers already give 1.. */
    } else if (nullable) {
        value = i + 1;
    }
    int limit = nullable ? count : count - 1;
    if (value < (nullable ? 1 : 0) || value > limit) {
        x->bad = 1;
        snprintf(x->err, x->errlen, "bad enum value %d for field %s", i, field_names[f]);
        return 0;
    }
    return value;
}

static int get_long(extract *x, enum field f, int64_t *out)
{
    avro_value_t v;
    if (!field_value(x, f, &v))
        return 0;
    int32_t i32;
    switch (avro_value_get_type(&v)) {
    case AVRO_INT64:
        return avro_value_get_long(&v, out) == 0;
    case AVRO_INT32:
        if (avro_value_get_int(&v, &i32))
            return 0;
        *out = i32;
        return 1;
    default:
        x->bad = 1;
        snprintf(x->err, x->errlen, "field %s: not a number", field_names[f]);
        return 0;
    }
}

static int extract_event(schema_codec *sc, csm_stream stream, csm_event_slot *out, char *err,
                         size_t errlen)
{
    csm_event_slot_reset(out, stream);
    extract x = {sc, out, err, errlen, 0};
    csm_event *ev = &out->ev;
    ev->event_id = get_string(&x, F_EVENT_ID);
    ev->platform =
        (csm_platform)get_enum(&x, F_PLATFORM, 0, CSM_PLATFORM_COUNT, csm_platform_parse);
    ev->shop_id = get_string(&x, F_SHOP_ID);
    ev->customer_id = get_string(&x, F_CUSTOMER_ID);
    int64_t n = 0;
    if (get_long(&x, F_TS, &n))
        ev->ts = n;
    if (stream == CSM_STREAM_CHAT) {
        csm_chat_fields *c = &ev->chat;
        c->type = (csm_chat_type)get_enum(&x, F_TYPE, 0, CSM_CHAT_TYPE_COUNT, csm_chat_type_parse);
        c->sender = (csm_sender)get_enum(&x, F_SENDER, 1, CSM_SENDER_COUNT - 1, csm_sender_parse);
        c->msg_kind =
            (csm_msg_kind)get_enum(&x, F_MSG_KIND, 1, CSM_MSG_COUNT - 1, csm_msg_kind_parse);
        c->entry = (csm_entry)get_enum(&x, F_ENTRY, 1, CSM_ENTRY_COUNT - 1, csm_entry_parse);
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
        o->type =
            (csm_order_type)get_enum(&x, F_TYPE, 0, CSM_ORDER_TYPE_COUNT, csm_order_type_parse);
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
        if ((rc = walk_varint(w, 10, &n)))
            return rc;
        if (n < 0 || (uint64_t)n >= avro_schema_union_size(s)) {
            snprintf(w->err, w->errlen, "invalid Avro: union branch %lld for field %s",
                     (long long)n, field);
            return WALK_BAD;
        }
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

int csm_codec_decode(csm_codec *c, csm_stream stream, csm_framing framing, const void *buf,
                     size_t len, csm_event_slot *out, char *err, size_t errlen)
{
    const unsigned char *p = buf;
    /* Auto: a plain record cannot start with byte 0 (that would be an
     * empty event_id, which the contract forbids), so byte 0 means the
     * Confluent magic byte. */
    int confluent =
        framing == CSM_FRAMING_CONFLUENT || (framing == CSM_FRAMING_AUTO && len > 0 && p[0] == 0);
    if (confluent) {
        if (len < 5 || p[0] != 0) {
            snprintf(err, errlen, "not Confluent-framed (no magic byte 0 + schema id)");
            return -1;
        }
        int32_t id = (int32_t)((uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 |
                               (uint32_t)p[4]);
        size_t i = 0;
        while (i < c->n_ids && c->ids[i] != id)
            i++;
        if (i == c->n_ids) {
            snprintf(err, errlen, "unknown schema id %d", id);
            return -1;
        }
        if (c->id_stream[i] != stream) {
            snprintf(err, errlen, "schema id %d is the %s schema, on the %s topic", id,
                     c->id_stream[i] == CSM_STREAM_CHAT ? "chat" : "order",
                     stream == CSM_STREAM_CHAT ? "chat" : "order");
            return -1;
        }
        p += 5;
        len -= 5;
    }
    if (len == 0) {
        snprintf(err, errlen, "empty message");
        return -1;
    }
    schema_codec *sc = &c->streams[stream == CSM_STREAM_ORDER ? 1 : 0];
    walk w = {p, len, 0, 1L << 20, err, errlen};
    int rc = walk_value(&w, sc->schema, "?", 0);
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
    avro_value_reset(&sc->value);
    /* avro-c prefixes its read errors to whatever its error buffer holds,
     * e.g. a field lookup that failed at load time. */
    avro_set_error("%s", "");
    if (avro_value_read(c->reader, &sc->value)) {
        const char *why = avro_strerror();
        snprintf(err, errlen, "invalid Avro%s%s", why && *why ? ": " : "", why ? why : "");
        /* one line per dead letter */
        for (char *q = err; *q; q++)
            if (*q == '\n')
                *q = ' ';
        return -1;
    }
    return extract_event(sc, stream, out, err, errlen);
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
    unsigned char *out = buf;
    size_t off = 0;
    if (schema_id >= 0) {
        if (cap < 5)
            return -1;
        out[0] = 0;
        out[1] = (unsigned char)(schema_id >> 24);
        out[2] = (unsigned char)(schema_id >> 16);
        out[3] = (unsigned char)(schema_id >> 8);
        out[4] = (unsigned char)schema_id;
        off = 5;
    }
    avro_writer_t w = avro_writer_memory((char *)out + off, (int64_t)(cap - off));
    if (!w)
        return -1;
    int rc = avro_value_write(w, &sc->value);
    long n = rc ? -1 : (long)(off + (size_t)avro_writer_tell(w));
    avro_writer_free(w);
    return n;
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
    /* This returns a new reference, which sc below takes over. */
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
    schema_codec sc = {0};
    if (schema_codec_init(&sc, ws, 1)) {
        snprintf(err, errlen, "container schema: %s", avro_strerror());
        schema_codec_free(&sc);
        avro_file_reader_close(fr);
        return -1;
    }
    csm_event_slot *slot = malloc(sizeof *slot);
    char why[512];
    long index = 0;
    int rc = 0;
    for (;;) {
        avro_value_reset(&sc.value);
        int r = avro_file_reader_read_value(fr, &sc.value);
        if (r == EOF)
            break;
        if (r) {
            snprintf(err, errlen, "record %ld: %s", index + 1, avro_strerror());
            rc = -1;
            break;
        }
        int ok = extract_event(&sc, (csm_stream)stream, slot, why, sizeof why) == 0;
        if (fn(arg, index++, ok, slot, ok ? NULL : why, NULL, 0))
            break;
    }
    free(slot);
    schema_codec_free(&sc);
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
