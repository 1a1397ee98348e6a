/* A plugin built for a future ABI major: the host must refuse it. */
#include "csmetrics/plugin.h"

static const csm_plugin future = {
    .struct_size = sizeof(csm_plugin),
    .abi_major = CSM_PLUGIN_ABI_MAJOR + 1,
    .abi_minor = 0,
    .name = "bad_abi",
};

__attribute__((visibility("default"))) const csm_plugin *csm_plugin_entry(const csm_host_api *api);
const csm_plugin *csm_plugin_entry(const csm_host_api *api)
{
    (void)api;
    return &future;
}
