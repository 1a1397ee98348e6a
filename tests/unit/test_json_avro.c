/* JSON object → Avro binary of any writer schema (json_avro.h). The bytes
 * expected are derived by hand from the Avro specification's binary
 * encoding: a long or int is zig-zag then base-128 varint (0 → 00, -1 → 01,
 * 1 → 02, 7 → 0e, 64 → 80 01), a string or bytes its length then the
 * bytes, a union the branch index then the value, an enum the symbol
 * index, an array or map blocks of a count then the items, ended by 0,
 * float and double little-endian IEEE 754, a record its fields in order.
 * Confluent framing is the byte 0 then the schema id, 4 bytes big-endian. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"
#include "json_avro.h"

static csm_json_avro *writer(const char *schema)
{
    char err[512];
    csm_json_avro *w = csm_json_avro_new(schema, strlen(schema), err, sizeof err);
    if (!w)
        fail_msg("schema: %s", err);
    return w;
}

static void expect_bytes(csm_json_avro *w, const char *json, int32_t id, const char *want_hex)
{
    unsigned char buf[256];
    char err[512] = "", got_hex[520] = "";
    long n = csm_json_avro_encode(w, json, strlen(json), id, buf, sizeof buf, err, sizeof err);
    if (n < 0)
        fail_msg("%s: %s", json, err);
    for (long i = 0; i < n; i++)
        snprintf(got_hex + strlen(got_hex), sizeof got_hex - strlen(got_hex), "%s%02x",
                 i ? " " : "", buf[i]);
    assert_string_equal(got_hex, want_hex);
}

static void expect_error(csm_json_avro *w, const char *json, const char *want)
{
    unsigned char buf[256];
    char err[512] = "";
    long n = csm_json_avro_encode(w, json, strlen(json), -1, buf, sizeof buf, err, sizeof err);
    assert_int_equal(n, -1);
    assert_string_equal(err, want);
}

static void strings_and_framing(void **state)
{
    (void)state;
    csm_json_avro *w = writer("{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                              "{\"name\":\"a\",\"type\":\"string\"}]}");
    expect_bytes(w, "{\"a\":\"x\"}", -1, "02 78");
    /* Keys the schema has no field for are ignored, as "stream" of the
     * events' JSON Lines. */
    expect_bytes(w, "{\"stream\":\"chat\",\"a\":\"x\"}", -1, "02 78");
    expect_bytes(w, "{\"a\":\"x\"}", 21, "00 00 00 00 15 02 78");
    expect_bytes(w, "{\"a\":\"x\"}", 0x01020304, "00 01 02 03 04 02 78");
    expect_bytes(w, "{\"a\":\"\"}", -1, "00");
    csm_json_avro_free(w);
}

static void primitives(void **state)
{
    (void)state;
    csm_json_avro *w = writer("{\"type\":\"record\",\"name\":\"P\",\"fields\":["
                              "{\"name\":\"b\",\"type\":\"boolean\"},"
                              "{\"name\":\"i\",\"type\":\"int\"},"
                              "{\"name\":\"l\",\"type\":\"long\"},"
                              "{\"name\":\"f\",\"type\":\"float\"},"
                              "{\"name\":\"d\",\"type\":\"double\"},"
                              "{\"name\":\"n\",\"type\":\"null\"},"
                              "{\"name\":\"y\",\"type\":\"bytes\"},"
                              "{\"name\":\"x\",\"type\":{\"type\":\"fixed\",\"name\":\"Two\","
                              "\"size\":2}}]}");
    /* true 01; -1 → 01; 64 → 80 01; 1.5f = 0x3fc00000; 1.0 =
     * 0x3ff0000000000000; null nothing; bytes ff 01 (code points
     * U+00FF U+0001): length 2 → 04; fixed "ab" 61 62 without a length. */
    expect_bytes(w,
                 "{\"b\":true,\"i\":-1,\"l\":64,\"f\":1.5,\"d\":1,\"n\":null,"
                 "\"y\":\"\\u00ff\\u0001\",\"x\":\"ab\"}",
                 -1, "01 01 80 01 00 00 c0 3f 00 00 00 00 00 00 f0 3f 04 ff 01 61 62");
    csm_json_avro_free(w);
}

