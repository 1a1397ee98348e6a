/* `csmetrics produce`: the events of files, as Avro, to the topics — the
 * way the platform's producers would send them. A JSON Lines record of the
 * form {"stream": "chat", "raw_hex": "00…", "key": "s1:c1"} is sent as
 * those bytes unchanged, to exercise the dead-letter path. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "codec.h"
#include "producer.h"

typedef struct produce {
    csm_event_producer *p;
    long sent, raw, bad;
} produce;

static int hex_value(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* 1 if the line was a raw record (sent or not), 0 if it is not one. */
static int send_raw(produce *pr, const void *raw, size_t len)
{
    json_t *o = raw ? json_loadb(raw, len, 0, NULL) : NULL;
    const char *hex = json_string_value(json_object_get(o, "raw_hex"));
    if (!hex) {
        json_decref(o);
        return 0;
    }
    const char *stream = json_string_value(json_object_get(o, "stream"));
    const char *key = json_string_value(json_object_get(o, "key"));
    size_t n = strlen(hex) / 2;
    unsigned char *bytes = malloc(n + 1);
    int ok =
        strlen(hex) % 2 == 0 && stream && (!strcmp(stream, "chat") || !strcmp(stream, "order"));
    for (size_t i = 0; ok && i < n; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        ok = hi >= 0 && lo >= 0;
        bytes[i] = (unsigned char)(hi << 4 | lo);
    }
    if (ok && csm_event_producer_send_raw(
                  pr->p, strcmp(stream, "order") ? CSM_STREAM_CHAT : CSM_STREAM_ORDER, key, bytes,
                  n) == 0)
        pr->raw++;
    else
        pr->bad++;
    free(bytes);
    json_decref(o);
    return 1;
}

static int on_record(void *arg, long index, int ok, const csm_event_slot *ev, const char *reason,
                     const void *raw, size_t raw_len)
{
    produce *pr = arg;
    if (ok) {
        if (csm_event_producer_send(pr->p, &ev->ev) == 0)
            pr->sent++;
        else
            pr->bad++;
    } else if (!send_raw(pr, raw, raw_len)) {
        fprintf(stderr, "csmetrics produce: record %ld not sent: %s\n", index + 1, reason);
        pr->bad++;
    }
    return 0;
}

static int first_schema_id(const csm_config *cfg, csm_stream s)
{
    for (size_t i = 0; i < cfg->n_schema_ids; i++)
        if (cfg->schema_streams[i] == s)
            return cfg->schema_ids[i];
    return -1;
}

static void usage(void)
{
    fprintf(stderr, "usage: csmetrics produce [-c FILE] [--brokers LIST] [--framing "
                    "confluent|plain] [--schema-id-chat N] [--schema-id-order N] FILE...\n");
}

int csm_cmd_produce(int argc, char **argv)
{
    csm_cli_common o = {0};
    const char *framing = NULL, *files[64];
    int n_files = 0;
    long ids[2] = {-2, -2};
    for (int i = 1; i < argc; i++) {
        int c = csm_cli_common_arg(&o, argc, argv, &i);
        if (c < 0)
            return 2;
        if (c)
            continue;
        if (!strcmp(argv[i], "--framing") && i + 1 < argc)
            framing = argv[++i];
        else if (!strcmp(argv[i], "--schema-id-chat") && i + 1 < argc)
            ids[0] = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--schema-id-order") && i + 1 < argc)
            ids[1] = strtol(argv[++i], NULL, 10);
        else if (argv[i][0] == '-' && argv[i][1]) {
            usage();
            return 2;
        } else if (n_files < 64)
            files[n_files++] = argv[i];
    }
    if (!n_files || (framing && strcmp(framing, "confluent") && strcmp(framing, "plain"))) {
        usage();
        return 2;
    }
    csm_config cfg;
    if (csm_cli_load_config(&o, &cfg))
        return 2;
    for (int s = 0; s < 2; s++) {
        if (ids[s] == -2)
            ids[s] = first_schema_id(&cfg, (csm_stream)s);
        if (framing && !strcmp(framing, "plain"))
            ids[s] = -1;
        else if (framing && ids[s] < 0) {
            fprintf(stderr,
                    "csmetrics produce: --framing confluent needs a schema id (config "
                    "kafka.schema_ids or --schema-id-%s)\n",
                    s ? "order" : "chat");
            csm_config_free(&cfg);
            return 2;
        }
    }
    char err[512];
    int rc = 1;
    produce pr = {0};
    csm_codec *codec = csm_codec_new(cfg.schema_dir, err, sizeof err);
    if (!codec || !(pr.p = csm_event_producer_new(&cfg, codec, (int32_t)ids[0], (int32_t)ids[1],
                                                  err, sizeof err))) {
        fprintf(stderr, "csmetrics produce: %s\n", err);
        goto out;
    }
    for (int f = 0; f < n_files; f++)
        if (csm_codec_read_file(codec, files[f], on_record, &pr, err, sizeof err)) {
            fprintf(stderr, "csmetrics produce: %s: %s\n", files[f], err);
            goto out;
        }
    long failed = csm_event_producer_finish(pr.p, 60000);
    uint64_t chat = csm_event_producer_delivered(pr.p, CSM_STREAM_CHAT),
             order = csm_event_producer_delivered(pr.p, CSM_STREAM_ORDER);
    printf("produced %llu events (chat %llu, order %llu)", (unsigned long long)(chat + order),
           (unsigned long long)chat, (unsigned long long)order);
    if (pr.raw)
        printf("; %ld of them raw records", pr.raw);
    if (failed || pr.bad)
        printf("; %ld not delivered", failed + pr.bad);
    printf("\n");
    rc = failed || pr.bad ? 1 : 0;
out:
    csm_event_producer_free(pr.p);
    csm_codec_free(codec);
    csm_config_free(&cfg);
    return rc;
}
