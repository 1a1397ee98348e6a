/* A plugin that saves entries but cannot load them (ABI 1.2): the host
 * must refuse it rather than lose its state at the first restart. */
#include "csmetrics/plugin.h"

static int save_entry(void *ctx, csm_host *h, uint64_t key, csm_writer *w)
{
    (void)ctx;
    (void)h;
    (void)key;
    (void)w;
    return 1;
}

static const csm_plugin half_state = {
    .struct_size = sizeof(csm_plugin),
    .abi_major = CSM_PLUGIN_ABI_MAJOR,
    .abi_minor = CSM_PLUGIN_ABI_MINOR,
    .name = "half_state",
    .description = "save_entry without load_entry",
    .version = "1",
    .save_entry = save_entry,
};

CSM_PLUGIN_DEFINE(half_state)
