/* JSON object → Avro binary of any writer schema (json_avro.h), through
 * avro-c's generic values: the JSON is walked against the value's schema
 * and avro-c writes the binary, so the bytes are Avro's by construction.
 *
 * avro-c drops "default" when it parses a schema, so the schema's JSON is
 * kept beside it: each record schema is paired with its "fields" array of
 * the JSON text, where an absent field finds its default. */
#include "json_avro.h"

#include <avro.h>
#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_util.h"
#include "codec.h"

/* A record schema and the "fields" array of its definition in the JSON. */
typedef struct record_json {
    avro_schema_t record;
    json_t *fields;
} record_json;

struct csm_json_avro {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t value;
    json_t *schema_json;
    record_json *records;
    size_t n_records;
};

/* One encoding: where in the object it is (for the error) and the error. */
typedef struct encoder {
    const csm_json_avro *w;
    char path[512];
    char *err;
    size_t errlen;
} encoder;

/* JSON text of a value for an error message, cut at 40 characters. */
typedef struct shown {
    char text[48];
    size_t len;
} shown;

static int show_part(const char *buf, size_t size, void *data)
{
    shown *s = data;
    size_t room = 40 - s->len, n = size < room ? size : room;
    memcpy(s->text + s->len, buf, n);
    s->len += n;
    return n < size ? -1 : 0; /* -1 stops jansson: the rest is not shown */
}

static const char *show(json_t *j, shown *s)
{
    s->len = 0;
    if (json_dump_callback(j, show_part, s, JSON_ENCODE_ANY | JSON_COMPACT) && s->len == 40) {
        memcpy(s->text + 40, "...", 3);
        s->len += 3;
    }
    s->text[s->len] = 0;
    return s->text;
}

static int fail(encoder *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(encoder *e, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (e->path[0])
        snprintf(e->err, e->errlen, "field %s: %s", e->path, msg);
    else
        snprintf(e->err, e->errlen, "%s", msg);
    return -1;
}

static int fail_expected(encoder *e, const char *what, json_t *got)
{
    shown s;
    return fail(e, "expected %s, got %s", what, show(got, &s));
}

static int encode_value(encoder *e, json_t *j, avro_value_t *v, int as_default);

/* The path step of a field or map key: "a", then "a.b". */
#define MEMBER(e) ((e)->path[0] ? ".%s" : "%s")

/* Encodes @p j (NULL: absent, and no default) into @p child, one step
 * deeper in the path. */
static int encode_child(encoder *e, const char *step_fmt, const char *step, json_t *j,
                        avro_value_t *child, int as_default)
{
    size_t mark = strlen(e->path);
    snprintf(e->path + mark, sizeof e->path - mark, step_fmt, step);
    int rc = j ? encode_value(e, j, child, as_default) : fail(e, "missing and no default");
    e->path[mark] = 0; /* a union tries its next branch from here */
    return rc;
}

static const json_t *record_fields(const csm_json_avro *w, avro_schema_t record)
{
    for (size_t i = 0; i < w->n_records; i++)
        if (w->records[i].record == record)
            return w->records[i].fields;
    return NULL;
}

/* Avro's JSON form of bytes and fixed: a string whose code points 0-255
 * are the bytes. The bytes (malloc'd) and their count, or NULL. */
static unsigned char *latin1_bytes(json_t *j, size_t *n)
{
    const unsigned char *s = (const unsigned char *)json_string_value(j);
    size_t len = json_string_length(j);
    unsigned char *out = malloc(len + 1);
    if (!out)
        abort();
    *n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x80)
            out[(*n)++] = s[i];
        else if ((s[i] == 0xc2 || s[i] == 0xc3) && i + 1 < len) {
            out[(*n)++] = (unsigned char)((s[i] & 0x03) << 6 | (s[i + 1] & 0x3f));
            i++;
        } else {
            free(out);
            return NULL;
        }
    }
    return out;
}

static int encode_bytes(encoder *e, json_t *j, avro_value_t *v, avro_schema_t s)
{
    int fixed = is_avro_fixed(s);
    size_t n = 0, want = fixed ? (size_t)avro_schema_fixed_size(s) : 0;
    unsigned char *b = json_is_string(j) ? latin1_bytes(j, &n) : NULL;
    int rc;
    if (!b || (fixed && n != want)) {
        char what[160];
        if (fixed)
            snprintf(what, sizeof what, "a string of %zu code points 0-255 (fixed %s)", want,
                     avro_schema_name(s));
        else
            snprintf(what, sizeof what, "a string of code points 0-255 (bytes)");
        rc = fail_expected(e, what, j);
    } else {
        rc = fixed ? avro_value_set_fixed(v, b, n) : avro_value_set_bytes(v, b, n);
    }
    free(b);
    return rc ? -1 : 0;
}

