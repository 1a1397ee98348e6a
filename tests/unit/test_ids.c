/* The id rules of docs/formats.md and the text rule of every string: the
 * one validator (csm_text_check, csm_event_validate) and both decoders
 * refusing what would reach Redis keys wrong, with a reason naming the
 * field. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"

static void text_ok(const char *s, size_t n)
{
    char why[64] = "";
    if (csm_text_check(s, n, why, sizeof why))
        fail_msg("refused %zu bytes: %s", n, why);
}

static void text_bad(const char *s, size_t n, const char *want)
{
    char why[64] = "";
    assert_int_equal(csm_text_check(s, n, why, sizeof why), -1);
    assert_string_equal(why, want);
}

static void text_utf8_and_nul(void **state)
{
    (void)state;
    text_ok("", 0);
    text_ok("S1:c1", 5);
    text_ok("店铺1:客服a", strlen("店铺1:客服a"));
    text_ok("\xf0\x9f\x98\x80", 4); /* U+1F600, 4 bytes */
    text_ok("\xf4\x8f\xbf\xbf", 4); /* U+10FFFF, the last code point */
    text_ok("\xed\x9f\xbf", 3);     /* U+D7FF, just below the surrogates */
    text_ok("\xc2\x80", 2);         /* U+0080, the smallest 2-byte form */
    text_bad("S1\0x", 4, "NUL byte at 2");
    text_bad("\0", 1, "NUL byte at 0");
    text_bad("\xc0\xaf", 2, "not valid UTF-8 at 0");         /* overlong '/' */
    text_bad("a\xc1\xbf", 3, "not valid UTF-8 at 1");        /* overlong U+007F */
    text_bad("\xe0\x80\xaf", 3, "not valid UTF-8 at 0");     /* overlong, 3 bytes */
    text_bad("\xf0\x8f\xbf\xbf", 4, "not valid UTF-8 at 0"); /* overlong, 4 bytes */
    text_bad("ab\xed\xa0\x80", 5, "not valid UTF-8 at 2");   /* surrogate U+D800 */
    text_bad("\xed\xbf\xbf", 3, "not valid UTF-8 at 0");     /* surrogate U+DFFF */
    text_bad("a\xe5\xba", 3, "not valid UTF-8 at 1");        /* 店 cut after 2 of 3 bytes */
    text_bad("\xe5", 1, "not valid UTF-8 at 0");
    text_bad("x\xff", 2, "not valid UTF-8 at 1");
    text_bad("\xfe", 1, "not valid UTF-8 at 0");
    text_bad("\x80", 1, "not valid UTF-8 at 0");             /* continuation first */
    text_bad("\xe5\x41\x97", 3, "not valid UTF-8 at 0");     /* 'A' inside a sequence */
    text_bad("\xf4\x90\x80\x80", 4, "not valid UTF-8 at 0"); /* U+110000 */
    text_bad("\xf5\x80\x80\x80", 4, "not valid UTF-8 at 0");
}

static csm_event common_fields(csm_stream stream)
{
    csm_event ev = {.struct_size = sizeof ev,
                    .stream = stream,
                    .event_id = "e1",
                    .platform = CSM_PLATFORM_TMALL,
                    .shop_id = "s1",
                    .customer_id = "c1",
                    .ts = 1795140000000LL};
    return ev;
}

static csm_event chat_event(void)
{
    csm_event ev = common_fields(CSM_STREAM_CHAT);
    ev.chat.type = CSM_CHAT_TRANSFERRED;
    ev.chat.agent_id = "a2";
    ev.chat.from_agent_id = "a1";
    ev.chat.group_id = "g1";
    ev.chat.order_id = "o1";
    return ev;
}

static csm_event order_event(void)
{
    csm_event ev = common_fields(CSM_STREAM_ORDER);
    ev.order.type = CSM_ORDER_REFUND_REQUESTED;
    ev.order.order_id = "o1";
    ev.order.refund_id = "r1";
    return ev;
}

static void valid(const csm_event *ev)
{
    char err[256] = "";
    if (csm_event_validate(ev, err, sizeof err))
        fail_msg("refused: %s", err);
}

static void invalid(const csm_event *ev, const char *want)
{
    char err[256] = "";
    assert_int_equal(csm_event_validate(ev, err, sizeof err), -1);
    assert_string_equal(err, want);
}

