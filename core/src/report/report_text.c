/* The report as text: cells, the board by group, splits and hours. */
#include "report_text.h"

#include <stdlib.h>
#include <string.h>

#include "civil_day.h"

#define VALUE_W 24
#define MAIN_W 9
#define SPLIT_W 18
#define HOUR_W 6

/* ---- cells ------------------------------------------------------------- */

static size_t display_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80; /* continuation bytes take no column */
    return w;
}

void csm_text_pad(FILE *out, const char *s, size_t w)
{
    fputs(s, out);
    for (size_t k = display_width(s); k < w; k++)
        fputc(' ', out);
}

void csm_text_rpad(FILE *out, const char *s, size_t w)
{
    for (size_t k = display_width(s); k < w; k++)
        fputc(' ', out);
    fputs(s, out);
}

void csm_text_duration(char *buf, size_t n, double ms)
{
    if (ms < 60000 && ms > -60000)
        snprintf(buf, n, "%.1f s", ms / 1000);
    else if (ms < 3600000 && ms > -3600000)
        snprintf(buf, n, "%.1f min", ms / 60000);
    else
        snprintf(buf, n, "%.1f h", ms / 3600000);
}

/* A counter's or an average's value in its unit. */
static void in_unit(char *buf, size_t n, const char *unit, double v, int integral)
{
    if (!strcmp(unit, "ms"))
        csm_text_duration(buf, n, v);
    else if (!strcmp(unit, "count"))
        snprintf(buf, n, integral ? "%.0f" : "%.1f", v);
    else
        snprintf(buf, n, integral ? "%.0f %s" : "%.1f %s", v, unit);
}

void csm_text_cell(const csm_registry *reg, int id, const int64_t *c, int compact, char *main,
                   char *extra, size_t n)
{
    const csm_figure *f = &reg->fig[id];
    double v;
    extra[0] = 0;
    if (f->kind == CSM_FIGURE_COUNTER) {
        in_unit(main, n, f->unit, (double)c[id], 1);
        return;
    }
    if (!csm_figure_rate(reg, id, c, &v)) {
        snprintf(main, n, "-");
        return;
    }
    long long den = (long long)c[f->den];
    if (f->kind == CSM_FIGURE_AVERAGE) {
        in_unit(main, n, f->unit, v, 0);
        if (!compact)
            snprintf(extra, n, "(over %lld)", den);
        return;
    }
    long long num = (long long)c[f->num] + (f->num2 >= 0 ? (long long)c[f->num2] : 0);
    if (f->kind == CSM_FIGURE_ONE_MINUS)
        num = den - num; /* the part the rate counts: resolved, not escalated */
    snprintf(main, n, "%.1f %%", v * 100);
    snprintf(extra, n, compact ? "%lld/%lld" : "(%lld of %lld)", num, den);
}

int csm_text_own_line(const csm_registry *reg, int id, unsigned where)
{
    if (reg->fig[id].kind != CSM_FIGURE_COUNTER)
        return 1;
    int den_of_rate = 0, den_of_average = 0;
    for (size_t i = 0; i < reg->n; i++) {
        const csm_figure *g = &reg->fig[i];
        if (g->kind == CSM_FIGURE_COUNTER || !(g->where & where))
            continue;
        if (g->num == id || g->num2 == id)
            return 0;
        if (g->den == id)
            *(g->kind == CSM_FIGURE_AVERAGE ? &den_of_average : &den_of_rate) = 1;
    }
    return den_of_rate || !den_of_average;
}

/* One value column: the main value right-aligned, then its counts. */
static void put_cell(FILE *out, const csm_registry *reg, int id, const int64_t *c, size_t w)
{
    char main[48], extra[48], buf[104];
    csm_text_cell(reg, id, c, 0, main, extra, sizeof main);
    snprintf(buf, sizeof buf, "%*s%s%s", MAIN_W, main, extra[0] ? "  " : "", extra);
    csm_text_pad(out, buf, w);
}

/* "  below target ≥ 80 %" when the board value misses the figure's target. */
static void put_target(FILE *out, const csm_report *r, const csm_report_text *o, int id)
{
    double t, v;
    csm_figure_target_dir dir = csm_figure_target(r->reg, id, o->cfg, o->st, r->shop, &t);
    if (dir == CSM_TARGET_NONE || !csm_figure_rate(r->reg, id, r->board.c, &v))
        return;
    int below = dir == CSM_TARGET_AT_LEAST;
    if (below ? v < t : v > t)
        fprintf(out, "  %s target %s %.4g %%", below ? "below" : "above", below ? "≥" : "≤",
                t * 100);
}

/* ---- board ------------------------------------------------------------- */

static void put_splits(FILE *out, const csm_report *r)
{
    const csm_registry *reg = r->reg;
    fputs("  ", out);
    csm_text_pad(out, "by split (board)", CSM_TEXT_LABEL_W - 2);
    for (int s = 0; s < CSM_N_SPLITS; s++)
        fprintf(out, "%*s", SPLIT_W, csm_splits[s]);
    fputc('\n', out);
    for (int id = 0; (size_t)id < reg->n; id++) {
        if (!csm_figure_in_scope(reg, id, CSM_FIGURE_SPLITS) ||
            !csm_text_own_line(reg, id, CSM_FIGURE_SPLITS))
            continue;
        fputs("    ", out);
        csm_text_pad(out, reg->fig[id].label, CSM_TEXT_LABEL_W - 4);
        for (int s = 0; s < CSM_N_SPLITS; s++) {
            char main[48], extra[48], buf[104];
            csm_text_cell(reg, id, r->board.split[s], 1, main, extra, sizeof main);
            snprintf(buf, sizeof buf, "%s%s%s", main, extra[0] ? " " : "", extra);
            fprintf(out, "%*s", SPLIT_W, buf);
        }
        fputc('\n', out);
    }
}

