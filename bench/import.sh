#!/usr/bin/env bash
# The equipment list imported from a workbook as a Japanese office keeps it (a merged title row,
# a blank row, Japanese headers): 取り込み (read and checked, the confirmation page), 登録 (the
# rows posted back, checked again and stored in the draft), then the draft page as it opens
# after 登録. Time of each step (curl's total), their sum, and the server's RSS growth during the
# round; medians over ROUNDS rounds (the draft is replaced each round). SQLite, release build.
# Usage: bench/import.sh [rows ...] (default 1000 10000); ROUNDS=5.
source "$(dirname "$0")/common.sh"
rounds="${ROUNDS:-5}"
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)
py="${PYTHON:-$HOME/.cache/secportal-py/bin/python}"
"$py" -c 'import openpyxl' 2>/dev/null || { python3 -m venv "$HOME/.cache/secportal-py"; "$HOME/.cache/secportal-py/bin/pip" install -q openpyxl; py="$HOME/.cache/secportal-py/bin/python"; }
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
start_portal
sign_in
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
peak_until() {
  local peak=0 r
  while [ ! -e "$1" ]; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.02; done
  echo "$peak"
}
curl -s -o /dev/null -b "$jar" -H "Origin: $base" --data-urlencode "csrf_token=$token" --data-urlencode kind=office \
  --data-urlencode name=本社 --data-urlencode address=東京都 "$base/orgs/$org/locations"
results="$work/results.txt"
: > "$results"
for rows in "${sizes[@]}"; do
  "$py" - "$work/equipment-$rows.xlsx" "$rows" <<'PY'
import sys, openpyxl
wb = openpyxl.Workbook(); ws = wb.active; ws.title = "機器一覧"
ws.append(["機器構成一覧（2026年度）"]); ws.merge_cells("A1:I1"); ws.append([])
ws.append(["機器種別", "メーカー名", "機種・型番", "OS", "台数", "設置場所", "用途", "NACCS接続有無", "備考"])
for i in range(int(sys.argv[2])):
    ws.append(["クライアントPC", "富士通", f"ESPRIMO D{i % 900 + 100}", "Windows 11", (i % 5) + 1, "本社", "業務端末", "あり" if i % 3 else "なし", f"資産番号 {i:06d}"])
wb.save(sys.argv[1])
PY
  for r in $(seq 0 "$rounds"); do
    base_rss=$(rss)
    rm -f "$work/done"
    peak_until "$work/done" > "$work/peak" &
    sampler=$!
    read -r code1 t1 < <(curl -s -o "$work/confirm.html" -w '%{http_code} %{time_total}\n' -b "$jar" -H "Origin: $base" \
      -F "csrf_token=$token" -F "file=@$work/equipment-$rows.xlsx;filename=機器一覧.xlsx" "$base/orgs/$org/system-configuration/import")
    payload=$(grep -o 'name="rows" value="[^"]*"' "$work/confirm.html" | sed 's/.*value="//;s/"$//')
    read -r code2 t2 < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -b "$jar" -H "Origin: $base" \
      --data-urlencode "csrf_token=$token" --data-urlencode "rows=$payload" "$base/orgs/$org/system-configuration/import/confirm")
    read -r code3 t3 size3 < <(curl -s -o "$work/draft.html" -w '%{http_code} %{time_total} %{size_download}\n' -b "$jar" "$base/orgs/$org/system-configuration")
    touch "$work/done"; wait "$sampler"
    [ "$code1 $code2 $code3" = "200 303 200" ] || { echo "round $r: HTTP $code1 $code2 $code3" >&2; head -c 2000 "$work/confirm.html" >&2; exit 1; }
    # Round 0 warms up (first connection, page cache) and is not counted.
    [ "$r" -eq 0 ] || echo "$rows $r $t1 $t2 $t3 $base_rss $(cat "$work/peak") $(wc -c < "$work/confirm.html") $size3 $(wc -c < "$work/equipment-$rows.xlsx")" >> "$results"
  done
done
python3 - "$results" <<'PY'
import statistics, sys, collections
by = collections.defaultdict(list)
for l in open(sys.argv[1]):
    rows, r, t1, t2, t3, base, peak, c_bytes, d_bytes, x_bytes = l.split()
    t1, t2, t3 = float(t1), float(t2), float(t3)
    g = (int(peak) - int(base)) / 1024
    by[rows].append((t1, t2, t3, t1 + t2 + t3, g))
    print(f"{rows} rows, round {r}: 取り込み {t1:.3f} s, 登録 {t2:.3f} s, draft page {t3:.3f} s, total {t1 + t2 + t3:.3f} s; RSS +{g:.1f} MiB "
          f"(workbook {int(x_bytes):,} bytes, confirmation page {int(c_bytes):,} bytes, draft page {int(d_bytes):,} bytes)")
for rows, v in by.items():
    med = [statistics.median(x[i] for x in v) for i in range(5)]
    print(f"{rows} rows, median of {len(v)}: 取り込み {med[0]:.3f} s, 登録 {med[1]:.3f} s, draft page {med[2]:.3f} s, total {med[3]:.3f} s "
          f"(goal < 2 s: {'met' if med[3] < 2 else 'NOT met'}); RSS growth median {med[4]:.1f} MiB, max {max(x[4] for x in v):.1f} MiB")
PY
