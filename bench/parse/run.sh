#!/usr/bin/env bash
# Generates the 10,000-line Dockerfile and runs the parse benchmark on it (-O2 build).
# Usage: bench/parse/run.sh [SECONDS]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/bench/out
mkdir -p "$out"
python3 "$top/bench/parse/generate.py" "$out/Dockerfile.bench" 10000
src=$top/cpp/src/lib/dockerfile
g++ -std=c++20 -O2 -DNDEBUG -I"$top/cpp/include" "$top/bench/parse/parse_bench.cpp" \
  "$src"/{parser,line_parsers,json_array,heredoc_words,dump,go_text,go_print_table,utf8}.cpp \
  -o "$out/parse_bench"
"$out/parse_bench" "$out/Dockerfile.bench" "${1:-3}"
