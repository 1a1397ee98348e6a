/* The key scheme and the pending-writes table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "deltas.h"
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

static void fill(csm_deltas *d)
{
    csm_deltas_hincr(d, "k1", "a", 1, 100);
    csm_deltas_hincr(d, "k2", "a", 5, 200);
    csm_deltas_sadd(d, "set1", "m1", 300);
    csm_deltas_hincr(d, "k1", "b", 2, 100);
    csm_deltas_hincr(d, "k1", "a", 3, 150); /* later expiry wins */
    csm_deltas_sadd(d, "set1", "m1", 300);  /* a set member counts once */
    char field[8] = "x";
    const char *fv[] = {"type", "T", "figure", field};
    csm_deltas_xadd(d, "alerts", 10, fv, 4);
    field[0] = 'y'; /* the table copies what it keeps */
    csm_deltas_sadd(d, "shops", "s1", 0);
    csm_deltas_hincr(d, "k2", "a", -5, 0);
}

static const char *const fill_ops[] = {"HINCRBY k1 a 4",
                                       "HINCRBY k2 a 0",
                                       "SADD set1 m1",
                                       "HINCRBY k1 b 2",
                                       "XADD alerts 10 type T figure x",
                                       "SADD shops s1",
                                       "EXPIREAT k1 150",
                                       "EXPIREAT k2 200",
                                       "EXPIREAT set1 300",
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
    csm_deltas *d = csm_deltas_new();
    fill(d);
    assert_int_equal(csm_deltas_size(d), 6);
    assert_int_equal(csm_deltas_get(d, "k1", "a"), 4);
    assert_int_equal(csm_deltas_get(d, "k1", "b"), 2);
    assert_int_equal(csm_deltas_get(d, "k2", "a"), 0);
    assert_int_equal(csm_deltas_get(d, "k1", "zz"), 0);
    assert_int_equal(csm_deltas_get(d, "nokey", "a"), 0);
    assert_int_equal(csm_deltas_get(d, "set1", "m1"), 0); /* a member is no counter */
    assert_fill_ops(d);
    csm_deltas_free(d);
}

static void test_deltas_clear_reuse(void **state)
{
    (void)state;
    csm_deltas *d = csm_deltas_new();
    char key[32], field[32];
    /* Enough distinct strings to grow every table and several chunks. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 20000; i++) {
            snprintf(key, sizeof key, "key:%d", i % 3000);
            snprintf(field, sizeof field, "field-%d", i);
            csm_deltas_hincr(d, key, field, i, 0);
            csm_deltas_hincr(d, key, "total", 1, 1000 + round);
        }
        assert_int_equal(csm_deltas_size(d), 20000 + 3000);
        assert_int_equal(csm_deltas_get(d, "key:7", "total"), 7); /* 20000/3000 → 6 or 7 */
        assert_int_equal(csm_deltas_get(d, "key:2999", "field-5999"), 5999);
        csm_deltas_clear(d);
        assert_int_equal(csm_deltas_size(d), 0);
        assert_int_equal(csm_deltas_get(d, "key:7", "total"), 0);
        rec r = {.n = 0};
        csm_deltas_foreach(d, record, &r);
        assert_int_equal(r.n, 0);
    }
    /* After a clear the order starts afresh. */
    fill(d);
    assert_fill_ops(d);
    csm_deltas_free(d);
}

static void test_deltas_merge(void **state)
{
    (void)state;
    csm_deltas *dst = csm_deltas_new(), *src = csm_deltas_new();
    csm_deltas_hincr(dst, "k1", "a", 10, 100);
    csm_deltas_hincr(dst, "k9", "z", 1, 0);
    fill(src);
    csm_deltas_merge(dst, src);
    assert_int_equal(csm_deltas_size(src), 0);
    assert_int_equal(csm_deltas_get(dst, "k1", "a"), 14);
    assert_int_equal(csm_deltas_get(dst, "k1", "b"), 2);
    assert_int_equal(csm_deltas_get(dst, "k9", "z"), 1);
    assert_int_equal(csm_deltas_size(dst), 7);
    rec r = {.n = 0};
    csm_deltas_foreach(dst, record, &r);
    assert_int_equal(r.n, 10);
    assert_string_equal(r.text[0], "HINCRBY k1 a 14");
    assert_string_equal(r.text[1], "HINCRBY k9 z 1");
    assert_string_equal(r.text[5], "XADD alerts 10 type T figure x");
    assert_string_equal(r.text[7], "EXPIREAT k1 150");
    /* src is reusable after the merge. */
    fill(src);
    assert_fill_ops(src);
    csm_deltas_free(src);
    csm_deltas_free(dst);
}

/* A sorted-set member is one operation; the latest score given wins, and
 * merging keeps it. */
static void test_deltas_zadd(void **state)
{
    (void)state;
    csm_deltas *d = csm_deltas_new();
    csm_deltas_zadd(d, "z", "m1", 5);
    csm_deltas_zadd(d, "z", "m2", 7);
    csm_deltas_zadd(d, "z", "m1", 9);
    rec r = {0};
    csm_deltas_foreach(d, record, &r);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.text[0], "ZADD z 9 m1");
    assert_string_equal(r.text[1], "ZADD z 7 m2");
    csm_deltas *m = csm_deltas_new();
    csm_deltas_merge(m, d);
    rec r2 = {0};
    csm_deltas_foreach(m, record, &r2);
    assert_int_equal(r2.n, 2);
    assert_string_equal(r2.text[0], "ZADD z 9 m1");
    csm_deltas_free(d);
    csm_deltas_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_day_format_parse),       cmocka_unit_test(test_keys),
        cmocka_unit_test(test_deltas_aggregate_order), cmocka_unit_test(test_deltas_clear_reuse),
        cmocka_unit_test(test_deltas_merge),           cmocka_unit_test(test_deltas_zadd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
