/* `csmetrics produce`: the events of files, as Avro, to the topics — the
 * way the platform's producers would send them. A JSON Lines record of the
 * form {"stream": "chat", "raw_hex": "00…", "key": "s1:c1"} is sent as
 * those bytes unchanged, to exercise the dead-letter path. A stream given
 * a writer schema (--writer-schema-chat) has its lines encoded from their
 * JSON with that schema: they may carry fields and symbols ours lacks, as
 * a producer with a newer schema sends them. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "codec.h"
#include "producer.h"
#include "writer_opts.h"

typedef struct produce {
    csm_event_producer *p;
    const csm_writer_opts *w;
    long sent, raw, bad;
} produce;

static int hex_value(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static void send_raw(produce *pr, json_t *o, const char *hex)
{
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
}

/* The stream a line's "stream" names, or -1. */
static int stream_of(json_t *o)
{
    const char *stream = json_string_value(json_object_get(o, "stream"));
    return !stream                    ? -1
           : !strcmp(stream, "chat")  ? CSM_STREAM_CHAT
           : !strcmp(stream, "order") ? CSM_STREAM_ORDER
                                      : -1;
}

static void not_sent(produce *pr, long index, const char *reason)
{
    fprintf(stderr, "csmetrics produce: record %ld not sent: %s\n", index + 1, reason);
    pr->bad++;
}

/* A line that is not an event of our schema: a raw record, a line of a
 * stream with a writer schema, or a bad line. */
static void send_line(produce *pr, long index, const char *reason, const void *raw, size_t len)
{
    json_t *o = raw ? json_loadb(raw, len, 0, NULL) : NULL;
    const char *hex = json_string_value(json_object_get(o, "raw_hex"));
    int s = stream_of(o);
    char why[512];
    if (hex)
        send_raw(pr, o, hex);
    else if (s >= 0 && pr->w->writer[s]) {
        if (csm_event_producer_send_json(pr->p, (csm_stream)s, raw, len, why, sizeof why))
            not_sent(pr, index, why);
        else
            pr->sent++;
    } else
        not_sent(pr, index, reason);
    json_decref(o);
}

static int on_record(void *arg, long index, int ok, const csm_event_slot *ev, const char *reason,
                     const void *raw, size_t raw_len)
{
    produce *pr = arg;
    if (ok && !pr->w->writer[ev->ev.stream]) {
        if (csm_event_producer_send(pr->p, &ev->ev) == 0)
            pr->sent++;
        else
            pr->bad++;
    } else {
        send_line(pr, index, reason, raw, raw_len);
    }
    return 0;
}

/* A container file carries the schema it was written with. */
static int refuses_container(const csm_writer_opts *w, const char *path)
{
    size_t n = strlen(path);
    if (!(w->file[0] || w->file[1]) || n < 5 || strcmp(path + n - 5, ".avro"))
        return 0;
    fprintf(stderr,
            "csmetrics produce: %s: --writer-schema-chat/--writer-schema-order take JSON Lines "
            "only (an .avro container file is written with its own schema)\n",
            path);
    return 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: csmetrics produce [-c FILE] [--brokers LIST] [--framing "
                    "confluent|plain]\n         " CSM_WRITER_OPTS_USAGE " FILE...\n");
}

int csm_cmd_produce(int argc, char **argv)
{
    csm_cli_common o = {0};
    csm_writer_opts wo;
    csm_writer_opts_init(&wo);
    const char *framing = NULL, *files[64];
    int n_files = 0;
    for (int i = 1; i < argc; i++) {
        int c = csm_cli_common_arg(&o, argc, argv, &i);
        if (!c)
            c = csm_writer_opts_arg(&wo, "produce", argc, argv, &i);
        if (c < 0)
            return 2;
        if (c)
            continue;
        if (!strcmp(argv[i], "--framing") && i + 1 < argc)
            framing = argv[++i];
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
    for (int f = 0; f < n_files; f++)
        if (refuses_container(&wo, files[f]))
            return 2;
    csm_config cfg;
    if (csm_cli_load_config(&o, &cfg))
        return 2;
    int32_t ids[2];
    int rc = 2;
    if (csm_writer_opts_resolve(&wo, "produce", &cfg, framing && !strcmp(framing, "plain"), ids))
        goto out;
    for (int s = 0; s < 2; s++)
        if (framing && !strcmp(framing, "confluent") && ids[s] < 0) {
            fprintf(stderr,
                    "csmetrics produce: --framing confluent needs a schema id (config "
                    "kafka.schema_ids or --schema-id-%s)\n",
                    s ? "order" : "chat");
            goto out;
        }
    char err[512];
    rc = 1;
    produce pr = {.w = &wo};
    csm_codec *codec = csm_codec_new(cfg.schema_dir, err, sizeof err);
    if (!codec || !(pr.p = csm_event_producer_new(&cfg, codec, ids[0], ids[1], err, sizeof err))) {
        fprintf(stderr, "csmetrics produce: %s\n", err);
        goto done;
    }
    for (int s = 0; s < 2; s++)
        csm_event_producer_set_writer(pr.p, (csm_stream)s, wo.writer[s]);
    for (int f = 0; f < n_files; f++)
        if (csm_codec_read_file(codec, files[f], on_record, &pr, err, sizeof err)) {
            fprintf(stderr, "csmetrics produce: %s: %s\n", files[f], err);
            goto done;
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
done:
    csm_event_producer_free(pr.p);
    csm_codec_free(codec);
out:
    csm_writer_opts_free(&wo);
    csm_config_free(&cfg);
    return rc;
}
