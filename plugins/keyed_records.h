/* Records found by an identity string (e.g. shop '\0' customer) and
 * checkpointed as incremental-state entries (plugin.h, ABI 1.2) under a
 * key derived from that string, so that one index serves both the events
 * (lookup by string) and save_entry() (lookup by key), and no second index
 * or stored number is needed.
 *
 * The key is the string's 64-bit FNV-1a hash with the plugin's tag bits
 * (which keep it off 0 and apart from the plugin's other kinds of keys),
 * or any key unique by itself (a session id) with an empty identity.
 * Records whose keys collide share that entry: the one in the index heads
 * a chain of the others, and save_entry() writes the whole chain. A
 * collision is rare (a few live records in 2^62 keys) but costs nothing
 * in correctness.
 *
 * Memory is what the RSS target counts: a record type starts with
 * a 24-byte kr_link and is allocated by kr_add() with the identity right
 * after the type's own size (one block), and the index is an open-addressing
 * array of one pointer per chain (linear probing, at most 3/4 full, removal
 * by backward shift), instead of a 56-byte uthash handle per record.
 * Shared by the plugins of this tree that keep such records (satisfaction,
 * fcr, orders): a header of static functions, no ABI. */
#ifndef CSM_KEYED_RECORDS_H
#define CSM_KEYED_RECORDS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csmetrics/plugin.h"

typedef struct kr_link {
    struct kr_link *next; /* the next record with the same key */
    uint64_t key;
    uint32_t len; /* of the identity, without its final '\0' */
} kr_link;

typedef struct kr_table {
    kr_link **slot; /* chain heads; NULL until the first record */
    size_t mask;    /* number of slots - 1 */
    size_t used;    /* slots holding a chain */
    uint64_t n;     /* records, all chains together */
} kr_table;

static inline uint64_t kr_hash(const char *id, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)id[i]) * 1099511628211ULL;
    return h;
}

/* The identity of a record of type size @p size. */
static inline const char *kr_id(const kr_link *r, size_t size)
{
    return (const char *)r + size;
}

/* Where the chain of @p key starts looking: the top bits of a Fibonacci
 * hash, which every bit of the key moves (keys that are plain numbers,
 * like session ids, spread as well as hashed ones). */
static inline size_t kr_home(const kr_table *t, uint64_t key)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> (64 - __builtin_popcountll(t->mask)));
}

/* The slot of the chain of @p key, or the empty slot that would hold it. */
static inline size_t kr_slot(const kr_table *t, uint64_t key)
{
    size_t i = kr_home(t, key);
    while (t->slot[i] && t->slot[i]->key != key)
        i = (i + 1) & t->mask;
    return i;
}

/* The head of the chain of @p key, or NULL. */
static inline kr_link *kr_chain(kr_table *t, uint64_t key)
{
    return t->slot ? t->slot[kr_slot(t, key)] : NULL;
}

static inline kr_link *kr_find(kr_table *t, size_t size, uint64_t key, const char *id, size_t len)
{
    kr_link *r = kr_chain(t, key);
    while (r && (r->len != len || memcmp(kr_id(r, size), id, len)))
        r = r->next;
    return r;
}

/* Room for one more chain, keeping a quarter of the slots empty. */
static inline void kr_reserve(kr_table *t)
{
    size_t cap = t->slot ? t->mask + 1 : 0;
    if ((t->used + 1) * 4 <= cap * 3)
        return;
    kr_table bigger = {.mask = (cap ? cap * 2 : 16) - 1, .used = t->used, .n = t->n};
    if (!(bigger.slot = calloc(bigger.mask + 1, sizeof *bigger.slot)))
        abort();
    for (size_t i = 0; i < cap; i++)
        if (t->slot[i])
            bigger.slot[kr_slot(&bigger, t->slot[i]->key)] = t->slot[i];
    free(t->slot);
    *t = bigger;
}

/* A zeroed record of @p size bytes plus the identity; aborts when out of
 * memory, as the plugins' other allocations do. */
static inline kr_link *kr_add(kr_table *t, size_t size, uint64_t key, const char *id, size_t len)
{
    kr_link *r = calloc(1, size + len + 1);
    if (!r)
        abort();
    memcpy((char *)r + size, id, len);
    r->key = key;
    r->len = (uint32_t)len;
    kr_reserve(t);
    size_t i = kr_slot(t, key);
    if (t->slot[i]) {
        r->next = t->slot[i]->next;
        t->slot[i]->next = r;
    } else {
        t->slot[i] = r;
        t->used++;
    }
    t->n++;
    return r;
}

/* Empties slot @p i, moving back the heads further on that could no longer
 * be reached from their home slot across the gap. */
