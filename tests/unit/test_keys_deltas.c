/* The key scheme and the pending-writes table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../support/count_alloc.h"
#include "csmetrics/plugin.h"
#include "delta_view.h"
#include "deltas.h"
#include "intern.h"
#include "civil_day.h"
#include "keys.h"

static void day_roundtrip(const char *s, int32_t expect)
{
    int32_t day = -12345;
    char out[11];
    assert_int_equal(csm_day_parse(s, &day), 0);
    assert_int_equal(day, expect);
    csm_day_format(day, out);
    assert_string_equal(out, s);
}

static void test_day_format_parse(void **state)
{
    (void)state;
    day_roundtrip("1970-01-01", 0);
    day_roundtrip("1969-12-31", -1);
    day_roundtrip("2000-03-01", 11017);
    day_roundtrip("2024-02-29", 19782);
    day_roundtrip("2024-03-01", 19783);
    day_roundtrip("2026-11-22", 20779);
    day_roundtrip("2100-02-28", 47540);
    day_roundtrip("2100-03-01", 47541);

    /* Every day of four centuries survives a round trip, in order. */
    int32_t prev;
    assert_int_equal(csm_day_parse("1900-01-01", &prev), 0);
    for (int32_t d = prev; d < prev + 146097; d++) {
        char s[11];
        int32_t back;
        csm_day_format(d, s);
        assert_int_equal(csm_day_parse(s, &back), 0);
        assert_int_equal(back, d);
    }

    int32_t day;
    const char *bad[] = {"",           "2024-2-29",  "2023-02-29", "2100-02-29",  "2024-13-01",
                         "2024-00-10", "2024-01-32", "2024-04-31", "2024-01-01x", "2024/01/01",
                         "abcd-ef-gh", "2024-01-0 ", NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(csm_day_parse(bad[i], &day), -1);
    assert_int_equal(csm_day_parse(NULL, &day), -1);
}

static void test_keys(void **state)
{
    (void)state;
    char b[128];
    int32_t d;
    assert_int_equal(csm_day_parse("2026-11-22", &d), 0);

    assert_int_equal(csm_key_block(b, sizeof b, "csm", "s1", "board", d),
                     (int)strlen("csm:{s1}:board:2026-11-22"));
    assert_string_equal(b, "csm:{s1}:board:2026-11-22");
    csm_key_block(b, sizeof b, "csm", "s1", "allday", d);
    assert_string_equal(b, "csm:{s1}:allday:2026-11-22");
    csm_key_agent(b, sizeof b, "p", "s1", d, "a7");
    assert_string_equal(b, "p:{s1}:agent:2026-11-22:a7");
    csm_key_agents(b, sizeof b, "p", "s1", d);
    assert_string_equal(b, "p:{s1}:agents:2026-11-22");
    csm_key_intent(b, sizeof b, "p", "s1", d, "退货");
    assert_string_equal(b, "p:{s1}:intent:2026-11-22:退货");
    csm_key_intents(b, sizeof b, "p", "s1", d);
    assert_string_equal(b, "p:{s1}:intents:2026-11-22");
    csm_key_set(b, sizeof b, "p", "s1", d, "aftersale_seekers");
    assert_string_equal(b, "p:{s1}:set:2026-11-22:aftersale_seekers");
    csm_key_boardset(b, sizeof b, "p", "s1", d, "aftersale_seekers");
    assert_string_equal(b, "p:{s1}:boardset:2026-11-22:aftersale_seekers");
    csm_key_alerts(b, sizeof b, "p", "s1");
    assert_string_equal(b, "p:{s1}:alerts");
    csm_key_shops(b, sizeof b, "p");
    assert_string_equal(b, "p:shops");
    csm_key_checkpoint(b, sizeof b, "p", "grp", 12);
    assert_string_equal(b, "p:ckpt:grp:12");
    csm_field_split(b, sizeof b, "presale", "rated");
    assert_string_equal(b, "split.presale.rated");
    csm_field_hourly(b, sizeof b, "sessions_started", 7);
    assert_string_equal(b, "hourly.sessions_started.07");
    csm_field_hourly(b, sizeof b, "rated", 23);
    assert_string_equal(b, "hourly.rated.23");
    assert_int_equal(csm_field_hourly(b, sizeof b, "rated", 24), -1);
    /* "split.presale.rated" is 19 bytes and "hourly.rated.23" 15: they fit
     * with their NUL, and not one byte less. */
    assert_int_equal(csm_field_split(b, 20, "presale", "rated"), 19);
    assert_int_equal(csm_field_split(b, 19, "presale", "rated"), -1);
    assert_int_equal(csm_field_hourly(b, 16, "rated", 23), 15);
    assert_string_equal(b, "hourly.rated.23");
    assert_int_equal(csm_field_hourly(b, 15, "rated", 23), -1);
    assert_int_equal(csm_field_hourly(b, 0, "rated", 3), -1);

    /* Exactly full: the NUL must fit too. */
    char small[8];
    assert_int_equal(csm_key_shops(small, sizeof small, "a"), 7);
    assert_int_equal(csm_key_shops(small, sizeof small, "ab"), -1);
    assert_int_equal(csm_key_block(small, sizeof small, "csm", "s1", "board", d), -1);
}

