/* TEMPORARY placeholder so the binary links while this command is being written. */
#include <stdio.h>

#include "cli.h"

int csm_cmd_produce(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "csmetrics %s: not built yet\n", argv[0]);
    return 2;
}
