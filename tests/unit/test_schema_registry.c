/* Writer schemas by id (http/schema_registry.h) against a real HTTP
 * server, tests/tools/schema_registry.py, started per test on a free
 * loopback port: found, not found (the registry's 40403), an unreachable
 * or failing registry retried with backoff until found, basic auth,
 * HTTPS with a self-signed certificate, the directory source, the list
 * of every id, and a fetcher freed while the registry hangs. Also the
 * schema_registry: section of the configuration. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "registry_conf.h"
#include "schema_registry.h"
#include "time_bounds.h"

/* The registry's schemas (written by setup, served as written). */
#define CHAT_V1 "{\"type\":\"record\",\"name\":\"ChatEvent\",\"fields\":[]}"
#define CHAT_V2                                                                                    \
    "{\"type\":\"record\",\"name\":\"ChatEvent\",\"fields\":[{\"name\":\"channel\",\"type\":"      \
    "\"string\",\"default\":\"\"}]}"
#define ORDER_V1 "{\"type\":\"record\",\"name\":\"OrderEvent\",\"fields\":[]}"
/* The directory's schemas; 21 differs from the registry's 21. */
#define DIR_21 "{\"type\":\"record\",\"name\":\"ChatEvent\",\"doc\":\"dir\",\"fields\":[]}"
#define DIR_31 "{\"type\":\"record\",\"name\":\"OrderEvent\",\"doc\":\"dir\",\"fields\":[]}"

static char tmp[256];      /* scratch directory of this run */
static char reg_dir[512];  /* the server's <subject>/<version>-<id>.avsc */
static char avsc_dir[512]; /* the directory source's <id>.avsc */

typedef struct server {
    pid_t pid;
    int port;
    char url[64];
} server;

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void make_dir(const char *fmt, const char *a, char *out, size_t outlen)
{
    snprintf(out, outlen, fmt, a);
    assert_int_equal(mkdir(out, 0700), 0);
}

static int setup(void **state)
{
    (void)state;
    char sub[1024];
    snprintf(tmp, sizeof tmp, "/tmp/csm_registry_XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    make_dir("%s/registry", tmp, reg_dir, sizeof reg_dir);
    make_dir("%s/avsc", tmp, avsc_dir, sizeof avsc_dir);
    make_dir("%s/chat-value", reg_dir, sub, sizeof sub);
    write_file(sub, "1-21.avsc", CHAT_V1);
    write_file(sub, "2-22.avsc", CHAT_V2);
    make_dir("%s/order-value", reg_dir, sub, sizeof sub);
    write_file(sub, "1-41.avsc", ORDER_V1);
    write_file(avsc_dir, "21.avsc", DIR_21);
    write_file(avsc_dir, "31.avsc", DIR_31);
    write_file(avsc_dir, "notes.txt", "not a schema");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* Starts the test registry with @p extra options (NULL-terminated) on
 * @p port (0: a free one) and waits for its port file. */
static void start_server(server *s, int port, const char *const *extra)
{
    char port_file[512], port_arg[16], script[512];
    snprintf(port_file, sizeof port_file, "%s/port", tmp);
    snprintf(port_arg, sizeof port_arg, "%d", port);
    snprintf(script, sizeof script, "%s/tools/schema_registry.py", getenv("CSM_TEST_DATA"));
    unlink(port_file);
    const char *argv[32] = {"python3", script,        reg_dir,  "--port",
                            port_arg,  "--port-file", port_file};
    size_t n = 7;
    for (; extra && *extra; extra++)
        argv[n++] = *extra;
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        execvp("python3", (char *const *)argv);
        _exit(127);
    }
    int64_t deadline = csm_monotonic_ms() + 10000;
    FILE *f = NULL;
    while (!(f = fopen(port_file, "r")) && csm_monotonic_ms() < deadline)
        usleep(20000);
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &s->port), 1);
    fclose(f);
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", s->port);
}

static void stop_server(server *s)
{
    kill(s->pid, SIGTERM);
    int status;
    assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
}

static csm_registry_conf registry(const char *url)
{
    return (csm_registry_conf){.url = url, .timeout_ms = 5000, .retry_max_ms = 30000};
}

