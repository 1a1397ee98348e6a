/* csmetrics: one binary, one subcommand per job. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config_check.h"
#include "config_schemas.h"
#include "log.h"

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} command;

static int cmd_config(int argc, char **argv);

static const command commands[] = {
    {"run", csm_cmd_run, "consume Kafka, run the plugin chain, keep the figures in Redis"},
    {"replay", csm_cmd_replay, "run the same chain on a .jsonl or .avro file into Redis"},
    {"report", csm_cmd_report, "print a shop's board for a day (--json: operations.md shape)"},
    {"exporter", csm_cmd_exporter, "serve every shop's board figures to Prometheus (/metrics)"},
    {"broker", csm_cmd_broker, "embedded development broker (librdkafka mock cluster)"},
    {"produce", csm_cmd_produce, "produce the events of a file to the topics, as Avro"},
    {"gen", csm_cmd_gen, "synthetic traffic to Kafka or a file"},
    {"bench", csm_cmd_bench, "the performance figures, on an embedded broker and Redis (JSON)"},
    {"dashboard", csm_cmd_dashboard, "a live web page of every shop's figures and alerts"},
    {"config", cmd_config, "print every key with its default, check a file, list its schemas"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: csmetrics <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nEvery command takes -c FILE, --redis HOST:PORT and --brokers LIST.\n"
                 "`csmetrics <command> --help` describes a command.\n");
}

static int cmd_config(int argc, char **argv)
{
    csm_cli_common o = {0};
    int schemas = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        int r = csm_cli_common_arg(&o, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r == 0 && !strcmp(argv[i], "--schemas")) {
            schemas = 1;
        } else if (r == 0 && !strcmp(argv[i], "--json")) {
            json = 1;
        } else if (r == 0) {
            fprintf(stderr, "usage: csmetrics config [-c FILE [--schemas [--json]]]\n");
            return 2;
        }
    }
    if ((schemas || json) && (!o.config_path || !schemas)) {
        fprintf(stderr, "csmetrics config: --schemas needs -c FILE; --json goes with --schemas\n");
        return 2;
    }
    if (!o.config_path) {
        csm_config_print_reference(stdout);
        return 0;
    }
    csm_config cfg;
    if (csm_cli_load_config(&o, &cfg))
        return 1;
    /* The checks of `run` itself: a file said valid here starts. */
    char err[1024];
    int rc = csm_config_check(&cfg, NULL, err, sizeof err);
    if (!rc && schemas)
        rc = csm_config_schemas(&cfg, json, stdout, err, sizeof err);
    if (rc)
        fprintf(stderr, "csmetrics: %s: %s\n", o.config_path, err);
    else if (!schemas)
        printf("%s: valid\n", o.config_path);
    csm_config_free(&cfg);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("csmetrics %s (plugin ABI %d.%d)\n", CSM_VERSION, CSM_PLUGIN_ABI_MAJOR,
               CSM_PLUGIN_ABI_MINOR);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "csmetrics: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
