/* Pending writes of one partition, keyed by integers. A count is one
 * lookup in an open-addressing table of items keyed by (key parts, item
 * parts); only an item seen for the first time since the last flush
 * touches the key table. Nothing allocates in steady state: tables grow
 * geometrically and csm_deltas_clear() keeps them. Keys and items keep
 * their first-insertion order so that two runs over the same input send
 * byte-identical commands. */
#include "deltas.h"

#include <stdlib.h>
#include <string.h>

#define NONE CSM_INTERN_NONE
/* Members given as strings live in the per-flush table: their ids carry
 * this bit to tell them from interned names. */
#define MEMBER_STR 0x80000000u

typedef struct table {
    uint32_t *slot; /* indices; NONE when free */
    uint32_t mask;  /* capacity - 1 */
    uint32_t used;
} table;

struct csm_deltas {
    uint64_t version; /* from next_version(): unique in the process */
    char *prefix;
    csm_intern *names;   /* kept across flushes */
    int names_borrowed;  /* a shadow's: owned by the live object */
    csm_intern *strings; /* members and stream values of this interval */
    csm_dkeyrec *keys;
    uint32_t n_keys, keys_cap;
    csm_ditem *items;
    uint32_t n_items, items_cap;
    const char **fv;
    uint32_t n_fv, fv_cap;
    table key_ix, item_ix;
    uint32_t *carried; /* csm_deltas_add's id map */
    uint32_t carried_cap;
};

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p)
        abort();
    return p;
}

/* Doubles *cap (from first) when n has reached it. */
static void *reserve(void *v, uint32_t n, uint32_t *cap, uint32_t first, size_t size)
{
    if (n < *cap)
        return v;
    *cap = *cap ? *cap * 2 : first;
    return xrealloc(v, (size_t)*cap * size);
}

static void table_init(table *t, uint32_t cap)
{
    t->slot = xrealloc(NULL, cap * sizeof *t->slot);
    memset(t->slot, 0xff, cap * sizeof *t->slot);
    t->mask = cap - 1;
    t->used = 0;
}

static void table_clear(table *t)
{
    if (t->used)
        memset(t->slot, 0xff, (t->mask + 1) * sizeof *t->slot);
    t->used = 0;
}

static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

static uint64_t hash_key(const csm_dkey *k)
{
    return mix(mix(0, (uint64_t)k->kind << 32 | k->shop),
               (uint64_t)(uint32_t)k->day << 32 | k->name);
}

static uint64_t hash_item(const csm_dkey *k, uint32_t a, uint32_t b, int32_t c)
{
    return mix(mix(hash_key(k), (uint64_t)a << 32 | b), (uint32_t)c);
}

static int same_key(const csm_dkey *x, const csm_dkey *y)
{
    return x->kind == y->kind && x->shop == y->shop && x->day == y->day && x->name == y->name;
}

/* One counter for every deltas object, so a version names one state of one
 * object: an engine rebuilt after a reload never repeats an old version. */
static uint64_t next_version(void)
{
    static _Atomic uint64_t counter;
    return ++counter;
}

csm_deltas *csm_deltas_new(const char *prefix)
{
    csm_deltas *d = xrealloc(NULL, sizeof *d);
    memset(d, 0, sizeof *d);
    d->prefix = strdup(prefix ? prefix : "");
    d->names = csm_intern_new();
    d->strings = csm_intern_new();
    if (!d->prefix || !d->names || !d->strings)
        abort();
    table_init(&d->key_ix, 256);
    table_init(&d->item_ix, 1024);
    d->version = next_version();
    return d;
}

void csm_deltas_free(csm_deltas *d)
{
    if (!d)
        return;
    free(d->prefix);
    if (!d->names_borrowed)
        csm_intern_free(d->names);
    csm_intern_free(d->strings);
    free(d->keys);
    free(d->items);
    free(d->fv);
    free(d->carried);
    free(d->key_ix.slot);
    free(d->item_ix.slot);
    free(d);
}

csm_deltas *csm_deltas_new_shadow(csm_deltas *live)
{
    csm_deltas *d = csm_deltas_new(live->prefix);
    csm_intern_free(d->names);
    d->names = live->names;
    d->names_borrowed = 1;
    return d;
}

