# A generated gateway log (Table 7-4-2 columns), shared by bench/gateway_log.sh and
# bench/search.sh (with median and secs, the timing helpers both use). Needs: logs (a folder).

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }

# A log of about N MiB: 64 MiB of lines with changing times, users and numbers, repeated.
make_log() {
  local mib=$1 out="$logs/gateway-$1.csv"
  [ -f "$out" ] && { echo "$out"; return; }
  local block="$logs/block.csv"
  [ -f "$block" ] || python3 - "$block" <<'PY'
import sys
with open(sys.argv[1], "w", encoding="utf-8") as f:
    i = 0
    while f.tell() < 64 * 1048576:
        d, s = divmod(i, 86400)
        f.write(f"{'送信' if i % 2 else '受信'},U{i % 97:04d},{(i % 1000):03d},IDA{i % 7},2026-{1 + d // 28 % 12:02d}-{1 + d % 28:02d} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}\n")
        i += 7
PY
  {
    echo "送受信区分,利用者コード,識別番号,業務コード,年月日時分秒"
    local left=$((mib * 1048576)) size
    size=$(stat -c %s "$block")
    while [ "$left" -ge "$size" ]; do
      cat "$block"
      left=$((left - size))
    done
    # The rest: whole lines only.
    if [ "$left" -gt 0 ]; then head -c "$left" "$block" | sed '$d'; fi
  } >"$out"
  echo "$out"
}