/* The answers for one id until it is FOUND or NOT_FOUND. */
typedef struct answers {
    int unavailable;
    char first_why[1024]; /* of the first UNAVAILABLE */
    int done;
    csm_schema_status status;
    char text[1024];
    int other_ids;
} answers;

static int32_t awaited;

static void on_answer(void *arg, int32_t id, csm_schema_status status, const char *text, size_t len)
{
    answers *a = arg;
    assert_int_equal(strlen(text), len);
    if (id != awaited) {
        a->other_ids++;
    } else if (status == CSM_SCHEMA_UNAVAILABLE) {
        if (!a->unavailable++)
            snprintf(a->first_why, sizeof a->first_why, "%s", text);
    } else {
        a->done++;
        a->status = status;
        snprintf(a->text, sizeof a->text, "%s", text);
    }
}

static void await_answer(csm_schema_fetcher *f, int32_t id, answers *a)
{
    memset(a, 0, sizeof *a);
    awaited = id;
    int64_t deadline = csm_monotonic_ms() + 15000;
    while (!a->done && csm_monotonic_ms() < deadline) {
        csm_schema_fetcher_poll(f, on_answer, a);
        usleep(10000);
    }
    assert_int_equal(a->done, 1);
}

static csm_schema_fetcher *fetcher(const csm_registry_conf *conf)
{
    char err[256];
    csm_schema_fetcher *f = csm_schema_fetcher_new(conf, err, sizeof err);
    if (!f)
        fail_msg("%s", err);
    return f;
}

static void found_with_the_exact_text(void **state)
{
    (void)state;
    server s;
    start_server(&s, 0, NULL);
    csm_registry_conf conf = registry(s.url);
    csm_schema_fetcher *f = fetcher(&conf);
    /* Asked twice before any answer: one request, one answer. */
    csm_schema_fetcher_want(f, 22);
    csm_schema_fetcher_want(f, 22);
    answers a;
    await_answer(f, 22, &a);
    usleep(300000);
    csm_schema_fetcher_poll(f, on_answer, &a);
    assert_int_equal(a.done, 1);
    assert_int_equal(a.unavailable, 0);
    assert_int_equal(a.status, CSM_SCHEMA_FOUND);
    assert_string_equal(a.text, CHAT_V2);
    /* Asked again before the answer was polled: still one answer. */
    memset(&a, 0, sizeof a);
    csm_schema_fetcher_want(f, 22);
    usleep(500000);
    csm_schema_fetcher_want(f, 22);
    usleep(300000);
    size_t n = 0;
    for (int64_t until = csm_monotonic_ms() + 15000; !n && csm_monotonic_ms() < until;)
        if (!(n = csm_schema_fetcher_poll(f, on_answer, &a)))
            usleep(10000);
    usleep(300000);
    n += csm_schema_fetcher_poll(f, on_answer, &a);
    assert_int_equal(n, 1);
    assert_int_equal(a.status, CSM_SCHEMA_FOUND);
    /* Answered: a new want asks again (e.g. the codec forgot the id). */
    csm_schema_fetcher_want(f, 22);
    await_answer(f, 22, &a);
    assert_int_equal(a.status, CSM_SCHEMA_FOUND);
    csm_schema_fetcher_free(f);
    stop_server(&s);
}

static void not_found_says_the_registry_error(void **state)
{
    (void)state;
    server s;
    start_server(&s, 0, NULL);
    csm_registry_conf conf = registry(s.url);
    csm_schema_fetcher *f = fetcher(&conf);
    csm_schema_fetcher_want(f, 99);
    answers a;
    await_answer(f, 99, &a);
    assert_int_equal(a.status, CSM_SCHEMA_NOT_FOUND);
    assert_string_equal(a.text, "the registry has no schema 99 (40403 Schema 99 not found)");
    assert_int_equal(a.unavailable, 0);
    csm_schema_fetcher_free(f);
    /* A 404 that is not the registry's (a wrong url) is no verdict. */
    char wrong[128], why[512], *text;
    snprintf(wrong, sizeof wrong, "%s/not-the-registry", s.url);
    conf = registry(wrong);
    assert_int_equal(csm_schema_fetch_once(&conf, 21, &text, why, sizeof why),
                     CSM_SCHEMA_UNAVAILABLE);
    char want[512];
    snprintf(want, sizeof want,
             "%s: HTTP 404 (404 HTTP 404 Not Found): is schema_registry.url the "
             "registry's address?",
             wrong);
    assert_string_equal(why, want);
    stop_server(&s);
}

