/* What the report layer's readers of Redis share: the fields of an alert
 * stream entry, read the same way by the range read (report_read.c) and
 * the live follower (alert_follow.c). Inside the layer only. */
#ifndef CSM_REPORT_REDIS_H
#define CSM_REPORT_REDIS_H

#include <hiredis/hiredis.h>

#include "report.h"

/* Fills @p a (zeroed) from a stream entry's field/value array; empty
 * fields read as NULL or CSM_REPORT_NO_TS. 0, or -1 out of memory (what
 * was copied stays in @p a for csm_report_alert_clear). */
int csm_report_alert_from_entry(const redisReply *fv, csm_report_alert *a);

#endif
