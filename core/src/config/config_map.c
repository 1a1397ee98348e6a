#include "config_map.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *type_name(csm_config_type t)
{
    switch (t) {
    case CSM_CONFIG_INT:
        return "integer";
    case CSM_CONFIG_DOUBLE:
        return "number";
    case CSM_CONFIG_BOOL:
        return "boolean";
    case CSM_CONFIG_STRING:
        return "string";
    case CSM_CONFIG_DURATION:
        return "duration";
    default:
        return "?";
    }
}

int csm_parse_duration_ms(const char *s, int64_t *ms)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return -1;
    double mult;
    if (!*end || !strcmp(end, "ms"))
        mult = 1;
    else if (!strcmp(end, "s"))
        mult = 1000;
    else if (!strcmp(end, "m"))
        mult = 60000;
    else if (!strcmp(end, "h"))
        mult = 3600000;
    else if (!strcmp(end, "d"))
        mult = 86400000;
    else
        return -1;
    /* Checked before the conversion: a double beyond int64_t does not
     * convert, and event-time arithmetic adds durations to timestamps. */
    if (v * mult > (double)CSM_DURATION_MAX_MS)
        return -1;
    *ms = (int64_t)(v * mult + 0.5);
    return 0;
}

int csm_config_map_set(const csm_config_entry *e, const char *section, const char *value,
                       void *base, char *err, size_t errlen)
{
    char *p = (char *)base + e->offset;
    char *end;
    const char *sep = section && *section ? "." : "";
    if (!section)
        section = "";
    switch (e->type) {
    case CSM_CONFIG_INT: {
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end)
            goto bad;
        *(int64_t *)p = v;
        return 0;
    }
    case CSM_CONFIG_DOUBLE: {
        errno = 0;
        double v = strtod(value, &end);
        if (errno || end == value || *end)
            goto bad;
        memcpy(p, &v, sizeof v); /* the member may be unaligned for a cast */
        return 0;
    }
    case CSM_CONFIG_BOOL:
        if (!strcasecmp(value, "true") || !strcasecmp(value, "yes") || !strcmp(value, "1") ||
            !strcasecmp(value, "on"))
            *(int *)p = 1;
        else if (!strcasecmp(value, "false") || !strcasecmp(value, "no") || !strcmp(value, "0") ||
                 !strcasecmp(value, "off"))
            *(int *)p = 0;
        else
            goto bad;
        return 0;
    case CSM_CONFIG_DURATION:
        if (csm_parse_duration_ms(value, (int64_t *)p))
            goto bad;
        return 0;
    case CSM_CONFIG_STRING: {
        char *copy = strdup(value);
        if (!copy)
            goto bad;
        free(*(char **)p);
        *(char **)p = copy;
        return 0;
    }
    default:
        break;
    }
bad:
    snprintf(err, errlen, "%s%s%s: expected a %s%s, got '%s'", section, sep, e->name,
             type_name(e->type),
             e->type == CSM_CONFIG_DURATION ? " up to 3650d (e.g. 500ms, 30s, 15m, 24h, 7d)" : "",
             value);
    return -1;
}

int csm_config_map_fill(const csm_config_entry *map, const char *section, const csm_kv *kv,
                        size_t n, void *base, char *err, size_t errlen)
{
    for (const csm_config_entry *e = map; e && e->type != CSM_CONFIG_END; e++)
        if (e->default_value && csm_config_map_set(e, section, e->default_value, base, err, errlen))
            return -1;
    for (size_t i = 0; i < n; i++) {
        const csm_config_entry *e = map;
        while (e && e->type != CSM_CONFIG_END && strcmp(e->name, kv[i].key))
            e++;
        if (!e || e->type == CSM_CONFIG_END) {
            snprintf(err, errlen, "%s%s%s: unknown key", section ? section : "",
                     section && *section ? "." : "", kv[i].key);
            return -1;
        }
        if (csm_config_map_set(e, section, kv[i].value, base, err, errlen))
            return -1;
    }
    return 0;
}

void csm_config_map_free(const csm_config_entry *map, void *base)
{
    for (const csm_config_entry *e = map; e && e->type != CSM_CONFIG_END; e++)
        if (e->type == CSM_CONFIG_STRING) {
            char **p = (char **)((char *)base + e->offset);
            free(*p);
            *p = NULL;
        }
}

void csm_config_map_print(const csm_config_entry *map, const char *section, FILE *out)
{
    for (const csm_config_entry *e = map; e && e->type != CSM_CONFIG_END; e++)
        fprintf(out, "  %s%s%s (%s, default %s): %s\n", section ? section : "",
                section && *section ? "." : "", e->name, type_name(e->type),
                e->default_value && *e->default_value ? e->default_value : "none", e->doc);
}
