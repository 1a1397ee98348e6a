/* The shops there are figures for: the P:shops set (docs/redis-keys.md). */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "redis_conn.h"
#include "report.h"

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int copy_members(const redisReply *x, char ***shops, size_t *n)
{
    char **v = calloc(x->elements ? x->elements : 1, sizeof *v);
    if (!v)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < x->elements; i++) {
        if (x->element[i]->type != REDIS_REPLY_STRING)
            continue;
        if (!(v[k] = strdup(x->element[i]->str))) {
            csm_report_shops_free(v, k);
            return -1;
        }
        k++;
    }
    qsort(v, k, sizeof *v, by_string);
    *shops = v;
    *n = k;
    return 0;
}

int csm_report_shops(const csm_config *cfg, char ***shops, size_t *n, char *err, size_t errlen)
{
    char key[512], buf[96];
    *shops = NULL;
    *n = 0;
    if (csm_key_shops(key, sizeof key, cfg->prefix) < 0) {
        snprintf(err, errlen, "redis.prefix too long");
        return -1;
    }
    redisContext *c = csm_redis_connect(&cfg->redis, err, errlen);
    if (!c)
        return -1;
    redisReply *x = redisCommand(c, "SMEMBERS %s", key);
    int rc = -1;
    if (!x)
        snprintf(err, errlen, "redis: %s",
                 csm_redis_transport_error(c, cfg->redis.timeout_ms, buf, sizeof buf));
    else if (x->type != REDIS_REPLY_ARRAY)
        snprintf(err, errlen, "redis: %s: %s", key,
                 x->type == REDIS_REPLY_ERROR ? x->str : "unexpected reply type");
    else if ((rc = copy_members(x, shops, n)) != 0)
        snprintf(err, errlen, "out of memory");
    if (x)
        freeReplyObject(x);
    redisFree(c);
    return rc;
}

void csm_report_shops_free(char **shops, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(shops[i]);
    free(shops);
}
