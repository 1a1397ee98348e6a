#include "file_digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* Feeds the file to @p md; 0, or -1 with err set. */
static int digest_stream(FILE *f, const char *path, EVP_MD_CTX *md, char *err, size_t errlen)
{
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (!EVP_DigestUpdate(md, buf, n)) {
            snprintf(err, errlen, "%s: SHA-256 failed", path);
            return -1;
        }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        return -1;
    }
    return 0;
}

int csm_file_sha256(const char *path, char hex[65], char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    int rc = -1;
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
        snprintf(err, errlen, "%s: SHA-256 unavailable", path);
    else if (digest_stream(f, path, md, err, errlen) == 0) {
        if (EVP_DigestFinal_ex(md, out, &len) && len == 32)
            rc = 0;
        else
            snprintf(err, errlen, "%s: SHA-256 failed", path);
    }
    EVP_MD_CTX_free(md);
    fclose(f);
    for (unsigned int i = 0; rc == 0 && i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", out[i]);
    return rc;
}
