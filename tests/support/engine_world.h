/* What an engine needs around it, for unit tests that drive csm_engine
 * directly rather than through the test kit: the configuration, the
 * plugin chain and shop time. Include after <cmocka.h>. */
#ifndef CSM_TEST_ENGINE_WORLD_H
#define CSM_TEST_ENGINE_WORLD_H

#include "chain.h"
#include "config.h"
#include "shoptime.h"

typedef struct world {
    csm_config cfg;
    csm_chain *chain;
    csm_shoptime *st;
} world;

static void world_open(world *w, const char *config_yaml)
{
    char err[512];
    assert_int_equal(csm_config_load_string(config_yaml, &w->cfg, err, sizeof err), 0);
    w->chain = csm_chain_load(&w->cfg, err, sizeof err);
    assert_non_null(w->chain);
    w->st = csm_shoptime_new(&w->cfg, err, sizeof err);
    assert_non_null(w->st);
}

static void world_close(world *w)
{
    csm_shoptime_free(w->st);
    csm_chain_free(w->chain);
    csm_config_free(&w->cfg);
}

#endif