static inline void kr_vacate(kr_table *t, size_t i)
{
    for (size_t j = i;;) {
        t->slot[i] = NULL;
        for (;;) {
            j = (j + 1) & t->mask;
            if (!t->slot[j])
                return;
            size_t k = kr_home(t, t->slot[j]->key);
            /* Stays if its home lies cyclically in (i, j]. */
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                continue;
            break;
        }
        t->slot[i] = t->slot[j];
        i = j;
    }
}

/* Unlinks @p r (the caller frees it). */
static inline void kr_unlink(kr_table *t, kr_link *r)
{
    size_t i = kr_slot(t, r->key);
    kr_link *head = t->slot[i];
    if (head == r) {
        if (r->next) {
            t->slot[i] = r->next;
        } else {
            kr_vacate(t, i);
            t->used--;
        }
    } else {
        while (head->next != r)
            head = head->next;
        head->next = r->next;
    }
    t->n--;
}

/* Frees the index; its records must have been freed (kr_each). */
static inline void kr_release(kr_table *t)
{
    free(t->slot);
    *t = (kr_table){0};
}

/* Calls @p fn on every record. @p fn may unlink and free the record it is
 * given but add none; a record may then be given twice (the survivors of
 * a chain whose head went, or a chain moved back into the slot being
 * visited), so @p fn must be idempotent (as an eviction rule is). No record
 * is missed: removal only moves chains from later slots to earlier ones
 * that the walk has not passed, or from slots already visited. */
static inline void kr_each(kr_table *t, void (*fn)(kr_link *r, void *arg), void *arg)
{
    for (size_t i = 0; t->slot && i <= t->mask; i++) {
        kr_link *head;
        while ((head = t->slot[i])) {
            for (kr_link *r = head->next, *next; r; r = next) {
                next = r->next;
                fn(r, arg);
            }
            fn(head, arg);
            if (t->slot[i] == head)
                break;
        }
    }
}

/* The identity a '\0' [tag] b of @p len bytes (plus a final '\0'), built in
 * @p buf of @p cap bytes or, when it does not fit, in a malloc'd block that
 * is also returned in *heap for the caller to free. @p tag 0: none. */
static inline const char *kr_ident(char *buf, size_t cap, const char *a, char tag, const char *b,
                                   size_t *len, char **heap)
{
    size_t la = strlen(a), lb = strlen(b), lt = tag ? 1 : 0;
    char *k = buf;
    *heap = NULL;
    if (la + lt + lb + 2 > cap && !(k = *heap = malloc(la + lt + lb + 2)))
        abort();
    memcpy(k, a, la + 1);
    if (tag)
        k[la + 1] = tag;
    memcpy(k + la + 1 + lt, b, lb + 1);
    *len = la + 1 + lt + lb;
    return k;
}

/* The record of type size @p size identified by a '\0' [tag] b (see
 * kr_ident) under the key @p key_of derives from that identity: NULL when
 * there is none, unless @p create asks for a new, zeroed one. */
static inline kr_link *kr_get(kr_table *t, size_t size, uint64_t (*key_of)(const char *, size_t),
                              const char *a, char tag, const char *b, int create)
{
    char buf[256], *heap;
    size_t len;
    const char *id = kr_ident(buf, sizeof buf, a, tag, b, &len, &heap);
    uint64_t key = key_of(id, len);
    kr_link *r = kr_find(t, size, key, id, len);
    if (!r && create)
        r = kr_add(t, size, key, id, len);
    free(heap);
    return r;
}

/* Number of records in the chain of @p key. */
static inline uint64_t kr_chain_len(kr_table *t, uint64_t key)
{
    uint64_t n = 0;
    for (const kr_link *r = kr_chain(t, key); r; r = r->next)
        n++;
    return n;
}

/* save_entry() of entry @p key of @p t: the number of records of its
 * chain, then each as @p save writes it; 1 when the entry is gone. */
static inline int kr_save_chain(kr_table *t, uint64_t key, csm_writer *w,
                                void (*save)(const kr_link *r, csm_writer *w))
{
    uint64_t n = kr_chain_len(t, key);
    if (!n)
        return 1;
    csm_api->put_i64(w, (int64_t)n);
    for (const kr_link *r = kr_chain(t, key); r; r = r->next)
        save(r, w);
    return 0;
}

/* load_entry() of what kr_save_chain() wrote: @p load reads one record of
 * entry @p key into @p ctx, refusing one whose identity does not hash to
 * @p key or is already loaded. */
static inline int kr_load_chain(void *ctx, uint64_t key, csm_reader *r,
                                int (*load)(void *ctx, uint64_t key, csm_reader *r))
{
    int64_t n;
    if (csm_api->get_i64(r, &n) || n <= 0 || n > 1000000)
        return -1;
    for (int64_t i = 0; i < n; i++)
        if (load(ctx, key, r))
            return -1;
    return 0;
}

#endif
