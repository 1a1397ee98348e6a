#include "bytebuf.h"

#include <stdlib.h>
#include <string.h>

static void reserve(csm_writer *w, size_t more)
{
    if (w->len + more <= w->cap)
        return;
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < w->len + more)
        cap *= 2;
    uint8_t *grown = realloc(w->data, cap);
    if (!grown)
        abort(); /* a checkpoint cannot be half-written */
    w->data = grown;
    w->cap = cap;
}

void csm_writer_reset(csm_writer *w)
{
    w->len = 0;
}

void csm_writer_free(csm_writer *w)
{
    free(w->data);
    memset(w, 0, sizeof *w);
}

void csm_writer_put_i64(csm_writer *w, int64_t v)
{
    reserve(w, 8);
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        w->data[w->len++] = (uint8_t)(u >> (8 * i));
}

void csm_writer_patch_i64(csm_writer *w, size_t pos, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        w->data[pos + (size_t)i] = (uint8_t)(u >> (8 * i));
}

void csm_writer_put_bytes(csm_writer *w, const void *p, size_t n)
{
    reserve(w, n);
    memcpy(w->data + w->len, p, n);
    w->len += n;
}

void csm_writer_put_str(csm_writer *w, const char *s)
{
    if (!s) {
        csm_writer_put_i64(w, -1);
        return;
    }
    size_t n = strlen(s);
    csm_writer_put_i64(w, (int64_t)n);
    csm_writer_put_bytes(w, s, n);
}

void csm_reader_init(csm_reader *r, const void *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
}

int csm_reader_get_i64(csm_reader *r, int64_t *v)
{
    if (r->len - r->pos < 8)
        return -1;
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)r->data[r->pos + (size_t)i] << (8 * i);
    r->pos += 8;
    *v = (int64_t)u;
    return 0;
}

int csm_reader_get_view(csm_reader *r, const char **s, int64_t *n)
{
    if (csm_reader_get_i64(r, n))
        return -1;
    if (*n == -1) {
        *s = NULL;
        return 0;
    }
    if (*n < 0 || (uint64_t)*n > r->len - r->pos)
        return -1;
    *s = (const char *)r->data + r->pos;
    r->pos += (size_t)*n;
    return 0;
}

int csm_reader_get_str(csm_reader *r, char **s)
{
    const char *view;
    int64_t n;
    if (csm_reader_get_view(r, &view, &n))
        return -1;
    *s = view ? strndup(view, (size_t)n) : NULL;
    return 0;
}
