/* libFuzzer: one Kafka message value through the decoder of `run`
 * (csm_codec_decode, then the contract check). The first input byte
 * picks the topic's stream (bit 0) and the framing (AUTO, CONFLUENT,
 * PLAIN); the rest is the message value. Confluent schema ids 1 (chat)
 * and 2 (order) are mapped, as in the integration tests; id 3 is a writer
 * schema other than ours (symbols added and dropped, ts an int, a field
 * of its own), resolved to the chat schema and refused on the order
 * topic. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

static csm_codec *codec;

static const char writer_v2[] =
    "{\"type\":\"record\",\"name\":\"ChatEvent\",\"namespace\":\"csmetrics\",\"fields\":["
    "{\"name\":\"event_id\",\"type\":\"string\"},"
    "{\"name\":\"platform\",\"type\":{\"type\":\"enum\",\"name\":\"Platform\","
    "\"symbols\":[\"NEW\",\"DOUYIN\",\"JD\",\"OTHER\"]}},"
    "{\"name\":\"shop_id\",\"type\":\"string\"},{\"name\":\"customer_id\",\"type\":\"string\"},"
    "{\"name\":\"ts\",\"type\":\"int\"},"
    "{\"name\":\"type\",\"type\":{\"type\":\"enum\",\"name\":\"ChatEventType\","
    "\"symbols\":[\"MESSAGE\",\"RATED\",\"ESCALATED\"]}},"
    "{\"name\":\"msg_kind\",\"type\":[\"null\",{\"type\":\"enum\",\"name\":\"MsgKind\","
    "\"symbols\":[\"LIVE_CARD\",\"TEXT\"]}]},"
    "{\"name\":\"stars\",\"type\":[\"null\",\"int\"]},"
    "{\"name\":\"extra\",\"type\":[\"null\",{\"type\":\"map\",\"values\":\"long\"}]}]}";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    csm_config cfg;
    char err[512];
    fuzz_default_config(&cfg);
    codec = csm_codec_new(cfg.schema_dir, err, sizeof err);
    csm_config_free(&cfg);
    if (!codec) {
        fprintf(stderr, "fuzz setup: %s\n", err);
        exit(2);
    }
    csm_codec_map_schema_id(codec, 1, CSM_STREAM_CHAT);
    csm_codec_map_schema_id(codec, 2, CSM_STREAM_ORDER);
    if (csm_codec_add_writer_schema(codec, 3, writer_v2, sizeof writer_v2 - 1, err, sizeof err)) {
        fprintf(stderr, "fuzz setup: writer schema 3: %s\n", err);
        exit(2);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const csm_framing framings[3] = {CSM_FRAMING_AUTO, CSM_FRAMING_CONFLUENT,
                                            CSM_FRAMING_PLAIN};
    static csm_event_slot slot;
    char err[256];
    if (size < 1)
        return 0;
    csm_stream stream = (data[0] & 1) ? CSM_STREAM_ORDER : CSM_STREAM_CHAT;
    csm_framing framing = framings[(data[0] >> 1) % 3];
    err[0] = 0;
    if (csm_codec_decode(codec, stream, framing, data + 1, size - 1, &slot, err, sizeof err) != 0) {
        FUZZ_REQUIRE(err[0] != 0 && memchr(err, 0, sizeof err), "a refusal carries a reason");
        return 0;
    }
    FUZZ_REQUIRE(slot.ev.stream == stream, "the event is of its topic's stream");
    FUZZ_REQUIRE(csm_event_validate(&slot.ev, err, sizeof err) == 0,
                 "a decoded event passes the contract");
    fuzz_check_json_roundtrip(&slot.ev);
    return 0;
}
