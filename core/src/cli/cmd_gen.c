/* `csmetrics gen`: synthetic but realistic customer-service traffic for
 * trials, demos and benchmarks — shops on several platforms, agent groups,
 * customers with earlier orders, robot and human sessions with queues,
 * replies (some late, some never), transfers, offline messages, ratings,
 * orders and refunds, a few duplicate deliveries and slightly out-of-order
 * arrivals. Deterministic for a seed: one PRNG, drawn in a fixed order. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "civil_day.h"
#include "cli.h"
#include "codec.h"
#include "gen.h"
#include "producer.h"
#include "writer_opts.h"

#define S 1000LL
#define MIN (60 * S)
#define H (60 * MIN)
#define DAY (24 * H)
/* The earliest an event can be before the session that causes it (an
 * earlier order of an after-sale customer): bounds how long generated
 * events wait before they can be emitted in time order. */
#define LOOKBACK (5 * DAY)
/* How far events reach past the start of their session's day: the day
 * itself, then an order's life (shipped within 24 h, delivered 24-60 h
 * later, a refund up to 48 h after that with its own steps up to 40 h):
 * under 8.2 days. The default span ends this long before today, so no
 * generated event lies in the future (run dead-letters those beyond
 * pipeline.max_clock_skew). */
#define TAIL_DAYS 9

enum group { GROUP_NONE, GROUP_PRESALE, GROUP_AFTERSALE };

typedef struct gen_event {
    int64_t ts;
    uint32_t seq;     /* generation order: the event id */
    int32_t customer; /* -1: AGENT_STATUS, keyed by the agent */
    int32_t order;    /* -1: none */
    int16_t shop, agent, from_agent;
    uint8_t stream, type, sender, kind, entry, stars, group;
    const char *intent, *reason, *status;
} gen_event;

typedef struct gen {
    uint64_t rng;
    uint32_t seed;
    int shops, agents, customers, hours;
    gen_event *ev;
    size_t n, cap;
    uint32_t seq;
    int32_t orders;
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
#define PICK(g, a) ((a)[next(g) % (sizeof(a) / sizeof *(a))])

static const char *const presale_intents[] = {"pre_sale/size", "pre_sale/stock", "pre_sale/price",
                                              "pre_sale/material", "pre_sale/coupon"};
static const char *const aftersale_intents[] = {"after_sale/refund",   "after_sale/quality",
                                                "after_sale/exchange", "logistics/where",
                                                "logistics/speed",     "after_sale/invoice"};
static const char *const assign_reasons[] = {"ROUND_ROBIN", "ROUND_ROBIN", "LAST_AGENT",
                                             "GROUP_ROUTE"};
static const char *const close_reasons[] = {"AGENT", "AGENT", "CUSTOMER", "SYSTEM"};
static const char *const invite_reasons[] = {"SYSTEM_AUTO", "SYSTEM_AUTO", "SYSTEM_AUTO", "AGENT",
                                             "CUSTOMER_SELF"};
static const char *const transit[] = {"IN_TRANSIT", "OUT_FOR_DELIVERY", "STALLED"};
static const csm_platform shop_platforms[] = {CSM_PLATFORM_DOUYIN, CSM_PLATFORM_TAOBAO,
                                              CSM_PLATFORM_TMALL, CSM_PLATFORM_PINDUODUO,
                                              CSM_PLATFORM_JD};
/* Relative consultation volume over the active hours of a day: a morning
 * peak, a lull at lunch, afternoon and an evening (live-room) peak. */
static const int busy[16] = {3, 6, 9, 10, 8, 5, 7, 8, 8, 7, 6, 7, 9, 10, 8, 4};

static gen_event *add(gen *g, csm_stream stream, int type, int64_t ts, int shop, int customer)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 4096;
        g->ev = realloc(g->ev, g->cap * sizeof *g->ev);
        if (!g->ev)
            abort();
    }
    gen_event *e = &g->ev[g->n++];
    memset(e, 0, sizeof *e);
    e->seq = g->seq++;
    e->stream = (uint8_t)stream;
    e->type = (uint8_t)type;
    e->ts = ts;
    e->shop = (int16_t)shop;
    e->customer = customer;
    e->agent = e->from_agent = -1;
    e->order = -1;
    return e;
}

