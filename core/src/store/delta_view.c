#include "delta_view.h"

#include <string.h>

#include "delta_keys.h"

#define KEY_MAX 512
#define FIELD_MAX 512

static csm_delta_kind kind_of(const csm_dkey *k)
{
    if (csm_dkey_is_hash(k))
        return CSM_DELTA_HINCRBY;
    if (csm_dkey_is_set(k))
        return CSM_DELTA_SADD;
    return csm_dkey_is_stream(k) ? CSM_DELTA_XADD : CSM_DELTA_ZADD;
}

static void visit_items(const csm_deltas *d, const csm_dkeyrec *r, const char *key,
                        csm_delta_visit_fn fn, void *arg)
{
    char field[FIELD_MAX];
    for (uint32_t j = r->first; j != CSM_INTERN_NONE; j = csm_deltas_item(d, j)->next) {
        const csm_ditem *it = csm_deltas_item(d, j);
        csm_delta_op op = {.kind = kind_of(&r->key), .key = key, .value = it->value};
        if (op.kind == CSM_DELTA_XADD) {
            op.value = 0;
            op.maxlen = (long)it->value;
            op.fv = csm_deltas_fv(d, it);
            op.n_fv = it->b;
        } else if (csm_ditem_format(d, &r->key, it, field, sizeof field) < 0) {
            continue;
        } else {
            op.field = field;
        }
        fn(arg, &op);
    }
}

void csm_deltas_foreach(const csm_deltas *d, csm_delta_visit_fn fn, void *arg)
{
    size_t n;
    const csm_dkeyrec *keys = csm_deltas_keys(d, &n);
    char key[KEY_MAX];
    for (size_t i = 0; i < n; i++)
        if (csm_dkey_format(d, &keys[i].key, key, sizeof key) >= 0)
            visit_items(d, &keys[i], key, fn, arg);
    for (size_t i = 0; i < n; i++) {
        if (!keys[i].expire_at || csm_dkey_format(d, &keys[i].key, key, sizeof key) < 0)
            continue;
        csm_delta_op op = {.kind = CSM_DELTA_EXPIREAT, .key = key, .value = keys[i].expire_at};
        fn(arg, &op);
    }
}

int64_t csm_deltas_get(const csm_deltas *d, const char *key, const char *field)
{
    size_t n;
    const csm_dkeyrec *keys = csm_deltas_keys(d, &n);
    char buf[KEY_MAX];
    for (size_t i = 0; i < n; i++) {
        const csm_dkeyrec *r = &keys[i];
        if (!csm_dkey_is_hash(&r->key) || csm_dkey_format(d, &r->key, buf, sizeof buf) < 0 ||
            strcmp(buf, key))
            continue;
        for (uint32_t j = r->first; j != CSM_INTERN_NONE; j = csm_deltas_item(d, j)->next) {
            const csm_ditem *it = csm_deltas_item(d, j);
            if (csm_ditem_format(d, &r->key, it, buf, sizeof buf) >= 0 && !strcmp(buf, field))
                return it->value;
        }
        return 0;
    }
    return 0;
}
