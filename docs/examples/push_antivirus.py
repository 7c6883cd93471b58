#!/usr/bin/env python3
"""Push this organisation's antivirus status (one row per computer) to secportal and submit it.

Standard library only. Usage:

    SECPORTAL_TOKEN=spt_... python3 push_antivirus.py https://portal.example.jp rows.json

rows.json is a JSON list of rows, one per computer connected to NACCS, e.g.

    [{"host": "PC-001", "office": "本社", "os": "Windows 11 23H2", "product": "defender",
      "version": "4.18.24090", "definitions_date": "2026-11-30", "update_frequency": "daily",
      "last_full_scan": "2026-11-29"}]

("-" reads the list from standard input, so a scheduled job can pipe it in.) The token needs
the reports:write scope. Every POST carries its own Idempotency-Key and is retried with the
same key after a network error or a 5xx, so a retry never applies anything twice. On refused
rows the reasons are printed per row and field, and the exit code is 1.
"""

import json
import sys
import time
import urllib.error
import urllib.request
import uuid


def post(base, token, path, body, lang="ja"):
    """POST JSON with an Idempotency-Key, retrying the same request on network errors,
    429 (after Retry-After) and 5xx. Answers (status, parsed body)."""
    key = str(uuid.uuid4())
    data = json.dumps(body).encode("utf-8")
    for attempt in range(5):
        req = urllib.request.Request(
            base.rstrip("/") + path,
            data=data,
            method="POST",
            headers={
                "Authorization": "Bearer " + token,
                "Content-Type": "application/json",
                "Idempotency-Key": key,
                "Accept-Language": lang,
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as res:
                return res.status, json.loads(res.read() or b"null")
        except urllib.error.HTTPError as e:
            payload = json.loads(e.read() or b"null")
            if e.code == 429 or e.code >= 500 or (e.code == 409 and _in_progress(payload)):
                wait = int(e.headers.get("Retry-After") or 2 ** attempt)
                time.sleep(min(wait, 60))
                continue
            return e.code, payload
        except urllib.error.URLError:
            time.sleep(2 ** attempt)
    raise SystemExit("secportal did not answer; try again later")


def _in_progress(problem):
    return isinstance(problem, dict) and str(problem.get("type", "")).endswith(
        "#problem-idempotency-in-progress"
    )


def explain(problem):
    """Prints a problem document (RFC 9457) for a person."""
    print(f"{problem.get('title')}: {problem.get('detail')}", file=sys.stderr)
    for e in problem.get("errors", []):
        print(f"  {e['field']}: {e['message']}", file=sys.stderr)


def main(argv):
    import os

    if len(argv) != 3:
        raise SystemExit(__doc__)
    base, source = argv[1], argv[2]
    token = os.environ.get("SECPORTAL_TOKEN", "")
    if not token:
        raise SystemExit("set SECPORTAL_TOKEN to a token with the reports:write scope")
    text = sys.stdin.read() if source == "-" else open(source, encoding="utf-8").read()
    rows = json.loads(text)
    status, answer = post(base, token, "/api/v1/reports/antivirus/rows", {"rows": rows})
    if status != 200:
        explain(answer)
        return 1
    print(f"{answer['rows']} computers saved in the draft")
    if answer["stale"]:
        print(f"definitions out of date on rows: {answer['stale']}")
    status, answer = post(base, token, "/api/v1/reports/antivirus/submit", {})
    if status != 201:
        explain(answer)
        return 1
    print(f"submitted: receipt {answer['receipt_no']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