/* Every id of both streams, as a pointer into the event. */
typedef struct id_field {
    csm_stream stream;
    const char *name;
    const char **(*at)(csm_event *);
} id_field;

static const char **at_event_id(csm_event *e)
{
    return &e->event_id;
}
static const char **at_shop_id(csm_event *e)
{
    return &e->shop_id;
}
static const char **at_customer_id(csm_event *e)
{
    return &e->customer_id;
}
static const char **at_agent_id(csm_event *e)
{
    return &e->chat.agent_id;
}
static const char **at_from_agent_id(csm_event *e)
{
    return &e->chat.from_agent_id;
}
static const char **at_group_id(csm_event *e)
{
    return &e->chat.group_id;
}
static const char **at_chat_order_id(csm_event *e)
{
    return &e->chat.order_id;
}
static const char **at_order_id(csm_event *e)
{
    return &e->order.order_id;
}
static const char **at_refund_id(csm_event *e)
{
    return &e->order.refund_id;
}

static const id_field ids[] = {
    {CSM_STREAM_CHAT, "event_id", at_event_id},
    {CSM_STREAM_CHAT, "shop_id", at_shop_id},
    {CSM_STREAM_CHAT, "customer_id", at_customer_id},
    {CSM_STREAM_CHAT, "agent_id", at_agent_id},
    {CSM_STREAM_CHAT, "from_agent_id", at_from_agent_id},
    {CSM_STREAM_CHAT, "group_id", at_group_id},
    {CSM_STREAM_CHAT, "order_id", at_chat_order_id},
    {CSM_STREAM_ORDER, "event_id", at_event_id},
    {CSM_STREAM_ORDER, "shop_id", at_shop_id},
    {CSM_STREAM_ORDER, "customer_id", at_customer_id},
    {CSM_STREAM_ORDER, "order_id", at_order_id},
    {CSM_STREAM_ORDER, "refund_id", at_refund_id},
};
#define N_IDS (sizeof ids / sizeof *ids)

static csm_event with_id(size_t i, const char *value)
{
    csm_event ev = ids[i].stream == CSM_STREAM_CHAT ? chat_event() : order_event();
    *ids[i].at(&ev) = value;
    return ev;
}

static void expect_id_refused(size_t i, const char *value, const char *why)
{
    char want[128];
    snprintf(want, sizeof want, "field %s: %s", ids[i].name, why);
    csm_event ev = with_id(i, value);
    invalid(&ev, want);
}

static void ids_every_rule_every_field(void **state)
{
    (void)state;
    static char id128[129], id129[130];
    memset(id128, 'x', 128);
    memset(id129, 'x', 129);
    for (size_t i = 0; i < N_IDS; i++) {
        csm_event ev = with_id(i, id128);
        valid(&ev);
        ev = with_id(i, "店铺1:客服a");
        valid(&ev);
        expect_id_refused(i, id129, "longer than 128 bytes");
        expect_id_refused(i, "a\x01", "control character at 1");
        expect_id_refused(i, "\x1f", "control character at 0");
        expect_id_refused(i, "ab\x7f", "control character at 2");
        expect_id_refused(i, "a\tb", "control character at 1");
        expect_id_refused(i, "a\nb", "control character at 1");
        expect_id_refused(i, "\xff", "not valid UTF-8 at 0");
        expect_id_refused(i, "x\xed\xa0\x80", "not valid UTF-8 at 1");
        expect_id_refused(i, "\xc0\xaf", "not valid UTF-8 at 0");
        expect_id_refused(i, "\xe5\xba", "not valid UTF-8 at 0");
    }
    /* 128 bytes of three-byte characters and one more byte */
    static char wide[130];
    for (int k = 0; k < 42; k++)
        memcpy(wide + 3 * k, "店", 3);
    memcpy(wide + 126, "ab", 2);
    csm_event ev = with_id(1, wide);
    valid(&ev);
    wide[128] = 'c';
    expect_id_refused(1, wide, "longer than 128 bytes");
}