/* 1 if a board figure of group g (the group of figure first) is shown
 * where, i.e. the group has such a line. */
static int group_has(const csm_registry *reg, int first, unsigned where)
{
    for (size_t i = (size_t)first; i < reg->n; i++)
        if (!strcmp(reg->fig[i].group, reg->fig[first].group) &&
            csm_figure_in_scope(reg, (int)i, where))
            return 1;
    return 0;
}

/* 1 if figure id starts its group (no figure before it has the group). */
static int group_starts(const csm_registry *reg, int id)
{
    for (int i = 0; i < id; i++)
        if (!strcmp(reg->fig[i].group, reg->fig[id].group) &&
            csm_figure_in_scope(reg, i, CSM_FIGURE_BOARD))
            return 0;
    return 1;
}

static void put_group(FILE *out, const csm_report *r, const csm_report_text *o, int first,
                      int *splits_done)
{
    const csm_registry *reg = r->reg;
    fprintf(out, "%s\n", reg->fig[first].group);
    for (int id = first; (size_t)id < reg->n; id++) {
        if (strcmp(reg->fig[id].group, reg->fig[first].group) ||
            !csm_figure_in_scope(reg, id, CSM_FIGURE_BOARD) ||
            !csm_text_own_line(reg, id, CSM_FIGURE_BOARD))
            continue;
        fputs("  ", out);
        csm_text_pad(out, reg->fig[id].label, CSM_TEXT_LABEL_W - 2);
        put_cell(out, reg, id, r->board.c, VALUE_W);
        put_cell(out, reg, id, r->allday.c, VALUE_W);
        put_target(out, r, o, id);
        fputc('\n', out);
    }
    if (!*splits_done && group_has(reg, first, CSM_FIGURE_SPLITS)) {
        put_splits(out, r);
        *splits_done = 1;
    }
}

static void put_board(FILE *out, const csm_report *r, const csm_report_text *o)
{
    csm_text_pad(out, "", CSM_TEXT_LABEL_W);
    csm_text_pad(out, "    board", VALUE_W);
    fputs("  all day\n", out);
    int splits_done = 0;
    for (int id = 0; (size_t)id < r->reg->n; id++)
        if (csm_figure_in_scope(r->reg, id, CSM_FIGURE_BOARD) && group_starts(r->reg, id))
            put_group(out, r, o, id, &splits_done);
}

/* Rows: the hourly series; columns: hours from..from+11. */
static void put_hours(FILE *out, const csm_report *r, int from)
{
    csm_text_pad(out, "", CSM_TEXT_LABEL_W);
    for (int h = from; h < from + 12; h++)
        fprintf(out, "%*d", HOUR_W, h);
    fputc('\n', out);
    for (int id = 0; (size_t)id < r->reg->n; id++) {
        if (!csm_figure_in_scope(r->reg, id, CSM_FIGURE_HOURLY))
            continue;
        fputs("  ", out);
        csm_text_pad(out, r->reg->fig[id].label, CSM_TEXT_LABEL_W - 2);
        for (int h = from; h < from + 12; h++)
            fprintf(out, "%*lld", HOUR_W, (long long)r->board.hourly[id][h]);
        fputc('\n', out);
    }
}

static void put_header(FILE *out, const csm_report *r, int board)
{
    char d1[11], d2[11];
    csm_day_format(r->from, d1);
    csm_day_format(r->to, d2);
    if (r->to == r->from)
        fprintf(out, "shop %s, %s\n", r->shop, d1);
    else
        fprintf(out, "shop %s, %s .. %s (counters summed, rates from the sums)\n", r->shop, d1, d2);
    if (board)
        fputs("board: figures anchored in the assessment window; all day: the whole day\n", out);
    fputc('\n', out);
}

static int has_agent(const csm_report *r, const char *agent)
{
    for (size_t i = 0; i < r->agents.n; i++)
        if (!strcmp(r->agents.v[i].name, agent))
            return 1;
    return 0;
}

/* Copies text to out without the spaces that padding left at line ends. */
static void put_trimmed(FILE *out, const char *text, size_t len)
{
    const char *end = text + len;
    while (text < end) {
        const char *nl = memchr(text, '\n', (size_t)(end - text));
        const char *stop = nl ? nl : end, *last = stop;
        while (last > text && last[-1] == ' ')
            last--;
        fwrite(text, 1, (size_t)(last - text), out);
        if (nl)
            fputc('\n', out);
        text = nl ? nl + 1 : end;
    }
}

static void put_report(FILE *out, const csm_report *r, const csm_report_text *o)
{
    put_header(out, r, !o->only_agent);
    if (!o->only_agent) {
        put_board(out, r, o);
        fputs("\nper hour (board, shop-local hours)\n", out);
        put_hours(out, r, 0);
        put_hours(out, r, 12);
        fputc('\n', out);
    }
    csm_text_agents(out, r, o);
    if (!o->only_agent)
        csm_text_intents(out, r);
    csm_text_alerts(out, r, o);
}

int csm_report_print(FILE *out, const csm_report *r, const csm_report_text *o)
{
    if (o->only_agent && !has_agent(r, o->only_agent))
        return -1;
    /* Columns are padded as they are written; the padding of the last
     * column goes when the text is copied out. */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return -2;
    put_report(mem, r, o);
    if (fclose(mem)) {
        free(text);
        return -2;
    }
    put_trimmed(out, text, len);
    free(text);
    return 0;
}
