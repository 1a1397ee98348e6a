/* The options every command shares. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

int csm_cli_load_config(const csm_cli_common *o, csm_config *cfg)
{
    char err[512];
    if (csm_config_load(o->config_path, cfg, err, sizeof err) != 0) {
        fprintf(stderr, "csmetrics: %s%s%s\n", o->config_path ? o->config_path : "",
                o->config_path ? ": " : "", err);
        return -1;
    }
    if (o->redis && csm_config_set_redis_address(cfg, o->redis, err, sizeof err) != 0) {
        fprintf(stderr, "csmetrics: --redis: %s\n", err);
        csm_config_free(cfg);
        return -1;
    }
    if (o->brokers)
        csm_config_set_brokers(cfg, o->brokers);
    csm_log_set_level(cfg->log_level);
    return 0;
}

int csm_cli_common_arg(csm_cli_common *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    const char **slot = !strcmp(a, "-c") || !strcmp(a, "--config") ? &o->config_path
                        : !strcmp(a, "--redis")                    ? &o->redis
                        : !strcmp(a, "--brokers")                  ? &o->brokers
                                                                   : NULL;
    if (!slot)
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "csmetrics: %s needs a value\n", a);
        return -1;
    }
    *slot = argv[++*i];
    return 1;
}