#define SWAP(T, x, y)                                                                              \
    do {                                                                                           \
        T tmp_ = (x);                                                                              \
        (x) = (y);                                                                                 \
        (y) = tmp_;                                                                                \
    } while (0)

void csm_deltas_swap_pending(csm_deltas *a, csm_deltas *b)
{
    SWAP(uint64_t, a->version, b->version);
    SWAP(csm_intern *, a->strings, b->strings);
    SWAP(csm_dkeyrec *, a->keys, b->keys);
    SWAP(uint32_t, a->n_keys, b->n_keys);
    SWAP(uint32_t, a->keys_cap, b->keys_cap);
    SWAP(csm_ditem *, a->items, b->items);
    SWAP(uint32_t, a->n_items, b->n_items);
    SWAP(uint32_t, a->items_cap, b->items_cap);
    SWAP(const char **, a->fv, b->fv);
    SWAP(uint32_t, a->n_fv, b->n_fv);
    SWAP(uint32_t, a->fv_cap, b->fv_cap);
    SWAP(table, a->key_ix, b->key_ix);
    SWAP(table, a->item_ix, b->item_ix);
}

void csm_deltas_unfreeze(csm_deltas *live, csm_deltas *frozen)
{
    /* Into the frozen table, so its entries keep their first places (the
     * order a flush without the cut would have sent), and its version
     * stays when nothing came since. */
    csm_deltas_add(frozen, live);
    csm_deltas_swap_pending(live, frozen);
    csm_deltas_clear(frozen);
}

void csm_deltas_clear(csm_deltas *d)
{
    csm_intern_reset(d->strings);
    table_clear(&d->key_ix);
    table_clear(&d->item_ix);
    d->n_keys = d->n_items = d->n_fv = 0;
    d->version = next_version();
}

size_t csm_deltas_size(const csm_deltas *d)
{
    return d->n_items;
}

uint64_t csm_deltas_version(const csm_deltas *d)
{
    return d->version;
}

const char *csm_deltas_prefix(const csm_deltas *d)
{
    return d->prefix;
}

csm_intern *csm_deltas_names(csm_deltas *d)
{
    return d->names;
}

const csm_intern *csm_deltas_names_c(const csm_deltas *d)
{
    return d->names;
}

static void rehash_keys(csm_deltas *d)
{
    table *t = &d->key_ix;
    uint32_t used = t->used;
    free(t->slot);
    table_init(t, (t->mask + 1) * 2);
    t->used = used;
    for (uint32_t i = 0; i < d->n_keys; i++) {
        uint32_t j = (uint32_t)hash_key(&d->keys[i].key) & t->mask;
        while (t->slot[j] != NONE)
            j = (j + 1) & t->mask;
        t->slot[j] = i;
    }
}

static uint32_t find_key(csm_deltas *d, const csm_dkey *k)
{
    table *t = &d->key_ix;
    uint32_t j = (uint32_t)hash_key(k) & t->mask;
    for (;; j = (j + 1) & t->mask) {
        uint32_t i = t->slot[j];
        if (i == NONE)
            break;
        if (same_key(&d->keys[i].key, k))
            return i;
    }
    d->keys = reserve(d->keys, d->n_keys, &d->keys_cap, 256, sizeof *d->keys);
    uint32_t i = d->n_keys++;
    csm_dkeyrec *r = &d->keys[i];
    r->key = *k;
    r->expire_at = 0;
    r->first = r->last = NONE;
    r->n_items = 0;
    t->slot[j] = i;
    if (++t->used * 2 > t->mask + 1)
        rehash_keys(d);
    return i;
}

/* Appends a new item to key k's list; it is not indexed. */
static csm_ditem *push_item(csm_deltas *d, uint32_t key, uint32_t a, uint32_t b, int32_t c)
{
    d->items = reserve(d->items, d->n_items, &d->items_cap, 1024, sizeof *d->items);
    uint32_t i = d->n_items++;
    csm_ditem *it = &d->items[i];
    *it = (csm_ditem){.key = key, .a = a, .b = b, .c = c, .next = NONE};
    csm_dkeyrec *r = &d->keys[key];
    if (r->last == NONE)
        r->first = i;
    else
        d->items[r->last].next = i;
    r->last = i;
    r->n_items++;
    return it;
}

