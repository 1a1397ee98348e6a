/* state_bench: how much memory the plugin chain holds per tracked
 * customer (docs/memory.md). A benchmark, not a test: it measures and
 * prints, it asserts nothing.
 *
 *   state_bench [--chain a,b,… | --config FILE] [--every K=10000]
 *               [--flush-every N=1000] [--ref-config FILE | --no-ref] EVENTS.jsonl
 *
 * EVENTS.jsonl is made by `csmetrics gen --out FILE …`. The events are fed
 * through the test kit in file order and the input is never ended (no
 * final timers), as in a daemon that keeps running. Every K events the
 * tool prints:
 *   events      events fed so far
 *   pairs_seen  distinct (shop, customer) pairs in the input so far
 *   customers   tracked customers: the session builder's records, i.e. the
 *               (shop, customer) pairs the builder still holds state for
 *               (from a first pass with the chain `plugins: [session]`, or
 *               --ref-config; with --no-ref or --chain session, the state
 *               entries)
 *   entries     csm_testkit_state_entries() of the measured chain
 *   heap        bytes in use by malloc (mallinfo2 uordblks + hblkhd) minus
 *               the value before the kit was created: the engine (dedup
 *               memory, reorder buffer, timers, pending-write buffers) and
 *               every plugin's state
 *   snapshot    csm_testkit_snapshot_bytes(): the checkpoint a flush writes
 *   event_time  the largest event ts seen so far (UTC)
 * Every N events the pending writes are discarded (csm_testkit_discard_writes),
 * as `run` clears them after each flush; --flush-every 0 keeps them all.
 * At the end: the figures per tracked customer at the checkpoint with the
 * most tracked customers (the session builder's maximum state; the same
 * checkpoint for every chain on one input, so chains compare), and the
 * peaks of heap, snapshot and entries.
 *
 * The first pass (input scan and reference chain) runs and frees its kit
 * before the measured kit's baseline is taken; after the baseline the tool
 * allocates nothing of its own, so the heap figure is the kit's. */
#include <inttypes.h>
#include <jansson.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csmetrics/testkit.h"

#define LINE_CAP (64 * 1024)

typedef struct point {
    long events;
    long pairs;
    uint64_t customers;
    int64_t max_ts;
} point;

typedef struct points {
    point *v;
    size_t n, cap;
} points;

/* Distinct (shop, customer) pairs as 64-bit FNV-1a hashes (0 = empty). */
typedef struct pairset {
    uint64_t *slots;
    size_t mask, n;
} pairset;

static void die(const char *what, const char *why)
{
    fprintf(stderr, "state_bench: %s: %s\n", what, why);
    exit(2);
}

static void usage(void)
{
    fprintf(stderr, "usage: state_bench [--chain a,b,... | --config FILE] [--every K=10000]\n"
                    "                   [--flush-every N=1000] [--ref-config FILE | --no-ref]\n"
                    "                   EVENTS.jsonl\n");
    exit(2);
}

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path, "cannot open");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (!s || fread(s, 1, (size_t)n, f) != (size_t)n)
        die(path, "cannot read");
    s[n] = 0;
    fclose(f);
    return s;
}

/* "plugins:\n  - a\n  - b\n" from "a,b". */
static char *chain_yaml(const char *list)
{
    size_t cap = strlen(list) * 8 + 32;
    char *y = malloc(cap);
    if (!y)
        die("--chain", "out of memory");
    size_t len = (size_t)snprintf(y, cap, "plugins:\n");
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n)
            len += (size_t)snprintf(y + len, cap - len, "  - %.*s\n", (int)n, p);
        p += n + (p[n] == ',');
    }
    return y;
}

static uint64_t pair_hash(const char *shop, const char *customer)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = shop; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
    h = (h ^ 0xff) * 0x100000001b3ULL; /* separator no string contains */
    for (const char *p = customer; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
    return h ? h : 1;
}

static void pairset_add(pairset *s, uint64_t h)
{
    if ((s->n + 1) * 2 > s->mask + 1) {
        size_t cap = s->mask ? (s->mask + 1) * 2 : 1024;
        uint64_t *old = s->slots;
        size_t old_cap = s->mask ? s->mask + 1 : 0;
        s->slots = calloc(cap, sizeof *s->slots);
        if (!s->slots)
            die("pairs", "out of memory");
        s->mask = cap - 1;
        s->n = 0;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i])
                pairset_add(s, old[i]);
        free(old);
    }
    size_t i = (size_t)h & s->mask;
    while (s->slots[i] && s->slots[i] != h)
        i = (i + 1) & s->mask;
    if (!s->slots[i]) {
        s->slots[i] = h;
        s->n++;
    }
}

