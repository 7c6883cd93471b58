#!/usr/bin/env bash
# The Table 7-4-2 check of two builds on the same log, alternated round by round with `wc -l`
# (a change to the check's hot path measured against the build before it on a noisy machine).
# Usage: bench/check_ab.sh BINARY_A BINARY_B [MiB] [ROUNDS]   (defaults: 1024 MiB, 5 rounds)
set -euo pipefail
a=$1 b=$2 mib=${3:-1024} rounds=${4:-5}
logs="$PWD/target/bench-logs"
mkdir -p "$logs"
source "$(dirname "$0")/log_sample.sh"
log=$(make_log "$mib")
cat "$log" >/dev/null
echo "# check_ab.sh $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $mib MiB"
for r in $(seq "$rounds"); do
  w=$(secs wc -l "$log"); x=$(secs "$a" check-log "$log"); y=$(secs "$b" check-log "$log")
  printf 'round %d: wc -l %.3fs, A %.3fs (ratio %.2f), B %.3fs (ratio %.2f)\n' \
    "$r" "$w" "$x" "$(echo "$w / $x" | bc -l)" "$y" "$(echo "$w / $y" | bc -l)"
done
[ "$("$a" check-log "$log" | grep -o '"lines":[0-9]*')" = "$("$b" check-log "$log" | grep -o '"lines":[0-9]*')" ] \
  || { echo "the two builds count differently" >&2; exit 1; }
