#include <stdlib.h>
#include <string.h>

#include "schema_ids.h"

void id_table_init(id_table *t, size_t max, void (*release)(id_entry *))
{
    memset(t, 0, sizeof *t);
    t->max = max ? max : 1;
    t->release = release;
}

void id_table_free(id_table *t)
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i])
            t->release(t->slots[i]);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static size_t home(const id_table *t, int32_t id)
{
    return ((uint32_t)id * 2654435761u) & (t->cap - 1);
}

static void place(id_table *t, id_entry *e)
{
    size_t i = home(t, e->id);
    while (t->slots[i])
        i = (i + 1) & (t->cap - 1);
    t->slots[i] = e;
}

static int grow(id_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 16;
    id_entry **old = t->slots, **slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    size_t old_cap = t->cap;
    t->slots = slots;
    t->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            place(t, old[i]);
    free(old);
    return 0;
}

/* Takes the entry at slot i out; the entries after it in its probe run
 * move back so that every lookup still finds its entry (no tombstones). */
static void take_out(id_table *t, size_t i)
{
    id_entry *e = t->slots[i];
    t->slots[i] = NULL;
    t->count--;
    if (e->kind != ID_PINNED)
        t->learned--;
    t->release(e);
    for (size_t j = (i + 1) & (t->cap - 1); t->slots[j]; j = (j + 1) & (t->cap - 1)) {
        id_entry *moved = t->slots[j];
        t->slots[j] = NULL;
        place(t, moved);
    }
}

static size_t slot_of(const id_table *t, int32_t id)
{
    size_t i = home(t, id);
    while (t->slots[i]->id != id)
        i = (i + 1) & (t->cap - 1);
    return i;
}

/* The least recently used learned entry, but not @p keep. */
static void forget_one(id_table *t, const id_entry *keep)
{
    size_t oldest = t->cap;
    for (size_t i = 0; i < t->cap; i++) {
        const id_entry *e = t->slots[i];
        if (e && e != keep && e->kind != ID_PINNED &&
            (oldest == t->cap || e->used < t->slots[oldest]->used))
            oldest = i;
    }
    if (oldest < t->cap)
        take_out(t, oldest);
}

int id_table_put(id_table *t, id_entry *e)
{
    if (id_table_find(t, e->id))
        take_out(t, slot_of(t, e->id));
    if ((t->count + 1) * 2 > t->cap && grow(t)) {
        t->release(e);
        return -1;
    }
    e->used = ++t->tick;
    place(t, e);
    t->count++;
    if (e->kind != ID_PINNED)
        t->learned++;
    while (t->learned > t->max)
        forget_one(t, e);
    return 0;
}

void id_table_set_max(id_table *t, size_t max)
{
    t->max = max ? max : 1;
    while (t->learned > t->max)
        forget_one(t, NULL);
}

static int by_id(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

size_t id_table_ids(const id_table *t, int32_t *ids, size_t cap)
{
    int32_t *all = malloc((t->count ? t->count : 1) * sizeof *all);
    size_t n = 0;
    for (size_t i = 0; i < t->cap && all; i++)
        if (t->slots[i])
            all[n++] = t->slots[i]->id;
    if (all && ids && cap) {
        qsort(all, n, sizeof *all, by_id);
        memcpy(ids, all, (n < cap ? n : cap) * sizeof *all);
    }
    free(all);
    return t->count;
}