static int encode_enum(encoder *e, json_t *j, avro_value_t *v, avro_schema_t s)
{
    char what[160];
    snprintf(what, sizeof what, "a symbol of %s", avro_schema_name(s));
    if (!json_is_string(j))
        return fail_expected(e, what, j);
    int index = avro_schema_enum_get_by_name(s, json_string_value(j));
    if (index < 0)
        return fail(e, "%s is not a symbol of %s", json_string_value(j), avro_schema_name(s));
    return avro_value_set_enum(v, index) ? -1 : 0;
}

static int encode_record(encoder *e, json_t *j, avro_value_t *v, avro_schema_t s, int as_default)
{
    if (!json_is_object(j)) {
        char what[160];
        snprintf(what, sizeof what, "an object (record %s)", avro_schema_name(s));
        return fail_expected(e, what, j);
    }
    const json_t *fields = record_fields(e->w, s);
    size_t n = avro_schema_record_size(s);
    for (size_t i = 0; i < n; i++) {
        const char *name = avro_schema_record_field_name(s, (int)i);
        avro_value_t child;
        if (avro_value_get_by_index(v, i, &child, NULL))
            return fail(e, "%s", avro_strerror());
        json_t *given = json_object_get(j, name);
        json_t *def = json_object_get(json_array_get(fields, i), "default");
        if (given ? encode_child(e, MEMBER(e), name, given, &child, as_default)
                  : encode_child(e, MEMBER(e), name, def, &child, 1))
            return -1;
    }
    return 0;
}

static int encode_array(encoder *e, json_t *j, avro_value_t *v, int as_default)
{
    if (!json_is_array(j))
        return fail_expected(e, "an array", j);
    for (size_t i = 0; i < json_array_size(j); i++) {
        avro_value_t item;
        char step[24];
        snprintf(step, sizeof step, "%zu", i);
        if (avro_value_append(v, &item, NULL))
            return fail(e, "%s", avro_strerror());
        if (encode_child(e, "[%s]", step, json_array_get(j, i), &item, as_default))
            return -1;
    }
    return 0;
}

static int encode_map(encoder *e, json_t *j, avro_value_t *v, int as_default)
{
    if (!json_is_object(j))
        return fail_expected(e, "an object (map)", j);
    const char *key;
    json_t *item;
    json_object_foreach(j, key, item)
    {
        avro_value_t slot;
        if (avro_value_add(v, key, &slot, NULL, NULL))
            return fail(e, "%s", avro_strerror());
        if (encode_child(e, MEMBER(e), key, item, &slot, as_default))
            return -1;
    }
    return 0;
}

/* Avro's JSON form names a union branch by its type: "string", or a named
 * type's full name ("csmetrics.MsgKind"); the bare name is taken too. */
static int names_branch(avro_schema_t b, const char *key)
{
    const char *name = avro_schema_type_name(b);
    if (!strcmp(key, name))
        return 1;
    const char *ns = is_avro_named_type(b) ? avro_schema_namespace(b) : NULL;
    size_t nsl = ns ? strlen(ns) : 0;
    return ns && nsl && !strncmp(key, ns, nsl) && key[nsl] == '.' && !strcmp(key + nsl + 1, name);
}

static int encode_branch(encoder *e, json_t *j, avro_value_t *v, int index, int as_default)
{
    avro_value_t branch;
    if (avro_value_set_branch(v, index, &branch))
        return fail(e, "%s", avro_strerror());
    avro_value_reset(&branch); /* a failed try may have left items in it */
    return encode_value(e, j, &branch, as_default);
}

/* No branch takes the value: the error of the one branch that is not
 * null (it says most, e.g. "LIVE_CARD is not a symbol of MsgKind"), or
 * the list of the branches. */
static int union_mismatch(encoder *e, json_t *j, avro_value_t *v, avro_schema_t s)
{
    int n = (int)avro_schema_union_size(s), other = -1, others = 0;
    char what[256] = "one of ";
    for (int i = 0; i < n; i++) {
        avro_schema_t b = avro_schema_union_branch(s, i);
        size_t at = strlen(what);
        snprintf(what + at, sizeof what - at, "%s%s", i ? "|" : "", avro_schema_type_name(b));
        if (!is_avro_null(b)) {
            other = i;
            others++;
        }
    }
    if (others == 1)
        return encode_branch(e, j, v, other, 0);
    return fail_expected(e, what, j);
}

