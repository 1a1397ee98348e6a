/* decode_bench: the decoders alone, over the events of a file, for
 * callgrind (tests/tools/decode_bench.sh divides the instructions of
 * decode_all() by the events it decoded, printed here). A benchmark, not
 * a test.
 *
 *   decode_bench EVENTS.jsonl WORK_DIR {avro|writer|json|container} [REPEAT=1]
 *
 * The events of EVENTS.jsonl (made by `csmetrics gen --out`) are decoded
 * once to be encoded as Kafka messages would be (Confluent framing, schema
 * ids 1 chat and 2 order) and written to WORK_DIR/chat.avro and
 * WORK_DIR/order.avro (Avro container files, one per stream); then the
 * chosen decoder runs REPEAT times over all of them:
 *   avro       csm_codec_decode() of each message, as `run` does
 *   writer     the same, the chat messages written with another writer
 *              schema (the file $CSM_BENCH_WRITER, schema id 21, through
 *              csm_json_avro) and read through schema resolution
 *   json       csm_json_decode_line() of each line, as `replay` does
 *   container  csm_codec_read_file() of both container files (`replay`)
 * and the tool prints how many events it decoded. */
#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "json_avro.h"

typedef struct input {
    char **lines;
    size_t *line_len;
    unsigned char **msgs;
    size_t *msg_len;
    csm_stream *stream;
    size_t n, cap;
} input;

static void die(const char *what, const char *why)
{
    fprintf(stderr, "decode_bench: %s: %s\n", what, why);
    exit(2);
}

static void grow(input *in)
{
    if (in->n < in->cap)
        return;
    in->cap = in->cap ? 2 * in->cap : 1024;
    in->lines = realloc(in->lines, in->cap * sizeof *in->lines);
    in->line_len = realloc(in->line_len, in->cap * sizeof *in->line_len);
    in->msgs = realloc(in->msgs, in->cap * sizeof *in->msgs);
    in->msg_len = realloc(in->msg_len, in->cap * sizeof *in->msg_len);
    in->stream = realloc(in->stream, in->cap * sizeof *in->stream);
    if (!in->lines || !in->line_len || !in->msgs || !in->msg_len || !in->stream)
        die("memory", "out of memory");
}

static avro_file_writer_t container(const char *dir, const char *schema_dir, const char *schema,
                                    const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", schema_dir, schema);
    size_t len = 0;
    char *json = csm_slurp(path, &len);
    avro_schema_t s;
    if (!json || avro_schema_from_json_length(json, len, &s))
        die(path, "cannot read the schema");
    free(json);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    remove(path);
    avro_file_writer_t w;
    if (avro_file_writer_create(path, s, &w))
        die(path, avro_strerror());
    avro_schema_decref(s);
    return w;
}

/* Every event of @p path, as a line and as a message; the messages also
 * go, unframed, into the two container files. */
/* The chat event in @p slot as a message of the writer schema @p w, id 21. */
static long encode_as_writer(csm_json_avro *w, const csm_event *ev, unsigned char *buf, size_t cap)
{
    char json[8192], err[512];
    long n = csm_json_encode(ev, json, sizeof json);
    if (n < 0)
        die("event", "cannot be written as JSON");
    n = csm_json_avro_encode(w, json, (size_t)n, 21, buf, cap, err, sizeof err);
    if (n < 0)
        die("writer schema", err);
    return n;
}

static void load(csm_codec *c, const char *path, const char *dir, const char *schema_dir,
                 csm_json_avro *writer, input *in)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die(path, "cannot open");
    avro_file_writer_t w[2] = {container(dir, schema_dir, "chat_event.avsc", "chat.avro"),
                               container(dir, schema_dir, "order_event.avsc", "order.avro")};
    static csm_event_slot slot;
    char *line = NULL, err[512];
    size_t cap = 0;
    ssize_t len;
    unsigned char buf[8192];
    while ((len = getline(&line, &cap, f)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (!len || csm_json_decode_line(line, (size_t)len, &slot, err, sizeof err))
            continue;
        long n = csm_codec_encode(c, &slot.ev, slot.ev.stream == CSM_STREAM_CHAT ? 1 : 2, buf,
                                  sizeof buf);
        if (n < 5 || avro_file_writer_append_encoded(w[slot.ev.stream], buf + 5, n - 5))
            die(path, "cannot encode an event");
        if (writer && slot.ev.stream == CSM_STREAM_CHAT)
            n = encode_as_writer(writer, &slot.ev, buf, sizeof buf);
        grow(in);
        in->lines[in->n] = strdup(line);
        in->line_len[in->n] = (size_t)len;
        in->msgs[in->n] = malloc((size_t)n);
        memcpy(in->msgs[in->n], buf, (size_t)n);
        in->msg_len[in->n] = (size_t)n;
        in->stream[in->n++] = slot.ev.stream;
    }
    free(line);
    fclose(f);
    avro_file_writer_close(w[0]);
    avro_file_writer_close(w[1]);
}

