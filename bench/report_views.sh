#!/usr/bin/env bash
# The review page and the receipt of large reports (issue 8): an antivirus report of N
# computers and a system configuration of M equipment rows, each read as words (catalogue and
# locale labels, stale flags, the cross-check of the equipment list against the antivirus rows)
# on every request — nothing is cached. Sequential requests, median and p90 of R each, beside
# /healthz and the first page of the review queue in the same run.
# Usage: bench/report_views.sh [computers] [equipment rows] [requests]
source "$(dirname "$0")/common.sh"
computers="${1:-1000}"
equipment="${2:-500}"
requests="${3:-30}"
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
start_portal
sign_in
sign_in_reviewer
post() { # path, then curl form arguments; answers the Location header
  curl -s -o /dev/null -w '%{redirect_url}' -b "$jar" -c "$jar" -H "Origin: $base" \
    --data-urlencode "csrf_token=$token" "${@:2}" "$base$1"
}
office=$(post "/orgs/$org/locations" --data-urlencode kind=office --data-urlencode name=成田営業所 \
  --data-urlencode address=千葉県成田市 | sed 's/.*\///')
# The forms as a browser posts them, written by Python (one field per row and column).
python3 - "$work" "$computers" "$equipment" <<'PY'
import datetime, sys, urllib.parse
work, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
today = datetime.date.today()
av = []
for i in range(n):
    day = today - datetime.timedelta(days=1 + (i % 20))
    row = {"host": f"NRT-PC-{i:04d}", "office": "成田営業所", "os": "Windows 11 Pro",
           "product": ["trend_micro", "defender", "eset"][i % 3], "product_other": "ウイルスバスター Corp." if i % 3 == 0 else "",
           "version": "14.0", "definitions_date": day.isoformat(), "update_frequency": "daily", "last_full_scan": ""}
    av += [(f"row_{i}_{k}", v) for k, v in row.items()]
av.append(("action", "submit"))
open(f"{work}/av.form", "w").write(urllib.parse.urlencode(av))
eq = []
for i in range(m):
    row = {"device_type": "client_pc", "maker": "富士通", "model": f"ESPRIMO D7012-{i}", "os_firmware": "Windows 11 Pro",
           "quantity": "3", "location": "成田営業所", "role": "通関書類作成", "naccs": "yes", "notes": ""}
    eq += [(f"eq_{i}_{k}", v) for k, v in row.items()]
eq += [("note", "成田営業所の構成"), ("action", "submit")]
open(f"{work}/eq.form", "w").write(urllib.parse.urlencode(eq))
PY
printf '%%PDF-1.7\n%%%%EOF\n' > "$work/構成図.pdf"
curl -s -o /dev/null -b "$jar" -H "Origin: $base" -F "csrf_token=$token" -F role=diagram \
  -F "files=@$work/構成図.pdf" "$base/orgs/$org/system-configuration/files"
eq_receipt=$(curl -s -o /dev/null -w '%{redirect_url}' -b "$jar" -H "Origin: $base" \
  --data "csrf_token=$token" --data-binary @"$work/eq.form" "$base/orgs/$org/system-configuration")
av_receipt=$(curl -s -o /dev/null -w '%{redirect_url}' -b "$jar" -H "Origin: $base" \
  --data "csrf_token=$token" --data-binary @"$work/av.form" "$base/orgs/$org/antivirus")
av_id=$(echo "$av_receipt" | sed 's/.*submissions\///;s/\/receipt//')
eq_id=$(echo "$eq_receipt" | sed 's/.*submissions\///;s/\/receipt//')
[ -n "$av_id" ] && [ -n "$eq_id" ] || { echo "submissions failed: $av_receipt $eq_receipt" >&2; exit 1; }
review_av="$base/review/$av_id"
echo "office $office; antivirus $av_id ($computers computers), configuration $eq_id ($equipment rows)"
echo "review page: $(curl -s -H "Cookie: $cookie" "$review_av" | wc -c) bytes; summary: $(curl -s -H "Cookie: $cookie" "$review_av" | grep -o '[0-9]* 台、うち定義が古い [0-9]* 台')"
time_of() { # label, then curl arguments
  local label=$1; shift
  for _ in $(seq 1 "$requests"); do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$@"
  done > "$work/$label.times"
}
# Alternate the targets so a noisy neighbour hits them alike.
for round in 1 2 3; do
  time_of "healthz.$round" "$base/healthz"
  time_of "queue.$round" -H "Cookie: $cookie" "$base/review"
  time_of "review_av.$round" -H "Cookie: $cookie" "$review_av"
  time_of "review_eq.$round" -H "Cookie: $cookie" "$base/review/$eq_id"
  time_of "receipt_av.$round" -b "$jar" "$av_receipt"
done
python3 - "$work" <<'PY'
import glob, statistics, sys
work = sys.argv[1]
def times(label):
    out, bad = [], 0
    for f in sorted(glob.glob(f"{work}/{label}.*.times")):
        for line in open(f):
            code, t = line.split()
            bad += code != "200"
            out.append(float(t) * 1000)
    return out, bad
base = statistics.median(times("queue")[0])
for label, what in [("healthz", "/healthz"), ("queue", "/review (queue, first page)"),
                    ("review_av", "/review/{id}: antivirus"), ("review_eq", "/review/{id}: configuration"),
                    ("receipt_av", "receipt: antivirus")]:
    t, bad = times(label)
    t.sort()
    p90 = t[int(len(t) * 0.9) - 1]
    print(f"{what:34} n={len(t):3}  median {statistics.median(t):7.2f} ms  p90 {p90:7.2f} ms  non-200 {bad}  ratio to queue {statistics.median(t)/base:5.2f}")
PY