static gen_event *msg(gen *g, int64_t ts, int shop, int cust, csm_sender sender, csm_msg_kind kind)
{
    gen_event *e = add(g, CSM_STREAM_CHAT, CSM_CHAT_MESSAGE, ts, shop, cust);
    e->sender = (uint8_t)sender;
    e->kind = (uint8_t)kind;
    return e;
}

static gen_event *order_ev(gen *g, int type, int64_t ts, int shop, int cust, int32_t order)
{
    gen_event *e = add(g, CSM_STREAM_ORDER, type, ts, shop, cust);
    e->order = order;
    return e;
}

/* Agents 0 .. agents/2-1 serve pre-sale, the others after-sale. */
static int agent_of(gen *g, enum group grp)
{
    int half = g->agents / 2;
    if (half == 0)
        return (int)(next(g) % (uint64_t)g->agents);
    if (grp == GROUP_AFTERSALE)
        return half + (int)(next(g) % (uint64_t)(g->agents - half));
    return (int)(next(g) % (uint64_t)half);
}

static void rating(gen *g, int64_t t, int shop, int cust)
{
    if (!chance(g, 55))
        return;
    gen_event *e = add(g, CSM_STREAM_CHAT, CSM_CHAT_RATING_INVITED, t, shop, cust);
    e->reason = PICK(g, invite_reasons);
    if (!chance(g, 50))
        return;
    static const int stars[] = {1, 2, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
    e = add(g, CSM_STREAM_CHAT, CSM_CHAT_RATED, t + uniform(g, 10 * S, 20 * MIN), shop, cust);
    e->stars = (uint8_t)PICK(g, stars);
}

/* A refund requested at t, settled hours later; now and then the
 * customer escalates to the platform. */
static void refund(gen *g, int64_t t, int shop, int cust, int32_t o)
{
    order_ev(g, CSM_ORDER_REFUND_REQUESTED, t, shop, cust, o);
    int fin = chance(g, 70)   ? CSM_ORDER_REFUND_COMPLETED
              : chance(g, 50) ? CSM_ORDER_REFUND_REJECTED
                              : CSM_ORDER_REFUND_CANCELLED;
    order_ev(g, fin, t + uniform(g, 1 * H, 30 * H), shop, cust, o);
    if (chance(g, fin == CSM_ORDER_REFUND_REJECTED ? 50 : 10))
        order_ev(g,
                 chance(g, 60)   ? CSM_ORDER_PLATFORM_CONSULTED
                 : chance(g, 50) ? CSM_ORDER_DISPUTE_OPENED
                                 : CSM_ORDER_COMPLAINT_INTERVENED,
                 t + uniform(g, 2 * H, 40 * H), shop, cust, o);
}

/* An order's life from t: paid, mostly shipped and delivered days later. */
static int32_t order_life(gen *g, int64_t t, int shop, int cust, int64_t *delivered)
{
    int32_t o = g->orders++;
    order_ev(g, CSM_ORDER_CREATED, t, shop, cust, o);
    if (chance(g, 8)) { /* never paid */
        order_ev(g, CSM_ORDER_CLOSED, t + uniform(g, 30 * MIN, 24 * H), shop, cust, o);
        *delivered = -1;
        return o;
    }
    int64_t paid = t + uniform(g, 10 * S, 5 * MIN);
    order_ev(g, CSM_ORDER_PAID, paid, shop, cust, o);
    int64_t shipped = paid + uniform(g, 1 * H, 24 * H);
    order_ev(g, CSM_ORDER_SHIPPED, shipped, shop, cust, o);
    if (chance(g, 30))
        order_ev(g, CSM_ORDER_LOGISTICS_UPDATE, shipped + uniform(g, 6 * H, 30 * H), shop, cust, o)
            ->status = PICK(g, transit);
    *delivered = shipped + uniform(g, 24 * H, 60 * H);
    order_ev(g, CSM_ORDER_DELIVERED, *delivered, shop, cust, o);
    if (chance(g, 5)) { /* a refund without asking the shop first */
        refund(g, *delivered + uniform(g, 2 * H, 48 * H), shop, cust, o);
        return o;
    }
    if (chance(g, 40))
        order_ev(g, CSM_ORDER_COMPLETED, *delivered + uniform(g, 1 * DAY, 3 * DAY), shop, cust, o);
    return o;
}

/* The merchant reaches out (主动发起), or recalls an offline message. */
static void outreach(gen *g, int64_t t, int shop, int cust, int entry)
{
    gen_event *e = msg(g, t, shop, cust, CSM_SENDER_AGENT, CSM_MSG_TEXT);
    e->agent = (int16_t)agent_of(g, GROUP_NONE);
    e->entry = (uint8_t)entry;
    if (chance(g, 60))
        msg(g, t + uniform(g, 30 * S, 10 * MIN), shop, cust, CSM_SENDER_CUSTOMER, CSM_MSG_TEXT);
}

/* One conversation starting at t. */
static void session(gen *g, int64_t t, int shop, int cust)
{
    if (chance(g, 3)) {
        outreach(g, t, shop, cust, CSM_ENTRY_MERCHANT_INITIATED);
        return;
    }
    int after = chance(g, 40);
    const char *intent =
        chance(g, 80) ? (after ? PICK(g, aftersale_intents) : PICK(g, presale_intents)) : NULL;
    int32_t order = -1;
    if (after && chance(g, 75)) { /* the order this is about, bought days ago */
        int64_t delivered;
        order = order_life(g, t - uniform(g, 3 * DAY, LOOKBACK), shop, cust, &delivered);
        if (delivered < 0 || delivered > t)
            order = -1; /* only delivered orders get after-sale talk here */
    }
    gen_event *first = msg(g, t, shop, cust, CSM_SENDER_CUSTOMER,
                           order >= 0 && chance(g, 50) ? CSM_MSG_ORDER_CARD
                           : !after && chance(g, 25)   ? CSM_MSG_PRODUCT_CARD
                           : chance(g, 8)              ? CSM_MSG_IMAGE
                                                       : CSM_MSG_TEXT);
    first->entry = (uint8_t)(order >= 0 && chance(g, 60) ? CSM_ENTRY_ORDER_PAGE
                             : !after && chance(g, 15)   ? CSM_ENTRY_LIVE_ROOM
                             : chance(g, 50)             ? CSM_ENTRY_PRODUCT_PAGE
                                                         : CSM_ENTRY_MESSAGE_LIST);
    first->intent = intent;
    first->order =
        first->kind == CSM_MSG_ORDER_CARD || first->entry == CSM_ENTRY_ORDER_PAGE ? order : -1;
    if (order >= 0 && intent && !strncmp(intent, "after_sale/", 11) && chance(g, 45))
        refund(g, t + uniform(g, 5 * MIN, 3 * H), shop, cust, order);
    int64_t now = t + uniform(g, 1 * S, 3 * S);
    msg(g, now, shop, cust, CSM_SENDER_ROBOT, CSM_MSG_AUTO_REPLY);
    if (!chance(g, 60)) { /* the robot was enough */
        if (chance(g, 50))
            msg(g, now + uniform(g, 5 * S, 60 * S), shop, cust, CSM_SENDER_CUSTOMER, CSM_MSG_EMOJI);
        if (chance(g, 40))
            add(g, CSM_STREAM_CHAT, CSM_CHAT_SESSION_CLOSED, now + uniform(g, 1 * MIN, 5 * MIN),
                shop, cust)
                ->reason = "CUSTOMER";
        if (chance(g, 20))
            rating(g, now + 5 * MIN, shop, cust);
        return;
    }
    now += uniform(g, 5 * S, 30 * S);
    add(g, CSM_STREAM_CHAT, CSM_CHAT_HUMAN_REQUESTED, now, shop, cust)->reason =
        chance(g, 70) ? "CUSTOMER" : "ROBOT_HANDOVER";
    /* Queue: mostly short, sometimes minutes; long queues lose customers. */
    int64_t queue = chance(g, 85) ? uniform(g, 1 * S, 40 * S) : uniform(g, 1 * MIN, 6 * MIN);
    if (chance(g, queue > 3 * MIN ? 35 : 5)) {
        static const char *const why[] = {"NO_AGENT_ONLINE", "ALL_BUSY", "QUEUE_ABANDONED"};
        const char *reason = queue > 3 * MIN ? "QUEUE_ABANDONED" : PICK(g, why);
        add(g, CSM_STREAM_CHAT, CSM_CHAT_OFFLINE_MESSAGE, now + queue, shop, cust)->reason = reason;
        if (chance(g, 40))
            outreach(g, now + queue + uniform(g, 10 * MIN, 3 * H), shop, cust,
                     CSM_ENTRY_OFFLINE_RECALL);
        return;
    }
    now += queue;
    enum group grp = after ? GROUP_AFTERSALE : GROUP_PRESALE;
    int agent = agent_of(g, grp);
    gen_event *a = add(g, CSM_STREAM_CHAT, CSM_CHAT_ASSIGNED, now, shop, cust);
    a->agent = (int16_t)agent;
    a->group = (uint8_t)grp;
    a->reason = PICK(g, assign_reasons);
    msg(g, now + 1 * S, shop, cust, CSM_SENDER_AGENT, CSM_MSG_WELCOME)->agent = (int16_t)agent;
    int rounds = (int)uniform(g, 1, 4);
    for (int r = 0; r < rounds; r++) {
        if (r > 0)
            msg(g, now += uniform(g, 5 * S, 90 * S), shop, cust, CSM_SENDER_CUSTOMER,
                chance(g, 10) ? CSM_MSG_IMAGE : CSM_MSG_TEXT);
        if (chance(g, 7))
            break; /* never answered */
        if (r == 1 && g->agents > 1 && chance(g, 10)) {
            int to = agent_of(g, grp == GROUP_PRESALE ? GROUP_AFTERSALE : GROUP_PRESALE);
            if (to == agent)
                to = (agent + 1) % g->agents;
            gen_event *x = add(g, CSM_STREAM_CHAT, CSM_CHAT_TRANSFERRED, now + 2 * S, shop, cust);
            x->agent = (int16_t)to;
            x->from_agent = (int16_t)agent;
            agent = to;
        }
        now += chance(g, 80) ? uniform(g, 3 * S, 60 * S) : uniform(g, 1 * MIN, 5 * MIN);
        msg(g, now, shop, cust, CSM_SENDER_AGENT, CSM_MSG_TEXT)->agent = (int16_t)agent;
    }
    if (chance(g, 75)) { /* else it is left to go idle */
        gen_event *c = add(g, CSM_STREAM_CHAT, CSM_CHAT_SESSION_CLOSED,
                           now + uniform(g, 10 * S, 3 * MIN), shop, cust);
        c->reason = PICK(g, close_reasons);
        c->agent = (int16_t)agent;
        now = c->ts;
    }
    rating(g, now + 2 * S, shop, cust);
    if (!after && chance(g, 30)) {
        int64_t delivered;
        order_life(g, now + uniform(g, 1 * MIN, 30 * MIN), shop, cust, &delivered);
    }
}

/* Agents log in before the day's traffic, some take a break, all log out. */
static void agent_day(gen *g, int64_t day_start, int shop, int agent)
{
    int64_t on = day_start - uniform(g, 0, 10 * MIN), off = day_start + g->hours * H;
    add(g, CSM_STREAM_CHAT, CSM_CHAT_AGENT_STATUS, on, shop, -1)->agent = (int16_t)agent;
    g->ev[g->n - 1].reason = "ONLINE";
    if (chance(g, 40)) {
        int64_t pause = on + uniform(g, 2 * H, (g->hours > 3 ? g->hours - 1 : 2) * H);
        add(g, CSM_STREAM_CHAT, CSM_CHAT_AGENT_STATUS, pause, shop, -1)->agent = (int16_t)agent;
        g->ev[g->n - 1].reason = "BREAK";
        add(g, CSM_STREAM_CHAT, CSM_CHAT_AGENT_STATUS, pause + uniform(g, 5 * MIN, 20 * MIN), shop,
            -1)
            ->agent = (int16_t)agent;
        g->ev[g->n - 1].reason = "ONLINE";
    }
    add(g, CSM_STREAM_CHAT, CSM_CHAT_AGENT_STATUS, off + uniform(g, 0, 15 * MIN), shop, -1)->agent =
        (int16_t)agent;
    g->ev[g->n - 1].reason = "OFFLINE";
}

/* A session's offset into the active hours, following the busy profile. */
static int64_t busy_offset(gen *g)
{
    int total = 0, k = 0;
    for (int i = 0; i < 16; i++)
        total += busy[i];
    int r = (int)(next(g) % (uint64_t)total);
    while (r >= busy[k])
        r -= busy[k++];
    int64_t slot = (int64_t)g->hours * H / 16;
    return k * slot + uniform(g, 0, slot - 1);
}

static int by_time(const void *a, const void *b)
{
    const gen_event *x = a, *y = b;
    return x->ts < y->ts ? -1 : x->ts > y->ts ? 1 : (x->seq < y->seq ? -1 : x->seq > y->seq);
}

typedef char gen_bufs[6][64];

/* The csm_event of a generated record, strings in bufs. */
static void render(const gen *g, const gen_event *e, csm_event *ev, gen_bufs bufs)
{
    memset(ev, 0, sizeof *ev);
    ev->struct_size = sizeof *ev;
    ev->stream = (csm_stream)e->stream;
    snprintf(bufs[0], 64, "g%u-%u", g->seed, e->seq);
    snprintf(bufs[1], 64, "shop%d", e->shop + 1);
    if (e->agent >= 0)
        snprintf(bufs[3], 64, "shop%d-agent%d", e->shop + 1, e->agent + 1);
    if (e->customer >= 0)
        snprintf(bufs[2], 64, "c%d", e->customer + 1);
    else
        memcpy(bufs[2], bufs[3], sizeof bufs[2]); /* an agent's status: keyed by the agent */
    ev->event_id = bufs[0];
    ev->shop_id = bufs[1];
    ev->customer_id = bufs[2];
    ev->platform = shop_platforms[e->shop % 5];
    ev->ts = e->ts;
    if (e->order >= 0)
        snprintf(bufs[5], 64, "o%u-%d", g->seed, e->order + 1);
    if (e->stream == CSM_STREAM_CHAT) {
        csm_chat_fields *c = &ev->chat;
        c->type = (csm_chat_type)e->type;
        c->sender = (csm_sender)e->sender;
        c->msg_kind = (csm_msg_kind)e->kind;
        c->entry = (csm_entry)e->entry;
        if (e->agent >= 0)
            c->agent_id = bufs[3];
        if (e->from_agent >= 0) {
            snprintf(bufs[4], 64, "shop%d-agent%d", e->shop + 1, e->from_agent + 1);
            c->from_agent_id = bufs[4];
        }
        if (e->group != GROUP_NONE) {
            snprintf(bufs[4], 64, "shop%d-%s", e->shop + 1,
                     e->group == GROUP_PRESALE ? "presale" : "aftersale");
            c->group_id = bufs[4];
        }
        if (e->order >= 0)
            c->order_id = bufs[5];
        c->intent = e->intent;
        c->reason = e->reason;
        if (c->type == CSM_CHAT_RATED) {
            c->stars = e->stars;
            c->has_stars = 1;
        }
    } else {
        csm_order_fields *o = &ev->order;
        o->type = (csm_order_type)e->type;
        o->order_id = bufs[5];
        if (o->type == CSM_ORDER_PAID || o->type == CSM_ORDER_CREATED) {
            o->amount_cents = 990 + (e->order * 7919LL) % 50000;
            o->has_amount = 1;
        }
        if (o->type >= CSM_ORDER_REFUND_REQUESTED && o->type <= CSM_ORDER_REFUND_CANCELLED) {
            snprintf(bufs[4], 64, "r%u-%d", g->seed, e->order + 1);
            o->refund_id = bufs[4];
        }
        o->logistics_status = e->status;
    }
}

/* "2026-11-20T08:00:00+08:00" (Z or ±HH:MM, seconds optional) or epoch
 * ms. -1 when malformed. */
static int parse_start(const char *s, int64_t *ms)
{
    char *end;
    if (!strchr(s, '-') || s[0] == '-') {
        *ms = strtoll(s, &end, 10);
        return *end || end == s ? -1 : 0;
    }
    int y, mo, d, h, mi, sec = 0, n = 0, oh = 0, om = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &n) != 5)
        return -1;
    s += n;
    if (*s == ':' && sscanf(s, ":%2d%n", &sec, &n) == 1)
        s += n;
    int sign = 0;
    if (*s == 'Z' && !s[1])
        sign = 1;
    else if ((*s == '+' || *s == '-') && sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && !s[1 + n])
        sign = *s == '+' ? 1 : -1;
    if (!sign || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    int64_t secs =
        csm_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
    *ms = (secs - sign * (oh * 3600 + om * 60)) * 1000;
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: csmetrics gen [-c FILE] [--brokers LIST] (--out FILE.jsonl | --kafka)\n"
            "         [--shops N=5] [--agents-per-shop N=4] [--customers N=200 per shop]\n"
            "         [--days N=1] [--hours N=16 active hours a day] [--sessions N (total;\n"
            "         default 400 per shop and day)] [--start ISO-8601|EPOCH_MS (default\n"
            "         08:00 +08:00, N+9 days before today: every event, orders' later\n"
            "         steps included, lies in the past)] [--seed N=1] [--rate EVENTS_PER_S (kafka; "
            "0 = as\n"
            "         fast as possible)] [--events N (stop after N)]\n"
            "         " CSM_WRITER_OPTS_USAGE " (kafka)\n");
}

