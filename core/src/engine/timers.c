#include "timers.h"

#include <stdlib.h>

#include "bytebuf.h"

#define NONE UINT32_MAX

struct csm_timer_entry {
    uint64_t id;
    csm_ts deadline;
    uint64_t seq;
    uint64_t key;
    uint32_t plugin;
    uint32_t tag;
    uint32_t idx; /* in the heap; free entries: the next free position + 1 */
    /* The other pending timers of the same (plugin, key), newest first. */
    uint32_t prev_of_key, next_of_key; /* NONE at either end */
};

typedef struct key_of {
    uint64_t key;
    uint32_t plugin;
} key_of;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static uint64_t hash_key(uint32_t plugin, uint64_t key)
{
    return mix(key * 0x9e3779b97f4a7c15ULL + plugin);
}

static uint64_t id_hash(const void *ctx, uint32_t pos)
{
    return mix(((const csm_timers *)ctx)->ent[pos].id);
}

static uint64_t key_hash(const void *ctx, uint32_t pos)
{
    const csm_timer_entry *e = &((const csm_timers *)ctx)->ent[pos];
    return hash_key(e->plugin, e->key);
}

static int id_match(const void *ctx, uint32_t pos, const void *id)
{
    return ((const csm_timers *)ctx)->ent[pos].id == *(const uint64_t *)id;
}

static int key_match(const void *ctx, uint32_t pos, const void *k)
{
    const csm_timer_entry *e = &((const csm_timers *)ctx)->ent[pos];
    const key_of *want = k;
    return e->key == want->key && e->plugin == want->plugin;
}

void csm_timers_init(csm_timers *t)
{
    *t = (csm_timers){0};
    csm_itab_init(&t->by_id, id_hash, t);
    csm_itab_init(&t->by_key, key_hash, t);
    t->next_id = 1;
}

void csm_timers_free(csm_timers *t)
{
    csm_itab_free(&t->by_id);
    csm_itab_free(&t->by_key);
    free(t->ent);
    free(t->heap);
    *t = (csm_timers){0};
}

static int before(const csm_timers *t, uint32_t a, uint32_t b)
{
    const csm_timer_entry *x = &t->ent[a], *y = &t->ent[b];
    return x->deadline < y->deadline || (x->deadline == y->deadline && x->seq < y->seq);
}

static void place(csm_timers *t, size_t i, uint32_t pos)
{
    t->heap[i] = pos;
    t->ent[pos].idx = (uint32_t)i;
}

static void sift_up(csm_timers *t, size_t i)
{
    uint32_t e = t->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(t, e, t->heap[parent]))
            break;
        place(t, i, t->heap[parent]);
        i = parent;
    }
    place(t, i, e);
}

static void sift_down(csm_timers *t, size_t i)
{
    uint32_t e = t->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        uint32_t best = e;
        if (l < t->n && before(t, t->heap[l], best)) {
            m = l;
            best = t->heap[l];
        }
        if (r < t->n && before(t, t->heap[r], best))
            m = r;
        if (m == i)
            break;
        place(t, i, t->heap[m]);
        i = m;
    }
    place(t, i, e);
}

static void heap_remove(csm_timers *t, size_t i)
{
    uint32_t last = t->heap[--t->n];
    if (i == t->n)
        return;
    place(t, i, last);
    sift_down(t, i);
    sift_up(t, t->ent[last].idx);
}

static uint32_t *group_slot(const csm_timers *t, uint32_t plugin, uint64_t key)
{
    key_of k = {key, plugin};
    return csm_itab_find(&t->by_key, hash_key(plugin, key), key_match, &k);
}

/* The newest timer of a (plugin, key) heads its list and is the one the
 * index holds. */
static void link_to_group(csm_timers *t, uint32_t pos)
{
    csm_timer_entry *e = &t->ent[pos];
    uint32_t *slot = group_slot(t, e->plugin, e->key);
    e->prev_of_key = NONE;
    e->next_of_key = slot ? *slot - 1 : NONE;
    if (slot) {
        t->ent[*slot - 1].prev_of_key = pos;
        *slot = pos + 1;
    } else {
        csm_itab_add(&t->by_key, hash_key(e->plugin, e->key), pos);
    }
}

static void unlink_from_group(csm_timers *t, uint32_t pos)
{
    const csm_timer_entry *e = &t->ent[pos];
    if (e->next_of_key != NONE)
        t->ent[e->next_of_key].prev_of_key = e->prev_of_key;
    if (e->prev_of_key != NONE) {
        t->ent[e->prev_of_key].next_of_key = e->next_of_key;
        return;
    }
    uint32_t *slot = group_slot(t, e->plugin, e->key);
    if (e->next_of_key != NONE)
        *slot = e->next_of_key + 1;
    else
        csm_itab_del(&t->by_key, slot);
}

static uint32_t new_entry(csm_timers *t)
{
    if (t->spare) {
        uint32_t pos = t->spare - 1;
        t->spare = t->ent[pos].idx;
        return pos;
    }
    if (t->n_ent == t->cap_ent) {
        uint32_t cap = t->cap_ent ? t->cap_ent * 2 : 256;
        csm_timer_entry *ent = realloc(t->ent, (size_t)cap * sizeof *ent);
        if (!ent || cap < t->cap_ent)
            abort();
        t->ent = ent;
        t->cap_ent = cap;
    }
    return t->n_ent++;
}

