#include "delta_keys.h"

#include <string.h>

#include "event_slot.h"
#include "keys.h"
#include "sat_target.h"

int csm_dkey_is_hash(const csm_dkey *k)
{
    return k->kind <= CSM_KEY_INTENT;
}

int csm_dkey_is_set(const csm_dkey *k)
{
    return k->kind >= CSM_KEY_AGENTS && k->kind <= CSM_KEY_SHOPS;
}

int csm_dkey_is_stream(const csm_dkey *k)
{
    return k->kind == CSM_KEY_ALERTS || k->kind == CSM_KEY_RAW;
}

static int copy(char *buf, size_t n, const char *s)
{
    size_t len = s ? strlen(s) : n;
    if (len >= n)
        return -1;
    memcpy(buf, s, len + 1);
    return (int)len;
}

int csm_dkey_format(const csm_deltas *d, const csm_dkey *k, char *buf, size_t n)
{
    const csm_intern *names = csm_deltas_names_c(d);
    const char *p = csm_deltas_prefix(d);
    const char *shop = csm_intern_str(names, k->shop);
    const char *name = csm_intern_str(names, k->name);
    int needs_shop =
        k->kind != CSM_KEY_SHOPS && k->kind != CSM_KEY_SBT_DUE && k->kind != CSM_KEY_RAW;
    int needs_name = k->kind == CSM_KEY_AGENT || k->kind == CSM_KEY_INTENT ||
                     k->kind == CSM_KEY_SET || k->kind == CSM_KEY_BOARDSET ||
                     k->kind == CSM_KEY_RAW;
    if ((needs_shop && !shop) || (needs_name && !name))
        return -1;
    switch (k->kind) {
    case CSM_KEY_BOARD:
        return csm_key_block(buf, n, p, shop, "board", k->day);
    case CSM_KEY_ALLDAY:
        return csm_key_block(buf, n, p, shop, "allday", k->day);
    case CSM_KEY_AGENT:
        return csm_key_agent(buf, n, p, shop, k->day, name);
    case CSM_KEY_INTENT:
        return csm_key_intent(buf, n, p, shop, k->day, name);
    case CSM_KEY_AGENTS:
        return csm_key_agents(buf, n, p, shop, k->day);
    case CSM_KEY_INTENTS:
        return csm_key_intents(buf, n, p, shop, k->day);
    case CSM_KEY_SET:
        return csm_key_set(buf, n, p, shop, k->day, name);
    case CSM_KEY_BOARDSET:
        return csm_key_boardset(buf, n, p, shop, k->day, name);
    case CSM_KEY_SHOPS:
        return csm_key_shops(buf, n, p);
    case CSM_KEY_SBT_DUE:
        return csm_sbt_key(buf, n, p);
    case CSM_KEY_ALERTS:
        return csm_key_alerts(buf, n, p, shop);
    case CSM_KEY_RAW:
        return copy(buf, n, name);
    default:
        return -1;
    }
}

static int field_format(const csm_intern *names, const csm_ditem *it, char *buf, size_t n)
{
    const char *name = csm_intern_str(names, it->a);
    if (!name)
        return -1;
    if (it->c >= 0)
        return csm_field_hourly(buf, n, name, it->c);
    if (it->b != CSM_INTERN_NONE) {
        const char *split = csm_intern_str(names, it->b);
        return split ? csm_field_split(buf, n, split, name) : -1;
    }
    return copy(buf, n, name);
}

int csm_ditem_format(const csm_deltas *d, const csm_dkey *k, const csm_ditem *it, char *buf,
                     size_t n)
{
    if (csm_dkey_is_hash(k))
        return field_format(csm_deltas_names_c(d), it, buf, n);
    if (csm_dkey_is_set(k))
        return copy(buf, n, csm_deltas_member(d, it->a));
    if (k->kind == CSM_KEY_SBT_DUE) {
        const char *shop = csm_intern_str(csm_deltas_names_c(d), it->a);
        return shop ? csm_sbt_member(buf, n, it->c, (csm_platform)it->b, shop) : -1;
    }
    return -1;
}