static void shop_id_hash_tag(void **state)
{
    (void)state;
    csm_event ev = chat_event();
    ev.shop_id = "X}:board:{Y";
    invalid(&ev, "field shop_id: '}' not allowed");
    ev.shop_id = "a{b";
    invalid(&ev, "field shop_id: '{' not allowed");
    ev.shop_id = "}";
    invalid(&ev, "field shop_id: '}' not allowed");
    ev.stream = CSM_STREAM_ORDER;
    ev.order.type = CSM_ORDER_PAID;
    ev.order.order_id = "o1";
    ev.shop_id = "{s";
    invalid(&ev, "field shop_id: '{' not allowed");
    /* only shop_id is the hash tag: braces elsewhere are ordinary */
    ev = chat_event();
    ev.customer_id = "c{1}";
    ev.event_id = "{e}";
    ev.chat.agent_id = "a}";
    valid(&ev);
    ev.shop_id = "店铺:1";
    valid(&ev);
}

static void empty_and_absent_ids(void **state)
{
    (void)state;
    csm_event ev = chat_event();
    ev.chat.agent_id = NULL;
    ev.chat.from_agent_id = NULL;
    ev.chat.group_id = NULL;
    ev.chat.order_id = NULL;
    valid(&ev);
    ev.chat.group_id = "";
    invalid(&ev, "field group_id: empty");
    ev = chat_event();
    ev.shop_id = "";
    invalid(&ev, "missing field shop_id");
    ev = order_event();
    ev.order.order_id = "";
    invalid(&ev, "missing field order_id");
    ev.order.order_id = "o1";
    ev.order.refund_id = NULL;
    valid(&ev);
}

/* ---- both decoders ---- */

static csm_codec *codec(void)
{
    char err[512];
    csm_codec *c = csm_codec_new(getenv("CSM_SCHEMA_DIR"), err, sizeof err);
    if (!c)
        fail_msg("codec: %s", err);
    return c;
}

/* Every string field of both streams, each with a distinct placeholder
 * of 6 bytes that the Avro encoding holds verbatim. */
typedef struct str_field {
    csm_stream stream;
    const char *name, *placeholder;
} str_field;

static const str_field strs[] = {
    {CSM_STREAM_CHAT, "event_id", "#evid#"},
    {CSM_STREAM_CHAT, "shop_id", "#shop#"},
    {CSM_STREAM_CHAT, "customer_id", "#cust#"},
    {CSM_STREAM_CHAT, "agent_id", "#agnt#"},
    {CSM_STREAM_CHAT, "from_agent_id", "#from#"},
    {CSM_STREAM_CHAT, "group_id", "#grup#"},
    {CSM_STREAM_CHAT, "order_id", "#cord#"},
    {CSM_STREAM_CHAT, "intent", "#intn#"},
    {CSM_STREAM_CHAT, "reason", "#rson#"},
    {CSM_STREAM_ORDER, "event_id", "#evid#"},
    {CSM_STREAM_ORDER, "shop_id", "#shop#"},
    {CSM_STREAM_ORDER, "customer_id", "#cust#"},
    {CSM_STREAM_ORDER, "order_id", "#oord#"},
    {CSM_STREAM_ORDER, "refund_id", "#rfnd#"},
    {CSM_STREAM_ORDER, "logistics_status", "#lgst#"},
};

static csm_event placeholders(csm_stream s)
{
    csm_event ev = s == CSM_STREAM_CHAT ? chat_event() : order_event();
    ev.event_id = "#evid#";
    ev.shop_id = "#shop#";
    ev.customer_id = "#cust#";
    if (s == CSM_STREAM_CHAT) {
        ev.chat.agent_id = "#agnt#";
        ev.chat.from_agent_id = "#from#";
        ev.chat.group_id = "#grup#";
        ev.chat.order_id = "#cord#";
        ev.chat.intent = "#intn#";
        ev.chat.reason = "#rson#";
    } else {
        ev.order.order_id = "#oord#";
        ev.order.refund_id = "#rfnd#";
        ev.order.logistics_status = "#lgst#";
    }
    return ev;
}

/* Encodes the placeholders, puts @p byte at @p pos of field @p f's
 * bytes and decodes; returns the decoder's verdict, reason in err. */
static int avro_with_byte(csm_codec *c, const str_field *f, size_t pos, unsigned char byte,
                          char *err, size_t errlen)
{
    csm_event ev = placeholders(f->stream);
    unsigned char buf[1024];
    long n = csm_codec_encode(c, &ev, -1, buf, sizeof buf);
    assert_true(n > 0);
    unsigned char *at = memmem(buf, (size_t)n, f->placeholder, 6);
    assert_non_null(at);
    at[pos] = byte;
    csm_event_slot out;
    return csm_codec_decode(c, f->stream, CSM_FRAMING_PLAIN, buf, (size_t)n, &out, err, errlen);
}

