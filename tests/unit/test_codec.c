/* The wire and file formats of events.md: JSON Lines, Avro binary in both
 * framings, Avro container files, and the reasons bad input is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <avro.h>
#include <cmocka.h>

#include "codec.h"

static csm_codec *codec(void)
{
    char err[512];
    csm_codec *c = csm_codec_new(getenv("CSM_SCHEMA_DIR"), err, sizeof err);
    if (!c)
        fail_msg("codec: %s", err);
    csm_codec_map_schema_id(c, 17, CSM_STREAM_CHAT);
    csm_codec_map_schema_id(c, 18, CSM_STREAM_ORDER);
    return c;
}

static const char *CHAT =
    "{\"stream\":\"chat\",\"event_id\":\"e1\",\"platform\":\"TMALL\",\"shop_id\":\"s1\","
    "\"customer_id\":\"c1\",\"ts\":1795140000123,\"type\":\"TRANSFERRED\",\"sender\":\"AGENT\","
    "\"msg_kind\":\"RATING_CARD\",\"agent_id\":\"a2\",\"from_agent_id\":\"a1\",\"group_id\":\"g\","
    "\"entry\":\"MERCHANT_INITIATED\",\"order_id\":\"o1\",\"intent\":\"after_sale/refund\","
    "\"stars\":4,\"reason\":\"busy\"}";
static const char *ORDER =
    "{\"stream\":\"order\",\"event_id\":\"e2\",\"platform\":\"JD\",\"shop_id\":\"s1\","
    "\"customer_id\":\"c1\",\"ts\":1795140000456,\"order_id\":\"o1\",\"type\":"
    "\"COMPLAINT_INTERVENED\",\"amount_cents\":12345,\"refund_id\":\"r1\","
    "\"logistics_status\":\"stuck\"}";

static void check_chat(const csm_event *ev)
{
    assert_int_equal(ev->stream, CSM_STREAM_CHAT);
    assert_string_equal(ev->event_id, "e1");
    assert_int_equal(ev->platform, CSM_PLATFORM_TMALL);
    assert_string_equal(ev->shop_id, "s1");
    assert_string_equal(ev->customer_id, "c1");
    assert_int_equal(ev->ts, 1795140000123LL);
    assert_int_equal(ev->chat.type, CSM_CHAT_TRANSFERRED);
    assert_int_equal(ev->chat.sender, CSM_SENDER_AGENT);
    assert_int_equal(ev->chat.msg_kind, CSM_MSG_RATING_CARD);
    assert_string_equal(ev->chat.agent_id, "a2");
    assert_string_equal(ev->chat.from_agent_id, "a1");
    assert_string_equal(ev->chat.group_id, "g");
    assert_int_equal(ev->chat.entry, CSM_ENTRY_MERCHANT_INITIATED);
    assert_string_equal(ev->chat.order_id, "o1");
    assert_string_equal(ev->chat.intent, "after_sale/refund");
    assert_true(ev->chat.has_stars);
    assert_int_equal(ev->chat.stars, 4);
    assert_string_equal(ev->chat.reason, "busy");
}

static void check_order(const csm_event *ev)
{
    assert_int_equal(ev->stream, CSM_STREAM_ORDER);
    assert_int_equal(ev->platform, CSM_PLATFORM_JD);
    assert_int_equal(ev->ts, 1795140000456LL);
    assert_string_equal(ev->order.order_id, "o1");
    assert_int_equal(ev->order.type, CSM_ORDER_COMPLAINT_INTERVENED);
    assert_true(ev->order.has_amount);
    assert_int_equal(ev->order.amount_cents, 12345);
    assert_string_equal(ev->order.refund_id, "r1");
    assert_string_equal(ev->order.logistics_status, "stuck");
}

static void json_lines_decode_every_field(void **state)
{
    csm_event_slot s;
    char err[256];
    assert_int_equal(csm_json_decode_line(CHAT, strlen(CHAT), &s, err, sizeof err), 0);
    check_chat(&s.ev);
    assert_int_equal(csm_json_decode_line(ORDER, strlen(ORDER), &s, err, sizeof err), 0);
    check_order(&s.ev);
    /* null fields may be left out */
    const char *min = "{\"stream\":\"chat\",\"event_id\":\"e\",\"platform\":\"DOUYIN\","
                      "\"shop_id\":\"s\",\"customer_id\":\"c\",\"ts\":5,\"type\":\"RATED\","
                      "\"sender\":null}";
    assert_int_equal(csm_json_decode_line(min, strlen(min), &s, err, sizeof err), 0);
    assert_int_equal(s.ev.chat.sender, CSM_SENDER_NULL);
    assert_null(s.ev.chat.agent_id);
    assert_false(s.ev.chat.has_stars);
}

