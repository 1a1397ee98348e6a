#include "install_paths.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A build tree is recognised by the marker file CMake writes at its root
 * (CSM_BUILD_MARKER, lines "plugins=DIR", "schemas=DIR", "web=DIR"), not by
 * build paths compiled in: an installed binary then carries none, and
 * cannot take a stale build tree left at its build path for its own. The
 * tree's executables sit at most two levels below its root (core/csmetrics,
 * tests/<test>, plugins/<name>/<test>), hence the bounded walk up. */
#define MARKER_LEVELS 3

static const char *const marker_keys[CSM_DIR_KINDS] = {"plugins", "schemas", "web"};
/* Relative to the installed executable's directory (GNUInstallDirs). */
static const char *const installed[CSM_DIR_KINDS] = {CSM_REL_PLUGIN_DIR, CSM_REL_SCHEMA_DIR,
                                                     CSM_REL_WEB_DIR};
static char dirs[CSM_DIR_KINDS][PATH_MAX];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Cuts the last component off @p path; 0 when there is none left to cut. */
static int cut_last(char *path)
{
    char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    *slash = 0;
    return 1;
}

static void marker_line(char *line)
{
    line[strcspn(line, "\n")] = 0;
    char *eq = strchr(line, '=');
    if (!eq)
        return;
    *eq = 0;
    for (int k = 0; k < CSM_DIR_KINDS; k++)
        if (strcmp(line, marker_keys[k]) == 0)
            snprintf(dirs[k], sizeof dirs[k], "%s", eq + 1);
}

/* 1 if @p dir is the root of a build tree (its directories now read). */
static int read_marker(const char *dir)
{
    char path[PATH_MAX + sizeof CSM_BUILD_MARKER + 1], line[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/%s", dir, CSM_BUILD_MARKER);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        marker_line(line);
    fclose(f);
    return 1;
}

/* @p base joined with @p rel, its leading "../" taken off @p base so that
 * messages name PREFIX/lib/..., not PREFIX/bin/../lib/.... */
static void join_installed(char *out, size_t n, const char *base, const char *rel)
{
    char dir[PATH_MAX];
    memcpy(dir, base, sizeof dir);
    while (strncmp(rel, "../", 3) == 0 && cut_last(dir))
        rel += 3;
    if (snprintf(out, n, "%s/%s", dir, rel) >= (int)n)
        out[0] = 0;
}

static void compute(void)
{
    char exe_dir[PATH_MAX], dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe_dir, sizeof exe_dir - 1);
    if (n <= 0)
        return;
    exe_dir[n] = 0;
    cut_last(exe_dir);
    memcpy(dir, exe_dir, sizeof dir);
    for (int level = 0; level < MARKER_LEVELS; level++) {
        if (read_marker(dir))
            return;
        if (!cut_last(dir))
            break;
    }
    for (int k = 0; k < CSM_DIR_KINDS; k++)
        join_installed(dirs[k], sizeof dirs[k], exe_dir, installed[k]);
}

const char *csm_default_dir(csm_dir_kind kind)
{
    pthread_once(&once, compute);
    return kind >= 0 && kind < CSM_DIR_KINDS ? dirs[kind] : "";
}
