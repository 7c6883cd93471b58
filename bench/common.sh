# Shared by the upload benchmarks: build, start a portal on a fresh data folder, sign in.
# Sets: bin, work, base, pid, jar, org, token.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/secportal-target}"
# BENCH_BIN: a release binary built beforehand (several runs in a row skip the build, which on a
# shared target directory may wait behind other builds). Either way the script copies the binary
# into its work folder below, as other worktrees build into the same shared target folder.
if [ -z "${BENCH_BIN:-}" ]; then cargo build --release --quiet; fi
mkdir -p target
work="$(mktemp -d -p "$PWD/target" bench.XXXXXX)"
cp "${BENCH_BIN:-$CARGO_TARGET_DIR/release/secportal}" "$work/secportal"
bin="$work/secportal"
port="${BENCH_PORT:-18183}"
base="http://127.0.0.1:$port"
export SECPORTAL_DATA_DIR="$work/data" SECPORTAL_ADDR="127.0.0.1:$port" SECPORTAL_LOG=warn
pw="bench-password-2026-secportal"
echo "$pw" | "$bin" user add --email bench@a.example.jp --role org_admin --org BENCH --password-stdin >/dev/null

start_portal() {
  "$bin" serve 2>>"$work/portal.log" &
  pid=$!
  for _ in $(seq 1 200); do curl -sf "$base/readyz" >/dev/null && return 0; sleep 0.05; done
  echo "portal did not start" >&2; return 1
}

sign_in() {
  jar="$work/jar"
  rm -f "$jar"
  local t
  t=$(curl -s -c "$jar" -b "$jar" "$base/login" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"$//')
  curl -s -o /dev/null -c "$jar" -b "$jar" -H "Origin: $base" --data-urlencode "email=bench@a.example.jp" \
    --data-urlencode "password=$pw" --data-urlencode "csrf_token=$t" "$base/login"
  local home
  home=$(curl -s -b "$jar" "$base/home")
  org=$(echo "$home" | grep -o 'href="/orgs/[0-9a-f-]*"' | head -1 | sed 's/.*orgs\///;s/"$//')
  token=$(echo "$home" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"$//')
}

# A Center reviewer signed in: reviewers must use a second factor, so the bench reviewer gets
# TOTP set up with the RFC 6238 test key and the second step is answered with a code computed
# here. Sets: cookie (the reviewer's session cookie, for curl -H / wrk -H).
sign_in_reviewer() {
  echo "$pw" | "$bin" user add --email reviewer@center.example.jp --role reviewer --password-stdin >/dev/null
  local secret_hex=3132333435363738393031323334353637383930 rjar="$work/rjar" t code
  if [ -n "${DATABASE_URL:-}" ]; then
    psql -q "$DATABASE_URL" -c "UPDATE users SET totp_secret = '\\x$secret_hex'::bytea, totp_enabled_at = created_at WHERE email = 'reviewer@center.example.jp'"
  else
    python3 -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute(\"UPDATE users SET totp_secret = ?, totp_enabled_at = created_at WHERE email = 'reviewer@center.example.jp'\", (bytes.fromhex(sys.argv[2]),)); d.commit()" "$work/data/secportal.db" "$secret_hex"
  fi
  t=$(curl -s -c "$rjar" -b "$rjar" "$base/login" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"$//')
  curl -s -o /dev/null -c "$rjar" -b "$rjar" -H "Origin: $base" --data-urlencode "email=reviewer@center.example.jp" \
    --data-urlencode "password=$pw" --data-urlencode "csrf_token=$t" "$base/login"
  code=$(python3 -c "import hmac,hashlib,struct,time,sys; k=bytes.fromhex(sys.argv[1]); h=hmac.new(k, struct.pack('>Q', int(time.time())//30), hashlib.sha1).digest(); o=h[-1]&15; print('%06d' % ((struct.unpack('>I', h[o:o+4])[0] & 0x7fffffff) % 1000000))" "$secret_hex")
  curl -s -o /dev/null -c "$rjar" -b "$rjar" -H "Origin: $base" --data-urlencode "code=$code" \
    --data-urlencode "csrf_token=$t" "$base/login/second-factor"
  cookie=$(awk '$6 == "secportal_session" {print "secportal_session=" $7}' "$rjar")
}
