/* One way to open a configured Redis connection (timeout, AUTH, SELECT),
 * shared by the store and the read-only report. */
#ifndef CSM_REDIS_CONN_H
#define CSM_REDIS_CONN_H

#include <stddef.h>

#include "redis_store.h"

struct redisContext;

/* NULL + err ("redis HOST:PORT: connect: …") on failure. */
struct redisContext *csm_redis_connect(const csm_redis_config *cfg, char *err, size_t errlen);

/* The store's connection (reconnecting if needed), for the few readers
 * beside the flush (sbt_redis.c). NULL + err when Redis is unreachable. */
struct redisContext *csm_redis_store_context(csm_redis_store *s, char *err, size_t errlen);
/* Drops the connection after a transport error on it. */
void csm_redis_store_broken(csm_redis_store *s);

#endif
