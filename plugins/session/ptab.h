/* A hash table of pointers with open addressing (linear probing, deletion
 * by backward shift): 8 bytes a slot at a load of at most 3/4, instead of
 * uthash's 56-byte handle in every element plus its buckets, which is what
 * a table of a million open sessions pays for. The table does not own its
 * elements; it finds an element's home slot with the hash function given
 * at init, and looks elements up with a caller's hash and match. Shared by
 * the plugins of this tree that index per-session records (session, sla):
 * a header of static functions, no ABI. */
#ifndef CSM_PTAB_H
#define CSM_PTAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef uint64_t (*csm_ptab_hash_fn)(const void *elem);
typedef int (*csm_ptab_match_fn)(const void *elem, const void *key);

typedef struct csm_ptab {
    void **slot; /* NULL = free */
    size_t mask; /* slots - 1 (a power of two), when slot != NULL */
    size_t n;
    csm_ptab_hash_fn hash;
} csm_ptab;

static inline uint64_t csm_hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static inline uint64_t csm_hash_bytes(const void *p, size_t len)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return csm_hash_u64(h);
}

static inline void csm_ptab_init(csm_ptab *t, csm_ptab_hash_fn hash)
{
    *t = (csm_ptab){.hash = hash};
}

static inline size_t csm_ptab_slots(const csm_ptab *t)
{
    return t->slot ? t->mask + 1 : 0;
}

/* The element of hash @p h for which match(element, key), or NULL. */
static inline void *csm_ptab_find(const csm_ptab *t, uint64_t h, csm_ptab_match_fn match,
                                  const void *key)
{
    if (!t->n)
        return NULL;
    for (size_t i = (size_t)h & t->mask;; i = (i + 1) & t->mask) {
        void *e = t->slot[i];
        if (!e || match(e, key))
            return e;
    }
}

static inline void csm_ptab_place(csm_ptab *t, void *e)
{
    size_t i = (size_t)t->hash(e) & t->mask;
    while (t->slot[i])
        i = (i + 1) & t->mask;
    t->slot[i] = e;
}

/* Adds @p e, which must not be in the table; aborts when out of memory,
 * as the plugins' other allocations do. */
static inline void csm_ptab_add(csm_ptab *t, void *e)
{
    if ((t->n + 1) * 4 > csm_ptab_slots(t) * 3) {
        size_t old = csm_ptab_slots(t), cap = old ? old * 2 : 16;
        void **was = t->slot;
        if (!(t->slot = calloc(cap, sizeof *t->slot)))
            abort();
        t->mask = cap - 1;
        for (size_t i = 0; i < old; i++)
            if (was[i])
                csm_ptab_place(t, was[i]);
        free(was);
    }
    csm_ptab_place(t, e);
    t->n++;
}

/* Removes @p e (the very pointer), if present. Slots after it may move
 * back, so a walk over the slots that deletes re-reads the slot it is at
 * (and may then meet an element twice). */
static inline void csm_ptab_del(csm_ptab *t, const void *e)
{
    if (!t->n)
        return;
    size_t i = (size_t)t->hash(e) & t->mask;
    while (t->slot[i] != e) {
        if (!t->slot[i])
            return;
        i = (i + 1) & t->mask;
    }
    for (size_t j = (i + 1) & t->mask; t->slot[j]; j = (j + 1) & t->mask) {
        size_t home = (size_t)t->hash(t->slot[j]) & t->mask;
        /* Move back unless its home lies in the cyclic range (i, j]. */
        if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
            t->slot[i] = t->slot[j];
            i = j;
        }
    }
    t->slot[i] = NULL;
    t->n--;
}

static inline void csm_ptab_free(csm_ptab *t)
{
    free(t->slot);
    csm_ptab_init(t, t->hash);
}

#endif
