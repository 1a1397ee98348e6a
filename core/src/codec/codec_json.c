/* JSON Lines events (events.md): one plain JSON object per line with the
 * contract's field names, enums as symbol strings, null fields optional,
 * plus "stream": "chat" | "order". Unknown fields are ignored so that
 * test files may carry notes. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "codec_fields.h"
#include "scratch.h"

/* The members read: the contract's fields, then "stream". */
#define M_STREAM F_COUNT

/* The member a key names, or -1 (ignored: test files carry notes). */
static int member_of(const char *key)
{
    for (int f = 0; f < F_COUNT; f++)
        if (csm_field_names[f][0] == key[0] && !strcmp(csm_field_names[f], key))
            return f;
    return strcmp(key, "stream") ? -1 : M_STREAM;
}

typedef struct reader {
    json_t *v[M_STREAM + 1]; /* NULL: absent */
    csm_event_slot *slot;
    char *err;
    size_t errlen;
    int bad;
} reader;

static void fail(reader *r, const char *fmt, const char *field, const char *detail)
{
    if (r->bad)
        return;
    r->bad = 1;
    snprintf(r->err, r->errlen, fmt, field, detail);
}

static const char *get_string(reader *r, enum field m, int required)
{
    const char *field = csm_field_names[m];
    json_t *v = r->v[m];
    if (!v || json_is_null(v)) {
        if (required)
            fail(r, "missing field %s%s", field, "");
        return NULL;
    }
    if (!json_is_string(v)) {
        fail(r, "field %s: expected a string%s", field, "");
        return NULL;
    }
    char why[64];
    if (csm_text_check(json_string_value(v), json_string_length(v), why, sizeof why)) {
        fail(r, "field %s: %s", field, why);
        return NULL;
    }
    const char *s = csm_event_slot_strndup(r->slot, json_string_value(v), json_string_length(v));
    if (!s)
        fail(r, "event too large (field %s)%s", field, "");
    return s;
}

/* Returns the enum value, 0 (null) for an absent optional enum. */
static int get_enum(reader *r, enum field m, int required, int (*parse)(const char *))
{
    const char *field = csm_field_names[m];
    json_t *v = r->v[m];
    if (!v || json_is_null(v)) {
        if (required)
            fail(r, "missing field %s%s", field, "");
        return 0;
    }
    if (!json_is_string(v)) {
        fail(r, "field %s: expected an enum symbol string%s", field, "");
        return 0;
    }
    int e = parse(json_string_value(v));
    if (e < 0)
        fail(r, "bad enum value '%2$s' for field %1$s", field, json_string_value(v));
    return e < 0 ? 0 : e;
}

static int get_int(reader *r, enum field m, int required, int64_t *out)
{
    const char *field = csm_field_names[m];
    json_t *v = r->v[m];
    if (!v || json_is_null(v)) {
        if (required)
            fail(r, "missing field %s%s", field, "");
        return 0;
    }
    if (!json_is_integer(v)) {
        fail(r, "field %s: expected an integer%s", field, "");
        return 0;
    }
    *out = json_integer_value(v);
    return 1;
}

/* jansson's allocator for the whole process: the scratch functions, which
 * are malloc and free outside a scratch scope (cmd_report, config checks,
 * encoding…). */
static void install_allocator(void)
{
    json_set_alloc_funcs(csm_scratch_malloc, csm_scratch_free);
}

static int read_object(json_t *obj, csm_event_slot *out, char *err, size_t errlen);

/* The tree of a line is built, read into the slot and freed within a
 * scratch scope: no heap allocation per line. */
int csm_json_decode_line(const char *line, size_t len, csm_event_slot *out, char *err,
                         size_t errlen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_allocator);
    json_error_t jerr;
    int rc = -1;
    csm_scratch_enter();
    json_t *obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj)
        snprintf(err, errlen, "invalid JSON: %s (column %d)", jerr.text, jerr.column);
    else if (!json_is_object(obj))
        snprintf(err, errlen, "not a JSON object");
    else
        rc = read_object(obj, out, err, errlen);
    json_decref(obj);
    csm_scratch_leave();
    return rc;
}

