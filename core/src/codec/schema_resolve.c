/* Schema resolution, Avro's rules, once per writer schema.
 *
 * avro-c's resolved writer (avro/resolver.h) is the judge of whether a
 * writer field's type can be read as the reader field's: the same types,
 * int promoted to long, float or double, a writer union of which some
 * branch fits, named types by name. It is not the decoder, for three
 * reasons found in avro-c 1.11 (resolved-writer.c): it refuses any reader
 * field the writer lacks, even one with a default ("TODO: Handle default
 * values"), since its schema parser does not keep "default" at all; it
 * passes enum indexes through without mapping symbols by name, so a
 * writer that added a symbol in the middle would be read as another
 * symbol; and it writes into a generic value that would then be copied
 * into the event field by field. So each field both schemas have is
 * judged by avro_resolved_writer_new(writer field, reader field): exactly
 * what avro-c's record resolution does for each field of a reader record
 * pruned to the fields the writer has, field by field so that the verdict
 * names the field. Record names, reader defaults (read here from the
 * schema's JSON with jansson) and enum symbols are ours, and the codec's
 * name-bound decoder reads the messages (codec_avro.c). */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_util.h"
#include "schema_resolve.h"

const char *csm_schema_full_name(avro_schema_t s, char *buf, size_t cap)
{
    const char *ns = avro_schema_namespace(s);
    snprintf(buf, cap, "%s%s%s", ns && *ns ? ns : "", ns && *ns ? "." : "", avro_schema_name(s));
    return buf;
}

/* ---- the reader schema's JSON: what avro-c drops ---- */

#define MAX_ENUMS 32

/* Enums defined so far, for a field that names one defined earlier. */
typedef struct enum_defaults {
    size_t n;
    const char *name[MAX_ENUMS];
    const char *dflt[MAX_ENUMS]; /* NULL: none */
} enum_defaults;

static const char *enum_default_of(json_t *type, enum_defaults *seen)
{
    if (json_is_array(type)) {
        for (size_t i = 0; i < json_array_size(type); i++) {
            const char *d = enum_default_of(json_array_get(type, i), seen);
            if (d)
                return d;
        }
        return NULL;
    }
    if (json_is_string(type)) {
        for (size_t i = 0; i < seen->n; i++)
            if (!strcmp(seen->name[i], json_string_value(type)))
                return seen->dflt[i];
        return NULL;
    }
    const char *kind = json_string_value(json_object_get(type, "type"));
    if (!kind || strcmp(kind, "enum"))
        return NULL;
    const char *d = json_string_value(json_object_get(type, "default"));
    if (seen->n < MAX_ENUMS) {
        seen->name[seen->n] = json_string_value(json_object_get(type, "name"));
        seen->dflt[seen->n++] = d;
        if (!seen->name[seen->n - 1])
            seen->n--;
    }
    return d;
}