/* A default takes the first branch (Avro spec); a value the Avro JSON
 * form's branch, else the first branch it fits. */
static int encode_union(encoder *e, json_t *j, avro_value_t *v, avro_schema_t s, int as_default)
{
    int n = (int)avro_schema_union_size(s);
    if (as_default)
        return encode_branch(e, j, v, 0, 1);
    if (json_is_object(j) && json_object_size(j) == 1) {
        const char *key = json_object_iter_key(json_object_iter(j));
        for (int i = 0; i < n; i++)
            if (names_branch(avro_schema_union_branch(s, i), key))
                return encode_branch(e, json_object_get(j, key), v, i, 0);
    }
    for (int i = 0; i < n; i++)
        if (encode_branch(e, j, v, i, 0) == 0)
            return 0;
    return union_mismatch(e, j, v, s);
}

static int encode_value(encoder *e, json_t *j, avro_value_t *v, int as_default)
{
    avro_schema_t s = csm_schema_unlinked(avro_value_get_schema(v));
    int rc;
    switch (avro_typeof(s)) {
    case AVRO_NULL:
        rc = json_is_null(j) ? avro_value_set_null(v) : fail_expected(e, "null", j);
        break;
    case AVRO_BOOLEAN:
        rc = json_is_boolean(j) ? avro_value_set_boolean(v, json_is_true(j))
                                : fail_expected(e, "a boolean", j);
        break;
    case AVRO_INT32:
        rc = json_is_integer(j) && json_integer_value(j) >= INT32_MIN &&
                     json_integer_value(j) <= INT32_MAX
                 ? avro_value_set_int(v, (int32_t)json_integer_value(j))
                 : fail_expected(e, "an int", j);
        break;
    case AVRO_INT64:
        rc = json_is_integer(j) ? avro_value_set_long(v, json_integer_value(j))
                                : fail_expected(e, "a long", j);
        break;
    case AVRO_FLOAT:
        rc = json_is_number(j) ? avro_value_set_float(v, (float)json_number_value(j))
                               : fail_expected(e, "a float", j);
        break;
    case AVRO_DOUBLE:
        rc = json_is_number(j) ? avro_value_set_double(v, json_number_value(j))
                               : fail_expected(e, "a double", j);
        break;
    case AVRO_STRING:
        rc = json_is_string(j)
                 ? avro_value_set_string_len(v, json_string_value(j), json_string_length(j) + 1)
                 : fail_expected(e, "a string", j);
        break;
    case AVRO_BYTES:
    case AVRO_FIXED:
        return encode_bytes(e, j, v, s);
    case AVRO_ENUM:
        return encode_enum(e, j, v, s);
    case AVRO_RECORD:
        return encode_record(e, j, v, s, as_default);
    case AVRO_ARRAY:
        return encode_array(e, j, v, as_default);
    case AVRO_MAP:
        return encode_map(e, j, v, as_default);
    case AVRO_UNION:
        return encode_union(e, j, v, s, as_default);
    default:
        return fail(e, "unsupported Avro type %s", avro_schema_type_name(s));
    }
    return rc ? -1 : 0;
}

/* ---- the schema ---- */

static void add_record(csm_json_avro *w, avro_schema_t record, json_t *fields)
{
    record_json *r = realloc(w->records, (w->n_records + 1) * sizeof *r);
    if (!r)
        abort();
    w->records = r;
    r[w->n_records++] = (record_json){record, fields};
}

/* Pairs each record definition of the schema JSON @p sj with the avro-c
 * schema @p s parsed from it. A name standing for a type defined
 * elsewhere is a string: its definition is paired where it stands. */
static void pair_records(csm_json_avro *w, avro_schema_t s, json_t *sj)
{
    if (json_is_array(sj) && is_avro_union(s)) {
        for (size_t i = 0; i < json_array_size(sj) && i < avro_schema_union_size(s); i++)
            pair_records(w, avro_schema_union_branch(s, (int)i), json_array_get(sj, i));
        return;
    }
    if (!json_is_object(sj))
        return;
    if (is_avro_record(s)) {
        json_t *fields = json_object_get(sj, "fields");
        add_record(w, s, fields);
        for (size_t i = 0; i < avro_schema_record_size(s); i++)
            pair_records(w, avro_schema_record_field_get_by_index(s, (int)i),
                         json_object_get(json_array_get(fields, i), "type"));
    } else if (is_avro_array(s)) {
        pair_records(w, avro_schema_array_items(s), json_object_get(sj, "items"));
    } else if (is_avro_map(s)) {
        pair_records(w, avro_schema_map_values(s), json_object_get(sj, "values"));
    }
}

