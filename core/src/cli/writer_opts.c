#include "writer_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void csm_writer_opts_init(csm_writer_opts *o)
{
    memset(o, 0, sizeof *o);
    o->id[0] = o->id[1] = -2;
}

static int parse_id(const char *v, long *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < 0 || n > INT32_MAX)
        return -1;
    *out = n;
    return 0;
}

int csm_writer_opts_arg(csm_writer_opts *o, const char *cmd, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    for (int s = 0; s < 2; s++) {
        char id_opt[32], file_opt[32];
        snprintf(id_opt, sizeof id_opt, "--schema-id-%s", csm_stream_name((csm_stream)s));
        snprintf(file_opt, sizeof file_opt, "--writer-schema-%s", csm_stream_name((csm_stream)s));
        if (!strcmp(a, id_opt)) {
            if (!v || parse_id(v, &o->id[s])) {
                fprintf(stderr, "csmetrics %s: %s needs an integer 0..2147483647\n", cmd, a);
                return -1;
            }
        } else if (!strcmp(a, file_opt)) {
            if (!v) {
                fprintf(stderr, "csmetrics %s: %s needs a schema file\n", cmd, a);
                return -1;
            }
            o->file[s] = v;
        } else {
            continue;
        }
        ++*i;
        return 1;
    }
    return 0;
}

static long first_schema_id(const csm_config *cfg, int s)
{
    for (size_t i = 0; i < cfg->n_schema_ids; i++)
        if ((int)cfg->schema_streams[i] == s)
            return cfg->schema_ids[i];
    return -1;
}

static int resolve_stream(csm_writer_opts *o, int s, const char *cmd, const csm_config *cfg,
                          int plain, int32_t *id)
{
    const char *name = csm_stream_name((csm_stream)s);
    long configured = first_schema_id(cfg, s);
    *id = (int32_t)(plain ? -1 : o->id[s] != -2 ? o->id[s] : configured);
    if (o->file[s] && *id >= 0 && o->id[s] == -2) {
        fprintf(stderr,
                "csmetrics %s: --writer-schema-%s needs --schema-id-%s N (the configured id "
                "%ld names our own %s schema)\n",
                cmd, name, name, configured, name);
        return -1;
    }
    char err[600];
    if (o->file[s] && !(o->writer[s] = csm_json_avro_load(o->file[s], err, sizeof err))) {
        fprintf(stderr, "csmetrics %s: --writer-schema-%s: %s\n", cmd, name, err);
        return -1;
    }
    return 0;
}

int csm_writer_opts_resolve(csm_writer_opts *o, const char *cmd, const csm_config *cfg, int plain,
                            int32_t ids[2])
{
    for (int s = 0; s < 2; s++)
        if (resolve_stream(o, s, cmd, cfg, plain, &ids[s]))
            return -1;
    return 0;
}

void csm_writer_opts_free(csm_writer_opts *o)
{
    for (int s = 0; s < 2; s++) {
        csm_json_avro_free(o->writer[s]);
        o->writer[s] = NULL;
    }
}
