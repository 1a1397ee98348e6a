#include "bench_traffic.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t wall_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int csm_bench_traffic_open(csm_bench_traffic *t, const csm_config *cfg, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (!(t->codec = csm_codec_new(cfg->schema_dir, err, errlen)))
        return -1;
    if (!(t->p = csm_event_producer_new(cfg, t->codec, -1, -1, err, errlen))) {
        csm_bench_traffic_close(t);
        return -1;
    }
    return 0;
}

int csm_bench_traffic_finish(csm_bench_traffic *t)
{
    return csm_event_producer_finish(t->p, 60000) ? -1 : 0;
}

void csm_bench_traffic_close(csm_bench_traffic *t)
{
    csm_event_producer_free(t->p);
    csm_codec_free(t->codec);
    memset(t, 0, sizeof *t);
}

static int emit(void *arg, const csm_event *ev)
{
    csm_bench_traffic *t = arg;
    csm_event copy = *ev;
    if (t->live)
        copy.ts = wall_ms();
    t->sent++;
    return csm_event_producer_send(t->p, &copy);
}

int csm_bench_traffic_gen(csm_bench_traffic *t, const csm_gen_opts *o, int live)
{
    csm_gen_result res;
    t->live = live;
    return csm_gen_run(o, emit, t, &res);
}

int csm_bench_traffic_open_sessions(csm_bench_traffic *t, long first, long last, long shops)
{
    char id[32], shop[32], cust[32];
    for (long i = first; i < last; i++) {
        snprintf(id, sizeof id, "open-%ld", i);
        snprintf(shop, sizeof shop, "openshop%ld", i % shops + 1);
        snprintf(cust, sizeof cust, "oc%ld", i + 1);
        csm_event ev = {.struct_size = sizeof ev,
                        .stream = CSM_STREAM_CHAT,
                        .event_id = id,
                        .shop_id = shop,
                        .customer_id = cust,
                        .platform = CSM_PLATFORM_TAOBAO,
                        .ts = wall_ms()};
        ev.chat.type = CSM_CHAT_MESSAGE;
        ev.chat.sender = CSM_SENDER_CUSTOMER;
        ev.chat.msg_kind = CSM_MSG_TEXT;
        ev.chat.entry = CSM_ENTRY_MESSAGE_LIST;
        t->sent++;
        if (csm_event_producer_send(t->p, &ev))
            return -1;
    }
    return 0;
}
