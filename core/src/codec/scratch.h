/* Scratch memory for the libraries that decode events (avro-c, jansson).
 *
 * Both allocate per value they read (avro-c a buffer and a wrapper per
 * string, jansson every node of its tree) and free it all before the
 * decoder returns. While a scratch scope is open on a thread, those
 * allocations are bumped out of one arena of that thread and their frees
 * only count down; the next scope starts the arena over, but only when
 * every block of it has been freed (a block a library kept would
 * otherwise be overwritten: it pins the arena, and later blocks come
 * from the heap). Outside a scope, and beyond the arena's capacity,
 * every call goes to the heap as before. So decoding makes no heap
 * allocation per event, whatever the libraries do inside.
 *
 * A block must be freed on the thread that allocated it (the decoders
 * free what they allocate before returning). Under AddressSanitizer the
 * free space of the arena is poisoned, so overruns are still caught. */
#ifndef CSM_SCRATCH_H
#define CSM_SCRATCH_H

#include <stddef.h>

/* Opens a scope on this thread (scopes do not nest). */
void csm_scratch_enter(void);
void csm_scratch_leave(void);

/* malloc/realloc/free with the semantics above. @p old_size is the size
 * the block was allocated with (avro-c passes it; needed to move a
 * scratch block). */
void *csm_scratch_malloc(size_t n);
void *csm_scratch_realloc(void *p, size_t old_size, size_t n);
void csm_scratch_free(void *p);

#endif
