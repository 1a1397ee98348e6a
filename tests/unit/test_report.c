/* The figure registry behind `csmetrics report`, built from the figures
 * the built-in plugins declare: rates from counters, null on a zero
 * denominator, where each figure exists, the Redis hash fields it reads;
 * and the rules of the declarations (ABI 1.3). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "figures.h"

typedef struct world {
    csm_config cfg;
    csm_registry *reg;
} world;

static world *load(const char *yaml)
{
    static world w;
    char err[512] = "";
    memset(&w, 0, sizeof w);
    if (csm_config_load_string(yaml, &w.cfg, err, sizeof err))
        fail_msg("config: %s", err);
    w.reg = csm_registry_load(&w.cfg, err, sizeof err);
    if (!w.reg)
        fail_msg("registry: %s", err);
    return &w;
}

static int setup(void **state)
{
    *state = load(""); /* the default chain */
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    csm_registry_free(w->reg);
    csm_config_free(&w->cfg);
    return 0;
}

static int F(const csm_registry *reg, const char *name)
{
    int id = csm_figure_lookup(reg, name);
    if (id < 0)
        fail_msg("no figure '%s'", name);
    return id;
}

static void assert_rate(const csm_registry *reg, const char *name, const int64_t *c, double want)
{
    double v = -1;
    assert_int_equal(csm_figure_rate(reg, F(reg, name), c, &v), 1);
    assert_true(fabs(v - want) < 1e-12);
}

static void test_every_rate_null_on_zero(void **state)
{
    const csm_registry *reg = ((world *)*state)->reg;
    int64_t *c = calloc(reg->n, sizeof *c);
    static const char *const dens[] = {
        "human_requested", "assigned", "first_resp_n", "rounds",           "rounds_answered",
        "rated",           "invited",  "fcr_served",   "refunds_finished", "aftersale_seekers"};
    /* Numerators alone never make a rate. */
    for (size_t i = 0; i < reg->n; i++)
        c[i] = reg->fig[i].kind == CSM_FIGURE_COUNTER ? 3 : 0;
    for (size_t k = 0; k < sizeof dens / sizeof *dens; k++)
        c[F(reg, dens[k])] = 0;
    int rates = 0;
    for (size_t i = 0; i < reg->n; i++) {
        if (reg->fig[i].kind == CSM_FIGURE_COUNTER)
            continue;
        double v;
        assert_int_equal(csm_figure_rate(reg, (int)i, c, &v), 0);
        rates++;
    }
    assert_int_equal(rates, 16);
    free(c);
}

static void test_rates(void **state)
{
    const csm_registry *reg = ((world *)*state)->reg;
    int64_t *c = calloc(reg->n, sizeof *c);
    c[F(reg, "human_requested")] = 8;
    c[F(reg, "assigned")] = 6;
    c[F(reg, "queue_ms_sum")] = 60000;
    c[F(reg, "first_reply_2m")] = 4;
    c[F(reg, "rounds")] = 10;
    c[F(reg, "rounds_answered")] = 8;
    c[F(reg, "resp_3m")] = 7;
    c[F(reg, "resp_30s")] = 2;
    c[F(reg, "unserved_offline")] = 1;
    c[F(reg, "unserved_noreply")] = 1;
    c[F(reg, "invited")] = 5;
    c[F(reg, "rated")] = 4;
    c[F(reg, "rated_4_5")] = 3;
    c[F(reg, "rated_1_2")] = 1;
    c[F(reg, "fcr_served")] = 4;
    c[F(reg, "fcr_repeated")] = 1;
    c[F(reg, "aftersale_seekers")] = 2;
    c[F(reg, "escalations")] = 3;
    assert_rate(reg, "pickup_rate", c, 0.75);
    assert_rate(reg, "avg_queue_ms", c, 10000);
    assert_rate(reg, "first_reply_2m_rate", c, 0.5);
    assert_rate(reg, "human_reply_3m_rate", c, 0.7);
    assert_rate(reg, "resp_30s_rate", c, 0.25);
    assert_rate(reg, "unserved_rate", c, 0.25);
    assert_rate(reg, "satisfaction_rate", c, 0.75);
    assert_rate(reg, "dissatisfied_rate", c, 0.25);
    assert_rate(reg, "rating_rate", c, 0.8);
    assert_rate(reg, "fcr_3d_rate", c, 0.75);
    assert_rate(reg, "resolution_rate", c, -0.5); /* not clamped */
    double v;
    assert_int_equal(csm_figure_rate(reg, F(reg, "avg_refund_ms"), c, &v), 0);
    assert_int_equal(csm_figure_rate(reg, F(reg, "rated"), c, &v), 0); /* a counter is no rate */
    free(c);
}

