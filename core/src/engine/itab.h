/* A hash index of 32-bit positions (open addressing, linear probing,
 * deletion by backward shift): 4 bytes a slot at a load of at most 3/4.
 * What it indexes lives in the caller's arrays; the index stores only the
 * positions, and asks the caller for a position's hash (to move it) and
 * whether a position matches a key (to find it). It replaces a uthash
 * handle of 56 bytes in every element, plus its buckets. */
#ifndef CSM_ITAB_H
#define CSM_ITAB_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t (*csm_itab_hash_fn)(const void *ctx, uint32_t pos);
typedef int (*csm_itab_match_fn)(const void *ctx, uint32_t pos, const void *key);

typedef struct csm_itab {
    uint32_t *slot; /* pos + 1; 0 = free */
    size_t mask;    /* slots - 1 (a power of two), when slot != NULL */
    size_t n;
    csm_itab_hash_fn hash;
    const void *ctx; /* passed to hash and match */
} csm_itab;

void csm_itab_init(csm_itab *t, csm_itab_hash_fn hash, const void *ctx);
void csm_itab_free(csm_itab *t);
/* The slot holding the position of hash @p h that matches @p key, or NULL.
 * The slot may be overwritten with another position of the same hash. */
uint32_t *csm_itab_find(const csm_itab *t, uint64_t h, csm_itab_match_fn match, const void *key);
/* Adds @p pos, whose hash is @p h; aborts when out of memory. */
void csm_itab_add(csm_itab *t, uint64_t h, uint32_t pos);
/* Removes the slot csm_itab_find returned (other slots may move). */
void csm_itab_del(csm_itab *t, uint32_t *slot);
static inline size_t csm_itab_count(const csm_itab *t)
{
    return t->n;
}

#endif
