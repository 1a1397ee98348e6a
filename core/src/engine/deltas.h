/* Pending writes of one partition between two flushes, keyed by integers:
 * a key is its kind and interned parts (shop, day, subject), a hash field
 * its interned figure name, split and hour. Counter deltas, set members,
 * sorted-set entries, stream entries and key expiries wait here; the Redis
 * store turns them into key strings and commands once per flush
 * (delta_keys.c, delta_writer.c), so this layer knows no key format. */
#ifndef CSM_DELTAS_H
#define CSM_DELTAS_H

#include <stddef.h>
#include <stdint.h>

#include "intern.h"

/* What a key is; docs/redis-keys.md gives each one's string. */
typedef enum csm_key_kind {
    CSM_KEY_BOARD,    /* hash of counters: shop, day */
    CSM_KEY_ALLDAY,   /* hash of counters: shop, day */
    CSM_KEY_AGENT,    /* hash of counters: shop, day, name = agent */
    CSM_KEY_INTENT,   /* hash of counters: shop, day, name = intent */
    CSM_KEY_AGENTS,   /* set of agents: shop, day */
    CSM_KEY_INTENTS,  /* set of intents: shop, day */
    CSM_KEY_SET,      /* named set: shop, day, name */
    CSM_KEY_BOARDSET, /* the named set's members anchored in the window: shop, day, name */
    CSM_KEY_SHOPS,    /* set of every shop seen */
    CSM_KEY_SBT_DUE,  /* sorted set of due satisfaction decisions */
    CSM_KEY_ALERTS,   /* stream: shop */
    CSM_KEY_RAW,      /* any key, given whole as name (rare writes) */
    CSM_KEY_KINDS
} csm_key_kind;

typedef struct csm_dkey {
    uint32_t kind; /* csm_key_kind */
    uint32_t shop; /* interned; CSM_INTERN_NONE where the kind has none */
    int32_t day;   /* days since 1970-01-01, 0 where the kind has none */
    uint32_t name; /* interned subject, set name or raw key; else NONE */
} csm_dkey;

/* One entry under a key. Its parts mean, by the key's kind:
 *   counter hashes:  a = figure name, b = split (NONE), c = hour (-1);
 *                    c >= 0: the field of the hourly series of name a
 *   sets:            a = member (see csm_deltas_member)
 *   CSM_KEY_SBT_DUE: a = shop, b = platform, c = day; value = score
 *   streams:         b field/value strings (csm_deltas_fv), value = MAXLEN
 *                    (0: none); entries are never merged */
typedef struct csm_ditem {
    uint32_t key; /* index in csm_deltas_keys */
    uint32_t a, b;
    int32_t c;
    uint32_t next; /* next item of the same key, CSM_INTERN_NONE at the end */
    int64_t value; /* counter delta / score / MAXLEN */
} csm_ditem;

typedef struct csm_dkeyrec {
    csm_dkey key;
    int64_t expire_at; /* unix seconds for EXPIREAT, 0 for none */
    uint32_t first, last, n_items;
} csm_dkeyrec;

typedef struct csm_deltas csm_deltas;

/* prefix: the key prefix the store puts in front of every key. */
csm_deltas *csm_deltas_new(const char *prefix);
void csm_deltas_free(csm_deltas *d);
/* An empty object that shares @p live's names (ids stay valid in both):
 * the other half of a double buffer. Free it before @p live. */
csm_deltas *csm_deltas_new_shadow(csm_deltas *live);
/* Exchanges everything pending (and the versions) between a and b, which
 * share their names: a flush freezes what it writes with one swap, and
 * counting goes on into the emptied table while Redis works. */
void csm_deltas_swap_pending(csm_deltas *a, csm_deltas *b);
/* A frozen flush that was not written: its pending entries go back into
 * @p live ahead of those counted since; @p frozen is left empty. When
 * nothing was counted since, @p live gets the frozen version back, so a
 * lost reply whose transaction applied is still recognised as ours. */
void csm_deltas_unfreeze(csm_deltas *live, csm_deltas *frozen);
/* Forgets everything pending (after a flush, or a lost checkpoint race);
 * interned names and all memory are kept for the next interval. */
void csm_deltas_clear(csm_deltas *d);
/* Number of pending operations (distinct counters + members + entries). */
size_t csm_deltas_size(const csm_deltas *d);
/* Changes with every addition and clear, and is never the same for two
 * objects of the process: equal versions mean nothing was added since. */
uint64_t csm_deltas_version(const csm_deltas *d);
const char *csm_deltas_prefix(const csm_deltas *d);
/* The names of this object's keys and fields; callers intern into it. */
csm_intern *csm_deltas_names(csm_deltas *d);
const csm_intern *csm_deltas_names_c(const csm_deltas *d);

/* expire_at: unix seconds for EXPIREAT on the key, 0 for none. The latest
 * nonzero value given for a key wins. */
void csm_deltas_hincr(csm_deltas *d, const csm_dkey *k, uint32_t name, uint32_t split, int hour,
                      int64_t delta, int64_t expire_at);
/* A member by interned id (agents, intents, shops) … */
void csm_deltas_sadd_id(csm_deltas *d, const csm_dkey *k, uint32_t member, int64_t expire_at);
/* … or by string, kept only until the next clear (customers). */
void csm_deltas_sadd_str(csm_deltas *d, const csm_dkey *k, const char *member, int64_t expire_at);
/* A due satisfaction decision (shop, platform, day); the latest score wins. */
void csm_deltas_zadd_due(csm_deltas *d, const csm_dkey *k, uint32_t shop, uint32_t platform,
                         int32_t day, int64_t score);
/* XADD key MAXLEN = maxlen * f1 v1 f2 v2 … (n_fv strings, even; copied). */
void csm_deltas_xadd(csm_deltas *d, const csm_dkey *k, long maxlen, const char *const *fv,
                     size_t n_fv);

/* The keys in first-insertion order, and their items: follow first/next. */
const csm_dkeyrec *csm_deltas_keys(const csm_deltas *d, size_t *n);
const csm_ditem *csm_deltas_item(const csm_deltas *d, uint32_t i);
/* A set member's string. */
const char *csm_deltas_member(const csm_deltas *d, uint32_t member);
/* A stream entry's field/value strings (it->b of them). */
const char *const *csm_deltas_fv(const csm_deltas *d, const csm_ditem *it);

/* A counter's pending value (0 if none), by parts. */
int64_t csm_deltas_counter(const csm_deltas *d, const csm_dkey *k, uint32_t name, uint32_t split,
                           int hour);

/* Whether item (a, b, c) of key k is pending. */
int csm_deltas_has(const csm_deltas *d, const csm_dkey *k, uint32_t a, uint32_t b, int32_t c);

/* Adds everything pending in src to dst (counters summed, members and
 * entries joined); src is unchanged. */
void csm_deltas_add(csm_deltas *dst, const csm_deltas *src);
/* The same, leaving src empty. */
void csm_deltas_merge(csm_deltas *dst, csm_deltas *src);

#endif
