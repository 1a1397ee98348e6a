/* A plugin built against ABI 1.0: its descriptor ends before `needs`. The
 * later members are filled anyway, with a need no chain satisfies and a
 * rate of a counter no plugin declares, so a host that read past
 * struct_size would refuse it: the tests see whether it does. */
#include <stddef.h>

#include "csmetrics/plugin.h"

static const char *const trap[] = {"no_such_plugin", NULL};
static const csm_figure_decl trap_figures[] = {
    CSM_FIGURE(.name = "trap_rate", .kind = CSM_FIGURE_RATE, .num = "no_such_counter",
               .den = "no_such_counter"),
    {0},
};

static const csm_plugin old_abi = {
    .struct_size = offsetof(csm_plugin, needs),
    .abi_major = 1,
    .abi_minor = 0,
    .name = "old_abi",
    .description = "a 1.0 descriptor",
    .version = "1",
    .needs = trap,
    .figures = trap_figures,
};

CSM_PLUGIN_DEFINE(old_abi)