/* Where the output goes, and the arrival effects added on the way. */
typedef struct sink {
    gen *g;
    csm_gen_emit_fn fn;
    void *arg;
    long rate, limit, written, dups;
    struct timespec begin;
    gen_event pending[64]; /* duplicate deliveries, re-sent a little later */
    int pending_due[64];
    int n_pending;
} sink;

/* 0, 1 once --events is reached, -1 when the output fails. */
static int write_one(sink *k, const gen_event *e)
{
    if (k->limit > 0 && k->written >= k->limit)
        return 1;
    csm_event ev;
    gen_bufs bufs;
    render(k->g, e, &ev, bufs);
    if (k->fn(k->arg, &ev) != 0)
        return -1;
    k->written++;
    if (k->rate > 0 && k->written % 100 == 0) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double elapsed =
            (double)(now.tv_sec - k->begin.tv_sec) + (double)(now.tv_nsec - k->begin.tv_nsec) / 1e9;
        double ahead = (double)k->written / (double)k->rate - elapsed;
        if (ahead > 0)
            usleep((useconds_t)(ahead * 1e6));
    }
    return 0;
}

/* Writes e; at-least-once delivery sends about 1 % twice, the copy a few
 * events later but never more than 2 s of event time later, as a retry
 * would. */
static int emit(sink *k, const gen_event *e)
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < k->n_pending;)
        if (--k->pending_due[i] <= 0 || e->ts - k->pending[i].ts > 2 * S) {
            rc = write_one(k, &k->pending[i]);
            k->dups++;
            k->pending[i] = k->pending[k->n_pending - 1];
            k->pending_due[i] = k->pending_due[--k->n_pending];
        } else {
            i++;
        }
    if (rc == 0)
        rc = write_one(k, e);
    if (rc == 0 && k->n_pending < 64 && chance(k->g, 1)) {
        k->pending[k->n_pending] = *e;
        k->pending_due[k->n_pending++] = (int)uniform(k->g, 0, 20);
    }
    return rc;
}

