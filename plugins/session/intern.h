/* Interned strings: one copy per distinct agent id, intent or shop id per
 * plugin instance, borrowed by every per-session record instead of a
 * strdup each. The set of such ids is small and bounded (a shop's staff,
 * the intent classifier's labels, the partition's shops), so entries live
 * until destroy(). Shared by the plugins of this tree that keep them
 * (session, sla): a header of static functions, no ABI. */
#ifndef CSM_INTERN_H
#define CSM_INTERN_H

#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "csmetrics/plugin.h"

typedef struct csm_istr {
    UT_hash_handle hh;
    char s[];
} csm_istr;

/* The interned copy of @p s (NULL for NULL); aborts when out of memory,
 * as the plugins' other allocations do. */
static inline const char *csm_intern(csm_istr **tab, const char *s)
{
    if (!s)
        return NULL;
    size_t len = strlen(s);
    csm_istr *e;
    HASH_FIND(hh, *tab, s, len, e);
    if (e)
        return e->s;
    if (!(e = malloc(sizeof *e + len + 1)))
        abort();
    memcpy(e->s, s, len + 1);
    HASH_ADD_KEYPTR(hh, *tab, e->s, len, e);
    return e->s;
}

/* Reads a string of a checkpoint entry as its interned copy. */
static inline int csm_get_interned(csm_istr **tab, csm_reader *r, const char **out)
{
    char *s;
    if (csm_api->get_str(r, &s))
        return -1;
    *out = csm_intern(tab, s);
    free(s);
    return 0;
}

static inline void csm_intern_free(csm_istr **tab)
{
    csm_istr *e, *tmp;
    HASH_ITER(hh, *tab, e, tmp)
    {
        HASH_DEL(*tab, e);
        free(e);
    }
}

#endif