typedef struct rec {
    char text[64][160];
    int n;
} rec;

static void record(void *arg, const csm_delta_op *op)
{
    rec *r = arg;
    char *t = r->text[r->n++];
    switch (op->kind) {
    case CSM_DELTA_HINCRBY:
        snprintf(t, 160, "HINCRBY %s %s %lld", op->key, op->field, (long long)op->value);
        break;
    case CSM_DELTA_SADD:
        snprintf(t, 160, "SADD %s %s", op->key, op->field);
        break;
    case CSM_DELTA_EXPIREAT:
        snprintf(t, 160, "EXPIREAT %s %lld", op->key, (long long)op->value);
        break;
    case CSM_DELTA_ZADD:
        snprintf(t, 160, "ZADD %s %lld %s", op->key, (long long)op->value, op->field);
        break;
    case CSM_DELTA_XADD: {
        int k = snprintf(t, 160, "XADD %s %ld", op->key, op->maxlen);
        for (size_t i = 0; i < op->n_fv; i++)
            k += snprintf(t + k, 160 - (size_t)k, " %s", op->fv[i]);
        break;
    }
    }
}

#define DAY 20779 /* 2026-11-22 */
#define NONE CSM_INTERN_NONE

static uint32_t id(csm_deltas *d, const char *s)
{
    return csm_intern_id(csm_deltas_names(d), s);
}

static csm_dkey key_of(csm_deltas *d, csm_key_kind kind, const char *shop, const char *name)
{
    return (csm_dkey){kind, shop ? id(d, shop) : NONE, shop ? DAY : 0, name ? id(d, name) : NONE};
}

static void fill(csm_deltas *d)
{
    csm_dkey board = key_of(d, CSM_KEY_BOARD, "s1", NULL);
    csm_dkey allday = key_of(d, CSM_KEY_ALLDAY, "s1", NULL);
    csm_dkey set = key_of(d, CSM_KEY_SET, "s1", "seekers");
    csm_dkey alerts = {CSM_KEY_ALERTS, id(d, "s1"), 0, NONE};
    csm_dkey shops = key_of(d, CSM_KEY_SHOPS, NULL, NULL);
    csm_dkey agent = key_of(d, CSM_KEY_AGENT, "s1", "a7");
    csm_deltas_hincr(d, &board, id(d, "a"), NONE, -1, 1, 100);
    csm_deltas_hincr(d, &allday, id(d, "a"), NONE, -1, 5, 200);
    char member[8] = "m1";
    csm_deltas_sadd_str(d, &set, member, 300);
    member[1] = '2'; /* the table copies what it keeps */
    csm_deltas_hincr(d, &board, id(d, "b"), NONE, -1, 2, 100);
    csm_deltas_hincr(d, &board, id(d, "a"), NONE, -1, 3, 150); /* later expiry wins */
    csm_deltas_sadd_str(d, &set, "m1", 300);                   /* a set member counts once */
    char field[8] = "x";
    const char *fv[] = {"type", "T", "figure", field};
    csm_deltas_xadd(d, &alerts, 10, fv, 4);
    field[0] = 'y';
    csm_deltas_sadd_id(d, &shops, id(d, "s1"), 0);
    csm_deltas_hincr(d, &allday, id(d, "a"), NONE, -1, -5, 0);
    csm_deltas_hincr(d, &board, id(d, "a"), NONE, 7, 1, 0);
    csm_deltas_hincr(d, &agent, id(d, "rated"), id(d, "presale"), -1, 2, 400);
}