static void unions(void **state)
{
    (void)state;
    csm_json_avro *w = writer("{\"type\":\"record\",\"name\":\"U\",\"namespace\":\"t\",\"fields\":["
                              "{\"name\":\"u\",\"type\":[\"null\",\"string\"]},"
                              "{\"name\":\"v\",\"type\":[\"int\",\"long\",\"string\"]},"
                              "{\"name\":\"k\",\"type\":[\"null\",{\"type\":\"enum\",\"name\":"
                              "\"K\",\"symbols\":[\"A\",\"B\",\"C\"]}]}]}");
    /* null: branch 0 → 00; 5 fits int first: 00 0a; "B": branch 1, index 1 → 02 02. */
    expect_bytes(w, "{\"u\":null,\"v\":5,\"k\":\"B\"}", -1, "00 00 0a 02 02");
    /* "x": branch 1 → 02, then 02 78; "x" fits string, branch 2 → 04 02 78. */
    expect_bytes(w, "{\"u\":\"x\",\"v\":\"x\",\"k\":null}", -1, "02 02 78 04 02 78 00");
    /* Avro's JSON form picks the branch: {"long":5} → 02 0a; the enum by
     * its full name or its bare name: C is index 2 → 04. */
    expect_bytes(w, "{\"u\":{\"string\":\"x\"},\"v\":{\"long\":5},\"k\":{\"t.K\":\"C\"}}", -1,
                 "02 02 78 02 0a 02 04");
    expect_bytes(w, "{\"u\":{\"null\":null},\"v\":{\"int\":5},\"k\":{\"K\":\"A\"}}", -1,
                 "00 00 0a 02 00");
    expect_error(w, "{\"u\":true,\"v\":1,\"k\":null}", "field u: expected a string, got true");
    expect_error(w, "{\"u\":null,\"v\":1.5,\"k\":null}",
                 "field v: expected one of int|long|string, got 1.5");
    csm_json_avro_free(w);
}

static void defaults(void **state)
{
    (void)state;
    csm_json_avro *w =
        writer("{\"type\":\"record\",\"name\":\"D\",\"fields\":["
               "{\"name\":\"n\",\"type\":\"int\",\"default\":7},"
               "{\"name\":\"u\",\"type\":[\"null\",\"string\"],\"default\":null},"
               "{\"name\":\"s\",\"type\":\"string\",\"default\":\"hi\"},"
               "{\"name\":\"f\",\"type\":[\"string\",\"null\"],\"default\":\"d\"},"
               "{\"name\":\"in\",\"type\":{\"type\":\"record\",\"name\":\"In\",\"fields\":["
               "{\"name\":\"x\",\"type\":\"int\",\"default\":3}]},\"default\":{}},"
               "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":"
               "[\"P\",\"Q\"]},\"default\":\"Q\"},"
               "{\"name\":\"xs\",\"type\":{\"type\":\"array\",\"items\":\"int\"},"
               "\"default\":[1,2]},"
               "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"int\"},"
               "\"default\":{\"k\":1}}]}");
    /* 7 → 0e; null → 00; "hi" → 04 68 69; a union default is its first
     * branch: 00 02 64; In's x defaults to 3 → 06; Q → 02; [1,2] → count
     * 2 (04), 02 04, end 00; {"k":1} → count 1 (02), key 02 6b, 02, 00. */
    expect_bytes(w, "{}", -1, "0e 00 04 68 69 00 02 64 06 02 04 02 04 00 02 02 6b 02 00");
    /* Given values win over defaults; a nested record's own defaults fill it. */
    expect_bytes(w, "{\"n\":1,\"in\":{},\"xs\":[],\"m\":{}}", -1,
                 "02 00 04 68 69 00 02 64 06 02 00 00");
    csm_json_avro_free(w);
}

