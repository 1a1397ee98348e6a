#include "registry_client.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry_dir.h"

/* The registry's error_code of GET /schemas/ids/{id} for an unknown id;
 * any other 404 (an unknown route: error_code 404, or not the registry
 * at all) says the url is wrong, not that the id does not exist. */
#define SCHEMA_NOT_FOUND 40403

/* A schema is kilobytes: a reply this large is not the registry's. */
#define BODY_MAX (16u << 20)

struct csm_reg_client {
    char *url;   /* no trailing '/' */
    char *shown; /* url without "user:password@", for messages */
    char *dir;
    const atomic_int *stop;
    CURL *h;
    CURLM *m; /* the multi interface lets a stop cut a request short */
    struct curl_slist *headers;
    char curl_err[CURL_ERROR_SIZE];
    char *body; /* the last reply, NUL-terminated */
    size_t len, cap;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void init_curl(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    csm_reg_client *c = arg;
    size_t add = size * n;
    if (c->len + add + 1 > BODY_MAX)
        return 0; /* libcurl: CURLE_WRITE_ERROR */
    if (c->len + add + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + add + 1)
            cap *= 2;
        char *grown = realloc(c->body, cap);
        if (!grown)
            return 0;
        c->body = grown;
        c->cap = cap;
    }
    memcpy(c->body + c->len, data, add);
    c->len += add;
    c->body[c->len] = 0;
    return add;
}

/* "https://u:p@host:8081/" → "https://host:8081": a password in the URL
 * must not reach a log line. */
static char *shown_url(const char *url)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    const char *at = strchr(host, '@');
    const char *slash = strchr(host, '/');
    size_t keep = (size_t)(host - url);
    char *out = malloc(strlen(url) + 1);
    if (!out)
        return NULL;
    memcpy(out, url, keep);
    strcpy(out + keep, at && (!slash || at < slash) ? at + 1 : host);
    return out;
}

static char *trimmed_url(const char *url)
{
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    return strndup(url, n);
}

static int set_options(csm_reg_client *c, const csm_registry_conf *conf)
{
    CURL *h = c->h;
    long timeout = conf->timeout_ms > 0 ? (long)conf->timeout_ms : 5000;
    c->headers = curl_slist_append(NULL, "Accept: application/vnd.schemaregistry.v1+json, "
                                         "application/vnd.schemaregistry+json; qs=0.9, "
                                         "application/json; qs=0.5");
    int bad = !c->headers;
    bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, c) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, "csmetrics/" CSM_VERSION) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    if (conf->username && *conf->username) {
        bad |= curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_USERNAME, conf->username) != CURLE_OK;
        bad |=
            curl_easy_setopt(h, CURLOPT_PASSWORD, conf->password ? conf->password : "") != CURLE_OK;
    }
    if (conf->ca_file && *conf->ca_file)
        bad |= curl_easy_setopt(h, CURLOPT_CAINFO, conf->ca_file) != CURLE_OK;
    if (conf->cert_file && *conf->cert_file)
        bad |= curl_easy_setopt(h, CURLOPT_SSLCERT, conf->cert_file) != CURLE_OK;
    if (conf->key_file && *conf->key_file)
        bad |= curl_easy_setopt(h, CURLOPT_SSLKEY, conf->key_file) != CURLE_OK;
    return bad ? -1 : 0;
}

csm_reg_client *csm_reg_client_new(const csm_registry_conf *conf, const atomic_int *stop, char *err,
                                   size_t errlen)
{
    csm_reg_client *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->stop = stop;
    if (conf->dir && *conf->dir && !(c->dir = strdup(conf->dir)))
        goto nomem;
    if (!conf->url || !*conf->url)
        return c;
    pthread_once(&curl_once, init_curl);
    if (curl_init_rc != CURLE_OK) {
        snprintf(err, errlen, "libcurl: %s", curl_easy_strerror(curl_init_rc));
        csm_reg_client_free(c);
        return NULL;
    }
    if (!(c->url = trimmed_url(conf->url)) || !(c->shown = shown_url(c->url)))
        goto nomem;
    if (!(c->h = curl_easy_init()) || !(c->m = curl_multi_init()) || set_options(c, conf)) {
        snprintf(err, errlen, "libcurl: cannot set up a handle for %s", c->shown);
        csm_reg_client_free(c);
        return NULL;
    }
    return c;
nomem:
    snprintf(err, errlen, "out of memory");
    csm_reg_client_free(c);
    return NULL;
}

void csm_reg_client_free(csm_reg_client *c)
{
    if (!c)
        return;
    if (c->m)
        curl_multi_cleanup(c->m);
    if (c->h)
        curl_easy_cleanup(c->h);
    curl_slist_free_all(c->headers);
    free(c->url);
    free(c->shown);
    free(c->dir);
    free(c->body);
    free(c);
}

void csm_reg_client_wake(csm_reg_client *c)
{
    if (c->m)
        curl_multi_wakeup(c->m);
}

