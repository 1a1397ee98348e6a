#include "event_slot.h"

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

/* Pointers into src's arena keep their offset in dst's arena. */
static const char *rebase(const csm_event_slot *src, csm_event_slot *dst, const char *p)
{
    if (!p)
        return NULL;
    if (p >= src->arena && p < src->arena + sizeof src->arena)
        return dst->arena + (p - src->arena);
    return p;
}

void csm_event_slot_copy(csm_event_slot *dst, const csm_event_slot *src)
{
    memcpy(dst->arena, src->arena, src->used);
    dst->used = src->used;
    dst->ev = src->ev;
    csm_event *e = &dst->ev;
    e->event_id = rebase(src, dst, e->event_id);
    e->shop_id = rebase(src, dst, e->shop_id);
    e->customer_id = rebase(src, dst, e->customer_id);
    e->chat.agent_id = rebase(src, dst, e->chat.agent_id);
    e->chat.from_agent_id = rebase(src, dst, e->chat.from_agent_id);
    e->chat.group_id = rebase(src, dst, e->chat.group_id);
    e->chat.order_id = rebase(src, dst, e->chat.order_id);
    e->chat.intent = rebase(src, dst, e->chat.intent);
    e->chat.reason = rebase(src, dst, e->chat.reason);
    e->order.order_id = rebase(src, dst, e->order.order_id);
    e->order.refund_id = rebase(src, dst, e->order.refund_id);
    e->order.logistics_status = rebase(src, dst, e->order.logistics_status);
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

static int require(const char *value, const char *field, char *err, size_t errlen)
{
    if (value && *value)
        return 0;
    snprintf(err, errlen, "missing field %s", field);
    return -1;
}

int csm_event_validate(const csm_event *ev, char *err, size_t errlen)
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
