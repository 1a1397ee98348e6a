/* `csmetrics bench`: the traffic it produces to the embedded broker —
 * `csmetrics gen`'s realistic shops, agents and customers (historical or
 * with live timestamps), and customers who open a session and stay. */
#ifndef CSM_BENCH_TRAFFIC_H
#define CSM_BENCH_TRAFFIC_H

#include <stddef.h>

#include "codec.h"
#include "config.h"
#include "gen.h"
#include "producer.h"

typedef struct csm_bench_traffic {
    csm_codec *codec;
    csm_event_producer *p;
    int live; /* events take the wall clock as their ts */
    long sent;
} csm_bench_traffic;

/* Producer to cfg's topics (plain Avro). 0 or -1 + err. */
int csm_bench_traffic_open(csm_bench_traffic *t, const csm_config *cfg, char *err, size_t errlen);
/* Waits for every delivery; 0, or -1 when some failed. */
int csm_bench_traffic_finish(csm_bench_traffic *t);
void csm_bench_traffic_close(csm_bench_traffic *t);

/* The generator's traffic for o; with live, timestamped now. 0 or -1. */
int csm_bench_traffic_gen(csm_bench_traffic *t, const csm_gen_opts *o, int live);
/* Customers first..last-1 (of their own shops, @p shops of them) each
 * send one message now, which opens a session that nothing closes for
 * the idle_close of the spec (15 min). 0 or -1. */
int csm_bench_traffic_open_sessions(csm_bench_traffic *t, long first, long last, long shops);

#endif
