/* The host's side of incremental checkpoints, in memory, for the fake-host
 * tests of the plugins that keep per-entity state (session, sla,
 * unserved): csm_state_touch() marks a key dirty, es_flush() saves the
 * dirty entries as a flush of `run` does (save_entry() once per key; 1
 * deletes), es_load() hands every stored entry to a fresh instance in an
 * order of its own (not the order of saving), then load_done().
 *
 * The including test defines struct csm_writer { char *buf; size_t len,
 * cap; } and struct csm_reader { const char *buf; size_t len, pos; } and
 * includes cmocka first. */
#ifndef ENTRY_STORE_H
#define ENTRY_STORE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csmetrics/plugin.h"

typedef struct es_entry {
    uint64_t key;
    char *bytes;
    size_t len;
} es_entry;

static struct {
    uint64_t *dirty;
    size_t n_dirty, cap_dirty;
    es_entry *v;
    size_t n, cap;
    uint64_t saves; /* save_entry() calls, to show flushes write only what changed */
} ES;

static int es_find(uint64_t key)
{
    for (size_t i = 0; i < ES.n; i++)
        if (ES.v[i].key == key)
            return (int)i;
    return -1;
}

static int es_has(uint64_t key)
{
    return es_find(key) >= 0;
}

static void es_touch(csm_host *h, uint64_t key)
{
    (void)h;
    for (size_t i = 0; i < ES.n_dirty; i++)
        if (ES.dirty[i] == key)
            return;
    if (ES.n_dirty == ES.cap_dirty) {
        ES.cap_dirty = ES.cap_dirty ? ES.cap_dirty * 2 : 64;
        ES.dirty = realloc(ES.dirty, ES.cap_dirty * sizeof *ES.dirty);
        assert_non_null(ES.dirty);
    }
    ES.dirty[ES.n_dirty++] = key;
}

static void es_remove(int i)
{
    free(ES.v[i].bytes);
    ES.v[i] = ES.v[--ES.n];
}

static void es_store(uint64_t key, char *bytes, size_t len)
{
    int i = es_find(key);
    if (i >= 0) {
        free(ES.v[i].bytes);
        ES.v[i].bytes = bytes;
        ES.v[i].len = len;
        return;
    }
    if (ES.n == ES.cap) {
        ES.cap = ES.cap ? ES.cap * 2 : 64;
        ES.v = realloc(ES.v, ES.cap * sizeof *ES.v);
        assert_non_null(ES.v);
    }
    ES.v[ES.n++] = (es_entry){key, bytes, len};
}

static void es_reset(void)
{
    while (ES.n)
        es_remove((int)ES.n - 1);
    ES.n_dirty = 0;
    ES.saves = 0;
}

static void es_flush(const csm_plugin *p, void *ctx, csm_host *h)
{
    for (size_t d = 0; d < ES.n_dirty; d++) {
        struct csm_writer w = {0};
        int rc = p->save_entry(ctx, h, ES.dirty[d], &w);
        ES.saves++;
        assert_in_range(rc, 0, 1);
        if (rc == 0) {
            es_store(ES.dirty[d], w.buf, w.len);
            continue;
        }
        free(w.buf);
        int i = es_find(ES.dirty[d]);
        if (i >= 0)
            es_remove(i);
    }
    ES.n_dirty = 0;
}

/* Loads every stored entry into @p ctx, last stored first, and checks that
 * each is read to its end and saves again to the same bytes. */
static void es_load(const csm_plugin *p, void *ctx, csm_host *h)
{
    for (size_t i = ES.n; i-- > 0;) {
        struct csm_reader r = {ES.v[i].bytes, ES.v[i].len, 0};
        assert_int_equal(p->load_entry(ctx, h, ES.v[i].key, p->state_version, &r), 0);
        assert_int_equal(r.pos, r.len);
    }
    if (p->load_done)
        assert_int_equal(p->load_done(ctx, h), 0);
    for (size_t i = 0; i < ES.n; i++) {
        struct csm_writer w = {0};
        assert_int_equal(p->save_entry(ctx, h, ES.v[i].key, &w), 0);
        assert_int_equal(w.len, ES.v[i].len);
        if (w.len)
            assert_memory_equal(w.buf, ES.v[i].bytes, w.len);
        free(w.buf);
    }
    ES.n_dirty = 0; /* loading is not a change */
}

/* Every truncation of every stored entry, and a state version newer than
 * the plugin's, are refused by load_entry() into fresh instances made by
 * @p fresh and freed by @p drop. */
static void es_check_refusals(const csm_plugin *p, csm_host *h, void *(*fresh)(void),
                              void (*drop)(void *))
{
    for (size_t i = 0; i < ES.n; i++) {
        for (size_t len = 0; len < ES.v[i].len; len++) {
            void *ctx = fresh();
            struct csm_reader r = {ES.v[i].bytes, len, 0};
            assert_int_not_equal(p->load_entry(ctx, h, ES.v[i].key, p->state_version, &r), 0);
            drop(ctx);
        }
        void *ctx = fresh();
        struct csm_reader r = {ES.v[i].bytes, ES.v[i].len, 0};
        assert_int_not_equal(p->load_entry(ctx, h, ES.v[i].key, p->state_version + 1, &r), 0);
        drop(ctx);
    }
}

#endif
