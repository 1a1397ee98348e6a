/* `csmetrics gen`: synthetic but realistic customer-service traffic for
 * trials, demos and benchmarks — shops on several platforms, agents,
 * customers, robot and human sessions with queues, replies (some late,
 * some never), transfers, offline messages, ratings, orders and refunds,
 * a few duplicate deliveries and slightly out-of-order arrivals.
 * Deterministic for a seed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "codec.h"
#include "producer.h"

#define S 1000LL
#define MIN (60 * S)
#define H (60 * MIN)

typedef struct gen_event {
    int64_t ts;
    uint32_t seq; /* generation order: the event id */
    uint8_t stream, type, sender, kind, entry, stars, reason;
    int16_t shop, agent, from_agent, intent;
    int32_t customer, order;
} gen_event;

typedef struct gen {
    uint64_t rng;
    gen_event *ev;
    size_t n, cap;
    int shops, agents, customers;
    uint32_t seed;
} gen;

static uint64_t next(gen *g) /* splitmix64 */
{
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static int64_t uniform(gen *g, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(next(g) % (uint64_t)(hi - lo + 1));
}
static int chance(gen *g, int percent)
{
    return (int)(next(g) % 100) < percent;
}

static const char *const intents[] = {
    "pre_sale/size",   "pre_sale/stock",    "pre_sale/price",     "logistics/where",
    "logistics/speed", "after_sale/refund", "after_sale/quality", "after_sale/exchange"};
static const char *const offline_reasons[] = {"NO_AGENT_ONLINE", "ALL_BUSY", "QUEUE_ABANDONED"};
static const char *const close_reasons[] = {"AGENT", "CUSTOMER", "SYSTEM"};
static const char *const invite_reasons[] = {"SYSTEM_AUTO", "AGENT", "CUSTOMER_SELF"};
static const csm_platform shop_platforms[] = {CSM_PLATFORM_DOUYIN, CSM_PLATFORM_TAOBAO,
                                              CSM_PLATFORM_TMALL, CSM_PLATFORM_PINDUODUO,
                                              CSM_PLATFORM_JD};

static gen_event *add(gen *g, csm_stream stream, int type, int64_t ts, int shop, int customer)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 4096;
        g->ev = realloc(g->ev, g->cap * sizeof *g->ev);
        if (!g->ev)
            abort();
    }
    gen_event *e = &g->ev[g->n];
    memset(e, 0, sizeof *e);
    e->seq = (uint32_t)g->n++;
    e->stream = (uint8_t)stream;
    e->type = (uint8_t)type;
    e->ts = ts;
    e->shop = (int16_t)shop;
    e->customer = customer;
    e->agent = e->from_agent = e->intent = -1;
    e->order = -1;
    e->reason = 0xff;
    return e;
}

static gen_event *msg(gen *g, int64_t ts, int shop, int cust, csm_sender sender, csm_msg_kind kind)
{
    gen_event *e = add(g, CSM_STREAM_CHAT, CSM_CHAT_MESSAGE, ts, shop, cust);
    e->sender = (uint8_t)sender;
    e->kind = (uint8_t)kind;
    return e;
}

