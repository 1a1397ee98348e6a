"""The figures of data/pipeline.jsonl's shop S1, derived by hand in that
file's comments, checked against a `csmetrics report --json` document.
Usage: pipeline_figures.py REPORT.json — exits 1 listing what differs."""
import json
import sys


def hours(**h):
    v = [0] * 24
    for k, n in h.items():
        v[int(k[1:])] = n
    return v


WANT = {"sessions_started": 4, "human_requested": 3, "assigned": 3, "queue_ms_sum": 110000}
WANT_HOURLY = {"sessions_started": hours(h10=1, h11=1, h12=2),
               "human_requested": hours(h10=1, h11=1, h12=1)}
WANT_AGENTS = (("a1", 2), ("a2", 1))


def differences(doc):
    bad = []
    for block in ("board", "allday"):
        b = doc.get(block) or {}
        for k, v in WANT.items():
            if b.get(k) != v:
                bad.append("%s.%s = %r, want %r" % (block, k, b.get(k), v))
        for k, v in WANT_HOURLY.items():
            got = (b.get("hourly") or {}).get(k)
            if got != v:
                bad.append("%s.hourly.%s = %r, want %r" % (block, k, got, v))
    agents = doc.get("agents") or {}
    for a, n in WANT_AGENTS:
        got = (agents.get(a) or {}).get("assigned")
        if got != n:
            bad.append("agents.%s.assigned = %r, want %r" % (a, got, n))
    return bad


if __name__ == "__main__":
    bad = differences(json.load(open(sys.argv[1])))
    if bad:
        print("\n".join(bad), file=sys.stderr)
        sys.exit(1)
