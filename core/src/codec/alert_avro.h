/* Alert records as Avro binary of schemas/alert.avsc, for the alerts
 * topic. Alerts are rare next to events, so avro-c's generic values (which
 * allocate) are fine here. */
#ifndef CSM_ALERT_AVRO_H
#define CSM_ALERT_AVRO_H

#include <stddef.h>
#include <stdint.h>

#include "alert_outbox.h"

typedef struct csm_alert_avro csm_alert_avro;

/* Loads alert.avsc from schema_dir. NULL + err on failure. */
csm_alert_avro *csm_alert_avro_new(const char *schema_dir, char *err, size_t errlen);
void csm_alert_avro_free(csm_alert_avro *a);
/* Encodes @p rec; with schema_id >= 0 prefixes the Confluent framing.
 * Returns the byte count written to buf, or -1 (record does not fit or a
 * value is malformed). */
long csm_alert_avro_encode(csm_alert_avro *a, const csm_alert_rec *rec, int32_t schema_id,
                           void *buf, size_t cap);
/* The reverse, for tests and tools: fills rec->v with malloc'd strings
 * (free with csm_alert_rec_clear()). 0 or -1. */
int csm_alert_avro_decode(csm_alert_avro *a, const void *buf, size_t len, csm_alert_rec *rec);

#endif