/* Key by key in first-insertion order, each key's items in theirs, then
 * the expiries. */
static const char *const fill_ops[] = {"HINCRBY p:{s1}:board:2026-11-22 a 4",
                                       "HINCRBY p:{s1}:board:2026-11-22 b 2",
                                       "HINCRBY p:{s1}:board:2026-11-22 hourly.a.07 1",
                                       "HINCRBY p:{s1}:allday:2026-11-22 a 0",
                                       "SADD p:{s1}:set:2026-11-22:seekers m1",
                                       "XADD p:{s1}:alerts 10 type T figure x",
                                       "SADD p:shops s1",
                                       "HINCRBY p:{s1}:agent:2026-11-22:a7 split.presale.rated 2",
                                       "EXPIREAT p:{s1}:board:2026-11-22 150",
                                       "EXPIREAT p:{s1}:allday:2026-11-22 200",
                                       "EXPIREAT p:{s1}:set:2026-11-22:seekers 300",
                                       "EXPIREAT p:{s1}:agent:2026-11-22:a7 400",
                                       NULL};

static void assert_fill_ops(const csm_deltas *d)
{
    rec r = {.n = 0};
    csm_deltas_foreach(d, record, &r);
    int n = 0;
    while (fill_ops[n])
        n++;
    assert_int_equal(r.n, n);
    for (int i = 0; i < n; i++)
        assert_string_equal(r.text[i], fill_ops[i]);
}

static void test_deltas_aggregate_order(void **state)
{
    (void)state;
    csm_deltas *d = csm_deltas_new("p");
    fill(d);
    assert_int_equal(csm_deltas_size(d), 8);
    assert_int_equal(csm_deltas_get(d, "p:{s1}:board:2026-11-22", "a"), 4);
    assert_int_equal(csm_deltas_get(d, "p:{s1}:board:2026-11-22", "b"), 2);
    assert_int_equal(csm_deltas_get(d, "p:{s1}:board:2026-11-22", "hourly.a.07"), 1);
    assert_int_equal(csm_deltas_get(d, "p:{s1}:agent:2026-11-22:a7", "split.presale.rated"), 2);
    assert_int_equal(csm_deltas_get(d, "p:{s1}:allday:2026-11-22", "a"), 0);
    assert_int_equal(csm_deltas_get(d, "p:{s1}:board:2026-11-22", "zz"), 0);
    assert_int_equal(csm_deltas_get(d, "nokey", "a"), 0);
    /* a member is no counter */
    assert_int_equal(csm_deltas_get(d, "p:{s1}:set:2026-11-22:seekers", "m1"), 0);
    csm_dkey board = key_of(d, CSM_KEY_BOARD, "s1", NULL);
    assert_int_equal(csm_deltas_counter(d, &board, id(d, "a"), NONE, -1), 4);
    assert_int_equal(csm_deltas_counter(d, &board, id(d, "a"), NONE, 7), 1);
    assert_int_equal(csm_deltas_counter(d, &board, id(d, "a"), NONE, 8), 0);
    assert_fill_ops(d);
    csm_deltas_free(d);
}

