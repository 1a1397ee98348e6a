#include "config_schemas.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "registry_conf.h"

typedef struct schema_entry {
    int32_t id;
    char *where; /* "kafka.schema_ids", "subject chat-value version 2", "DIR/21.avsc" */
    char *json;  /* NULL for a pinned id */
    size_t len;
} schema_entry;

typedef struct entries {
    schema_entry *v;
    size_t n, cap;
    int failed; /* out of memory */
} entries;

static schema_entry *find_entry(entries *e, int32_t id)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->v[i].id == id)
            return &e->v[i];
    return NULL;
}

/* The first source of an id wins, as in the lookup: pinned ids, then
 * the directory, then the registry (an id under several subjects is
 * one schema). */
static void add_entry(entries *e, int32_t id, const char *where, const char *json, size_t len)
{
    if (find_entry(e, id))
        return;
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 16;
        schema_entry *grown = realloc(e->v, cap * sizeof *grown);
        if (!grown) {
            e->failed = 1;
            return;
        }
        e->v = grown;
        e->cap = cap;
    }
    schema_entry *s = &e->v[e->n++];
    *s = (schema_entry){.id = id, .where = strdup(where), .len = len};
    s->json = json ? strndup(json, len) : NULL;
    if (!s->where || (json && !s->json))
        e->failed = 1;
}

static void on_listed(void *arg, int32_t id, const char *where, const char *json, size_t len)
{
    add_entry(arg, id, where, json, len);
}

static int by_id(const void *a, const void *b)
{
    int32_t x = ((const schema_entry *)a)->id, y = ((const schema_entry *)b)->id;
    return (x > y) - (x < y);
}

static void free_entries(entries *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].where);
        free(e->v[i].json);
    }
    free(e->v);
}

static int collect(const csm_config *cfg, entries *e, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->n_schema_ids; i++)
        add_entry(e, cfg->schema_ids[i], "kafka.schema_ids", NULL, 0);
    csm_registry_conf rc;
    csm_registry_conf_from_config(cfg, &rc);
    char why[1024];
    if (csm_registry_configured(&rc) && csm_schema_list(&rc, on_listed, e, why, sizeof why)) {
        snprintf(err, errlen, "schema_registry: %s", why);
        return -1;
    }
    if (e->failed) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (e->n)
        qsort(e->v, e->n, sizeof *e->v, by_id);
    return 0;
}

/* A codec that knows every entry: pinned ids mapped, the others added
 * as writer schemas (a text that is no Avro record is added too, and its
 * verdict says why). */
static csm_codec *codec_of(const csm_config *cfg, const entries *e, char *err, size_t errlen)
{
    char why[512];
    csm_codec *c = csm_codec_new(cfg->schema_dir, why, sizeof why);
    if (!c) {
        snprintf(err, errlen, "schema_dir: %s", why);
        return NULL;
    }
    csm_codec_set_cache_max(c, e->n + 1);
    for (size_t i = 0; i < cfg->n_schema_ids; i++)
        csm_codec_map_schema_id(c, cfg->schema_ids[i], cfg->schema_streams[i]);
    for (size_t i = 0; i < e->n; i++)
        if (e->v[i].json)
            csm_codec_add_writer_schema(c, e->v[i].id, e->v[i].json, e->v[i].len, why, sizeof why);
    return c;
}

/* "21  chat   compatible    subject chat-value version 2  (writer field channel skipped)" */
static void print_line(FILE *out, const schema_entry *s, csm_stream stream,
                       const csm_schema_verdict *v)
{
    fprintf(out, "%-4d%-7s%-14s%s", (int)s->id, csm_stream_name(stream),
            v->compatible ? "compatible" : "incompatible", s->where);
    if (!v->compatible)
        fprintf(out, ": %s\n", v->why);
    else if (*v->why)
        fprintf(out, "  (%s)\n", v->why);
    else
        fputc('\n', out);
}

static json_t *json_line(const schema_entry *s, csm_stream stream, const csm_schema_verdict *v)
{
    return json_pack("{s:i, s:s, s:s, s:b, s:s}", "id", (int)s->id, "stream",
                     csm_stream_name(stream), "where", s->where, "compatible", v->compatible, "why",
                     v->why);
}

int csm_config_schemas(const csm_config *cfg, int json, FILE *out, char *err, size_t errlen)
{
    entries e = {0};
    csm_codec *c = NULL;
    int rc = -1;
    if (collect(cfg, &e, err, errlen) || !(c = codec_of(cfg, &e, err, errlen)))
        goto out;
    json_t *list = json ? json_array() : NULL;
    for (size_t i = 0; i < e.n; i++) {
        csm_schema_verdict v[2];
        for (csm_stream st = CSM_STREAM_CHAT; st <= CSM_STREAM_ORDER; st++)
            csm_codec_schema_verdict(c, e.v[i].id, st, &v[st]);
        /* An id of one stream's record says nothing of the other stream;
         * one that is neither stream's is shown against both. */
        int neither = v[0].other_stream && v[1].other_stream;
        for (csm_stream st = CSM_STREAM_CHAT; st <= CSM_STREAM_ORDER; st++) {
            if (v[st].other_stream && !neither)
                continue;
            if (list)
                json_array_append_new(list, json_line(&e.v[i], st, &v[st]));
            else
                print_line(out, &e.v[i], st, &v[st]);
        }
    }
    if (list) {
        json_t *doc = json_pack("{s:o}", "schemas", list);
        json_dumpf(doc, out, JSON_INDENT(2));
        fputc('\n', out);
        json_decref(doc);
    }
    rc = 0;
out:
    csm_codec_free(c);
    free_entries(&e);
    return rc;
}
