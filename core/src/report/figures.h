/* The figure registry: every figure and alert type the plugins of the
 * chain declare (csm_plugin::figures and ::alerts, ABI 1.3), resolved into
 * one table. The report (text and JSON), the exporter and the dashboard
 * list figures only from here, so a new plugin's counters show up in all
 * of them without a change to the core.
 *
 * Figures are numbered 0..n-1 in chain order, then declaration order;
 * a rate's counters are referred to by those numbers. Strings point into
 * the plugins, which stay mapped for the life of the process (chain.c). */
#ifndef CSM_FIGURES_H
#define CSM_FIGURES_H

#include <stddef.h>
#include <stdint.h>

#include "chain.h"
#include "config.h"
#include "csmetrics/plugin.h"
#include "shoptime.h"

/* The splits of csm_count::split, in the order of the report's JSON. */
#define CSM_N_SPLITS 4
extern const char *const csm_splits[CSM_N_SPLITS];

typedef struct csm_figure {
    const char *name, *label, *unit, *group;
    const char *plugin; /* the declaring plugin's name */
    csm_figure_kind kind;
    /* CSM_FIGURE_* bits; for a derived figure, those all its counters
     * share, never CSM_FIGURE_HOURLY. */
    unsigned where;
    unsigned flags;     /* CSM_FIGURE_SET, CSM_FIGURE_SUMMARY */
    int num, num2, den; /* derived figures: counter numbers; -1 none */
    double target;      /* with target_dir != CSM_TARGET_NONE */
    csm_figure_target_dir target_dir;
    const char *target_setting;
} csm_figure;

typedef struct csm_alert_type {
    const char *type, *label, *unit, *plugin;
} csm_alert_type;

typedef struct csm_registry {
    csm_figure *fig;
    size_t n;
    csm_alert_type *alert;
    size_t n_alerts;
} csm_registry;

/* Loads the configured chain (as `run` does, without starting it) and
 * builds its registry. NULL with the reason in err (a plugin that does
 * not load, or a declaration that does not hold together). */
csm_registry *csm_registry_load(const csm_config *cfg, char *err, size_t errlen);
/* The registry of a loaded chain (what `run` and `replay` check at start). */
csm_registry *csm_registry_of_chain(const csm_chain *chain, char *err, size_t errlen);
/* The registry of these descriptors, in chain order. A descriptor older
 * than ABI 1.3 declares nothing. The core's own alert type
 * (SATISFACTION_BELOW_TARGET) is always in it. */
csm_registry *csm_registry_build(const csm_plugin *const *plugins, size_t n, char *err,
                                 size_t errlen);
void csm_registry_free(csm_registry *reg);

/* Number of a figure name, -1 if no plugin declares it. */
int csm_figure_lookup(const csm_registry *reg, const char *name);
/* 1 if figure id exists where (one CSM_FIGURE_* bit). */
int csm_figure_in_scope(const csm_registry *reg, int id, unsigned where);
/* Computes derived figure id from counters indexed by figure number:
 * 1 with *out set, 0 when the denominator is 0 (null in the report) or id
 * is a counter. Rates are fractions, averages in the unit of num. */
int csm_figure_rate(const csm_registry *reg, int id, const int64_t *counters, double *out);
/* The target of figure id for a shop: the shop's setting named by the
 * declaration, else (for the core's alerts.satisfaction_target) the
 * global one, else the declared value. Returns its direction
 * (CSM_TARGET_NONE: no target, *target untouched). */
csm_figure_target_dir csm_figure_target(const csm_registry *reg, int id, const csm_config *cfg,
                                        csm_shoptime *st, const char *shop, double *target);
/* The declared alert type, or NULL. */
const csm_alert_type *csm_alert_type_lookup(const csm_registry *reg, const char *type);

/* The counters of one hash (board, allday, agent or intent), summed over
 * the days of a report, indexed by figure number. */
typedef struct csm_block {
    int64_t *c;
    int64_t *split[CSM_N_SPLITS];
    int64_t (*hourly)[24];
} csm_block;

/* Zeroed counters for every figure of reg; 0, or -1 out of memory. */
int csm_block_init(csm_block *b, const csm_registry *reg);
void csm_block_free(csm_block *b);

/* Adds one Redis hash field ("rated", "split.presale.rated",
 * "hourly.rated.07") to the block. Fields no plugin declares are ignored:
 * a plugin that left the chain may have left some. */
void csm_block_add_field(const csm_registry *reg, csm_block *b, const char *field, int64_t value);

#endif
