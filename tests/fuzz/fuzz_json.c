/* libFuzzer: the JSON Lines reader of `replay`, `produce` and the test
 * kit. The input is split into lines as a .jsonl file is, and each line
 * goes through csm_json_decode_line with its exact length (no NUL after
 * it, so an overread is caught). */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

static void decode_one(const char *line, size_t len)
{
    static csm_event_slot slot;
    char err[256];
    err[0] = 0;
    if (csm_json_decode_line(line, len, &slot, err, sizeof err) != 0) {
        FUZZ_REQUIRE(err[0] != 0 && memchr(err, 0, sizeof err), "a refusal carries a reason");
        return;
    }
    FUZZ_REQUIRE(csm_event_validate(&slot.ev, err, sizeof err) == 0,
                 "a decoded event passes the contract");
    fuzz_check_json_roundtrip(&slot.ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        /* A copy of exactly len bytes: ASan flags a read past the line. */
        char *line = malloc(len ? len : 1);
        memcpy(line, p, len);
        decode_one(line, len);
        free(line);
        p += len + 1;
    }
    return 0;
}
