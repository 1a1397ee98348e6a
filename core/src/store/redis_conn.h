/* One way to open a configured Redis connection (timeout, AUTH, SELECT),
 * shared by the store and the read-only report. */
#ifndef CSM_REDIS_CONN_H
#define CSM_REDIS_CONN_H

#include <stddef.h>

#include "redis_store.h"

struct redisContext;

/* NULL + err ("redis HOST:PORT: connect: …") on failure. */
struct redisContext *csm_redis_connect(const csm_redis_config *cfg, char *err, size_t errlen);

/* What went wrong on connection @p c, in words: hiredis reports a socket
 * timeout as EAGAIN ("Resource temporarily unavailable"), which is said
 * as "timed out after N ms (redis.timeout)". Returns c->errstr or buf. */
const char *csm_redis_transport_error(const struct redisContext *c, int timeout_ms, char *buf,
                                      size_t len);

/* The store's connection (reconnecting if needed), for the few readers
 * beside the flush (sbt_redis.c). NULL + err when Redis is unreachable. */
struct redisContext *csm_redis_store_context(csm_redis_store *s, char *err, size_t errlen);
/* Drops the connection after a transport error on it. */
void csm_redis_store_broken(csm_redis_store *s);

/* Queues one command in the store's pipeline (counted in the flush's
 * commands); 0, or -1 when it cannot be queued. */
int csm_redis_store_append(csm_redis_store *s, int argc, const char **argv, const size_t *lens);

#endif
