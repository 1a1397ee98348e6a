/* Pending writes as Redis commands, inside the store's MULTI/EXEC: one
 * HINCRBY per counter, one SADD per set with every member, one ZADD for
 * the due set, and EXPIREAT only the first time this process writes a key
 * (and again once an hour, for keys evicted or deleted behind its back).
 * Redis has no multi-field increment, and a script doing a key's HINCRBYs
 * saves no command in Redis's own count (calls from scripts count) while
 * its EXEC took 45 % longer (6.1 ms against 4.2 ms for a 20 k-event
 * replay): plain commands it is.
 * A key's expiry counts as written once the EXEC that carried it is known
 * to have committed; anything else (an aborted or failed EXEC, a lost
 * reply, a lost connection, a checkpoint conflict) sends it again next
 * time. */
#ifndef CSM_DELTA_WRITER_H
#define CSM_DELTA_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "deltas.h"

struct redisContext;
typedef struct csm_delta_writer csm_delta_writer;

csm_delta_writer *csm_delta_writer_new(void);
void csm_delta_writer_free(csm_delta_writer *w);

/* Inside MULTI: queues the commands of the n pending writes in v (the
 * partitions of one flush). Several are summed first, so a counter that
 * every partition touched is one HINCRBY: they commit together or not at
 * all, so the sum is what Redis would end with anyway. Returns the number
 * of commands queued, -1 if hiredis could not queue one. */
long csm_delta_writer_append(csm_delta_writer *w, struct redisContext *c,
                             const csm_deltas *const *v, size_t n);
/* After EXEC: committed = 1 when its reply says every command ran; the
 * expiries queued since the last call then count as written. */
void csm_delta_writer_done(csm_delta_writer *w, int committed);
/* Forgets every written expiry: the connection was lost (Redis may have
 * restarted empty) or a checkpoint did not match (someone else writes, or
 * Redis lost data). */
void csm_delta_writer_forget(csm_delta_writer *w);

#endif