static void rating(gen *g, int64_t t, int shop, int cust)
{
    if (!chance(g, 55))
        return;
    gen_event *e = add(g, CSM_STREAM_CHAT, CSM_CHAT_RATING_INVITED, t, shop, cust);
    e->reason = (uint8_t)(chance(g, 80) ? 0 : 1);
    if (!chance(g, 50))
        return;
    static const int stars[] = {1, 2, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    e = add(g, CSM_STREAM_CHAT, CSM_CHAT_RATED, t + uniform(g, 10 * S, 20 * MIN), shop, cust);
    e->stars = (uint8_t)stars[next(g) % 20];
}

static void orders(gen *g, int64_t t, int shop, int cust)
{
    int32_t order = (int32_t)g->n;
    add(g, CSM_STREAM_ORDER, CSM_ORDER_CREATED, t, shop, cust)->order = order;
    add(g, CSM_STREAM_ORDER, CSM_ORDER_PAID, t + uniform(g, 10 * S, 5 * MIN), shop, cust)->order =
        order;
    if (chance(g, 60))
        add(g, CSM_STREAM_ORDER, CSM_ORDER_SHIPPED, t + uniform(g, 1 * H, 6 * H), shop, cust)
            ->order = order;
    if (chance(g, 12)) {
        int64_t r = t + uniform(g, 30 * MIN, 4 * H);
        add(g, CSM_STREAM_ORDER, CSM_ORDER_REFUND_REQUESTED, r, shop, cust)->order = order;
        int fin = chance(g, 70)   ? CSM_ORDER_REFUND_COMPLETED
                  : chance(g, 50) ? CSM_ORDER_REFUND_REJECTED
                                  : CSM_ORDER_REFUND_CANCELLED;
        add(g, CSM_STREAM_ORDER, fin, r + uniform(g, 10 * MIN, 5 * H), shop, cust)->order = order;
        if (chance(g, 15))
            add(g, CSM_STREAM_ORDER,
                chance(g, 60)   ? CSM_ORDER_PLATFORM_CONSULTED
                : chance(g, 50) ? CSM_ORDER_DISPUTE_OPENED
                                : CSM_ORDER_COMPLAINT_INTERVENED,
                r + uniform(g, 1 * H, 8 * H), shop, cust)
                ->order = order;
    }
}

/* One conversation starting at t. */
static void session(gen *g, int64_t t, int shop, int cust)
{
    int intent = chance(g, 75) ? (int)(next(g) % 8) : -1;
    if (chance(g, 3)) { /* the merchant reaches out (主动发起) */
        gen_event *e = msg(g, t, shop, cust, CSM_SENDER_AGENT, CSM_MSG_TEXT);
        e->agent = (int16_t)(next(g) % (uint64_t)g->agents);
        e->entry = CSM_ENTRY_MERCHANT_INITIATED;
        if (chance(g, 60))
            msg(g, t + uniform(g, 30 * S, 10 * MIN), shop, cust, CSM_SENDER_CUSTOMER, CSM_MSG_TEXT);
        return;
    }
    gen_event *first = msg(g, t, shop, cust, CSM_SENDER_CUSTOMER,
                           chance(g, 20)   ? CSM_MSG_PRODUCT_CARD
                           : chance(g, 10) ? CSM_MSG_ORDER_CARD
                                           : CSM_MSG_TEXT);
    first->entry = (uint8_t)(1 + next(g) % 4);
    first->intent = (int16_t)intent;
    int64_t now = t + uniform(g, 1 * S, 3 * S);
    msg(g, now, shop, cust, CSM_SENDER_ROBOT, CSM_MSG_AUTO_REPLY);
    if (!chance(g, 60)) { /* the robot was enough */
        if (chance(g, 50))
            msg(g, now + uniform(g, 5 * S, 60 * S), shop, cust, CSM_SENDER_CUSTOMER, CSM_MSG_EMOJI);
        if (chance(g, 40))
            add(g, CSM_STREAM_CHAT, CSM_CHAT_SESSION_CLOSED, now + uniform(g, 1 * MIN, 5 * MIN),
                shop, cust)
                ->reason = 1;
        if (chance(g, 20))
            rating(g, now + 5 * MIN, shop, cust);
        return;
    }
    now += uniform(g, 5 * S, 30 * S);
    add(g, CSM_STREAM_CHAT, CSM_CHAT_HUMAN_REQUESTED, now, shop, cust);
    if (chance(g, 8)) {
        int64_t when = now + uniform(g, 10 * S, 5 * MIN);
        add(g, CSM_STREAM_CHAT, CSM_CHAT_OFFLINE_MESSAGE, when, shop, cust)->reason =
            (uint8_t)(next(g) % 3);
        return;
    }
    /* Queue: mostly short, sometimes minutes. */
    now += chance(g, 85) ? uniform(g, 1 * S, 40 * S) : uniform(g, 1 * MIN, 6 * MIN);
    int agent = (int)(next(g) % (uint64_t)g->agents);
    gen_event *a = add(g, CSM_STREAM_CHAT, CSM_CHAT_ASSIGNED, now, shop, cust);
    a->agent = (int16_t)agent;
    msg(g, now + 1 * S, shop, cust, CSM_SENDER_AGENT, CSM_MSG_WELCOME)->agent = (int16_t)agent;
    int rounds = (int)uniform(g, 1, 4);
    for (int r = 0; r < rounds; r++) {
        if (r > 0)
            msg(g, now += uniform(g, 5 * S, 90 * S), shop, cust, CSM_SENDER_CUSTOMER, CSM_MSG_TEXT);
        if (chance(g, 7))
            break; /* never answered */
        if (r == 1 && chance(g, 10)) {
            int to = (agent + 1) % g->agents;
            gen_event *x = add(g, CSM_STREAM_CHAT, CSM_CHAT_TRANSFERRED, now + 2 * S, shop, cust);
            x->agent = (int16_t)to;
            x->from_agent = (int16_t)agent;
            agent = to;
        }
        now += chance(g, 80) ? uniform(g, 3 * S, 60 * S) : uniform(g, 1 * MIN, 5 * MIN);
        msg(g, now, shop, cust, CSM_SENDER_AGENT, CSM_MSG_TEXT)->agent = (int16_t)agent;
    }
    if (chance(g, 75)) {
        gen_event *c = add(g, CSM_STREAM_CHAT, CSM_CHAT_SESSION_CLOSED,
                           now + uniform(g, 10 * S, 3 * MIN), shop, cust);
        c->reason = (uint8_t)(next(g) % 3);
        c->agent = (int16_t)agent;
        now = c->ts;
    }
    rating(g, now + 2 * S, shop, cust);
    if (chance(g, 30))
        orders(g, now + uniform(g, 1 * MIN, 30 * MIN), shop, cust);
}

static int by_time(const void *a, const void *b)
{
    const gen_event *x = a, *y = b;
    return x->ts < y->ts ? -1 : x->ts > y->ts ? 1 : (x->seq < y->seq ? -1 : x->seq > y->seq);
}

/* The csm_event of a generated record, strings in bufs. */
static void render(const gen *g, const gen_event *e, csm_event *ev, char bufs[6][64])
{
    memset(ev, 0, sizeof *ev);
    ev->struct_size = sizeof *ev;
    ev->stream = (csm_stream)e->stream;
    snprintf(bufs[0], 64, "g%u-%u", g->seed, e->seq);
    snprintf(bufs[1], 64, "shop%d", e->shop + 1);
    snprintf(bufs[2], 64, "c%d", e->customer + 1);
    ev->event_id = bufs[0];
    ev->shop_id = bufs[1];
    ev->customer_id = bufs[2];
    ev->platform = shop_platforms[e->shop % 5];
    ev->ts = e->ts;
    if (e->stream == CSM_STREAM_CHAT) {
        csm_chat_fields *c = &ev->chat;
        c->type = (csm_chat_type)e->type;
        c->sender = (csm_sender)e->sender;
        c->msg_kind = (csm_msg_kind)e->kind;
        c->entry = (csm_entry)e->entry;
        if (e->agent >= 0) {
            snprintf(bufs[3], 64, "shop%d-agent%d", e->shop + 1, e->agent + 1);
            c->agent_id = bufs[3];
        }
        if (e->from_agent >= 0) {
            snprintf(bufs[4], 64, "shop%d-agent%d", e->shop + 1, e->from_agent + 1);
            c->from_agent_id = bufs[4];
        }
        if (e->intent >= 0)
            c->intent = intents[e->intent];
        if (e->reason != 0xff)
            c->reason = c->type == CSM_CHAT_OFFLINE_MESSAGE  ? offline_reasons[e->reason % 3]
                        : c->type == CSM_CHAT_RATING_INVITED ? invite_reasons[e->reason % 3]
                                                             : close_reasons[e->reason % 3];
        if (c->type == CSM_CHAT_RATED) {
            c->stars = e->stars;
            c->has_stars = 1;
        }
    } else {
        csm_order_fields *o = &ev->order;
        o->type = (csm_order_type)e->type;
        snprintf(bufs[5], 64, "o%u-%d", g->seed, e->order);
        o->order_id = bufs[5];
        if (o->type == CSM_ORDER_PAID || o->type == CSM_ORDER_CREATED) {
            o->amount_cents = 1000 + (e->order * 7919) % 50000;
            o->has_amount = 1;
        }
        if (o->type >= CSM_ORDER_REFUND_REQUESTED && o->type <= CSM_ORDER_REFUND_CANCELLED)
            o->refund_id = bufs[5];
    }
}

static int64_t parse_start(const char *s)
{
    if (!s) { /* today 09:00 in China Standard Time */
        int64_t now = (int64_t)time(NULL) * 1000;
        int64_t day = (now + 8 * H) / (24 * H);
        return day * 24 * H - 8 * H + 9 * H;
    }
    return strtoll(s, NULL, 10);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: csmetrics gen [-c FILE] [--brokers LIST] (--out FILE.jsonl | --kafka)\n"
            "         [--sessions N=2000] [--shops N=5] [--agents N=4] [--customers N=300]\n"
            "         [--hours N=10] [--start EPOCH_MS (default today 09:00 +08:00)]\n"
            "         [--seed N=1] [--rate EVENTS_PER_S (0: as fast as possible)]\n");
}

