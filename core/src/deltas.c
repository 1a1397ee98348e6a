/* Pending writes of one partition. Every event adds a few counters, so the
 * hot path must not allocate: strings are interned into a chunked arena
 * (pointers stay valid as it grows), lookups go through open-addressing
 * tables of indices, and csm_deltas_clear() keeps all of that memory for
 * the next flush interval. Operations keep their first-insertion order so
 * that two runs over the same input send byte-identical commands. */
#include "deltas.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (64 * 1024)
#define EMPTY UINT32_MAX

typedef struct chunk {
    struct chunk *next;
    size_t cap, used;
    char data[];
} chunk;

typedef struct arena {
    chunk *head, *cur;
} arena;

/* An interned string; its index is its first-insertion rank. */
typedef struct istr {
    const char *s;
    uint64_t hash;
    int64_t expire_at; /* keys only */
} istr;

typedef struct strtab {
    istr *v;
    uint32_t n, vcap;
    uint32_t *slot; /* index into v, EMPTY when free */
    uint32_t mask;  /* slot capacity - 1 */
} strtab;

typedef struct op {
    csm_delta_kind kind;
    uint32_t key, name; /* name: field or member; EMPTY for XADD */
    int64_t value;
    long maxlen;
    const char *const *fv;
    size_t n_fv;
} op;

struct csm_deltas {
    uint64_t version; /* from next_version(): unique in the process */
    arena mem;
    strtab keys, names;
    op *ops;
    uint32_t n_ops, ops_cap;
    uint32_t *pslot; /* (kind, key, name) → op index, for HINCRBY and SADD */
    uint32_t pmask;
    uint32_t n_pairs;
};

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        abort();
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p)
        abort();
    return p;
}

static void *arena_alloc(arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7; /* keeps the XADD pointer arrays aligned */
    while (a->cur && a->cur->cap - a->cur->used < n && a->cur->next)
        a->cur = a->cur->next;
    if (!a->cur || a->cur->cap - a->cur->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        chunk *c = xmalloc(sizeof *c + cap);
        c->cap = cap;
        c->used = 0;
        /* Appended after cur: chunks past cur are empty after a clear or
         * were too small, and keep their place for later reuse. */
        if (a->cur) {
            c->next = a->cur->next;
            a->cur->next = c;
        } else {
            c->next = NULL;
            a->head = c;
        }
        a->cur = c;
    }
    void *p = a->cur->data + a->cur->used;
    a->cur->used += n;
    return p;
}

static const char *arena_strdup(arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);
    memcpy(p, s, len + 1);
    return p;
}

static void arena_reset(arena *a)
{
    for (chunk *c = a->head; c; c = c->next)
        c->used = 0;
    a->cur = a->head;
}

static void arena_free(arena *a)
{
    chunk *c = a->head;
    while (c) {
        chunk *nx = c->next;
        free(c);
        c = nx;
    }
    a->head = a->cur = NULL;
}

