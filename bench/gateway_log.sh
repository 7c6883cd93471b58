#!/usr/bin/env bash
# The check of one large gateway send/receive log (default 45 MiB of CSV) when its page is
# opened: how long the first view takes, and the server's peak RSS growth.
# Usage: bench/gateway_log.sh [MiB]
source "$(dirname "$0")/common.sh"
size_mb="${1:-45}"
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
start_portal
sign_in
post() { curl -s -o /dev/null -w '%{redirect_url}' -b "$jar" -H "Origin: $base" --data-urlencode "csrf_token=$token" "$@"; }
office=$(post --data-urlencode kind=office --data-urlencode name=本社 --data-urlencode address=東京都 "$base/orgs/$org/locations")
office=${office##*/}
site=$(post --data-urlencode kind=gateway_site --data-urlencode "office_id=$office" --data-urlencode name=サーバ室 --data-urlencode address=東京都 "$base/orgs/$org/locations")
site=${site##*/}
log="$work/gateway.csv"
python3 - "$log" "$size_mb" <<'PY'
import sys
path, mib = sys.argv[1], int(sys.argv[2])
with open(path, "w", encoding="utf-8") as f:
    f.write("送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n")
    i = 0
    while f.tell() < mib * 1048576:
        d, s = divmod(i, 86400)
        f.write(f"{'送信' if i % 2 else '受信'},BENCH,{i % 1000:03d},IDA,2026-10-{1 + d % 28:02d} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}\n")
        i += 1
PY
lines=$(wc -l < "$log")
hwm() { grep VmHWM "/proc/$pid/status" | awk '{print $2}'; }
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" -H "Origin: $base" -F "csrf_token=$token" -F role=logs \
  -F "files=@$log;filename=gateway.csv" "$base/orgs/$org/locations/$site/gateway-logs/files")
[ "$code" = 303 ] || { echo "upload failed: $code" >&2; tail -5 "$work/portal.log" >&2; exit 1; }
before=$(hwm)
first=$(curl -s -o "$work/page.html" -w '%{time_total}' -b "$jar" "$base/orgs/$org/locations/$site/gateway-logs")
after=$(hwm)
second=$(curl -s -o /dev/null -w '%{time_total}' -b "$jar" "$base/orgs/$org/locations/$site/gateway-logs")
grep -q "gateway.csv" "$work/page.html" || { echo "the page does not show the log" >&2; exit 1; }
echo "log: $size_mb MiB, $lines lines"
echo "first view (checks the log): ${first}s; second view (check kept): ${second}s"
echo "server peak RSS: before the view $((before / 1024)) MiB, after $((after / 1024)) MiB, growth $(((after - before) / 1024)) MiB"
