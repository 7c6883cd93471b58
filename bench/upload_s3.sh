#!/usr/bin/env bash
# One large upload (default 1 GiB) into the S3-compatible file store: the portal's throughput as a
# ratio to a plain upload of the same file to the same S3 server with a client of its own (curl's
# AWS SigV4 PUT), and the server's peak RSS growth. Starts s3s-fs (the server `.ci/run` uses; built
# into ~/.cache/secportal-s3s when missing) on a free loopback port with a bucket folder in the
# work folder. Usage: bench/upload_s3.sh [MiB] [runs]
# BENCH_RSS_OUT=<file>: the server's VmRSS sampled every 50 ms during each portal upload is
# written there ("run ms KiB" per line) and summarised per run (peak and when it came).
source "$(dirname "$0")/common.sh"
size_mb="${1:-1024}"
runs="${2:-3}"
export SECPORTAL_MAX_FILE_MB=$((size_mb + 16))
s3s="$HOME/.cache/secportal-s3s/bin/s3s-fs"
if [ ! -x "$s3s" ]; then
  CARGO_TARGET_DIR="$HOME/.cache/secportal-s3s/target" cargo install --locked --quiet \
    --root "$HOME/.cache/secportal-s3s" s3s-fs --version 0.14.1 --features binary
fi
s3port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
key=bench secret=bench-secret-2026
mkdir -p "$work/s3/bench"
"$s3s" --host 127.0.0.1 --port "$s3port" --access-key "$key" --secret-key "$secret" "$work/s3" 2>"$work/s3s.log" &
s3pid=$!
trap 'kill $pid $s3pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
export SECPORTAL_FILE_STORE=s3://bench/portal SECPORTAL_S3_ENDPOINT="http://127.0.0.1:$s3port"
export AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret"
start_portal
sign_in
big="$work/big.pdf"
{ printf '%%PDF-1.7\n'; head -c $((size_mb * 1024 * 1024 - 9)) /dev/urandom; } > "$big"
bytes=$(stat -c %s "$big")
hwm() { grep VmHWM "/proc/$pid/status" | awk '{print $2}'; }
rss() { grep VmRSS "/proc/$pid/status" | awk '{print $2}'; }
hwm_before=$(hwm); rss_before=$(rss)
put_times=(); up_times=()
for i in $(seq 1 "$runs"); do
  out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --aws-sigv4 "aws:amz:us-east-1:s3" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" --user "$key:$secret" -T "$big" "http://127.0.0.1:$s3port/bench/plain/big-$i.pdf")
  code=${out% *}; [ "$code" = 200 ] || { echo "plain PUT failed: $out" >&2; tail -5 "$work/s3s.log" >&2; exit 1; }
  put_times+=("${out#* }")
  # Different bytes each run (no stored-once shortcut): the last byte changes.
  printf '%d' "$i" | dd of="$big" bs=1 seek=$((bytes - 1)) conv=notrunc status=none
  sampler=
  if [ -n "${BENCH_RSS_OUT:-}" ]; then
    python3 - "$pid" "$i" >>"$BENCH_RSS_OUT" <<'PY' &
import sys, time
pid, run = sys.argv[1], sys.argv[2]
t0 = time.monotonic()
while True:
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next(l.split()[1] for l in f if l.startswith("VmRSS"))
    except (OSError, StopIteration):
        break
    print(run, int((time.monotonic() - t0) * 1000), rss, flush=True)
    time.sleep(0.05)
PY
    sampler=$!
  fi
  out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -b "$work/jar" -H "Origin: $base" \
    -F "csrf_token=$token" -F role=diagram -F "files=@$big;filename=big-$i.pdf" "$base/orgs/$org/system-configuration/files")
  if [ -n "$sampler" ]; then kill "$sampler"; wait "$sampler" 2>/dev/null || true; fi
  code=${out% *}; [ "$code" = 303 ] || { echo "upload failed: $out" >&2; tail -5 "$work/portal.log" >&2; exit 1; }
  up_times+=("${out#* }")
done
hwm_after=$(hwm)
python3 - "$bytes" "$hwm_before" "$hwm_after" "$rss_before" "${put_times[*]}" "${up_times[*]}" <<'PY'
import statistics, sys
size = int(sys.argv[1]); hb, ha, rb = (int(x) for x in sys.argv[2:5])
put, up = ([float(x) for x in a.split()] for a in sys.argv[5:7])
mib = size / 1048576
m = lambda v: statistics.median(v)
print(f"file: {mib:.0f} MiB; runs: {len(up)}")
print(f"plain S3 PUT (curl --aws-sigv4): median {m(put):.2f} s  ({mib/m(put):.0f} MiB/s)  [{', '.join(f'{x:.2f}' for x in put)}]")
print(f"portal upload to S3:             median {m(up):.2f} s  ({mib/m(up):.0f} MiB/s)  [{', '.join(f'{x:.2f}' for x in up)}]")
print(f"ratio upload/plain PUT throughput: {m(put)/m(up):.2f}")
print(f"server peak RSS: before {hb/1024:.1f} MiB, after {ha/1024:.1f} MiB, growth {(ha-hb)/1024:.1f} MiB (RSS at start {rb/1024:.1f} MiB)")
PY
if [ -n "${BENCH_RSS_OUT:-}" ]; then
  python3 - "$BENCH_RSS_OUT" "$rss_before" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
base = int(sys.argv[2])
for run in sorted({r[0] for r in rows}, key=int):
    s = [(int(t), int(k)) for r0, t, k in rows if r0 == run]
    t_peak, k_peak = max(s, key=lambda x: x[1])
    end = s[-1][0] or 1
    # RSS above the start at each tenth of the upload's time.
    curve = [max(k for t, k in s if t <= end * q / 10) - base for q in range(1, 11)]
    print(f"run {run}: {len(s)} samples, RSS peak {k_peak/1024:.1f} MiB (+{(k_peak-base)/1024:.1f}) "
          f"at {t_peak/1000:.1f} s of {end/1000:.1f} s; running peak by tenths (MiB over start): "
          + " ".join(f"{c/1024:.0f}" for c in curve))
PY
fi