static void points_push(points *ps, point p)
{
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 256;
        ps->v = realloc(ps->v, ps->cap * sizeof *ps->v);
        if (!ps->v)
            die("checkpoints", "out of memory");
    }
    ps->v[ps->n++] = p;
}

/* The next event line of f (blank lines and # comments skipped, as
 * csm_testkit_feed_file does), without its line end; NULL at the end. */
static char *next_line(FILE *f, char **buf, size_t *cap)
{
    ssize_t len;
    while ((len = getline(buf, cap, f)) > 0) {
        char *line = *buf;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        char *p = line + strspn(line, " \t");
        if (*p && *p != '#')
            return p;
    }
    return NULL;
}

static void fmt_time(int64_t ms, char *out, size_t n)
{
    if (ms == INT64_MIN) {
        snprintf(out, n, "-");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%MZ", &tm);
}

/* First pass: distinct pairs and event time per checkpoint, and the
 * tracked customers of the reference chain (NULL: none). */
static points first_pass(const char *path, const char *ref_yaml, long every)
{
    points ps = {0};
    pairset set = {0};
    char err[512];
    csm_testkit *ref = NULL;
    if (ref_yaml && !(ref = csm_testkit_new(ref_yaml, err, sizeof err)))
        die("reference chain", err);
    FILE *f = fopen(path, "r");
    if (!f)
        die(path, "cannot open");
    char *buf = NULL, *line;
    size_t cap = 0;
    long n = 0;
    int64_t max_ts = INT64_MIN;
    while ((line = next_line(f, &buf, &cap))) {
        json_t *j = json_loads(line, 0, NULL);
        const char *shop = j ? json_string_value(json_object_get(j, "shop_id")) : NULL;
        const char *cust = j ? json_string_value(json_object_get(j, "customer_id")) : NULL;
        json_t *ts = j ? json_object_get(j, "ts") : NULL;
        if (shop && cust)
            pairset_add(&set, pair_hash(shop, cust));
        if (json_is_integer(ts) && json_integer_value(ts) > max_ts)
            max_ts = json_integer_value(ts);
        json_decref(j);
        if (ref)
            csm_testkit_feed(ref, line);
        if (++n % every == 0) {
            if (ref)
                csm_testkit_discard_writes(ref);
            points_push(&ps,
                        (point){n, (long)set.n, ref ? csm_testkit_state_entries(ref) : 0, max_ts});
        }
    }
    if (n % every)
        points_push(&ps, (point){n, (long)set.n, ref ? csm_testkit_state_entries(ref) : 0, max_ts});
    free(buf);
    fclose(f);
    free(set.slots);
    csm_testkit_free(ref);
    return ps;
}

typedef struct sample {
    long events;
    uint64_t customers, entries;
    size_t heap, snapshot;
    int64_t ts;
} sample;

int main(int argc, char **argv)
{
    const char *chain = NULL, *config = NULL, *ref_config = NULL, *path = NULL;
    long every = 10000, flush_every = 1000;
    int no_ref = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--chain") && v)
            chain = argv[++i];
        else if (!strcmp(a, "--config") && v)
            config = argv[++i];
        else if (!strcmp(a, "--ref-config") && v)
            ref_config = argv[++i];
        else if (!strcmp(a, "--no-ref"))
            no_ref = 1;
        else if (!strcmp(a, "--every") && v)
            every = strtol(argv[++i], NULL, 10);
        else if (!strcmp(a, "--flush-every") && v)
            flush_every = strtol(argv[++i], NULL, 10);
        else if (a[0] == '-' && a[1])
            usage();
        else if (!path)
            path = a;
        else
            usage();
    }
    if (!path || (chain && config) || every <= 0 || flush_every < 0)
        usage();
    /* stdout's buffer is static, so printing allocates nothing. */
    static char outbuf[1 << 12];
    setvbuf(stdout, outbuf, _IOLBF, sizeof outbuf);

    /* The session builder alone counts its own customers. */
    if (chain && !strcmp(chain, "session") && !ref_config)
        no_ref = 1;
    char *yaml = chain ? chain_yaml(chain) : config ? read_text(config) : NULL;
    char *ref_yaml = no_ref       ? NULL
                     : ref_config ? read_text(ref_config)
                                  : strdup("plugins: [session]\n");
    points ps = first_pass(path, ref_yaml, every);
    free(ref_yaml);

    FILE *f = fopen(path, "r");
    if (!f)
        die(path, "cannot open");
    size_t cap = LINE_CAP;
    char *buf = malloc(cap), *line, err[512];
    long verdicts[4] = {0};
    if (!buf)
        die("line buffer", "out of memory");

    /* Baseline: everything above is allocated; the loop below allocates
     * nothing of its own (getline keeps buf unless a line exceeds it). */
    size_t base = heap_in_use();
    csm_testkit *tk = csm_testkit_new(yaml, err, sizeof err);
    if (!tk)
        die("chain", err);
    size_t empty = heap_in_use() - base;

    printf("# chain: %s\n", chain ? chain : config ? config : "default (all built-in plugins)");
    printf("# input: %s; checkpoint every %ld events; writes discarded every %ld events\n", path,
           every, flush_every);
    printf("# heap of the new, empty kit: %zu bytes\n", empty);
    printf("%10s %10s %10s %10s %12s %12s  %s\n", "events", "pairs_seen", "customers", "entries",
           "heap", "snapshot", "event_time");

    sample peak = {0}, max_heap = {0}, max_snap = {0}, max_entries = {0};
    long n = 0;
    size_t k = 0;
    while ((line = next_line(f, &buf, &cap))) {
        int v = csm_testkit_feed(tk, line);
        if (v >= 0 && v < 4)
            verdicts[v]++;
        n++;
        int at_point = k < ps.n && n == ps.v[k].events;
        if (flush_every && (at_point || n % flush_every == 0))
            csm_testkit_discard_writes(tk);
        if (at_point) {
            sample s = {.events = n,
                        .entries = csm_testkit_state_entries(tk),
                        .heap = heap_in_use() - base,
                        .ts = ps.v[k].max_ts};
            s.customers = no_ref ? s.entries : ps.v[k].customers;
            s.snapshot = csm_testkit_snapshot_bytes(tk);
            char when[32];
            fmt_time(s.ts, when, sizeof when);
            printf("%10ld %10ld %10" PRIu64 " %10" PRIu64 " %12zu %12zu  %s\n", n, ps.v[k].pairs,
                   s.customers, s.entries, s.heap, s.snapshot, when);
            if (s.customers > peak.customers ||
                (s.customers == peak.customers && s.entries > peak.entries))
                peak = s;
            if (s.heap > max_heap.heap)
                max_heap = s;
            if (s.snapshot > max_snap.snapshot)
                max_snap = s;
            if (s.entries > max_entries.entries)
                max_entries = s;
            k++;
        }
    }
    fclose(f);

    char when[32];
    fmt_time(peak.ts, when, sizeof when);
    printf("# verdicts: %ld accepted, %ld duplicate, %ld late, %ld dead letters; %ld distinct "
           "(shop, customer) pairs in the input\n",
           verdicts[CSM_TK_ACCEPTED], verdicts[CSM_TK_DUPLICATE], verdicts[CSM_TK_LATE],
           verdicts[CSM_TK_DEADLETTER], ps.n ? ps.v[ps.n - 1].pairs : 0);
    printf("# most tracked customers at event %ld (%s): %" PRIu64 " customers, %" PRIu64
           " entries, heap %zu bytes, snapshot %zu bytes\n",
           peak.events, when, peak.customers, peak.entries, peak.heap, peak.snapshot);
    double c = peak.customers ? (double)peak.customers : 1;
    printf("# per tracked customer there: heap %.0f bytes (%.0f over the empty kit), "
           "snapshot %.0f bytes\n",
           (double)peak.heap / c, ((double)peak.heap - (double)empty) / c,
           (double)peak.snapshot / c);
    printf("# peaks: heap %zu bytes (event %ld), snapshot %zu bytes (event %ld), %" PRIu64
           " entries (event %ld)\n",
           max_heap.heap, max_heap.events, max_snap.snapshot, max_snap.events, max_entries.entries,
           max_entries.events);
    /* One line for scripts. */
    printf("result chain=%s events=%ld customers=%" PRIu64 " entries=%" PRIu64
           " heap=%zu empty=%zu snapshot=%zu heap_per_customer=%.1f snapshot_per_customer=%.1f "
           "peak_heap=%zu peak_snapshot=%zu peak_entries=%" PRIu64 "\n",
           chain    ? chain
           : config ? config
                    : "default",
           peak.events, peak.customers, peak.entries, peak.heap, empty, peak.snapshot,
           (double)peak.heap / c, (double)peak.snapshot / c, max_heap.heap, max_snap.snapshot,
           max_entries.entries);

    csm_testkit_free(tk);
    free(buf);
    free(ps.v);
    free(yaml);
    return 0;
}
