/* The traffic generator of `csmetrics gen`, for other commands (`bench`)
 * to feed with the same realistic shops, agents and customers. */
#ifndef CSM_GEN_H
#define CSM_GEN_H

#include <stdint.h>

#include "csmetrics/plugin.h"

typedef struct csm_gen_opts {
    long shops, agents /* per shop */, customers /* per shop */;
    long days, hours /* active a day */, sessions /* 0: 400 per shop and day */;
    long seed, rate /* events/s, 0: unpaced */, limit /* events, 0: all */;
    int64_t t0; /* first day's start, epoch ms */
} csm_gen_opts;

typedef struct csm_gen_result {
    long written, dups, sessions;
    int stopped; /* at the limit */
} csm_gen_result;

/* Receives each event in arrival order (strings valid during the call).
 * Non-zero stops the generation with an error. */
typedef int (*csm_gen_emit_fn)(void *arg, const csm_event *ev);

/* A csm_gen_emit_fn writing JSON Lines to arg, a FILE *. */
int csm_gen_emit_jsonl(void *arg, const csm_event *ev);

/* -1 when the sizes are out of the generator's range. */
int csm_gen_opts_check(const csm_gen_opts *o);
/* 08:00 +08:00 far enough before today that @p days of traffic, orders'
 * later steps included, lie in the past. */
int64_t csm_gen_default_start(long days);
/* Deterministic for o->seed. 0, or -1 when fn failed. */
int csm_gen_run(const csm_gen_opts *o, csm_gen_emit_fn fn, void *arg, csm_gen_result *res);

#endif
