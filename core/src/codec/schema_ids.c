#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_util.h"
#include "codec_decoder.h"
#include "schema_ids.h"

typedef enum id_kind { ID_PINNED, ID_ADDED, ID_MISSING } id_kind;

typedef struct id_entry {
    int32_t id;
    id_kind kind;
    csm_stream stream;    /* pinned: the stream whose schema it is */
    avro_schema_t writer; /* added: NULL when the text was no record schema */
    char why[256];        /* added without writer, missing: why */
    uint64_t used;        /* added, missing: when it was last added or named */
    struct {
        int resolved;
        csm_schema_verdict verdict;
        struct decoder *dec; /* compatible: bound to the writer schema */
    } per[2];                /* by stream */
} id_entry;

static void release(id_entry *e)
{
    for (int s = 0; s < 2; s++)
        csm_decoder_free(e->per[s].dec);
    if (e->writer)
        avro_schema_decref(e->writer);
    free(e);
}

/* ---- the table: open addressing, linear probing, no tombstones ---- */

void csm_schema_ids_init(csm_schema_ids *s)
{
    memset(s, 0, sizeof *s);
    s->max = 1000;
    s->needed_id = -1;
}

void csm_schema_ids_free(csm_schema_ids *s)
{
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i])
            release(s->slots[i]);
    free(s->slots);
    for (int k = 0; k < 2; k++)
        csm_reader_schema_free(&s->readers[k]);
    memset(s, 0, sizeof *s);
}

static size_t home(const csm_schema_ids *s, int32_t id)
{
    return ((uint32_t)id * 2654435761u) & (s->cap - 1);
}

static id_entry *find(const csm_schema_ids *s, int32_t id)
{
    if (!s->cap)
        return NULL;
    for (size_t i = home(s, id);; i = (i + 1) & (s->cap - 1))
        if (!s->slots[i] || s->slots[i]->id == id)
            return s->slots[i];
}

static void place(csm_schema_ids *s, id_entry *e)
{
    size_t i = home(s, e->id);
    while (s->slots[i])
        i = (i + 1) & (s->cap - 1);
    s->slots[i] = e;
}

static int grow(csm_schema_ids *s)
{
    size_t cap = s->cap ? s->cap * 2 : 16, old_cap = s->cap;
    id_entry **old = s->slots, **slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    s->slots = slots;
    s->cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            place(s, old[i]);
    free(old);
    return 0;
}

/* Takes the entry at slot i out; the entries after it in its probe run
 * are placed again, so that every lookup still finds its entry. */
static void take_out(csm_schema_ids *s, size_t i)
{
    id_entry *e = s->slots[i];
    s->slots[i] = NULL;
    s->count--;
    if (e->kind != ID_PINNED)
        s->learned--;
    release(e);
    for (size_t j = (i + 1) & (s->cap - 1); s->slots[j]; j = (j + 1) & (s->cap - 1)) {
        id_entry *moved = s->slots[j];
        s->slots[j] = NULL;
        place(s, moved);
    }
}

static void take_out_id(csm_schema_ids *s, int32_t id)
{
    for (size_t i = home(s, id); s->slots[i]; i = (i + 1) & (s->cap - 1))
        if (s->slots[i]->id == id) {
            take_out(s, i);
            return;
        }
}

/* The least recently used learned entry but @p keep. */
static void forget_one(csm_schema_ids *s, const id_entry *keep)
{
    size_t oldest = s->cap;
    for (size_t i = 0; i < s->cap; i++) {
        const id_entry *e = s->slots[i];
        if (e && e != keep && e->kind != ID_PINNED &&
            (oldest == s->cap || e->used < s->slots[oldest]->used))
            oldest = i;
    }
    if (oldest < s->cap)
        take_out(s, oldest);
}

/* Puts @p e (NULL: out of memory), replacing the entry of its id; beyond
 * max learned ones, the least recently used learned one goes. */
static int put(csm_schema_ids *s, id_entry *e)
{
    if (!e)
        return -1;
    if (find(s, e->id))
        take_out_id(s, e->id);
    if ((s->count + 1) * 2 > s->cap && grow(s)) {
        release(e);
        return -1;
    }
    e->used = ++s->tick;
    place(s, e);
    s->count++;
    if (e->kind != ID_PINNED)
        s->learned++;
    while (s->learned > s->max)
        forget_one(s, e);
    return 0;
}

void csm_schema_ids_set_max(csm_schema_ids *s, size_t max)
{
    s->max = max ? max : 1; /* 0 would forget an id as soon as it is added */
    while (s->learned > s->max)
        forget_one(s, NULL);
}