static int stopped(const csm_reg_client *c)
{
    return c->stop && atomic_load(c->stop);
}

/* curl_easy_perform, but a stop ends it within a poll interval (or at
 * once after csm_reg_client_wake). */
static CURLcode perform(csm_reg_client *c)
{
    if (curl_multi_add_handle(c->m, c->h) != CURLM_OK)
        return CURLE_FAILED_INIT;
    CURLcode rc = CURLE_OK;
    int running = 1;
    while (running) {
        if (stopped(c)) {
            rc = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        if (curl_multi_perform(c->m, &running) != CURLM_OK ||
            (running && curl_multi_poll(c->m, NULL, 0, 100, NULL) != CURLM_OK)) {
            rc = CURLE_FAILED_INIT;
            break;
        }
    }
    CURLMsg *msg;
    int queued;
    while (!running && (msg = curl_multi_info_read(c->m, &queued)))
        if (msg->msg == CURLMSG_DONE)
            rc = msg->data.result;
    curl_multi_remove_handle(c->m, c->h);
    return rc;
}

/* GET url+path: 0 with the HTTP status (body in c->body, parsed as JSON
 * into *json, NULL if it is not JSON); -1 with why when no reply came. */
static int http_get(csm_reg_client *c, const char *path, long *status, json_t **json, char *why,
                    size_t whylen)
{
    char url[4096];
    snprintf(url, sizeof url, "%s%s", c->url, path);
    c->len = 0;
    c->curl_err[0] = 0;
    *json = NULL;
    curl_easy_setopt(c->h, CURLOPT_URL, url);
    CURLcode rc = perform(c);
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
        snprintf(why, whylen, "%s: stopped", c->shown);
        return -1;
    }
    if (rc == CURLE_WRITE_ERROR) {
        snprintf(why, whylen, "%s%s: reply body over %u bytes", c->shown, path, BODY_MAX);
        return -1;
    }
    if (rc != CURLE_OK) {
        snprintf(why, whylen, "%s: %s", c->shown,
                 c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, status);
    *json = json_loadb(c->body ? c->body : "", c->len, 0, NULL);
    return 0;
}

/* The registry's error body {"error_code":40403,"message":"…"}: its
 * error_code and " (40403 Schema 99 not found)" in out, or 0. */
static long long error_body(const json_t *j, char *out, size_t outlen)
{
    json_t *code = json_object_get(j, "error_code");
    const char *msg = json_string_value(json_object_get(j, "message"));
    if (!json_is_integer(code))
        return 0;
    snprintf(out, outlen, " (%lld %s)", (long long)json_integer_value(code), msg ? msg : "");
    return json_integer_value(code);
}

static const char *status_name(long status)
{
    switch (status) {
    case 401:
        return " unauthorized";
    case 403:
        return " forbidden";
    case 429:
        return " too many requests";
    default:
        return "";
    }
}

/* Why a reply is not an answer: "http://h:8081: HTTP 401 unauthorized",
 * "http://h:8081: HTTP 500 (50001 Error in the backend data store)". */
static void reply_why(const csm_reg_client *c, const char *path, long status, const json_t *j,
                      char *why, size_t whylen)
{
    char detail[512] = "";
    error_body(j, detail, sizeof detail);
    snprintf(why, whylen, "%s%s: HTTP %ld%s%s%s", c->shown, path, status, status_name(status),
             detail, status == 404 ? ": is schema_registry.url the registry's address?" : "");
}

/* A 200 reply of GET /schemas/ids/{id}: {"schema": "…"[, "schemaType": "AVRO"]}. */
static csm_schema_status schema_reply(const csm_reg_client *c, int32_t id, const json_t *j,
                                      char **text, size_t *len, char *why, size_t whylen)
{
    json_t *schema = json_object_get(j, "schema");
    const char *type = json_string_value(json_object_get(j, "schemaType"));
    if (!json_is_string(schema)) {
        snprintf(why, whylen, "%s: HTTP 200 without a schema in the body", c->shown);
        return CSM_SCHEMA_UNAVAILABLE;
    }
    if (type && strcmp(type, "AVRO")) {
        snprintf(why, whylen, "schema %d is a %s schema, not Avro", (int)id, type);
        return CSM_SCHEMA_NOT_FOUND;
    }
    *len = json_string_length(schema);
    if (!(*text = strndup(json_string_value(schema), *len))) {
        snprintf(why, whylen, "out of memory");
        return CSM_SCHEMA_UNAVAILABLE;
    }
    return CSM_SCHEMA_FOUND;
}

static csm_schema_status registry_lookup(csm_reg_client *c, int32_t id, char **text, size_t *len,
                                         char *why, size_t whylen)
{
    char path[64], detail[512];
    long status;
    json_t *j;
    snprintf(path, sizeof path, "/schemas/ids/%d", (int)id);
    if (http_get(c, path, &status, &j, why, whylen))
        return CSM_SCHEMA_UNAVAILABLE;
    csm_schema_status st = CSM_SCHEMA_UNAVAILABLE;
    if (status == 200) {
        st = schema_reply(c, id, j, text, len, why, whylen);
    } else if (status == 404 && error_body(j, detail, sizeof detail) == SCHEMA_NOT_FOUND) {
        snprintf(why, whylen, "the registry has no schema %d%s", (int)id, detail);
        st = CSM_SCHEMA_NOT_FOUND;
    } else {
        reply_why(c, "", status, j, why, whylen);
    }
    json_decref(j);
    return st;
}

csm_schema_status csm_reg_client_lookup(csm_reg_client *c, int32_t id, char **text, size_t *len,
                                        char *why, size_t whylen)
{
    *text = NULL;
    *len = 0;
    if (!c->dir && !c->url) {
        snprintf(why, whylen, "no schema source: schema_registry.url and .dir are not set");
        return CSM_SCHEMA_NOT_FOUND;
    }
    csm_schema_status st = CSM_SCHEMA_NOT_FOUND;
    char dir_why[512] = "";
    if (c->dir) {
        st = csm_reg_dir_lookup(c->dir, id, text, len, dir_why, sizeof dir_why);
        if (st != CSM_SCHEMA_NOT_FOUND || !c->url) {
            snprintf(why, whylen, "%s", dir_why);
            return st;
        }
    }
    st = registry_lookup(c, id, text, len, why, whylen);
    if (st == CSM_SCHEMA_NOT_FOUND && c->dir) {
        char reg_why[512];
        snprintf(reg_why, sizeof reg_why, "%s", why);
        snprintf(why, whylen, "%s; %s", dir_why, reg_why);
    }
    return st;
}

/* GET path answered 200 with JSON; NULL with err otherwise. */
static json_t *get_json(csm_reg_client *c, const char *path, char *err, size_t errlen)
{
    long status;
    json_t *j;
    if (http_get(c, path, &status, &j, err, errlen))
        return NULL;
    if (status == 200 && j)
        return j;
    if (status == 200)
        snprintf(err, errlen, "%s%s: HTTP 200 with a body that is not JSON", c->shown, path);
    else
        reply_why(c, path, status, j, err, errlen);
    json_decref(j);
    return NULL;
}

/* GET /subjects/{s}/versions/{v}: {"subject", "version", "id", "schema"}. */
static int list_version(csm_reg_client *c, const char *subject, const char *esc, long long v,
                        csm_schema_list_fn fn, void *arg, char *err, size_t errlen)
{
    char path[1024], where[1024];
    snprintf(path, sizeof path, "/subjects/%s/versions/%lld", esc, v);
    json_t *j = get_json(c, path, err, errlen);
    if (!j)
        return -1;
    json_t *id = json_object_get(j, "id"), *schema = json_object_get(j, "schema");
    int rc = 0;
    if (json_is_integer(id) && json_is_string(schema)) {
        snprintf(where, sizeof where, "subject %s version %lld", subject, v);
        fn(arg, (int32_t)json_integer_value(id), where, json_string_value(schema),
           json_string_length(schema));
    } else {
        snprintf(err, errlen, "%s%s: no id and schema in the reply", c->shown, path);
        rc = -1;
    }
    json_decref(j);
    return rc;
}

static int list_subject(csm_reg_client *c, const char *subject, csm_schema_list_fn fn, void *arg,
                        char *err, size_t errlen)
{
    char *esc = curl_easy_escape(c->h, subject, 0);
    char path[1024];
    snprintf(path, sizeof path, "/subjects/%s/versions", esc ? esc : "");
    json_t *versions = esc ? get_json(c, path, err, errlen) : NULL;
    int rc = versions ? 0 : -1;
    size_t i;
    json_t *v;
    json_array_foreach(versions, i, v)
    {
        if (!json_is_integer(v)) {
            snprintf(err, errlen, "%s%s: expected an array of version numbers", c->shown, path);
            rc = -1;
        } else {
            rc = list_version(c, subject, esc, json_integer_value(v), fn, arg, err, errlen);
        }
        if (rc)
            break;
    }
    if (!esc)
        snprintf(err, errlen, "out of memory");
    json_decref(versions);
    curl_free(esc);
    return rc;
}

int csm_reg_client_list(csm_reg_client *c, csm_schema_list_fn fn, void *arg, char *err,
                        size_t errlen)
{
    if (c->dir && csm_reg_dir_list(c->dir, fn, arg, err, errlen))
        return -1;
    if (!c->url)
        return 0;
    json_t *subjects = get_json(c, "/subjects", err, errlen);
    if (!subjects)
        return -1;
    int rc = 0;
    size_t i;
    json_t *s;
    json_array_foreach(subjects, i, s)
    {
        if (json_is_string(s) && list_subject(c, json_string_value(s), fn, arg, err, errlen)) {
            rc = -1;
            break;
        }
    }
    json_decref(subjects);
    return rc;
}
