/* Heap allocations per event on the steady path of `run`: a fetched
 * message decoded (Avro, and JSON Lines as `replay` reads them), checked
 * and offered to the engine, whose plugins turn it into pending deltas.
 *
 * The executable defines malloc, calloc, realloc, free and the aligned
 * allocators itself (glibc lets a program replace them; every library,
 * libc's own strdup or getline included, then calls these) and forwards
 * to glibc's, counting while a window is open. So this test is built only
 * in the tree without AddressSanitizer, which owns malloc there.
 *
 * The traffic: 40 customers of one shop whose human-served sessions are
 * opened during the warm-up, then customer and agent messages alternating
 * in those sessions, one second apart, as `csmetrics gen` makes them
 * mid-session. Each phase is measured after a warm-up over the same kind
 * of events, so the figures are those of a process that has been running.
 *
 * Asserted: no allocation per event, in decoding (Avro and JSON Lines,
 * and Avro of a writer schema other than ours, resolved to ours) nor in
 * the engine, its plugins and the pending deltas. The figures are
 * printed, and on a failure the call sites that allocated (module+offset:
 * `addr2line -f -e MODULE OFFSET` names a static function). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "codec.h"
#include "engine.h"

#include "../support/engine_world.h"
#include "../support/writer_schemas.h"

/* ---- the counting allocator (count_alloc.h) and its call sites ---- */

#include "../support/count_alloc.h"

#define DEPTH 8
#define MAX_SITES 64

typedef struct site {
    void *frames[DEPTH];
    int depth;
    long count;
} site;

static site sites[MAX_SITES];
static int n_sites;
static long unrecorded; /* allocations beyond MAX_SITES distinct sites */
static long window_start;

static void record_site(void)
{
    void *frames[DEPTH + 2];
    int depth = backtrace(frames, DEPTH + 2) - 2; /* minus record_site and the hook */
    if (depth < 0)
        depth = 0;
    for (int i = 0; i < n_sites; i++)
        if (sites[i].depth == depth &&
            !memcmp(sites[i].frames, frames + 2, depth * sizeof(void *))) {
            sites[i].count++;
            return;
        }
    if (n_sites == MAX_SITES) {
        unrecorded++;
        return;
    }
    memcpy(sites[n_sites].frames, frames + 2, depth * sizeof(void *));
    sites[n_sites].depth = depth;
    sites[n_sites++].count = 1;
}

static void window_open(void)
{
    count_allocations();
    n_sites = 0;
    unrecorded = 0;
    window_start = __atomic_load_n(&allocations, __ATOMIC_SEQ_CST);
    __atomic_store_n(&allocation_observer, record_site, __ATOMIC_SEQ_CST);
}

static long window_close(void)
{
    __atomic_store_n(&allocation_observer, NULL, __ATOMIC_SEQ_CST);
    return __atomic_load_n(&allocations, __ATOMIC_SEQ_CST) - window_start;
}

/* The sites of the last window, most allocations first. */
static void print_sites(const char *what)
{
    for (int i = 0; i < n_sites; i++)
        for (int j = i + 1; j < n_sites; j++)
            if (sites[j].count > sites[i].count) {
                site t = sites[i];
                sites[i] = sites[j];
                sites[j] = t;
            }
    for (int i = 0; i < n_sites && i < 12; i++) {
        printf("  %s: %ld allocations at:\n", what, sites[i].count);
        char **names = backtrace_symbols(sites[i].frames, sites[i].depth);
        for (int k = 0; names && k < sites[i].depth; k++)
            printf("      %s\n", names[k]);
        free(names);
    }
    if (unrecorded)
        printf("  %s: %ld more allocations at other sites\n", what, unrecorded);
}

/* ---- the traffic ---- */

/* 2026-11-20T09:00:00+08:00 */
#define T0 1795136400000LL
#define CUSTOMERS 40
#define STEADY 2000

typedef struct message {
    char line[512]; /* JSON Lines form */
    size_t line_len;
    unsigned char avro[512]; /* Confluent-framed Avro */
    size_t avro_len;
    csm_stream stream;
} message;

static csm_codec *codec;
static long long clock_ms = T0;
static int next_id;

