#!/usr/bin/env bash
# Runs test_kill9.sh N times (default 20) with fresh random kill moments
# and prints how many passed; failing seeds are listed to replay with
# SEED=... bash test_kill9.sh. Not a ctest: it takes a while.
here=$(dirname "$0")
n=${1:-20}
pass=0
failed=()
for ((i = 1; i <= n; i++)); do
    seed=$RANDOM
    if SEED=$seed bash "$here/test_kill9.sh" >"/tmp/kill9_loop.$seed.log" 2>&1; then
        pass=$((pass + 1))
        rm -f "/tmp/kill9_loop.$seed.log"
    else
        failed+=("$seed")
    fi
    echo "loop $i/$n: $pass passed${failed:+; failed seeds: ${failed[*]}}"
done
echo "kill9_loop: $pass/$n passed"
[[ $pass -eq $n ]]
