/* Alerts waiting to be produced to the Kafka alerts topic (the outbox
 * pattern). The engine numbers every alert of its partition (seq 1, 2, …,
 * the same numbers in every run over the same input) and, when the
 * outbox is kept, holds a copy until the producer confirms delivery. The
 * outbox is part of the engine checkpoint, so an alert written to the
 * Redis stream is never lost on its way to Kafka, and the sequence number
 * lets a restarted producer skip what the topic already holds. */
#ifndef CSM_ALERT_OUTBOX_H
#define CSM_ALERT_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "csmetrics/plugin.h"

/* The fields of an alert record (metrics.md "Settled details"), in the
 * order of the Redis stream entry and of schemas/alert.avsc. */
enum {
    CSM_ALERT_TYPE,
    CSM_ALERT_SHOP_ID,
    CSM_ALERT_CUSTOMER_ID,
    CSM_ALERT_SESSION_OPEN_TS,
    CSM_ALERT_AGENT_ID,
    CSM_ALERT_ANCHOR_TS,
    CSM_ALERT_RAISED_TS,
    CSM_ALERT_FIGURE,
    CSM_ALERT_DAY,
    CSM_ALERT_PLATFORM,
    CSM_ALERT_NFIELDS
};

/* Field names, indexed as above. */
extern const char *const csm_alert_field_names[CSM_ALERT_NFIELDS];

/* The name/value list of a Redis stream entry (XADD): fv[2i] is field i's
 * name, fv[2i+1] its value. */
void csm_alert_fv(const char *const values[CSM_ALERT_NFIELDS],
                  const char *fv[2 * CSM_ALERT_NFIELDS]);

typedef struct csm_alert_rec {
    uint64_t seq;
    char *v[CSM_ALERT_NFIELDS]; /* textual values; "" for a null agent */
} csm_alert_rec;

/* Frees the values and zeroes the record. */
void csm_alert_rec_clear(csm_alert_rec *rec);

typedef struct csm_alert_outbox {
    csm_alert_rec *v; /* ring buffer */
    size_t head, len, cap;
    uint64_t last_seq; /* seq of the latest alert numbered */
    int keep;          /* 0: alerts are numbered but not held */
} csm_alert_outbox;

void csm_alert_outbox_free(csm_alert_outbox *o);
/* Numbers an alert (and holds a copy when keep is set). Returns its seq. */
uint64_t csm_alert_outbox_push(csm_alert_outbox *o, const char *const values[CSM_ALERT_NFIELDS]);
/* Drops every held alert with seq <= upto. */
void csm_alert_outbox_ack(csm_alert_outbox *o, uint64_t upto);
static inline size_t csm_alert_outbox_count(const csm_alert_outbox *o)
{
    return o->len;
}
const csm_alert_rec *csm_alert_outbox_at(const csm_alert_outbox *o, size_t i);

void csm_alert_outbox_snapshot(const csm_alert_outbox *o, csm_writer *w);
/* Into an empty outbox. 0, or -1 on a short or corrupt snapshot. */
int csm_alert_outbox_restore(csm_alert_outbox *o, csm_reader *r);

#endif
