/* Writer schemas by Confluent id, resolved to our reader schemas
 * (codec.h, "writer schemas by id"): what decodes and how, what is refused
 * and why, ids the codec must ask for or does not know, and the bound on
 * the ids it keeps. Messages are written with avro-c's generic values of
 * each WRITER schema; the expected values follow from the schemas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "codec.h"

#include "../support/writer_schemas.h"

/* 2026-11-20T10:00:00.123+08:00 */
#define TS 1795140000123LL

static csm_codec *codec_in(const char *dir)
{
    char err[512];
    csm_codec *c = csm_codec_new(dir, err, sizeof err);
    if (!c)
        fail_msg("codec: %s", err);
    csm_codec_map_schema_id(c, 17, CSM_STREAM_CHAT);
    csm_codec_map_schema_id(c, 18, CSM_STREAM_ORDER);
    return c;
}

static csm_codec *codec(void)
{
    return codec_in(getenv("CSM_SCHEMA_DIR"));
}

static void add(csm_codec *c, int32_t id, const char *schema)
{
    char why[512];
    const char *json = wjson(schema);
    if (csm_codec_add_writer_schema(c, id, json, strlen(json), why, sizeof why))
        fail_msg("add %d: %s", id, why);
}

static void verdict_is(csm_codec *c, int32_t id, csm_stream s, int compatible, const char *why)
{
    csm_schema_verdict v;
    csm_codec_schema_verdict(c, id, s, &v);
    assert_int_equal(v.known, 1);
    assert_int_equal(v.compatible, compatible);
    assert_string_equal(v.why, why);
}

static int decode(csm_codec *c, csm_stream s, const unsigned char *buf, size_t n,
                  csm_event_slot *out, char *err)
{
    err[0] = 0;
    return csm_codec_decode(c, s, CSM_FRAMING_AUTO, buf, n, out, err, 256);
}

/* Our own schema files, with the enum defaults and "version" avro-c's
 * parser does not keep, read as a writer's: nothing to resolve. */
static void reader_schema_as_writer_is_identity(void **state)
{
    csm_codec *c = codec();
    static const char *files[2] = {"chat_event.avsc", "order_event.avsc"};
    for (int s = 0; s < 2; s++) {
        char path[1024], why[512];
        snprintf(path, sizeof path, "%s/%s", getenv("CSM_SCHEMA_DIR"), files[s]);
        size_t len = 0;
        char *json = csm_slurp(path, &len);
        assert_non_null(json);
        assert_non_null(strstr(json, "\"default\": \"OTHER\""));
        assert_non_null(strstr(json, "\"version\": 2"));
        assert_int_equal(csm_codec_add_writer_schema(c, 30 + s, json, len, why, sizeof why), 0);
        free(json);
        verdict_is(c, 30 + s, (csm_stream)s, 1, "");
    }
    csm_codec_free(c);
}

