#!/usr/bin/env python3
"""/healthz latency while a second client performs N logins per second.

Usage: bench/login_load.py BASE_URL EMAIL PASSWORD [seconds] [logins_per_second]
Runs a baseline (no logins) and then the loaded phase for the same duration, on the same
server, and prints the p50/p99 of each and their ratio.
"""
import http.client, re, statistics, sys, threading, time, urllib.parse

base, email, password = sys.argv[1], sys.argv[2], sys.argv[3]
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 20
rate = float(sys.argv[5]) if len(sys.argv) > 5 else 20
host = urllib.parse.urlparse(base).netloc


def healthz_phase(stop_at):
    conn = http.client.HTTPConnection(host, timeout=5)
    lat = []
    while time.perf_counter() < stop_at:
        t0 = time.perf_counter()
        conn.request("GET", "/healthz")
        r = conn.getresponse(); r.read()
        assert r.status == 200
        lat.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.005)
    return lat


def one_login(stats):
    conn = http.client.HTTPConnection(host, timeout=10)
    conn.request("GET", "/login")
    r = conn.getresponse(); html = r.read().decode()
    cookies = "; ".join(h.split(";")[0] for k, h in r.getheaders() if k.lower() == "set-cookie")
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    body = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token})
    t0 = time.perf_counter()
    conn.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies, "Origin": base})
    r = conn.getresponse(); r.read()
    stats.append((r.status, (time.perf_counter() - t0) * 1000))
    conn.close()


def login_driver(stop_at, stats):
    interval = 1.0 / rate
    nxt = time.perf_counter()
    threads = []
    while time.perf_counter() < stop_at:
        t = threading.Thread(target=one_login, args=(stats,)); t.start(); threads.append(t)
        nxt += interval
        time.sleep(max(0, nxt - time.perf_counter()))
    for t in threads:
        t.join()


def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(len(v) * p))]


base_lat = healthz_phase(time.perf_counter() + seconds)
stats = []
stop = time.perf_counter() + seconds
drv = threading.Thread(target=login_driver, args=(stop, stats)); drv.start()
load_lat = healthz_phase(stop)
drv.join()
ok = sum(1 for s, _ in stats if s == 303)
print(f"baseline /healthz: n={len(base_lat)} p50 {statistics.median(base_lat):.2f} ms p99 {pct(base_lat, .99):.2f} ms")
print(f"with {rate:.0f} logins/s: n={len(load_lat)} p50 {statistics.median(load_lat):.2f} ms p99 {pct(load_lat, .99):.2f} ms")
print(f"logins: {ok}/{len(stats)} succeeded ({len(stats)/seconds:.1f}/s), login p50 {statistics.median([d for _, d in stats]):.1f} ms p99 {pct([d for _, d in stats], .99):.1f} ms")
print(f"p99 ratio loaded/baseline: {pct(load_lat, .99) / pct(base_lat, .99):.2f}")
