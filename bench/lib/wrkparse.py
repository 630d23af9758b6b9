#!/usr/bin/env python3
"""Parse one `wrk --latency` output into a JSON line and fail on any error response or socket error.

Usage: wrkparse.py WRK_OUTPUT_FILE key=value ...   (extra keys are copied into the record; values that
parse as numbers become numbers). Exit status 0 = clean run, 1 = non-2xx/3xx or socket errors (the
record is still printed, with "ok": false and a "problems" list), 2 = output not understood.
"""
import json
import re
import sys

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"latency {text!r}")
    return float(m.group(1)) * _UNIT_MS[m.group(2)]


def parse(out):
    rec = {}
    m = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m),", out, re.M)
    if not m:
        raise ValueError("no 'N requests in T' line")
    rec["requests"] = int(m.group(1))
    rec["seconds"] = _ms(m.group(2) + m.group(3)) / 1000.0
    m = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    if not m:
        raise ValueError("no Requests/sec line")
    rec["rps"] = float(m.group(1))
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        if not m:
            raise ValueError(f"no {pct}% latency line (was --latency given?)")
        rec[f"p{pct}_ms"] = _ms(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errs = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups()))) if m else {}
    rec["socket_errors"] = errs
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    rec["non2xx"] = int(m.group(1)) if m else 0
    return rec


def _value(v):
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return v


def main(argv):
    path, extras = argv[1], argv[2:]
    with open(path, encoding="utf-8", errors="replace") as f:
        out = f.read()
    try:
        rec = parse(out)
    except ValueError as e:
        print(f"wrkparse: cannot understand wrk output in {path}: {e}", file=sys.stderr)
        return 2
    for kv in extras:
        k, _, v = kv.partition("=")
        rec[k] = _value(v)
    problems = []
    if rec["non2xx"]:
        problems.append(f"{rec['non2xx']} non-2xx/3xx responses")
    bad = {k: v for k, v in rec["socket_errors"].items() if v}
    if bad:
        problems.append("socket errors " + ", ".join(f"{k} {v}" for k, v in bad.items()))
    if rec["requests"] == 0:
        problems.append("zero requests completed")
    rec["ok"] = not problems
    rec["problems"] = problems
    print(json.dumps(rec, sort_keys=True))
    return 0 if rec["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