/* A server started with @p opts, asked for @p id by a fetcher: @p n
 * UNAVAILABLE answers, the first "<url>: <why>", then FOUND @p text.
 * Returns how long that took (ms). */
static int64_t retried_until_found(const char *const *opts, int32_t id, int n, const char *why,
                                   const char *text)
{
    server s;
    start_server(&s, 0, opts);
    csm_registry_conf conf = registry(s.url);
    csm_schema_fetcher *f = fetcher(&conf);
    int64_t t0 = csm_monotonic_ms();
    csm_schema_fetcher_want(f, id);
    answers a;
    await_answer(f, id, &a);
    int64_t took = csm_monotonic_ms() - t0;
    assert_int_equal(a.unavailable, n);
    char want[256];
    snprintf(want, sizeof want, "%s: %s", s.url, why);
    assert_string_equal(a.first_why, want);
    assert_int_equal(a.status, CSM_SCHEMA_FOUND);
    assert_string_equal(a.text, text);
    csm_schema_fetcher_free(f);
    stop_server(&s);
    return took;
}

/* --fail-first 2: two 503 answers, retried 250 ms then 500 ms later. */
static void unavailable_twice_then_found(void **state)
{
    (void)state;
    const char *const opts[] = {"--fail-first", "2", NULL};
    int64_t took =
        retried_until_found(opts, 21, 2, "HTTP 503 (50003 Service unavailable (test))", CHAT_V1);
    assert_true(took >= 250 + 500);
}

static void garbage_body_is_unavailable(void **state)
{
    (void)state;
    const char *const opts[] = {"--garbage-first", "1", NULL};
    retried_until_found(opts, 41, 1, "HTTP 200 without a schema in the body", ORDER_V1);
}

/* Nothing listens at first: UNAVAILABLE (connection refused) until the
 * registry starts on that port; then FOUND. */
static void registry_down_then_up(void **state)
{
    (void)state;
    server s;
    start_server(&s, 0, NULL);
    stop_server(&s);
    csm_registry_conf conf = registry(s.url);
    char why[512], *text, want[256];
    assert_int_equal(csm_schema_fetch_once(&conf, 21, &text, why, sizeof why),
                     CSM_SCHEMA_UNAVAILABLE);
    snprintf(want, sizeof want, "%s: ", s.url);
    assert_memory_equal(why, want, strlen(want));
    assert_non_null(strstr(why, "Couldn't connect to server"));
    assert_null(text);

    conf.retry_max_ms = 500;
    csm_schema_fetcher *f = fetcher(&conf);
    csm_schema_fetcher_want(f, 21);
    /* Attempts at 0, 250 and 750 ms: on a loaded machine the third may
     * come late, so two are what is asked for. */
    usleep(1200000);
    start_server(&s, s.port, NULL);
    answers a;
    await_answer(f, 21, &a);
    assert_true(a.unavailable >= 2);
    assert_memory_equal(a.first_why, want, strlen(want));
    assert_int_equal(a.status, CSM_SCHEMA_FOUND);
    assert_string_equal(a.text, CHAT_V1);
    csm_schema_fetcher_free(f);
    stop_server(&s);
}

static void basic_auth(void **state)
{
    (void)state;
    server s;
    const char *const opts[] = {"--user", "csm", "--password", "s3cret", NULL};
    start_server(&s, 0, opts);
    csm_registry_conf conf = registry(s.url);
    conf.username = "csm";
    conf.password = "s3cret";
    char why[512], *text;
    assert_int_equal(csm_schema_fetch_once(&conf, 41, &text, why, sizeof why), CSM_SCHEMA_FOUND);
    assert_string_equal(text, ORDER_V1);
    free(text);
    /* A refused login must not dead-letter events: UNAVAILABLE. */
    conf.password = "wrong";
    assert_int_equal(csm_schema_fetch_once(&conf, 41, &text, why, sizeof why),
                     CSM_SCHEMA_UNAVAILABLE);
    char want[256];
    snprintf(want, sizeof want, "%s: HTTP 401 unauthorized (40101 Unauthorized)", s.url);
    assert_string_equal(why, want);
    assert_null(strstr(why, "wrong"));
    conf.username = NULL;
    assert_int_equal(csm_schema_fetch_once(&conf, 41, &text, why, sizeof why),
                     CSM_SCHEMA_UNAVAILABLE);
    assert_string_equal(why, want);
    stop_server(&s);
}

