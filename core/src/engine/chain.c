#include "chain.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_map.h"
#include "install_paths.h"

/* The smallest descriptor a 1.x plugin may hand us: up to state_entries. */
#define MIN_PLUGIN_SIZE (offsetof(csm_plugin, state_entries) + sizeof(void *))

/* Search order: $CSM_PLUGIN_PATH, plugin_path of the configuration, then
 * the build tree's or the install prefix's plugin directory. */
static int find_plugin(const csm_config *cfg, const char *name, char *out, size_t outlen,
                       char *searched, size_t searched_len)
{
    if (strchr(name, '/')) {
        snprintf(out, outlen, "%s", name);
        snprintf(searched, searched_len, "%s", name);
        return access(out, R_OK) == 0 ? 0 : -1;
    }
    const char *env = getenv("CSM_PLUGIN_PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s:%s:%s", env ? env : "",
             cfg->plugin_path ? cfg->plugin_path : "", csm_default_dir(CSM_DIR_PLUGINS));
    searched[0] = 0;
    char *save = NULL;
    for (char *dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        if (!*dir)
            continue;
        snprintf(out, outlen, "%s/%s.so", dir, name);
        size_t used = strlen(searched);
        snprintf(searched + used, searched_len - used, "%s%s", used ? ", " : "", dir);
        if (access(out, R_OK) == 0)
            return 0;
    }
    return -1;
}

/* Incremental state (ABI 1.2) needs both halves: saved entries that
 * cannot be loaded would be lost at the first restart. */
static int half_state(const csm_plugin *p)
{
    if (p->struct_size < offsetof(csm_plugin, load_entry) + sizeof p->load_entry)
        return 0;
    return !p->save_entry != !p->load_entry;
}

static int load_link(const csm_config *cfg, const csm_plugin_spec *spec, csm_chain_link *link,
                     char *err, size_t errlen)
{
    char path[1024], searched[2048];
    if (find_plugin(cfg, spec->name, path, sizeof path, searched, sizeof searched)) {
        snprintf(err, errlen, "plugin '%s': not found (searched %s)", spec->name, searched);
        return -1;
    }
    link->path = strdup(path);
    link->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!link->dl) {
        snprintf(err, errlen, "plugin '%s': cannot load %s: %s", spec->name, path, dlerror());
        return -1;
    }
    csm_plugin_entry_fn entry;
    *(void **)&entry = dlsym(link->dl, CSM_PLUGIN_ENTRY_SYMBOL);
    if (!entry) {
        snprintf(err, errlen, "plugin '%s' (%s): no '%s' symbol: not a csmetrics plugin",
                 spec->name, path, CSM_PLUGIN_ENTRY_SYMBOL);
        return -1;
    }
    const csm_plugin *p = entry(&csm_host_api_v1);
    if (!p) {
        snprintf(err, errlen,
                 "plugin '%s' (%s): refused this host (csmetrics plugin ABI %d.%d); rebuild it "
                 "against this version's plugin.h",
                 spec->name, path, CSM_PLUGIN_ABI_MAJOR, CSM_PLUGIN_ABI_MINOR);
        return -1;
    }
    if (p->abi_major != CSM_PLUGIN_ABI_MAJOR || p->abi_minor > CSM_PLUGIN_ABI_MINOR ||
        p->struct_size < MIN_PLUGIN_SIZE) {
        snprintf(err, errlen,
                 "plugin '%s' (%s): built for plugin ABI %u.%u, this csmetrics provides %d.%d; "
                 "rebuild it against this version's plugin.h",
                 spec->name, path, p->abi_major, p->abi_minor, CSM_PLUGIN_ABI_MAJOR,
                 CSM_PLUGIN_ABI_MINOR);
        return -1;
    }
    if (half_state(p)) {
        snprintf(err, errlen,
                 "plugin '%s' (%s): has %s but not %s: its state could not be restored after a "
                 "restart",
                 spec->name, path, p->save_entry ? "save_entry" : "load_entry",
                 p->save_entry ? "load_entry" : "save_entry");
        return -1;
    }
    link->plugin = p;
    link->ctx_template = calloc(1, p->ctx_size ? p->ctx_size : 1);
    char section[160];
    snprintf(section, sizeof section, "plugins.%s", p->name);
    return csm_config_map_fill(p->config_map, section, spec->settings, spec->n_settings,
                               link->ctx_template, err, errlen);
}

/* What a plugin declares it needs; nothing for a descriptor older than
 * ABI 1.1 (its memory ends before the member). */
static const char *const *plugin_needs(const csm_plugin *p)
{
    if (p->struct_size < offsetof(csm_plugin, needs) + sizeof p->needs)
        return NULL;
    return p->needs;
}

static ptrdiff_t link_index(const csm_chain *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->links[i].plugin->name, name))
            return (ptrdiff_t)i;
    return -1;
}

/* A plugin only sees the derived events of the plugins before it, so a
 * need placed later is as broken as a missing one. */
static int check_needs(const csm_chain *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->n; i++) {
        const csm_plugin *p = c->links[i].plugin;
        const char *const *needs = plugin_needs(p);
        for (size_t k = 0; needs && needs[k]; k++) {
            ptrdiff_t at = link_index(c, needs[k]);
            if (at >= 0 && (size_t)at < i)
                continue;
            snprintf(err, errlen, "plugins: plugin '%s' needs '%s' before it in the chain (%s)",
                     p->name, needs[k],
                     at < 0 ? "it is not in the chain" : "it comes after it; move it up");
            return -1;
        }
    }
    return 0;
}

csm_chain *csm_chain_load(const csm_config *cfg, char *err, size_t errlen)
{
    csm_chain *c = calloc(1, sizeof *c);
    for (size_t i = 0; i < cfg->n_plugins; i++) {
        if (load_link(cfg, &cfg->plugins[i], &c->links[i], err, errlen)) {
            c->n = i + 1;
            csm_chain_free(c);
            return NULL;
        }
        c->n = i + 1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(c->links[j].plugin->name, c->links[i].plugin->name)) {
                snprintf(err, errlen, "plugins[%zu]: plugin '%s' is already in the chain", i,
                         c->links[i].plugin->name);
                csm_chain_free(c);
                return NULL;
            }
    }
    if (check_needs(c, err, errlen)) {
        csm_chain_free(c);
        return NULL;
    }
    return c;
}

void csm_chain_free(csm_chain *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        csm_chain_link *l = &c->links[i];
        if (l->plugin && l->ctx_template)
            csm_config_map_free(l->plugin->config_map, l->ctx_template);
        free(l->ctx_template);
        free(l->path);
        /* Plugins stay mapped: a plugin's atexit or TLS destructors may
         * still point into it. */
    }
    free(c);
}