/* A set's board half is a set of its own, with its own expiry. */
static void test_deltas_boardset(void **state)
{
    (void)state;
    csm_deltas *d = csm_deltas_new("p");
    csm_dkey set = key_of(d, CSM_KEY_SET, "s1", "seekers");
    csm_dkey board = key_of(d, CSM_KEY_BOARDSET, "s1", "seekers");
    csm_deltas_sadd_str(d, &set, "m1", 300);
    csm_deltas_sadd_str(d, &set, "m2", 300);
    csm_deltas_sadd_str(d, &board, "m2", 300);
    rec r = {.n = 0};
    csm_deltas_foreach(d, record, &r);
    static const char *const want[] = {
        "SADD p:{s1}:set:2026-11-22:seekers m1", "SADD p:{s1}:set:2026-11-22:seekers m2",
        "SADD p:{s1}:boardset:2026-11-22:seekers m2", "EXPIREAT p:{s1}:set:2026-11-22:seekers 300",
        "EXPIREAT p:{s1}:boardset:2026-11-22:seekers 300"};
    assert_int_equal(r.n, 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal(r.text[i], want[i]);
    csm_deltas_free(d);
}

static void test_deltas_clear_reuse(void **state)
{
    (void)state;
    csm_deltas *d = csm_deltas_new("p");
    char shop[32], field[32];
    /* Enough distinct items to grow every table several times. */
    for (int round = 0; round < 3; round++) {
        uint64_t before = csm_deltas_version(d);
        for (int i = 0; i < 20000; i++) {
            snprintf(shop, sizeof shop, "s%d", i % 3000);
            snprintf(field, sizeof field, "field-%d", i);
            csm_dkey k = key_of(d, CSM_KEY_ALLDAY, shop, NULL);
            csm_deltas_hincr(d, &k, id(d, field), NONE, -1, i, 0);
            csm_deltas_hincr(d, &k, id(d, "total"), NONE, -1, 1, 1000 + round);
        }
        assert_true(csm_deltas_version(d) != before);
        assert_int_equal(csm_deltas_size(d), 20000 + 3000);
        /* i = 7, 3007, … 18007: 7 of them */
        assert_int_equal(csm_deltas_get(d, "p:{s7}:allday:2026-11-22", "total"), 7);
        assert_int_equal(csm_deltas_get(d, "p:{s2999}:allday:2026-11-22", "field-5999"), 5999);
        csm_deltas_clear(d);
        assert_int_equal(csm_deltas_size(d), 0);
        assert_int_equal(csm_deltas_get(d, "p:{s7}:allday:2026-11-22", "total"), 0);
        rec r = {.n = 0};
        csm_deltas_foreach(d, record, &r);
        assert_int_equal(r.n, 0);
    }
    /* After a clear the order starts afresh; names stay interned. */
    assert_int_equal(csm_intern_find(csm_deltas_names(d), "field-19999") == NONE, 0);
    fill(d);
    assert_fill_ops(d);
    csm_deltas_free(d);
}

static void test_deltas_merge(void **state)
{
    (void)state;
    csm_deltas *dst = csm_deltas_new("p"), *src = csm_deltas_new("p");
    /* dst interns other names first: the merge must carry strings, not ids */
    csm_dkey k9 = key_of(dst, CSM_KEY_BOARD, "s9", NULL);
    csm_deltas_hincr(dst, &k9, id(dst, "z"), NONE, -1, 1, 0);
    csm_dkey board = key_of(dst, CSM_KEY_BOARD, "s1", NULL);
    csm_deltas_hincr(dst, &board, id(dst, "a"), NONE, -1, 10, 100);
    fill(src);
    csm_deltas_merge(dst, src);
    assert_int_equal(csm_deltas_size(src), 0);
    assert_int_equal(csm_deltas_get(dst, "p:{s1}:board:2026-11-22", "a"), 14);
    assert_int_equal(csm_deltas_get(dst, "p:{s1}:board:2026-11-22", "b"), 2);
    assert_int_equal(csm_deltas_get(dst, "p:{s1}:board:2026-11-22", "hourly.a.07"), 1);
    assert_int_equal(csm_deltas_get(dst, "p:{s1}:agent:2026-11-22:a7", "split.presale.rated"), 2);
    assert_int_equal(csm_deltas_get(dst, "p:{s9}:board:2026-11-22", "z"), 1);
    assert_int_equal(csm_deltas_size(dst), 9);
    rec r = {.n = 0};
    csm_deltas_foreach(dst, record, &r);
    assert_int_equal(r.n, 9 + 4); /* 9 items, 4 keys with an expiry (not s9) */
    assert_string_equal(r.text[0], "HINCRBY p:{s9}:board:2026-11-22 z 1");
    assert_string_equal(r.text[1], "HINCRBY p:{s1}:board:2026-11-22 a 14");
    assert_string_equal(r.text[5], "SADD p:{s1}:set:2026-11-22:seekers m1");
    assert_string_equal(r.text[6], "XADD p:{s1}:alerts 10 type T figure x");
    assert_string_equal(r.text[9], "EXPIREAT p:{s1}:board:2026-11-22 150");
    /* src is reusable after the merge. */
    fill(src);
    assert_fill_ops(src);
    csm_deltas_free(src);
    csm_deltas_free(dst);
}

/* A due member is one operation; the latest score given wins, and merging
 * keeps it. */
static void test_deltas_zadd(void **state)
{
    (void)state;
    csm_deltas *d = csm_deltas_new("p");
    csm_dkey due = {CSM_KEY_SBT_DUE, NONE, 0, NONE};
    csm_deltas_zadd_due(d, &due, id(d, "s1"), CSM_PLATFORM_TAOBAO, DAY, 5);
    csm_deltas_zadd_due(d, &due, id(d, "s1"), CSM_PLATFORM_TAOBAO, DAY + 1, 7);
    csm_deltas_zadd_due(d, &due, id(d, "s1"), CSM_PLATFORM_TAOBAO, DAY, 9);
    assert_true(csm_deltas_has(d, &due, id(d, "s1"), CSM_PLATFORM_TAOBAO, DAY + 1));
    assert_false(csm_deltas_has(d, &due, id(d, "s1"), CSM_PLATFORM_JD, DAY + 1));
    rec r = {0};
    csm_deltas_foreach(d, record, &r);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.text[0], "ZADD p:sbt:due 9 2026-11-22|TAOBAO|s1");
    assert_string_equal(r.text[1], "ZADD p:sbt:due 7 2026-11-23|TAOBAO|s1");
    csm_deltas *m = csm_deltas_new("p");
    csm_deltas_merge(m, d);
    rec r2 = {0};
    csm_deltas_foreach(m, record, &r2);
    assert_int_equal(r2.n, 2);
    assert_string_equal(r2.text[0], "ZADD p:sbt:due 9 2026-11-22|TAOBAO|s1");
    csm_deltas_free(d);
    csm_deltas_free(m);
}