static void test_scopes(void **state)
{
    const csm_registry *reg = ((world *)*state)->reg;
    assert_true(csm_figure_in_scope(reg, F(reg, "pickup_rate"), CSM_FIGURE_BOARD));
    assert_false(csm_figure_in_scope(reg, F(reg, "pickup_rate"), CSM_FIGURE_AGENTS));
    assert_true(csm_figure_in_scope(reg, F(reg, "avg_resp_ms"), CSM_FIGURE_AGENTS));
    assert_true(csm_figure_in_scope(reg, F(reg, "satisfaction_rate"), CSM_FIGURE_AGENTS));
    assert_false(csm_figure_in_scope(reg, F(reg, "dissatisfied_rate"), CSM_FIGURE_AGENTS));
    assert_false(csm_figure_in_scope(reg, F(reg, "unserved_rate"), CSM_FIGURE_AGENTS));
    assert_true(csm_figure_in_scope(reg, F(reg, "dissatisfied_rate"), CSM_FIGURE_INTENTS));
    assert_true(csm_figure_in_scope(reg, F(reg, "sessions"), CSM_FIGURE_INTENTS));
    assert_false(csm_figure_in_scope(reg, F(reg, "sessions"), CSM_FIGURE_BOARD));
    int split = 0, intents = 0, board = 0, hourly = 0;
    for (size_t i = 0; i < reg->n; i++) {
        split += csm_figure_in_scope(reg, (int)i, CSM_FIGURE_SPLITS);
        intents += csm_figure_in_scope(reg, (int)i, CSM_FIGURE_INTENTS);
        board += csm_figure_in_scope(reg, (int)i, CSM_FIGURE_BOARD);
        hourly += csm_figure_in_scope(reg, (int)i, CSM_FIGURE_HOURLY);
        assert_int_equal(csm_figure_lookup(reg, reg->fig[i].name), (int)i);
    }
    assert_int_equal(split, 9);   /* 5 satisfaction counters + 4 rates */
    assert_int_equal(intents, 4); /* sessions, rated, rated_1_2, dissatisfied_rate */
    assert_int_equal(board, 42);  /* the 42 figures of metrics.md's board table */
    assert_int_equal(hourly, 6);  /* sessions_started … rated_4_5, with "unserved" */
    assert_int_equal(reg->n, 44); /* + per-intent sessions + the hourly unserved */
    assert_int_equal(csm_figure_lookup(reg, "nope"), -1);
}

static void test_block_fields(void **state)
{
    const csm_registry *reg = ((world *)*state)->reg;
    csm_block b;
    assert_int_equal(csm_block_init(&b, reg), 0);
    csm_block_add_field(reg, &b, "rated", 2);
    csm_block_add_field(reg, &b, "rated", 3);
    csm_block_add_field(reg, &b, "split.aftersale.rated_1_2", 4);
    csm_block_add_field(reg, &b, "split.robot.invited", 1);
    csm_block_add_field(reg, &b, "hourly.sessions_started.07", 9);
    csm_block_add_field(reg, &b, "hourly.unserved.23", 1);
    /* Unknown or malformed fields are ignored. */
    csm_block_add_field(reg, &b, "hourly.unserved.24", 1);
    csm_block_add_field(reg, &b, "hourly.unserved.7", 1);
    csm_block_add_field(reg, &b, "split.nosuch.rated", 1);
    csm_block_add_field(reg, &b, "split.presale", 1);
    csm_block_add_field(reg, &b, "pickup_rate", 1);
    csm_block_add_field(reg, &b, "future_figure", 1);
    assert_int_equal(b.c[F(reg, "rated")], 5);
    assert_int_equal(b.split[1][F(reg, "rated_1_2")], 4);
    assert_int_equal(b.split[3][F(reg, "invited")], 1);
    assert_int_equal(b.hourly[F(reg, "sessions_started")][7], 9);
    assert_int_equal(b.hourly[F(reg, "unserved")][23], 1);
    assert_int_equal(b.c[F(reg, "pickup_rate")], 0);
    int64_t sum = 0;
    for (size_t i = 0; i < reg->n; i++) {
        sum += b.c[i];
        for (int s = 0; s < CSM_N_SPLITS; s++)
            sum += b.split[s][i];
        for (int h = 0; h < 24; h++)
            sum += b.hourly[i][h];
    }
    assert_int_equal(sum, 5 + 4 + 1 + 9 + 1);
    csm_block_free(&b);
}