static void make(message *m, const char *type, int customer, const char *extra)
{
    m->line_len = (size_t)snprintf(
        m->line, sizeof m->line,
        "{\"stream\":\"chat\",\"event_id\":\"ev-%d\",\"platform\":\"TMALL\","
        "\"shop_id\":\"shop1\",\"customer_id\":\"cust-%d\",\"ts\":%lld,\"type\":\"%s\"%s}",
        next_id++, customer, clock_ms, type, extra);
    clock_ms += 1000;
    csm_event_slot slot;
    char err[256];
    if (csm_json_decode_line(m->line, m->line_len, &slot, err, sizeof err))
        fail_msg("%s: %s", m->line, err);
    long n = csm_codec_encode(codec, &slot.ev, 1, m->avro, sizeof m->avro);
    assert_true(n > 0);
    m->avro_len = (size_t)n;
    m->stream = slot.ev.stream;
}

/* Customer and agent messages alternating over every open session. */
static void steady(message *m, int n)
{
    char agent[96];
    for (int i = 0; i < n; i++) {
        int customer = (i / 2) % CUSTOMERS;
        if (i % 2 == 0) {
            make(&m[i], "MESSAGE", customer, ",\"sender\":\"CUSTOMER\",\"msg_kind\":\"TEXT\"");
        } else {
            snprintf(agent, sizeof agent,
                     ",\"sender\":\"AGENT\",\"msg_kind\":\"TEXT\",\"agent_id\":\"agent-%d\"",
                     customer % 4);
            make(&m[i], "MESSAGE", customer, agent);
        }
    }
}

/* Each customer writes, asks for a human, is assigned and answered. */
static int opening(message *m)
{
    char agent[64];
    int n = 0;
    for (int c = 0; c < CUSTOMERS; c++) {
        snprintf(agent, sizeof agent, ",\"agent_id\":\"agent-%d\"", c % 4);
        make(&m[n++], "MESSAGE", c,
             ",\"sender\":\"CUSTOMER\",\"msg_kind\":\"TEXT\",\"entry\":\"PRODUCT_PAGE\"");
        make(&m[n++], "HUMAN_REQUESTED", c, "");
        make(&m[n++], "ASSIGNED", c, agent);
    }
    return n;
}

static int decode_avro(const message *m, csm_event_slot *slot)
{
    char err[256];
    if (csm_codec_decode(codec, m->stream, CSM_FRAMING_CONFLUENT, m->avro, m->avro_len, slot, err,
                         sizeof err))
        fail_msg("decode: %s", err);
    return 0;
}

static void offer(csm_engine *e, const csm_event_slot *slot)
{
    char reason[256];
    if (csm_engine_precheck(e, &slot->ev, reason, sizeof reason) != CSM_VERDICT_ACCEPTED ||
        csm_engine_offer(e, &slot->ev, reason, sizeof reason) != CSM_VERDICT_ACCEPTED)
        fail_msg("refused: %s", reason);
}

/* What `run` does after a flush. */
static void flushed(csm_engine *e)
{
    csm_deltas_clear(csm_engine_deltas(e));
}

static message warm[3 * CUSTOMERS + STEADY], measured[STEADY];
static csm_event_slot slot;

/* The counter sees what libc and the libraries allocate. */
static void counter_counts(void **state)
{
    window_open();
    char *volatile copy = strdup("x");
    free(copy);
    json_t *j = json_string("x");
    json_decref(j);
    assert_int_equal(window_close(), 3); /* strdup; json_string: its node and its copy */
}

/* Refusals on every path out of the decoders: scratch memory they leave
 * allocated would pin the arena, and decoding would then use the heap. */