static char *copy(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* A default as JSON text, for verdicts (json_dumps would allocate with
 * jansson's allocator, which the codec points at scratch memory). */
static char *default_text(json_t *v)
{
    char buf[160];
    if (json_is_string(v))
        snprintf(buf, sizeof buf, "\"%s\"", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, sizeof buf, "%s", json_is_true(v) ? "true" : "false");
    else
        snprintf(buf, sizeof buf, "%s", json_is_null(v) ? "null" : "(a JSON value)");
    return strdup(buf);
}

static int field_init(csm_reader_field *f, json_t *field, enum_defaults *seen)
{
    f->name = copy(json_string_value(json_object_get(field, "name")));
    json_t *dflt = json_object_get(field, "default");
    f->has_default = dflt != NULL;
    f->default_kind = DEFAULT_NULL;
    if (dflt) {
        f->default_json = default_text(dflt);
        if (json_is_string(dflt)) {
            f->default_kind = DEFAULT_STRING;
            f->default_string = copy(json_string_value(dflt));
        } else if (json_is_integer(dflt)) {
            f->default_kind = DEFAULT_INTEGER;
            f->default_integer = json_integer_value(dflt);
        } else if (!json_is_null(dflt)) {
            f->default_kind = DEFAULT_OTHER;
        }
    }
    f->enum_default = copy(enum_default_of(json_object_get(field, "type"), seen));
    return f->name && (!dflt || f->default_json) ? 0 : -1;
}

int csm_reader_schema_init(csm_reader_schema *r, avro_schema_t schema, const char *json, size_t len,
                           char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->schema = avro_schema_incref(schema);
    char name[256];
    r->full_name = strdup(csm_schema_full_name(schema, name, sizeof name));
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    json_t *fields = json_object_get(root, "fields");
    if (!json_is_array(fields) || json_array_size(fields) != avro_schema_record_size(schema)) {
        snprintf(err, errlen, "not a record schema with fields");
        json_decref(root);
        return -1;
    }
    r->n_fields = json_array_size(fields);
    r->fields = calloc(r->n_fields, sizeof *r->fields);
    enum_defaults seen = {0};
    int rc = r->fields && r->full_name ? 0 : -1;
    for (size_t i = 0; i < r->n_fields && !rc; i++)
        rc = field_init(&r->fields[i], json_array_get(fields, i), &seen);
    json_decref(root);
    if (rc)
        snprintf(err, errlen, "out of memory");
    return rc;
}

void csm_reader_schema_free(csm_reader_schema *r)
{
    for (size_t i = 0; r->fields && i < r->n_fields; i++) {
        free(r->fields[i].name);
        free(r->fields[i].default_json);
        free(r->fields[i].default_string);
        free(r->fields[i].enum_default);
    }
    free(r->fields);
    free(r->full_name);
    if (r->schema)
        avro_schema_decref(r->schema);
    memset(r, 0, sizeof *r);
}

const csm_reader_field *csm_reader_field_named(const csm_reader_schema *r, const char *name)
{
    for (size_t i = 0; i < r->n_fields && name; i++)
        if (r->fields[i].name && !strcmp(r->fields[i].name, name))
            return &r->fields[i];
    return NULL;
}

/* ---- resolution ---- */

__attribute__((format(printf, 2, 3))) static void refuse(csm_resolution *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->why, sizeof out->why, fmt, ap);
    va_end(ap);
    csm_one_line(out->why);
    out->compatible = 0;
}

__attribute__((format(printf, 2, 3))) static void note(csm_resolution *out, const char *fmt, ...)
{
    size_t used = strlen(out->why);
    if (used && used + 2 < sizeof out->why)
        used += (size_t)snprintf(out->why + used, sizeof out->why - used, "; ");
    if (used + 1 >= sizeof out->why)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->why + used, sizeof out->why - used, fmt, ap);
    va_end(ap);
}

/* The type a field's values have: X of a ["null", X] union, else itself. */
static avro_schema_t value_type(avro_schema_t s)
{
    s = csm_schema_unlinked(s);
    if (!is_avro_union(s))
        return s;
    for (size_t i = 0; i < avro_schema_union_size(s); i++) {
        avro_schema_t b = csm_schema_unlinked(avro_schema_union_branch(s, (int)i));
        if (!is_avro_null(b))
            return b;
    }
    return s;
}

/* avro-c's verdict on one field both schemas have; 0 when it can be read. */
static int judge(csm_resolution *out, const char *field, avro_schema_t w, avro_schema_t r)
{
    avro_set_error("%s", "");
    avro_value_iface_t *resolver = avro_resolved_writer_new(w, r);
    if (resolver) {
        avro_value_iface_decref(resolver);
        return 0;
    }
    char why[256];
    snprintf(why, sizeof why, "%s", avro_strerror());
    if (why[0] >= 'A' && why[0] <= 'Z')
        why[0] = (char)(why[0] - 'A' + 'a');
    refuse(out, "field %s: %s", field, why[0] ? why : "not compatible");
    return -1;
}

/* Branches of a writer union the reader field cannot take (avro-c lets
 * them be, as long as they never occur): their events are dead letters. */
static void note_lost_branches(csm_resolution *out, const csm_reader_field *rf, avro_schema_t w,
                               avro_schema_t r)
{
    w = csm_schema_unlinked(w);
    for (size_t b = 0; is_avro_union(w) && b < avro_schema_union_size(w); b++) {
        avro_schema_t branch = avro_schema_union_branch(w, (int)b);
        avro_value_iface_t *resolver = avro_resolved_writer_new(branch, r);
        if (resolver)
            avro_value_iface_decref(resolver);
        else
            note(out, "%s: the writer's %s values are dead-lettered", rf->name,
                 avro_schema_type_name(csm_schema_unlinked(branch)));
    }
    avro_set_error("%s", "");
}

