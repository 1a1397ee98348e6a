#include "timers.h"

#include <stdlib.h>
#include <uthash.h>

#include "bytebuf.h"

struct csm_timer_entry {
    uint64_t id;
    csm_ts deadline;
    uint64_t seq;
    uint32_t plugin;
    uint32_t tag;
    uint64_t key;
    size_t idx;
    UT_hash_handle hh;
    csm_timer_entry *next_spare;
    /* The other pending timers of the same (plugin, key). */
    csm_timer_entry *prev_of_key, *next_of_key;
};

/* The pending timers of one (plugin, key), so a checkpoint record can
 * list them without scanning the heap. */
typedef struct timer_group {
    struct {
        uint64_t key;
        uint32_t plugin;
        uint32_t pad; /* zeroed: part of the hash key */
    } id;
    csm_timer_entry *first;
    UT_hash_handle hh;
    struct timer_group *next_spare;
} timer_group;

void csm_timers_init(csm_timers *t)
{
    *t = (csm_timers){0};
    t->next_id = 1;
}

static void free_groups(csm_timers *t)
{
    timer_group *g, *tmp;
    HASH_ITER(hh, t->groups, g, tmp)
    {
        HASH_DEL(t->groups, g);
        free(g);
    }
    while (t->spare_groups) {
        g = t->spare_groups;
        t->spare_groups = g->next_spare;
        free(g);
    }
}

void csm_timers_free(csm_timers *t)
{
    free_groups(t);
    csm_timer_entry *e, *tmp;
    HASH_ITER(hh, t->by_id, e, tmp)
    {
        HASH_DEL(t->by_id, e);
        free(e);
    }
    while (t->spare) {
        e = t->spare;
        t->spare = e->next_spare;
        free(e);
    }
    free(t->heap);
    *t = (csm_timers){0};
}

static int before(const csm_timer_entry *a, const csm_timer_entry *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void place(csm_timers *t, size_t i, csm_timer_entry *e)
{
    t->heap[i] = e;
    e->idx = i;
}

static void sift_up(csm_timers *t, size_t i)
{
    csm_timer_entry *e = t->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(e, t->heap[parent]))
            break;
        place(t, i, t->heap[parent]);
        i = parent;
    }
    place(t, i, e);
}

static void sift_down(csm_timers *t, size_t i)
{
    csm_timer_entry *e = t->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const csm_timer_entry *best = e;
        if (l < t->n && before(t->heap[l], best)) {
            m = l;
            best = t->heap[l];
        }
        if (r < t->n && before(t->heap[r], best))
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
    csm_timer_entry *last = t->heap[--t->n];
    if (i == t->n)
        return;
    place(t, i, last);
    sift_down(t, i);
    sift_up(t, last->idx);
}

static timer_group *find_group(const csm_timers *t, uint32_t plugin, uint64_t key)
{
    timer_group probe = {.id = {key, plugin, 0}}, *g = NULL;
    HASH_FIND(hh, t->groups, &probe.id, sizeof probe.id, g);
    return g;
}

static void link_to_group(csm_timers *t, csm_timer_entry *e)
{
    timer_group *g = find_group(t, e->plugin, e->key);
    if (!g) {
        g = t->spare_groups;
        if (g)
            t->spare_groups = g->next_spare;
        else if (!(g = malloc(sizeof *g)))
            abort();
        *g = (timer_group){.id = {e->key, e->plugin, 0}};
        HASH_ADD(hh, t->groups, id, sizeof g->id, g);
    }
    e->prev_of_key = NULL;
    e->next_of_key = g->first;
    if (g->first)
        g->first->prev_of_key = e;
    g->first = e;
}

static void unlink_from_group(csm_timers *t, csm_timer_entry *e)
{
    if (e->next_of_key)
        e->next_of_key->prev_of_key = e->prev_of_key;
    if (e->prev_of_key) {
        e->prev_of_key->next_of_key = e->next_of_key;
        return;
    }
    timer_group *g = find_group(t, e->plugin, e->key);
    g->first = e->next_of_key;
    if (!g->first) {
        HASH_DEL(t->groups, g);
        g->next_spare = t->spare_groups;
        t->spare_groups = g;
    }
}

static csm_timer_entry *insert(csm_timers *t, uint64_t id, uint64_t seq, csm_ts deadline,
                               uint32_t plugin, uint64_t key, uint32_t tag)
{
    csm_timer_entry *e = t->spare;
    if (e)
        t->spare = e->next_spare;
    else
        e = malloc(sizeof *e);
    *e = (csm_timer_entry){
        .id = id, .deadline = deadline, .seq = seq, .plugin = plugin, .tag = tag, .key = key};
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->heap = realloc(t->heap, t->cap * sizeof *t->heap);
    }
    t->heap[t->n] = e;
    e->idx = t->n++;
    sift_up(t, e->idx);
    HASH_ADD(hh, t->by_id, id, sizeof e->id, e);
    link_to_group(t, e);
    return e;
}

static void release(csm_timers *t, csm_timer_entry *e)
{
    unlink_from_group(t, e);
    HASH_DEL(t->by_id, e);
    e->next_spare = t->spare;
    t->spare = e;
}

uint64_t csm_timers_add(csm_timers *t, csm_ts deadline, uint32_t plugin, uint64_t key, uint32_t tag)
{
    uint64_t id = t->next_id++;
    insert(t, id, t->next_seq++, deadline, plugin, key, tag);
    return id;
}

int csm_timers_cancel(csm_timers *t, uint64_t id, uint32_t plugin, uint64_t *key)
{
    csm_timer_entry *e = NULL;
    HASH_FIND(hh, t->by_id, &id, sizeof id, e);
    if (!e || e->plugin != plugin)
        return -1;
    *key = e->key;
    heap_remove(t, e->idx);
    release(t, e);
    return 0;
}

int csm_timers_peek(const csm_timers *t, csm_ts *deadline)
{
    if (!t->n)
        return 0;
    *deadline = t->heap[0]->deadline;
    return 1;
}

void csm_timers_pop(csm_timers *t, csm_timer_fired *out)
{
    csm_timer_entry *e = t->heap[0];
    *out = (csm_timer_fired){e->id, e->deadline, e->plugin, e->key, e->tag};
    heap_remove(t, 0);
    release(t, e);
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
        const csm_timer_entry *e = t->heap[i];
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
    const timer_group *g = find_group(t, plugin, key);
    for (const csm_timer_entry *e = g ? g->first : NULL; e; e = e->next_of_key) {
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