int csm_cmd_gen(int argc, char **argv)
{
    csm_cli_common o = {0};
    const char *out = NULL, *start = NULL;
    int kafka = 0;
    long sessions = 2000, hours = 10, seed = 1, rate = 0;
    gen g = {0};
    g.shops = 5;
    g.agents = 4;
    g.customers = 300;
    for (int i = 1; i < argc; i++) {
        int c = csm_cli_common_arg(&o, argc, argv, &i);
        if (c < 0)
            return 2;
        if (c)
            continue;
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--kafka"))
            kafka = 1;
        else if (!v) {
            usage();
            return 2;
        } else if (!strcmp(a, "--out"))
            out = v, i++;
        else if (!strcmp(a, "--start"))
            start = v, i++;
        else if (!strcmp(a, "--sessions"))
            sessions = atol(v), i++;
        else if (!strcmp(a, "--shops"))
            g.shops = atoi(v), i++;
        else if (!strcmp(a, "--agents"))
            g.agents = atoi(v), i++;
        else if (!strcmp(a, "--customers"))
            g.customers = atoi(v), i++;
        else if (!strcmp(a, "--hours"))
            hours = atol(v), i++;
        else if (!strcmp(a, "--seed"))
            seed = atol(v), i++;
        else if (!strcmp(a, "--rate"))
            rate = atol(v), i++;
        else {
            usage();
            return 2;
        }
    }
    if (kafka == !!out || sessions <= 0 || g.shops <= 0 || g.shops > 1000 || g.agents <= 0 ||
        g.customers <= 0 || hours <= 0) {
        usage();
        return 2;
    }
    g.seed = (uint32_t)seed;
    g.rng = (uint64_t)seed * 0x2545f4914f6cdd1dULL;
    int64_t t0 = parse_start(start), span = hours * H;
    for (long i = 0; i < sessions; i++) {
        int shop = (int)(next(&g) % (uint64_t)g.shops);
        session(&g, t0 + span * i / sessions + uniform(&g, 0, 30 * S), shop,
                (int)(next(&g) % (uint64_t)g.customers));
    }
    qsort(g.ev, g.n, sizeof *g.ev, by_time);
    /* Arrival is not quite event time: swap neighbours less than 2 s apart. */
    for (size_t i = 1; i < g.n; i++)
        if (g.ev[i].ts - g.ev[i - 1].ts < 2 * S && chance(&g, 5)) {
            gen_event tmp = g.ev[i];
            g.ev[i] = g.ev[i - 1];
            g.ev[i - 1] = tmp;
        }

    csm_config cfg;
    if (csm_cli_load_config(&o, &cfg))
        return 2;
    int rc = 1;
    char err[512], bufs[6][64], line[4096];
    FILE *f = NULL;
    csm_codec *codec = NULL;
    csm_event_producer *p = NULL;
    if (out && !(f = strcmp(out, "-") ? fopen(out, "w") : stdout)) {
        perror(out);
        goto done;
    }
    if (kafka) {
        int32_t ids[2] = {-1, -1};
        for (size_t i = cfg.n_schema_ids; i-- > 0;)
            ids[cfg.schema_streams[i]] = cfg.schema_ids[i];
        if (!(codec = csm_codec_new(cfg.schema_dir, err, sizeof err)) ||
            !(p = csm_event_producer_new(&cfg, codec, ids[0], ids[1], err, sizeof err))) {
            fprintf(stderr, "csmetrics gen: %s\n", err);
            goto done;
        }
    }
    struct timespec begin;
    clock_gettime(CLOCK_MONOTONIC, &begin);
    long written = 0, dups = 0;
    for (size_t i = 0; i < g.n; i++) {
        csm_event ev;
        render(&g, &g.ev[i], &ev, bufs);
        int copies = chance(&g, 1) ? 2 : 1; /* at-least-once delivery */
        dups += copies - 1;
        for (int k = 0; k < copies; k++) {
            if (f) {
                long n = csm_json_encode(&ev, line, sizeof line);
                if (n > 0)
                    fprintf(f, "%s\n", line);
            } else if (csm_event_producer_send(p, &ev) != 0) {
                goto done;
            }
            written++;
        }
        if (rate > 0 && written % 100 == 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            double elapsed =
                (double)(now.tv_sec - begin.tv_sec) + (now.tv_nsec - begin.tv_nsec) / 1e9;
            double ahead = (double)written / (double)rate - elapsed;
            if (ahead > 0)
                usleep((useconds_t)(ahead * 1e6));
        }
    }
    if (p && csm_event_producer_finish(p, 60000) != 0) {
        fprintf(stderr, "csmetrics gen: some deliveries failed\n");
        goto done;
    }
    fprintf(stderr,
            "generated %ld events (%zu distinct, %ld duplicate deliveries) for %ld "
            "sessions at %d shops from %lld\n",
            written, g.n, dups, sessions, g.shops, (long long)t0);
    rc = 0;
done:
    if (f && f != stdout)
        fclose(f);
    csm_event_producer_free(p);
    csm_codec_free(codec);
    csm_config_free(&cfg);
    free(g.ev);
    return rc;
}
