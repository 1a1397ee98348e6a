#include "pool.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Chunks double from the first size up to the last, so a small pool stays
 * small and a large one takes few mappings. */
#define FIRST_CHUNK ((size_t)64 << 10)
#define LAST_CHUNK ((size_t)4 << 20)

struct csm_pool_chunk {
    csm_pool_chunk *next;
    size_t bytes;
    /* 16-aligned blocks follow */
};

#define HEADER ((sizeof(csm_pool_chunk) + 15) & ~(size_t)15)

static size_t class_of(size_t size)
{
    return (size + CSM_POOL_CLASS_BYTES - 1) / CSM_POOL_CLASS_BYTES - 1;
}

void csm_pool_init(csm_pool *p)
{
    *p = (csm_pool){0};
}

/* Unmaps the chunks from @p c up to @p stop (excluded). */
static void unmap_chunks(csm_pool *p, csm_pool_chunk *c, const csm_pool_chunk *stop)
{
    while (c != stop) {
        csm_pool_chunk *next = c->next;
        p->mapped -= c->bytes;
        UNPOISON(c, c->bytes);
        munmap(c, c->bytes);
        c = next;
    }
}

void csm_pool_destroy(csm_pool *p)
{
    unmap_chunks(p, p->chunks, NULL);
    csm_pool_init(p);
}

static void add_chunk(csm_pool *p)
{
    size_t bytes = p->chunks ? p->chunks->bytes * 2 : FIRST_CHUNK;
    if (bytes > LAST_CHUNK)
        bytes = LAST_CHUNK;
    csm_pool_chunk *c =
        mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c == MAP_FAILED)
        abort();
    c->bytes = bytes;
    c->next = p->chunks;
    p->chunks = c;
    p->mapped += bytes;
    p->bump = (char *)c + HEADER;
    p->end = (char *)c + bytes;
    POISON(p->bump, (size_t)(p->end - p->bump));
}

void *csm_pool_alloc(csm_pool *p, size_t size)
{
    if (size == 0 || size > CSM_POOL_MAX_BLOCK)
        abort();
    size_t k = class_of(size), bytes = (k + 1) * CSM_POOL_CLASS_BYTES;
    void *b = p->free_list[k];
    if (b) {
        UNPOISON(b, bytes);
        p->free_list[k] = *(void **)b;
    } else {
        if ((size_t)(p->end - p->bump) < bytes)
            add_chunk(p);
        b = p->bump;
        p->bump += bytes;
        UNPOISON(b, bytes);
    }
    p->live++;
    return b;
}

/* Once nothing is handed out, only the oldest (smallest) chunk stays, all
 * of it free again. */
static void shrink(csm_pool *p)
{
    csm_pool_chunk *first = p->chunks;
    while (first->next)
        first = first->next;
    unmap_chunks(p, p->chunks, first);
    p->chunks = first;
    for (size_t k = 0; k < sizeof p->free_list / sizeof *p->free_list; k++)
        p->free_list[k] = NULL;
    p->bump = (char *)first + HEADER;
    p->end = (char *)first + first->bytes;
    POISON(p->bump, (size_t)(p->end - p->bump));
}

void csm_pool_free(csm_pool *p, void *block, size_t size)
{
    size_t k = class_of(size);
    *(void **)block = p->free_list[k];
    p->free_list[k] = block;
    POISON((char *)block + sizeof(void *), (k + 1) * CSM_POOL_CLASS_BYTES - sizeof(void *));
    if (--p->live == 0 && p->chunks->next)
        shrink(p);
}