/* What reading a compatible field does besides copying it. */
static void describe(csm_resolution *out, const csm_reader_field *rf, avro_schema_t w,
                     avro_schema_t r)
{
    note_lost_branches(out, rf, w, r);
    avro_schema_t wt = value_type(w), rt = value_type(r);
    if (is_avro_enum(wt) && is_avro_enum(rt)) {
        for (int k = 0; k < avro_schema_enum_number_of_symbols(wt); k++) {
            const char *symbol = avro_schema_enum_get(wt, k);
            if (avro_schema_enum_get_by_name(rt, symbol) >= 0)
                continue;
            if (rf->enum_default)
                note(out, "%s symbol %s read as %s (reader default)", rf->name, symbol,
                     rf->enum_default);
            else
                note(out,
                     "%s symbol %s unknown to the reader, no default: its events are dead-lettered",
                     rf->name, symbol);
        }
    } else if (is_avro_primitive(wt) && is_avro_primitive(rt) &&
               avro_typeof(wt) != avro_typeof(rt)) {
        note(out, "%s %s promoted to %s", rf->name, avro_schema_type_name(wt),
             avro_schema_type_name(rt));
    }
}

/* Field names for one note, so that a verdict stays short: "a, b". */
typedef struct names {
    size_t n;
    char text[384];
} names;

static void names_add(names *l, const char *name)
{
    size_t used = strlen(l->text);
    snprintf(l->text + used, sizeof l->text - used, "%s%s", l->n++ ? ", " : "", name);
}

/* "writer field x skipped", "writer fields x, y skipped" */
static void note_names(csm_resolution *out, const char *whose, const names *l, const char *what)
{
    if (l->n)
        note(out, "%s field%s %s %s", whose, l->n > 1 ? "s" : "", l->text, what);
}

static void writer_only(csm_resolution *out, const csm_reader_schema *r, avro_schema_t writer)
{
    names skipped = {0};
    for (size_t i = 0; i < avro_schema_record_size(writer); i++) {
        const char *field = avro_schema_record_field_name(writer, (int)i);
        if (!csm_reader_field_named(r, field))
            names_add(&skipped, field);
    }
    note_names(out, "writer", &skipped, "skipped");
}

/* Reader fields the writer lacks: their default, or a refusal. */
static int reader_only(csm_resolution *out, const csm_reader_schema *r, avro_schema_t writer)
{
    names null = {0};
    for (size_t i = 0; i < r->n_fields; i++) {
        const csm_reader_field *rf = &r->fields[i];
        if (avro_schema_record_field_get_index(writer, rf->name) < 0 && rf->has_default &&
            rf->default_kind == DEFAULT_NULL)
            names_add(&null, rf->name);
    }
    note_names(out, "reader", &null, "absent: default null");
    for (size_t i = 0; i < r->n_fields; i++) {
        const csm_reader_field *rf = &r->fields[i];
        if (avro_schema_record_field_get_index(writer, rf->name) >= 0)
            continue;
        if (!rf->has_default) {
            refuse(out, "reader field %s has no default and the writer has no such field",
                   rf->name);
            return -1;
        }
        if (rf->default_kind == DEFAULT_NULL)
            continue;
        note(out, "reader field %s absent: default %s", rf->name, rf->default_json);
        if (out->n_presets == CSM_RESOLVE_MAX_PRESETS) {
            refuse(out, "more than %d reader fields to fill with defaults",
                   CSM_RESOLVE_MAX_PRESETS);
            return -1;
        }
        out->presets[out->n_presets++] = rf;
    }
    return 0;
}

void csm_resolve(const csm_reader_schema *r, avro_schema_t writer, csm_resolution *out)
{
    memset(out, 0, sizeof *out);
    out->compatible = 1;
    writer = csm_schema_unlinked(writer);
    if (!is_avro_record(writer)) {
        refuse(out, "writer schema is a %s, not a record", avro_schema_type_name(writer));
        return;
    }
    char name[256];
    csm_schema_full_name(writer, name, sizeof name);
    if (strcmp(name, r->full_name)) {
        refuse(out, "writer record %s is not %s", name, r->full_name);
        out->other_record = 1;
        return;
    }
    writer_only(out, r, writer);
    if (reader_only(out, r, writer))
        return;
    for (size_t i = 0; i < r->n_fields; i++) {
        const csm_reader_field *rf = &r->fields[i];
        /* (avro_schema_record_field_get returns garbage for a name the
         * record lacks: its lookup's result is not checked) */
        int wi = avro_schema_record_field_get_index(writer, rf->name);
        if (wi < 0)
            continue;
        avro_schema_t w = avro_schema_record_field_get_by_index(writer, wi);
        avro_schema_t rs = avro_schema_record_field_get_by_index(r->schema, (int)i);
        if (judge(out, rf->name, w, rs))
            return;
        describe(out, rf, w, rs);
    }
}
