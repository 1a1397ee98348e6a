/* The page's files: index.html, app.js and style.css, and under assets/
 * the chart library that the build installs with npm (core/web/). Read on
 * each request, they are small. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dashboard.h"
#include "install_paths.h"

#define CHART_LIB "assets/chart.umd.min.js"
#define MAX_FILE (8u << 20)

static int has_file(const char *dir, const char *name)
{
    char path[PATH_MAX];
    struct stat st;
    return snprintf(path, sizeof path, "%s/%s", dir, name) < (int)sizeof path &&
           stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int usable(const char *dir)
{
    return dir && *dir && has_file(dir, "index.html") && has_file(dir, CHART_LIB);
}

int csm_dash_find_web_dir(const char *option, char *out, size_t n, char *err, size_t errlen)
{
    const char *env = getenv("CSM_WEB_DIR");
    /* A directory named explicitly is the one used, or an error. */
    const char *named = option ? option : env && *env ? env : NULL;
    const char *dir = named ? named : csm_default_dir(CSM_DIR_WEB);
    if (!usable(dir)) {
        snprintf(err, errlen,
                 "%s%s lacks index.html or %s (the build installs the chart library with "
                 "npm ci: build with -DCSM_WEB_ASSETS=ON, or name a directory with --web)",
                 named ? (option ? "--web " : "CSM_WEB_DIR ") : "", dir, CHART_LIB);
        return -1;
    }
    if (snprintf(out, n, "%s", dir) >= (int)n) {
        snprintf(err, errlen, "web directory path too long");
        return -1;
    }
    return 0;
}

static const char *type_of(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {{".html", "text/html; charset=utf-8"},
                 {".js", "text/javascript; charset=utf-8"},
                 {".css", "text/css; charset=utf-8"},
                 {".map", "application/json"},
                 {".svg", "image/svg+xml"},
                 {".png", "image/png"}};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof *types; i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}

/* The file of a request path, relative to the web directory; NULL for
 * anything else (no "..", no hidden files, one level under assets/). */
static const char *file_of(const char *path)
{
    if (!strcmp(path, "/"))
        return "index.html";
    if (!strcmp(path, "/app.js") || !strcmp(path, "/style.css"))
        return path + 1;
    const char *name = path + strlen("/assets/");
    if (strncmp(path, "/assets/", 8) || !*name || *name == '.')
        return NULL;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
                   strlen(name)
               ? path + 1
               : NULL;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f)
        return NULL;
    char *buf = NULL;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= MAX_FILE) {
        *len = (size_t)st.st_size;
        buf = malloc(*len + 1);
        if (buf && fread(buf, 1, *len, f) != *len) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

void csm_dash_file(void *opaque, const csm_http_request *req, csm_http_reply *reply)
{
    const csm_dashboard *d = opaque;
    const char *name = file_of(csm_http_path(req));
    char path[PATH_MAX];
    size_t len;
    char *body = NULL;
    if (name && snprintf(path, sizeof path, "%s/%s", d->web_dir, name) < (int)sizeof path)
        body = read_file(path, &len);
    if (!body)
        csm_http_reply_printf(reply, 404, NULL, "no such page: %s\n", csm_http_path(req));
    else
        csm_http_reply_take(reply, 200, type_of(name), body, len);
}
