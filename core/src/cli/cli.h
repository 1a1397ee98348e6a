/* Subcommands of the one csmetrics binary and the options they share. */
#ifndef CSM_CLI_H
#define CSM_CLI_H

#include "config.h"
#include "csmetrics/plugin.h"

/* -c FILE, --redis HOST:PORT, --brokers LIST: every command takes them. */
typedef struct csm_cli_common {
    const char *config_path;
    const char *redis;
    const char *brokers;
} csm_cli_common;

/* Loads the configuration the common options name (defaults when no
 * file). Prints the error (naming the key) to stderr and returns -1. */
int csm_cli_load_config(const csm_cli_common *o, csm_config *cfg);

/* If argv[*i] is one of the common options, stores its value (advancing
 * *i past it) and returns 1; 0 if it is not one; -1 (message printed)
 * when its value is missing. */
int csm_cli_common_arg(csm_cli_common *o, int argc, char **argv, int *i);

/* Each returns the process exit code. argv[0] is the subcommand name. */
int csm_cmd_run(int argc, char **argv);
int csm_cmd_replay(int argc, char **argv);
int csm_cmd_broker(int argc, char **argv);
int csm_cmd_report(int argc, char **argv);
int csm_cmd_exporter(int argc, char **argv);
int csm_cmd_gen(int argc, char **argv);
int csm_cmd_produce(int argc, char **argv);
int csm_cmd_bench(int argc, char **argv);
int csm_cmd_dashboard(int argc, char **argv);

#endif
