/* Runs one golden scenario: tests/golden/<name>.jsonl through the chain
 * of <name>.yaml (default chain without it) and compares the figures with
 * <name>.expect.json, worked out by hand from the spec:
 *
 *   {"description": "...",
 *    "exact": true,               every non-zero counter must be listed
 *    "counters": {"board:<shop>:<day>": {"<field>": N, ...},
 *                 "allday:<shop>:<day>": {...},
 *                 "agent:<shop>:<day>:<agent>": {...},
 *                 "intent:<shop>:<day>:<intent>": {...}},
 *    "sets": {"<shop>:<day>:<name>": N},       the whole day's set
 *    "board_sets": {"<shop>:<day>:<name>": N}, its members anchored in the window
 *    "alerts": [{"type": "...", "customer_id": "...", ...}],  all, any order
 *    "verdicts": {"accepted": N, "duplicate": N, "late": N, "deadletter": N}}
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csmetrics/testkit.h"
#include "civil_day.h"
#include "keys.h"

static int failures;

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "FAIL: " __VA_ARGS__);                                                     \
        fputc('\n', stderr);                                                                       \
        failures++;                                                                                \
    } while (0)

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n)
        n = 0;
    s[n] = 0;
    fclose(f);
    return s;
}

/* "board:<shop>:<day>" etc. → Redis key. */
static int expect_key(csm_testkit *tk, const char *name, char *key, size_t n)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", name);
    char *block = buf, *shop = strchr(buf, ':');
    if (!shop)
        return -1;
    *shop++ = 0;
    char *day = strchr(shop, ':');
    if (!day)
        return -1;
    *day++ = 0;
    char *subject = NULL;
    if (strlen(day) > 10 && day[10] == ':') {
        day[10] = 0;
        subject = day + 11;
    }
    int32_t d;
    if (csm_day_parse(day, &d))
        return -1;
    const char *p = csm_testkit_prefix(tk);
    if (!strcmp(block, "board") || !strcmp(block, "allday"))
        return subject ? -1 : csm_key_block(key, n, p, shop, block, d);
    if (!strcmp(block, "agent") && subject)
        return csm_key_agent(key, n, p, shop, d, subject);
    if (!strcmp(block, "intent") && subject)
        return csm_key_intent(key, n, p, shop, d, subject);
    return -1;
}

typedef struct expected {
    json_t *by_key; /* redis key → {field: value} */
} expected;

static int check_unlisted(void *arg, const char *key, const char *field, int64_t value)
{
    expected *x = arg;
    if (value == 0)
        return 0;
    json_t *fields = json_object_get(x->by_key, key);
    if (!fields || !json_object_get(fields, field))
        FAIL("unexpected counter %s %s = %lld", key, field, (long long)value);
    return 0;
}

static void check_alerts(csm_testkit *tk, json_t *alerts)
{
    long n = csm_testkit_alert_count(tk, NULL, NULL);
    if ((long)json_array_size(alerts) != n)
        FAIL("%ld alerts raised, %zu expected", n, json_array_size(alerts));
    char *used = calloc((size_t)n + 1, 1);
    size_t i;
    json_t *want;
    json_array_foreach(alerts, i, want)
    {
        int found = 0;
        for (long a = 0; a < n && !found; a++) {
            if (used[a])
                continue;
            int all = 1;
            const char *f;
            json_t *v;
            json_object_foreach(want, f, v)
            {
                char text[64];
                const char *w = json_is_string(v) ? json_string_value(v) : text;
                if (json_is_integer(v))
                    snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
                const char *got = csm_testkit_alert_field(tk, a, f);
                if (!got || strcmp(got, w))
                    all = 0;
            }
            if (all)
                used[a] = found = 1;
        }
        if (!found) {
            char *s = json_dumps(want, JSON_COMPACT);
            FAIL("expected alert not raised: %s", s);
            free(s);
        }
    }
    free(used);
}

typedef int64_t (*set_size_fn)(csm_testkit *tk, const char *shop, const char *day,
                               const char *name);

