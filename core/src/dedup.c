#include "dedup.h"

#include <stdlib.h>
#include <string.h>

void csm_dedup_init(csm_dedup *d)
{
    memset(d, 0, sizeof *d);
}

void csm_dedup_free(csm_dedup *d)
{
    free(d->slots);
    free(d->fifo);
    memset(d, 0, sizeof *d);
}

/* FNV-1a over the stream tag and the id; 0 is reserved for empty slots. */
uint64_t csm_dedup_hash(csm_stream stream, const char *event_id)
{
    uint64_t h = 1469598103934665603ULL;
    h = (h ^ (uint64_t)(stream + 1)) * 1099511628211ULL;
    for (const unsigned char *p = (const unsigned char *)event_id; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    /* Finalise (splitmix64) so that linear probing sees well-spread bits. */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h ? h : 1;
}

static size_t home(const csm_dedup *d, uint64_t hash)
{
    return (size_t)hash & (d->n_slots - 1);
}

int csm_dedup_contains(const csm_dedup *d, uint64_t hash)
{
    if (!d->n_slots)
        return 0;
    for (size_t i = home(d, hash);; i = (i + 1) & (d->n_slots - 1)) {
        if (d->slots[i] == hash)
            return 1;
        if (d->slots[i] == 0)
            return 0;
    }
}

static void insert_slot(csm_dedup *d, uint64_t hash)
{
    size_t i = home(d, hash);
    while (d->slots[i] && d->slots[i] != hash)
        i = (i + 1) & (d->n_slots - 1);
    if (!d->slots[i]) {
        d->slots[i] = hash;
        d->n++;
    }
}

static void grow_slots(csm_dedup *d)
{
    uint64_t *old = d->slots;
    size_t old_n = d->n_slots;
    d->n_slots = old_n ? old_n * 2 : 1024;
    d->slots = calloc(d->n_slots, sizeof *d->slots);
    if (!d->slots)
        abort();
    d->n = 0;
    for (size_t i = 0; i < old_n; i++)
        if (old[i])
            insert_slot(d, old[i]);
    free(old);
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void remove_slot(csm_dedup *d, uint64_t hash)
{
    size_t mask = d->n_slots - 1, i = home(d, hash);
    while (d->slots[i] != hash) {
        if (!d->slots[i])
            return;
        i = (i + 1) & mask;
    }
    d->n--;
    for (size_t j = (i + 1) & mask; d->slots[j]; j = (j + 1) & mask) {
        size_t h = home(d, d->slots[j]);
        /* Move j into the hole at i if its home does not lie in (i, j]. */
        int in_between = (i <= j) ? (h > i && h <= j) : (h > i || h <= j);
        if (!in_between) {
            d->slots[i] = d->slots[j];
            i = j;
        }
    }
    d->slots[i] = 0;
}

size_t csm_dedup_count(const csm_dedup *d)
{
    return d->n;
}

static size_t fifo_len(const csm_dedup *d)
{
    return d->n;
}

const csm_dedup_entry *csm_dedup_at(const csm_dedup *d, size_t i)
{
    if (i >= fifo_len(d))
        return NULL;
    return &d->fifo[(d->head + i) % d->fifo_cap];
}

void csm_dedup_add(csm_dedup *d, uint64_t hash, csm_ts ts)
{
    if (csm_dedup_contains(d, hash))
        return;
    if ((d->n + 1) * 4 > d->n_slots * 3)
        grow_slots(d);
    if (d->n + 1 > d->fifo_cap) {
        size_t cap = d->fifo_cap ? d->fifo_cap * 2 : 1024;
        csm_dedup_entry *f = malloc(cap * sizeof *f);
        if (!f)
            abort();
        for (size_t i = 0; i < d->n; i++)
            f[i] = d->fifo[(d->head + i) % d->fifo_cap];
        free(d->fifo);
        d->fifo = f;
        d->fifo_cap = cap;
        d->head = 0;
    }
    d->fifo[(d->head + d->n) % d->fifo_cap] = (csm_dedup_entry){hash, ts};
    insert_slot(d, hash);
    d->added++;
}

void csm_dedup_expire(csm_dedup *d, csm_ts horizon)
{
    while (d->n && d->fifo[d->head].ts < horizon) {
        remove_slot(d, d->fifo[d->head].hash);
        d->head = (d->head + 1) % d->fifo_cap;
        d->forgotten++;
    }
}

const csm_dedup_entry *csm_dedup_at_pos(const csm_dedup *d, uint64_t pos)
{
    return pos < d->forgotten ? NULL : csm_dedup_at(d, (size_t)(pos - d->forgotten));
}

void csm_dedup_set_base(csm_dedup *d, uint64_t forgotten)
{
    d->added = d->forgotten = forgotten;
}
