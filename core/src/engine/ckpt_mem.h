/* An in-memory checkpoint store: applies csm_ckpt_batch writes as Redis
 * would and reads them back as a csm_ckpt_source. The test kit's restart
 * and the record layer's unit tests use it; `run` uses Redis
 * (ckpt_store.c). */
#ifndef CSM_CKPT_MEM_H
#define CSM_CKPT_MEM_H

#include <stddef.h>

#include "ckpt_batch.h"

typedef struct csm_ckpt_mem csm_ckpt_mem;

csm_ckpt_mem *csm_ckpt_mem_new(void);
void csm_ckpt_mem_free(csm_ckpt_mem *m);
void csm_ckpt_mem_apply(csm_ckpt_mem *m, const csm_ckpt_batch *b);
/* A source reading @p m (valid while m lives). */
csm_ckpt_source csm_ckpt_mem_source(csm_ckpt_mem *m);
/* Calls @p fn for every stored field of every section, in no particular
 * order (tools that save a checkpoint to a file: the fuzz seeds). The
 * section is not NUL-terminated: @p section_len bytes. */
typedef void (*csm_ckpt_mem_each_fn)(void *arg, const char *section, size_t section_len,
                                     const char *field, const void *value, size_t value_len);
void csm_ckpt_mem_each(const csm_ckpt_mem *m, csm_ckpt_mem_each_fn fn, void *arg);
/* Fields stored in @p section (for tests). */
size_t csm_ckpt_mem_count(const csm_ckpt_mem *m, const char *section);

#endif
