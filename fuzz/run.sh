#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs one of them.
# Usage: fuzz/run.sh TARGET SECONDS   (TARGET is a fuzz/*_fuzz.cpp name without the suffix,
# e.g. parser). Seeds come from the shared corpus in $DOCKWRIGHT_SHARED (default: ../shared);
# the growing corpus is kept in fuzz/corpus-TARGET, and crashes are written to build/fuzz.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
target=${1:?usage: fuzz/run.sh TARGET SECONDS}
seconds=${2:?usage: fuzz/run.sh TARGET SECONDS}
shared=${DOCKWRIGHT_SHARED:-$top/../shared}
build=${DOCKWRIGHT_FUZZ_BUILD:-$top/build/fuzz}

CC=clang CXX=clang++ cmake -S "$top" -B "$build" -G Ninja -DDOCKWRIGHT_FUZZ=ON \
  -DDOCKWRIGHT_BUILD_TESTS=OFF -DDOCKWRIGHT_BUILD_CLI=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target "${target}_fuzz"

corpus=$top/fuzz/corpus-$target
mkdir -p "$corpus"
seeds=()
case $target in
  parser) seeds=("$shared/conformance/parser" "$shared/realworld") ;;
  image_json) seeds=("$shared/oracle/cases" "$shared/conformance/oci-schema" "$top/examples") ;;
  *) [[ -d $shared/conformance ]] && seeds=("$shared/conformance") ;;
esac
# libFuzzer reads seed folders flat, so copy the seed files into one folder first.
seed_dir=$build/seeds-$target
rm -rf "$seed_dir" && mkdir -p "$seed_dir"
for dir in "${seeds[@]}"; do
  [[ -d $dir ]] || continue
  find "$dir" -type f -size -64k | while read -r file; do
    cp "$file" "$seed_dir/$(sha1sum "$file" | cut -c1-16)"
  done
done

cd "$build"
exec nice "./${target}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$corpus" "$seed_dir"