static int read_object(json_t *obj, csm_event_slot *out, char *err, size_t errlen)
{
    /* One pass over the members instead of a hash lookup per field. */
    reader r = {.slot = out, .err = err, .errlen = errlen};
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        int m = member_of(key);
        if (m >= 0)
            r.v[m] = value;
    }
    const char *stream = json_string_value(r.v[M_STREAM]);
    csm_stream s;
    if (stream && !strcmp(stream, "chat"))
        s = CSM_STREAM_CHAT;
    else if (stream && !strcmp(stream, "order"))
        s = CSM_STREAM_ORDER;
    else {
        snprintf(err, errlen, "field stream: expected \"chat\" or \"order\"");
        return -1;
    }
    csm_event_slot_reset(out, s);
    csm_event *ev = &out->ev;
    ev->event_id = get_string(&r, F_EVENT_ID, 1);
    ev->platform = (csm_platform)get_enum(&r, F_PLATFORM, 1, csm_platform_parse);
    ev->shop_id = get_string(&r, F_SHOP_ID, 1);
    ev->customer_id = get_string(&r, F_CUSTOMER_ID, 1);
    int64_t v = 0;
    get_int(&r, F_TS, 1, &v);
    ev->ts = v;
    if (s == CSM_STREAM_CHAT) {
        csm_chat_fields *c = &ev->chat;
        c->type = (csm_chat_type)get_enum(&r, F_TYPE, 1, csm_chat_type_parse);
        c->sender = (csm_sender)get_enum(&r, F_SENDER, 0, csm_sender_parse);
        c->msg_kind = (csm_msg_kind)get_enum(&r, F_MSG_KIND, 0, csm_msg_kind_parse);
        c->entry = (csm_entry)get_enum(&r, F_ENTRY, 0, csm_entry_parse);
        c->agent_id = get_string(&r, F_AGENT_ID, 0);
        c->from_agent_id = get_string(&r, F_FROM_AGENT_ID, 0);
        c->group_id = get_string(&r, F_GROUP_ID, 0);
        c->order_id = get_string(&r, F_ORDER_ID, 0);
        c->intent = get_string(&r, F_INTENT, 0);
        c->reason = get_string(&r, F_REASON, 0);
        if (get_int(&r, F_STARS, 0, &v)) {
            if (v < INT32_MIN || v > INT32_MAX)
                fail(&r, "field %s: out of range%s", "stars", "");
            c->stars = (int32_t)v;
            c->has_stars = 1;
        }
    } else {
        csm_order_fields *o = &ev->order;
        o->type = (csm_order_type)get_enum(&r, F_TYPE, 1, csm_order_type_parse);
        o->order_id = get_string(&r, F_ORDER_ID, 1);
        if (get_int(&r, F_AMOUNT_CENTS, 0, &v)) {
            o->amount_cents = v;
            o->has_amount = 1;
        }
        o->refund_id = get_string(&r, F_REFUND_ID, 0);
        o->logistics_status = get_string(&r, F_LOGISTICS_STATUS, 0);
    }
    if (r.bad)
        return -1;
    return csm_event_validate(ev, err, errlen);
}

/* -1 when v is not UTF-8: JSON cannot carry it, and leaving the field out
 * would write a different event (found by tests/fuzz/fuzz_avro). */
static int set_str(json_t *o, const char *k, const char *v)
{
    if (!v)
        return 0;
    json_t *s = json_string(v);
    return s ? json_object_set_new(o, k, s) : -1;
}

long csm_json_encode(const csm_event *ev, char *buf, size_t cap)
{
    json_t *o = json_object();
    json_object_set_new(o, "stream", json_string(csm_stream_name(ev->stream)));
    int bad = set_str(o, "event_id", ev->event_id);
    bad |= set_str(o, "platform", csm_platform_name(ev->platform));
    bad |= set_str(o, "shop_id", ev->shop_id);
    bad |= set_str(o, "customer_id", ev->customer_id);
    json_object_set_new(o, "ts", json_integer(ev->ts));
    if (ev->stream == CSM_STREAM_CHAT) {
        const csm_chat_fields *c = &ev->chat;
        bad |= set_str(o, "type", csm_chat_type_name(c->type));
        bad |= set_str(o, "sender", csm_sender_name(c->sender));
        bad |= set_str(o, "msg_kind", csm_msg_kind_name(c->msg_kind));
        bad |= set_str(o, "agent_id", c->agent_id);
        bad |= set_str(o, "from_agent_id", c->from_agent_id);
        bad |= set_str(o, "group_id", c->group_id);
        bad |= set_str(o, "entry", csm_entry_name(c->entry));
        bad |= set_str(o, "order_id", c->order_id);
        bad |= set_str(o, "intent", c->intent);
        if (c->has_stars)
            json_object_set_new(o, "stars", json_integer(c->stars));
        bad |= set_str(o, "reason", c->reason);
    } else {
        const csm_order_fields *d = &ev->order;
        bad |= set_str(o, "order_id", d->order_id);
        bad |= set_str(o, "type", csm_order_type_name(d->type));
        if (d->has_amount)
            json_object_set_new(o, "amount_cents", json_integer(d->amount_cents));
        bad |= set_str(o, "refund_id", d->refund_id);
        bad |= set_str(o, "logistics_status", d->logistics_status);
    }
    size_t n = bad ? 0 : json_dumpb(o, buf, cap, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (n == 0 || n >= cap)
        return -1;
    buf[n] = 0;
    return (long)n;
}