static void v2_decodes_by_name_with_defaults(void **state)
{
    csm_codec *c = codec();
    add(c, 21, W_CHAT_V2);
    verdict_is(c, 21, CSM_STREAM_CHAT, 1,
               "writer field channel skipped; reader field group_id absent: default null; "
               "msg_kind symbol LIVE_CARD read as OTHER (reader default)");

    wmsg m;
    wmsg_open(&m, W_CHAT_V2);
    wmsg_head(&m, "e-live", "TMALL", TS, "MESSAGE");
    wmsg_enum(&m, "sender", "CUSTOMER");
    wmsg_enum(&m, "msg_kind", "LIVE_CARD");
    wmsg_string(&m, "agent_id", "a1");
    wmsg_enum(&m, "entry", "LIVE_ROOM");
    wmsg_number(&m, "stars", 5);
    wmsg_string(&m, "channel", "app");
    unsigned char buf[1024];
    size_t n = wmsg_write(&m, 21, buf, sizeof buf);
    csm_event_slot out;
    char err[256];
    if (decode(c, CSM_STREAM_CHAT, buf, n, &out, err))
        fail_msg("v2: %s", err);
    const csm_event *ev = &out.ev;
    assert_int_equal(ev->stream, CSM_STREAM_CHAT);
    assert_string_equal(ev->event_id, "e-live");
    assert_int_equal(ev->platform, CSM_PLATFORM_TMALL);
    assert_string_equal(ev->shop_id, "s1");
    assert_string_equal(ev->customer_id, "c1");
    assert_int_equal(ev->ts, TS);
    assert_int_equal(ev->chat.type, CSM_CHAT_MESSAGE);
    assert_int_equal(ev->chat.sender, CSM_SENDER_CUSTOMER);
    assert_int_equal(ev->chat.msg_kind, CSM_MSG_OTHER); /* LIVE_CARD: the reader default */
    assert_string_equal(ev->chat.agent_id, "a1");
    assert_null(ev->chat.from_agent_id);
    assert_null(ev->chat.group_id); /* dropped by the writer: default null */
    assert_int_equal(ev->chat.entry, CSM_ENTRY_LIVE_ROOM);
    assert_null(ev->chat.order_id);
    assert_null(ev->chat.intent);
    assert_true(ev->chat.has_stars);
    assert_int_equal(ev->chat.stars, 5);
    assert_null(ev->chat.reason); /* channel "app" went nowhere */

    /* VIDEO is index 3 in v2, 2 in ours: matched by name */
    wmsg_head(&m, "e-video", "JD", TS + 1, "MESSAGE");
    wmsg_enum(&m, "msg_kind", "VIDEO");
    n = wmsg_write(&m, 21, buf, sizeof buf);
    if (decode(c, CSM_STREAM_CHAT, buf, n, &out, err))
        fail_msg("v2 video: %s", err);
    assert_int_equal(out.ev.chat.msg_kind, CSM_MSG_VIDEO);
    assert_int_equal(out.ev.platform, CSM_PLATFORM_JD);
    assert_int_equal(out.ev.ts, TS + 1);
    assert_int_equal(out.ev.chat.sender, CSM_SENDER_NULL);
    assert_false(out.ev.chat.has_stars);
    wmsg_close(&m);
    csm_codec_free(c);
}

#define W_CHAT_V3                                                                                  \
    W_CHAT(W_EVENT_ID "," W_PLATFORM "," W_CUSTOMER_ID "," W_TS "," W_CHAT_TYPE "," W_SENDER       \
                      "," W_MSG_KIND)
#define W_CHAT_STARS_STRING                                                                        \
    W_CHAT(W_EVENT_ID "," W_PLATFORM "," W_SHOP_ID "," W_CUSTOMER_ID "," W_TS "," W_CHAT_TYPE      \
                      ",{'name':'stars','type':'string'}")

static void incompatible_writers_are_refused_with_why(void **state)
{
    csm_codec *c = codec();
    add(c, 23, W_CHAT_V3);
    add(c, 24, W_CHAT_STARS_STRING);
    verdict_is(c, 23, CSM_STREAM_CHAT, 0,
               "reader field shop_id has no default and the writer has no such field");
    verdict_is(c, 24, CSM_STREAM_CHAT, 0, "field stars: cannot store string into union");

    wmsg m;
    wmsg_open(&m, W_CHAT_V3);
    wmsg_head(&m, "e3", "TAOBAO", TS, "MESSAGE");
    unsigned char buf[1024];
    size_t n = wmsg_write(&m, 23, buf, sizeof buf);
    wmsg_close(&m);
    csm_event_slot out;
    char err[256];
    assert_int_equal(decode(c, CSM_STREAM_CHAT, buf, n, &out, err), CSM_DECODE_INCOMPATIBLE);
    assert_string_equal(
        err, "schema 23 incompatible: reader field shop_id has no default and the writer has no "
             "such field");

    wmsg_open(&m, W_CHAT_STARS_STRING);
    wmsg_head(&m, "e4", "TAOBAO", TS, "RATED");
    wmsg_string(&m, "stars", "five");
    n = wmsg_write(&m, 24, buf, sizeof buf);
    wmsg_close(&m);
    assert_int_equal(decode(c, CSM_STREAM_CHAT, buf, n, &out, err), CSM_DECODE_INCOMPATIBLE);
    assert_string_equal(err, "schema 24 incompatible: field stars: cannot store string into union");
    csm_codec_free(c);
}

