#!/usr/bin/env bash
# The layer rule of docs/architecture.md ("Components"): a file in
# core/src/<layer>/ includes headers of its own layer or of layers below
# it, plus the exceptions listed there (types, not calls). Prints every
# include that breaks the rule and exits 1 if there is any.
set -euo pipefail
src=$(cd "$(dirname "$0")/../../core/src" && pwd)
order=(base config codec engine store kafka http report run cli bench)
# "file header": includes the rule allows although they point up.
allowed=(
    "config/config.h codec.h" "config/config.h redis_store.h" "config/config.c event_slot.h"
    "config/config.c sat_target.h" "base/time_bounds.h config.h"
    "codec/alert_avro.h alert_outbox.h" "run/cmd_run.c cli.h" "run/cmd_run.c config_check.h"
)
rank() {
    local i
    for i in "${!order[@]}"; do [[ ${order[$i]} == "$1" ]] && echo "$i" && return; done
    echo "check_layers: core/src/$1 is not a layer of the list: add it to docs and here" >&2
    exit 1
}
bad=0
for dir in "$src"/*/; do
    layer=$(basename "$dir")
    own=$(rank "$layer")
    for f in "$dir"*.[ch]; do
        rel=$layer/$(basename "$f")
        for h in $(sed -n 's/^#include "\([a-z_0-9]*\.h\)"/\1/p' "$f"); do
            target=$(cd "$src" && ls -- */"$h" 2>/dev/null | head -1) || true
            [[ -n $target ]] || continue
            tl=${target%%/*}
            [[ $tl == "$layer" ]] && continue
            (($(rank "$tl") < own)) && continue
            [[ " ${allowed[*]/%/|} " == *" $rel $h|"* ]] && continue
            echo "core/src/$rel includes $h of the layer above it, $tl/" >&2
            bad=1
        done
    done
done
exit $bad
