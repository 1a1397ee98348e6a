#!/bin/sh
# The image's build steps (Containerfile's build stage runs this script; so does
# tests/deploy/check_container_build.sh, into a temporary prefix):
# a Release build of SRC in BUILD, installed under PREFIX.
#   deploy/container/build.sh SRC BUILD PREFIX      e.g. /src /src/build /usr/local
# The build packages (packages-build.txt) must be installed. JOBS sets the
# build's parallelism (default: every processor).
#
# Warnings are not errors here (CSM_WERROR=OFF): -Werror is for developers and
# CI (tests/run.sh); a new compiler's new warning must not break a packager's
# build. Tests are not built (no cmocka in the image). Binaries are stripped.
set -eu
if [ $# -ne 3 ]; then
    echo "usage: $0 SRC BUILD PREFIX" >&2
    exit 2
fi
src=$1 build=$2 prefix=$3
jobs=${JOBS:-$(nproc)}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DCSM_WERROR=OFF -DBUILD_TESTING=OFF
cmake --build "$build" -j"$jobs"
cmake --install "$build" --prefix "$prefix" --strip
