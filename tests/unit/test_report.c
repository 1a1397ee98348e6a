/* The figures table behind `csmetrics report`: rates from counters, null
 * on a zero denominator, and the Redis hash fields it reads. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "figures.h"

static int rate_of(int id, const int64_t *c, double *v)
{
    return csm_figure_rate(id, c, v);
}

static void assert_rate(int id, const int64_t *c, double want)
{
    double v = -1;
    assert_int_equal(rate_of(id, c, &v), 1);
    assert_true(fabs(v - want) < 1e-12);
}

static void test_every_rate_null_on_zero(void **state)
{
    (void)state;
    int64_t c[CSM_N_FIGURES] = {0};
    /* Numerators alone never make a rate. */
    for (int i = 0; i < CSM_N_FIGURES; i++)
        if (csm_figures[i].kind == CSM_FIG_COUNTER && i != CSM_F_HUMAN_REQUESTED &&
            i != CSM_F_ASSIGNED && i != CSM_F_FIRST_RESP_N && i != CSM_F_ROUNDS &&
            i != CSM_F_ROUNDS_ANSWERED && i != CSM_F_RATED && i != CSM_F_INVITED &&
            i != CSM_F_FCR_SERVED && i != CSM_F_REFUNDS_FINISHED && i != CSM_F_AFTERSALE_SEEKERS)
            c[i] = 3;
    int rates = 0;
    for (int i = 0; i < CSM_N_FIGURES; i++) {
        if (csm_figures[i].kind == CSM_FIG_COUNTER)
            continue;
        double v;
        assert_int_equal(rate_of(i, c, &v), 0);
        rates++;
    }
    assert_int_equal(rates, 16);
}

static void test_rates(void **state)
{
    (void)state;
    int64_t c[CSM_N_FIGURES] = {0};
    c[CSM_F_HUMAN_REQUESTED] = 8;
    c[CSM_F_ASSIGNED] = 6;
    c[CSM_F_QUEUE_MS_SUM] = 60000;
    c[CSM_F_FIRST_REPLY_2M] = 4;
    c[CSM_F_ROUNDS] = 10;
    c[CSM_F_ROUNDS_ANSWERED] = 8;
    c[CSM_F_RESP_3M] = 7;
    c[CSM_F_RESP_30S] = 2;
    c[CSM_F_UNSERVED_OFFLINE] = 1;
    c[CSM_F_UNSERVED_NOREPLY] = 1;
    c[CSM_F_INVITED] = 5;
    c[CSM_F_RATED] = 4;
    c[CSM_F_RATED_4_5] = 3;
    c[CSM_F_RATED_1_2] = 1;
    c[CSM_F_FCR_SERVED] = 4;
    c[CSM_F_FCR_REPEATED] = 1;
    c[CSM_F_AFTERSALE_SEEKERS] = 2;
    c[CSM_F_ESCALATIONS] = 3;
    assert_rate(CSM_F_PICKUP_RATE, c, 0.75);
    assert_rate(CSM_F_AVG_QUEUE_MS, c, 10000);
    assert_rate(CSM_F_FIRST_REPLY_2M_RATE, c, 0.5);
    assert_rate(CSM_F_HUMAN_REPLY_3M_RATE, c, 0.7);
    assert_rate(CSM_F_RESP_30S_RATE, c, 0.25);
    assert_rate(CSM_F_UNSERVED_RATE, c, 0.25);
    assert_rate(CSM_F_SATISFACTION_RATE, c, 0.75);
    assert_rate(CSM_F_DISSATISFIED_RATE, c, 0.25);
    assert_rate(CSM_F_RATING_RATE, c, 0.8);
    assert_rate(CSM_F_FCR_3D_RATE, c, 0.75);
    assert_rate(CSM_F_RESOLUTION_RATE, c, -0.5); /* not clamped */
    double v;
    assert_int_equal(rate_of(CSM_F_AVG_REFUND_MS, c, &v), 0);
    assert_int_equal(rate_of(CSM_F_RATED, c, &v), 0); /* a counter is no rate */
}

