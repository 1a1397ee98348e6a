#include "event_slot.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

void csm_event_slot_reset(csm_event_slot *s, csm_stream stream)
{
    memset(&s->ev, 0, sizeof s->ev);
    s->ev.struct_size = sizeof s->ev;
    s->ev.stream = stream;
    s->used = 0;
}

const char *csm_event_slot_strndup(csm_event_slot *s, const char *str, size_t n)
{
    if (n + 1 > sizeof s->arena - s->used)
        return NULL;
    char *dst = s->arena + s->used;
    memcpy(dst, str, n);
    dst[n] = 0;
    s->used += n + 1;
    return dst;
}

const char *csm_event_slot_strdup(csm_event_slot *s, const char *str)
{
    return csm_event_slot_strndup(s, str, strlen(str));
}

/* Where csm_event keeps its strings. */
static const size_t string_fields[] = {
    offsetof(csm_event, event_id),           offsetof(csm_event, shop_id),
    offsetof(csm_event, customer_id),        offsetof(csm_event, chat.agent_id),
    offsetof(csm_event, chat.from_agent_id), offsetof(csm_event, chat.group_id),
    offsetof(csm_event, chat.order_id),      offsetof(csm_event, chat.intent),
    offsetof(csm_event, chat.reason),        offsetof(csm_event, order.order_id),
    offsetof(csm_event, order.refund_id),    offsetof(csm_event, order.logistics_status)};
#define N_STRING_FIELDS (sizeof string_fields / sizeof *string_fields)

static const char **field(csm_event *ev, size_t i)
{
    return (const char **)((char *)ev + string_fields[i]);
}

static const char *field_of(const csm_event *ev, size_t i)
{
    return *(const char *const *)((const char *)ev + string_fields[i]);
}

size_t csm_event_strings_size(const csm_event *ev)
{
    size_t n = 0;
    for (size_t i = 0; i < N_STRING_FIELDS; i++) {
        const char *s = field_of(ev, i);
        n += s ? strlen(s) + 1 : 0;
    }
    return n;
}

void csm_event_pack(csm_event *dst, char *str, const csm_event *src)
{
    *dst = *src;
    dst->struct_size = sizeof *dst;
    for (size_t i = 0; i < N_STRING_FIELDS; i++) {
        const char *s = field_of(src, i);
        if (!s)
            continue;
        size_t len = strlen(s) + 1;
        memcpy(str, s, len);
        *field(dst, i) = str;
        str += len;
    }
}

/* Pointers into src's arena keep their offset in dst's arena. */
void csm_event_slot_copy(csm_event_slot *dst, const csm_event_slot *src)
{
    memcpy(dst->arena, src->arena, src->used);
    dst->used = src->used;
    dst->ev = src->ev;
    for (size_t i = 0; i < N_STRING_FIELDS; i++) {
        const char *p = field_of(&src->ev, i);
        if (p && p >= src->arena && p < src->arena + sizeof src->arena)
            *field(&dst->ev, i) = dst->arena + (p - src->arena);
    }
}

/* Symbol tables in schema order (schemas/); index 0 of a nullable
 * enum is null, so its table starts at the enum's value 1. */
static const char *const platforms[] = {"DOUYIN", "TAOBAO", "TMALL", "PINDUODUO", "JD", "OTHER"};
static const char *const chat_types[] = {"MESSAGE",        "HUMAN_REQUESTED", "ASSIGNED",
                                         "TRANSFERRED",    "OFFLINE_MESSAGE", "SESSION_CLOSED",
                                         "RATING_INVITED", "RATED",           "AGENT_STATUS"};
static const char *const senders[] = {"CUSTOMER", "AGENT", "ROBOT", "SYSTEM"};
static const char *const msg_kinds[] = {"TEXT",         "IMAGE",      "VIDEO",   "EMOJI",
                                        "PRODUCT_CARD", "ORDER_CARD", "WELCOME", "AUTO_REPLY",
                                        "RATING_CARD",  "OTHER"};
static const char *const entries[] = {"PRODUCT_PAGE", "ORDER_PAGE",     "LIVE_ROOM",
                                      "MESSAGE_LIST", "OFFLINE_RECALL", "MERCHANT_INITIATED"};
