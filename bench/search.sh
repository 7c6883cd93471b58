#!/usr/bin/env bash
# Finding who connected (issue 11, item 4): a search of a large gateway log through the code
# the Center's search uses (`secportal search-log`: the upload's reader and check, the same
# matcher) against `grep -c` of the same pattern on the same file, from the page cache
# (issue: search <= 2 x grep -c): by 識別番号, by 利用者コード and by a time range alone.
# Medians of RUNS runs (default 5); the load average after each case.
# Usage: bench/search.sh [MiB ...]     (default: 1024)
source "$(dirname "$0")/common.sh"
trap 'rm -rf "$work"' EXIT
export SECPORTAL_MAX_LOG_MB=8192
sizes=("${@:-1024}")
read -r -a sizes <<<"${sizes[*]}"
runs="${RUNS:-5}"
logs="$PWD/target/bench-logs"
mkdir -p "$logs"
source bench/log_sample.sh

# GNU grep stops at the first match when its output is /dev/null: give it a pipe.
grep_c() { grep -c -- "$1" "$2" | cat; }

echo "# search.sh $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), runs $runs"
for mib in "${sizes[@]}"; do
  log=$(make_log "$mib")
  bytes=$(stat -c %s "$log")
  cat "$log" >/dev/null
  echo "## $mib MiB ($bytes bytes)"
  # (what the search is asked, the same as a grep pattern)
  # A time range alone has no value to look for first: every line is split and its time read.
  for case in "--id-number 042|,042," "--user-code U0042|,U0042," "--from 2026-03-01 --to 2026-03-02|,2026-03-0[12] "; do
    args=${case%|*} pattern=${case#*|}
    # shellcheck disable=SC2086
    found=$("$bin" search-log "$log" $args | sed 's/.*"matches":\([0-9]*\).*/\1/')
    grepped=$(grep -c -- "$pattern" "$log")
    [ "$found" = "$grepped" ] || { echo "search found $found, grep -c $grepped ($args)" >&2; exit 1; }
    g=$(for _ in $(seq "$runs"); do secs grep_c "$pattern" "$log"; done | median)
    # shellcheck disable=SC2086
    s=$(for _ in $(seq "$runs"); do secs "$bin" search-log "$log" $args; done | median)
    printf '%s (%s lines): grep -c %s: %.3fs; search: %.3fs (%.0f MB/s); search / grep %.2f; load %s\n' \
      "$args" "$found" "'$pattern'" "$g" "$s" "$(echo "$bytes / $s / 1000000" | bc -l)" "$(echo "$s / $g" | bc -l)" \
      "$(cut -d' ' -f1-3 /proc/loadavg)"
  done
done