#define W_ORDER_AMOUNT_INT                                                                         \
    W_ORDER(W_EVENT_ID                                                                             \
            "," W_PLATFORM "," W_SHOP_ID "," W_CUSTOMER_ID "," W_TS                                \
            ",{'name':'order_id','type':'string'}," W_ORDER_TYPE                                   \
            ",{'name':'amount_cents','type':['null','int'],'default':null}," W_OPTIONAL(           \
                "refund_id") "," W_OPTIONAL("logistics_status"))

/* An int written where we read a long; the same id on the other topic. */
static void int_promoted_to_long_and_other_stream_refused(void **state)
{
    csm_codec *c = codec();
    add(c, 25, W_ORDER_AMOUNT_INT);
    verdict_is(c, 25, CSM_STREAM_ORDER, 1, "amount_cents int promoted to long");
    verdict_is(c, 25, CSM_STREAM_CHAT, 0,
               "writer record csmetrics.OrderEvent is not csmetrics.ChatEvent");

    wmsg m;
    wmsg_open(&m, W_ORDER_AMOUNT_INT);
    wmsg_head(&m, "o-paid", "PINDUODUO", TS, "PAID");
    wmsg_string(&m, "order_id", "o1");
    wmsg_number(&m, "amount_cents", 2147483647);
    unsigned char buf[1024];
    size_t n = wmsg_write(&m, 25, buf, sizeof buf);
    wmsg_close(&m);
    csm_event_slot out;
    char err[256];
    if (decode(c, CSM_STREAM_ORDER, buf, n, &out, err))
        fail_msg("order: %s", err);
    assert_int_equal(out.ev.stream, CSM_STREAM_ORDER);
    assert_string_equal(out.ev.event_id, "o-paid");
    assert_int_equal(out.ev.platform, CSM_PLATFORM_PINDUODUO);
    assert_int_equal(out.ev.order.type, CSM_ORDER_PAID);
    assert_string_equal(out.ev.order.order_id, "o1");
    assert_true(out.ev.order.has_amount);
    assert_int_equal(out.ev.order.amount_cents, 2147483647LL);
    assert_null(out.ev.order.refund_id);

    assert_int_equal(decode(c, CSM_STREAM_CHAT, buf, n, &out, err), CSM_DECODE_INCOMPATIBLE);
    assert_string_equal(err, "schema 25 incompatible: writer record csmetrics.OrderEvent is not "
                             "csmetrics.ChatEvent");
    csm_codec_free(c);
}

#define W_CHAT_TYPE_ESCALATED                                                                      \
    W_CHAT(W_CHAT_HEAD ",{'name':'type','type':{'type':'enum','name':'ChatEventType','symbols':"   \
                       "[" W_CHAT_TYPE_SYMBOLS ",'ESCALATED']}}," W_CHAT_TAIL)

/* ChatEventType has no default symbol: the id stays compatible, and only
 * the events that carry the new symbol are dead letters. */
static void enum_symbol_without_reader_default(void **state)
{
    csm_codec *c = codec();
    add(c, 26, W_CHAT_TYPE_ESCALATED);
    verdict_is(c, 26, CSM_STREAM_CHAT, 1,
               "type symbol ESCALATED unknown to the reader, no default: its events are "
               "dead-lettered");
    wmsg m;
    wmsg_open(&m, W_CHAT_TYPE_ESCALATED);
    unsigned char buf[1024];
    csm_event_slot out;
    char err[256];
    wmsg_head(&m, "e-esc", "DOUYIN", TS, "ESCALATED");
    size_t n = wmsg_write(&m, 26, buf, sizeof buf);
    assert_int_equal(decode(c, CSM_STREAM_CHAT, buf, n, &out, err), CSM_DECODE_UNDECODABLE);
    assert_string_equal(err, "bad enum value 9 for field type");
    wmsg_head(&m, "e-rated", "DOUYIN", TS, "SESSION_CLOSED");
    n = wmsg_write(&m, 26, buf, sizeof buf);
    if (decode(c, CSM_STREAM_CHAT, buf, n, &out, err))
        fail_msg("SESSION_CLOSED: %s", err);
    assert_int_equal(out.ev.chat.type, CSM_CHAT_SESSION_CLOSED);
    assert_int_equal(out.ev.platform, CSM_PLATFORM_DOUYIN);
    wmsg_close(&m);
    csm_codec_free(c);
}

