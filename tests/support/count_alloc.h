/* A counting allocator for tests that check a path allocates nothing:
 * ASan's allocation hooks in the sanitizer tree, else the program's own
 * malloc family (aligned allocators included) over glibc's. Include in one
 * file of a test program; call count_allocations() before reading
 * `allocations`. A test that wants to know where allocations come from
 * sets `allocation_observer`: it is called on every counted allocation,
 * and what it allocates itself is not counted. */
#ifndef CSM_TEST_COUNT_ALLOC_H
#define CSM_TEST_COUNT_ALLOC_H

#include <stddef.h>

static long allocations;
static void (*allocation_observer)(void);
static __thread int in_observer;

static void count_one(void)
{
    if (in_observer)
        return;
    __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED);
    void (*observe)(void) = allocation_observer;
    if (observe) {
        in_observer = 1;
        observe();
        in_observer = 0;
    }
}

#if defined(__SANITIZE_ADDRESS__)
/* From <sanitizer/allocator_interface.h>, which gcc does not install. */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
static void on_malloc(const volatile void *p, size_t n)
{
    (void)p;
    (void)n;
    count_one();
}
static void on_free(const volatile void *p)
{
    (void)p;
}
static void count_allocations(void)
{
    __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}
#else
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t n);
void *malloc(size_t n)
{
    count_one();
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t size)
{
    count_one();
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n)
{
    count_one();
    return __libc_realloc(p, n);
}
void free(void *p)
{
    __libc_free(p);
}
void *memalign(size_t align, size_t n)
{
    count_one();
    return __libc_memalign(align, n);
}
void *aligned_alloc(size_t align, size_t n)
{
    return memalign(align, n);
}
int posix_memalign(void **out, size_t align, size_t n)
{
    void *p = memalign(align, n);
    if (!p)
        return 12; /* ENOMEM */
    *out = p;
    return 0;
}
static void count_allocations(void) {}
#endif

#endif
