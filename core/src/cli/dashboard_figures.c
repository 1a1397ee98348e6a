/* The figure metadata the page lays itself out by (GET /api/figures):
 * which figures are rates, durations or counts, and in which blocks they
 * exist. It comes from the registry of the figures the chain's plugins
 * declare, so a new plugin's figures show up on the page unchanged. */
#include <string.h>

#include "dashboard.h"
#include "figures.h"

static const char *kind_name(const csm_figure *f)
{
    switch (f->kind) {
    case CSM_FIGURE_RATE:
        return "ratio";
    case CSM_FIGURE_ONE_MINUS:
        return "one_minus";
    case CSM_FIGURE_AVERAGE:
        return f->unit && !strcmp(f->unit, "ms") ? "avg_ms" : "average";
    default:
        return "counter";
    }
}

/* Rates are fractions; counters and averages carry their declared unit. */
static const char *unit_of(const csm_figure *f)
{
    if (f->kind == CSM_FIGURE_RATE || f->kind == CSM_FIGURE_ONE_MINUS)
        return "ratio";
    return f->unit ? f->unit : "count";
}

static json_t *scopes_of(const csm_registry *reg, int id)
{
    static const struct {
        unsigned bit;
        const char *name;
    } scopes[] = {{CSM_FIGURE_BOARD, "board"},
                  {CSM_FIGURE_SPLITS, "split"},
                  {CSM_FIGURE_AGENTS, "agents"},
                  {CSM_FIGURE_INTENTS, "intents"}};
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof scopes / sizeof *scopes; i++)
        if (csm_figure_in_scope(reg, id, scopes[i].bit))
            json_array_append_new(a, json_string(scopes[i].name));
    return a;
}

static json_t *name_or_null(const csm_registry *reg, int id)
{
    return id >= 0 ? json_string(reg->fig[id].name) : json_null();
}

static json_t *figure_json(const csm_registry *reg, int id)
{
    const csm_figure *f = &reg->fig[id];
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(f->name));
    json_object_set_new(o, "label", json_string(f->label));
    json_object_set_new(o, "kind", json_string(kind_name(f)));
    json_object_set_new(o, "unit", json_string(unit_of(f)));
    json_object_set_new(o, "plugin", json_string(f->plugin));
    json_object_set_new(o, "scopes", scopes_of(reg, id));
    if (f->kind != CSM_FIGURE_COUNTER) {
        json_object_set_new(o, "num", name_or_null(reg, f->num));
        json_object_set_new(o, "num2", name_or_null(reg, f->num2));
        json_object_set_new(o, "den", name_or_null(reg, f->den));
    }
    return o;
}

json_t *csm_dash_figures_json(const csm_registry *reg)
{
    json_t *figures = json_array(), *hourly = json_array(), *splits = json_array();
    for (size_t i = 0; i < reg->n; i++) {
        json_array_append_new(figures, figure_json(reg, (int)i));
        if (reg->fig[i].where & CSM_FIGURE_HOURLY)
            json_array_append_new(hourly, json_string(reg->fig[i].name));
    }
    for (int s = 0; s < CSM_N_SPLITS; s++)
        json_array_append_new(splits, json_string(csm_splits[s]));
    json_t *o = json_object();
    json_object_set_new(o, "figures", figures);
    json_object_set_new(o, "hourly", hourly);
    json_object_set_new(o, "splits", splits);
    return o;
}