#define W_MANY_PLATFORM                                                                            \
    "{'name':'platform','type':{'type':'enum','name':'Platform','symbols':['NEW','DOUYIN','JD',"   \
    "'OTHER']}}"
#define W_MANY_TYPE                                                                                \
    "{'name':'type','type':{'type':'enum','name':'ChatEventType','symbols':['MESSAGE','RATED',"    \
    "'ESCALATED']}}"
#define W_CHAT_MANY_CHANGES                                                                        \
    W_CHAT(W_EVENT_ID                                                                              \
           "," W_MANY_PLATFORM ",{'name':'shop_id','type':['null','string']}," W_CUSTOMER_ID       \
           ",{'name':'ts','type':'int'}," W_MANY_TYPE                                              \
           "," W_MSG_KIND_OF("'LIVE_CARD','TEXT'") "," W_STARS ",{'name':'extra','type':['null',{" \
                                                               "'type':'map','values':'long'}]}")

/* Every kind of change at once: fields named together, one note each. */
static void verdict_of_many_changes(void **state)
{
    csm_codec *c = codec();
    add(c, 27, W_CHAT_MANY_CHANGES);
    verdict_is(c, 27, CSM_STREAM_CHAT, 1,
               "writer field extra skipped; reader fields sender, agent_id, from_agent_id, "
               "group_id, entry, order_id, intent, reason absent: default null; platform symbol "
               "NEW read as OTHER (reader default); shop_id: the writer's null values are "
               "dead-lettered; ts int promoted to long; type symbol ESCALATED "
               "unknown to the reader, no default: its events are dead-lettered; msg_kind symbol "
               "LIVE_CARD read as OTHER (reader default)");
    wmsg m;
    wmsg_open(&m, W_CHAT_MANY_CHANGES);
    wmsg_head(&m, "e-many", "NEW", 1795140000, "RATED");
    wmsg_enum(&m, "msg_kind", "TEXT");
    wmsg_number(&m, "stars", 4);
    avro_value_t extra = wmsg_field(&m, "extra", AVRO_MAP), v;
    assert_int_equal(avro_value_add(&extra, "k", &v, NULL, NULL), 0);
    avro_value_set_long(&v, 7);
    unsigned char buf[1024];
    size_t n = wmsg_write(&m, 27, buf, sizeof buf);
    wmsg_close(&m);
    csm_event_slot out;
    char err[256];
    if (decode(c, CSM_STREAM_CHAT, buf, n, &out, err))
        fail_msg("many changes: %s", err);
    assert_int_equal(out.ev.platform, CSM_PLATFORM_OTHER); /* NEW: the reader default */
    assert_int_equal(out.ev.ts, 1795140000LL);
    assert_int_equal(out.ev.chat.type, CSM_CHAT_RATED);
    assert_int_equal(out.ev.chat.msg_kind, CSM_MSG_TEXT);
    assert_int_equal(out.ev.chat.stars, 4);
    assert_int_equal(out.ev.chat.sender, CSM_SENDER_NULL);

    wmsg_open(&m, W_CHAT_MANY_CHANGES);
    wmsg_head(&m, "e-no-shop", "JD", 1795140000, "RATED");
    avro_value_t shop = wmsg_field(&m, "shop_id", AVRO_NULL);
    avro_value_set_null(&shop);
    n = wmsg_write(&m, 27, buf, sizeof buf);
    wmsg_close(&m);
    assert_int_equal(decode(c, CSM_STREAM_CHAT, buf, n, &out, err), CSM_DECODE_UNDECODABLE);
    assert_string_equal(err, "missing field shop_id");
    csm_codec_free(c);
}

/* A message of schema @p id written with @p schema. */
static size_t framed_as(const char *schema, int32_t id, unsigned char *buf, size_t cap)
{
    wmsg m;
    wmsg_open(&m, schema);
    wmsg_head(&m, "e-id", "TMALL", TS, "MESSAGE");
    size_t n = wmsg_write(&m, id, buf, cap);
    wmsg_close(&m);
    return n;
}

