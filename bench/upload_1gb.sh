#!/usr/bin/env bash
# One large upload (default 1 GiB): throughput as a ratio to `cp` of the same file on the same
# disk in the same run, and the server's peak RSS growth. Usage: bench/upload_1gb.sh [MiB] [runs]
source "$(dirname "$0")/common.sh"
size_mb="${1:-1024}"
runs="${2:-3}"
export SECPORTAL_MAX_FILE_MB=$((size_mb + 16))
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
start_portal
sign_in
big="$work/big.pdf"
{ printf '%%PDF-1.7\n'; head -c $((size_mb * 1024 * 1024 - 9)) /dev/urandom; } > "$big"
bytes=$(stat -c %s "$big")
hwm() { grep VmHWM "/proc/$pid/status" | awk '{print $2}'; }
rss() { grep VmRSS "/proc/$pid/status" | awk '{print $2}'; }
hwm_before=$(hwm); rss_before=$(rss)
cp_times=(); cps_times=(); up_times=()
for i in $(seq 1 "$runs"); do
  t0=$(date +%s.%N); cp "$big" "$work/data/cp-$i"; t1=$(date +%s.%N)
  sync "$work/data/cp-$i"; t2=$(date +%s.%N)
  cp_times+=("$(echo "$t1 - $t0" | bc -l)"); cps_times+=("$(echo "$t2 - $t0" | bc -l)")
  rm -f "$work/data/cp-$i"
  out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -b "$work/jar" -H "Origin: $base" \
    -F "csrf_token=$token" -F role=diagram -F "files=@$big;filename=big-$i.pdf" "$base/orgs/$org/system-configuration/files")
  code=${out% *}; [ "$code" = 303 ] || { echo "upload failed: $out" >&2; tail -5 "$work/portal.log" >&2; exit 1; }
  up_times+=("${out#* }")
done
hwm_after=$(hwm)
python3 - "$bytes" "$hwm_before" "$hwm_after" "$rss_before" "${cp_times[*]}" "${cps_times[*]}" "${up_times[*]}" <<'PY'
import statistics, sys
size = int(sys.argv[1]); hb, ha, rb = (int(x) for x in sys.argv[2:5])
cp, cps, up = ([float(x) for x in a.split()] for a in sys.argv[5:8])
mib = size / 1048576
m = lambda v: statistics.median(v)
print(f"file: {mib:.0f} MiB; runs: {len(up)}")
print(f"cp:            median {m(cp):.2f} s  ({mib/m(cp):.0f} MiB/s)")
print(f"cp + fsync:    median {m(cps):.2f} s  ({mib/m(cps):.0f} MiB/s)")
print(f"upload:        median {m(up):.2f} s  ({mib/m(up):.0f} MiB/s)  [{', '.join(f'{x:.2f}' for x in up)}]")
print(f"ratio upload/cp throughput: {m(cp)/m(up):.2f}   (vs cp + fsync: {m(cps)/m(up):.2f})")
print(f"server peak RSS: before {hb/1024:.1f} MiB, after {ha/1024:.1f} MiB, growth {(ha-hb)/1024:.1f} MiB (RSS at start {rb/1024:.1f} MiB)")
PY
