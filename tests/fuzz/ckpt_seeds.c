/* Writes real checkpoints for fuzz_ckpt_load's seed corpus: feeds a JSON
 * Lines file to an engine of the default chain, saves its checkpoint into
 * an in-memory store after every @p every accepted events (as a flush
 * would) and writes the store's fields (ckpt_frame.h) to
 * OUTDIR/<stem>-<n>.ckpt each time, then once at the end.
 *
 *   ckpt_seeds FILE.jsonl OUTDIR STEM EVERY */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "ckpt_frame.h"
#include "engine.h"
#include "fuzz_common.h"
#include "shoptime.h"

typedef struct seeds {
    csm_engine *e;
    csm_ckpt_mem *store;
    csm_ckpt_batch batch;
    const char *dir, *stem;
    int n;
} seeds;

static int save(seeds *s)
{
    char path[4096], err[512];
    if (csm_engine_ckpt_build(s->e, &s->batch, err, sizeof err)) {
        fprintf(stderr, "ckpt_seeds: checkpoint: %s\n", err);
        return -1;
    }
    csm_ckpt_mem_apply(s->store, &s->batch);
    csm_engine_ckpt_committed(s->e);
    snprintf(path, sizeof path, "%s/%s-%d.ckpt", s->dir, s->stem, s->n++);
    FILE *f = fopen(path, "wb");
    int rc = f && ckpt_frame_write(s->store, f) == 0 ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc)
        fprintf(stderr, "ckpt_seeds: cannot write %s\n", path);
    return rc;
}

static int feed_file(seeds *s, FILE *in, long every)
{
    static csm_event_slot slot;
    char line[8192], reason[512];
    long accepted = 0;
    while (fgets(line, sizeof line, in)) {
        size_t len = strcspn(line, "\r\n");
        if (len == 0 || line[0] == '#' ||
            csm_json_decode_line(line, len, &slot, reason, sizeof reason) != 0)
            continue;
        if (csm_engine_offer(s->e, &slot.ev, reason, sizeof reason) == CSM_VERDICT_ACCEPTED &&
            ++accepted % every == 0 && save(s) != 0)
            return -1;
    }
    return save(s);
}

int main(int argc, char **argv)
{
    if (argc != 5 || atol(argv[4]) < 1) {
        fprintf(stderr, "usage: ckpt_seeds FILE.jsonl OUTDIR STEM EVERY\n");
        return 2;
    }
    csm_config cfg;
    char err[512];
    fuzz_default_config(&cfg);
    csm_chain *chain = csm_chain_load(&cfg, err, sizeof err);
    csm_shoptime *st = chain ? csm_shoptime_new(&cfg, err, sizeof err) : NULL;
    seeds s = {.dir = argv[2], .stem = argv[3], .store = csm_ckpt_mem_new()};
    s.e = st ? csm_engine_new(&cfg, chain, st, 0, err, sizeof err) : NULL;
    FILE *in = s.e ? fopen(argv[1], "r") : NULL;
    int rc = 1;
    if (!s.e)
        fprintf(stderr, "ckpt_seeds: %s\n", err);
    else if (!in)
        fprintf(stderr, "ckpt_seeds: cannot open %s\n", argv[1]);
    else
        rc = feed_file(&s, in, atol(argv[4])) ? 1 : 0;
    if (in)
        fclose(in);
    csm_engine_free(s.e);
    csm_ckpt_mem_free(s.store);
    csm_ckpt_batch_free(&s.batch);
    csm_shoptime_free(st);
    csm_chain_free(chain);
    csm_config_free(&cfg);
    return rc;
}