/* Emits, in arrival order, every buffered event before cutoff. Arrival is
 * not quite event time: neighbours less than 2 s apart are sometimes
 * swapped. */
static int flush_before(sink *k, int64_t cutoff)
{
    gen *g = k->g;
    qsort(g->ev, g->n, sizeof *g->ev, by_time);
    size_t m = 0;
    while (m < g->n && g->ev[m].ts < cutoff)
        m++;
    for (size_t i = 1; i < m; i++)
        if (g->ev[i].ts - g->ev[i - 1].ts < 2 * S && chance(g, 5)) {
            gen_event tmp = g->ev[i];
            g->ev[i] = g->ev[i - 1];
            g->ev[i - 1] = tmp;
        }
    int rc = 0;
    for (size_t i = 0; i < m && rc == 0; i++)
        rc = emit(k, &g->ev[i]);
    memmove(g->ev, g->ev + m, (g->n - m) * sizeof *g->ev);
    g->n -= m;
    return rc;
}

static int arg_long(const char *v, long lo, long *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < lo)
        return -1;
    *out = n;
    return 0;
}

int64_t csm_gen_default_start(long days)
{
    /* 08:00 China Standard Time, days + TAIL_DAYS before today */
    int64_t now = (int64_t)time(NULL) * 1000;
    int64_t t0 = (now + 8 * H) / DAY * DAY; /* local midnight is 8 h earlier: +8 h cancels */
    return t0 - (days + TAIL_DAYS) * DAY;
}

