/* The fetcher of schema_registry.h: one thread that owns the client,
 * a list of ids asked for (each with its next attempt and backoff) and
 * a list of answers the caller's thread drains with poll(). */
#include "schema_registry.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "registry_client.h"
#include "time_bounds.h"

/* The first retry of an unreachable registry; then doubling up to
 * retry_max_ms. */
#define RETRY_FIRST_MS 250

typedef struct wanted {
    int32_t id;
    int64_t next_ms;  /* monotonic time of the next attempt */
    int64_t delay_ms; /* the wait after the next failure */
    int answered;     /* FOUND or NOT_FOUND, not yet taken by poll() */
} wanted;

typedef struct answer {
    struct answer *next;
    int32_t id;
    csm_schema_status status;
    size_t len;
    char *text; /* the schema, or why */
} answer;

struct csm_schema_fetcher {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a new id, or stop */
    pthread_t thread;
    atomic_int stop;
    csm_reg_client *client;
    int64_t retry_max_ms;
    wanted *wants; /* asked for, and no FOUND or NOT_FOUND answer taken yet */
    size_t n_wants, cap_wants;
    answer *head, **tail;
};

int csm_registry_configured(const csm_registry_conf *conf)
{
    return (conf->url && *conf->url) || (conf->dir && *conf->dir);
}

static wanted *find_wanted(csm_schema_fetcher *f, int32_t id)
{
    for (size_t i = 0; i < f->n_wants; i++)
        if (f->wants[i].id == id)
            return &f->wants[i];
    return NULL;
}

/* The id due first, or NULL when none waits for an attempt. */
static wanted *next_wanted(csm_schema_fetcher *f)
{
    wanted *first = NULL;
    for (size_t i = 0; i < f->n_wants; i++)
        if (!f->wants[i].answered && (!first || f->wants[i].next_ms < first->next_ms))
            first = &f->wants[i];
    return first;
}

static void wait_until(csm_schema_fetcher *f, int64_t due_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t wait = due_ms - csm_monotonic_ms();
    if (wait < 0)
        wait = 0;
    ts.tv_sec += wait / 1000;
    ts.tv_nsec += (long)(wait % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&f->cv, &f->mu, &ts);
}

/* Under the lock. A failed allocation drops the answer: the id stays
 * wanted (UNAVAILABLE) or the caller asks again (the others). */
static void post_answer(csm_schema_fetcher *f, int32_t id, csm_schema_status st, char *text,
                        size_t len)
{
    answer *a = malloc(sizeof *a);
    if (!a) {
        free(text);
        return;
    }
    *a = (answer){.id = id, .status = st, .len = len, .text = text};
    *f->tail = a;
    f->tail = &a->next;
}

/* Under the lock: a failure schedules the next attempt; an answer ends
 * the attempts, and the id stays asked for until poll() hands the answer
 * over, so that a caller who asks again meanwhile is not answered twice. */
static void settle(csm_schema_fetcher *f, int32_t id, csm_schema_status st)
{
    wanted *w = find_wanted(f, id);
    if (!w)
        return;
    if (st == CSM_SCHEMA_UNAVAILABLE) {
        w->next_ms = csm_monotonic_ms() + w->delay_ms;
        w->delay_ms = w->delay_ms * 2 < f->retry_max_ms ? w->delay_ms * 2 : f->retry_max_ms;
    } else {
        w->answered = 1;
    }
}

static void attempt(csm_schema_fetcher *f, int32_t id)
{
    char *text = NULL, why[1024];
    size_t len = 0;
    pthread_mutex_unlock(&f->mu);
    csm_schema_status st = csm_reg_client_lookup(f->client, id, &text, &len, why, sizeof why);
    if (st != CSM_SCHEMA_FOUND) {
        len = strlen(why);
        text = strdup(why);
    }
    pthread_mutex_lock(&f->mu);
    if (atomic_load(&f->stop)) {
        free(text); /* a request cut short by the stop is no answer */
        return;
    }
    post_answer(f, id, st, text, len);
    settle(f, id, st);
}