/* Ids are dense and stable; a string met again at the same address is
 * found through the pointer cache, and one met at that address with other
 * contents (an event buffer reused) is not mistaken for the old one. */
static void test_intern(void **state)
{
    (void)state;
    csm_intern *t = csm_intern_new();
    assert_int_equal(csm_intern_id(t, "shop1"), 0);
    assert_int_equal(csm_intern_id(t, "agent"), 1);
    assert_int_equal(csm_intern_id(t, "shop1"), 0);
    char buf[16] = "shop1";
    assert_int_equal(csm_intern_id(t, buf), 0);
    snprintf(buf, sizeof buf, "shop2");
    assert_int_equal(csm_intern_id(t, buf), 2);
    snprintf(buf, sizeof buf, "agent");
    assert_int_equal(csm_intern_id(t, buf), 1);
    assert_string_equal(csm_intern_str(t, 2), "shop2");
    assert_null(csm_intern_str(t, 3));
    assert_int_equal(csm_intern_find(t, "agent"), 1);
    assert_int_equal(csm_intern_find(t, "nobody"), CSM_INTERN_NONE);
    assert_int_equal(csm_intern_count(t), 3);
    /* Growth keeps every id and string. */
    char s[32];
    for (int i = 0; i < 50000; i++) {
        snprintf(s, sizeof s, "name-%d", i);
        assert_int_equal(csm_intern_id(t, s), 3 + i);
    }
    assert_string_equal(csm_intern_str(t, 0), "shop1");
    assert_string_equal(csm_intern_str(t, 3 + 49999), "name-49999");
    assert_int_equal(csm_intern_find(t, "name-777"), 3 + 777);
    csm_intern_reset(t);
    assert_int_equal(csm_intern_count(t), 0);
    assert_int_equal(csm_intern_find(t, "shop1"), CSM_INTERN_NONE);
    assert_int_equal(csm_intern_id(t, buf), 0); /* the cache was cleared too */
    assert_string_equal(csm_intern_str(t, 0), "agent");
    csm_intern_free(t);
}