/* A message of schema @p id (v2; for most tests the id decides first). */
static size_t framed(int32_t id, unsigned char *buf, size_t cap)
{
    return framed_as(W_CHAT_V2, id, buf, cap);
}

static void unknown_and_needed_ids(void **state)
{
    csm_codec *c = codec();
    unsigned char buf[1024];
    csm_event_slot out;
    char err[256];
    size_t n = framed(99, buf, sizeof buf);
    assert_int_equal(csm_codec_needed_id(c), -1);
    assert_int_equal(decode(c, CSM_STREAM_CHAT, buf, n, &out, err), CSM_DECODE_UNKNOWN_SCHEMA);
    assert_string_equal(err, "unknown schema id 99");
    assert_int_equal(csm_codec_needed_id(c), -1);
    csm_schema_verdict v;
    csm_codec_schema_verdict(c, 99, CSM_STREAM_CHAT, &v);
    assert_int_equal(v.known, 0);
    assert_int_equal(v.compatible, 0);

    csm_codec_set_lookup(c, 1);
    assert_int_equal(decode(c, CSM_STREAM_CHAT, buf, n, &out, err), CSM_DECODE_NEED_SCHEMA);
    assert_int_equal(csm_codec_needed_id(c), 99);
    add(c, 99, W_CHAT_V2);
    if (decode(c, CSM_STREAM_CHAT, buf, n, &out, err))
        fail_msg("after add: %s", err);
    assert_string_equal(out.ev.event_id, "e-id");

    n = framed(98, buf, sizeof buf);
    csm_codec_add_missing_schema(c, 98, "registry: schema 98 not found");
    assert_int_equal(decode(c, CSM_STREAM_CHAT, buf, n, &out, err), CSM_DECODE_UNKNOWN_SCHEMA);
    assert_string_equal(err, "unknown schema id 98: registry: schema 98 not found");
    verdict_is(c, 98, CSM_STREAM_CHAT, 0, "registry: schema 98 not found");

    /* pinned ids: as before, and wrong on the other topic */
    verdict_is(c, 17, CSM_STREAM_CHAT, 1, "");
    verdict_is(c, 18, CSM_STREAM_CHAT, 0, "schema id 18 is pinned to the order stream");
    n = framed(18, buf, sizeof buf);
    assert_int_equal(decode(c, CSM_STREAM_CHAT, buf, n, &out, err), CSM_DECODE_UNDECODABLE);
    assert_string_equal(err, "schema id 18 is the order schema, on the chat topic");
    csm_codec_free(c);
}

static void writer_texts_that_are_no_record_schema(void **state)
{
    csm_codec *c = codec();
    char why[512];
    static const char not_json[] = "{\"type\": \"record\", ";
    assert_int_equal(
        csm_codec_add_writer_schema(c, 40, not_json, strlen(not_json), why, sizeof why), -1);
    assert_memory_equal(why, "not an Avro schema: ", 20);
    static const char string_schema[] = "\"string\"";
    assert_int_equal(
        csm_codec_add_writer_schema(c, 41, string_schema, strlen(string_schema), why, sizeof why),
        -1);
    assert_string_equal(why, "not an Avro record schema but a string");
    unsigned char buf[1024];
    csm_event_slot out;
    char err[256];
    size_t n = framed(41, buf, sizeof buf);
    assert_int_equal(decode(c, CSM_STREAM_CHAT, buf, n, &out, err), CSM_DECODE_INCOMPATIBLE);
    assert_string_equal(err, "schema 41 incompatible: not an Avro record schema but a string");
    verdict_is(c, 41, CSM_STREAM_ORDER, 0, "not an Avro record schema but a string");

    /* added again, now a good one: replaced */
    add(c, 41, W_CHAT_V2);
    if (decode(c, CSM_STREAM_CHAT, buf, n, &out, err))
        fail_msg("replaced: %s", err);
    csm_codec_free(c);
}

