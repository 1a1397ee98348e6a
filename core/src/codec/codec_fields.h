/* The contract's fields, by their names in both formats (events.md): the
 * Avro decoder binds writer fields to them, the JSON Lines reader keys
 * members by them. */
#ifndef CSM_CODEC_FIELDS_H
#define CSM_CODEC_FIELDS_H

enum field {
    F_EVENT_ID,
    F_PLATFORM,
    F_SHOP_ID,
    F_CUSTOMER_ID,
    F_TS,
    F_TYPE,
    F_SENDER,
    F_MSG_KIND,
    F_AGENT_ID,
    F_FROM_AGENT_ID,
    F_GROUP_ID,
    F_ENTRY,
    F_ORDER_ID,
    F_INTENT,
    F_STARS,
    F_REASON,
    F_AMOUNT_CENTS,
    F_REFUND_ID,
    F_LOGISTICS_STATUS,
    F_COUNT
};

extern const char *const csm_field_names[F_COUNT];

#endif
