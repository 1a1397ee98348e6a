/* libFuzzer: one Kafka message value through the decoder of `run`
 * (csm_codec_decode, then the contract check). The first input byte
 * picks the topic's stream (bit 0) and the framing (AUTO, CONFLUENT,
 * PLAIN); the rest is the message value. Confluent schema ids 1 (chat)
 * and 2 (order) are mapped, as in the integration tests. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

static csm_codec *codec;

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
