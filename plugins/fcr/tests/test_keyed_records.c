/* keyed_records.h, the index of records by identity and entry key shared
 * by satisfaction, fcr and orders, with keys forced to collide (a real
 * 64-bit hash collision cannot be produced on demand) and to crowd the
 * same slots: every record stays reachable by its identity through adds,
 * growth, unlinks of heads and of middles, sweeps that free as they go,
 * and a save/load of a shared entry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct csm_writer {
    char buf[4096];
    size_t len;
};
struct csm_reader {
    const char *buf;
    size_t len, pos;
};

#include "../../keyed_records.h"

static void put_i64(csm_writer *w, int64_t v)
{
    assert_true(w->len + sizeof v <= sizeof w->buf);
    memcpy(w->buf + w->len, &v, sizeof v);
    w->len += sizeof v;
}

static int get_i64(csm_reader *r, int64_t *v)
{
    if (r->len - r->pos < sizeof *v)
        return -1;
    memcpy(v, r->buf + r->pos, sizeof *v);
    r->pos += sizeof *v;
    return 0;
}

static const csm_host_api test_api = {.put_i64 = put_i64, .get_i64 = get_i64};
const csm_host_api *csm_api = &test_api;

/* A record type with a payload after the link, as the plugins' are. */
typedef struct rec {
    kr_link k;
    int64_t value;
} rec;

#define K1 UINT64_C(0x8000000000000001)
#define K2 UINT64_C(0x8000000000000002)

static rec *add(kr_table *t, uint64_t key, const char *id, int64_t value)
{
    rec *r = (rec *)kr_add(t, sizeof(rec), key, id, strlen(id));
    r->value = value;
    return r;
}

static rec *find(kr_table *t, uint64_t key, const char *id)
{
    return (rec *)kr_find(t, sizeof(rec), key, id, strlen(id));
}

static void drop(kr_table *t, rec *r)
{
    kr_unlink(t, &r->k);
    free(r);
}

static void free_one(kr_link *r, void *vt)
{
    drop(vt, (rec *)r);
}

static void check_value(kr_table *t, uint64_t key, const char *id, int64_t value)
{
    rec *r = find(t, key, id);
    assert_non_null(r);
    assert_int_equal(r->value, value);
    assert_string_equal(kr_id(&r->k, sizeof *r), id);
}

/* a, b, c share K1, d has K2: each found by identity under its key only;
 * unlinking the head (a) and then a middle record keeps the others. */
static void test_collisions(void **state)
{
    (void)state;
    kr_table t = {0};
    add(&t, K1, "a", 1);
    add(&t, K1, "b", 2);
    add(&t, K1, "c", 3);
    add(&t, K2, "d", 4);
    assert_int_equal(t.n, 4);
    assert_int_equal(kr_chain_len(&t, K1), 3);
    assert_int_equal(kr_chain_len(&t, K2), 1);
    check_value(&t, K1, "b", 2);
    assert_null(find(&t, K2, "b"));
    assert_null(find(&t, K1, "e"));
    drop(&t, find(&t, K1, "a"));
    assert_int_equal(kr_chain_len(&t, K1), 2);
    check_value(&t, K1, "b", 2);
    check_value(&t, K1, "c", 3);
    add(&t, K1, "e", 5);
    drop(&t, find(&t, K1, "c"));
    check_value(&t, K1, "b", 2);
    check_value(&t, K1, "e", 5);
    assert_null(find(&t, K1, "c"));
    assert_int_equal(t.n, 3);
    kr_each(&t, free_one, &t);
    assert_int_equal(t.n, 0);
    assert_int_equal(t.used, 0);
    kr_release(&t);
}

typedef struct sweep {
    kr_table *t;
    int visits[8];
} sweep;

/* Frees the odd values, counts visits by value. */
static void sweep_odd(kr_link *k, void *varg)
{
    sweep *s = varg;
    rec *r = (rec *)k;
    s->visits[r->value]++;
    if (r->value % 2)
        drop(s->t, r);
}

/* A sweep that frees heads and middles as it goes visits every record
 * (a head's successor may be visited twice) and leaves the others. */
static void test_each_frees(void **state)
{
    (void)state;
    kr_table t = {0};
    add(&t, K1, "one", 1);
    add(&t, K1, "two", 2);
    add(&t, K1, "three", 3);
    add(&t, K2, "four", 4);
    add(&t, K2, "five", 5);
    sweep s = {.t = &t};
    kr_each(&t, sweep_odd, &s);
    for (int v = 1; v <= 5; v++)
        assert_true(s.visits[v] >= 1);
    assert_int_equal(t.n, 2);
    check_value(&t, K1, "two", 2);
    check_value(&t, K2, "four", 4);
    kr_each(&t, free_one, &t);
    kr_release(&t);
}

