/* Writer schemas other than ours, as a producer team would evolve them,
 * and messages written with them through avro-c's generic values (not the
 * codec's encoder, which only writes our own schemas). The JSON is written
 * with ' for " (wjson() turns it into JSON). Include in one file of a test
 * program, after <cmocka.h>. */
#ifndef CSM_TEST_WRITER_SCHEMAS_H
#define CSM_TEST_WRITER_SCHEMAS_H

#include <avro.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- schema pieces: the fields of our reader schemas as written in v1 ---- */

#define W_EVENT_ID "{'name':'event_id','type':'string'}"
#define W_PLATFORM                                                                                 \
    "{'name':'platform','type':{'type':'enum','name':'Platform','symbols':['DOUYIN','TAOBAO',"     \
    "'TMALL','PINDUODUO','JD','OTHER']}}"
#define W_SHOP_ID "{'name':'shop_id','type':'string'}"
#define W_CUSTOMER_ID "{'name':'customer_id','type':'string'}"
#define W_TS "{'name':'ts','type':'long'}"
#define W_CHAT_TYPE_SYMBOLS                                                                        \
    "'MESSAGE','HUMAN_REQUESTED','ASSIGNED','TRANSFERRED','OFFLINE_MESSAGE','SESSION_CLOSED',"     \
    "'RATING_INVITED','RATED','AGENT_STATUS'"
#define W_CHAT_TYPE                                                                                \
    "{'name':'type','type':{'type':'enum','name':'ChatEventType','symbols':[" W_CHAT_TYPE_SYMBOLS  \
    "]}}"
#define W_SENDER                                                                                   \
    "{'name':'sender','type':['null',{'type':'enum','name':'Sender','symbols':['CUSTOMER','AGENT'" \
    ","                                                                                            \
    "'ROBOT','SYSTEM']}],'default':null}"
#define W_MSG_KIND_OF(symbols)                                                                     \
    "{'name':'msg_kind','type':['null',{'type':'enum','name':'MsgKind','symbols':[" symbols        \
    "]}],'default':null}"
#define W_MSG_KIND                                                                                 \
    W_MSG_KIND_OF("'TEXT','IMAGE','VIDEO','EMOJI','PRODUCT_CARD','ORDER_CARD','WELCOME',"          \
                  "'AUTO_REPLY','RATING_CARD','OTHER'")
#define W_OPTIONAL(name) "{'name':'" name "','type':['null','string'],'default':null}"
#define W_ENTRY_SYMBOLS                                                                            \
    "'PRODUCT_PAGE','ORDER_PAGE','LIVE_ROOM','MESSAGE_LIST','OFFLINE_RECALL','MERCHANT_INITIATED'"
#define W_ENTRY                                                                                    \
    "{'name':'entry','type':['null',{'type':'enum','name':'Entry','symbols':[" W_ENTRY_SYMBOLS     \
    "]}],'default':null}"
#define W_STARS "{'name':'stars','type':['null','int'],'default':null}"
#define W_CHAT(fields)                                                                             \
    "{'type':'record','name':'ChatEvent','namespace':'csmetrics','fields':[" fields "]}"

#define W_ORDER_TYPE                                                                               \
    "{'name':'type','type':{'type':'enum','name':'OrderEventType','symbols':['CREATED','PAID',"    \
    "'SHIPPED','DELIVERED','COMPLETED','CLOSED','REFUND_REQUESTED','REFUND_COMPLETED',"            \
    "'REFUND_REJECTED','REFUND_CANCELLED','PLATFORM_CONSULTED','DISPUTE_OPENED',"                  \
    "'COMPLAINT_INTERVENED','LOGISTICS_UPDATE']}}"
#define W_ORDER(fields)                                                                            \
    "{'type':'record','name':'OrderEvent','namespace':'csmetrics','fields':[" fields "]}"

#define W_CHAT_HEAD W_EVENT_ID "," W_PLATFORM "," W_SHOP_ID "," W_CUSTOMER_ID "," W_TS
#define W_CHAT_TAIL                                                                                \
    W_SENDER "," W_MSG_KIND "," W_OPTIONAL("agent_id") "," W_OPTIONAL(                             \
        "from_agent_id") "," W_OPTIONAL("group_id") "," W_ENTRY                                    \
                                                    "," W_OPTIONAL("order_id") "," W_OPTIONAL(     \
                                                        "intent") "," W_STARS                      \
                                                                  "," W_OPTIONAL("reason")
/* v1: what schemas/chat_event.avsc was before enum defaults. */
#define W_CHAT_V1 W_CHAT(W_CHAT_HEAD "," W_CHAT_TYPE "," W_CHAT_TAIL)

/* v2 of the chat stream: msg_kind gained LIVE_CARD (in the middle, so
 * that symbols are matched by name, not by index), group_id dropped, an
 * optional channel added. */
#define W_CHAT_V2                                                                                                                                    \
    W_CHAT(W_CHAT_HEAD "," W_CHAT_TYPE "," W_SENDER "," W_MSG_KIND_OF(                                                                               \
        "'TEXT','IMAGE','LIVE_CARD','VIDEO','EMOJI',"                                                                                                \
        "'PRODUCT_CARD','ORDER_CARD','WELCOME',"                                                                                                     \
        "'AUTO_REPLY','RATING_CARD','OTHER'") "," W_OPTIONAL("agent_id") "," W_OPTIONAL("from_"                                                      \
                                                                                        "agent_"                                                     \
                                                                                        "id") "," W_ENTRY                                            \
                                                                                              "," W_OPTIONAL("order_id") "," W_OPTIONAL(             \
                                                                                                  "intent") "," W_STARS                              \
                                                                                                            "," W_OPTIONAL("reason") "," W_OPTIONAL( \
                                                                                                                "channel"))

