#!/usr/bin/env python3
"""Checks that deploy/prometheus's alert rules and deploy/grafana's dashboard
name only metrics and labels that exist: those of a real `csmetrics exporter`
page (given as a file) and those of the daemon's own /metrics (below).

usage: check_deploy_metrics.py EXPORTER_PAGE RULES_YML DASHBOARD_JSON
       check_deploy_metrics.py --daemon-page DAEMON_PAGE
The second form checks that a real daemon's page serves every metric of
DAEMON_METRICS with its labels. Prints each problem and exits 1 if there is
any."""
import json
import re
import sys

import yaml

# The daemon's /metrics (`csmetrics run`, http.port, docs/telemetry.md) that
# the deploy files use, with their labels. integration.test_telemetry checks
# that a real daemon's page serves each of them with these labels
# (`--daemon-page PAGE`).
DAEMON_METRICS = {
    "csmetrics_consumer_lag_messages": {"topic", "partition"},
    "csmetrics_dead_letters_total": {"topic", "reason"},
    "csmetrics_ready": set(),
}
# Added by Prometheus to every scraped series.
TARGET_LABELS = {"instance", "job"}

METRIC = re.compile(r"\bcsmetrics_[a-z0-9_]+\b")
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
LABEL_VALUES = re.compile(r"label_values\(\s*([a-z_0-9]+)\s*,\s*([a-z_]+)\s*\)")


def exporter_metrics(path):
    """Metric name -> its label names, from the # TYPE and sample lines."""
    metrics = {}
    for line in open(path, encoding="utf-8"):
        if line.startswith("# TYPE "):
            metrics.setdefault(line.split()[2], set())
        elif line.strip() and not line.startswith("#"):
            name = re.match(r"[a-z_0-9]+", line).group(0)
            metrics.setdefault(name, set()).update(re.findall(r'([a-z_]+)="', line))
    return metrics


def check_expr(where, expr, known, problems):
    names = METRIC.findall(expr)
    if not names:
        problems.append(f"{where}: no csmetrics metric in {expr!r}")
    labels = set(TARGET_LABELS)
    for n in names:
        if n not in known:
            problems.append(f"{where}: {n} is neither exported nor served by the daemon")
        else:
            labels |= known[n]
    for group in GROUPING.findall(expr):
        for label in filter(None, (x.strip() for x in group.split(","))):
            if label not in labels:
                problems.append(f"{where}: label {label!r} is on none of {names}")


def check_rules(path, known, problems):
    doc = yaml.safe_load(open(path, encoding="utf-8"))
    for group in doc["groups"]:
        for rule in group["rules"]:
            check_expr(f"{path}: {rule['alert']}", rule["expr"], known, problems)


def overlaps(a, b):
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and
            a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])


def check_dashboard(path, known, problems):
    dash = json.load(open(path, encoding="utf-8"))
    panels = dash["panels"]
    ids = [p["id"] for p in panels]
    if len(ids) != len(set(ids)):
        problems.append(f"{path}: panel ids repeat: {ids}")
    for i, p in enumerate(panels):
        for q in panels[:i]:
            if overlaps(p["gridPos"], q["gridPos"]):
                problems.append(f"{path}: panels {q['title']!r} and {p['title']!r} overlap")
        if p["type"] == "row":
            continue
        if not p.get("targets"):
            problems.append(f"{path}: panel {p['title']!r} has no query")
        for t in p.get("targets", []):
            check_expr(f"{path}: {p['title']!r}", t["expr"], known, problems)
    for var in dash["templating"]["list"]:
        if var["type"] != "query":
            continue
        m = LABEL_VALUES.fullmatch(var["definition"])
        if not m or m.group(1) not in known or m.group(2) not in known[m.group(1)]:
            problems.append(f"{path}: variable {var['name']}: {var['definition']!r} names "
                            "no exported metric and label")


def check_daemon_page(path):
    served = exporter_metrics(path)
    problems = []
    for name, labels in DAEMON_METRICS.items():
        if name not in served:
            problems.append(f"the daemon does not serve {name}")
        elif not labels <= served[name]:
            problems.append(f"{name} lacks labels {sorted(labels - served[name])}")
    return problems


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--daemon-page":
        problems = check_daemon_page(sys.argv[2])
        for p in problems:
            print(p)
        sys.exit(1 if problems else 0)
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    known = exporter_metrics(sys.argv[1])
    known.update(DAEMON_METRICS)
    problems = []
    check_rules(sys.argv[2], known, problems)
    check_dashboard(sys.argv[3], known, problems)
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