/* One flush interval of a busy partition: many shops, counters with
 * hourly and split fields, subjects, members and an alert. */
static void busy_interval(csm_deltas *d)
{
    char shop[16], customer[16];
    for (int i = 0; i < 5000; i++) {
        snprintf(shop, sizeof shop, "s%d", i % 50);
        snprintf(customer, sizeof customer, "c%d", i % 700);
        csm_dkey k = key_of(d, CSM_KEY_ALLDAY, shop, NULL);
        csm_deltas_hincr(d, &k, id(d, "sessions"), NONE, -1, 1, 100);
        csm_deltas_hincr(d, &k, id(d, "sessions"), NONE, i % 24, 1, 100);
        csm_deltas_hincr(d, &k, id(d, "rated"), id(d, "presale"), -1, 1, 100);
        csm_dkey agent = key_of(d, CSM_KEY_AGENT, shop, i % 2 ? "a1" : "a2");
        csm_deltas_hincr(d, &agent, id(d, "replies"), NONE, -1, 1, 100);
        csm_dkey set = key_of(d, CSM_KEY_SET, shop, "seekers");
        csm_deltas_sadd_str(d, &set, customer, 100);
    }
    fill(d);
}

/* The hot path allocates nothing once its tables have grown: a second
 * interval like the first makes no allocation at all. */
static void test_deltas_steady_state_allocates_nothing(void **state)
{
    (void)state;
    count_allocations();
    csm_deltas *d = csm_deltas_new("p");
    long at_start = allocations;
    busy_interval(d);
    assert_true(allocations > at_start); /* the counter counts */
    csm_deltas_clear(d);
    long before = allocations;
    busy_interval(d);
    assert_int_equal(allocations, before);
    /* Shop j gets i = j + 50 m (m < 100): its hours (j + 2 m) % 24 are the
     * 12 of j's parity, its agent is the one of j's parity, its customers
     * (j + 50 m) % 700 are 14. So 50 allday hashes of 1 + 12 + 1 fields,
     * 50 agent hashes of one, 50 sets of 14, and fill's 8 items. */
    assert_int_equal(csm_deltas_size(d), 50 * 14 + 50 + 50 * 14 + 8);
    csm_deltas_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_day_format_parse),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_deltas_aggregate_order),
        cmocka_unit_test(test_deltas_boardset),
        cmocka_unit_test(test_deltas_clear_reuse),
        cmocka_unit_test(test_deltas_merge),
        cmocka_unit_test(test_deltas_zadd),
        cmocka_unit_test(test_intern),
        cmocka_unit_test(test_deltas_steady_state_allocates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