static void json_lines_reasons(void **state)
{
    csm_event_slot s;
    char err[256];
    struct {
        const char *line, *reason;
    } bad[] = {
        {"{\"stream\":\"chat\",\"event_id\":\"e\",\"platform\":\"DOUYIN\",\"customer_id\":\"c\","
         "\"ts\":5,\"type\":\"RATED\"}",
         "missing field shop_id"},
        {"{\"stream\":\"chat\",\"event_id\":\"e\",\"platform\":\"DOUYIN\",\"shop_id\":\"s\","
         "\"customer_id\":\"c\",\"ts\":5,\"type\":\"RATED\",\"sender\":\"BOT\"}",
         "bad enum value 'BOT' for field sender"},
        {"{\"stream\":\"order\",\"event_id\":\"e\",\"platform\":\"DOUYIN\",\"shop_id\":\"s\","
         "\"customer_id\":\"c\",\"ts\":5,\"type\":\"PAID\"}",
         "missing field order_id"},
        {"{\"stream\":\"chat\",\"event_id\":\"e\",\"platform\":\"DOUYIN\",\"shop_id\":\"s\","
         "\"customer_id\":\"c\",\"ts\":\"yesterday\",\"type\":\"RATED\"}",
         "field ts: expected an integer"},
        {"{\"stream\":\"mail\"}", "field stream"},
        {"[1,2]", "not a JSON object"},
        {"{\"stream\":", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(
            csm_json_decode_line(bad[i].line, strlen(bad[i].line), &s, err, sizeof err), -1);
        if (!strstr(err, bad[i].reason))
            fail_msg("case %zu: reason '%s' lacks '%s'", i, err, bad[i].reason);
    }
}

static void avro_round_trip_both_framings(void **state)
{
    csm_codec *c = codec();
    const char *lines[] = {CHAT, ORDER};
    for (int i = 0; i < 2; i++) {
        csm_event_slot in, out;
        char err[256];
        unsigned char buf[4096];
        assert_int_equal(csm_json_decode_line(lines[i], strlen(lines[i]), &in, err, sizeof err), 0);
        csm_stream s = in.ev.stream;
        for (int framed = 0; framed < 2; framed++) {
            long n = csm_codec_encode(c, &in.ev, framed ? 17 + i : -1, buf, sizeof buf);
            assert_true(n > 0);
            if (framed)
                assert_int_equal(buf[0], 0);
            csm_framing modes[] = {CSM_FRAMING_AUTO,
                                   framed ? CSM_FRAMING_CONFLUENT : CSM_FRAMING_PLAIN};
            for (int m = 0; m < 2; m++) {
                if (csm_codec_decode(c, s, modes[m], buf, (size_t)n, &out, err, sizeof err))
                    fail_msg("decode: %s", err);
                if (i == 0)
                    check_chat(&out.ev);
                else
                    check_order(&out.ev);
            }
            /* a cut anywhere is refused, never misread */
            for (long cut = framed ? 5 : 1; cut < n; cut++)
                assert_int_equal(
                    csm_codec_decode(c, s, modes[1], buf, (size_t)cut, &out, err, sizeof err), -1);
        }
    }
    csm_codec_free(c);
}

static void avro_reasons(void **state)
{
    csm_codec *c = codec();
    csm_event_slot in, out;
    char err[256];
    unsigned char buf[4096];
    assert_int_equal(csm_json_decode_line(CHAT, strlen(CHAT), &in, err, sizeof err), 0);
    long n = csm_codec_encode(c, &in.ev, 17, buf, sizeof buf);

    assert_int_equal(csm_codec_decode(c, CSM_STREAM_CHAT, CSM_FRAMING_AUTO, buf, (size_t)n - 3,
                                      &out, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "truncated"));

    /* a byte more than the record is refused too: another writer schema */
    buf[n] = 0;
    assert_int_equal(csm_codec_decode(c, CSM_STREAM_CHAT, CSM_FRAMING_AUTO, buf, (size_t)n + 1,
                                      &out, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "bytes left"));
    assert_int_equal(csm_codec_decode(c, CSM_STREAM_CHAT, CSM_FRAMING_AUTO, buf, (size_t)n, &out,
                                      err, sizeof err),
                     0);

    buf[4] = 99; /* schema id 99 */
    assert_int_equal(csm_codec_decode(c, CSM_STREAM_CHAT, CSM_FRAMING_AUTO, buf, (size_t)n, &out,
                                      err, sizeof err),
                     CSM_DECODE_UNKNOWN_SCHEMA);
    assert_string_equal(err, "unknown schema id 99");

    buf[4] = 18; /* the order schema's id on the chat topic */
    assert_int_equal(csm_codec_decode(c, CSM_STREAM_CHAT, CSM_FRAMING_AUTO, buf, (size_t)n, &out,
                                      err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "order schema"));

    /* Hand-made plain record: event_id "e", platform index 9 (out of the
     * contract), shop "s", customer "c", ts 1, type 0, nine nulls. */
    unsigned char bad_enum[] = {2, 'e', 18, 2, 's', 2, 'c', 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(csm_codec_decode(c, CSM_STREAM_CHAT, CSM_FRAMING_PLAIN, bad_enum,
                                      sizeof bad_enum, &out, err, sizeof err),
                     -1);
    if (!strstr(err, "enum"))
        fail_msg("bad enum reason: %s", err);
    bad_enum[2] = 2; /* platform 1 = TAOBAO: now the same bytes are a good event */
    if (csm_codec_decode(c, CSM_STREAM_CHAT, CSM_FRAMING_PLAIN, bad_enum, sizeof bad_enum, &out,
                         err, sizeof err))
        fail_msg("hand-made record: %s", err);
    assert_int_equal(out.ev.platform, CSM_PLATFORM_TAOBAO);
    assert_int_equal(out.ev.ts, 1);

    /* the same record with union branch 2 for sender (only null|enum) */
    bad_enum[9] = 4;
    assert_int_equal(csm_codec_decode(c, CSM_STREAM_CHAT, CSM_FRAMING_PLAIN, bad_enum,
                                      sizeof bad_enum, &out, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "union branch 2 for field sender"));

    /* an empty shop_id is a missing one */
    in.ev.shop_id = "";
    n = csm_codec_encode(c, &in.ev, 17, buf, sizeof buf);
    assert_int_equal(csm_codec_decode(c, CSM_STREAM_CHAT, CSM_FRAMING_CONFLUENT, buf, (size_t)n,
                                      &out, err, sizeof err),
                     -1);
    assert_string_equal(err, "missing field shop_id");
    in.ev.shop_id = "s1";

    /* strings beyond the slot's arena are refused, not truncated */
    static char big[4096];
    memset(big, 'x', sizeof big - 1);
    in.ev.chat.reason = big;
    n = csm_codec_encode(c, &in.ev, -1, buf, sizeof buf);
    static unsigned char huge[8192];
    n = csm_codec_encode(c, &in.ev, -1, huge, sizeof huge);
    assert_true(n > 0);
    assert_int_equal(csm_codec_decode(c, CSM_STREAM_CHAT, CSM_FRAMING_PLAIN, huge, (size_t)n, &out,
                                      err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "too large"));
    csm_codec_free(c);
}

typedef struct seen {
    int n, ok;
    csm_event_slot last;
} seen;

static int collect(void *arg, long index, int ok, const csm_event_slot *ev, const char *reason,
                   const void *raw, size_t raw_len)
{
    seen *s = arg;
    s->n++;
    s->ok += ok;
    if (ok)
        csm_event_slot_copy(&s->last, ev);
    return 0;
}

/* Writes @p n records of @p schema_json made by @p fill into the Avro
 * container file @p path. */
static void write_container(const char *path, const char *schema_json, size_t len, int n,
                            void (*fill)(avro_value_t *, int))
{
    avro_schema_t schema;
    if (avro_schema_from_json_length(schema_json, len, &schema))
        fail_msg("schema: %s", avro_strerror());
    avro_file_writer_t w;
    assert_int_equal(avro_file_writer_create(path, schema, &w), 0);
    avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
    avro_value_t rec;
    avro_generic_value_new(iface, &rec);
    for (int i = 0; i < n; i++) {
        fill(&rec, i);
        assert_int_equal(avro_file_writer_append_value(w, &rec), 0);
    }
    avro_file_writer_close(w);
    avro_value_decref(&rec);
    avro_value_iface_decref(iface);
    avro_schema_decref(schema);
}

/* Record i of orders.avro: PAID at JD for 500 cents; the third has an
 * empty event_id. */
static void order_record(avro_value_t *rec, int i)
{
    avro_value_t field, branch;
    avro_value_reset(rec);
    avro_value_get_by_name(rec, "event_id", &field, NULL);
    avro_value_set_string(&field, i == 2 ? "" : "x");
    avro_value_get_by_name(rec, "platform", &field, NULL);
    avro_value_set_enum(&field, 4);
    avro_value_get_by_name(rec, "shop_id", &field, NULL);
    avro_value_set_string(&field, "s1");
    avro_value_get_by_name(rec, "customer_id", &field, NULL);
    avro_value_set_string(&field, "c1");
    avro_value_get_by_name(rec, "ts", &field, NULL);
    avro_value_set_long(&field, 1795140000456LL);
    avro_value_get_by_name(rec, "order_id", &field, NULL);
    avro_value_set_string(&field, "o1");
    avro_value_get_by_name(rec, "type", &field, NULL);
    avro_value_set_enum(&field, CSM_ORDER_PAID);
    avro_value_get_by_name(rec, "amount_cents", &field, NULL);
    avro_value_set_branch(&field, 1, &branch);
    avro_value_set_long(&branch, 500);
    const char *nulls[] = {"refund_id", "logistics_status"};
    for (int k = 0; k < 2; k++) {
        avro_value_get_by_name(rec, nulls[k], &field, NULL);
        avro_value_set_branch(&field, 0, &branch);
    }
}

static void avro_container_files(void **state)
{
    char dir[] = "/tmp/csm_codec_XXXXXX", path[256], schema_path[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/orders.avro", dir);
    snprintf(schema_path, sizeof schema_path, "%s/order_event.avsc", getenv("CSM_SCHEMA_DIR"));
    FILE *f = fopen(schema_path, "r");
    assert_non_null(f);
    static char json[16384];
    size_t len = fread(json, 1, sizeof json - 1, f);
    fclose(f);
    write_container(path, json, len, 3, order_record);

    csm_codec *c = codec();
    seen s = {0};
    char err[256];
    assert_int_equal(csm_codec_read_file(c, path, collect, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.ok, 2); /* the third has an empty event_id */
    assert_int_equal(s.last.ev.platform, CSM_PLATFORM_JD);
    assert_int_equal(s.last.ev.order.type, CSM_ORDER_PAID);
    assert_int_equal(s.last.ev.order.amount_cents, 500);
    assert_null(s.last.ev.order.refund_id);
    csm_codec_free(c);
    remove(path);
    rmdir(dir);
}

/* A container written by another producer's schema: fields in another
 * order, fields the contract does not have (an array of records holding
 * maps, a union with a record branch), enums whose symbols are in another
 * order, ts as an int, and union branches of the wrong type. */
static const char *FOREIGN =
    "{\"type\":\"record\",\"name\":\"ChatEvent\",\"fields\":["
    "{\"name\":\"ts\",\"type\":\"int\"},"
    "{\"name\":\"notes\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\","
    "\"name\":\"Note\",\"fields\":[{\"name\":\"k\",\"type\":\"string\"},"
    "{\"name\":\"tags\",\"type\":{\"type\":\"map\",\"values\":\"long\"}}]}}},"
    "{\"name\":\"type\",\"type\":{\"type\":\"enum\",\"name\":\"T\","
    "\"symbols\":[\"RATED\",\"MESSAGE\",\"SOMETHING_NEW\"]}},"
    "{\"name\":\"customer_id\",\"type\":\"string\"},"
    "{\"name\":\"shop_id\",\"type\":[\"null\",\"string\",\"long\"]},"
    "{\"name\":\"event_id\",\"type\":\"string\"},"
    "{\"name\":\"platform\",\"type\":{\"type\":\"enum\",\"name\":\"P\","
    "\"symbols\":[\"JD\",\"DOUYIN\"]}},"
    "{\"name\":\"sender\",\"type\":[\"null\",{\"type\":\"enum\",\"name\":\"S\","
    "\"symbols\":[\"AGENT\",\"CUSTOMER\"]}]},"
    "{\"name\":\"extra\",\"type\":[\"null\",\"bytes\",\"Note\"]}]}";

static void set_by_name(avro_value_t *rec, const char *name, avro_value_t *field)
{
    assert_int_equal(avro_value_get_by_name(rec, name, field, NULL), 0);
}

/* Record i of the foreign file: 0 good, 1 shop_id as a long, 2 a type
 * symbol the contract does not have. */
static void foreign_record(avro_value_t *rec, int i)
{
    avro_value_t f, v, note, tags, branch;
    avro_value_reset(rec);
    set_by_name(rec, "ts", &f);
    avro_value_set_int(&f, 1795140000);
    set_by_name(rec, "notes", &f);
    for (int k = 0; k < 2; k++) {
        avro_value_append(&f, &note, NULL);
        avro_value_get_by_name(&note, "k", &v, NULL);
        avro_value_set_string(&v, "note");
        avro_value_get_by_name(&note, "tags", &tags, NULL);
        avro_value_add(&tags, "a", &v, NULL, NULL);
        avro_value_set_long(&v, 7);
    }
    set_by_name(rec, "type", &f);
    avro_value_set_enum(&f, i == 2 ? 2 : 1);
    set_by_name(rec, "customer_id", &f);
    avro_value_set_string(&f, "c1");
    set_by_name(rec, "shop_id", &f);
    avro_value_set_branch(&f, i == 1 ? 2 : 1, &branch);
    if (i == 1)
        avro_value_set_long(&branch, 42);
    else
        avro_value_set_string(&branch, "s1");
    set_by_name(rec, "event_id", &f);
    avro_value_set_string(&f, "e1");
    set_by_name(rec, "platform", &f);
    avro_value_set_enum(&f, 0);
    set_by_name(rec, "sender", &f);
    avro_value_set_branch(&f, 1, &branch);
    avro_value_set_enum(&branch, 1);
    set_by_name(rec, "extra", &f);
    avro_value_set_branch(&f, 2, &branch);
    avro_value_get_by_name(&branch, "k", &v, NULL);
    avro_value_set_string(&v, "x");
}

typedef struct verdicts {
    int n;
    int ok[4];
    char reason[4][256];
    csm_event_slot first;
} verdicts;

static int keep_verdict(void *arg, long index, int ok, const csm_event_slot *ev, const char *reason,
                        const void *raw, size_t raw_len)
{
    verdicts *v = arg;
    if (v->n < 4) {
        v->ok[v->n] = ok;
        snprintf(v->reason[v->n], sizeof v->reason[0], "%s", ok ? "" : reason);
        if (v->n == 0 && ok)
            csm_event_slot_copy(&v->first, ev);
    }
    v->n++;
    return 0;
}

/* Writes @p n records of @p schema_json made by @p fill into @p path and
 * reads them back through the codec. */
static void foreign_file(const char *path, const char *schema_json, int n,
                         void (*fill)(avro_value_t *, int), verdicts *out)
{
    write_container(path, schema_json, strlen(schema_json), n, fill);
    csm_codec *c = codec();
    char err[256];
    memset(out, 0, sizeof *out);
    assert_int_equal(csm_codec_read_file(c, path, keep_verdict, out, err, sizeof err), 0);
    csm_codec_free(c);
    remove(path);
}

static const char *REASON_LONG =
    "{\"type\":\"record\",\"name\":\"ChatEvent\",\"fields\":["
    "{\"name\":\"event_id\",\"type\":\"string\"},"
    "{\"name\":\"shop_id\",\"type\":\"string\"},{\"name\":\"reason\",\"type\":\"long\"}]}";

static void reason_long_record(avro_value_t *rec, int i)
{
    avro_value_t f;
    avro_value_reset(rec);
    set_by_name(rec, "event_id", &f);
    avro_value_set_string(&f, "e1");
    set_by_name(rec, "shop_id", &f);
    avro_value_set_string(&f, "s1");
    set_by_name(rec, "reason", &f);
    avro_value_set_long(&f, 3);
}

static void avro_foreign_writer_schemas(void **state)
{
    char dir[] = "/tmp/csm_codec_XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/foreign.avro", dir);
    verdicts v;
    foreign_file(path, FOREIGN, 3, foreign_record, &v);
    assert_int_equal(v.n, 3);
    if (!v.ok[0])
        fail_msg("record 1: %s", v.reason[0]);
    const csm_event *ev = &v.first.ev;
    assert_string_equal(ev->event_id, "e1");
    assert_int_equal(ev->platform, CSM_PLATFORM_JD);
    assert_string_equal(ev->shop_id, "s1");
    assert_string_equal(ev->customer_id, "c1");
    assert_int_equal(ev->ts, 1795140000);
    assert_int_equal(ev->chat.type, CSM_CHAT_MESSAGE);
    assert_int_equal(ev->chat.sender, CSM_SENDER_CUSTOMER);
    assert_int_equal(ev->chat.msg_kind, CSM_MSG_NULL);
    assert_null(ev->chat.reason);
    assert_false(v.ok[1]);
    assert_string_equal(v.reason[1], "field shop_id: not a string");
    assert_false(v.ok[2]);
    assert_string_equal(v.reason[2], "bad enum value 2 for field type");

    /* a contract field of the wrong type outside a union */
    foreign_file(path, REASON_LONG, 1, reason_long_record, &v);
    assert_int_equal(v.n, 1);
    assert_false(v.ok[0]);
    assert_string_equal(v.reason[0], "field reason: not a string");
    rmdir(dir);
}

static void json_encode_round_trip(void **state)
{
    csm_event_slot a, b;
    char err[256], line[4096];
    assert_int_equal(csm_json_decode_line(CHAT, strlen(CHAT), &a, err, sizeof err), 0);
    long n = csm_json_encode(&a.ev, line, sizeof line);
    assert_true(n > 0);
    assert_int_equal(csm_json_decode_line(line, (size_t)n, &b, err, sizeof err), 0);
    check_chat(&b.ev);
    /* Avro lets a non-UTF-8 string through; JSON cannot carry it, and a
     * line without that field would be another event. */
    a.ev.chat.intent = "caf\xe9";
    assert_int_equal(csm_json_encode(&a.ev, line, sizeof line), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_lines_decode_every_field),
        cmocka_unit_test(json_lines_reasons),
        cmocka_unit_test(avro_round_trip_both_framings),
        cmocka_unit_test(avro_reasons),
        cmocka_unit_test(avro_container_files),
        cmocka_unit_test(avro_foreign_writer_schemas),
        cmocka_unit_test(json_encode_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
