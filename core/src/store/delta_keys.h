/* The strings of pending writes: a key's parts become its Redis key
 * (docs/redis-keys.md, through keys.c), an item's parts its hash field,
 * set member or sorted-set member. The store calls these once per key and
 * item at flush time; the engine never does. */
#ifndef CSM_DELTA_KEYS_H
#define CSM_DELTA_KEYS_H

#include <stddef.h>

#include "deltas.h"

/* Each writes a NUL-terminated string into buf and returns its length, or
 * -1 if it does not fit (or the parts are not of a known kind). */
int csm_dkey_format(const csm_deltas *d, const csm_dkey *k, char *buf, size_t n);
/* The hash field, set member or sorted-set member of an item of key k
 * (streams have none: -1). */
int csm_ditem_format(const csm_deltas *d, const csm_dkey *k, const csm_ditem *it, char *buf,
                     size_t n);

/* Whether a key's items are hash counters / set members / stream entries. */
int csm_dkey_is_hash(const csm_dkey *k);
int csm_dkey_is_set(const csm_dkey *k);
int csm_dkey_is_stream(const csm_dkey *k);

#endif