/* Frees the records whose value is a multiple of 3. */
static void sweep_thirds(kr_link *k, void *vt)
{
    if (((rec *)k)->value % 3 == 0)
        drop(vt, (rec *)k);
}

/* Enough records to grow the index several times, 3000 on 700 keys that
 * differ only in high bits (chains of 4 or 5, and probe runs): after a
 * sweep freeing a third, after freeing half of the rest one by one, and
 * after emptying half of the keys, every survivor is found and none of the
 * freed. */
static void test_many(void **state)
{
    (void)state;
    enum { N = 3000 };
    kr_table t = {0};
    char id[16];
    for (int64_t i = 0; i < N; i++) {
        snprintf(id, sizeof id, "r%lld", (long long)i);
        add(&t, (uint64_t)(i % 700) << 40 | 1u, id, i);
    }
    assert_int_equal(t.n, N);
    assert_int_equal(t.used, 700);
    kr_each(&t, sweep_thirds, &t);
    assert_int_equal(t.n, N - N / 3);
    for (int64_t i = 1; i < N; i += 3) {
        snprintf(id, sizeof id, "r%lld", (long long)i);
        drop(&t, find(&t, (uint64_t)(i % 700) << 40 | 1u, id));
    }
    for (int64_t i = 0; i < N; i++) {
        snprintf(id, sizeof id, "r%lld", (long long)i);
        rec *r = find(&t, (uint64_t)(i % 700) << 40 | 1u, id);
        if (i % 3 == 2)
            assert_true(r && r->value == i);
        else
            assert_null(r);
    }
    assert_int_equal(t.n, N / 3);
    /* Emptying half of the keys vacates their slots: the rest stay found. */
    for (int64_t i = 2; i < N; i += 3)
        if (i % 700 < 350) {
            snprintf(id, sizeof id, "r%lld", (long long)i);
            drop(&t, find(&t, (uint64_t)(i % 700) << 40 | 1u, id));
        }
    assert_int_equal(t.used, 350);
    for (int64_t i = 2; i < N; i += 3)
        if (i % 700 >= 350) {
            snprintf(id, sizeof id, "r%lld", (long long)i);
            assert_non_null(find(&t, (uint64_t)(i % 700) << 40 | 1u, id));
        }
    kr_each(&t, free_one, &t);
    assert_int_equal(t.used, 0);
    kr_release(&t);
}

static void save_rec(const kr_link *k, csm_writer *w)
{
    const char *id = kr_id(k, sizeof(rec));
    put_i64(w, (int64_t)strlen(id));
    for (const char *p = id; *p; p++)
        put_i64(w, *p);
    put_i64(w, ((const rec *)k)->value);
}

static int load_rec(void *vt, uint64_t key, csm_reader *r)
{
    int64_t len, c, value;
    char id[16] = {0};
    if (get_i64(r, &len) || len < 1 || len >= (int64_t)sizeof id)
        return -1;
    for (int64_t i = 0; i < len; i++) {
        if (get_i64(r, &c))
            return -1;
        id[i] = (char)c;
    }
    if (get_i64(r, &value) || find(vt, key, id))
        return -1;
    add(vt, key, id, value);
    return 0;
}

/* An entry shared by colliding records saves them all and loads them all
 * back; a gone entry saves as 1; a duplicate record is refused. */
static void test_save_load_chain(void **state)
{
    (void)state;
    kr_table t = {0}, u = {0};
    add(&t, K1, "a", 10);
    add(&t, K1, "bb", 20);
    csm_writer w = {.len = 0};
    assert_int_equal(kr_save_chain(&t, K1, &w, save_rec), 0);
    csm_writer gone = {.len = 0};
    assert_int_equal(kr_save_chain(&t, K2, &gone, save_rec), 1);
    csm_reader r = {w.buf, w.len, 0};
    assert_int_equal(kr_load_chain(&u, K1, &r, load_rec), 0);
    assert_int_equal(r.pos, w.len);
    check_value(&u, K1, "a", 10);
    check_value(&u, K1, "bb", 20);
    csm_reader again = {w.buf, w.len, 0};
    assert_int_not_equal(kr_load_chain(&u, K1, &again, load_rec), 0);
    csm_reader short_ = {w.buf, w.len - 1, 0};
    kr_table v = {0};
    assert_int_not_equal(kr_load_chain(&v, K1, &short_, load_rec), 0);
    kr_table *all[] = {&t, &u, &v};
    for (int i = 0; i < 3; i++) {
        kr_each(all[i], free_one, all[i]);
        kr_release(all[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collisions),
        cmocka_unit_test(test_each_frees),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_save_load_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