static int count_record(void *arg, long index, int ok, const csm_event_slot *ev, const char *reason,
                        const void *raw, size_t raw_len)
{
    ((long *)arg)[ok ? 0 : 1]++;
    return 0;
}

/* What callgrind measures (--toggle-collect=decode_all): one pass of the
 * chosen decoder over every event. */
__attribute__((noinline)) static void decode_all(csm_codec *c, const input *in, const char *mode,
                                                 const char *dir, long counts[2])
{
    static csm_event_slot slot;
    char err[512];
    if (!strcmp(mode, "avro") || !strcmp(mode, "writer")) {
        for (size_t i = 0; i < in->n; i++)
            counts[csm_codec_decode(c, in->stream[i], CSM_FRAMING_AUTO, in->msgs[i], in->msg_len[i],
                                    &slot, err, sizeof err)
                       ? 1
                       : 0]++;
    } else if (!strcmp(mode, "json")) {
        for (size_t i = 0; i < in->n; i++)
            counts[csm_json_decode_line(in->lines[i], in->line_len[i], &slot, err, sizeof err)
                       ? 1
                       : 0]++;
    } else if (!strcmp(mode, "container")) {
        const char *names[2] = {"chat.avro", "order.avro"};
        for (int s = 0; s < 2; s++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, names[s]);
            if (csm_codec_read_file(c, path, count_record, counts, err, sizeof err))
                die(path, err);
        }
    } else {
        die(mode, "not avro, writer, json or container");
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: decode_bench EVENTS.jsonl WORK_DIR {avro|writer|json|container} "
                        "[REPEAT=1]\n");
        return 2;
    }
    const char *schema_dir = getenv("CSM_SCHEMA_DIR") ? getenv("CSM_SCHEMA_DIR") : "schemas";
    const char *mode = argv[3];
    int repeat = argc > 4 ? atoi(argv[4]) : 1;
    char err[512];
    csm_codec *c = csm_codec_new(schema_dir, err, sizeof err);
    if (!c)
        die("codec", err);
    csm_codec_map_schema_id(c, 1, CSM_STREAM_CHAT);
    csm_codec_map_schema_id(c, 2, CSM_STREAM_ORDER);
    csm_json_avro *writer = NULL;
    if (!strcmp(mode, "writer")) {
        const char *file = getenv("CSM_BENCH_WRITER");
        size_t len = 0;
        char *json = file ? csm_slurp(file, &len) : NULL;
        if (!json || !(writer = csm_json_avro_new(json, len, err, sizeof err)) ||
            csm_codec_add_writer_schema(c, 21, json, len, err, sizeof err))
            die("CSM_BENCH_WRITER", json ? err : "names no readable file");
        free(json);
    }
    input in = {0};
    load(c, argv[1], argv[2], schema_dir, writer, &in);

    long counts[2] = {0, 0}; /* decoded, refused */
    for (int r = 0; r < repeat; r++)
        decode_all(c, &in, mode, argv[2], counts);
    printf("%s: %ld events decoded, %ld refused\n", mode, counts[0], counts[1]);
    for (size_t i = 0; i < in.n; i++) {
        free(in.lines[i]);
        free(in.msgs[i]);
    }
    free(in.lines);
    free(in.line_len);
    free(in.msgs);
    free(in.msg_len);
    free(in.stream);
    csm_json_avro_free(writer);
    csm_codec_free(c);
    return counts[1] ? 1 : 0;
}
