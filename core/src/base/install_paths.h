/* Where a csmetrics executable finds, by default, its plugins, the event
 * schemas and the dashboard's files: in the build tree it was built in, or
 * else in the install prefix it sits in, found from its own path, so an
 * install works under any prefix and after being moved. Explicit settings
 * (CSM_PLUGIN_PATH, plugin_path, CSM_SCHEMA_DIR, schema_dir, --web,
 * CSM_WEB_DIR) come first; their callers check those. */
#ifndef CSM_INSTALL_PATHS_H
#define CSM_INSTALL_PATHS_H

typedef enum { CSM_DIR_PLUGINS, CSM_DIR_SCHEMAS, CSM_DIR_WEB, CSM_DIR_KINDS } csm_dir_kind;

/* The default directory of @p kind, "" when the executable's own path is
 * unknown. Computed once, thread-safe; the string lives until exit. */
const char *csm_default_dir(csm_dir_kind kind);

#endif
