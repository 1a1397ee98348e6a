/* A plugin built against ABI 1.0: its descriptor ends before `needs`. The
 * member is filled anyway, with a need no chain satisfies, so a host that
 * read past struct_size would refuse it: the test sees whether it does. */
#include <stddef.h>

#include "csmetrics/plugin.h"

static const char *const trap[] = {"no_such_plugin", NULL};

static const csm_plugin old_abi = {
    .struct_size = offsetof(csm_plugin, needs),
    .abi_major = 1,
    .abi_minor = 0,
    .name = "old_abi",
    .description = "a 1.0 descriptor",
    .version = "1",
    .needs = trap,
};

CSM_PLUGIN_DEFINE(old_abi)
