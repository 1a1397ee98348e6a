#include "prom_text.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(csm_writer *w, const char *s)
{
    csm_writer_put_bytes(w, s, strlen(s));
}

/* HELP text escapes backslash and newline; label values also the quote. */
static void put_escaped(csm_writer *w, const char *s, int quote)
{
    for (; *s; s++) {
        const char *esc = *s == '\\'           ? "\\\\"
                          : *s == '\n'         ? "\\n"
                          : quote && *s == '"' ? "\\\""
                                               : NULL;
        if (esc)
            put(w, esc);
        else
            csm_writer_put_bytes(w, s, 1);
    }
}

void csm_prom_family(csm_writer *w, const char *name, const char *type, const char *help)
{
    put(w, "# HELP ");
    put(w, name);
    put(w, " ");
    put_escaped(w, help, 0);
    put(w, "\n# TYPE ");
    put(w, name);
    put(w, " ");
    put(w, type);
    put(w, "\n");
}

static void put_series(csm_writer *w, const char *name, const csm_prom_label *labels, size_t n)
{
    put(w, name);
    for (size_t i = 0; i < n; i++) {
        put(w, i ? "," : "{");
        put(w, labels[i].name);
        put(w, "=\"");
        put_escaped(w, labels[i].value, 1);
        put(w, "\"");
    }
    if (n)
        put(w, "}");
    put(w, " ");
}

static void put_sample(csm_writer *w, const char *name, const csm_prom_label *labels, size_t n,
                       const char *value)
{
    put_series(w, name, labels, n);
    put(w, value);
    put(w, "\n");
}

void csm_prom_u64(csm_writer *w, const char *name, const csm_prom_label *labels, size_t n,
                  uint64_t value)
{
    char v[24];
    snprintf(v, sizeof v, "%" PRIu64, value);
    put_sample(w, name, labels, n, v);
}

void csm_prom_i64(csm_writer *w, const char *name, const csm_prom_label *labels, size_t n,
                  int64_t value)
{
    char v[24];
    snprintf(v, sizeof v, "%" PRId64, value);
    put_sample(w, name, labels, n, v);
}

void csm_prom_f64(csm_writer *w, const char *name, const csm_prom_label *labels, size_t n,
                  double value)
{
    char v[40];
    if (isinf(value))
        snprintf(v, sizeof v, "%s", value > 0 ? "+Inf" : "-Inf");
    else if (isnan(value))
        snprintf(v, sizeof v, "NaN");
    else if (snprintf(v, sizeof v, "%.15g", value), strtod(v, NULL) != value)
        /* 15 digits when they read back the same, else 17. */
        snprintf(v, sizeof v, "%.17g", value);
    put_sample(w, name, labels, n, v);
}
