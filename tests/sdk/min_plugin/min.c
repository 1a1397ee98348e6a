/* The smallest plugin built against the installed SDK (tests/sdk): counts
 * every event it sees as "min_events", per shop and day. */
#include <csmetrics/plugin.h>

static void min_on_event(void *ctx, csm_host *h, const csm_event *ev)
{
    (void)ctx;
    csm_count c = {.struct_size = sizeof c,
                   .shop_id = ev->shop_id,
                   .platform = ev->platform,
                   .anchor_ts = ev->ts,
                   .scope = CSM_SCOPE_SHOP,
                   .name = "min_events",
                   .delta = 1};
    csm_emit_count(h, &c);
}

static const csm_plugin min_plugin = {
    .struct_size = sizeof(csm_plugin),
    .abi_major = CSM_PLUGIN_ABI_MAJOR,
    .abi_minor = CSM_PLUGIN_ABI_MINOR,
    .name = "min",
    .description = "counts events (SDK install test)",
    .version = "1",
    .subscribe = CSM_SUBSCRIBE_CHAT | CSM_SUBSCRIBE_ORDER,
    .on_event = min_on_event,
};

const csm_host_api *csm_api;
__attribute__((visibility("default"))) const csm_plugin *csm_plugin_entry(const csm_host_api *api)
{
    if (!api || api->abi_major != CSM_PLUGIN_ABI_MAJOR)
        return NULL;
    csm_api = api;
    return &min_plugin;
}
