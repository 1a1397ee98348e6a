/* The SHA-256 of a file's bytes, which names a replayed file (replay
 * guard). libcrypto's, for its speed: a hand-written one was a tenth of
 * a replay's instructions. */
#ifndef CSM_FILE_DIGEST_H
#define CSM_FILE_DIGEST_H

#include <stddef.h>

/* 64 lowercase hex digits and a NUL into hex[65]; 0, or -1 with err set. */
int csm_file_sha256(const char *path, char hex[65], char *err, size_t errlen);

#endif