/* Each plugin's figures come with its name, section and labels. */
static void test_declared_by_plugins(void **state)
{
    const csm_registry *reg = ((world *)*state)->reg;
    const csm_figure *f = &reg->fig[F(reg, "first_reply_2m_rate")];
    assert_string_equal(f->plugin, "sla");
    assert_string_equal(f->group, "core monitor");
    assert_string_equal(f->label, "first reply ≤ 2 min");
    assert_int_equal(f->num, F(reg, "first_reply_2m"));
    assert_int_equal(f->den, F(reg, "human_requested")); /* the session builder's */
    assert_string_equal(reg->fig[F(reg, "human_requested")].plugin, "session");
    assert_string_equal(reg->fig[F(reg, "resolution_rate")].group, "after-sale");
    assert_true(reg->fig[F(reg, "aftersale_seekers")].flags & CSM_FIGURE_SET);
    const csm_alert_type *t = csm_alert_type_lookup(reg, "SATISFACTION_BELOW_TARGET");
    assert_non_null(t);
    assert_string_equal(t->unit, "bp");
    assert_string_equal(t->plugin, "csmetrics");
    assert_string_equal(csm_alert_type_lookup(reg, "FIRST_RESPONSE_TIMEOUT")->unit, "ms");
    assert_string_equal(csm_alert_type_lookup(reg, "DISSATISFIED")->unit, "stars");
    assert_int_equal(reg->n_alerts, 6);
    assert_null(csm_alert_type_lookup(reg, "NO_SUCH_ALERT"));
}

/* The satisfaction target: the shop's own, else alerts.satisfaction_target,
 * else the declared 80 %. */
static void test_targets(void **state)
{
    (void)state;
    world *w = load("alerts:\n  satisfaction_target: \"70%\"\n"
                    "shops:\n  s9:\n    satisfaction_target: \"0.9\"\n");
    char err[256];
    csm_shoptime *st = csm_shoptime_new(&w->cfg, err, sizeof err);
    assert_non_null(st);
    double t = 0;
    int id = F(w->reg, "satisfaction_rate");
    assert_int_equal(csm_figure_target(w->reg, id, &w->cfg, st, "s9", &t), CSM_TARGET_AT_LEAST);
    assert_true(fabs(t - 0.9) < 1e-12);
    assert_int_equal(csm_figure_target(w->reg, id, &w->cfg, st, "s1", &t), CSM_TARGET_AT_LEAST);
    assert_true(fabs(t - 0.7) < 1e-12);
    assert_int_equal(csm_figure_target(w->reg, F(w->reg, "pickup_rate"), &w->cfg, st, "s1", &t),
                     CSM_TARGET_NONE);
    csm_shoptime_free(st);
    teardown((void **)&w);

    w = load("");
    st = csm_shoptime_new(&w->cfg, err, sizeof err);
    id = F(w->reg, "satisfaction_rate");
    assert_int_equal(csm_figure_target(w->reg, id, &w->cfg, st, "s1", &t), CSM_TARGET_AT_LEAST);
    assert_true(fabs(t - 0.8) < 1e-12);
    csm_shoptime_free(st);
    teardown((void **)&w);
}

/* A new plugin's figures join the registry, in a section of their own. */
static void test_new_plugin(void **state)
{
    (void)state;
    world *w = load("plugins: [session, parcels]\n");
    int rate = F(w->reg, "parcel_stall_rate");
    assert_string_equal(w->reg->fig[rate].group, "logistics");
    assert_int_equal(w->reg->fig[rate].den, F(w->reg, "parcel_updates"));
    assert_true(csm_figure_in_scope(w->reg, rate, CSM_FIGURE_BOARD));
    assert_true(csm_figure_in_scope(w->reg, F(w->reg, "parcel_updates"), CSM_FIGURE_HOURLY));
    assert_false(csm_figure_in_scope(w->reg, rate, CSM_FIGURE_HOURLY));
    assert_int_equal(csm_figure_lookup(w->reg, "rated"), -1); /* satisfaction is not loaded */
    teardown((void **)&w);
}

/* Descriptors older than 1.3 declare nothing, even with bytes past their
 * end that look like a table (old_abi fills them with a broken rate). */