static void rehash_items(csm_deltas *d)
{
    table *t = &d->item_ix;
    uint32_t used = t->used;
    free(t->slot);
    table_init(t, (t->mask + 1) * 2);
    t->used = used;
    for (uint32_t i = 0; i < d->n_items; i++) {
        const csm_ditem *it = &d->items[i];
        if (d->keys[it->key].key.kind == CSM_KEY_ALERTS || d->keys[it->key].key.kind == CSM_KEY_RAW)
            continue;
        uint32_t j = (uint32_t)hash_item(&d->keys[it->key].key, it->a, it->b, it->c) & t->mask;
        while (t->slot[j] != NONE)
            j = (j + 1) & t->mask;
        t->slot[j] = i;
    }
}

/* The slot of item (k, a, b, c): its index, or NONE where it would go. */
static uint32_t item_slot(const csm_deltas *d, const csm_dkey *k, uint32_t a, uint32_t b, int32_t c)
{
    const table *t = &d->item_ix;
    uint32_t j = (uint32_t)hash_item(k, a, b, c) & t->mask;
    for (;; j = (j + 1) & t->mask) {
        uint32_t i = t->slot[j];
        if (i == NONE)
            return j;
        const csm_ditem *it = &d->items[i];
        if (it->a == a && it->b == b && it->c == c && same_key(&d->keys[it->key].key, k))
            return j;
    }
}

/* The item (k, a, b, c), created at the end of the order if new. */
static csm_ditem *item_of(csm_deltas *d, const csm_dkey *k, uint32_t a, uint32_t b, int32_t c,
                          int64_t expire_at)
{
    d->version = next_version(); /* every merged addition comes through here */
    uint32_t j = item_slot(d, k, a, b, c);
    uint32_t i = d->item_ix.slot[j];
    if (i != NONE) {
        if (expire_at)
            d->keys[d->items[i].key].expire_at = expire_at;
        return &d->items[i];
    }
    uint32_t key = find_key(d, k);
    if (expire_at)
        d->keys[key].expire_at = expire_at;
    csm_ditem *it = push_item(d, key, a, b, c);
    d->item_ix.slot[j] = (uint32_t)(it - d->items);
    if (++d->item_ix.used * 2 > d->item_ix.mask + 1) {
        rehash_items(d);
        it = &d->items[d->n_items - 1];
    }
    return it;
}

void csm_deltas_hincr(csm_deltas *d, const csm_dkey *k, uint32_t name, uint32_t split, int hour,
                      int64_t delta, int64_t expire_at)
{
    /* A counter that nets to zero is still sent: HINCRBY by 0 creates the
     * field, as the same deltas split over two flushes would. */
    item_of(d, k, name, split, hour, expire_at)->value += delta;
}

void csm_deltas_sadd_id(csm_deltas *d, const csm_dkey *k, uint32_t member, int64_t expire_at)
{
    item_of(d, k, member, NONE, -1, expire_at);
}

void csm_deltas_sadd_str(csm_deltas *d, const csm_dkey *k, const char *member, int64_t expire_at)
{
    csm_deltas_sadd_id(d, k, csm_intern_id(d->strings, member) | MEMBER_STR, expire_at);
}

void csm_deltas_zadd_due(csm_deltas *d, const csm_dkey *k, uint32_t shop, uint32_t platform,
                         int32_t day, int64_t score)
{
    item_of(d, k, shop, platform, day, 0)->value = score;
}

void csm_deltas_xadd(csm_deltas *d, const csm_dkey *k, long maxlen, const char *const *fv,
                     size_t n_fv)
{
    d->version = next_version();
    uint32_t at = d->n_fv;
    for (size_t j = 0; j < n_fv; j++) {
        d->fv = reserve(d->fv, d->n_fv, &d->fv_cap, 64, sizeof *d->fv);
        d->fv[d->n_fv++] =
            csm_intern_str(d->strings, csm_intern_id(d->strings, fv[j] ? fv[j] : ""));
    }
    push_item(d, find_key(d, k), at, (uint32_t)n_fv, -1)->value = maxlen;
}