static void test_scopes(void **state)
{
    (void)state;
    assert_true(csm_figure_in_scope(CSM_F_PICKUP_RATE, CSM_FIGSCOPE_BLOCK));
    assert_false(csm_figure_in_scope(CSM_F_PICKUP_RATE, CSM_FIGSCOPE_AGENTS));
    assert_true(csm_figure_in_scope(CSM_F_AVG_RESP_MS, CSM_FIGSCOPE_AGENTS));
    assert_true(csm_figure_in_scope(CSM_F_SATISFACTION_RATE, CSM_FIGSCOPE_AGENTS));
    assert_false(csm_figure_in_scope(CSM_F_DISSATISFIED_RATE, CSM_FIGSCOPE_AGENTS));
    assert_false(csm_figure_in_scope(CSM_F_UNSERVED_RATE, CSM_FIGSCOPE_AGENTS));
    assert_true(csm_figure_in_scope(CSM_F_DISSATISFIED_RATE, CSM_FIGSCOPE_INTENTS));
    assert_true(csm_figure_in_scope(CSM_F_SESSIONS, CSM_FIGSCOPE_INTENTS));
    assert_false(csm_figure_in_scope(CSM_F_SESSIONS, CSM_FIGSCOPE_BLOCK));
    int split = 0, intents = 0;
    for (int i = 0; i < CSM_N_FIGURES; i++) {
        split += csm_figure_in_scope(i, CSM_FIGSCOPE_SPLIT);
        intents += csm_figure_in_scope(i, CSM_FIGSCOPE_INTENTS);
        assert_int_equal(csm_figure_lookup(csm_figures[i].name), i);
    }
    assert_int_equal(split, 9);   /* 5 satisfaction counters + 4 rates */
    assert_int_equal(intents, 4); /* sessions, rated, rated_1_2, dissatisfied_rate */
    assert_int_equal(csm_figure_lookup("nope"), -1);
}

static void test_block_fields(void **state)
{
    (void)state;
    static csm_block b;
    memset(&b, 0, sizeof b);
    csm_block_add_field(&b, "rated", 2);
    csm_block_add_field(&b, "rated", 3);
    csm_block_add_field(&b, "split.aftersale.rated_1_2", 4);
    csm_block_add_field(&b, "split.robot.invited", 1);
    csm_block_add_field(&b, "hourly.sessions_started.07", 9);
    csm_block_add_field(&b, "hourly.unserved.23", 1);
    /* Unknown or malformed fields are ignored. */
    csm_block_add_field(&b, "hourly.unserved.24", 1);
    csm_block_add_field(&b, "hourly.unserved.7", 1);
    csm_block_add_field(&b, "split.nosuch.rated", 1);
    csm_block_add_field(&b, "split.presale", 1);
    csm_block_add_field(&b, "pickup_rate", 1);
    csm_block_add_field(&b, "future_figure", 1);
    assert_int_equal(b.c[CSM_F_RATED], 5);
    assert_int_equal(b.split[1][CSM_F_RATED_1_2], 4);
    assert_int_equal(b.split[3][CSM_F_INVITED], 1);
    assert_int_equal(b.hourly[0][7], 9);
    assert_int_equal(b.hourly[3][23], 1);
    assert_int_equal(b.c[CSM_F_PICKUP_RATE], 0);
    int64_t sum = 0;
    for (int i = 0; i < CSM_N_FIGURES; i++)
        sum += b.c[i];
    for (int s = 0; s < CSM_N_SPLITS; s++)
        for (int i = 0; i < CSM_N_FIGURES; i++)
            sum += b.split[s][i];
    for (int h = 0; h < CSM_N_HOURLY; h++)
        for (int i = 0; i < 24; i++)
            sum += b.hourly[h][i];
    assert_int_equal(sum, 5 + 4 + 1 + 9 + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_rate_null_on_zero),
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_scopes),
        cmocka_unit_test(test_block_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
