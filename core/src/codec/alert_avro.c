#include "alert_avro.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>

#include "codec.h"

struct csm_alert_avro {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t value;
};

/* Which record fields are nullable unions, longs or the platform enum;
 * the rest are plain strings. Indexed like csm_alert_rec::v. */
enum kind { STR, OPT_STR, OPT_LONG, LONG, ENUM };
static const enum kind kinds[CSM_ALERT_NFIELDS] = {[CSM_ALERT_TYPE] = STR,
                                                   [CSM_ALERT_SHOP_ID] = STR,
                                                   [CSM_ALERT_CUSTOMER_ID] = OPT_STR,
                                                   [CSM_ALERT_SESSION_OPEN_TS] = OPT_LONG,
                                                   [CSM_ALERT_AGENT_ID] = OPT_STR,
                                                   [CSM_ALERT_ANCHOR_TS] = LONG,
                                                   [CSM_ALERT_RAISED_TS] = LONG,
                                                   [CSM_ALERT_FIGURE] = LONG,
                                                   [CSM_ALERT_DAY] = STR,
                                                   [CSM_ALERT_PLATFORM] = ENUM};

csm_alert_avro *csm_alert_avro_new(const char *schema_dir, char *err, size_t errlen)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/alert.avsc", schema_dir ? schema_dir : ".");
    size_t len = 0;
    char *json = csm_slurp(path, &len);
    if (!json) {
        snprintf(err, errlen, "schema %s: %s", path, strerror(errno));
        return NULL;
    }
    csm_alert_avro *a = calloc(1, sizeof *a);
    if (!a)
        abort();
    int rc = avro_schema_from_json_length(json, len, &a->schema);
    free(json);
    if (rc || !(a->iface = avro_generic_class_from_schema(a->schema)) ||
        avro_generic_value_new(a->iface, &a->value)) {
        snprintf(err, errlen, "schema %s: %s", path, avro_strerror());
        csm_alert_avro_free(a);
        return NULL;
    }
    /* The record must have our fields in our order. */
    for (int i = 0; i < CSM_ALERT_NFIELDS; i++) {
        const char *name = avro_schema_record_field_name(a->schema, i);
        if (!name || strcmp(name, csm_alert_field_names[i])) {
            snprintf(err, errlen, "schema %s: field %d is not '%s'", path, i,
                     csm_alert_field_names[i]);
            csm_alert_avro_free(a);
            return NULL;
        }
    }
    return a;
}

void csm_alert_avro_free(csm_alert_avro *a)
{
    if (!a)
        return;
    if (a->iface) {
        avro_value_decref(&a->value);
        avro_value_iface_decref(a->iface);
    }
    if (a->schema)
        avro_schema_decref(a->schema);
    free(a);
}

static int parse_long(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

static int set_field(avro_value_t *field, enum kind k, const char *s)
{
    avro_value_t branch;
    int64_t n;
    switch (k) {
    case STR:
        return avro_value_set_string(field, s);
    case OPT_STR:
        if (!*s)
            return avro_value_set_branch(field, 0, &branch) || avro_value_set_null(&branch);
        return avro_value_set_branch(field, 1, &branch) || avro_value_set_string(&branch, s);
    case OPT_LONG:
        if (!*s)
            return avro_value_set_branch(field, 0, &branch) || avro_value_set_null(&branch);
        return parse_long(s, &n) || avro_value_set_branch(field, 1, &branch) ||
               avro_value_set_long(&branch, n);
    case LONG:
        return parse_long(s, &n) || avro_value_set_long(field, n);
    case ENUM: {
        int sym = avro_schema_enum_get_by_name(avro_value_get_schema(field), s);
        return sym < 0 || avro_value_set_enum(field, sym);
    }
    }
    return -1;
}

long csm_alert_avro_encode(csm_alert_avro *a, const csm_alert_rec *rec, int32_t schema_id,
                           void *buf, size_t cap)
{
    avro_value_reset(&a->value);
    for (int i = 0; i < CSM_ALERT_NFIELDS; i++) {
        avro_value_t field;
        if (avro_value_get_by_index(&a->value, (size_t)i, &field, NULL) ||
            set_field(&field, kinds[i], rec->v[i] ? rec->v[i] : ""))
            return -1;
    }
    size_t head = schema_id >= 0 ? 5 : 0;
    if (cap < head)
        return -1;
    if (head) {
        uint8_t *p = buf;
        p[0] = 0;
        p[1] = (uint8_t)((uint32_t)schema_id >> 24);
        p[2] = (uint8_t)((uint32_t)schema_id >> 16);
        p[3] = (uint8_t)((uint32_t)schema_id >> 8);
        p[4] = (uint8_t)schema_id;
    }
    avro_writer_t w = avro_writer_memory((char *)buf + head, (int64_t)(cap - head));
    int rc = avro_value_write(w, &a->value);
    long n = rc ? -1 : (long)(head + (size_t)avro_writer_tell(w));
    avro_writer_free(w);
    return n;
}

static char *dup_long(int64_t v)
{
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)v);
    return strdup(num);
}

static char *get_field(avro_value_t *field, enum kind k)
{
    avro_value_t v = *field;
    if (k == OPT_STR || k == OPT_LONG) {
        if (avro_value_get_current_branch(field, &v))
            return NULL;
        if (avro_value_get_type(&v) == AVRO_NULL)
            return strdup("");
    }
    const char *s;
    size_t size;
    int64_t n;
    int sym;
    switch (k) {
    case STR:
    case OPT_STR:
        return avro_value_get_string(&v, &s, &size) ? NULL : strndup(s, size ? size - 1 : 0);
    case LONG:
    case OPT_LONG:
        return avro_value_get_long(&v, &n) ? NULL : dup_long(n);
    case ENUM:
        if (avro_value_get_enum(&v, &sym))
            return NULL;
        s = avro_schema_enum_get(avro_value_get_schema(&v), sym);
        return s ? strdup(s) : NULL;
    }
    return NULL;
}

int csm_alert_avro_decode(csm_alert_avro *a, const void *buf, size_t len, csm_alert_rec *rec)
{
    memset(rec, 0, sizeof *rec);
    if (len >= 5 && ((const uint8_t *)buf)[0] == 0) {
        buf = (const uint8_t *)buf + 5; /* Confluent framing */
        len -= 5;
    }
    avro_reader_t r = avro_reader_memory(buf, (int64_t)len);
    avro_value_reset(&a->value);
    int rc = avro_value_read(r, &a->value);
    avro_reader_free(r);
    for (int i = 0; !rc && i < CSM_ALERT_NFIELDS; i++) {
        avro_value_t field;
        if (avro_value_get_by_index(&a->value, (size_t)i, &field, NULL) ||
            !(rec->v[i] = get_field(&field, kinds[i])))
            rc = -1;
    }
    if (rc)
        csm_alert_rec_clear(rec);
    return rc ? -1 : 0;
}