const csm_dkeyrec *csm_deltas_keys(const csm_deltas *d, size_t *n)
{
    *n = d->n_keys;
    return d->keys;
}

const csm_ditem *csm_deltas_item(const csm_deltas *d, uint32_t i)
{
    return &d->items[i];
}

const char *csm_deltas_member(const csm_deltas *d, uint32_t member)
{
    if (member & MEMBER_STR)
        return csm_intern_str(d->strings, member & ~MEMBER_STR);
    return csm_intern_str(d->names, member);
}

const char *const *csm_deltas_fv(const csm_deltas *d, const csm_ditem *it)
{
    return d->fv + it->a;
}

int64_t csm_deltas_counter(const csm_deltas *d, const csm_dkey *k, uint32_t name, uint32_t split,
                           int hour)
{
    uint32_t i = d->item_ix.slot[item_slot(d, k, name, split, hour)];
    return i == NONE ? 0 : d->items[i].value;
}

int csm_deltas_has(const csm_deltas *d, const csm_dkey *k, uint32_t a, uint32_t b, int32_t c)
{
    return d->item_ix.slot[item_slot(d, k, a, b, c)] != NONE;
}

/* dst's id of src's name id, through dst->carried (src id → dst id, NONE
 * until first asked): each name is looked up once per csm_deltas_add. */
static uint32_t carry(csm_deltas *dst, const csm_deltas *src, uint32_t id)
{
    if (id == NONE)
        return NONE;
    if (dst->carried[id] == NONE)
        dst->carried[id] = csm_intern_id(dst->names, csm_intern_str(src->names, id));
    return dst->carried[id];
}

static void merge_item(csm_deltas *dst, const csm_deltas *src, const csm_dkey *k,
                       const csm_ditem *it)
{
    switch (k->kind) {
    case CSM_KEY_BOARD:
    case CSM_KEY_ALLDAY:
    case CSM_KEY_AGENT:
    case CSM_KEY_INTENT:
        csm_deltas_hincr(dst, k, carry(dst, src, it->a), carry(dst, src, it->b), it->c, it->value,
                         0);
        break;
    case CSM_KEY_SBT_DUE:
        csm_deltas_zadd_due(dst, k, carry(dst, src, it->a), it->b, it->c, it->value);
        break;
    case CSM_KEY_ALERTS:
    case CSM_KEY_RAW:
        csm_deltas_xadd(dst, k, (long)it->value, csm_deltas_fv(src, it), it->b);
        break;
    default: /* sets */
        if (it->a & MEMBER_STR)
            csm_deltas_sadd_str(dst, k, csm_deltas_member(src, it->a), 0);
        else
            csm_deltas_sadd_id(dst, k, carry(dst, src, it->a), 0);
    }
}

void csm_deltas_add(csm_deltas *dst, const csm_deltas *src)
{
    uint32_t n = csm_intern_count(src->names);
    if (n > dst->carried_cap) {
        dst->carried_cap = n * 2;
        dst->carried = xrealloc(dst->carried, dst->carried_cap * sizeof *dst->carried);
    }
    if (n)
        memset(dst->carried, 0xff, n * sizeof *dst->carried);
    for (uint32_t i = 0; i < src->n_keys; i++) {
        const csm_dkeyrec *r = &src->keys[i];
        csm_dkey k = r->key;
        k.shop = carry(dst, src, k.shop);
        k.name = carry(dst, src, k.name);
        for (uint32_t j = r->first; j != NONE; j = src->items[j].next)
            merge_item(dst, src, &k, &src->items[j]);
        if (r->expire_at)
            dst->keys[find_key(dst, &k)].expire_at = r->expire_at;
    }
}

void csm_deltas_merge(csm_deltas *dst, csm_deltas *src)
{
    csm_deltas_add(dst, src);
    csm_deltas_clear(src);
}