static void avro_decoder_refuses_every_string(void **state)
{
    (void)state;
    csm_codec *c = codec();
    char err[256], want[128];
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
        const str_field *f = &strs[i];
        if (avro_with_byte(c, f, 0, '#', err, sizeof err))
            fail_msg("placeholders of %s refused: %s", f->name, err);
        assert_int_equal(avro_with_byte(c, f, 3, 0, err, sizeof err), -1);
        snprintf(want, sizeof want, "field %s: NUL byte at 3", f->name);
        assert_string_equal(err, want);
        assert_int_equal(avro_with_byte(c, f, 5, 0xff, err, sizeof err), -1);
        snprintf(want, sizeof want, "field %s: not valid UTF-8 at 5", f->name);
        assert_string_equal(err, want);
        assert_int_equal(avro_with_byte(c, f, 1, 0xc0, err, sizeof err), -1);
        snprintf(want, sizeof want, "field %s: not valid UTF-8 at 1", f->name);
        assert_string_equal(err, want);
    }
    /* the id rules after decoding: a '}' in shop_id, a control character */
    assert_int_equal(avro_with_byte(c, &strs[1], 2, '}', err, sizeof err), -1);
    assert_string_equal(err, "field shop_id: '}' not allowed");
    assert_int_equal(avro_with_byte(c, &strs[3], 4, 0x1b, err, sizeof err), -1);
    assert_string_equal(err, "field agent_id: control character at 4");
    /* free text may hold control characters (a line break in a reason) */
    if (avro_with_byte(c, &strs[8], 4, '\n', err, sizeof err))
        fail_msg("a line break in reason refused: %s", err);
    csm_codec_free(c);
}

static int json_decode(const char *line, char *err, size_t errlen)
{
    csm_event_slot out;
    return csm_json_decode_line(line, strlen(line), &out, err, errlen);
}

static void json_decoder_refuses(void **state)
{
    (void)state;
    char err[256], line[512];
    const char *fmt = "{\"stream\":\"chat\",\"event_id\":\"e1\",\"platform\":\"TMALL\","
                      "\"shop_id\":\"%s\",\"customer_id\":\"%s\",\"ts\":1795140000000,"
                      "\"type\":\"ASSIGNED\",\"agent_id\":\"%s\"}";
    snprintf(line, sizeof line, fmt, "店铺1", "客服a", "a1");
    if (json_decode(line, err, sizeof err))
        fail_msg("refused: %s", err);
    snprintf(line, sizeof line, fmt, "X}:board:{Y", "c1", "a1");
    assert_int_equal(json_decode(line, err, sizeof err), -1);
    assert_string_equal(err, "field shop_id: '}' not allowed");
    snprintf(line, sizeof line, fmt, "s1", "c1", "a\\u0001");
    assert_int_equal(json_decode(line, err, sizeof err), -1);
    assert_string_equal(err, "field agent_id: control character at 1");
    snprintf(line, sizeof line, fmt, "s1", "c\\u007f", "a1");
    assert_int_equal(json_decode(line, err, sizeof err), -1);
    assert_string_equal(err, "field customer_id: control character at 1");
    /* JSON text is UTF-8 by definition: the parser refuses a NUL escape,
     * a lone surrogate escape and raw bytes that are not UTF-8 before the
     * fields are read. */
    snprintf(line, sizeof line, fmt, "S1\\u0000x", "c1", "a1");
    assert_int_equal(json_decode(line, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid JSON"));
    snprintf(line, sizeof line, fmt, "s1", "\\ud800", "a1");
    assert_int_equal(json_decode(line, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid JSON"));
    snprintf(line, sizeof line, fmt, "s\xff", "c1", "a1");
    assert_int_equal(json_decode(line, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid JSON"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_utf8_and_nul),
        cmocka_unit_test(ids_every_rule_every_field),
        cmocka_unit_test(shop_id_hash_tag),
        cmocka_unit_test(empty_and_absent_ids),
        cmocka_unit_test(avro_decoder_refuses_every_string),
        cmocka_unit_test(json_decoder_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