/* {"<shop>:<day>:<name>": N, ...}: each set has N members. */
static void check_sets(csm_testkit *tk, json_t *sets, set_size_fn size_of, const char *what)
{
    const char *name;
    json_t *want;
    json_object_foreach(sets, name, want)
    {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", name);
        char *shop = buf, *day = strchr(buf, ':');
        if (!day || strlen(day) < 12) {
            FAIL("bad %s name '%s'", what, name);
            continue;
        }
        *day++ = 0;
        day[10] = 0;
        int64_t got = size_of(tk, shop, day, day + 11);
        if (got != json_integer_value(want))
            FAIL("%s %s: %lld members, expected %lld", what, name, (long long)got,
                 (long long)json_integer_value(want));
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: csm_golden SCENARIO.jsonl\n");
        return 2;
    }
    const char *jsonl = argv[1];
    char base[1024], path[1100];
    snprintf(base, sizeof base, "%.*s", (int)(strlen(jsonl) - strlen(".jsonl")), jsonl);

    snprintf(path, sizeof path, "%s.yaml", base);
    char *yaml = read_text(path);
    char err[1024];
    csm_testkit *tk = csm_testkit_new(yaml, err, sizeof err);
    free(yaml);
    if (!tk) {
        fprintf(stderr, "FAIL: %s: %s\n", path, err);
        return 1;
    }
    snprintf(path, sizeof path, "%s.expect.json", base);
    json_error_t jerr;
    json_t *expect = json_load_file(path, 0, &jerr);
    if (!expect) {
        fprintf(stderr, "FAIL: %s:%d: %s\n", path, jerr.line, jerr.text);
        return 1;
    }

    /* CSM_GOLDEN_RESTART_EVERY=N: a checkpoint and a restart (csm_testkit_restart)
     * after every N events; the expected figures stay the same. */
    const char *every_env = getenv("CSM_GOLDEN_RESTART_EVERY");
    long every = every_env ? atol(every_env) : 0, fed = 0;
    long verdicts[4] = {0};
    FILE *f = fopen(jsonl, "r");
    if (!f) {
        fprintf(stderr, "FAIL: cannot open %s\n", jsonl);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        const char *p = line + strspn(line, " \t");
        if (!*p || *p == '#')
            continue;
        int v = csm_testkit_feed(tk, p);
        verdicts[v]++;
        if (v != CSM_TK_ACCEPTED)
            printf("line %ld: %s\n", lineno, csm_testkit_last_reason(tk));
        if (every > 0 && ++fed % every == 0 && csm_testkit_restart(tk, err, sizeof err)) {
            fprintf(stderr, "FAIL: restart after line %ld: %s\n", lineno, err);
            return 1;
        }
    }
    free(line);
    fclose(f);
    csm_testkit_end(tk);

    expected x = {json_object()};
    const char *name;
    json_t *fields;
    json_object_foreach(json_object_get(expect, "counters"), name, fields)
    {
        char key[512];
        if (expect_key(tk, name, key, sizeof key) < 0) {
            FAIL("bad counter block name '%s' in the expect file", name);
            continue;
        }
        json_object_set(x.by_key, key, fields);
        const char *field;
        json_t *want;
        char block[512];
        snprintf(block, sizeof block, "%s", name);
        json_object_foreach(fields, field, want)
        {
            char *b = block, *shop = strchr(b, ':');
            *shop++ = 0;
            char *day = strchr(shop, ':');
            *day++ = 0;
            char blk[1100];
            if (strlen(day) > 10) {
                snprintf(blk, sizeof blk, "%s:%s", b, day + 11);
                day[10] = 0;
            } else {
                snprintf(blk, sizeof blk, "%s", b);
            }
            int64_t got = csm_testkit_counter(tk, blk, shop, day, field);
            if (got != json_integer_value(want))
                FAIL("%s %s: got %lld, expected %lld", name, field, (long long)got,
                     (long long)json_integer_value(want));
            snprintf(block, sizeof block, "%s", name);
        }
    }
    if (json_is_true(json_object_get(expect, "exact")))
        csm_testkit_foreach_counter(tk, check_unlisted, &x);

    check_sets(tk, json_object_get(expect, "sets"), csm_testkit_set_size, "set");
    check_sets(tk, json_object_get(expect, "board_sets"), csm_testkit_board_set_size, "board set");
    json_t *alerts = json_object_get(expect, "alerts");
    if (alerts)
        check_alerts(tk, alerts);

    static const char *const verdict_names[] = {"accepted", "duplicate", "late", "deadletter"};
    json_t *vs = json_object_get(expect, "verdicts");
    for (int i = 0; i < 4 && vs; i++) {
        json_t *v = json_object_get(vs, verdict_names[i]);
        if (v && json_integer_value(v) != verdicts[i])
            FAIL("verdict %s: %ld events, expected %lld", verdict_names[i], verdicts[i],
                 (long long)json_integer_value(v));
    }
    if (failures) {
        fprintf(stderr, "--- everything the scenario emitted:\n");
        csm_testkit_dump(tk, stderr);
    }
    json_decref(x.by_key);
    json_decref(expect);
    csm_testkit_free(tk);
    printf("%s: %s (%d failures)\n", jsonl, failures ? "FAIL" : "ok", failures);
    return failures ? 1 : 0;
}
