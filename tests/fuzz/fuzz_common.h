/* What every harness needs: the default configuration (schema dir,
 * plugin chain) loaded once, and an invariant check that aborts so
 * libFuzzer records the input as a crash. */
#ifndef CSM_FUZZ_COMMON_H
#define CSM_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "config.h"

/* An invariant of the code under test was broken: a finding, not a
 * harness error. */
#define FUZZ_REQUIRE(cond, what)                                                                   \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz invariant broken: %s (%s)\n", what, #cond);                      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The defaults `run` uses without a file; exits when they do not load
 * (a broken build, not a finding). */
static inline void fuzz_default_config(csm_config *cfg)
{
    char err[512];
    if (csm_config_load_string("", cfg, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz setup: default configuration: %s\n", err);
        exit(2);
    }
}

/* A decoded event must survive JSON encoding and decoding (every string
 * of the slot is read, so a pointer outside its arena shows up under
 * ASan). The encoder refuses strings that are not UTF-8, which Avro
 * lets through; the line is sized so that nothing else can fail (every
 * byte escaped as \u00XX). */
static inline void fuzz_check_json_roundtrip(const csm_event *ev)
{
    static char line[6 * CSM_EVENT_STRINGS_MAX + 1024];
    static csm_event_slot again;
    char err[256];
    long n = csm_json_encode(ev, line, sizeof line);
    if (n < 0)
        return;
    FUZZ_REQUIRE(csm_json_decode_line(line, (size_t)n, &again, err, sizeof err) == 0,
                 "a decoded event's JSON decodes again");
    FUZZ_REQUIRE(again.ev.ts == ev->ts && !strcmp(again.ev.event_id, ev->event_id) &&
                     !strcmp(again.ev.shop_id, ev->shop_id),
                 "the JSON round trip keeps the event");
}

#endif