int csm_gen_run(const csm_gen_opts *o, csm_gen_emit_fn fn, void *arg, csm_gen_result *res)
{
    gen g = {0};
    sink k = {0};
    long sessions = o->sessions ? o->sessions : 400 * o->shops * o->days;
    g.seed = (uint32_t)o->seed;
    g.rng = (uint64_t)o->seed * 0x2545f4914f6cdd1dULL;
    g.shops = (int)o->shops;
    g.agents = (int)o->agents;
    g.customers = (int)o->customers;
    g.hours = (int)o->hours;
    k.g = &g;
    k.fn = fn;
    k.arg = arg;
    k.rate = o->rate;
    k.limit = o->limit;
    int rc = -1;
    clock_gettime(CLOCK_MONOTONIC, &k.begin);
    /* Day by day, so memory holds a few days of events, not the whole run. */
    for (long d = 0; d < o->days; d++) {
        int64_t day = o->t0 + d * DAY;
        for (int s = 0; s < g.shops; s++)
            for (int a = 0; a < g.agents; a++)
                agent_day(&g, day, s, a);
        long today = sessions * (d + 1) / o->days - sessions * d / o->days;
        for (long i = 0; i < today; i++) {
            int shop = (int)(next(&g) % (uint64_t)g.shops);
            /* Neighbouring shops share half their buyers. */
            int cust = (int)((int64_t)shop * g.customers / 2 +
                             (int64_t)(next(&g) % (uint64_t)g.customers));
            session(&g, day + busy_offset(&g), shop, cust);
        }
        int r = flush_before(&k, day + DAY - LOOKBACK);
        if (r < 0)
            goto done;
        if (r > 0)
            break;
    }
    if (flush_before(&k, INT64_MAX) < 0)
        goto done;
    while (k.n_pending > 0 && write_one(&k, &k.pending[--k.n_pending]) == 0)
        k.dups++;
    rc = 0;
done:
    res->written = k.written;
    res->dups = k.dups;
    res->sessions = sessions;
    res->stopped = o->limit > 0 && k.written >= o->limit;
    free(g.ev);
    return rc;
}

