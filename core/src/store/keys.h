/* The Redis key scheme (docs/redis-keys.md). Every per-shop key carries
 * the shop as a hash tag, "{shop}". Each function writes a NUL-terminated
 * key into buf and returns its length, or -1 if it does not fit. */
#ifndef CSM_KEYS_H
#define CSM_KEYS_H

#include <stddef.h>
#include <stdint.h>

/* block: "board" or "allday" → {P}:{shop}:board:2026-11-22 (hash) */
int csm_key_block(char *buf, size_t n, const char *prefix, const char *shop, const char *block,
                  int32_t day);
/* {P}:{shop}:agent:DAY:AGENT (hash) and {P}:{shop}:agents:DAY (set) */
int csm_key_agent(char *buf, size_t n, const char *prefix, const char *shop, int32_t day,
                  const char *agent);
int csm_key_agents(char *buf, size_t n, const char *prefix, const char *shop, int32_t day);
/* {P}:{shop}:intent:DAY:INTENT (hash) and {P}:{shop}:intents:DAY (set) */
int csm_key_intent(char *buf, size_t n, const char *prefix, const char *shop, int32_t day,
                   const char *intent);
int csm_key_intents(char *buf, size_t n, const char *prefix, const char *shop, int32_t day);
/* {P}:{shop}:set:DAY:NAME (set) */
int csm_key_set(char *buf, size_t n, const char *prefix, const char *shop, int32_t day,
                const char *name);
/* {P}:{shop}:boardset:DAY:NAME (set): the members of set NAME whose anchor
 * is in the assessment window */
int csm_key_boardset(char *buf, size_t n, const char *prefix, const char *shop, int32_t day,
                     const char *name);
/* {P}:{shop}:alerts (stream) */
int csm_key_alerts(char *buf, size_t n, const char *prefix, const char *shop);
/* {P}:shops (set of every shop seen; not hash-tagged) */
int csm_key_shops(char *buf, size_t n, const char *prefix);
/* {P}:ckpt:GROUP:PARTITION (hash: chat_offset, order_offset, seq, state) */
int csm_key_checkpoint(char *buf, size_t n, const char *prefix, const char *group,
                       int32_t partition);

/* Hash fields inside a block/agent/intent hash. */
/* "split.presale.rated" */
int csm_field_split(char *buf, size_t n, const char *split, const char *name);
/* "hourly.sessions_started.07" */
int csm_field_hourly(char *buf, size_t n, const char *name, int hour);

#endif
