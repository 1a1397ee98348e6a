/* Following a shop's alert stream live (P:{S}:alerts): the alerts added
 * after the follower opened, one at a time, each read with a blocking
 * XREAD on the follower's own connection. One follower per reader thread. */
#ifndef CSM_ALERT_FOLLOW_H
#define CSM_ALERT_FOLLOW_H

#include <stddef.h>

#include "config.h"
#include "report.h"

typedef struct csm_alert_follow csm_alert_follow;

/* Connects and notes the stream's last entry: what is already there is
 * the report's (csm_report_read), what comes after is the follower's.
 * NULL with the reason in err. */
csm_alert_follow *csm_alert_follow_open(const csm_config *cfg, const char *shop, char *err,
                                        size_t errlen);
/* The next alert: 1 with *out filled (csm_report_alert_clear it), 0 when
 * none came within @p block_ms, -1 with the reason in err (the connection
 * is lost: close the follower). */
int csm_alert_follow_next(csm_alert_follow *f, int block_ms, csm_report_alert *out, char *err,
                          size_t errlen);
void csm_alert_follow_close(csm_alert_follow *f);

#endif
