/* A small HTTP/1.1 server for the daemon's telemetry, the exporter and the
 * dashboard: a table of GET routes on top of libmicrohttpd, which owns the
 * sockets, the parsing and the threads. Handlers run on libmicrohttpd's
 * threads (one per connection), never on the caller's: what they read
 * must be safe to read from another thread. */
#ifndef CSM_HTTP_SERVER_H
#define CSM_HTTP_SERVER_H

#include <stddef.h>
#include <sys/types.h>

typedef struct csm_http_server csm_http_server;
typedef struct csm_http_request csm_http_request;

/* A stream's producer (server-sent events): fills at most @p max bytes
 * of @p buf and returns how many, blocking until it has something (it runs
 * on the connection's own thread); returns 0 to be called again, -1 to
 * end the response. A producer should return within a second or two
 * (e.g. with an SSE comment line) so that a closed client is noticed. */
typedef ssize_t (*csm_http_stream_fn)(void *opaque, char *buf, size_t max);

typedef struct csm_http_reply {
    int status;               /* default 200 */
    const char *content_type; /* default "text/plain; charset=utf-8" */
    char *body;               /* malloc'd; the server frees it */
    size_t len;
    csm_http_stream_fn stream; /* set: body is ignored, the response streams */
    void (*stream_free)(void *opaque);
    void *stream_opaque;
} csm_http_reply;

typedef void (*csm_http_handler)(void *opaque, const csm_http_request *req, csm_http_reply *reply);

typedef struct csm_http_route {
    const char *path; /* exact path, or a prefix when it ends with '*' */
    csm_http_handler handler;
    void *opaque;
} csm_http_route;

/* Listens on @p bind (an IPv4 or IPv6 literal) and @p port (0: any free
 * port, see csm_http_port). The route table must outlive the server.
 * NULL with a reason in @p err when the address cannot be bound. */
csm_http_server *csm_http_start(const char *bind, int port, const csm_http_route *routes,
                                size_t n_routes, char *err, size_t errlen);
/* The port actually bound. */
int csm_http_port(const csm_http_server *s);
/* Closes the listening socket and ends every connection; NULL is fine. */
void csm_http_stop(csm_http_server *s);

/* The request's path without the query ("/metrics"). */
const char *csm_http_path(const csm_http_request *r);
/* A query argument, URL-decoded; NULL when absent. Valid during the handler. */
const char *csm_http_query(const csm_http_request *r, const char *key);

/* Sets the reply to a copy of @p len bytes. */
void csm_http_reply_set(csm_http_reply *r, int status, const char *content_type, const char *body,
                        size_t len);
/* Sets the reply to a formatted text. */
void csm_http_reply_printf(csm_http_reply *r, int status, const char *content_type, const char *fmt,
                           ...) __attribute__((format(printf, 4, 5)));
/* Hands a malloc'd body to the reply. */
void csm_http_reply_take(csm_http_reply *r, int status, const char *content_type, char *body,
                         size_t len);

#endif
