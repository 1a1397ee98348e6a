/* The partition numbers this `run` instance owns. Each holds one engine
 * fed by two co-partitioned topic partitions (chat N and order N), the
 * messages fetched but not yet offered, and the offsets its checkpoint
 * covers.
 *
 * Why messages wait here: the engine has one event time per partition
 * number, so if the chat log were read far ahead of the order log, every
 * order event would arrive "late". Like a Kafka Streams task, the slot
 * offers whichever topic's head has the smaller timestamp and waits for
 * the other topic unless that one has reached the end of its log. */
#ifndef CSM_PARTITION_SET_H
#define CSM_PARTITION_SET_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "bytebuf.h"
#include "ckpt_batch.h"
#include "ckpt_store.h"
#include "codec.h"
#include "engine.h"
#include "event_slot.h"
#include "run_telemetry.h"

/* A FIFO of fetched messages (owned: destroyed on pop/clear). */
typedef struct csm_msgq {
    rd_kafka_message_t **v;
    size_t head, len, cap;
} csm_msgq;

void csm_msgq_push(csm_msgq *q, rd_kafka_message_t *m);
rd_kafka_message_t *csm_msgq_peek(const csm_msgq *q);
void csm_msgq_pop(csm_msgq *q); /* destroys the head */
void csm_msgq_clear(csm_msgq *q);
void csm_msgq_free(csm_msgq *q);

/* One topic's partition inside a slot (index = csm_stream). */
typedef struct csm_tp {
    int assigned;
    csm_msgq q;
    int64_t next;    /* next offset to offer; what the checkpoint stores */
    int64_t fetched; /* next offset expected from the fetcher; -1 unknown */
    int eof;         /* the fetcher reached the end of the log at `fetched` */
    int paused;      /* what librdkafka was last told */
    int backlog;     /* q is over its high mark: fetching stops */
    int head_ready;  /* head decoded (or refused) below */
    int head_bad;    /* undecodable: dead letter without an offer */
    int head_code;   /* csm_codec_decode's result (CSM_DECODE_…) */
    /* The head names a writer schema id not known yet: the slot waits
     * (paused) until the run loop has fetched it (run_schemas.c). */
    int needs_schema;
    int32_t schema_id;
    int head_refused; /* decoded, but csm_engine_precheck() refused it */
    char head_reason[256];
    csm_event_slot head;
} csm_tp;

typedef struct csm_pslot {
    int32_t partition;
    csm_engine *engine; /* NULL until the checkpoint is loaded */
    uint64_t seq;       /* checkpoint sequence the next flush expects */
    /* The offsets the checkpoint in Redis holds, when known (loaded, or
     * written by our last flush): a flush leaves them out when unchanged. */
    int stored_known;
    int64_t stored_next[2];
    csm_tp tp[2];
    int dirty;             /* changed since the last successful flush */
    int64_t last_msg_ms;   /* monotonic ms of the last offered event */
    csm_ts w_last;         /* event time after that event */
    int64_t last_idle_ms;  /* last idle advance (monotonic ms) */
    int64_t wait_since_ms; /* merge waiting for the other topic since; 0 not */
    int wait_logged;       /* that wait was reported (cmd_run.c) */
    csm_ckpt_batch batch;  /* what the next flush writes of the state; reused */
    /* Alerts topic (run_alerts.c): highest alert seq written to Redis,
     * highest handed to the producer, and a pause after a failure. */
    uint64_t alerts_committed, alerts_sent;
    int64_t alerts_hold_until_ms;
    char ckpt_key[256];
    csm_ckpt_keys ckpt_keys; /* the checkpoint's other keys */
    csm_tel_seen tel;        /* the engine's counts already in /metrics */
} csm_pslot;

typedef struct csm_pset {
    csm_pslot **by_part; /* indexed by partition number */
    size_t cap;
    size_t n;
} csm_pset;

csm_pslot *csm_pset_get(const csm_pset *ps, int32_t partition);
/* A new empty slot (engine NULL, offsets "from the beginning"). */
csm_pslot *csm_pset_add(csm_pset *ps, int32_t partition);
/* Frees the slot's engine and held messages. */
void csm_pset_remove(csm_pset *ps, int32_t partition);
void csm_pset_free(csm_pset *ps);

/* Visits the owned slots: for (i = 0; i < ps->cap; i++) if (ps->by_part[i]). */
#define CSM_PSET_FOREACH(ps, s)                                                                    \
    for (size_t s##_i = 0; s##_i < (ps)->cap; s##_i++)                                             \
        for (csm_pslot *s = (ps)->by_part[s##_i]; s; s = NULL)

/* Drops every held message and the decoded heads (after a seek). */
void csm_pslot_clear_queues(csm_pslot *s);

/* Which topic's head to offer next (CSM_STREAM_CHAT/ORDER), or -1 to wait.
 * A head whose writer schema is not known yet makes the slot wait
 * (tp[t].needs_schema, tp[t].schema_id): the merge cannot order it.
 * Decodes heads as needed; a head that does not decode (tp[t].head_bad)
 * or that the engine's pre-checks refuse (tp[t].head_refused; offering it
 * dead-letters it) is returned at once, reason in head_reason: it has no
 * believable timestamp to order the merge by. A head waits, without limit,
 * while the other topic is assigned, empty here and not at its end
 * (s->wait_since_ms says since when, @p now_ms being the clock). */
int csm_pslot_pick(csm_pslot *s, csm_codec *codec, csm_framing framing, int64_t now_ms);

/* Whether a head of the slot waits for a writer schema. */
int csm_pslot_needs_schema(const csm_pslot *s);

/* Removes the head of tp[t] after it was offered or dead-lettered. */
void csm_pslot_consume_head(csm_pslot *s, int t);

#endif
