/* A plugin that needs the probe before it in the chain (ABI 1.1). */
#include "csmetrics/plugin.h"

static const char *const needs[] = {"probe", NULL};

static const csm_plugin needy = {
    .struct_size = sizeof(csm_plugin),
    .abi_major = CSM_PLUGIN_ABI_MAJOR,
    .abi_minor = CSM_PLUGIN_ABI_MINOR,
    .name = "needy",
    .description = "declares a need for the probe",
    .version = "1",
    .subscribe = CSM_SUBSCRIBE_DERIVED,
    .needs = needs,
};

CSM_PLUGIN_DEFINE(needy)
