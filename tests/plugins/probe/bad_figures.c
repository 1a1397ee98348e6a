/* A plugin whose declared rate is made of a counter no plugin declares:
 * the chain is refused at start (csm_config_check), naming both. */
#include "csmetrics/plugin.h"

static const csm_figure_decl figures[] = {
    CSM_FIGURE(.name = "orphan_rate", .label = "orphan", .unit = "ratio", .kind = CSM_FIGURE_RATE,
               .num = "no_such_counter", .den = "no_such_counter"),
    {0},
};

static const csm_plugin bad_figures = {
    .struct_size = sizeof(csm_plugin),
    .abi_major = CSM_PLUGIN_ABI_MAJOR,
    .abi_minor = CSM_PLUGIN_ABI_MINOR,
    .name = "bad_figures",
    .description = "declares a rate of nothing",
    .version = "1",
    .figures = figures,
};

CSM_PLUGIN_DEFINE(bad_figures)