/* A self-signed certificate for 127.0.0.1: DIR/NAME.pem and NAME.key. */
static void self_signed(const char *name, char *cert, char *key, size_t len)
{
    char cmd[2048];
    snprintf(cert, len, "%s/%s.pem", tmp, name);
    snprintf(key, len, "%s/%s.key", tmp, name);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 -keyout '%s' -out '%s' 2>/dev/null",
             key, cert);
    assert_int_equal(system(cmd), 0);
}

static void https_with_a_private_ca(void **state)
{
    (void)state;
    char cert[512], key[512], client[512], client_key[512];
    self_signed("server", cert, key, sizeof cert);
    self_signed("client", client, client_key, sizeof client);
    server s;
    const char *const opts[] = {"--tls-cert", cert, "--tls-key", key, NULL};
    start_server(&s, 0, opts);
    char url[64], why[512], *text;
    snprintf(url, sizeof url, "https://127.0.0.1:%d", s.port);
    csm_registry_conf conf = registry(url);
    conf.ca_file = cert;
    assert_int_equal(csm_schema_fetch_once(&conf, 22, &text, why, sizeof why), CSM_SCHEMA_FOUND);
    assert_string_equal(text, CHAT_V2);
    free(text);
    /* Without the CA the certificate is refused: no answer, no verdict. */
    conf.ca_file = NULL;
    assert_int_equal(csm_schema_fetch_once(&conf, 22, &text, why, sizeof why),
                     CSM_SCHEMA_UNAVAILABLE);
    assert_non_null(strstr(why, "SSL certificate problem"));
    stop_server(&s);

    /* A registry that wants a client certificate gets cert_file/key_file. */
    const char *const mtls[] = {"--tls-cert",      cert,   "--tls-key", key,
                                "--tls-client-ca", client, NULL};
    start_server(&s, 0, mtls);
    snprintf(url, sizeof url, "https://127.0.0.1:%d", s.port);
    conf = registry(url);
    conf.ca_file = cert;
    conf.cert_file = client;
    conf.key_file = client_key;
    assert_int_equal(csm_schema_fetch_once(&conf, 41, &text, why, sizeof why), CSM_SCHEMA_FOUND);
    assert_string_equal(text, ORDER_V1);
    free(text);
    conf.cert_file = conf.key_file = NULL;
    assert_int_equal(csm_schema_fetch_once(&conf, 41, &text, why, sizeof why),
                     CSM_SCHEMA_UNAVAILABLE);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s: ", url);
    assert_memory_equal(why, prefix, strlen(prefix));
    stop_server(&s);
}

static void directory_source(void **state)
{
    (void)state;
    csm_registry_conf conf = {.dir = avsc_dir, .timeout_ms = 5000, .retry_max_ms = 30000};
    char why[1024], want[1024], *text;
    assert_int_equal(csm_schema_fetch_once(&conf, 31, &text, why, sizeof why), CSM_SCHEMA_FOUND);
    assert_string_equal(text, DIR_31);
    free(text);
    csm_schema_fetcher *f = fetcher(&conf);
    csm_schema_fetcher_want(f, 32);
    answers a;
    await_answer(f, 32, &a);
    assert_int_equal(a.status, CSM_SCHEMA_NOT_FOUND);
    snprintf(want, sizeof want, "no file 32.avsc in %s", avsc_dir);
    assert_string_equal(a.text, want);
    csm_schema_fetcher_free(f);

    /* With a registry too: the directory first (its 21 wins), then the
     * registry; an id in neither names both. */
    server s;
    start_server(&s, 0, NULL);
    conf.url = s.url;
    assert_int_equal(csm_schema_fetch_once(&conf, 21, &text, why, sizeof why), CSM_SCHEMA_FOUND);
    assert_string_equal(text, DIR_21);
    free(text);
    assert_int_equal(csm_schema_fetch_once(&conf, 41, &text, why, sizeof why), CSM_SCHEMA_FOUND);
    assert_string_equal(text, ORDER_V1);
    free(text);
    assert_int_equal(csm_schema_fetch_once(&conf, 99, &text, why, sizeof why),
                     CSM_SCHEMA_NOT_FOUND);
    snprintf(want, sizeof want,
             "no file 99.avsc in %s; the registry has no schema 99 (40403 Schema 99 not found)",
             avsc_dir);
    assert_string_equal(why, want);
    stop_server(&s);
}

