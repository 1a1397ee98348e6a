/* Pending writes as few Redis commands as possible, inside the store's
 * MULTI/EXEC: one command per key carrying all its items (a hash key with
 * several fields, or whose expiry is due, goes through one script call;
 * a set gets one SADD with every member; the due set one ZADD), and
 * EXPIREAT only the first time this process writes a key. A key's expiry
 * counts as written once the EXEC that carried it is known to have
 * committed; anything else (an aborted or failed EXEC, a lost reply, a
 * lost connection, a checkpoint conflict) sends it again next time. */
#ifndef CSM_DELTA_WRITER_H
#define CSM_DELTA_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "deltas.h"

struct redisContext;
typedef struct csm_delta_writer csm_delta_writer;

csm_delta_writer *csm_delta_writer_new(void);
void csm_delta_writer_free(csm_delta_writer *w);

/* Before MULTI: learns the script's SHA1 once per writer (SCRIPT LOAD,
 * synchronously). The number of commands sent (0 or 1), or -1 with err
 * (transport: *io = 1). */
int csm_delta_writer_prepare(csm_delta_writer *w, struct redisContext *c, int *io, char *err,
                             size_t errlen);
/* Inside MULTI: queues d's commands. A flush that calls the script queues
 * SCRIPT LOAD first, so the script exists when EXEC runs it whatever
 * happened to the script cache since (a NOSCRIPT inside EXEC would not
 * roll back the rest). Returns the number of commands queued, -1 if
 * hiredis could not queue one. */
long csm_delta_writer_append(csm_delta_writer *w, struct redisContext *c, const csm_deltas *d);
/* After EXEC: committed = 1 when its reply says every command ran; the
 * expiries queued since the last call then count as written. */
void csm_delta_writer_done(csm_delta_writer *w, int committed);
/* Forgets every written expiry: the connection was lost (Redis may have
 * restarted empty) or a checkpoint did not match (someone else writes, or
 * Redis lost data). */
void csm_delta_writer_forget(csm_delta_writer *w);
/* Keys whose expiry counts as written (for tests). */
size_t csm_delta_writer_known(const csm_delta_writer *w);

/* The script: KEYS[1] a hash; ARGV[1] EXPIREAT seconds or ""; then field,
 * delta pairs for HINCRBY. */
extern const char *const csm_delta_hash_script;

#endif