static void test_old_plugins_declare_nothing(void **state)
{
    (void)state;
    world *w = load("plugins: [old_abi]\n");
    assert_int_equal(w->reg->n, 0);
    assert_int_equal(w->reg->n_alerts, 1); /* the core's own */
    teardown((void **)&w);

    static const csm_figure_decl figs[] = {
        CSM_FIGURE(.name = "x", .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD), {0}};
    csm_plugin p12 = {.struct_size = offsetof(csm_plugin, figures), .name = "p12"};
    p12.figures = figs;
    const csm_plugin *chain[] = {&p12};
    char err[256];
    csm_registry *reg = csm_registry_build(chain, 1, err, sizeof err);
    assert_non_null(reg);
    assert_int_equal(reg->n, 0);
    csm_registry_free(reg);
}

static void assert_refused(const csm_figure_decl *a, const csm_figure_decl *b, const char *want)
{
    csm_plugin pa = {.struct_size = sizeof pa, .name = "pa", .figures = a};
    csm_plugin pb = {.struct_size = sizeof pb, .name = "pb", .figures = b};
    const csm_plugin *chain[] = {&pa, &pb};
    char err[512] = "";
    assert_null(csm_registry_build(chain, 2, err, sizeof err));
    if (!strstr(err, want))
        fail_msg("error '%s' does not say '%s'", err, want);
}

static void test_declarations_refused(void **state)
{
    (void)state;
    static const csm_figure_decl counter[] = {
        CSM_FIGURE(.name = "n", .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD), {0}};
    static const csm_figure_decl again[] = {
        CSM_FIGURE(.name = "n", .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_AGENTS), {0}};
    static const csm_figure_decl orphan[] = {
        CSM_FIGURE(.name = "r", .kind = CSM_FIGURE_RATE, .num = "n", .den = "gone"), {0}};
    static const csm_figure_decl of_rate[] = {
        CSM_FIGURE(.name = "r", .kind = CSM_FIGURE_RATE, .num = "n", .den = "n"),
        CSM_FIGURE(.name = "r2", .kind = CSM_FIGURE_RATE, .num = "n", .den = "r"),
        {0}};
    static const csm_figure_decl nowhere[] = {CSM_FIGURE(.name = "c", .kind = CSM_FIGURE_COUNTER),
                                              {0}};
    static const csm_figure_decl placed_rate[] = {CSM_FIGURE(.name = "r", .kind = CSM_FIGURE_RATE,
                                                             .num = "n", .den = "n",
                                                             .where = CSM_FIGURE_BOARD),
                                                  {0}};
    csm_figure_decl small[2] = {
        CSM_FIGURE(.name = "s", .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD), {0}};
    small[0].struct_size = 8;
    assert_refused(counter, again, "plugin 'pb': figure 'n' is already declared by plugin 'pa'");
    assert_refused(counter, orphan,
                   "plugin 'pb': figure 'r' is made of 'gone', which no plugin of the chain "
                   "declares as a counter");
    assert_refused(counter, of_rate, "figure 'r2' is made of 'r'");
    assert_refused(counter, nowhere, "plugin 'pb': figure 'c': a counter needs 'where'");
    assert_refused(counter, placed_rate, "plugin 'pb': figure 'r': a counter needs 'where'");
    assert_refused(counter, small, "plugin 'pb': figures entry 1 has struct_size 8");

    /* A rate may come before the counter it uses, in the chain. */
    csm_plugin pa = {.struct_size = sizeof pa, .name = "pa", .figures = orphan};
    static const csm_figure_decl both[] = {
        CSM_FIGURE(.name = "n", .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD),
        CSM_FIGURE(.name = "gone", .kind = CSM_FIGURE_COUNTER, .where = CSM_FIGURE_BOARD),
        {0}};
    csm_plugin pb = {.struct_size = sizeof pb, .name = "pb", .figures = both};
    const csm_plugin *chain[] = {&pa, &pb};
    char err[256];
    csm_registry *reg = csm_registry_build(chain, 2, err, sizeof err);
    assert_non_null(reg);
    assert_int_equal(reg->fig[0].den, 2);
    csm_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_rate_null_on_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scopes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_declared_by_plugins, setup, teardown),
        cmocka_unit_test(test_targets),
        cmocka_unit_test(test_new_plugin),
        cmocka_unit_test(test_old_plugins_declare_nothing),
        cmocka_unit_test(test_declarations_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
