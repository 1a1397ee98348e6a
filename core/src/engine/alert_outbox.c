#include "alert_outbox.h"

#include <stdlib.h>
#include <string.h>

#include "bytebuf.h"

const char *const csm_alert_field_names[CSM_ALERT_NFIELDS] = {
    "type",      "shop_id", "customer_id", "session_open_ts", "agent_id", "anchor_ts",
    "raised_ts", "figure",  "day",         "platform"};

void csm_alert_fv(const char *const values[CSM_ALERT_NFIELDS],
                  const char *fv[2 * CSM_ALERT_NFIELDS])
{
    for (int i = 0; i < CSM_ALERT_NFIELDS; i++) {
        fv[2 * i] = csm_alert_field_names[i];
        fv[2 * i + 1] = values[i];
    }
}

void csm_alert_rec_clear(csm_alert_rec *r)
{
    for (int i = 0; i < CSM_ALERT_NFIELDS; i++)
        free(r->v[i]);
    memset(r, 0, sizeof *r);
}

void csm_alert_outbox_free(csm_alert_outbox *o)
{
    while (o->len) {
        csm_alert_rec_clear(&o->v[o->head]);
        o->head = (o->head + 1) % o->cap;
        o->len--;
    }
    free(o->v);
    memset(o, 0, sizeof *o);
}

static csm_alert_rec *append(csm_alert_outbox *o)
{
    if (o->len == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        csm_alert_rec *v = calloc(cap, sizeof *v);
        if (!v)
            abort();
        for (size_t i = 0; i < o->len; i++)
            v[i] = o->v[(o->head + i) % o->cap];
        free(o->v);
        o->v = v;
        o->cap = cap;
        o->head = 0;
    }
    return &o->v[(o->head + o->len++) % o->cap];
}

uint64_t csm_alert_outbox_push(csm_alert_outbox *o, const char *const values[CSM_ALERT_NFIELDS])
{
    uint64_t seq = ++o->last_seq;
    if (!o->keep)
        return seq;
    csm_alert_rec *r = append(o);
    r->seq = seq;
    for (int i = 0; i < CSM_ALERT_NFIELDS; i++)
        if (!(r->v[i] = strdup(values[i] ? values[i] : "")))
            abort();
    return seq;
}

void csm_alert_outbox_ack(csm_alert_outbox *o, uint64_t upto)
{
    while (o->len && o->v[o->head].seq <= upto) {
        csm_alert_rec_clear(&o->v[o->head]);
        o->head = (o->head + 1) % o->cap;
        o->len--;
    }
}

const csm_alert_rec *csm_alert_outbox_at(const csm_alert_outbox *o, size_t i)
{
    return i < o->len ? &o->v[(o->head + i) % o->cap] : NULL;
}

void csm_alert_outbox_snapshot(const csm_alert_outbox *o, csm_writer *w)
{
    csm_writer_put_i64(w, (int64_t)o->last_seq);
    csm_writer_put_i64(w, (int64_t)o->len);
    for (size_t i = 0; i < o->len; i++) {
        const csm_alert_rec *r = csm_alert_outbox_at(o, i);
        csm_writer_put_i64(w, (int64_t)r->seq);
        for (int f = 0; f < CSM_ALERT_NFIELDS; f++)
            csm_writer_put_str(w, r->v[f]);
    }
}

int csm_alert_outbox_restore(csm_alert_outbox *o, csm_reader *r)
{
    int64_t last, n, seq;
    if (csm_reader_get_i64(r, &last) || csm_reader_get_i64(r, &n) || n < 0)
        return -1;
    o->last_seq = (uint64_t)last;
    for (int64_t i = 0; i < n; i++) {
        if (csm_reader_get_i64(r, &seq))
            return -1;
        csm_alert_rec *rec = append(o);
        rec->seq = (uint64_t)seq;
        for (int f = 0; f < CSM_ALERT_NFIELDS; f++)
            if (csm_reader_get_str(r, &rec->v[f]) || !rec->v[f])
                return -1;
    }
    return 0;
}
