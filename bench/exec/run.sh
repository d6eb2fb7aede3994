#!/bin/sh
# Builds and runs the executor benchmark: 200 runs of `RUN true` over a busybox root, with the
# unshare(1) baseline interleaved. Runs the network modes none and host with the namespaces
# shared as in a build, then none with namespaces made per container. Needs root (or
# unprivileged user namespaces).
set -e
cd "$(dirname "$0")/../.."
cmake -S . -B build/bench -G Ninja -DDOCKWRIGHT_BUILD_BENCH=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/bench -j2 --target exec_bench
uptime
build/bench/bench/exec/exec_bench "${1:-200}" none overlay shared
build/bench/bench/exec/exec_bench "${1:-200}" host overlay shared
build/bench/bench/exec/exec_bench "${1:-200}" none overlay fresh
uptime
