/* An owned copy of one decoded event: the csm_event plus the bytes its
 * strings point into, in one fixed-size block so the reorder buffer can
 * hold events without a heap allocation per event. */
#ifndef CSM_EVENT_SLOT_H
#define CSM_EVENT_SLOT_H

#include <stddef.h>
#include <stdint.h>

#include "csmetrics/plugin.h"

/* Total bytes of all string fields of one event, NULs included. An event
 * beyond this is bad input (dead letter, reason "event too large"). */
#define CSM_EVENT_STRINGS_MAX 2048

typedef struct csm_event_slot {
    csm_event ev; /* its strings point into arena */
    size_t used;  /* bytes of arena in use */
    char arena[CSM_EVENT_STRINGS_MAX];
} csm_event_slot;

/* Empties the slot: every string NULL, enums null, struct_size set. */
void csm_event_slot_reset(csm_event_slot *s, csm_stream stream);

/* Copies n bytes of s (not NUL-terminated) into the arena and returns the
 * copy, or NULL when the arena is full. */
const char *csm_event_slot_strndup(csm_event_slot *s, const char *str, size_t n);
const char *csm_event_slot_strdup(csm_event_slot *s, const char *str);

/* Bytes the strings of @p ev take, NULs included. */
size_t csm_event_strings_size(const csm_event *ev);
/* Copies @p src to @p dst with its strings packed into @p str, which has
 * room for csm_event_strings_size(src) bytes. */
void csm_event_pack(csm_event *dst, char *str, const csm_event *src);

/* Deep copy (pointers rebased into dst's arena). */
void csm_event_slot_copy(csm_event_slot *dst, const csm_event_slot *src);

/* Longest id (event_id, shop_id, customer_id, agent_id, …) in bytes. */
#define CSM_ID_MAX_BYTES 128

/* Every string of an event: @p n bytes of valid UTF-8 (RFC 3629: no
 * overlong forms, surrogates or code points above U+10FFFF) without a
 * NUL byte, which would cut the C string short. Returns 0, or -1 with
 * why ("NUL byte at 3", "not valid UTF-8 at 5") in @p why. */
int csm_text_check(const char *s, size_t n, char *why, size_t whylen);

/* Checks the contract of events.md that decoding alone cannot: required
 * strings present and non-empty (event_id, shop_id, customer_id, and
 * order_id for order events), enums in range, and the id rules of
 * docs/formats.md: every id present is 1..CSM_ID_MAX_BYTES bytes of
 * csm_text_check'ed text without control characters (U+0000–U+001F,
 * U+007F), and shop_id holds no '{' or '}' (the Redis hash tag of its
 * keys). Returns 0, or -1 with a reason ("missing field shop_id",
 * "field shop_id: '}' not allowed", …) in err. */
int csm_event_validate(const csm_event *ev, char *err, size_t errlen);

/* "chat" or "order": the stream's name in JSON Lines, options and messages. */
const char *csm_stream_name(csm_stream s);
/* Contract symbol names, for JSON, logs and reports. NULL if out of range. */
const char *csm_platform_name(csm_platform p);
const char *csm_chat_type_name(csm_chat_type t);
const char *csm_sender_name(csm_sender s); /* NULL for CSM_SENDER_NULL */
const char *csm_msg_kind_name(csm_msg_kind k);
const char *csm_entry_name(csm_entry e);
const char *csm_order_type_name(csm_order_type t);
/* Reverse lookups: return the value, or -1 when the symbol is unknown. */
int csm_platform_parse(const char *s);
int csm_chat_type_parse(const char *s);
int csm_sender_parse(const char *s);
int csm_msg_kind_parse(const char *s);
int csm_entry_parse(const char *s);
int csm_order_type_parse(const char *s);

#endif
