/* The Prometheus text exposition format, version 0.0.4: families with
 * their # HELP and # TYPE lines, samples with escaped label values. Shared
 * by the daemon's /metrics and any other exporter. */
#ifndef CSM_PROM_TEXT_H
#define CSM_PROM_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"

#define CSM_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A label: name (a valid label name, not escaped) and value (any bytes,
 * escaped as the format requires). */
typedef struct csm_prom_label {
    const char *name;
    const char *value;
} csm_prom_label;

/* Starts a family: "# HELP name help" and "# TYPE name type" (counter,
 * gauge, histogram…). */
void csm_prom_family(csm_writer *w, const char *name, const char *type, const char *help);
/* One sample: name{labels} value. */
void csm_prom_u64(csm_writer *w, const char *name, const csm_prom_label *labels, size_t n,
                  uint64_t value);
void csm_prom_i64(csm_writer *w, const char *name, const csm_prom_label *labels, size_t n,
                  int64_t value);
void csm_prom_f64(csm_writer *w, const char *name, const csm_prom_label *labels, size_t n,
                  double value);

#endif
