#include "dedup.h"

#include <stdlib.h>
#include <string.h>

void csm_dedup_init(csm_dedup *d)
{
    memset(d, 0, sizeof *d);
}

void csm_dedup_free(csm_dedup *d)
{
    csm_keyset_free(&d->ids);
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

int csm_dedup_contains(const csm_dedup *d, uint64_t hash)
{
    return csm_keyset_contains(&d->ids, hash);
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
    csm_keyset_add(&d->ids, hash);
    d->n++;
    d->added++;
}

void csm_dedup_expire(csm_dedup *d, csm_ts horizon)
{
    while (d->n && d->fifo[d->head].ts < horizon) {
        csm_keyset_remove(&d->ids, d->fifo[d->head].hash);
        d->n--;
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