int csm_gen_emit_jsonl(void *arg, const csm_event *ev)
{
    char line[4096];
    long n = csm_json_encode(ev, line, sizeof line);
    if (n > 0)
        fprintf(arg, "%s\n", line);
    return 0;
}

static int emit_to_kafka(void *arg, const csm_event *ev)
{
    return csm_event_producer_send(arg, ev);
}

int csm_cmd_gen(int argc, char **argv)
{
    csm_cli_common o = {0};
    csm_writer_opts wo;
    csm_writer_opts_init(&wo);
    const char *out = NULL, *start = NULL;
    int kafka = 0;
    csm_gen_opts go = {
        .days = 1, .hours = 16, .seed = 1, .shops = 5, .agents = 4, .customers = 200};
    for (int i = 1; i < argc; i++) {
        int c = csm_cli_common_arg(&o, argc, argv, &i);
        if (!c)
            c = csm_writer_opts_arg(&wo, "gen", argc, argv, &i);
        if (c < 0)
            return 2;
        if (c)
            continue;
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        struct {
            const char *name;
            long *value, min;
        } nums[] = {{"--sessions", &go.sessions, 1},
                    {"--shops", &go.shops, 1},
                    {"--agents-per-shop", &go.agents, 1},
                    {"--agents", &go.agents, 1},
                    {"--customers", &go.customers, 1},
                    {"--days", &go.days, 1},
                    {"--hours", &go.hours, 1},
                    {"--seed", &go.seed, 0},
                    {"--rate", &go.rate, 0},
                    {"--events", &go.limit, 1}};
        int known = 0;
        for (size_t k = 0; k < sizeof nums / sizeof *nums && !known; k++)
            if (!strcmp(a, nums[k].name)) {
                known = 1;
                if (!v || arg_long(v, nums[k].min, nums[k].value)) {
                    fprintf(stderr, "csmetrics gen: %s needs an integer >= %ld\n", a, nums[k].min);
                    return 2;
                }
                i++;
            }
        if (known)
            continue;
        if (!strcmp(a, "--kafka"))
            kafka = 1;
        else if (!strcmp(a, "--out") && v)
            out = argv[++i];
        else if (!strcmp(a, "--start") && v)
            start = argv[++i];
        else {
            usage();
            return 2;
        }
    }
    if (kafka == !!out || csm_gen_opts_check(&go)) {
        usage();
        return 2;
    }
    if (out && (wo.file[0] || wo.file[1] || wo.id[0] != -2 || wo.id[1] != -2)) {
        fprintf(stderr, "csmetrics gen: --schema-id-* and --writer-schema-* choose the Avro "
                        "written to Kafka: they need --kafka (--out writes JSON Lines)\n");
        return 2;
    }
    if (!start) {
        go.t0 = csm_gen_default_start(go.days);
    } else if (parse_start(start, &go.t0)) {
        fprintf(stderr,
                "csmetrics gen: --start: expected e.g. 2026-11-20T08:00:00+08:00 or "
                "epoch milliseconds, got '%s'\n",
                start);
        return 2;
    }

    csm_config cfg;
    if (csm_cli_load_config(&o, &cfg))
        return 2;
    int rc = 1;
    char err[512];
    FILE *f = NULL;
    csm_event_producer *p = NULL;
    csm_codec *codec = NULL;
    csm_gen_result res;
    if (out && !(f = strcmp(out, "-") ? fopen(out, "w") : stdout)) {
        perror(out);
        goto done;
    }
    if (kafka) {
        int32_t ids[2];
        if (csm_writer_opts_resolve(&wo, "gen", &cfg, 0, ids))
            goto done;
        if (!(codec = csm_codec_new(cfg.schema_dir, err, sizeof err)) ||
            !(p = csm_event_producer_new(&cfg, codec, ids[0], ids[1], err, sizeof err))) {
            fprintf(stderr, "csmetrics gen: %s\n", err);
            goto done;
        }
        for (int s = 0; s < 2; s++)
            csm_event_producer_set_writer(p, (csm_stream)s, wo.writer[s]);
    }
    if (csm_gen_run(&go, f ? csm_gen_emit_jsonl : emit_to_kafka, f ? (void *)f : (void *)p, &res))
        goto done;
    if (p && csm_event_producer_finish(p, 60000) != 0) {
        fprintf(stderr, "csmetrics gen: some deliveries failed\n");
        goto done;
    }
    fprintf(stderr,
            "generated %ld events (%ld duplicate deliveries) for %ld sessions at %ld shops over "
            "%ld day(s) from %lld, seed %ld%s\n",
            res.written, res.dups, res.sessions, go.shops, go.days, (long long)go.t0, go.seed,
            res.stopped ? " (stopped at --events)" : "");
    rc = 0;
done:
    if (f && f != stdout)
        fclose(f);
    csm_event_producer_free(p);
    csm_codec_free(codec);
    csm_writer_opts_free(&wo);
    csm_config_free(&cfg);
    return rc;
}

int csm_gen_opts_check(const csm_gen_opts *o)
{
    return o->shops > 30000 || o->agents > 30000 || o->hours > 24 || o->days > 3650 ||
                   o->customers > 100000000 / o->shops
               ? -1
               : 0;
}
