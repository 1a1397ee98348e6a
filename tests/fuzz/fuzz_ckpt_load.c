/* libFuzzer: loading a checkpoint's records (csm_engine_ckpt_load) into a
 * fresh engine of the default chain, as `run` does with what it reads
 * from Redis after an assignment. The input is the stored fields
 * (ckpt_frame.h). The plugins are the .so files of this build tree
 * (CSM_PLUGIN_PATH or the build's plugin directory).
 *
 * What must hold: the load either refuses with a reason, or succeeds;
 * a loaded engine saves again, and the store with that save applied
 * loads into another fresh engine (what the next owner would read). */
#include <stdint.h>
#include <string.h>

#include "chain.h"
#include "ckpt_frame.h"
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
    (void)argc;
    (void)argv;
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

/* 0 or -2 (refused, with a reason): an in-memory store never fails to
 * be read, so -1 would be a loader bug. */
static int load(csm_engine *e, csm_ckpt_mem *m)
{
    char err[512] = "";
    csm_ckpt_source src = csm_ckpt_mem_source(m);
    int rc = csm_engine_ckpt_load(e, &src, "the fuzz input", err, sizeof err);
    /* Triage of a crash file: which load refused, and why. */
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "load: rc %d: %s\n", rc, err);
    FUZZ_REQUIRE(rc == 0 || rc == -2, "a readable store loads or is refused");
    FUZZ_REQUIRE(rc == 0 || (err[0] != 0 && memchr(err, 0, sizeof err)),
                 "a refusal carries a reason");
    return rc;
}

static void check_saves_and_loads_again(csm_engine *e, csm_ckpt_mem *m, csm_ckpt_batch *b)
{
    char err[512];
    csm_ckpt_batch_reset(b);
    FUZZ_REQUIRE(csm_engine_ckpt_build(e, b, err, sizeof err) == 0, "a loaded engine saves");
    csm_ckpt_mem_apply(m, b);
    csm_engine *again = fresh_engine();
    FUZZ_REQUIRE(load(again, m) == 0, "a loaded checkpoint, saved again, loads");
    csm_engine_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    csm_ckpt_batch b = {0};
    csm_ckpt_mem *m = csm_ckpt_mem_new();
    ckpt_frame_parse(data, size, &b);
    csm_ckpt_mem_apply(m, &b);
    csm_engine *e = fresh_engine();
    if (load(e, m) == 0)
        check_saves_and_loads_again(e, m, &b);
    csm_engine_free(e);
    csm_ckpt_mem_free(m);
    csm_ckpt_batch_free(&b);
    return 0;
}
