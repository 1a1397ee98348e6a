/* The report as text, for a shop manager: the board grouped as the
 * platforms' own boards (the declared groups), rates as percentages with
 * their counts, durations in s/min, a compact agent table, intents top 10
 * and the alerts in time order, in the shop's time zone. Every figure
 * shown comes from the registry (figures.h). */
#ifndef CSM_REPORT_TEXT_H
#define CSM_REPORT_TEXT_H

#include <stdio.h>

#include "report.h"
#include "shoptime.h"

typedef struct csm_report_text {
    const csm_config *cfg;
    csm_shoptime *st;       /* time zone and per-shop targets */
    int all_agents;         /* every agent's full figures after the table */
    const char *only_agent; /* just this agent's full figures and alerts */
} csm_report_text;

/* Prints r. -1 when only_agent has no figures in the range (nothing
 * printed: the caller says so), -2 out of memory. */
int csm_report_print(FILE *out, const csm_report *r, const csm_report_text *o);

/* ---- shared by report_text*.c ---------------------------------------- */

#define CSM_TEXT_LABEL_W 26

/* Pads s (UTF-8) with spaces to w columns: after it, or before it
 * (right-aligned). */
void csm_text_pad(FILE *out, const char *s, size_t w);
void csm_text_rpad(FILE *out, const char *s, size_t w);
/* Milliseconds as "36.7 s", "2.0 min" or "7.5 h". */
void csm_text_duration(char *buf, size_t n, double ms);
/* Figure id of counters c: the value in main ("87.5 %", "36.7 s", "4")
 * and, for rates and averages, their counts in extra ("(7 of 8)", or
 * "7/8" when compact; "(over 6)", or nothing when compact). */
void csm_text_cell(const csm_registry *reg, int id, const int64_t *c, int compact, char *main,
                   char *extra, size_t n);
/* 1 if figure id gets a line of its own where (a CSM_FIGURE_* bit): a
 * counter shown inside a derived figure (its numerator, or the sum and
 * count behind an average) does not. */
int csm_text_own_line(const csm_registry *reg, int id, unsigned where);

void csm_text_agents(FILE *out, const csm_report *r, const csm_report_text *o);
void csm_text_intents(FILE *out, const csm_report *r);
void csm_text_alerts(FILE *out, const csm_report *r, const csm_report_text *o);

#endif
