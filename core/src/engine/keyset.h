/* A set of 64-bit keys (open addressing, linear probing): the entries of
 * one plugin touched since the last checkpoint, the ids of the dedup
 * memory. Clearing keeps the table
 * (unless a burst left it mostly empty), so a steady flow of touches
 * allocates nothing once it has grown. */
#ifndef CSM_KEYSET_H
#define CSM_KEYSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct csm_keyset {
    uint64_t *slots; /* 0 = empty; key 0 is kept in has_zero */
    size_t cap, n;
    int has_zero;
} csm_keyset;

void csm_keyset_free(csm_keyset *s);
void csm_keyset_add(csm_keyset *s, uint64_t key);
int csm_keyset_contains(const csm_keyset *s, uint64_t key);
void csm_keyset_remove(csm_keyset *s, uint64_t key);
/* Empties the set, keeping its memory unless it is mostly unused. */
void csm_keyset_clear(csm_keyset *s);
static inline size_t csm_keyset_count(const csm_keyset *s)
{
    return s->n + (size_t)s->has_zero;
}
/* Calls fn for every key; stops at and returns the first non-zero. */
int csm_keyset_foreach(const csm_keyset *s, int (*fn)(void *arg, uint64_t key), void *arg);

#endif
