#!/usr/bin/env bash
# Measures layer creation against `tar -cf - DIR | sha256sum` and `gzip -1` on the same data,
# in the same run: a 1 GiB tree of 4 MiB files and a tree of 20,000 small files.
#
# Usage: bench/layer/run.sh BUILD_DIR [DATA_DIR]
# BUILD_DIR must be configured with -DDOCKWRIGHT_BUILD_BENCH=ON. Data goes to DATA_DIR
# (default bench/out/layer, gitignored) and is generated once.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [DATA_DIR]}
top=$(cd "$(dirname "$0")/../.." && pwd)
data=${2:-$top/bench/out/layer}
bench=$build/bench/layer/layer_bench
mkdir -p "$data"

# Files mix random 64 KiB blocks (a quarter) with text-like ones, so gzip has real work.
generate() {
  python3 - "$@" <<'PY'
import os, random, sys
kind, root = sys.argv[1], sys.argv[2]
rng = random.Random(7)
words = [os.urandom(rng.randint(2, 8)).hex() for _ in range(4000)]
def text_block(n):
    out = bytearray()
    while len(out) < n:
        out += (" ".join(rng.choice(words) for _ in range(12)) + "\n").encode()
    return bytes(out[:n])
pool = [os.urandom(65536) if i % 4 == 0 else text_block(65536) for i in range(256)]
if kind == "big":
    for d in range(16):
        os.makedirs(f"{root}/d{d:02}", exist_ok=True)
        for f in range(16):
            with open(f"{root}/d{d:02}/f{f:02}.bin", "wb") as out:
                for _ in range(64):
                    out.write(rng.choice(pool))
else:
    for i in range(20000):
        d = f"{root}/d{i // 200:03}"
        os.makedirs(d, exist_ok=True)
        size = rng.randint(256, 12288)
        with open(f"{d}/f{i:05}.txt", "wb") as out:
            out.write(rng.choice(pool)[:size])
PY
}
[[ -d $data/big ]] || { mkdir -p "$data/big"; generate big "$data/big"; }
[[ -d $data/small ]] || { mkdir -p "$data/small"; generate small "$data/small"; }

seconds() { local start=$EPOCHREALTIME; "$@" >/dev/null; echo "$EPOCHREALTIME - $start" | bc -l; }
for tree in big small; do
  dir=$data/$tree
  mib=$(du -sm --apparent-size "$dir" | cut -f1)
  cat "$dir"/*/* >/dev/null  # warm the page cache for every contender alike
  echo "== $tree: $(find "$dir" -type f | wc -l) files, $mib MiB"
  t_sha=$(seconds bash -c "tar -cf - -C '$dir' . | sha256sum")
  printf 'tar | sha256sum  %.3f s  %.1f MiB/s\n' "$t_sha" "$(echo "$mib / $t_sha" | bc -l)"
  t_gzip=$(seconds bash -c "tar -cf - -C '$dir' . | gzip -1")
  printf 'tar | gzip -1    %.3f s  %.1f MiB/s\n' "$t_gzip" "$(echo "$mib / $t_gzip" | bc -l)"
  for kind in none gzip zstd; do
    line=$("$bench" "$dir" /dev/null "$kind")
    t=$(sed -E 's/.* seconds=([0-9.]+) .*/\1/' <<<"$line")
    base=$t_sha
    [[ $kind == none ]] || base=$t_gzip
    # The speed-up compares wall times on the same files: the uncompressed layer against
    # tar | sha256sum, the compressed ones against tar | gzip -1.
    printf 'dockwright %s speedup=%.2fx\n' "$line" "$(echo "$base / $t" | bc -l)"
  done
done