static void insert(csm_timers *t, uint64_t id, uint64_t seq, csm_ts deadline, uint32_t plugin,
                   uint64_t key, uint32_t tag)
{
    uint32_t pos = new_entry(t);
    t->ent[pos] = (csm_timer_entry){
        .id = id, .deadline = deadline, .seq = seq, .plugin = plugin, .tag = tag, .key = key};
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        uint32_t *heap = realloc(t->heap, t->cap * sizeof *heap);
        if (!heap)
            abort();
        t->heap = heap;
    }
    t->heap[t->n] = pos;
    t->ent[pos].idx = (uint32_t)t->n++;
    sift_up(t, t->ent[pos].idx);
    csm_itab_add(&t->by_id, mix(id), pos);
    link_to_group(t, pos);
}

/* Once no timer is pending, arrays grown by a burst are given back. */
#define SHRINK_ABOVE 4096

static void drop_arrays(csm_timers *t)
{
    free(t->ent);
    free(t->heap);
    t->ent = NULL;
    t->heap = NULL;
    t->n_ent = t->cap_ent = t->spare = 0;
    t->cap = 0;
}

static void release(csm_timers *t, uint32_t pos, uint32_t *id_slot)
{
    unlink_from_group(t, pos);
    csm_itab_del(&t->by_id, id_slot);
    t->ent[pos].idx = t->spare;
    t->spare = pos + 1;
    if (t->n == 0 && t->cap_ent > SHRINK_ABOVE)
        drop_arrays(t);
}

static uint32_t *id_slot(const csm_timers *t, uint64_t id)
{
    return csm_itab_find(&t->by_id, mix(id), id_match, &id);
}

uint64_t csm_timers_add(csm_timers *t, csm_ts deadline, uint32_t plugin, uint64_t key, uint32_t tag)
{
    uint64_t id = t->next_id++;
    insert(t, id, t->next_seq++, deadline, plugin, key, tag);
    return id;
}

int csm_timers_cancel(csm_timers *t, uint64_t id, uint32_t plugin, uint64_t *key)
{
    uint32_t *slot = id_slot(t, id);
    if (!slot || t->ent[*slot - 1].plugin != plugin)
        return -1;
    uint32_t pos = *slot - 1;
    *key = t->ent[pos].key;
    heap_remove(t, t->ent[pos].idx);
    release(t, pos, slot);
    return 0;
}

int csm_timers_peek(const csm_timers *t, csm_ts *deadline)
{
    if (!t->n)
        return 0;
    *deadline = t->ent[t->heap[0]].deadline;
    return 1;
}

void csm_timers_pop(csm_timers *t, csm_timer_fired *out)
{
    uint32_t pos = t->heap[0];
    const csm_timer_entry *e = &t->ent[pos];
    *out = (csm_timer_fired){e->id, e->deadline, e->plugin, e->key, e->tag};
    heap_remove(t, 0);
    release(t, pos, id_slot(t, out->id));
}

size_t csm_timers_count(const csm_timers *t)
{
    return t->n;
}

void csm_timers_snapshot(const csm_timers *t, csm_writer *w)
{
    csm_writer_put_i64(w, (int64_t)t->next_id);
    csm_writer_put_i64(w, (int64_t)t->next_seq);
    csm_writer_put_i64(w, (int64_t)t->n);
    for (size_t i = 0; i < t->n; i++) {
        const csm_timer_entry *e = &t->ent[t->heap[i]];
        csm_writer_put_i64(w, (int64_t)e->id);
        csm_writer_put_i64(w, (int64_t)e->seq);
        csm_writer_put_i64(w, e->deadline);
        csm_writer_put_i64(w, e->plugin);
        csm_writer_put_i64(w, (int64_t)e->key);
        csm_writer_put_i64(w, e->tag);
    }
}

int csm_timers_restore(csm_timers *t, csm_reader *r)
{
    int64_t next_id, next_seq, n;
    if (csm_reader_get_i64(r, &next_id) || csm_reader_get_i64(r, &next_seq) ||
        csm_reader_get_i64(r, &n) || n < 0)
        return -1;
    for (int64_t i = 0; i < n; i++) {
        int64_t id, seq, deadline, plugin, key, tag;
        if (csm_reader_get_i64(r, &id) || csm_reader_get_i64(r, &seq) ||
            csm_reader_get_i64(r, &deadline) || csm_reader_get_i64(r, &plugin) ||
            csm_reader_get_i64(r, &key) || csm_reader_get_i64(r, &tag))
            return -1;
        insert(t, (uint64_t)id, (uint64_t)seq, deadline, (uint32_t)plugin, (uint64_t)key,
               (uint32_t)tag);
    }
    t->next_id = (uint64_t)next_id;
    t->next_seq = (uint64_t)next_seq;
    return 0;
}

void csm_timers_foreach_of(const csm_timers *t, uint32_t plugin, uint64_t key,
                           void (*fn)(void *arg, const csm_timer_saved *s), void *arg)
{
    const uint32_t *slot = group_slot(t, plugin, key);
    for (uint32_t pos = slot ? *slot - 1 : NONE; pos != NONE; pos = t->ent[pos].next_of_key) {
        const csm_timer_entry *e = &t->ent[pos];
        csm_timer_saved s = {e->id, e->seq, e->deadline, e->tag};
        fn(arg, &s);
    }
}

void csm_timers_counters(const csm_timers *t, uint64_t *next_id, uint64_t *next_seq)
{
    *next_id = t->next_id;
    *next_seq = t->next_seq;
}

void csm_timers_set_counters(csm_timers *t, uint64_t next_id, uint64_t next_seq)
{
    t->next_id = next_id;
    t->next_seq = next_seq;
}

void csm_timers_restore_one(csm_timers *t, const csm_timer_saved *s, uint32_t plugin, uint64_t key)
{
    insert(t, s->id, s->seq, s->deadline, plugin, key, s->tag);
}