static void *fetch_loop(void *arg)
{
    csm_schema_fetcher *f = arg;
    pthread_mutex_lock(&f->mu);
    while (!atomic_load(&f->stop)) {
        wanted *w = next_wanted(f);
        if (!w)
            pthread_cond_wait(&f->cv, &f->mu);
        else if (w->next_ms > csm_monotonic_ms())
            wait_until(f, w->next_ms);
        else
            attempt(f, w->id);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

static int init_sync(csm_schema_fetcher *f)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca))
        return -1;
    /* Backoff waits follow the monotonic clock, as csm_monotonic_ms. */
    int rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) || pthread_cond_init(&f->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc)
        return -1;
    if (pthread_mutex_init(&f->mu, NULL)) {
        pthread_cond_destroy(&f->cv);
        return -1;
    }
    return 0;
}

csm_schema_fetcher *csm_schema_fetcher_new(const csm_registry_conf *conf, char *err, size_t errlen)
{
    csm_schema_fetcher *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->tail = &f->head;
    f->retry_max_ms = conf->retry_max_ms > 0 ? conf->retry_max_ms : 30000;
    if (!(f->client = csm_reg_client_new(conf, &f->stop, err, errlen))) {
        free(f);
        return NULL;
    }
    if (init_sync(f)) {
        snprintf(err, errlen, "schema fetcher: cannot create its lock");
        csm_reg_client_free(f->client);
        free(f);
        return NULL;
    }
    if (pthread_create(&f->thread, NULL, fetch_loop, f)) {
        snprintf(err, errlen, "schema fetcher: cannot start its thread");
        pthread_mutex_destroy(&f->mu);
        pthread_cond_destroy(&f->cv);
        csm_reg_client_free(f->client);
        free(f);
        return NULL;
    }
    return f;
}

/* The answers so far; the ids answered are asked for no more. */
static answer *take_answers(csm_schema_fetcher *f)
{
    pthread_mutex_lock(&f->mu);
    answer *a = f->head;
    f->head = NULL;
    f->tail = &f->head;
    for (size_t i = 0; i < f->n_wants;)
        if (f->wants[i].answered)
            f->wants[i] = f->wants[--f->n_wants];
        else
            i++;
    pthread_mutex_unlock(&f->mu);
    return a;
}

void csm_schema_fetcher_free(csm_schema_fetcher *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    atomic_store(&f->stop, 1);
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    csm_reg_client_wake(f->client);
    pthread_join(f->thread, NULL);
    for (answer *a = take_answers(f), *next; a; a = next) {
        next = a->next;
        free(a->text);
        free(a);
    }
    csm_reg_client_free(f->client);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f->wants);
    free(f);
}

void csm_schema_fetcher_want(csm_schema_fetcher *f, int32_t id)
{
    pthread_mutex_lock(&f->mu);
    if (!find_wanted(f, id)) {
        if (f->n_wants == f->cap_wants) {
            size_t cap = f->cap_wants ? 2 * f->cap_wants : 8;
            wanted *grown = realloc(f->wants, cap * sizeof *grown);
            if (!grown) {
                /* Not asked: the caller's next message with this id asks again. */
                pthread_mutex_unlock(&f->mu);
                return;
            }
            f->wants = grown;
            f->cap_wants = cap;
        }
        f->wants[f->n_wants++] = (wanted){.id = id, .next_ms = 0, .delay_ms = RETRY_FIRST_MS};
        pthread_cond_signal(&f->cv);
    }
    pthread_mutex_unlock(&f->mu);
}

size_t csm_schema_fetcher_poll(csm_schema_fetcher *f, csm_schema_answer_fn fn, void *arg)
{
    size_t n = 0;
    for (answer *a = take_answers(f), *next; a; a = next, n++) {
        next = a->next;
        fn(arg, a->id, a->status, a->text, a->len);
        free(a->text);
        free(a);
    }
    return n;
}

csm_schema_status csm_schema_fetch_once(const csm_registry_conf *conf, int32_t id, char **text,
                                        char *why, size_t whylen)
{
    *text = NULL;
    csm_reg_client *c = csm_reg_client_new(conf, NULL, why, whylen);
    if (!c)
        return CSM_SCHEMA_UNAVAILABLE;
    size_t len;
    csm_schema_status st = csm_reg_client_lookup(c, id, text, &len, why, whylen);
    csm_reg_client_free(c);
    return st;
}

int csm_schema_list(const csm_registry_conf *conf, csm_schema_list_fn fn, void *arg, char *err,
                    size_t errlen)
{
    csm_reg_client *c = csm_reg_client_new(conf, NULL, err, errlen);
    if (!c)
        return -1;
    int rc = csm_reg_client_list(c, fn, arg, err, errlen);
    csm_reg_client_free(c);
    return rc;
}
