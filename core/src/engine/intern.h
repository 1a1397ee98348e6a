/* Strings to small integer ids: shop ids, agents, intents, figure, split
 * and set names become ids once, so the hot path keys pending writes by
 * integers instead of building and hashing strings for every count. An id
 * is dense (0, 1, 2 … in first-insertion order) and stays valid, with its
 * string, until the table is reset or freed. */
#ifndef CSM_INTERN_H
#define CSM_INTERN_H

#include <stddef.h>
#include <stdint.h>

#define CSM_INTERN_NONE UINT32_MAX

typedef struct csm_intern csm_intern;

csm_intern *csm_intern_new(void);
void csm_intern_free(csm_intern *t);
/* Forgets every string but keeps the memory for the next ones. */
void csm_intern_reset(csm_intern *t);

/* The id of s, added if new. A string seen at the same address before is
 * found without hashing (plugins pass literals; an event's buffer is
 * reused with other contents, so the cached string is compared first). */
uint32_t csm_intern_id(csm_intern *t, const char *s);
/* The id of s, or CSM_INTERN_NONE; never adds. */
uint32_t csm_intern_find(const csm_intern *t, const char *s);
/* The string of an id (NULL for an unknown id). */
const char *csm_intern_str(const csm_intern *t, uint32_t id);
uint32_t csm_intern_count(const csm_intern *t);

#endif
