/* A counting allocator for tests that check a path allocates nothing:
 * ASan's allocation hooks in the sanitizer tree, else the program's own
 * malloc family over glibc's. Include in one file of a test program;
 * call count_allocations() before reading `allocations`. */
#ifndef CSM_TEST_COUNT_ALLOC_H
#define CSM_TEST_COUNT_ALLOC_H

#include <stddef.h>

static long allocations;

#if defined(__SANITIZE_ADDRESS__)
/* From <sanitizer/allocator_interface.h>, which gcc does not install. */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
static void on_malloc(const volatile void *p, size_t n)
{
    (void)p;
    (void)n;
    allocations++;
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
void *malloc(size_t n)
{
    allocations++;
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t size)
{
    allocations++;
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n)
{
    allocations++;
    return __libc_realloc(p, n);
}
void free(void *p)
{
    __libc_free(p);
}
static void count_allocations(void) {}
#endif

#endif