typedef struct listing {
    char lines[16][256];
    int n;
} listing;

static void on_listed(void *arg, int32_t id, const char *where, const char *json, size_t len)
{
    listing *l = arg;
    assert_int_equal(strlen(json), len);
    assert_true(l->n < 16);
    snprintf(l->lines[l->n++], sizeof l->lines[0], "%d|%s|%s", (int)id, where, json);
}

static void list_both_sources(void **state)
{
    (void)state;
    server s;
    start_server(&s, 0, NULL);
    csm_registry_conf conf = registry(s.url);
    conf.dir = avsc_dir;
    listing l = {0};
    char err[256], want[6][1024];
    assert_int_equal(csm_schema_list(&conf, on_listed, &l, err, sizeof err), 0);
    snprintf(want[0], sizeof want[0], "21|%s/21.avsc|%s", avsc_dir, DIR_21);
    snprintf(want[1], sizeof want[1], "31|%s/31.avsc|%s", avsc_dir, DIR_31);
    snprintf(want[2], sizeof want[2], "21|subject chat-value version 1|%s", CHAT_V1);
    snprintf(want[3], sizeof want[3], "22|subject chat-value version 2|%s", CHAT_V2);
    snprintf(want[4], sizeof want[4], "41|subject order-value version 1|%s", ORDER_V1);
    assert_int_equal(l.n, 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal(l.lines[i], want[i]);
    stop_server(&s);
    /* A source that cannot be listed is an error, not an empty list. */
    l.n = 0;
    assert_int_equal(csm_schema_list(&conf, on_listed, &l, err, sizeof err), -1);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s: ", s.url);
    assert_memory_equal(err, prefix, strlen(prefix));
    assert_int_equal(l.n, 2); /* the directory's, before the registry failed */
}

static void free_while_the_registry_hangs(void **state)
{
    (void)state;
    server s;
    const char *const opts[] = {"--delay-ms", "10000", NULL};
    start_server(&s, 0, opts);
    csm_registry_conf conf = registry(s.url);
    conf.timeout_ms = 30000;
    csm_schema_fetcher *f = fetcher(&conf);
    csm_schema_fetcher_want(f, 21);
    usleep(300000); /* the request is under way */
    answers a = {0};
    awaited = 21;
    assert_int_equal(csm_schema_fetcher_poll(f, on_answer, &a), 0);
    int64_t t0 = csm_monotonic_ms();
    csm_schema_fetcher_free(f);
    int64_t took = csm_monotonic_ms() - t0;
    if (took >= 1000)
        fail_msg("csm_schema_fetcher_free took %lld ms", (long long)took);
    stop_server(&s);
}

/* ---- the schema_registry: section of csmetrics.yaml ---- */

static void config_keys_and_defaults(void **state)
{
    (void)state;
    csm_config cfg;
    char err[256];
    csm_registry_conf rc;
    unsetenv("CSM_SCHEMA_REGISTRY_PASSWORD");
    assert_int_equal(csm_config_load_string("", &cfg, err, sizeof err), 0);
    csm_registry_conf_from_config(&cfg, &rc);
    assert_null(rc.url);
    assert_null(rc.dir);
    assert_null(rc.username);
    assert_null(rc.password);
    assert_int_equal(rc.timeout_ms, 5000);
    assert_int_equal(rc.retry_max_ms, 30000);
    assert_int_equal(cfg.registry_cache_max, 1000);
    assert_false(csm_registry_configured(&rc));
    csm_config_free(&cfg);

    const char *yaml = "schema_registry:\n"
                       "  url: https://registry.example:8081\n"
                       "  dir: /etc/csmetrics/schemas.d\n"
                       "  username: csm\n"
                       "  password: p1\n"
                       "  ca_file: /etc/ssl/ca.pem\n"
                       "  cert_file: /etc/ssl/client.pem\n"
                       "  key_file: /etc/ssl/client.key\n"
                       "  timeout: 750ms\n"
                       "  retry_max: 2m\n"
                       "  cache_max: 50\n";
    setenv("CSM_SCHEMA_REGISTRY_PASSWORD", "from-env", 1);
    assert_int_equal(csm_config_load_string(yaml, &cfg, err, sizeof err), 0);
    unsetenv("CSM_SCHEMA_REGISTRY_PASSWORD");
    csm_registry_conf_from_config(&cfg, &rc);
    assert_string_equal(rc.url, "https://registry.example:8081");
    assert_string_equal(rc.dir, "/etc/csmetrics/schemas.d");
    assert_string_equal(rc.username, "csm");
    assert_string_equal(rc.password, "from-env");
    assert_string_equal(rc.ca_file, "/etc/ssl/ca.pem");
    assert_string_equal(rc.cert_file, "/etc/ssl/client.pem");
    assert_string_equal(rc.key_file, "/etc/ssl/client.key");
    assert_int_equal(rc.timeout_ms, 750);
    assert_int_equal(rc.retry_max_ms, 120000);
    assert_int_equal(cfg.registry_cache_max, 50);
    assert_true(csm_registry_configured(&rc));
    csm_config_free(&cfg);
}

static void config_refusals_name_the_key(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *err;
    } cases[] = {
        {"schema_registry:\n  url: registry:8081\n",
         "schema_registry.url: expected http://HOST[:PORT] or https://…, got 'registry:8081'"},
        {"schema_registry:\n  timeout: soon\n", "schema_registry.timeout"},
        {"schema_registry:\n  retry_max: 100ms\n",
         "schema_registry.retry_max: must be between 250ms and 1h, got 100ms"},
        {"schema_registry:\n  cache_max: 0\n",
         "schema_registry.cache_max: must be between 1 and 1000000, got 0"},
        {"schema_registry:\n  urll: http://x\n", "schema_registry.urll: unknown key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        csm_config cfg;
        char err[256] = "";
        assert_int_equal(csm_config_load_string(cases[i].yaml, &cfg, err, sizeof err), -1);
        if (strncmp(err, cases[i].err, strlen(cases[i].err)))
            fail_msg("'%s': got '%s'", cases[i].yaml, err);
    }
    /* The pinned ids keep working beside the section. */
    csm_config cfg;
    char err[256];
    assert_int_equal(csm_config_load_string("kafka:\n  schema_ids: {17: chat, 18: order}\n"
                                            "schema_registry:\n  dir: /x\n",
                                            &cfg, err, sizeof err),
                     0);
    assert_int_equal(cfg.n_schema_ids, 2);
    assert_int_equal(cfg.schema_ids[0], 17);
    assert_int_equal(cfg.schema_streams[0], CSM_STREAM_CHAT);
    assert_int_equal(cfg.schema_ids[1], 18);
    assert_int_equal(cfg.schema_streams[1], CSM_STREAM_ORDER);
    csm_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(found_with_the_exact_text),
        cmocka_unit_test(not_found_says_the_registry_error),
        cmocka_unit_test(unavailable_twice_then_found),
        cmocka_unit_test(garbage_body_is_unavailable),
        cmocka_unit_test(registry_down_then_up),
        cmocka_unit_test(basic_auth),
        cmocka_unit_test(https_with_a_private_ca),
        cmocka_unit_test(directory_source),
        cmocka_unit_test(list_both_sources),
        cmocka_unit_test(free_while_the_registry_hangs),
        cmocka_unit_test(config_keys_and_defaults),
        cmocka_unit_test(config_refusals_name_the_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
