#!/usr/bin/env bash
# deploy/systemd/csmetrics.service: `systemd-analyze verify` passes with the unit's
# binary present (a copy of the unit whose ExecStart names this build's csmetrics,
# $CSM_BIN) and fails when the binary is missing (so the verification does look);
# `systemd-analyze security --offline` rates its exposure at most 2.0 ("OK");
# and MemoryDenyWriteExecute=yes does not stop the plugins from loading nor the
# daemon from starting: both run under the kernel's same rule (mdwe_exec.py),
# which refuses a plugin that asks for an executable stack.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
unit=$root/deploy/systemd/csmetrics.service
bin=$(realpath "${CSM_BIN:?CSM_BIN: the csmetrics binary of the build}")
command -v systemd-analyze >/dev/null || {
    echo "check_systemd_unit: systemd-analyze not installed (Debian package systemd)" >&2
    exit 1
}
# shellcheck source=tests/deploy/lib.sh source-path=SCRIPTDIR/../..
source "$root/tests/deploy/lib.sh"
deploy_scaffold check_systemd_unit

exec_start='ExecStart=/usr/local/bin/csmetrics run -c /etc/csmetrics/csmetrics.yaml'
grep -qxF "$exec_start" "$unit" || fail "the unit lacks '$exec_start'"
for d in DynamicUser=yes ProtectSystem=strict ProtectHome=yes NoNewPrivileges=yes PrivateTmp=yes \
    MemoryDenyWriteExecute=yes SystemCallFilter=@system-service Restart=on-failure \
    KillSignal=SIGTERM; do
    grep -qxF "$d" "$unit" || fail "the unit lacks $d"
done
grep -qx 'RestrictAddressFamilies=.*' "$unit" || fail "the unit lacks RestrictAddressFamilies"
grep -qx 'TimeoutStopSec=.*' "$unit" || fail "the unit lacks TimeoutStopSec"

verify() { # UNIT_DIR: systemd-analyze verify's output (any line is a finding)
    (cd "$1" && systemd-analyze verify ./csmetrics.service 2>&1)
}
mkdir "$work/ok" "$work/missing"
sed "s#^ExecStart=/usr/local/bin/csmetrics #ExecStart=$bin #" "$unit" >"$work/ok/csmetrics.service"
out=$(verify "$work/ok") || fail "systemd-analyze verify failed: $out"
[[ -z $out ]] || fail "systemd-analyze verify: $out"
sed "s#^ExecStart=/usr/local/bin/csmetrics #ExecStart=$work/absent/csmetrics #" "$unit" \
    >"$work/missing/csmetrics.service"
out=$(verify "$work/missing") && fail "systemd-analyze verify passed with a missing binary"
[[ $out == *"Command $work/absent/csmetrics is not executable"* ]] ||
    fail "systemd-analyze verify, missing binary: $out"

(cd "$work/ok" && systemd-analyze security --offline=true --threshold=20 ./csmetrics.service \
    >"$work/security.txt" 2>&1) || { cat "$work/security.txt"; fail "exposure above 2.0"; }

# Loading the plugins (config -c runs each plugin's init) under the rule.
cat >"$work/chain.yaml" <<'YAML'
plugins: [session, sla, unserved, satisfaction, fcr, orders]
YAML
out=$(python3 "$root/tests/deploy/mdwe_exec.py" "$bin" config -c "$work/chain.yaml" 2>&1) ||
    fail "plugins under MemoryDenyWriteExecute: $out"
[[ $out == "$work/chain.yaml: valid" ]] || fail "config -c under MemoryDenyWriteExecute: $out"
# The daemon's own start (librdkafka, OpenSSL, the HTTP server's threads, the
# plugins) and SIGTERM under the rule.
start_idle_daemon python3 "$root/tests/deploy/mdwe_exec.py" "$bin"
stop_idle_daemon
printf 'int csm_x(void) { return 1; }\n' >"$work/execstack.c"
cc -shared -fPIC -z execstack -o "$work/execstack.so" "$work/execstack.c"
cat >"$work/execstack.yaml" <<YAML
plugins: [$work/execstack.so]
YAML
out=$(python3 "$root/tests/deploy/mdwe_exec.py" "$bin" config -c "$work/execstack.yaml" 2>&1) &&
    fail "a plugin with an executable stack loaded under MemoryDenyWriteExecute"
[[ $out == *"cannot enable executable stack"* ]] || fail "executable-stack plugin: $out"
echo "check_systemd_unit: verified; $(grep -o 'exposure level.*' "$work/security.txt")"
