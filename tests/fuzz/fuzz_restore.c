/* libFuzzer: checkpoint restore (csm_engine_restore) into a fresh engine
 * of the default chain, as `run` does for a snapshot read from Redis.
 * The plugins are the .so files of this build tree (CSM_PLUGIN_PATH or
 * the build's plugin directory). A snapshot that restores must snapshot
 * again and restore into another fresh engine. */
#include <stdint.h>
#include <string.h>

#include "bytebuf.h"
#include "chain.h"
#include "engine.h"
#include "fuzz_common.h"
#include "log.h"
#include "shoptime.h"

static csm_config cfg;
static csm_chain *chain;
static csm_shoptime *st;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512];
    /* Plugins log every corrupt record they refuse: millions of lines. */
    csm_log_set_level(-1);
    fuzz_default_config(&cfg);
    if (!(chain = csm_chain_load(&cfg, err, sizeof err)) ||
        !(st = csm_shoptime_new(&cfg, err, sizeof err))) {
        fprintf(stderr, "fuzz setup: %s\n", err);
        exit(2);
    }
    return 0;
}

static csm_engine *fresh_engine(void)
{
    char err[512];
    csm_engine *e = csm_engine_new(&cfg, chain, st, 0, err, sizeof err);
    if (!e) {
        fprintf(stderr, "fuzz setup: engine: %s\n", err);
        exit(2);
    }
    return e;
}

static void check_snapshot_restores(csm_engine *e)
{
    csm_writer w = {0};
    char err[512];
    FUZZ_REQUIRE(csm_engine_snapshot(e, &w) == 0, "a restored engine snapshots");
    csm_engine *again = fresh_engine();
    FUZZ_REQUIRE(csm_engine_restore(again, w.data, w.len, err, sizeof err) == 0,
                 "the snapshot of a restored engine restores");
    csm_engine_free(again);
    csm_writer_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    csm_engine *e = fresh_engine();
    err[0] = 0;
    if (csm_engine_restore(e, data, size, err, sizeof err) == 0)
        check_snapshot_restores(e);
    else
        FUZZ_REQUIRE(err[0] != 0 && memchr(err, 0, sizeof err), "a refusal carries a reason");
    csm_engine_free(e);
    return 0;
}
