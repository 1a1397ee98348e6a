#include "ckpt_mem.h"

#include <stdlib.h>
#include <string.h>
#include <uthash.h>

typedef struct mem_field {
    char *id; /* section, '\n', field: the hash key */
    size_t section_len;
    void *value;
    size_t len;
    UT_hash_handle hh;
} mem_field;

struct csm_ckpt_mem {
    mem_field *fields;
};

csm_ckpt_mem *csm_ckpt_mem_new(void)
{
    csm_ckpt_mem *m = calloc(1, sizeof *m);
    if (!m)
        abort();
    return m;
}

static void remove_field(csm_ckpt_mem *m, mem_field *f)
{
    HASH_DEL(m->fields, f);
    free(f->id);
    free(f->value);
    free(f);
}

void csm_ckpt_mem_free(csm_ckpt_mem *m)
{
    if (!m)
        return;
    mem_field *f, *tmp;
    HASH_ITER(hh, m->fields, f, tmp)
    {
        remove_field(m, f);
    }
    free(m);
}

static char *make_id(const char *section, const char *field)
{
    size_t a = strlen(section), b = strlen(field);
    char *id = malloc(a + b + 2);
    if (!id)
        abort();
    memcpy(id, section, a);
    id[a] = '\n';
    memcpy(id + a + 1, field, b + 1);
    return id;
}

static mem_field *find(const csm_ckpt_mem *m, const char *id)
{
    mem_field *f = NULL;
    HASH_FIND_STR(m->fields, id, f);
    return f;
}

static void hset(csm_ckpt_mem *m, const char *section, const char *field, const void *v, size_t len)
{
    char *id = make_id(section, field);
    mem_field *f = find(m, id);
    if (f) {
        free(id);
        free(f->value);
    } else {
        if (!(f = calloc(1, sizeof *f)))
            abort();
        f->id = id;
        f->section_len = strlen(section);
        HASH_ADD_KEYPTR(hh, m->fields, f->id, strlen(f->id), f);
    }
    f->value = malloc(len ? len : 1);
    if (!f->value)
        abort();
    memcpy(f->value, v, len);
    f->len = len;
}

static void hdel(csm_ckpt_mem *m, const char *section, const char *field)
{
    char *id = make_id(section, field);
    mem_field *f = find(m, id);
    free(id);
    if (f)
        remove_field(m, f);
}

static int in_section(const mem_field *f, const char *section)
{
    return f->section_len == strlen(section) && !memcmp(f->id, section, f->section_len);
}

static void drop(csm_ckpt_mem *m, const char *section)
{
    mem_field *f, *tmp;
    HASH_ITER(hh, m->fields, f, tmp)
    {
        if (in_section(f, section))
            remove_field(m, f);
    }
}

void csm_ckpt_mem_apply(csm_ckpt_mem *m, const csm_ckpt_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->ops[i].kind == CSM_CKPT_DROP)
            drop(m, b->sections[b->ops[i].section]);
    for (size_t i = 0; i < b->n; i++) {
        const csm_ckpt_op *op = &b->ops[i];
        const char *section = b->sections[op->section];
        if (op->kind == CSM_CKPT_HSET)
            hset(m, section, op->field, csm_ckpt_op_value(b, op), op->value_len);
        else if (op->kind == CSM_CKPT_HDEL)
            hdel(m, section, op->field);
    }
}

static int scan(void *arg, const char *section, csm_ckpt_visit_fn fn, void *fn_arg, char *err,
                size_t errlen)
{
    (void)err;
    (void)errlen;
    csm_ckpt_mem *m = arg;
    mem_field *f, *tmp;
    HASH_ITER(hh, m->fields, f, tmp)
    {
        if (!in_section(f, section))
            continue;
        const char *field = f->id + f->section_len + 1;
        int rc = fn(fn_arg, field, strlen(field), f->value, f->len);
        if (rc)
            return rc;
    }
    return 0;
}

csm_ckpt_source csm_ckpt_mem_source(csm_ckpt_mem *m)
{
    return (csm_ckpt_source){m, scan};
}

size_t csm_ckpt_mem_count(const csm_ckpt_mem *m, const char *section)
{
    size_t n = 0;
    const mem_field *f, *tmp;
    HASH_ITER(hh, m->fields, f, tmp)
    {
        n += in_section(f, section);
    }
    return n;
}

void csm_ckpt_mem_each(const csm_ckpt_mem *m, csm_ckpt_mem_each_fn fn, void *arg)
{
    const mem_field *f, *tmp;
    HASH_ITER(hh, m->fields, f, tmp)
    {
        fn(arg, f->id, f->section_len, f->id + f->section_len + 1, f->value, f->len);
    }
}
