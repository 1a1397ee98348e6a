#include "scratch.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define CSM_SCRATCH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CSM_SCRATCH_ASAN 1
#endif
#endif

#ifdef CSM_SCRATCH_ASAN
#include <sanitizer/asan_interface.h>
#define REDZONE 16 /* between blocks, so that an overrun lands on poison */
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define REDZONE 0
#endif

/* Several events' worth: a line of `csmetrics gen` takes jansson 1.8 KB
 * of arena, the largest event a slot holds (2 KB of strings) 7.7 KB; an
 * Avro message's strings take their own size plus 16 bytes each. Larger
 * blocks (an Avro container's block buffer, read within a scope
 * but kept across records) come from the heap, so they do not pin the
 * arena. */
#define CAPACITY (32 * 1024)
#define LARGEST 4096
#define ALIGN 16

typedef struct arena {
    unsigned char *base; /* CAPACITY bytes, allocated at the first scope */
    size_t used;
    long live; /* blocks handed out and not freed yet */
    int open;
} arena;

static _Thread_local arena tls;
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

static void release_at_exit(void *base)
{
    free(base);
}

static void make_exit_key(void)
{
    pthread_key_create(&exit_key, release_at_exit);
}

static int owns(const arena *a, const void *p)
{
    uintptr_t q = (uintptr_t)p, b = (uintptr_t)a->base;
    return a->base && q >= b && q < b + CAPACITY;
}

void csm_scratch_enter(void)
{
    arena *a = &tls;
    if (!a->base) {
        a->base = malloc(CAPACITY);
        if (!a->base)
            return; /* no scope: the heap serves */
        pthread_once(&exit_once, make_exit_key);
        pthread_setspecific(exit_key, a->base);
        a->live = 0;
        a->used = CAPACITY; /* poisoned below */
    }
    if (a->live == 0 && a->used) {
        ASAN_POISON_MEMORY_REGION(a->base, a->used);
        a->used = 0;
    }
    a->open = 1;
}

void csm_scratch_leave(void)
{
    tls.open = 0;
}

void *csm_scratch_malloc(size_t n)
{
    arena *a = &tls;
    if (a->open && n > 0 && n <= LARGEST) {
        size_t need = ((n + ALIGN - 1) & ~(size_t)(ALIGN - 1)) + REDZONE;
        if (need <= CAPACITY - a->used) {
            unsigned char *p = a->base + a->used;
            a->used += need;
            a->live++;
            ASAN_UNPOISON_MEMORY_REGION(p, n);
            return p;
        }
    }
    return malloc(n);
}

void csm_scratch_free(void *p)
{
    arena *a = &tls;
    if (owns(a, p))
        a->live--;
    else
        free(p);
}

void *csm_scratch_realloc(void *p, size_t old_size, size_t n)
{
    if (!p)
        return csm_scratch_malloc(n);
    if (n == 0) {
        csm_scratch_free(p);
        return NULL;
    }
    if (!owns(&tls, p))
        return realloc(p, n);
    void *q = csm_scratch_malloc(n);
    if (q) {
        memcpy(q, p, old_size < n ? old_size : n);
        csm_scratch_free(p);
    }
    return q;
}