static void reasons(void **state)
{
    (void)state;
    csm_json_avro *w =
        writer("{\"type\":\"record\",\"name\":\"R\",\"fields\":["
               "{\"name\":\"shop_id\",\"type\":\"string\"},"
               "{\"name\":\"stars\",\"type\":\"int\",\"default\":0},"
               "{\"name\":\"in\",\"type\":{\"type\":\"record\",\"name\":\"In\",\"fields\":["
               "{\"name\":\"xs\",\"type\":{\"type\":\"array\",\"items\":\"int\"},"
               "\"default\":[]}]},\"default\":{}},"
               "{\"name\":\"x\",\"type\":{\"type\":\"fixed\",\"name\":\"Two\",\"size\":2},"
               "\"default\":\"ab\"}]}");
    expect_error(w, "{\"stars\":1}", "field shop_id: missing and no default");
    expect_error(w, "{\"shop_id\":\"s\",\"stars\":\"five\"}",
                 "field stars: expected an int, got \"five\"");
    expect_error(w, "{\"shop_id\":\"s\",\"stars\":3000000000}",
                 "field stars: expected an int, got 3000000000");
    expect_error(w, "{\"shop_id\":\"s\",\"in\":{\"xs\":[1,\"b\"]}}",
                 "field in.xs[1]: expected an int, got \"b\"");
    expect_error(w, "{\"shop_id\":\"s\",\"x\":\"abc\"}",
                 "field x: expected a string of 2 code points 0-255 (fixed Two), got \"abc\"");
    expect_error(w, "{\"shop_id\":\"0123456789012345678901234567890123456789XYZ\",\"in\":7}",
                 "field in: expected an object (record In), got 7");
    expect_error(w, "{\"shop_id\":\"s\",\"stars\":\"0123456789012345678901234567890123456789\"}",
                 "field stars: expected an int, got \"012345678901234567890123456789012345678...");
    expect_error(w, "[1]", "not a JSON object");
    unsigned char buf[64];
    char why[256];
    assert_int_equal(
        csm_json_avro_encode(w, "{\"shop_id\":", 11, -1, buf, sizeof buf, why, sizeof why), -1);
    assert_memory_equal(why, "invalid JSON: ", 14);
    unsigned char small[3];
    char err[128];
    assert_int_equal(csm_json_avro_encode(w, "{\"shop_id\":\"abc\"}", 17, 7, small, sizeof small,
                                          err, sizeof err),
                     -1);
    assert_string_equal(err, "does not fit in 3 bytes");
    csm_json_avro_free(w);
}

static void schema_reasons(void **state)
{
    (void)state;
    char err[512];
    const char *bad_default = "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                              "{\"name\":\"n\",\"type\":[\"null\",\"int\"],\"default\":7}]}";
    assert_null(csm_json_avro_new(bad_default, strlen(bad_default), err, sizeof err));
    assert_string_equal(err, "field R.n: bad default: expected null, got 7");
    const char *not_record = "\"string\"";
    assert_null(csm_json_avro_new(not_record, strlen(not_record), err, sizeof err));
    assert_string_equal(err, "not an Avro record schema");
    assert_null(csm_json_avro_load("/nonexistent/v2.avsc", err, sizeof err));
    assert_string_equal(err, "/nonexistent/v2.avsc: No such file or directory");
}

static csm_json_avro *our_writer(const char *file)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/%s", getenv("CSM_SCHEMA_DIR"), file);
    csm_json_avro *w = csm_json_avro_load(path, err, sizeof err);
    if (!w)
        fail_msg("%s", err);
    return w;
}

/* A symbol our schema does not know, as a newer writer would send it. */
static void unknown_symbol(void **state)
{
    (void)state;
    csm_json_avro *w = our_writer("chat_event.avsc");
    expect_error(w,
                 "{\"event_id\":\"e\",\"platform\":\"JD\",\"shop_id\":\"s\",\"customer_id\":\"c\","
                 "\"ts\":1,\"type\":\"MESSAGE\",\"msg_kind\":\"LIVE_CARD\"}",
                 "field msg_kind: LIVE_CARD is not a symbol of MsgKind");
    expect_error(
        w,
        "{\"event_id\":\"e\",\"platform\":\"JD\",\"shop_id\":\"s\",\"customer_id\":\"c\","
        "\"ts\":1,\"type\":\"MESSAGE\",\"msg_kind\":{\"csmetrics.MsgKind\":\"LIVE_CARD\"}}",
        "field msg_kind: LIVE_CARD is not a symbol of MsgKind");
    csm_json_avro_free(w);
}