static int by_id(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

size_t csm_schema_ids_list(const csm_schema_ids *s, int32_t *ids, size_t cap)
{
    if (!ids || !cap)
        return s->count;
    int32_t *all = malloc((s->count ? s->count : 1) * sizeof *all);
    size_t n = 0;
    for (size_t i = 0; i < s->cap && all; i++)
        if (s->slots[i])
            all[n++] = s->slots[i]->id;
    if (all) {
        qsort(all, n, sizeof *all, by_id);
        memcpy(ids, all, (n < cap ? n : cap) * sizeof *all);
    }
    free(all);
    return s->count;
}

/* ---- pinned, added and missing ids ---- */

static id_entry *new_entry(int32_t id, id_kind kind)
{
    id_entry *e = calloc(1, sizeof *e);
    if (e) {
        e->id = id;
        e->kind = kind;
    }
    return e;
}

void csm_schema_ids_pin(csm_schema_ids *s, int32_t id, csm_stream stream)
{
    id_entry *e = new_entry(id, ID_PINNED);
    if (e)
        e->stream = stream;
    put(s, e);
}

int csm_schema_ids_add(csm_schema_ids *s, int32_t id, const char *json, size_t len, char *why,
                       size_t whylen)
{
    id_entry *e = new_entry(id, ID_ADDED);
    if (!e) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    avro_schema_t schema = NULL;
    if (avro_schema_from_json_length(json ? json : "", json ? len : 0, &schema)) {
        snprintf(e->why, sizeof e->why, "not an Avro schema: %s", avro_strerror());
    } else if (!is_avro_record(schema)) {
        snprintf(e->why, sizeof e->why, "not an Avro record schema but a %s",
                 avro_schema_type_name(schema));
        avro_schema_decref(schema);
        schema = NULL;
    }
    csm_one_line(e->why);
    e->writer = schema;
    int rc = schema ? 0 : -1;
    if (rc)
        snprintf(why, whylen, "%s", e->why);
    if (put(s, e)) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    return rc;
}

void csm_schema_ids_add_missing(csm_schema_ids *s, int32_t id, const char *why)
{
    id_entry *e = new_entry(id, ID_MISSING);
    if (e) {
        snprintf(e->why, sizeof e->why, "%s", why ? why : "");
        csm_one_line(e->why);
    }
    put(s, e);
}

/* An added id's writer schema resolved against @p stream's reader
 * schema, with the decoder of that stream's messages if compatible. */
static void resolve(csm_schema_ids *s, id_entry *e, csm_stream stream)
{
    csm_schema_verdict *v = &e->per[stream].verdict;
    e->per[stream].resolved = 1;
    v->known = 1;
    if (!e->writer) {
        snprintf(v->why, sizeof v->why, "%s", e->why);
        return;
    }
    csm_resolution res;
    csm_resolve(&s->readers[stream], e->writer, &res);
    if (res.compatible)
        e->per[stream].dec =
            csm_decoder_new(e->writer, stream, &s->readers[stream], &res, res.why, sizeof res.why);
    v->compatible = e->per[stream].dec != NULL;
    v->other_stream = res.other_record;
    snprintf(v->why, sizeof v->why, "%s", res.why);
}

void csm_schema_ids_verdict(csm_schema_ids *s, int32_t id, csm_stream stream,
                            csm_schema_verdict *out)
{
    memset(out, 0, sizeof *out);
    id_entry *e = find(s, id);
    if (!e) {
        snprintf(out->why, sizeof out->why, "unknown schema id %d", id);
    } else if (e->kind == ID_PINNED) {
        out->known = 1;
        out->compatible = e->stream == stream;
        out->other_stream = !out->compatible;
        if (!out->compatible)
            snprintf(out->why, sizeof out->why, "schema id %d is pinned to the %s stream", id,
                     csm_stream_name(e->stream));
    } else if (e->kind == ID_MISSING) {
        out->known = 1;
        snprintf(out->why, sizeof out->why, "%s", e->why);
    } else {
        if (!e->per[stream].resolved)
            resolve(s, e, stream);
        *out = e->per[stream].verdict;
    }
}

int csm_schema_ids_decoder(csm_schema_ids *s, int32_t id, csm_stream stream, struct decoder **dec,
                           char *err, size_t errlen)
{
    id_entry *e = find(s, id);
    *dec = NULL;
    if (!e && s->lookup) {
        s->needed_id = id;
        snprintf(err, errlen, "schema id %d not known yet", id);
        return CSM_DECODE_NEED_SCHEMA;
    }
    if (e && e->kind != ID_PINNED)
        e->used = ++s->tick;
    if (!e || e->kind == ID_MISSING) {
        snprintf(err, errlen, "unknown schema id %d%s%s", id, e && e->why[0] ? ": " : "",
                 e ? e->why : "");
        return CSM_DECODE_UNKNOWN_SCHEMA;
    }
    if (e->kind == ID_PINNED) {
        if (e->stream == stream)
            return 0;
        snprintf(err, errlen, "schema id %d is the %s schema, on the %s topic", id,
                 csm_stream_name(e->stream), csm_stream_name(stream));
        return CSM_DECODE_UNDECODABLE;
    }
    if (!e->per[stream].resolved)
        resolve(s, e, stream);
    if (!e->per[stream].dec) {
        snprintf(err, errlen, "schema %d incompatible: %s", id, e->per[stream].verdict.why);
        return CSM_DECODE_INCOMPATIBLE;
    }
    *dec = e->per[stream].dec;
    return 0;
}