static const char *const order_types[] = {"CREATED",
                                          "PAID",
                                          "SHIPPED",
                                          "DELIVERED",
                                          "COMPLETED",
                                          "CLOSED",
                                          "REFUND_REQUESTED",
                                          "REFUND_COMPLETED",
                                          "REFUND_REJECTED",
                                          "REFUND_CANCELLED",
                                          "PLATFORM_CONSULTED",
                                          "DISPUTE_OPENED",
                                          "COMPLAINT_INTERVENED",
                                          "LOGISTICS_UPDATE"};

#define COUNT(a) ((int)(sizeof a / sizeof *a))

static const char *name_of(const char *const *table, int n, int v)
{
    return v >= 0 && v < n ? table[v] : NULL;
}

static int parse_in(const char *const *table, int n, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < n; i++)
        if (!strcmp(table[i], s))
            return i;
    return -1;
}

const char *csm_stream_name(csm_stream s)
{
    return s == CSM_STREAM_ORDER ? "order" : "chat";
}

const char *csm_platform_name(csm_platform p)
{
    return name_of(platforms, COUNT(platforms), p);
}
const char *csm_chat_type_name(csm_chat_type t)
{
    return name_of(chat_types, COUNT(chat_types), t);
}
const char *csm_sender_name(csm_sender s)
{
    return name_of(senders, COUNT(senders), s - 1);
}
const char *csm_msg_kind_name(csm_msg_kind k)
{
    return name_of(msg_kinds, COUNT(msg_kinds), k - 1);
}
const char *csm_entry_name(csm_entry e)
{
    return name_of(entries, COUNT(entries), e - 1);
}
const char *csm_order_type_name(csm_order_type t)
{
    return name_of(order_types, COUNT(order_types), t);
}

int csm_platform_parse(const char *s)
{
    return parse_in(platforms, COUNT(platforms), s);
}
int csm_chat_type_parse(const char *s)
{
    return parse_in(chat_types, COUNT(chat_types), s);
}
int csm_order_type_parse(const char *s)
{
    return parse_in(order_types, COUNT(order_types), s);
}

static int parse_nullable(const char *const *table, int n, const char *s)
{
    int v = parse_in(table, n, s);
    return v < 0 ? -1 : v + 1;
}

int csm_sender_parse(const char *s)
{
    return parse_nullable(senders, COUNT(senders), s);
}
int csm_msg_kind_parse(const char *s)
{
    return parse_nullable(msg_kinds, COUNT(msg_kinds), s);
}
int csm_entry_parse(const char *s)
{
    return parse_nullable(entries, COUNT(entries), s);
}

/* Length of the UTF-8 sequence led by byte c, 0 if c cannot lead one;
 * *min is the smallest code point that length may encode. */
static int utf8_lead(unsigned char c, uint32_t *cp, uint32_t *min)
{
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        *cp = c & 0x1f;
        *min = 0x80;
        return 2;
    }
    if (c >= 0xe0 && c <= 0xef) {
        *cp = c & 0x0f;
        *min = 0x800;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        *cp = c & 0x07;
        *min = 0x10000;
        return 4;
    }
    return 0;
}

/* Bytes of the valid sequence at s[i], or 0. */
static size_t utf8_sequence(const unsigned char *s, size_t n, size_t i)
{
    uint32_t cp = 0, min = 0;
    size_t len = (size_t)utf8_lead(s[i], &cp, &min);
    if (len == 0 || len > n - i)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[i + k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i + k] & 0x3f);
    }
    if (len > 1 && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)))
        return 0;
    return len;
}

int csm_text_check(const char *s, size_t n, char *why, size_t whylen)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (u[i] >= 0x01 && u[i] <= 0x7f) { /* ids are ASCII: one compare a byte */
            i++;
            continue;
        }
        if (u[i] == 0) {
            snprintf(why, whylen, "NUL byte at %zu", i);
            return -1;
        }
        size_t len = utf8_sequence(u, n, i);
        if (!len) {
            snprintf(why, whylen, "not valid UTF-8 at %zu", i);
            return -1;
        }
        i += len;
    }
    return 0;
}

static int require(const char *value, const char *field, char *err, size_t errlen)
{
    if (value && *value)
        return 0;
    snprintf(err, errlen, "missing field %s", field);
    return -1;
}

/* The first byte of an id that is neither printable ASCII nor allowed
 * (a brace in a hash-tag id), or n. Bytes from 0x80 on: @p ascii 0 lets
 * them pass (they are checked as UTF-8 apart), 1 stops at them. */
