/* The figure registry, built from the plugins' declarations (figures.h). */
#include "figures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sat_target.h"

const char *const csm_splits[CSM_N_SPLITS] = {"presale", "aftersale", "human", "robot"};

/* The smallest entries this host reads: those of ABI 1.3. */
#define MIN_FIGURE_SIZE (offsetof(csm_figure_decl, target_setting) + sizeof(const char *))
#define MIN_ALERT_SIZE (offsetof(csm_alert_decl, unit) + sizeof(const char *))

/* A table of entries of the plugin's struct_size, ended by a NULL name
 * (the first member after struct_size in both kinds of declaration). */
typedef struct decl_table {
    const char *base;
    size_t stride, min_size;
} decl_table;

static const void *table_entry(const decl_table *t, size_t i)
{
    return t->base + i * t->stride;
}

_Static_assert(offsetof(csm_figure_decl, name) == offsetof(csm_alert_decl, type),
               "both tables end at an entry whose first string is NULL");

static const char *entry_name(const void *e)
{
    const char *name;
    memcpy(&name, (const char *)e + offsetof(csm_figure_decl, name), sizeof name);
    return name;
}

/* Number of entries before the terminator; -1 (err set) when an entry is
 * smaller than this host needs or its size differs from the first's. */
static long table_len(const decl_table *t, const char *plugin, const char *what, char *err,
                      size_t errlen)
{
    if (!t->base)
        return 0;
    long n = 0;
    for (; entry_name(table_entry(t, (size_t)n)); n++) {
        uint32_t size;
        memcpy(&size, table_entry(t, (size_t)n), sizeof size);
        if (size < t->min_size || size != t->stride) {
            snprintf(err, errlen,
                     "plugin '%s': %s entry %ld has struct_size %u (want %u and the same for "
                     "every entry); build it with CSM_FIGURE() / CSM_ALERT_TYPE()",
                     plugin, what, n + 1, size, (unsigned)t->stride);
            return -1;
        }
    }
    return n;
}

/* A plugin's tables; empty for a descriptor older than ABI 1.3, whose
 * memory ends before the members. */
static void plugin_tables(const csm_plugin *p, decl_table *figs, decl_table *alerts)
{
    memset(figs, 0, sizeof *figs);
    memset(alerts, 0, sizeof *alerts);
    if (p->struct_size < offsetof(csm_plugin, alerts) + sizeof p->alerts)
        return;
    if (p->figures)
        *figs = (decl_table){(const char *)p->figures, p->figures->struct_size, MIN_FIGURE_SIZE};
    if (p->alerts)
        *alerts = (decl_table){(const char *)p->alerts, p->alerts->struct_size, MIN_ALERT_SIZE};
}

void csm_registry_free(csm_registry *reg)
{
    if (!reg)
        return;
    free(reg->fig);
    free(reg->alert);
    free(reg);
}

int csm_figure_lookup(const csm_registry *reg, const char *name)
{
    for (size_t i = 0; i < reg->n; i++)
        if (!strcmp(reg->fig[i].name, name))
            return (int)i;
    return -1;
}

const csm_alert_type *csm_alert_type_lookup(const csm_registry *reg, const char *type)
{
    for (size_t i = 0; type && i < reg->n_alerts; i++)
        if (!strcmp(reg->alert[i].type, type))
            return &reg->alert[i];
    return NULL;
}

/* A counter says where it is kept and is made of nothing; a derived
 * figure is made of counters and exists wherever they do. */
static int decl_holds(const csm_figure_decl *d)
{
    if (d->target_dir > CSM_TARGET_AT_MOST)
        return 0;
    if (d->kind == CSM_FIGURE_COUNTER)
        return d->where && !d->num && !d->num2 && !d->den;
    return d->kind <= CSM_FIGURE_AVERAGE && !d->where && d->num && d->den;
}

static int add_figure(csm_registry *reg, const csm_figure_decl *d, const char *plugin, char *err,
                      size_t errlen)
{
    int dup = csm_figure_lookup(reg, d->name);
    if (dup >= 0) {
        snprintf(err, errlen, "plugin '%s': figure '%s' is already declared by plugin '%s'", plugin,
                 d->name, reg->fig[dup].plugin);
        return -1;
    }
    if (!decl_holds(d)) {
        snprintf(err, errlen,
                 "plugin '%s': figure '%s': a counter needs 'where' and no num/den; a rate or "
                 "average needs num and den and no 'where'",
                 plugin, d->name);
        return -1;
    }
    reg->fig[reg->n++] = (csm_figure){
        .name = d->name,
        .label = d->label ? d->label : d->name,
        .unit = d->unit ? d->unit : "count",
        .group = d->group ? d->group : plugin,
        .plugin = plugin,
        .kind = d->kind,
        .where = d->where,
        .flags = d->flags,
        .num = -1,
        .num2 = -1,
        .den = -1,
        .target = d->target,
        .target_dir = d->target_dir,
        .target_setting = d->target_setting,
    };
    return 0;
}

