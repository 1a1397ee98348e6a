/* Records found by an identity string (e.g. shop '\0' customer) and
 * checkpointed as incremental-state entries (plugin.h, ABI 1.2) under a
 * key derived from that string, so that one index serves both the events
 * (lookup by string) and save_entry() (lookup by key), and no second index
 * or stored number is needed.
 *
 * The key is the string's 64-bit FNV-1a hash with the plugin's tag bits
 * (which keep it off 0 and apart from the plugin's other kinds of keys).
 * Records whose keys collide share that entry: the one in the index heads
 * a chain of the others, and save_entry() writes the whole chain. A
 * collision is rare (a few live records in 2^60 keys) but costs nothing
 * in correctness.
 *
 * A record type starts with a kr_link and is allocated by kr_add() with
 * the identity stored right after the type's own size, so it costs one
 * block. Shared by the plugins of this tree that keep such records
 * (satisfaction, fcr, orders): a header of static functions, no ABI. */
#ifndef CSM_KEYED_RECORDS_H
#define CSM_KEYED_RECORDS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "csmetrics/plugin.h"

typedef struct kr_link {
    UT_hash_handle hh;    /* the chain's head is indexed by key */
    struct kr_link *next; /* the next record with the same key */
    uint64_t key;
    uint32_t len; /* of the identity, without its final '\0' */
} kr_link;

typedef struct kr_table {
    kr_link *index;
    uint64_t n; /* records, all chains together */
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

/* The head of the chain of @p key, or NULL. */
static inline kr_link *kr_chain(kr_table *t, uint64_t key)
{
    kr_link *r;
    HASH_FIND(hh, t->index, &key, sizeof key, r);
    return r;
}

static inline kr_link *kr_find(kr_table *t, size_t size, uint64_t key, const char *id, size_t len)
{
    kr_link *r = kr_chain(t, key);
    while (r && (r->len != len || memcmp(kr_id(r, size), id, len)))
        r = r->next;
    return r;
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
    kr_link *head = kr_chain(t, key);
    if (head) {
        r->next = head->next;
        head->next = r;
    } else {
        HASH_ADD(hh, t->index, key, sizeof r->key, r);
    }
    t->n++;
    return r;
}

/* Unlinks @p r (the caller frees it). A head is replaced in the index by
 * the next of its chain, which a HASH_ITER in progress may visit again. */
static inline void kr_unlink(kr_table *t, kr_link *r)
{
    kr_link *head = kr_chain(t, r->key);
    if (head == r) {
        HASH_DEL(t->index, r);
        if (r->next)
            HASH_ADD(hh, t->index, key, sizeof r->next->key, r->next);
    } else {
        while (head->next != r)
            head = head->next;
        head->next = r->next;
    }
    t->n--;
}

/* Calls @p fn on every record. @p fn may unlink and free the record it is
 * given; a record that thereby heads its chain anew may be given twice, so
 * @p fn must be idempotent (as an eviction rule is). */
static inline void kr_each(kr_table *t, void (*fn)(kr_link *r, void *arg), void *arg)
{
    kr_link *head, *tmp;
    HASH_ITER(hh, t->index, head, tmp)
    {
        for (kr_link *r = head->next, *next; r; r = next) {
            next = r->next;
            fn(r, arg);
        }
        fn(head, arg);
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
