/* The figures of metrics.md as one table: which counters exist in which
 * block, and how each rate is computed from them. The report (text and
 * JSON) and its tests read only this table. */
#ifndef CSM_FIGURES_H
#define CSM_FIGURES_H

#include <stddef.h>
#include <stdint.h>

/* In metrics.md order (the per-intent "sessions" first); rates follow
 * the counters they come from. */
typedef enum csm_figure_id {
    CSM_F_SESSIONS, /* per intent */
    CSM_F_SESSIONS_STARTED,
    CSM_F_HUMAN_REQUESTED,
    CSM_F_ASSIGNED,
    CSM_F_PICKUP_RATE,
    CSM_F_QUEUE_MS_SUM,
    CSM_F_AVG_QUEUE_MS,
    CSM_F_FIRST_REPLY_2M,
    CSM_F_FIRST_REPLY_2M_RATE,
    CSM_F_FIRST_RESP_MS_SUM,
    CSM_F_FIRST_RESP_N,
    CSM_F_AVG_FIRST_RESP_MS,
    CSM_F_ROUNDS,
    CSM_F_ROUNDS_ANSWERED,
    CSM_F_RESP_MS_SUM,
    CSM_F_AVG_RESP_MS,
    CSM_F_RESP_30S,
    CSM_F_RESP_60S,
    CSM_F_RESP_3M,
    CSM_F_RESP_30S_RATE,
    CSM_F_RESP_60S_RATE,
    CSM_F_HUMAN_REPLY_3M_RATE,
    CSM_F_UNSERVED_OFFLINE,
    CSM_F_UNSERVED_NOREPLY,
    CSM_F_UNSERVED_RATE,
    CSM_F_INVITED,
    CSM_F_RATED,
    CSM_F_RATED_4_5,
    CSM_F_RATED_5,
    CSM_F_RATED_1_2,
    CSM_F_SATISFACTION_RATE,
    CSM_F_VERY_SATISFIED_RATE,
    CSM_F_DISSATISFIED_RATE,
    CSM_F_RATING_RATE,
    CSM_F_FCR_SERVED,
    CSM_F_FCR_REPEATED,
    CSM_F_FCR_3D_RATE,
    CSM_F_REFUNDS_FINISHED,
    CSM_F_REFUND_MS_SUM,
    CSM_F_AVG_REFUND_MS,
    CSM_F_AFTERSALE_SEEKERS,
    CSM_F_ESCALATIONS,
    CSM_F_RESOLUTION_RATE,
    CSM_N_FIGURES
} csm_figure_id;

/* Where a counter exists. A rate exists wherever all its inputs do. */
#define CSM_FIGSCOPE_BLOCK 0x1u /* shop board and all-day hashes */
#define CSM_FIGSCOPE_SPLIT 0x2u /* split.<split>.<name> fields of those */
#define CSM_FIGSCOPE_AGENTS 0x4u
#define CSM_FIGSCOPE_INTENTS 0x8u

typedef enum csm_figure_kind {
    CSM_FIG_COUNTER,
    CSM_FIG_RATIO,     /* num / den */
    CSM_FIG_ONE_MINUS, /* 1 - num / den */
    CSM_FIG_AVG_MS     /* num / den, in milliseconds */
} csm_figure_kind;

typedef struct csm_figure {
    const char *name;  /* exactly as in metrics.md and the JSON */
    const char *label; /* short column heading of the text report */
    csm_figure_kind kind;
    unsigned scopes;    /* counters only */
    int num, num2, den; /* rates: counter ids; num2 is added to num, -1 if none */
} csm_figure;

extern const csm_figure csm_figures[CSM_N_FIGURES];

#define CSM_N_SPLITS 4
extern const char *const csm_splits[CSM_N_SPLITS];
#define CSM_N_HOURLY 6
extern const char *const csm_hourly_names[CSM_N_HOURLY];

/* 1 if figure id exists in scope (one CSM_FIGSCOPE_* bit). */
int csm_figure_in_scope(int id, unsigned scope);
/* Id of a figure name, -1 if unknown. */
int csm_figure_lookup(const char *name);
/* Computes rate id from counters indexed by figure id. 1 with *out set,
 * 0 when the denominator is 0 (null in the report). */
int csm_figure_rate(int id, const int64_t *counters, double *out);

/* The counters of one hash (board, allday, agent or intent), summed over
 * the days of a report. */
typedef struct csm_block {
    int64_t c[CSM_N_FIGURES];
    int64_t split[CSM_N_SPLITS][CSM_N_FIGURES];
    int64_t hourly[CSM_N_HOURLY][24];
} csm_block;

/* Adds one Redis hash field ("rated", "split.presale.rated",
 * "hourly.rated.07") to the block. Unknown fields are ignored (0): a
 * newer writer may add figures an older report does not know. */
void csm_block_add_field(csm_block *b, const char *field, int64_t value);

#endif
