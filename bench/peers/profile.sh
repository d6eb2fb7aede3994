#!/usr/bin/env bash
# Profiles dockwright build on the shared bench scenarios: per-step times (step_times.py)
# of a cold, a cached and a touched build, and the system-call summary (strace -c -f) of a
# cold and a cached build, one scenario after the other.
#
#   bench/peers/profile.sh [-d DOCKWRIGHT] [-w WORK] [SCENARIO ...]
#
# Output goes to WORK/profile/SCENARIO.{steps,strace-cold,strace-cached}.txt (WORK defaults
# to /var/tmp/dockwright-bench-profile). The scenarios come from $DOCKWRIGHT_SHARED, else
# the folder `shared` beside this repository. Needs strace.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cli=$top/build/bench/dockwright
[[ -x $cli ]] || cli=$top/.venv/bin/dockwright
work=/var/tmp/dockwright-bench-profile
while getopts d:w: option; do
  case $option in
    d) cli=$(realpath "$OPTARG") ;;
    w) work=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
shared=${DOCKWRIGHT_SHARED:-$(dirname "$top")/shared}
scenarios=("$@")
if ((${#scenarios[@]} == 0)); then
  mapfile -t scenarios < <(ls "$shared/bench/scenarios")
fi
command -v strace >/dev/null || {
  echo "profile.sh: strace is missing: install Debian's strace package" >&2
  exit 1
}

out=$work/profile
mkdir -p "$out"
store=$work/store
rm -rf "$store"
export DOCKWRIGHT_ROOT=$store
DOCKWRIGHT_CLI=$cli "$top/scripts/make-base" busybox --store "$store"

for scenario in "${scenarios[@]}"; do
  ctx=$work/ctx/$scenario
  bash "$shared/bench/scenarios/$scenario/make-context.sh" "$ctx" >/dev/null
  touch_file=$(sed -n 's/^TOUCH_FILE=//p' "$shared/bench/scenarios/$scenario/scenario.env")
  touch_file=${touch_file:-README}
  build=("$cli" build --network none -t "profile-$scenario" "$ctx")
  {
    echo "## cold (--no-cache)"
    python3 "$here/step_times.py" -- "${build[@]}" --no-cache
    echo "## cached"
    python3 "$here/step_times.py" -- "${build[@]}"
    echo "## touched ($touch_file)"
    echo "stamp $(date +%s%N)" >"$ctx/$touch_file"
    python3 "$here/step_times.py" -- "${build[@]}"
  } >"$out/$scenario.steps.txt" 2>&1
  strace -f -c -o "$out/$scenario.strace-cold.txt" "${build[@]}" --no-cache >/dev/null
  strace -f -c -o "$out/$scenario.strace-cached.txt" "${build[@]}" >/dev/null
  echo "profile.sh: $scenario done" >&2
  rm -rf "$ctx"
done
echo "profile.sh: results in $out" >&2
