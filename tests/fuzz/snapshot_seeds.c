/* Writes real engine checkpoints for the restore harness's seed corpus:
 * feeds a JSON Lines file to an engine of the default chain and writes
 * csm_engine_snapshot() after every @p every accepted events, then once
 * at the end, as OUTDIR/<stem>-<n>.snap.
 *
 *   snapshot_seeds FILE.jsonl OUTDIR STEM EVERY */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytebuf.h"
#include "chain.h"
#include "engine.h"
#include "fuzz_common.h"
#include "shoptime.h"

static int write_snapshot(csm_engine *e, const char *dir, const char *stem, int n)
{
    char path[4096];
    csm_writer w = {0};
    snprintf(path, sizeof path, "%s/%s-%d.snap", dir, stem, n);
    FILE *f = fopen(path, "wb");
    int rc = f && csm_engine_snapshot(e, &w) == 0 && fwrite(w.data, 1, w.len, f) == w.len ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    csm_writer_free(&w);
    if (rc)
        fprintf(stderr, "snapshot_seeds: cannot write %s\n", path);
    return rc;
}

static int feed_file(csm_engine *e, FILE *in, const char *dir, const char *stem, long every)
{
    static csm_event_slot slot;
    char line[8192], reason[512];
    long accepted = 0;
    int n = 0;
    while (fgets(line, sizeof line, in)) {
        size_t len = strcspn(line, "\r\n");
        if (len == 0 || line[0] == '#' ||
            csm_json_decode_line(line, len, &slot, reason, sizeof reason) != 0)
            continue;
        if (csm_engine_offer(e, &slot.ev, reason, sizeof reason) == CSM_VERDICT_ACCEPTED &&
            ++accepted % every == 0 && write_snapshot(e, dir, stem, n++) != 0)
            return -1;
    }
    return write_snapshot(e, dir, stem, n);
}

int main(int argc, char **argv)
{
    if (argc != 5 || atol(argv[4]) < 1) {
        fprintf(stderr, "usage: snapshot_seeds FILE.jsonl OUTDIR STEM EVERY\n");
        return 2;
    }
    csm_config cfg;
    char err[512];
    fuzz_default_config(&cfg);
    csm_chain *chain = csm_chain_load(&cfg, err, sizeof err);
    csm_shoptime *st = chain ? csm_shoptime_new(&cfg, err, sizeof err) : NULL;
    csm_engine *e = st ? csm_engine_new(&cfg, chain, st, 0, err, sizeof err) : NULL;
    FILE *in = e ? fopen(argv[1], "r") : NULL;
    int rc = 1;
    if (!e)
        fprintf(stderr, "snapshot_seeds: %s\n", err);
    else if (!in)
        fprintf(stderr, "snapshot_seeds: cannot open %s\n", argv[1]);
    else
        rc = feed_file(e, in, argv[2], argv[3], atol(argv[4])) ? 1 : 0;
    if (in)
        fclose(in);
    csm_engine_free(e);
    csm_shoptime_free(st);
    csm_chain_free(chain);
    csm_config_free(&cfg);
    return rc;
}