static void ids_kept_are_bounded_least_recently_used_first(void **state)
{
    csm_codec *c = codec();
    csm_codec_set_lookup(c, 1);
    csm_codec_set_cache_max(c, 2);
    unsigned char buf[1024];
    csm_event_slot out;
    char err[256];
    add(c, 21, W_CHAT_V2);
    add(c, 22, W_CHAT_V2);
    size_t n = framed(21, buf, sizeof buf);
    assert_int_equal(decode(c, CSM_STREAM_CHAT, buf, n, &out, err), 0); /* 21 used after 22 */
    add(c, 23, W_CHAT_V2);                                              /* 22 goes */
    int32_t ids[8];
    assert_int_equal(csm_codec_schema_ids(c, ids, 8), 4);
    assert_int_equal(ids[0], 17);
    assert_int_equal(ids[1], 18);
    assert_int_equal(ids[2], 21);
    assert_int_equal(ids[3], 23);
    n = framed(22, buf, sizeof buf);
    assert_int_equal(decode(c, CSM_STREAM_CHAT, buf, n, &out, err), CSM_DECODE_NEED_SCHEMA);
    assert_int_equal(csm_codec_needed_id(c), 22);

    add(c, 22, W_CHAT_V2); /* 21 goes: 23 was added after 21 was last used */
    csm_codec_add_missing_schema(c, 50, "not found"); /* missing ids count too: 23 goes */
    assert_int_equal(csm_codec_schema_ids(c, ids, 8), 4);
    assert_int_equal(ids[2], 22);
    assert_int_equal(ids[3], 50);
    n = framed_as(W_CHAT_V1, 17, buf, sizeof buf); /* pinned ids stay */
    assert_int_equal(decode(c, CSM_STREAM_CHAT, buf, n, &out, err), 0);

    csm_codec_set_cache_max(c, 1); /* lowered: the least recently used goes at once */
    assert_int_equal(csm_codec_schema_ids(c, ids, 8), 3);
    assert_int_equal(ids[2], 50);
    csm_codec_free(c);
}

static void schema_ids_ascending(void **state)
{
    csm_codec *c = codec();
    csm_codec_map_schema_id(c, 40, CSM_STREAM_ORDER);
    add(c, 25, W_ORDER_AMOUNT_INT);
    csm_codec_add_missing_schema(c, 3, "not found");
    csm_codec_map_schema_id(c, 17, CSM_STREAM_ORDER); /* re-pinned: still one id */
    int32_t ids[2];
    assert_int_equal(csm_codec_schema_ids(c, ids, 2), 5);
    assert_int_equal(ids[0], 3);
    assert_int_equal(ids[1], 17);
    int32_t all[5];
    assert_int_equal(csm_codec_schema_ids(c, all, 5), 5);
    const int32_t want[5] = {3, 17, 18, 25, 40};
    assert_memory_equal(all, want, sizeof want);
    assert_int_equal(csm_codec_schema_ids(c, NULL, 0), 5);
    verdict_is(c, 17, CSM_STREAM_ORDER, 1, "");
    csm_codec_free(c);
}

/* Thousands of ids: each one found (the hash's probe runs, its growth). */
static void thousands_of_ids(void **state)
{
    csm_codec *c = codec();
    csm_codec_set_cache_max(c, 5000);
    for (int32_t id = 1000; id < 5000; id++)
        csm_codec_add_missing_schema(c, id, "gone");
    unsigned char buf[1024];
    csm_event_slot out;
    char err[256];
    size_t n = framed(4321, buf, sizeof buf);
    assert_int_equal(decode(c, CSM_STREAM_CHAT, buf, n, &out, err), CSM_DECODE_UNKNOWN_SCHEMA);
    assert_string_equal(err, "unknown schema id 4321: gone");
    assert_int_equal(csm_codec_schema_ids(c, NULL, 0), 4002);
    csm_codec_set_cache_max(c, 10); /* the 10 most recently used stay: 4321 and 4991..4999 */
    int32_t ids[12];
    assert_int_equal(csm_codec_schema_ids(c, ids, 12), 12);
    assert_int_equal(ids[2], 4321);
    assert_int_equal(ids[3], 4991);
    assert_int_equal(ids[11], 4999);
    csm_codec_free(c);
}

/* A reader schema of our own whose fields have defaults that are not
 * null: a writer without them reads as if it had written the defaults. */
