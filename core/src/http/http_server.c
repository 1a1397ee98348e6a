#define _GNU_SOURCE /* vasprintf */

#include "http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_PLAIN "text/plain; charset=utf-8"

struct csm_http_server {
    struct MHD_Daemon *mhd;
    const csm_http_route *routes;
    size_t n_routes;
    int port;
};

struct csm_http_request {
    struct MHD_Connection *conn;
    const char *path;
};

static const csm_http_route *route_of(const csm_http_server *s, const char *path)
{
    for (size_t i = 0; i < s->n_routes; i++) {
        const char *p = s->routes[i].path;
        size_t n = strlen(p);
        if (n && p[n - 1] == '*' ? strncmp(path, p, n - 1) == 0 : strcmp(path, p) == 0)
            return &s->routes[i];
    }
    return NULL;
}

/* The producer of a streamed reply, behind libmicrohttpd's callback. */
typedef struct stream_ctx {
    csm_http_stream_fn fn;
    void (*free_fn)(void *opaque);
    void *opaque;
} stream_ctx;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream_ctx *sc = cls;
    ssize_t n = sc->fn(sc->opaque, buf, max);
    return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : n;
}

static void stream_end(void *cls)
{
    stream_ctx *sc = cls;
    if (sc->free_fn)
        sc->free_fn(sc->opaque);
    free(sc);
}

static struct MHD_Response *stream_response(csm_http_reply *rep)
{
    stream_ctx *sc = malloc(sizeof *sc);
    if (!sc) {
        if (rep->stream_free)
            rep->stream_free(rep->stream_opaque);
        return NULL;
    }
    *sc = (stream_ctx){rep->stream, rep->stream_free, rep->stream_opaque};
    /* The producer blocks on the connection's own thread; 4 KiB blocks
     * keep events flowing as soon as they are written. */
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, sc, stream_end);
    if (!resp)
        stream_end(sc);
    return resp;
}

static struct MHD_Response *response_of(csm_http_reply *rep)
{
    struct MHD_Response *resp;
    if (rep->stream) {
        free(rep->body);
        resp = stream_response(rep);
    } else {
        resp = MHD_create_response_from_buffer(rep->len, rep->body ? rep->body : (void *)"",
                                               rep->body ? MHD_RESPMEM_MUST_FREE
                                                         : MHD_RESPMEM_PERSISTENT);
    }
    if (resp) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                rep->content_type ? rep->content_type : TEXT_PLAIN);
        if (rep->stream)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    }
    return resp;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version, (void)upload;
    const csm_http_server *s = cls;
    /* The first call only announces the headers: answering then would
     * refuse a request that carries a body before it is read. */
    if (!*con_cls) {
        *con_cls = (void *)1;
        return MHD_YES;
    }
    *upload_size = 0;
    csm_http_reply rep = {.status = 200};
    const csm_http_route *route = route_of(s, url);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        csm_http_reply_printf(&rep, 405, NULL, "only GET and HEAD are served\n");
    else if (!route)
        csm_http_reply_printf(&rep, 404, NULL, "no such page: %s\n", url);
    else {
        csm_http_request req = {.conn = conn, .path = url};
        route->handler(route->opaque, &req, &rep);
    }
    struct MHD_Response *resp = response_of(&rep);
    if (!resp)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)rep.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static int parse_address(const char *bind, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, bind, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        return AF_INET;
    }
    if (inet_pton(AF_INET6, bind, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        return AF_INET6;
    }
    return -1;
}

csm_http_server *csm_http_start(const char *bind, int port, const csm_http_route *routes,
                                size_t n_routes, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    int family = parse_address(bind, port, &ss);
    if (family < 0) {
        snprintf(err, errlen, "%s is not an IPv4 or IPv6 address", bind);
        return NULL;
    }
    csm_http_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->routes = routes;
    s->n_routes = n_routes;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->mhd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, s,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                              MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
    if (!s->mhd) {
        snprintf(err, errlen,
                 "cannot listen on %s port %d (in use, or not an address of this host)", bind,
                 port);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : port;
    return s;
}

int csm_http_port(const csm_http_server *s)
{
    return s->port;
}

void csm_http_stop(csm_http_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->mhd);
    free(s);
}

const char *csm_http_path(const csm_http_request *r)
{
    return r->path;
}

const char *csm_http_query(const csm_http_request *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

void csm_http_reply_take(csm_http_reply *r, int status, const char *content_type, char *body,
                         size_t len)
{
    free(r->body);
    r->status = status;
    r->content_type = content_type;
    r->body = body;
    r->len = len;
}

void csm_http_reply_set(csm_http_reply *r, int status, const char *content_type, const char *body,
                        size_t len)
{
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, body, len);
        copy[len] = 0;
    }
    csm_http_reply_take(r, copy ? status : 500, content_type, copy, copy ? len : 0);
}

void csm_http_reply_printf(csm_http_reply *r, int status, const char *content_type, const char *fmt,
                           ...)
{
    char *text = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0)
        csm_http_reply_take(r, 500, NULL, NULL, 0);
    else
        csm_http_reply_take(r, status, content_type, text, (size_t)n);
}
