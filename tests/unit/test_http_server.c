/* The GET-route server of core/src/http (http_server.h), over real
 * loopback sockets: a route's reply, 404 and 405, the path without its
 * query, URL-decoded query arguments, a prefix route, and a streamed
 * reply whose producer is freed once the connection ends. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "http_server.h"

/* One HTTP/1.0 exchange: the server closes the connection after the
 * reply, so the response is everything read until EOF. */
typedef struct response {
    int status;
    char head[2048];
    char body[4096];
} response;

static void http_get(int port, const char *method, const char *target, response *out)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[512];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: test\r\n\r\n", method, target);
    assert_int_equal(write(fd, req, (size_t)n), n);
    char buf[8192];
    size_t len = 0;
    ssize_t got;
    while (len < sizeof buf - 1 && (got = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)got;
    close(fd);
    buf[len] = 0;
    char *sep = strstr(buf, "\r\n\r\n");
    assert_non_null(sep);
    *sep = 0;
    assert_true(strlen(buf) < sizeof out->head && strlen(sep + 4) < sizeof out->body);
    memcpy(out->head, buf, strlen(buf) + 1);
    memcpy(out->body, sep + 4, strlen(sep + 4) + 1);
    assert_int_equal(sscanf(buf, "HTTP/1.%*d %d", &out->status), 1);
}

static void on_hello(void *opaque, const csm_http_request *req, csm_http_reply *rep)
{
    (void)opaque, (void)req;
    csm_http_reply_printf(rep, 200, NULL, "hello\n");
}

/* The path and the decoded "shop" and "day" arguments. */
static void on_echo(void *opaque, const csm_http_request *req, csm_http_reply *rep)
{
    (void)opaque;
    const char *shop = csm_http_query(req, "shop"), *day = csm_http_query(req, "day");
    csm_http_reply_printf(rep, 200, "application/x-echo", "%s|%s|%s", csm_http_path(req),
                          shop ? shop : "(none)", day ? day : "(none)");
}

static void on_prefix(void *opaque, const csm_http_request *req, csm_http_reply *rep)
{
    (void)opaque;
    csm_http_reply_printf(rep, 418, NULL, "under %s", csm_http_path(req));
}

/* A stream of "one,", "two,", "three" in three calls, then its end. */
typedef struct counter_stream {
    int calls;
    int *freed;
} counter_stream;

static ssize_t stream_next(void *opaque, char *buf, size_t max)
{
    static const char *const parts[] = {"one,", "two,", "three"};
    counter_stream *cs = opaque;
    if (cs->calls == 3)
        return -1;
    size_t n = strlen(parts[cs->calls]);
    assert_true(n <= max);
    memcpy(buf, parts[cs->calls++], n);
    return (ssize_t)n;
}

static void stream_free(void *opaque)
{
    counter_stream *cs = opaque;
    (*cs->freed)++;
    free(cs);
}

static void on_stream(void *opaque, const csm_http_request *req, csm_http_reply *rep)
{
    (void)req;
    counter_stream *cs = calloc(1, sizeof *cs);
    assert_non_null(cs);
    cs->freed = opaque;
    rep->content_type = "text/event-stream";
    rep->stream = stream_next;
    rep->stream_free = stream_free;
    rep->stream_opaque = cs;
}

static int freed;
static const csm_http_route routes[] = {
    {"/hello", on_hello, NULL},
    {"/echo", on_echo, NULL},
    {"/static/*", on_prefix, NULL},
    {"/events", on_stream, &freed},
};

static csm_http_server *start(void)
{
    char err[256];
    csm_http_server *s =
        csm_http_start("127.0.0.1", 0, routes, sizeof routes / sizeof *routes, err, sizeof err);
    assert_non_null(s);
    assert_true(csm_http_port(s) > 0);
    return s;
}

/* GET @p target answers @p status with @p body; the head is left in *r. */
static void expect_get(const csm_http_server *s, const char *target, int status, const char *body,
                       response *r)
{
    http_get(csm_http_port(s), "GET", target, r);
    assert_int_equal(r->status, status);
    assert_string_equal(r->body, body);
}

static void route_and_not_found(void **state)
{
    (void)state;
    csm_http_server *s = start();
    response r;
    expect_get(s, "/hello", 200, "hello\n", &r);
    assert_non_null(strstr(r.head, "Content-Type: text/plain; charset=utf-8"));
    expect_get(s, "/hello/more", 404, "no such page: /hello/more\n", &r);
    http_get(csm_http_port(s), "POST", "/hello", &r);
    assert_int_equal(r.status, 405);
    http_get(csm_http_port(s), "HEAD", "/hello", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "");
    csm_http_stop(s);
}

static void query_decoding(void **state)
{
    (void)state;
    csm_http_server *s = start();
    response r;
    expect_get(s, "/echo?shop=a%20b%26c&day=2026-03-10", 200, "/echo|a b&c|2026-03-10", &r);
    assert_non_null(strstr(r.head, "Content-Type: application/x-echo"));
    expect_get(s, "/echo?shop=%E5%BA%97+1", 200, "/echo|\xe5\xba\x97 1|(none)", &r);
    expect_get(s, "/echo", 200, "/echo|(none)|(none)", &r);
    /* A prefix route takes what starts with its prefix, and only that. */
    expect_get(s, "/static/app.js?v=2", 418, "under /static/app.js", &r);
    expect_get(s, "/staticx", 404, "no such page: /staticx\n", &r);
    csm_http_stop(s);
}

static void streamed_reply(void **state)
{
    (void)state;
    freed = 0;
    csm_http_server *s = start();
    response r;
    expect_get(s, "/events", 200, "one,two,three", &r);
    assert_non_null(strstr(r.head, "Content-Type: text/event-stream"));
    assert_non_null(strstr(r.head, "Cache-Control: no-cache"));
    /* Stopping waits for the connection's thread, which frees the producer. */
    csm_http_stop(s);
    assert_int_equal(freed, 1);
}

static void bad_address(void **state)
{
    (void)state;
    char err[256];
    assert_null(csm_http_start("localhost", 0, routes, 1, err, sizeof err));
    assert_string_equal(err, "localhost is not an IPv4 or IPv6 address");
    csm_http_server *s = start();
    /* The port is taken. */
    assert_null(csm_http_start("127.0.0.1", csm_http_port(s), routes, 1, err, sizeof err));
    assert_non_null(strstr(err, "cannot listen on 127.0.0.1 port"));
    csm_http_stop(s);
    csm_http_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(route_and_not_found),
        cmocka_unit_test(query_decoding),
        cmocka_unit_test(streamed_reply),
        cmocka_unit_test(bad_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
