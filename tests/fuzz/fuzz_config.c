/* libFuzzer: the configuration parser (csm_config_load_string, the
 * same path as `run -c` and `config -c` after reading the file). Every
 * outcome must free cleanly; a refusal must say why. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *yaml = malloc(size + 1);
    memcpy(yaml, data, size);
    yaml[size] = 0;
    csm_config cfg;
    char err[512];
    err[0] = 0;
    if (csm_config_load_string(yaml, &cfg, err, sizeof err) == 0)
        csm_config_free(&cfg);
    else
        FUZZ_REQUIRE(err[0] != 0 && memchr(err, 0, sizeof err), "a refusal carries a reason");
    free(yaml);
    return 0;
}
