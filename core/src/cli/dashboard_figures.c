/* The figure metadata the page lays itself out by (GET /api/figures):
 * which figures are rates, durations or counts, and in which blocks they
 * exist, so a figure added to the table shows up on the page unchanged. */
#include <string.h>

#include "dashboard.h"
#include "figures.h"

static const char *kind_name(csm_figure_kind k)
{
    switch (k) {
    case CSM_FIG_RATIO:
        return "ratio";
    case CSM_FIG_ONE_MINUS:
        return "one_minus";
    case CSM_FIG_AVG_MS:
        return "avg_ms";
    default:
        return "counter";
    }
}

/* Rates are fractions and averages milliseconds; the table names the
 * millisecond sums by their "_ms_sum" ending. */
static const char *unit_of(const csm_figure *f)
{
    size_t n = strlen(f->name);
    if (f->kind == CSM_FIG_RATIO || f->kind == CSM_FIG_ONE_MINUS)
        return "ratio";
    if (f->kind == CSM_FIG_AVG_MS || (n > 7 && !strcmp(f->name + n - 7, "_ms_sum")))
        return "ms";
    return "count";
}

static json_t *scopes_of(int id)
{
    static const struct {
        unsigned bit;
        const char *name;
    } scopes[] = {{CSM_FIGSCOPE_BLOCK, "board"},
                  {CSM_FIGSCOPE_SPLIT, "split"},
                  {CSM_FIGSCOPE_AGENTS, "agents"},
                  {CSM_FIGSCOPE_INTENTS, "intents"}};
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof scopes / sizeof *scopes; i++)
        if (csm_figure_in_scope(id, scopes[i].bit))
            json_array_append_new(a, json_string(scopes[i].name));
    return a;
}

static json_t *name_or_null(int id)
{
    return id >= 0 ? json_string(csm_figures[id].name) : json_null();
}

static json_t *figure_json(int id)
{
    const csm_figure *f = &csm_figures[id];
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(f->name));
    json_object_set_new(o, "label", json_string(f->label));
    json_object_set_new(o, "kind", json_string(kind_name(f->kind)));
    json_object_set_new(o, "unit", json_string(unit_of(f)));
    json_object_set_new(o, "scopes", scopes_of(id));
    if (f->kind != CSM_FIG_COUNTER) {
        json_object_set_new(o, "num", name_or_null(f->num));
        json_object_set_new(o, "num2", name_or_null(f->num2));
        json_object_set_new(o, "den", name_or_null(f->den));
    }
    return o;
}

json_t *csm_dash_figures_json(void)
{
    json_t *figures = json_array(), *hourly = json_array(), *splits = json_array();
    for (int i = 0; i < CSM_N_FIGURES; i++)
        json_array_append_new(figures, figure_json(i));
    for (int h = 0; h < CSM_N_HOURLY; h++)
        json_array_append_new(hourly, json_string(csm_hourly_names[h]));
    for (int s = 0; s < CSM_N_SPLITS; s++)
        json_array_append_new(splits, json_string(csm_splits[s]));
    json_t *o = json_object();
    json_object_set_new(o, "figures", figures);
    json_object_set_new(o, "hourly", hourly);
    json_object_set_new(o, "splits", splits);
    return o;
}
