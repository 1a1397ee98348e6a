#!/usr/bin/env bash
# `csmetrics bench --quick` (docs/performance.md) runs end to end — its own
# redis-server and embedded broker, every phase — and prints one JSON
# object with every figure of the table, each with sane types: a number
# (or null with the reason, for callgrind figures not asked for), its
# median, min and max over the runs, its target and whether it is met. A
# benchmark measures; this checks the measuring, never the targets.
source "$(dirname "$0")/lib.sh"
csm_setup

TMPDIR=$CSM_TMP "$CSM_BIN" bench --quick --out "$CSM_TMP/bench.json" 2>"$CSM_TMP/bench.log" ||
    fail "csmetrics bench --quick failed"

python3 - "$CSM_TMP/bench.json" <<'PY' || fail "bench JSON is not as docs/performance.md says"
import json, math, sys

d = json.load(open(sys.argv[1]))
s = d["settings"]
assert s["quick"] is True and s["runs"] == 1, s
sizes = s["open"]
assert sizes == [1000, 5000], sizes

base = {  # the table of docs/performance.md: name -> (op, target)
    "throughput_ratio": (">=", 0.5),
    "daemon_cpu_us_per_event": ("<=", 1.2),
    "callgrind_instructions_per_event_run": ("<=", 12000),
    "callgrind_instructions_per_event_replay": ("<=", 20000),
    "redis_cpu_us_per_event": ("<=", 0.3),
    "redis_commands_per_event": ("<=", 0.1),
    "redis_bytes_per_event": ("<=", 60),
    "visible_latency_p99_ms_over_lateness": ("<=", 250),
}
per_size = {
    "open_rate_ratio": (">=", 0.8),
    "open_flush_ms_p99": ("<=", 100),
    "open_idle_redis_input_bytes_per_s": ("<=", 10240),
    "open_rss_bytes_per_session": ("<=", 512),
    "open_kill9_recovery_s": ("<=", 10),
}
want = dict(base)
for name, t in per_size.items():
    for n in sizes:
        want[f"{name}.{n}"] = t

figs = {f["name"]: f for f in d["figures"]}
assert len(figs) == len(d["figures"]), "a figure appears twice"
assert set(figs) == set(want), sorted(set(figs) ^ set(want))

not_asked = {"callgrind_instructions_per_event_run", "callgrind_instructions_per_event_replay"}
for name, (op, target) in want.items():
    f = figs[name]
    assert f["op"] == op and f["target"] == target, (name, f)
    assert isinstance(f["what"], str) and f["what"], name
    if name in not_asked:
        assert f["value"] is None and f["met"] is None, f
        assert f["reason"] == "not requested: add --callgrind", f
        continue
    v = f["value"]
    assert isinstance(v, (int, float)) and math.isfinite(v), (name, v)
    assert f["runs"] == 1 and f["min"] == f["median"] == f["max"] == v, f
    assert f["met"] is (v >= target if op == ">=" else v <= target), f

# Figures that cannot be zero or negative when something was measured.
for name in ["throughput_ratio", "daemon_cpu_us_per_event", "redis_commands_per_event",
             "redis_bytes_per_event"] + [f"open_kill9_recovery_s.{n}" for n in sizes]:
    assert figs[name]["value"] > 0, name
det = d["details"]
for name in ["ceiling_events_per_s", "run_events_per_s", "visible_latency_p99_ms",
             "checkpoint_latency_p99_ms"] + [f"open_new_events_per_s.{n}" for n in sizes]:
    assert det[name]["value"] > 0, name
# The first size is the reference of the ratio.
assert figs[f"open_rate_ratio.{sizes[0]}"]["value"] == 1.0
# Throughput ratio is run / ceiling of the same run.
r = det["run_events_per_s"]["value"] / det["ceiling_events_per_s"]["value"]
assert abs(r - figs["throughput_ratio"]["value"]) <= 1e-6 * r, r
# Over the lateness = visible minus pipeline.allowed_lateness (default 5 s).
assert s["allowed_lateness_ms"] == 5000
assert abs(det["visible_latency_p99_ms"]["value"] - 5000
           - figs["visible_latency_p99_ms_over_lateness"]["value"]) < 1e-6
# Every event produced was counted by the run phase (20 000 with --quick).
assert det["events_produced"]["value"] == 20000, det["events_produced"]
# The commands by name add up to the total.
parts = sum(v["value"] for k, v in det.items() if k.startswith("redis_commands_per_event."))
assert abs(parts - figs["redis_commands_per_event"]["value"]) < 1e-6, parts
PY
log "bench JSON: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["figures"]), "figures")' "$CSM_TMP/bench.json")"
