#!/usr/bin/env bash
# The floor of the run-files scenario on this machine: its five RUN commands run by busybox
# sh straight on tmpfs, each in a fresh overlay mount whose lower layers are the earlier
# steps' upper directories, as a builder stacks them. No builder, no container set-up, no
# layer commit. Prints each step's seconds and their sum, one line per repetition.
#
#   bench/peers/run-files-floor.sh [REPETITIONS]     (default 5; needs root and busybox)
set -euo pipefail
repetitions=${1:-5}
command -v busybox >/dev/null || {
  echo "run-files-floor.sh: busybox is missing: install Debian's busybox-static package" >&2
  exit 1
}
if [[ ${DOCKWRIGHT_FLOOR_CHILD:-} != 1 ]]; then
  # A private mount namespace, so that no overlay mount outlives the script.
  for _ in $(seq "$repetitions"); do
    DOCKWRIGHT_FLOOR_CHILD=1 unshare -m "$0"
  done
  exit 0
fi

work=$(mktemp -d /dev/shm/run-files-floor.XXXXXX)
trap 'umount "$work/m" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/base/data" "$work/m"
lowers=$work/base
line=""
total=0
step() {
  mkdir -p "$work/u$1" "$work/w$1"
  mount -t overlay overlay -o "lowerdir=$lowers,upperdir=$work/u$1,workdir=$work/w$1" "$work/m"
  local start end seconds
  start=$(date +%s.%N)
  (cd "$work/m" && busybox sh -c "$2")
  end=$(date +%s.%N)
  umount "$work/m"
  lowers=$work/u$1:$lowers
  seconds=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')
  total=$(awk -v t="$total" -v s="$seconds" 'BEGIN { printf "%.3f", t + s }')
  line+="step$1 $seconds  "
}
# The RUN commands of scenarios/run-files/Dockerfile, with ./data for /data.
step 1 'i=0; while [ $i -lt 1000 ]; do d=./data/small/d$((i % 10)); [ -d $d ] || mkdir -p $d; echo "file $i created by bench run-files, padding padding padding padding padding" > $d/f$i.txt; i=$((i+1)); done'
step 2 'dd if=/dev/urandom of=./data/big.bin bs=1M count=100 2>/dev/null'
step 3 'i=0; while [ $i -lt 1000 ]; do echo "changed $i" >> ./data/small/d$((i % 10))/f$i.txt; i=$((i+2)); done && dd if=/dev/urandom of=./data/big.bin bs=1M count=1 seek=10 conv=notrunc 2>/dev/null'
step 4 'i=1; while [ $i -lt 1000 ]; do rm -f ./data/small/d$((i % 10))/f$i.txt; i=$((i+4)); done && rm -rf ./data/small/d0 && rm -f ./data/big.bin'
step 5 'echo done > ./data/done.txt'
echo "${line}sum $total"
