/* Blocks of varying size carved from large mapped chunks, with a free list
 * per 64-byte size class: an object store sized to what each object holds,
 * with no malloc per object once the pool has grown to its working size.
 * All chunks but the first go back to the operating system as soon as no
 * block is in use, which a free list of malloc'd blocks never does (the
 * reorder buffer of a partition that went idle after a burst would keep
 * the burst's memory for ever). */
#ifndef CSM_POOL_H
#define CSM_POOL_H

#include <stddef.h>

#define CSM_POOL_CLASS_BYTES 64
/* The largest block a pool hands out. */
#define CSM_POOL_MAX_BLOCK 4096

typedef struct csm_pool_chunk csm_pool_chunk;

typedef struct csm_pool {
    void *free_list[CSM_POOL_MAX_BLOCK / CSM_POOL_CLASS_BYTES];
    csm_pool_chunk *chunks; /* newest first; the last one is kept when empty */
    char *bump, *end;       /* the unused rest of the newest chunk */
    size_t live;            /* blocks handed out and not freed */
    size_t mapped;          /* bytes of all chunks */
} csm_pool;

void csm_pool_init(csm_pool *p);
/* Unmaps every chunk (blocks still handed out become invalid). */
void csm_pool_destroy(csm_pool *p);
/* A block of at least @p size bytes (1..CSM_POOL_MAX_BLOCK), 16-aligned;
 * aborts when out of memory. */
void *csm_pool_alloc(csm_pool *p, size_t size);
/* Gives back a block of csm_pool_alloc(p, size), the same @p size. */
void csm_pool_free(csm_pool *p, void *block, size_t size);

#endif
