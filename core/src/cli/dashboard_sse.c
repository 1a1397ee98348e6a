/* GET /api/alerts/stream?shop=S: the shop's new alerts as server-sent
 * events, one `data:` line of JSON each (the record of the report's
 * "alerts"). The reply's producer runs on the connection's own thread and
 * blocks there in XREAD on the follower's own Redis connection; a comment
 * line after each quiet second makes a closed client show up as a failed
 * write, which ends the stream. */
#define _GNU_SOURCE /* asprintf */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_follow.h"
#include "dashboard.h"
#include "log.h"

#define BLOCK_MS 1000
/* The first event: the page reads the report once it has it, so no alert
 * falls between the report and the feed. retry: the browser's reconnect delay. */
#define READY "retry: 2000\nevent: ready\ndata: {}\n\n"
#define KEEPALIVE ": keepalive\n\n"

typedef struct sse {
    csm_alert_follow *follow;
    char *out; /* text not yet handed to the server */
    size_t len, pos;
} sse;

static void sse_free(void *opaque)
{
    sse *s = opaque;
    csm_alert_follow_close(s->follow);
    free(s->out);
    free(s);
}

static void sse_set(sse *s, char *text)
{
    free(s->out);
    s->out = text;
    s->len = text ? strlen(text) : 0;
    s->pos = 0;
}

/* The next event's text: an alert, or the keepalive after a quiet
 * interval. -1 when the follower lost Redis. */
static int next_event(sse *s)
{
    csm_report_alert a;
    char err[512];
    int rc = csm_alert_follow_next(s->follow, BLOCK_MS, &a, err, sizeof err);
    if (rc < 0) {
        csm_logf(CSM_LOG_WARN, "dashboard", "alert stream ended: %s", err);
        return -1;
    }
    if (rc == 0) {
        sse_set(s, strdup(KEEPALIVE));
        return s->out ? 0 : -1;
    }
    json_t *j = csm_report_alert_json(&a);
    csm_report_alert_clear(&a);
    char *data = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    char *text = NULL;
    if (!data || asprintf(&text, "data: %s\n\n", data) < 0)
        text = NULL;
    free(data);
    sse_set(s, text);
    return text ? 0 : -1;
}

static ssize_t sse_produce(void *opaque, char *buf, size_t max)
{
    sse *s = opaque;
    if (s->pos == s->len && next_event(s))
        return -1;
    size_t n = s->len - s->pos < max ? s->len - s->pos : max;
    memcpy(buf, s->out + s->pos, n);
    s->pos += n;
    return (ssize_t)n;
}

void csm_dash_api_alerts(void *opaque, const csm_http_request *req, csm_http_reply *reply)
{
    const csm_dashboard *d = opaque;
    const char *shop = csm_http_query(req, "shop");
    if (!shop || !*shop) {
        csm_dash_reply_error(reply, 400, "shop is required");
        return;
    }
    if (csm_dash_known_shop(d, shop, reply) != 1)
        return;
    char err[512];
    sse *s = calloc(1, sizeof *s);
    if (!s || !(s->follow = csm_alert_follow_open(&d->cfg, shop, err, sizeof err))) {
        csm_dash_reply_error(reply, 503, "%s", s ? err : "out of memory");
        free(s);
        return;
    }
    sse_set(s, strdup(READY));
    reply->status = 200;
    reply->content_type = "text/event-stream";
    reply->stream = sse_produce;
    reply->stream_free = sse_free;
    reply->stream_opaque = s;
}
