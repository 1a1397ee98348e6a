#include "registry_dir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

csm_schema_status csm_reg_dir_lookup(const char *dir, int32_t id, char **text, size_t *len,
                                     char *why, size_t whylen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%d.avsc", dir, (int)id);
    *text = csm_slurp(path, len);
    if (*text)
        return CSM_SCHEMA_FOUND;
    if (errno == ENOENT) {
        snprintf(why, whylen, "no file %d.avsc in %s", (int)id, dir);
        return CSM_SCHEMA_NOT_FOUND;
    }
    snprintf(why, whylen, "%s: %s", path, strerror(errno));
    return CSM_SCHEMA_UNAVAILABLE;
}

/* "21.avsc" → 21; -1 for any other name ("21.avsc~", "x.avsc", and
 * "021.avsc", which the lookup of id 21 would never open). */
static long file_id(const char *name)
{
    char *end;
    if (name[0] < '0' || name[0] > '9' || (name[0] == '0' && name[1] != '.'))
        return -1;
    errno = 0;
    long id = strtol(name, &end, 10);
    if (errno || id > INT32_MAX || strcmp(end, ".avsc"))
        return -1;
    return id;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* The ids of the directory, ascending (malloc'd); -1 with err. */
static long dir_ids(const char *dir, long **ids, size_t *n, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "schema_registry.dir %s: %s", dir, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    *ids = NULL;
    *n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        long id = file_id(e->d_name);
        if (id < 0)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            long *grown = realloc(*ids, cap * sizeof **ids);
            if (!grown) {
                closedir(d);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            *ids = grown;
        }
        (*ids)[(*n)++] = id;
    }
    closedir(d);
    if (*n)
        qsort(*ids, *n, sizeof **ids, cmp_long);
    return 0;
}

int csm_reg_dir_list(const char *dir, csm_schema_list_fn fn, void *arg, char *err, size_t errlen)
{
    long *ids;
    size_t n;
    if (dir_ids(dir, &ids, &n, err, errlen))
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char *text, why[512], where[4096];
        size_t len;
        if (csm_reg_dir_lookup(dir, (int32_t)ids[i], &text, &len, why, sizeof why) !=
            CSM_SCHEMA_FOUND) {
            snprintf(err, errlen, "%s", why);
            rc = -1;
            break;
        }
        snprintf(where, sizeof where, "%s/%ld.avsc", dir, ids[i]);
        fn(arg, (int32_t)ids[i], where, text, len);
        free(text);
    }
    free(ids);
    return rc;
}
