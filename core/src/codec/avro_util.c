#include "avro_util.h"

avro_schema_t csm_schema_unlinked(avro_schema_t s)
{
    while (s && is_avro_link(s))
        s = avro_schema_link_target(s);
    return s;
}

long csm_avro_write_framed(avro_value_t *v, int32_t schema_id, void *buf, size_t cap)
{
    unsigned char *out = buf;
    size_t off = schema_id >= 0 ? 5 : 0;
    if (cap < off)
        return -1;
    if (off) {
        out[0] = 0;
        for (int i = 0; i < 4; i++)
            out[1 + i] = (unsigned char)((uint32_t)schema_id >> (24 - 8 * i));
    }
    avro_writer_t w = avro_writer_memory((char *)out + off, (int64_t)(cap - off));
    if (!w)
        return -1;
    long n = avro_value_write(w, v) ? -1 : (long)(off + (size_t)avro_writer_tell(w));
    avro_writer_free(w);
    return n;
}

void csm_one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}