static void refuse_bad_input(void)
{
    static const char *lines[] = {"{\"stream\":", "[1,2]",
                                  "{\"stream\":\"chat\",\"event_id\":\"e\",\"ts\":\"x\"}",
                                  "{\"stream\":\"chat\",\"event_id\":\"e\",\"event_id\":\"f\"}"};
    char err[256];
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        assert_int_equal(csm_json_decode_line(lines[i], strlen(lines[i]), &slot, err, sizeof err),
                         -1);
    const message *m = &measured[0];
    unsigned char bad[512];
    for (size_t cut = 6; cut < m->avro_len; cut++) /* truncated anywhere */
        assert_int_equal(csm_codec_decode(codec, m->stream, CSM_FRAMING_CONFLUENT, m->avro, cut,
                                          &slot, err, sizeof err),
                         -1);
    memcpy(bad, m->avro, m->avro_len);
    bad[7] = 0; /* a NUL byte inside event_id "ev-…" */
    assert_int_equal(csm_codec_decode(codec, m->stream, CSM_FRAMING_CONFLUENT, bad, m->avro_len,
                                      &slot, err, sizeof err),
                     -1);
}

static void decoding_allocates_nothing(void **state)
{
    for (int i = 0; i < STEADY; i++) /* warm-up */
        decode_avro(&warm[3 * CUSTOMERS + i], &slot);
    refuse_bad_input();
    window_open();
    for (int i = 0; i < STEADY; i++)
        decode_avro(&measured[i], &slot);
    long avro = window_close();
    printf("Avro decoding: %ld allocations for %d messages\n", avro, STEADY);
    print_sites("avro");

    char err[256];
    for (int i = 0; i < STEADY; i++)
        if (csm_json_decode_line(warm[i].line, warm[i].line_len, &slot, err, sizeof err))
            fail_msg("json: %s", err);
    window_open();
    for (int i = 0; i < STEADY; i++)
        if (csm_json_decode_line(measured[i].line, measured[i].line_len, &slot, err, sizeof err))
            fail_msg("json: %s", err);
    long json = window_close();
    printf("JSON Lines decoding: %ld allocations for %d lines\n", json, STEADY);
    print_sites("json");
    assert_int_equal(avro, 0);
    assert_int_equal(json, 0);
}

/* The largest event a slot holds: 2048 bytes of strings, most of them a
 * free-text reason (UTF-8 of 3 bytes a character, so that the lexer's
 * buffer grows through every size). Neither decoder needs the heap. */
static void largest_event_allocates_nothing(void **state)
{
    static char line[4096], reason[2048];
    size_t n = 0;
    while (n + 3 < 1950) {
        memcpy(reason + n, "\xe5\xba\x97", 3); /* 店 */
        n += 3;
    }
    reason[n] = 0;
    int len = snprintf(line, sizeof line,
                       "{\"stream\":\"chat\",\"event_id\":\"big-1\",\"platform\":\"JD\","
                       "\"shop_id\":\"shop1\",\"customer_id\":\"cust-1\",\"ts\":%lld,"
                       "\"type\":\"SESSION_CLOSED\",\"agent_id\":\"agent-1\",\"reason\":\"%s\"}",
                       T0, reason);
    static unsigned char msg[4096];
    char err[256];
    assert_int_equal(csm_json_decode_line(line, (size_t)len, &slot, err, sizeof err), 0);
    assert_int_equal(strlen(slot.ev.chat.reason), n);
    long m = csm_codec_encode(codec, &slot.ev, 1, msg, sizeof msg);
    assert_true(m > 0);
    window_open();
    assert_int_equal(csm_json_decode_line(line, (size_t)len, &slot, err, sizeof err), 0);
    assert_int_equal(csm_codec_decode(codec, CSM_STREAM_CHAT, CSM_FRAMING_CONFLUENT, msg, (size_t)m,
                                      &slot, err, sizeof err),
                     0);
    long counted = window_close();
    print_sites("largest event");
    assert_int_equal(counted, 0);
    assert_int_equal(strlen(slot.ev.chat.reason), n);
}

#define V2_MESSAGES 400
#define V2_ID 2

/* Messages of writer schema v2 (an added field, an added enum symbol, a
 * dropped field): the first one builds its decoder, then no allocation. */
