/* A plugin the core has never heard of, declaring its figures (ABI 1.3):
 * every LOGISTICS_UPDATE counts "parcel_updates" (board, all-day and
 * hourly), those whose status is "STALLED" count "parcel_stalls", and the
 * declared rate "parcel_stall_rate" = parcel_stalls / parcel_updates has a
 * target of at most 10 %. The report lists all three, in a section
 * "logistics", with no change to the core. Not installed. */
#include <string.h>

#include "csmetrics/plugin.h"

static void count(csm_host *h, const csm_event *ev, const char *name, uint32_t flags)
{
    csm_count c = {.struct_size = sizeof c,
                   .shop_id = ev->shop_id,
                   .platform = ev->platform,
                   .anchor_ts = ev->ts,
                   .scope = CSM_SCOPE_SHOP,
                   .name = name,
                   .flags = flags,
                   .delta = 1};
    csm_emit_count(h, &c);
}

static void parcels_on_event(void *ctx, csm_host *h, const csm_event *ev)
{
    (void)ctx;
    if (ev->stream != CSM_STREAM_ORDER || ev->order.type != CSM_ORDER_LOGISTICS_UPDATE)
        return;
    count(h, ev, "parcel_updates", CSM_COUNT_HOURLY);
    if (ev->order.logistics_status && !strcmp(ev->order.logistics_status, "STALLED"))
        count(h, ev, "parcel_stalls", 0);
}

static const csm_figure_decl figures[] = {
    CSM_FIGURE(.name = "parcel_updates", .label = "parcel updates", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD | CSM_FIGURE_HOURLY,
               .group = "logistics"),
    CSM_FIGURE(.name = "parcel_stalls", .label = "parcels stalled", .unit = "count",
               .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD, .group = "logistics"),
    CSM_FIGURE(.name = "parcel_stall_rate", .label = "stalled", .unit = "ratio",
               .kind = CSM_FIGURE_RATE, .num = "parcel_stalls", .den = "parcel_updates",
               .group = "logistics", .target = 0.1, .target_dir = CSM_TARGET_AT_MOST),
    {0},
};

static const csm_plugin parcels = {
    .struct_size = sizeof(csm_plugin),
    .abi_major = CSM_PLUGIN_ABI_MAJOR,
    .abi_minor = CSM_PLUGIN_ABI_MINOR,
    .name = "parcels",
    .description = "logistics updates and stalls, declared as figures",
    .version = "1",
    .subscribe = CSM_SUBSCRIBE_ORDER,
    .on_event = parcels_on_event,
    .figures = figures,
};

CSM_PLUGIN_DEFINE(parcels)