/* Our own schemas through both encoders: the same bytes. */
static const char *const EVENTS[] = {
    "{\"stream\":\"chat\",\"event_id\":\"e1\",\"platform\":\"TMALL\",\"shop_id\":\"s1\","
    "\"customer_id\":\"c1\",\"ts\":1795140000123,\"type\":\"TRANSFERRED\",\"sender\":\"AGENT\","
    "\"msg_kind\":\"RATING_CARD\",\"agent_id\":\"a2\",\"from_agent_id\":\"a1\",\"group_id\":\"g\","
    "\"entry\":\"MERCHANT_INITIATED\",\"order_id\":\"o1\",\"intent\":\"after_sale/refund\","
    "\"stars\":4,\"reason\":\"busy\"}",
    "{\"stream\":\"chat\",\"event_id\":\"e2\",\"platform\":\"DOUYIN\",\"shop_id\":\"店\","
    "\"customer_id\":\"c2\",\"ts\":0,\"type\":\"MESSAGE\",\"sender\":\"CUSTOMER\","
    "\"msg_kind\":\"TEXT\",\"entry\":\"PRODUCT_PAGE\"}",
    "{\"stream\":\"chat\",\"event_id\":\"e3\",\"platform\":\"OTHER\",\"shop_id\":\"s\","
    "\"customer_id\":\"c\",\"ts\":-1,\"type\":\"AGENT_STATUS\",\"stars\":null,\"reason\":null}",
    "{\"stream\":\"order\",\"event_id\":\"e4\",\"platform\":\"JD\",\"shop_id\":\"s1\","
    "\"customer_id\":\"c1\",\"ts\":1795140000456,\"order_id\":\"o1\",\"type\":"
    "\"COMPLAINT_INTERVENED\",\"amount_cents\":12345,\"refund_id\":\"r1\","
    "\"logistics_status\":\"stuck\"}",
    "{\"stream\":\"order\",\"event_id\":\"e5\",\"platform\":\"PINDUODUO\",\"shop_id\":\"s2\","
    "\"customer_id\":\"c2\",\"ts\":1795140000457,\"order_id\":\"o2\",\"type\":\"CREATED\"}",
};

static void same_bytes_as_codec(csm_codec *c, csm_json_avro *const writers[2], const char *line,
                                int32_t id)
{
    csm_event_slot *slot = malloc(sizeof *slot);
    char err[512];
    if (csm_json_decode_line(line, strlen(line), slot, err, sizeof err))
        fail_msg("%s: %s", line, err);
    unsigned char want[1024], got[1024];
    long n = csm_codec_encode(c, &slot->ev, id, want, sizeof want);
    assert_true(n > 0);
    csm_json_avro *w = writers[slot->ev.stream == CSM_STREAM_ORDER];
    long m = csm_json_avro_encode(w, line, strlen(line), id, got, sizeof got, err, sizeof err);
    if (m < 0)
        fail_msg("%s: %s", line, err);
    assert_int_equal(m, n);
    assert_memory_equal(got, want, (size_t)n);
    /* What gen writes: the event through csm_json_encode, then this. */
    char again[4096];
    long k = csm_json_encode(&slot->ev, again, sizeof again);
    assert_true(k > 0);
    m = csm_json_avro_encode(w, again, (size_t)k, id, got, sizeof got, err, sizeof err);
    assert_int_equal(m, n);
    assert_memory_equal(got, want, (size_t)n);
    free(slot);
}

static void agrees_with_codec(void **state)
{
    (void)state;
    char err[512];
    csm_codec *c = csm_codec_new(getenv("CSM_SCHEMA_DIR"), err, sizeof err);
    if (!c)
        fail_msg("codec: %s", err);
    csm_json_avro *const writers[2] = {our_writer("chat_event.avsc"),
                                       our_writer("order_event.avsc")};
    for (size_t i = 0; i < sizeof EVENTS / sizeof *EVENTS; i++) {
        same_bytes_as_codec(c, writers, EVENTS[i], -1);
        same_bytes_as_codec(c, writers, EVENTS[i], 17);
    }
    csm_json_avro_free(writers[0]);
    csm_json_avro_free(writers[1]);
    csm_codec_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strings_and_framing),
        cmocka_unit_test(primitives),
        cmocka_unit_test(unions),
        cmocka_unit_test(defaults),
        cmocka_unit_test(reasons),
        cmocka_unit_test(schema_reasons),
        cmocka_unit_test(unknown_symbol),
        cmocka_unit_test(agrees_with_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
