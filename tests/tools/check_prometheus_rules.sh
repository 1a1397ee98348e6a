#!/usr/bin/env bash
# deploy/prometheus/csmetrics-rules.yml: promtool (Debian package prometheus)
# checks its syntax and runs tests/deploy/csmetrics-rules.test.yml, where each
# alert fires past its threshold after its `for`, and not below it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v promtool >/dev/null || {
    echo "check_prometheus_rules: promtool not installed (Debian package prometheus)" >&2
    exit 1
}
promtool check rules "$root/deploy/prometheus/csmetrics-rules.yml"
cd "$root/tests/deploy"
promtool test rules csmetrics-rules.test.yml
