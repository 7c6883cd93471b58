#!/usr/bin/env bash
# Gateway send/receive logs (issue 11), in one run per size:
#  1. the Table 7-4-2 check alone, fed the log from the page cache through the code uploads
#     use (`secportal check-log`, with and without the SHA-256 on the same chunks), against
#     `wc -l` on the same file (issue: >= 0.25, aim 0.5);
#  2. the upload of the log to a gateway site (checked while it streams) against a plain
#     upload of the same bytes as in-house evidence (.txt, not checked) (issue: >= 0.9), and
#     the server's peak RSS growth during each (issue: <= 64 MB).
# Medians of RUNS runs (default 5 for the check, 3 for uploads).
# Usage: bench/gateway_log.sh [MiB ...]     (default: 100 1024)
source "$(dirname "$0")/common.sh"
sizes=("${@:-100 1024}")
read -r -a sizes <<<"${sizes[*]}"
runs="${RUNS:-5}"
upload_runs="${UPLOAD_RUNS:-3}"
export SECPORTAL_MAX_LOG_MB=8192 SECPORTAL_MAX_FILE_MB=8192 SECPORTAL_REQUEST_TIMEOUT_SECS=600
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
logs="$PWD/target/bench-logs"
mkdir -p "$logs"

source "$(dirname "$0")/log_sample.sh"

start_portal
sign_in
post() { curl -s -o /dev/null -w '%{redirect_url}' -b "$jar" -H "Origin: $base" --data-urlencode "csrf_token=$token" "$@"; }
office=$(post --data-urlencode kind=office --data-urlencode name=本社 --data-urlencode address=東京都 "$base/orgs/$org/locations")
office=${office##*/}
site=$(post --data-urlencode kind=gateway_site --data-urlencode "office_id=$office" --data-urlencode name=サーバ室 --data-urlencode address=東京都 "$base/orgs/$org/locations")
site=${site##*/}

rss() { grep "$1" "/proc/$pid/status" | awk '{print $2}'; }
# One upload; prints "seconds rss_growth_kib". Peak RSS is reset before it (clear_refs 5).
upload() {
  local url=$1 role=$2 file=$3 name=$4 before t code after
  echo 5 >"/proc/$pid/clear_refs"
  before=$(rss VmRSS)
  t=$(curl -s -o /dev/null -w '%{time_total} %{http_code}' -b "$jar" -H "Origin: $base" -F "csrf_token=$token" \
    -F "role=$role" -F "files=@$file;filename=$name" "$url")
  code=${t#* }
  [ "$code" = 303 ] || { echo "upload of $name to $url failed: $code" >&2; tail -5 "$work/portal.log" >&2; exit 1; }
  after=$(rss VmHWM)
  echo "${t% *} $((after - before))"
}

echo "# gateway_log.sh $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), runs: check $runs, upload $upload_runs"
for mib in "${sizes[@]}"; do
  log=$(make_log "$mib")
  bytes=$(stat -c %s "$log")
  cat "$log" >/dev/null
  lines=$(wc -l <"$log")
  wc_t=$(for _ in $(seq "$runs"); do secs wc -l "$log"; done | median)
  ck_t=$(for _ in $(seq "$runs"); do secs "$bin" check-log "$log"; done | median)
  ck_sha_t=$(for _ in $(seq "$runs"); do secs "$bin" check-log --sha256 "$log"; done | median)
  "$bin" check-log "$log" | grep -q "\"lines\":$((lines - 1))" || { echo "check-log miscounted" >&2; "$bin" check-log "$log" >&2; exit 1; }
  echo "## $mib MiB ($bytes bytes, $lines lines)"
  printf 'wc -l: %.3fs (%.0f MB/s); check: %.3fs (%.0f MB/s), ratio %.2f; check + SHA-256: %.3fs, ratio %.2f\n' \
    "$wc_t" "$(echo "$bytes / $wc_t / 1000000" | bc -l)" "$ck_t" "$(echo "$bytes / $ck_t / 1000000" | bc -l)" \
    "$(echo "$wc_t / $ck_t" | bc -l)" "$ck_sha_t" "$(echo "$wc_t / $ck_sha_t" | bc -l)"
  plain=() checked=() plain_rss=() checked_rss=()
  for _ in $(seq "$upload_runs"); do
    read -r t r < <(upload "$base/orgs/$org/inhouse-measures/files" evidence "$log" gateway.txt)
    plain+=("$t"); plain_rss+=("$r")
    read -r t r < <(upload "$base/orgs/$org/locations/$site/gateway-logs/files" logs "$log" gateway.csv)
    checked+=("$t"); checked_rss+=("$r")
  done
  p=$(printf '%s\n' "${plain[@]}" | median); c=$(printf '%s\n' "${checked[@]}" | median)
  pr=$(printf '%s\n' "${plain_rss[@]}" | median); cr=$(printf '%s\n' "${checked_rss[@]}" | median)
  printf 'upload plain: %.2fs (%.0f MB/s), RSS growth %d MiB; upload with check: %.2fs (%.0f MB/s), RSS growth %d MiB; ratio (plain time / checked time) %.2f\n' \
    "$p" "$(echo "$bytes / $p / 1000000" | bc -l)" $((pr / 1024)) "$c" "$(echo "$bytes / $c / 1000000" | bc -l)" $((cr / 1024)) "$(echo "$p / $c" | bc -l)"
  echo "  runs plain: ${plain[*]} (RSS KiB ${plain_rss[*]}); checked: ${checked[*]} (RSS KiB ${checked_rss[*]}); load $(cut -d' ' -f1-3 /proc/loadavg)"
done
