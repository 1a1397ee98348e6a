#!/bin/sh
# Installs the Debian packages listed in FILE (one a line, # comments) without
# recommends, and drops apt's lists so the image layer stays small.
#   deploy/container/install-packages.sh deploy/container/packages-runtime.txt
set -eu
list=$1
packages=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list")
apt-get update
# shellcheck disable=SC2086 # one word per package
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $packages
rm -rf /var/lib/apt/lists/*