/* The number of counter name, needed by derived figure f; -1 (err set)
 * when no plugin of the chain declares it as a counter. */
static int counter_of(const csm_registry *reg, const csm_figure *f, const char *name, char *err,
                      size_t errlen)
{
    int id = csm_figure_lookup(reg, name);
    if (id >= 0 && reg->fig[id].kind == CSM_FIGURE_COUNTER)
        return id;
    snprintf(err, errlen,
             "plugin '%s': figure '%s' is made of '%s', which no plugin of the chain declares "
             "as a counter",
             f->plugin, f->name, name);
    return -1;
}

/* Resolves the derived figures' counters once every plugin has declared
 * its own: a rate may use counters of any plugin of the chain. */
static int resolve(csm_registry *reg, const csm_figure_decl *const *decls, char *err, size_t errlen)
{
    for (size_t i = 0; i < reg->n; i++) {
        csm_figure *f = &reg->fig[i];
        if (f->kind == CSM_FIGURE_COUNTER)
            continue;
        const csm_figure_decl *d = decls[i];
        if ((f->num = counter_of(reg, f, d->num, err, errlen)) < 0 ||
            (f->den = counter_of(reg, f, d->den, err, errlen)) < 0 ||
            (d->num2 && (f->num2 = counter_of(reg, f, d->num2, err, errlen)) < 0))
            return -1;
        f->where = reg->fig[f->num].where & reg->fig[f->den].where & ~CSM_FIGURE_HOURLY;
        if (f->num2 >= 0)
            f->where &= reg->fig[f->num2].where;
    }
    return 0;
}

static void add_alert(csm_registry *reg, const csm_alert_decl *d, const char *plugin)
{
    reg->alert[reg->n_alerts++] = (csm_alert_type){
        .type = d->type,
        .label = d->label ? d->label : d->type,
        .unit = d->unit ? d->unit : "count",
        .plugin = plugin,
    };
}

/* Counts the declarations of every plugin (checking their tables), so the
 * registry is allocated once. */
static int count_decls(const csm_plugin *const *plugins, size_t n, size_t *n_figs, size_t *n_alerts,
                       char *err, size_t errlen)
{
    *n_figs = 0;
    *n_alerts = 1; /* the core's own */
    for (size_t i = 0; i < n; i++) {
        decl_table f, a;
        plugin_tables(plugins[i], &f, &a);
        long nf = table_len(&f, plugins[i]->name, "figures", err, errlen);
        long na = nf < 0 ? -1 : table_len(&a, plugins[i]->name, "alerts", err, errlen);
        if (na < 0)
            return -1;
        *n_figs += (size_t)nf;
        *n_alerts += (size_t)na;
    }
    return 0;
}

csm_registry *csm_registry_build(const csm_plugin *const *plugins, size_t n, char *err,
                                 size_t errlen)
{
    size_t n_figs, n_alerts;
    if (count_decls(plugins, n, &n_figs, &n_alerts, err, errlen))
        return NULL;
    csm_registry *reg = calloc(1, sizeof *reg);
    const csm_figure_decl **decls = calloc(n_figs ? n_figs : 1, sizeof *decls);
    if (reg) {
        reg->fig = calloc(n_figs ? n_figs : 1, sizeof *reg->fig);
        reg->alert = calloc(n_alerts, sizeof *reg->alert);
    }
    if (!reg || !decls || !reg->fig || !reg->alert) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        decl_table f, a;
        plugin_tables(plugins[i], &f, &a);
        for (size_t k = 0; f.base && entry_name(table_entry(&f, k)); k++) {
            decls[reg->n] = table_entry(&f, k);
            if (add_figure(reg, decls[reg->n], plugins[i]->name, err, errlen))
                goto fail;
        }
        for (size_t k = 0; a.base && entry_name(table_entry(&a, k)); k++)
            add_alert(reg, table_entry(&a, k), plugins[i]->name);
    }
    add_alert(reg, &csm_sbt_alert_decl, "csmetrics");
    if (resolve(reg, decls, err, errlen))
        goto fail;
    free(decls);
    return reg;
fail:
    free(decls);
    csm_registry_free(reg);
    return NULL;
}

csm_registry *csm_registry_of_chain(const csm_chain *chain, char *err, size_t errlen)
{
    const csm_plugin *plugins[CSM_MAX_PLUGINS];
    for (size_t i = 0; i < chain->n; i++)
        plugins[i] = chain->links[i].plugin;
    return csm_registry_build(plugins, chain->n, err, errlen);
}