static void added_writer_schema_allocates_nothing(void **state)
{
    static unsigned char msgs[V2_MESSAGES][512];
    static size_t lens[V2_MESSAGES];
    char err[256], id[32];
    const char *json = wjson(W_CHAT_V2);
    assert_int_equal(csm_codec_add_writer_schema(codec, V2_ID, json, strlen(json), err, sizeof err),
                     0);
    wmsg m;
    wmsg_open(&m, W_CHAT_V2);
    for (int i = 0; i < V2_MESSAGES; i++) {
        snprintf(id, sizeof id, "v2-%d", i);
        wmsg_head(&m, id, "TMALL", T0 + i * 1000, "MESSAGE");
        wmsg_enum(&m, "sender", i % 2 ? "AGENT" : "CUSTOMER");
        wmsg_enum(&m, "msg_kind", i % 3 ? "TEXT" : "LIVE_CARD");
        if (i % 2)
            wmsg_string(&m, "agent_id", "agent-1");
        wmsg_string(&m, "channel", "app");
        lens[i] = wmsg_write(&m, V2_ID, msgs[i], sizeof msgs[i]);
    }
    wmsg_close(&m);
    for (int round = 0; round < 2; round++) {
        if (round)
            window_open();
        for (int i = 0; i < V2_MESSAGES; i++)
            if (csm_codec_decode(codec, CSM_STREAM_CHAT, CSM_FRAMING_CONFLUENT, msgs[i], lens[i],
                                 &slot, err, sizeof err))
                fail_msg("v2 message %d: %s", i, err);
    }
    long counted = window_close();
    printf("Avro decoding, writer schema v2: %ld allocations for %d messages\n", counted,
           V2_MESSAGES);
    print_sites("v2");
    assert_int_equal(counted, 0);
    /* the last one, 399 = 3 * 133: LIVE_CARD, read as OTHER */
    assert_int_equal(slot.ev.chat.msg_kind, CSM_MSG_OTHER);
    assert_int_equal(slot.ev.chat.sender, CSM_SENDER_AGENT);
}

static void steady_path_allocations(void **state)
{
    world w;
    world_open(&w, "");
    char err[256];
    csm_engine *e = csm_engine_new(&w.cfg, w.chain, w.st, 0, err, sizeof err);
    assert_non_null(e);
    window_open();
    for (size_t i = 0; i < sizeof warm / sizeof *warm; i++) {
        decode_avro(&warm[i], &slot);
        offer(e, &slot);
        if (i % 500 == 499)
            flushed(e);
    }
    flushed(e);
    printf("warm-up (%d sessions opened, %d messages): %ld allocations\n", CUSTOMERS, STEADY,
           window_close());

    long decoding = 0, engine = 0;
    window_open();
    for (int i = 0; i < STEADY; i++) {
        long before = allocations;
        decode_avro(&measured[i], &slot);
        long decoded = allocations;
        offer(e, &slot);
        decoding += decoded - before;
        engine += allocations - decoded;
        if (i % 500 == 499) {
            /* Between two events, so counted in neither figure; its sites
             * are not the steady path's. */
            allocation_observer = NULL;
            flushed(e);
            allocation_observer = record_site;
        }
    }
    window_close();
    printf("steady path, per event: decoding %.3f, engine and deltas %.3f allocations "
           "(%ld and %ld for %d events)\n",
           (double)decoding / STEADY, (double)engine / STEADY, decoding, engine, STEADY);
    print_sites("engine");
    assert_int_equal(decoding, 0);
    assert_int_equal(engine, 0);
    csm_engine_free(e);
    world_close(&w);
}

static int setup(void **state)
{
    char err[512];
    codec = csm_codec_new(getenv("CSM_SCHEMA_DIR"), err, sizeof err);
    if (!codec) {
        fprintf(stderr, "codec: %s\n", err);
        return -1;
    }
    csm_codec_map_schema_id(codec, 1, CSM_STREAM_CHAT);
    int n = opening(warm);
    steady(warm + n, STEADY);
    steady(measured, STEADY);
    void *frames[4];
    backtrace(frames, 4); /* loads the unwinder before any window */
    return 0;
}

static int teardown(void **state)
{
    csm_codec_free(codec);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counter_counts),
        cmocka_unit_test(decoding_allocates_nothing),
        cmocka_unit_test(largest_event_allocates_nothing),
        cmocka_unit_test(added_writer_schema_allocates_nothing),
        cmocka_unit_test(steady_path_allocations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