/* JSON text of a schema written with ' for " (a static buffer). */
static inline const char *wjson(const char *s)
{
    static char buf[4096];
    size_t n = strlen(s);
    assert_true(n < sizeof buf);
    for (size_t i = 0; i <= n; i++)
        buf[i] = s[i] == '\'' ? '"' : s[i];
    return buf;
}

/* ---- messages of a writer schema ---- */

typedef struct wmsg {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t rec;
} wmsg;

static inline void wmsg_open(wmsg *m, const char *schema)
{
    const char *json = wjson(schema);
    if (avro_schema_from_json_length(json, strlen(json), &m->schema))
        fail_msg("writer schema: %s", avro_strerror());
    m->iface = avro_generic_class_from_schema(m->schema);
    assert_non_null(m->iface);
    assert_int_equal(avro_generic_value_new(m->iface, &m->rec), 0);
}

static inline void wmsg_close(wmsg *m)
{
    avro_value_decref(&m->rec);
    avro_value_iface_decref(m->iface);
    avro_schema_decref(m->schema);
}

/* Every optional field null: what a record starts as. */
static inline void wmsg_reset(wmsg *m)
{
    avro_value_reset(&m->rec);
    size_t n = 0;
    avro_value_get_size(&m->rec, &n);
    for (size_t i = 0; i < n; i++) {
        avro_value_t f, branch;
        avro_value_get_by_index(&m->rec, i, &f, NULL);
        if (avro_value_get_type(&f) == AVRO_UNION) {
            assert_int_equal(avro_value_set_branch(&f, 0, &branch), 0);
            avro_value_set_null(&branch);
        }
    }
}

/* Field @p name as a value of type @p t (through its union's branch). */
static inline avro_value_t wmsg_field(wmsg *m, const char *name, avro_type_t t)
{
    avro_value_t f, branch;
    if (avro_value_get_by_name(&m->rec, name, &f, NULL))
        fail_msg("writer has no field %s", name);
    if (avro_value_get_type(&f) != AVRO_UNION)
        return f;
    avro_schema_t u = avro_value_get_schema(&f);
    for (size_t b = 0; b < avro_schema_union_size(u); b++) {
        avro_type_t bt = avro_typeof(avro_schema_union_branch(u, (int)b));
        if (bt == t || (t == AVRO_INT64 && bt == AVRO_INT32)) {
            assert_int_equal(avro_value_set_branch(&f, (int)b, &branch), 0);
            return branch;
        }
    }
    fail_msg("field %s has no %d branch", name, (int)t);
    return f;
}

static inline void wmsg_string(wmsg *m, const char *name, const char *s)
{
    avro_value_t v = wmsg_field(m, name, AVRO_STRING);
    assert_int_equal(avro_value_set_string(&v, s), 0);
}

static inline void wmsg_enum(wmsg *m, const char *name, const char *symbol)
{
    avro_value_t v = wmsg_field(m, name, AVRO_ENUM);
    int index = avro_schema_enum_get_by_name(avro_value_get_schema(&v), symbol);
    assert_true(index >= 0);
    assert_int_equal(avro_value_set_enum(&v, index), 0);
}

static inline void wmsg_number(wmsg *m, const char *name, int64_t n)
{
    avro_value_t v = wmsg_field(m, name, AVRO_INT64);
    if (avro_value_get_type(&v) == AVRO_INT32)
        assert_int_equal(avro_value_set_int(&v, (int32_t)n), 0);
    else
        assert_int_equal(avro_value_set_long(&v, n), 0);
}

/* The fields every event has. */
static inline void wmsg_head(wmsg *m, const char *event_id, const char *platform, int64_t ts,
                             const char *type)
{
    wmsg_reset(m);
    wmsg_string(m, "event_id", event_id);
    wmsg_enum(m, "platform", platform);
    avro_value_t shop;
    if (!avro_value_get_by_name(&m->rec, "shop_id", &shop, NULL)) /* v3 dropped it */
        wmsg_string(m, "shop_id", "s1");
    wmsg_string(m, "customer_id", "c1");
    wmsg_number(m, "ts", ts);
    wmsg_enum(m, "type", type);
}

/* The record, Confluent-framed with @p id, into buf; its length. */
static inline size_t wmsg_write(wmsg *m, int32_t id, unsigned char *buf, size_t cap)
{
    buf[0] = 0;
    buf[1] = (unsigned char)(id >> 24);
    buf[2] = (unsigned char)(id >> 16);
    buf[3] = (unsigned char)(id >> 8);
    buf[4] = (unsigned char)id;
    avro_writer_t w = avro_writer_memory((char *)buf + 5, (int64_t)(cap - 5));
    if (avro_value_write(w, &m->rec))
        fail_msg("write: %s", avro_strerror());
    size_t n = 5 + (size_t)avro_writer_tell(w);
    avro_writer_free(w);
    return n;
}

#endif
