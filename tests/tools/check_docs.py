#!/usr/bin/env python3
"""Checks that the documentation stands alone and keeps up with the code:

- docs/metrics.md names every figure the built-in plugins declare
  (CSM_FIGURE(.name = ...)) and every alert type the plugins and the core
  declare (CSM_ALERT_TYPE(.type = ...));
- docs/events.md names every field and enum symbol of schemas/*.avsc;
- no document points outside the repository (the product spec it was
  written from is not shipped) and every relative Markdown link of
  README.md, docs/ and plugins/*/README.md leads to a file that exists.

usage: check_docs.py [REPO_ROOT]. Prints each problem; exits 1 if any."""
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else __file__).resolve()
if ROOT.is_file():
    ROOT = ROOT.parents[2]

FIGURE = re.compile(r'CSM_FIGURE\(\s*\.name\s*=\s*"([^"]+)"')
ALERT = re.compile(r'CSM_ALERT_TYPE\(\s*\.type\s*=\s*"([^"]+)"')
LINK = re.compile(r"\]\(([^)\s]+)\)")
# Names of the spec's files, which are not in the repository: a bare mention
# ("see operations.md") sends the reader nowhere.
OUTSIDE = re.compile(r"shared/spec|(?<![\w/.-])operations\.md")


def declared(pattern, globs):
    names = set()
    for g in globs:
        for path in ROOT.glob(g):
            names.update(pattern.findall(path.read_text(encoding="utf-8")))
    return names


def backticked(doc):
    return set(re.findall(r"`([^`\s]+)`", doc))


def schema_names(node, out):
    """Field names and enum symbols of an Avro schema, recursively."""
    if isinstance(node, dict):
        if node.get("type") == "enum":
            out.update(node["symbols"])
        for field in node.get("fields", []):
            out.add(field["name"])
            schema_names(field["type"], out)
        if isinstance(node.get("type"), (dict, list)):
            schema_names(node["type"], out)
    elif isinstance(node, list):
        for branch in node:
            schema_names(branch, out)


def missing(what, names, doc_path):
    shown = backticked(doc_path.read_text(encoding="utf-8"))
    return [f"{doc_path.relative_to(ROOT)}: {what} `{n}` is not documented"
            for n in sorted(names - shown)]


def link_problems(path):
    problems = []
    text = path.read_text(encoding="utf-8")
    for n, line in enumerate(text.splitlines(), 1):
        if OUTSIDE.search(line):
            problems.append(f"{path.relative_to(ROOT)}:{n}: points outside the repository")
        for target in LINK.findall(line):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            if not (path.parent / target.split("#")[0]).exists():
                problems.append(f"{path.relative_to(ROOT)}:{n}: link to missing {target}")
    return problems


def main():
    problems = []
    figures = declared(FIGURE, ["plugins/*/*.c"])
    alerts = declared(ALERT, ["plugins/*/*.c", "core/src/*/*.c"])
    if not figures or not alerts:
        problems.append("no CSM_FIGURE or CSM_ALERT_TYPE declaration found: has the form changed?")
    problems += missing("figure", figures, ROOT / "docs/metrics.md")
    problems += missing("alert type", alerts, ROOT / "docs/metrics.md")
    fields = set()
    for name in ("chat_event.avsc", "order_event.avsc", "alert.avsc"):
        schema_names(json.loads((ROOT / "schemas" / name).read_text(encoding="utf-8")), fields)
    problems += missing("schema field or symbol", fields, ROOT / "docs/events.md")
    docs = [ROOT / "README.md", *sorted(ROOT.glob("docs/*.md")),
            *sorted(ROOT.glob("plugins/*/README.md"))]
    for path in docs + [ROOT / "core/include/csmetrics/plugin.h"]:
        problems += link_problems(path)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