csm_registry *csm_registry_load(const csm_config *cfg, char *err, size_t errlen)
{
    csm_chain *chain = csm_chain_load(cfg, err, errlen);
    if (!chain)
        return NULL;
    csm_registry *reg = csm_registry_of_chain(chain, err, errlen);
    csm_chain_free(chain);
    return reg;
}

int csm_figure_in_scope(const csm_registry *reg, int id, unsigned where)
{
    return id >= 0 && (size_t)id < reg->n && (reg->fig[id].where & where) != 0;
}

int csm_figure_rate(const csm_registry *reg, int id, const int64_t *counters, double *out)
{
    const csm_figure *f = &reg->fig[id];
    if (f->kind == CSM_FIGURE_COUNTER || counters[f->den] == 0)
        return 0;
    double num = (double)counters[f->num];
    if (f->num2 >= 0)
        num += (double)counters[f->num2];
    double r = num / (double)counters[f->den];
    *out = f->kind == CSM_FIGURE_ONE_MINUS ? 1.0 - r : r;
    return 1;
}

csm_figure_target_dir csm_figure_target(const csm_registry *reg, int id, const csm_config *cfg,
                                        csm_shoptime *st, const char *shop, double *target)
{
    const csm_figure *f = &reg->fig[id];
    if (f->target_dir == CSM_TARGET_NONE)
        return CSM_TARGET_NONE;
    int64_t bp = -1;
    if (f->target_setting) {
        bp = csm_sbt_parse_target(csm_shoptime_setting(st, shop, f->target_setting));
        /* The core has one such setting of its own, for its
         * SATISFACTION_BELOW_TARGET alert: the figure follows it. */
        if (bp < 0 && !strcmp(f->target_setting, "satisfaction_target"))
            bp = csm_sbt_parse_target(cfg->satisfaction_target);
    }
    *target = bp >= 0 ? (double)bp / 10000.0 : f->target;
    return f->target_dir;
}

/* ---- blocks ----------------------------------------------------------- */

int csm_block_init(csm_block *b, const csm_registry *reg)
{
    size_t n = reg->n ? reg->n : 1;
    memset(b, 0, sizeof *b);
    /* One allocation: counters, then the splits, then the hourly series. */
    int64_t *all = calloc(n * (1 + CSM_N_SPLITS + 24), sizeof *all);
    if (!all)
        return -1;
    b->c = all;
    for (int s = 0; s < CSM_N_SPLITS; s++)
        b->split[s] = all + n * (size_t)(1 + s);
    b->hourly = (int64_t(*)[24])(all + n * (1 + CSM_N_SPLITS));
    return 0;
}

void csm_block_free(csm_block *b)
{
    free(b->c);
    memset(b, 0, sizeof *b);
}

static int split_index(const char *s, size_t len)
{
    for (int i = 0; i < CSM_N_SPLITS; i++)
        if (strlen(csm_splits[i]) == len && !memcmp(csm_splits[i], s, len))
            return i;
    return -1;
}

/* The counter named name[0..len) kept where, or -1. */
static int counter_in(const csm_registry *reg, const char *name, size_t len, unsigned where)
{
    for (size_t i = 0; i < reg->n; i++) {
        const csm_figure *f = &reg->fig[i];
        if (f->kind == CSM_FIGURE_COUNTER && (f->where & where) && strlen(f->name) == len &&
            !memcmp(f->name, name, len))
            return (int)i;
    }
    return -1;
}

/* "NAME.HH" of an hourly field: the figure and the hour, or -1. */
static int hourly_field(const csm_registry *reg, const char *name, int *hour)
{
    const char *dot = strrchr(name, '.');
    if (!dot || strlen(dot) != 3 || dot[1] < '0' || dot[1] > '2' || dot[2] < '0' || dot[2] > '9')
        return -1;
    *hour = (dot[1] - '0') * 10 + (dot[2] - '0');
    if (*hour > 23)
        return -1;
    return counter_in(reg, name, (size_t)(dot - name), CSM_FIGURE_HOURLY);
}

void csm_block_add_field(const csm_registry *reg, csm_block *b, const char *field, int64_t value)
{
    if (!strncmp(field, "split.", 6)) {
        const char *s = field + 6, *dot = strchr(s, '.');
        int sp = dot ? split_index(s, (size_t)(dot - s)) : -1;
        int id = sp >= 0 ? counter_in(reg, dot + 1, strlen(dot + 1), CSM_FIGURE_SPLITS) : -1;
        if (id >= 0)
            b->split[sp][id] += value;
        return;
    }
    if (!strncmp(field, "hourly.", 7)) {
        int hour, id = hourly_field(reg, field + 7, &hour);
        if (id >= 0)
            b->hourly[id][hour] += value;
        return;
    }
    int id = counter_in(reg, field, strlen(field),
                        CSM_FIGURE_BOARD | CSM_FIGURE_AGENTS | CSM_FIGURE_INTENTS);
    if (id >= 0)
        b->c[id] += value;
}