static size_t id_scan(const char *id, size_t n, int hash_tag, int ascii)
{
    size_t i = 0;
    while (i < n && (unsigned char)id[i] >= 0x20 && id[i] != 0x7f &&
           !(ascii && ((unsigned char)id[i] & 0x80)) &&
           !(hash_tag && (id[i] == '{' || id[i] == '}')))
        i++;
    return i;
}

/* The id rules of docs/formats.md for one id; NULL (absent) passes. */
static int check_id(const char *id, const char *field, int hash_tag, char *err, size_t errlen)
{
    if (!id)
        return 0;
    size_t n = strlen(id);
    char why[64];
    /* Printable ASCII passes every rule: one pass, no UTF-8 check. */
    if (n > 0 && n <= CSM_ID_MAX_BYTES && id_scan(id, n, hash_tag, 1) == n)
        return 0;
    if (n == 0)
        snprintf(why, sizeof why, "empty");
    else if (n > CSM_ID_MAX_BYTES)
        snprintf(why, sizeof why, "longer than %d bytes", CSM_ID_MAX_BYTES);
    else if (csm_text_check(id, n, why, sizeof why) == 0) {
        size_t i = id_scan(id, n, hash_tag, 0);
        if (i == n)
            return 0;
        if (id[i] == '{' || id[i] == '}')
            snprintf(why, sizeof why, "'%c' not allowed", id[i]);
        else
            snprintf(why, sizeof why, "control character at %zu", i);
    }
    snprintf(err, errlen, "field %s: %s", field, why);
    return -1;
}

static int check_ids(const csm_event *ev, char *err, size_t errlen)
{
    const csm_chat_fields *c = &ev->chat;
    const csm_order_fields *o = &ev->order;
    struct {
        const char *value, *name;
    } ids[6] = {{ev->event_id, "event_id"}, {ev->customer_id, "customer_id"}};
    size_t n = 2;
    if (ev->stream == CSM_STREAM_CHAT) {
        ids[n].value = c->agent_id, ids[n++].name = "agent_id";
        ids[n].value = c->from_agent_id, ids[n++].name = "from_agent_id";
        ids[n].value = c->group_id, ids[n++].name = "group_id";
        ids[n].value = c->order_id, ids[n++].name = "order_id";
    } else {
        ids[n].value = o->order_id, ids[n++].name = "order_id";
        ids[n].value = o->refund_id, ids[n++].name = "refund_id";
    }
    if (check_id(ev->shop_id, "shop_id", 1, err, errlen))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (check_id(ids[i].value, ids[i].name, 0, err, errlen))
            return -1;
    return 0;
}

static int check_contract(const csm_event *ev, char *err, size_t errlen)
{
    if (ev->stream != CSM_STREAM_CHAT && ev->stream != CSM_STREAM_ORDER) {
        snprintf(err, errlen, "unknown stream %d", (int)ev->stream);
        return -1;
    }
    if (require(ev->event_id, "event_id", err, errlen) ||
        require(ev->shop_id, "shop_id", err, errlen) ||
        require(ev->customer_id, "customer_id", err, errlen))
        return -1;
    if ((unsigned)ev->platform >= CSM_PLATFORM_COUNT) {
        snprintf(err, errlen, "bad enum value %d for field platform", (int)ev->platform);
        return -1;
    }
    if (ev->stream == CSM_STREAM_ORDER) {
        if ((unsigned)ev->order.type >= CSM_ORDER_TYPE_COUNT) {
            snprintf(err, errlen, "bad enum value %d for field type", (int)ev->order.type);
            return -1;
        }
        return require(ev->order.order_id, "order_id", err, errlen);
    }
    const csm_chat_fields *c = &ev->chat;
    struct {
        unsigned value, count;
        const char *name;
    } enums[] = {{c->type, CSM_CHAT_TYPE_COUNT, "type"},
                 {c->sender, CSM_SENDER_COUNT, "sender"},
                 {c->msg_kind, CSM_MSG_COUNT, "msg_kind"},
                 {c->entry, CSM_ENTRY_COUNT, "entry"}};
    for (size_t i = 0; i < sizeof enums / sizeof *enums; i++)
        if (enums[i].value >= enums[i].count) {
            snprintf(err, errlen, "bad enum value %u for field %s", enums[i].value, enums[i].name);
            return -1;
        }
    return 0;
}

int csm_event_validate(const csm_event *ev, char *err, size_t errlen)
{
    return check_contract(ev, err, errlen) || check_ids(ev, err, errlen) ? -1 : 0;
}
