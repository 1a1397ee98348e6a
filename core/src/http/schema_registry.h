/* Where writer schemas come from, by Confluent schema id: a directory of
 * <id>.avsc files (air-gapped sites) and/or a schema registry's REST API
 * (GET /schemas/ids/{id}), over libcurl with basic auth and TLS. The
 * daemon asks without blocking: a thread of ours does the HTTP, retries a
 * registry that does not answer with a growing delay, and hands answers
 * back to the caller's thread through csm_schema_fetcher_poll(). */
#ifndef CSM_SCHEMA_REGISTRY_H
#define CSM_SCHEMA_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

typedef struct csm_registry_conf {
    const char *url; /* NULL or "": no registry */
    const char *dir; /* NULL or "": no directory; consulted before the registry */
    const char *username, *password;           /* basic auth when username is set */
    const char *ca_file, *cert_file, *key_file; /* TLS: CA bundle, client certificate */
    int64_t timeout_ms;                         /* per request (default 5000) */
    int64_t retry_max_ms;                       /* longest delay between retries (default 30000) */
} csm_registry_conf;

typedef enum csm_schema_status {
    CSM_SCHEMA_FOUND,     /* text: the schema's JSON */
    CSM_SCHEMA_NOT_FOUND, /* text: why ("the registry has no schema 99 (40403 Schema not
                             found)", "no file 99.avsc in /etc/csmetrics/schemas.d") */
    CSM_SCHEMA_UNAVAILABLE /* text: why ("http://127.0.0.1:8081: Couldn't connect to server",
                              "HTTP 503"); the fetcher retries by itself */
} csm_schema_status;

/* Whether @p conf names any source. */
int csm_registry_configured(const csm_registry_conf *conf);

typedef struct csm_schema_fetcher csm_schema_fetcher;

/* Starts the fetcher's thread. NULL with err (e.g. libcurl failed). */
csm_schema_fetcher *csm_schema_fetcher_new(const csm_registry_conf *conf, char *err,
                                           size_t errlen);
/* Stops the thread (an HTTP request under way is cut short). */
void csm_schema_fetcher_free(csm_schema_fetcher *f);

/* Asks for @p id's schema; does nothing while that id is already asked
 * for and its FOUND or NOT_FOUND answer has not been taken by
 * csm_schema_fetcher_poll(), so a caller may ask on every message that
 * needs the id. Never blocks. */
void csm_schema_fetcher_want(csm_schema_fetcher *f, int32_t id);

/* Calls @p fn, on the caller's thread, for each answer since the last
 * call; returns how many. UNAVAILABLE is an answer too (one per failed
 * attempt), after which the fetcher tries again by itself until the id is
 * FOUND or NOT_FOUND. */
typedef void (*csm_schema_answer_fn)(void *arg, int32_t id, csm_schema_status status,
                                     const char *text, size_t len);
size_t csm_schema_fetcher_poll(csm_schema_fetcher *f, csm_schema_answer_fn fn, void *arg);

/* One lookup, blocking, no retry (CLI). FOUND: *text is the schema
 * (malloc'd, NUL-terminated); otherwise why says why. */
csm_schema_status csm_schema_fetch_once(const csm_registry_conf *conf, int32_t id, char **text,
                                        char *why, size_t whylen);

/* Every id the sources know: each <id>.avsc of the directory, and each
 * version of each subject of the registry (GET /subjects, then
 * /subjects/{s}/versions, then /subjects/{s}/versions/{v}). @p where says
 * where it came from ("dir/21.avsc", "subject chat-value version 2").
 * 0, or -1 with err when a source cannot be listed. */
typedef void (*csm_schema_list_fn)(void *arg, int32_t id, const char *where, const char *json,
                                   size_t len);
int csm_schema_list(const csm_registry_conf *conf, csm_schema_list_fn fn, void *arg, char *err,
                    size_t errlen);

#endif