/* A default that does not fit its field is refused here rather than on
 * the first object that lacks the field. */
static int check_default(csm_json_avro *w, avro_schema_t record, int i, json_t *def, char *err,
                         size_t errlen)
{
    avro_value_iface_t *iface =
        avro_generic_class_from_schema(avro_schema_record_field_get_by_index(record, i));
    avro_value_t v;
    if (!iface || avro_generic_value_new(iface, &v)) {
        snprintf(err, errlen, "%s", avro_strerror());
        if (iface)
            avro_value_iface_decref(iface);
        return -1;
    }
    char why[400];
    encoder e = {.w = w, .err = why, .errlen = sizeof why};
    int rc = encode_value(&e, def, &v, 1);
    if (rc)
        snprintf(err, errlen, "field %s.%s: bad default: %s", avro_schema_name(record),
                 avro_schema_record_field_name(record, i), why);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    return rc;
}

static int check_defaults(csm_json_avro *w, char *err, size_t errlen)
{
    for (size_t r = 0; r < w->n_records; r++) {
        avro_schema_t record = w->records[r].record;
        for (size_t i = 0; i < avro_schema_record_size(record); i++) {
            json_t *def = json_object_get(json_array_get(w->records[r].fields, i), "default");
            if (def && check_default(w, record, (int)i, def, err, errlen))
                return -1;
        }
    }
    return 0;
}

csm_json_avro *csm_json_avro_new(const char *schema_json, size_t len, char *err, size_t errlen)
{
    csm_json_avro *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    json_error_t jerr;
    if (!(w->schema_json = json_loadb(schema_json, len, JSON_DECODE_ANY, &jerr))) {
        snprintf(err, errlen, "invalid JSON: %s (line %d)", jerr.text, jerr.line);
        goto fail;
    }
    if (avro_schema_from_json_length(schema_json, len, &w->schema)) {
        snprintf(err, errlen, "not an Avro schema: %s", avro_strerror());
        goto fail;
    }
    if (!is_avro_record(w->schema)) {
        snprintf(err, errlen, "not an Avro record schema");
        goto fail;
    }
    pair_records(w, w->schema, w->schema_json);
    if (check_defaults(w, err, errlen))
        goto fail;
    if (!(w->iface = avro_generic_class_from_schema(w->schema)) ||
        avro_generic_value_new(w->iface, &w->value)) {
        snprintf(err, errlen, "%s", avro_strerror());
        goto fail;
    }
    return w;
fail:
    csm_json_avro_free(w);
    return NULL;
}

csm_json_avro *csm_json_avro_load(const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    char *text = csm_slurp(path, &len);
    if (!text) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char why[400];
    csm_json_avro *w = csm_json_avro_new(text, len, why, sizeof why);
    free(text);
    if (!w)
        snprintf(err, errlen, "%s: %s", path, why);
    return w;
}

void csm_json_avro_free(csm_json_avro *w)
{
    if (!w)
        return;
    if (w->iface) {
        if (w->value.self)
            avro_value_decref(&w->value);
        avro_value_iface_decref(w->iface);
    }
    if (w->schema)
        avro_schema_decref(w->schema);
    json_decref(w->schema_json);
    free(w->records);
    free(w);
}

/* ---- encoding ---- */

static long write_value(csm_json_avro *w, int32_t schema_id, void *buf, size_t cap, char *err,
                        size_t errlen)
{
    long n = csm_avro_write_framed(&w->value, schema_id, buf, cap);
    if (n < 0)
        snprintf(err, errlen, "does not fit in %zu bytes", cap);
    return n;
}

long csm_json_avro_encode(csm_json_avro *w, const char *json, size_t len, int32_t schema_id,
                          void *buf, size_t cap, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *obj = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    long n = -1;
    encoder e = {.w = w, .err = err, .errlen = errlen};
    if (!obj)
        snprintf(err, errlen, "invalid JSON: %s (column %d)", jerr.text, jerr.column);
    else if (!json_is_object(obj))
        snprintf(err, errlen, "not a JSON object");
    else {
        avro_value_reset(&w->value);
        if (encode_record(&e, obj, &w->value, w->schema, 0) == 0)
            n = write_value(w, schema_id, buf, cap, err, errlen);
    }
    json_decref(obj);
    return n;
}