/* FNV-1a with a final avalanche: keys differ mostly in their tails. */
static uint64_t hash_str(const char *s, size_t *len)
{
    uint64_t h = 1469598103934665603ull;
    const char *p = s;
    for (; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 1099511628211ull;
    }
    *len = (size_t)(p - s);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static uint64_t mix3(uint32_t a, uint32_t b, uint32_t c)
{
    uint64_t h = ((uint64_t)a << 32 | b) * 0x9e3779b97f4a7c15ull;
    h ^= (uint64_t)c * 0xc2b2ae3d27d4eb4full;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h;
}

static uint32_t *slots_new(uint32_t cap)
{
    uint32_t *s = xmalloc(cap * sizeof *s);
    memset(s, 0xff, cap * sizeof *s);
    return s;
}

static void strtab_init(strtab *t)
{
    memset(t, 0, sizeof *t);
    t->mask = 255;
    t->slot = slots_new(t->mask + 1);
}

static void strtab_grow(strtab *t)
{
    uint32_t cap = (t->mask + 1) * 2;
    free(t->slot);
    t->slot = slots_new(cap);
    t->mask = cap - 1;
    for (uint32_t i = 0; i < t->n; i++) {
        uint32_t j = (uint32_t)t->v[i].hash & t->mask;
        while (t->slot[j] != EMPTY)
            j = (j + 1) & t->mask;
        t->slot[j] = i;
    }
}

/* Index of s, or EMPTY if absent and !add. */
static uint32_t strtab_find(strtab *t, arena *a, const char *s, int add)
{
    size_t len;
    uint64_t h = hash_str(s, &len);
    uint32_t j = (uint32_t)h & t->mask;
    for (;; j = (j + 1) & t->mask) {
        uint32_t i = t->slot[j];
        if (i == EMPTY)
            break;
        if (t->v[i].hash == h && !strcmp(t->v[i].s, s))
            return i;
    }
    if (!add)
        return EMPTY;
    if (t->n == t->vcap) {
        t->vcap = t->vcap ? t->vcap * 2 : 256;
        t->v = xrealloc(t->v, t->vcap * sizeof *t->v);
    }
    uint32_t i = t->n++;
    t->v[i].s = arena_strdup(a, s, len);
    t->v[i].hash = h;
    t->v[i].expire_at = 0;
    t->slot[j] = i;
    if (t->n * 2 > t->mask + 1)
        strtab_grow(t);
    return i;
}

static void strtab_clear(strtab *t)
{
    memset(t->slot, 0xff, (t->mask + 1) * sizeof *t->slot);
    t->n = 0;
}

static void strtab_free(strtab *t)
{
    free(t->v);
    free(t->slot);
}

/* One counter for every deltas object, so a version names one state of one
 * object: an engine rebuilt after a reload never repeats an old version. */
static uint64_t next_version(void)
{
    static _Atomic uint64_t counter;
    return ++counter;
}

uint64_t csm_deltas_version(const csm_deltas *d)
{
    return d->version;
}

csm_deltas *csm_deltas_new(void)
{
    csm_deltas *d = xmalloc(sizeof *d);
    memset(d, 0, sizeof *d);
    strtab_init(&d->keys);
    strtab_init(&d->names);
    d->pmask = 1023;
    d->pslot = slots_new(d->pmask + 1);
    d->version = next_version();
    return d;
}

void csm_deltas_free(csm_deltas *d)
{
    if (!d)
        return;
    arena_free(&d->mem);
    strtab_free(&d->keys);
    strtab_free(&d->names);
    free(d->ops);
    free(d->pslot);
    free(d);
}

void csm_deltas_clear(csm_deltas *d)
{
    arena_reset(&d->mem);
    strtab_clear(&d->keys);
    strtab_clear(&d->names);
    if (d->n_pairs)
        memset(d->pslot, 0xff, (d->pmask + 1) * sizeof *d->pslot);
    d->n_pairs = 0;
    d->n_ops = 0;
    d->version = next_version();
}

size_t csm_deltas_size(const csm_deltas *d)
{
    return d->n_ops;
}

static uint32_t push_op(csm_deltas *d, csm_delta_kind kind, uint32_t key, uint32_t name)
{
    if (d->n_ops == d->ops_cap) {
        d->ops_cap = d->ops_cap ? d->ops_cap * 2 : 1024;
        d->ops = xrealloc(d->ops, d->ops_cap * sizeof *d->ops);
    }
    op *o = &d->ops[d->n_ops];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->key = key;
    o->name = name;
    return d->n_ops++;
}

static void pairs_grow(csm_deltas *d)
{
    uint32_t cap = (d->pmask + 1) * 2;
    free(d->pslot);
    d->pslot = slots_new(cap);
    d->pmask = cap - 1;
    for (uint32_t i = 0; i < d->n_ops; i++) {
        const op *o = &d->ops[i];
        if (o->kind == CSM_DELTA_XADD)
            continue;
        uint32_t j = (uint32_t)mix3(o->kind, o->key, o->name) & d->pmask;
        while (d->pslot[j] != EMPTY)
            j = (j + 1) & d->pmask;
        d->pslot[j] = i;
    }
}

/* The op of (kind, key, name): created at the end of the order if new. */
static op *pair_op(csm_deltas *d, csm_delta_kind kind, uint32_t key, uint32_t name)
{
    uint32_t j = (uint32_t)mix3(kind, key, name) & d->pmask;
    for (;; j = (j + 1) & d->pmask) {
        uint32_t i = d->pslot[j];
        if (i == EMPTY)
            break;
        op *o = &d->ops[i];
        if (o->key == key && o->name == name && o->kind == kind)
            return o;
    }
    uint32_t i = push_op(d, kind, key, name);
    d->pslot[j] = i;
    if (++d->n_pairs * 2 > d->pmask + 1)
        pairs_grow(d);
    return &d->ops[i];
}

/* A zero expire_at never removes an expiry: the engine passes 0 only for
 * keys that have none (the shops set), so this is about robustness. */
static uint32_t intern_key(csm_deltas *d, const char *key, int64_t expire_at)
{
    d->version = next_version(); /* every addition comes through here */
    uint32_t k = strtab_find(&d->keys, &d->mem, key, 1);
    if (expire_at)
        d->keys.v[k].expire_at = expire_at;
    return k;
}

void csm_deltas_hincr(csm_deltas *d, const char *key, const char *field, int64_t delta,
                      int64_t expire_at)
{
    uint32_t k = intern_key(d, key, expire_at);
    uint32_t f = strtab_find(&d->names, &d->mem, field, 1);
    /* A counter that nets to zero is still sent: HINCRBY by 0 creates the
     * field, as the same deltas split over two flushes would. */
    pair_op(d, CSM_DELTA_HINCRBY, k, f)->value += delta;
}

void csm_deltas_sadd(csm_deltas *d, const char *key, const char *member, int64_t expire_at)
{
    uint32_t k = intern_key(d, key, expire_at);
    uint32_t m = strtab_find(&d->names, &d->mem, member, 1);
    pair_op(d, CSM_DELTA_SADD, k, m);
}

void csm_deltas_zadd(csm_deltas *d, const char *key, const char *member, int64_t score)
{
    uint32_t k = intern_key(d, key, 0);
    uint32_t m = strtab_find(&d->names, &d->mem, member, 1);
    pair_op(d, CSM_DELTA_ZADD, k, m)->value = score;
}

void csm_deltas_xadd(csm_deltas *d, const char *key, long maxlen, const char *const *fv,
                     size_t n_fv)
{
    uint32_t k = intern_key(d, key, 0);
    const char **copy = arena_alloc(&d->mem, (n_fv ? n_fv : 1) * sizeof *copy);
    for (size_t j = 0; j < n_fv; j++) {
        const char *v = fv[j] ? fv[j] : "";
        copy[j] = arena_strdup(&d->mem, v, strlen(v));
    }
    uint32_t i = push_op(d, CSM_DELTA_XADD, k, EMPTY);
    op *o = &d->ops[i];
    o->maxlen = maxlen;
    o->fv = copy;
    o->n_fv = n_fv;
}

void csm_deltas_foreach(const csm_deltas *d, csm_delta_visit_fn fn, void *arg)
{
    csm_delta_op v;
    for (uint32_t i = 0; i < d->n_ops; i++) {
        const op *o = &d->ops[i];
        memset(&v, 0, sizeof v);
        v.kind = o->kind;
        v.key = d->keys.v[o->key].s;
        if (o->kind == CSM_DELTA_XADD) {
            v.maxlen = o->maxlen;
            v.fv = o->fv;
            v.n_fv = o->n_fv;
        } else {
            v.field = d->names.v[o->name].s;
            v.value = o->value;
        }
        fn(arg, &v);
    }
    for (uint32_t k = 0; k < d->keys.n; k++) {
        if (!d->keys.v[k].expire_at)
            continue;
        memset(&v, 0, sizeof v);
        v.kind = CSM_DELTA_EXPIREAT;
        v.key = d->keys.v[k].s;
        v.value = d->keys.v[k].expire_at;
        fn(arg, &v);
    }
}

int64_t csm_deltas_get(const csm_deltas *d, const char *key, const char *field)
{
    /* Lookups without insertion leave the tables untouched. */
    csm_deltas *m = (csm_deltas *)d;
    uint32_t k = strtab_find(&m->keys, &m->mem, key, 0);
    uint32_t f = k == EMPTY ? EMPTY : strtab_find(&m->names, &m->mem, field, 0);
    if (f == EMPTY)
        return 0;
    uint32_t j = (uint32_t)mix3(CSM_DELTA_HINCRBY, k, f) & d->pmask;
    for (;; j = (j + 1) & d->pmask) {
        uint32_t i = d->pslot[j];
        if (i == EMPTY)
            return 0;
        const op *o = &d->ops[i];
        if (o->kind == CSM_DELTA_HINCRBY && o->key == k && o->name == f)
            return o->value;
    }
}

void csm_deltas_merge(csm_deltas *dst, csm_deltas *src)
{
    for (uint32_t i = 0; i < src->n_ops; i++) {
        const op *o = &src->ops[i];
        const char *key = src->keys.v[o->key].s;
        switch (o->kind) {
        case CSM_DELTA_HINCRBY:
            csm_deltas_hincr(dst, key, src->names.v[o->name].s, o->value, 0);
            break;
        case CSM_DELTA_SADD:
            csm_deltas_sadd(dst, key, src->names.v[o->name].s, 0);
            break;
        case CSM_DELTA_XADD:
            csm_deltas_xadd(dst, key, o->maxlen, o->fv, o->n_fv);
            break;
        case CSM_DELTA_ZADD:
            csm_deltas_zadd(dst, key, src->names.v[o->name].s, o->value);
            break;
        case CSM_DELTA_EXPIREAT:
            break;
        }
    }
    for (uint32_t k = 0; k < src->keys.n; k++)
        if (src->keys.v[k].expire_at)
            intern_key(dst, src->keys.v[k].s, src->keys.v[k].expire_at);
    csm_deltas_clear(src);
}