#define W_READER_WITH_DEFAULTS                                                                     \
    W_CHAT(                                                                                        \
        W_EVENT_ID                                                                                 \
        "," W_PLATFORM "," W_SHOP_ID "," W_CUSTOMER_ID "," W_TS "," W_CHAT_TYPE "," W_SENDER       \
        "," W_MSG_KIND "," W_OPTIONAL("agent_id") "," W_OPTIONAL("from_agent_id") "," W_OPTIONAL(  \
            "group_id") ",{'name':'entry','type':{'type':'enum','name':'Entry','"                  \
                        "symbols':[" W_ENTRY_SYMBOLS "]},'default':'MESSAGE_LIST'}," W_OPTIONAL(   \
                            "order_id") ",{'name':'intent','type':'string','"                      \
                                        "default':'unknown'}," W_STARS "," W_OPTIONAL("reason"))
#define W_CHAT_SHORT                                                                               \
    W_CHAT(W_CHAT_HEAD "," W_CHAT_TYPE "," W_SENDER "," W_MSG_KIND                                 \
                       "," W_OPTIONAL("agent_id") "," W_OPTIONAL("from_agent_id") "," W_OPTIONAL(  \
                           "group_id") "," W_OPTIONAL("order_id") "," W_STARS                      \
                                                                  "," W_OPTIONAL("reason"))

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void reader_defaults_fill_absent_fields(void **state)
{
    char dir[] = "/tmp/csm_evolution_XXXXXX", chat[256], order[256], src[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(chat, sizeof chat, "%s/chat_event.avsc", dir);
    snprintf(order, sizeof order, "%s/order_event.avsc", dir);
    snprintf(src, sizeof src, "%s/order_event.avsc", getenv("CSM_SCHEMA_DIR"));
    write_file(chat, wjson(W_READER_WITH_DEFAULTS));
    size_t len = 0;
    char *order_json = csm_slurp(src, &len);
    assert_non_null(order_json);
    write_file(order, order_json);
    free(order_json);
    csm_codec *c = codec_in(dir);
    remove(chat);
    remove(order);
    rmdir(dir);

    add(c, 60, W_CHAT_SHORT);
    verdict_is(c, 60, CSM_STREAM_CHAT, 1,
               "reader field entry absent: default \"MESSAGE_LIST\"; reader field intent absent: "
               "default \"unknown\"");
    wmsg m;
    wmsg_open(&m, W_CHAT_SHORT);
    unsigned char buf[1024];
    csm_event_slot out;
    char err[256];
    for (int i = 0; i < 2; i++) { /* the defaults again in a slot used before */
        wmsg_head(&m, i ? "e-2" : "e-1", "OTHER", TS + i, "HUMAN_REQUESTED");
        size_t n = wmsg_write(&m, 60, buf, sizeof buf);
        if (decode(c, CSM_STREAM_CHAT, buf, n, &out, err))
            fail_msg("short writer: %s", err);
        assert_string_equal(out.ev.event_id, i ? "e-2" : "e-1");
        assert_int_equal(out.ev.platform, CSM_PLATFORM_OTHER);
        assert_int_equal(out.ev.chat.type, CSM_CHAT_HUMAN_REQUESTED);
        assert_int_equal(out.ev.chat.entry, CSM_ENTRY_MESSAGE_LIST);
        assert_string_equal(out.ev.chat.intent, "unknown");
        assert_null(out.ev.chat.group_id);
    }
    wmsg_close(&m);
    csm_codec_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reader_schema_as_writer_is_identity),
        cmocka_unit_test(v2_decodes_by_name_with_defaults),
        cmocka_unit_test(incompatible_writers_are_refused_with_why),
        cmocka_unit_test(int_promoted_to_long_and_other_stream_refused),
        cmocka_unit_test(enum_symbol_without_reader_default),
        cmocka_unit_test(verdict_of_many_changes),
        cmocka_unit_test(unknown_and_needed_ids),
        cmocka_unit_test(writer_texts_that_are_no_record_schema),
        cmocka_unit_test(ids_kept_are_bounded_least_recently_used_first),
        cmocka_unit_test(schema_ids_ascending),
        cmocka_unit_test(thousands_of_ids),
        cmocka_unit_test(reader_defaults_fill_absent_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
