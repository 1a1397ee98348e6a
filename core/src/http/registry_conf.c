#include "registry_conf.h"

static const char *or_null(const char *s)
{
    return s && *s ? s : NULL;
}

void csm_registry_conf_from_config(const csm_config *cfg, csm_registry_conf *out)
{
    out->url = or_null(cfg->registry_url);
    out->dir = or_null(cfg->registry_dir);
    out->username = or_null(cfg->registry_username);
    out->password = or_null(cfg->registry_password);
    out->ca_file = or_null(cfg->registry_ca_file);
    out->cert_file = or_null(cfg->registry_cert_file);
    out->key_file = or_null(cfg->registry_key_file);
    out->timeout_ms = cfg->registry_timeout_ms;
    out->retry_max_ms = cfg->registry_retry_max_ms;
}
