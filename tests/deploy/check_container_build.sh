#!/usr/bin/env bash
# The image recipe's build steps, run as a script on this machine: what the
# Containerfile's build stage does (a copy of the sources, as its build context;
# deploy/container/build.sh into a prefix), then what its runtime stage has: the
# prefix alone, without the sources or the build tree, so the installed binary
# can find its plugins, schemas and web files only where it installed them.
# Checks that the binary runs from there, accepts every configuration deploy/
# ships, serves the health check the image declares, serves the dashboard's
# files, and that every library it and its plugins link comes from
# packages-runtime.txt (or libc6, in every Debian image).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# The environment must not point the binary anywhere: only its install prefix counts.
unset CSM_PLUGIN_PATH CSM_SCHEMA_DIR CSM_WEB_DIR CSM_BROKERS CSM_REDIS CSM_REDIS_PASSWORD
# shellcheck source=tests/deploy/lib.sh source-path=SCRIPTDIR/../..
source "$root/tests/deploy/lib.sh"
deploy_scaffold check_container_build

# The build context, as .dockerignore leaves it.
mkdir "$work/src"
tar -C "$root" --exclude=./build --exclude='./build-*' --exclude=node_modules --exclude=./.git \
    -cf - . | tar -C "$work/src" -xf -
prefix=$work/prefix
JOBS=${JOBS:-2} sh "$root/deploy/container/build.sh" "$work/src" "$work/build" "$prefix" \
    >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log"; fail "build.sh failed"; }
rm -rf "$work/src" "$work/build"


# Everything the runtime stage relies on, from the installed tree at PREFIX alone.
check_tree() {
    local prefix=$1 bin=$1/bin/csmetrics f p out cfg health_cmd url dash_pid
    # The layout the runtime stage copies.
    for f in bin/csmetrics share/csmetrics/schemas/chat_event.avsc share/csmetrics/schemas/order_event.avsc \
        share/csmetrics/schemas/alert.avsc share/csmetrics/web/index.html \
        share/csmetrics/web/assets/chart.umd.min.js; do
        [[ -f $prefix/$f ]] || fail "$f not installed"
    done
    for p in session sla unserved satisfaction fcr orders; do
        [[ -f $prefix/lib/csmetrics/plugins/$p.so ]] || fail "plugin $p not installed"
    done

    # --version names the project's version (CMakeLists.txt's project()).
    version=$(sed -n 's/^project(csmetrics VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
    out=$("$bin" --version)
    [[ $out == "csmetrics $version "* ]] || fail "--version printed '$out', expected csmetrics $version"

    # Every configuration deploy/ ships loads its plugins and schemas from the prefix.
    python3 "$root/tests/deploy/extract_configs.py" "$root" "$work/configs"
    for cfg in "$work"/configs/*.yaml; do
        out=$("$bin" config -c "$cfg" 2>&1) || fail "config -c $(basename "$cfg"): $out"
        [[ $out == "$cfg: valid" ]] || fail "config -c $(basename "$cfg") printed '$out'"
    done

    # The daemon with nothing to connect to is alive and not ready (lib.sh); the
    # image's own HEALTHCHECK command passes on it, and fails with nothing listening.
    start_idle_daemon "$bin"
    health_cmd=$(sed -n '/^HEALTHCHECK/,/CMD/s/^ *CMD //p' "$root/deploy/container/Containerfile")
    [[ -n $health_cmd ]] || fail "no HEALTHCHECK CMD in the Containerfile"
    CSM_HEALTH_URL=http://127.0.0.1:$idle_port/healthz sh -c "$health_cmd" ||
        fail "the HEALTHCHECK command ($health_cmd) failed on a live daemon"
    CSM_HEALTH_URL=http://127.0.0.1:$idle_closed/healthz sh -c "$health_cmd" 2>/dev/null &&
        fail "the HEALTHCHECK command passed with nothing listening"
    stop_idle_daemon

    # The dashboard finds its page and chart library under the prefix.
    rm -f "$work/dash.out" # the previous tree's, which wait_for could read first
    "$bin" dashboard --redis "127.0.0.1:$idle_closed" --port 0 >"$work/dash.out" 2>"$work/dash.log" &
    dash_pid=$!
    pids+=("$dash_pid")
    wait_for "$work/dash.out" '^DASHBOARD ' || { cat "$work/dash.log"; fail "dashboard did not start"; }
    url=$(sed -n 's/^DASHBOARD //p' "$work/dash.out")
    cmp -s <(curl -fsS "$url") "$prefix/share/csmetrics/web/index.html" || fail "dashboard / is not index.html"
    cmp -s <(curl -fsS "${url}assets/chart.umd.min.js") "$prefix/share/csmetrics/web/assets/chart.umd.min.js" ||
        fail "dashboard does not serve its chart library"
    kill -TERM "$dash_pid"
    wait "$dash_pid" || true
}

check_tree "$prefix"

# Every library the binary and the plugins link directly comes from a runtime package.
mapfile -t runtime < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$root/deploy/container/packages-runtime.txt")
package_of() { # a library's path: its Debian package (usrmerge: /lib or /usr/lib)
    local path=$1 alt
    alt=${path#/usr}
    [[ $alt == "$path" ]] && alt=/usr$path
    { dpkg -S "$path" 2>/dev/null || dpkg -S "$alt" 2>/dev/null; } | head -1 | cut -d: -f1
}
checked=0
for obj in "$prefix/bin/csmetrics" "$prefix"/lib/csmetrics/plugins/*.so; do
    while read -r lib; do
        # "libx.so.1 => /path (addr)", or for the loader "/path/ld-linux….so.2 (addr)".
        path=$(ldd "$obj" | awk -v l="$lib" '$1 == l && $2 == "=>" { print $3 }
            $2 != "=>" && $1 ~ ("/" l "$") { print $1 }')
        [[ -n $path && $path != "not" ]] || fail "$(basename "$obj"): $lib not found"
        pkg=$(package_of "$path")
        [[ -n $pkg ]] || fail "$(basename "$obj"): $lib ($path) belongs to no package"
        if [[ $pkg != libc6 && ! " ${runtime[*]} " == *" $pkg "* ]]; then
            fail "$(basename "$obj") links $lib from $pkg, which packages-runtime.txt lacks"
        fi
        checked=$((checked + 1))
    done < <(readelf -d "$obj" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done

# The tree moved elsewhere (an image that copies /usr/local to another prefix, a
# tarball unpacked anywhere) still finds its own files: the binary locates them
# from its own path (core/src/base/install_paths.c).
mkdir "$work/moved"
mv "$prefix" "$work/moved/usr-local"
check_tree "$work/moved/usr-local"
moved="; moved, it works as well"
echo "check_container_build: installed tree works alone ($checked linked libraries checked)$moved"
