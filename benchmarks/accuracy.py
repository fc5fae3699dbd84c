"""Accuracy of facts and findings over the generated accuracy set (tests/docs/make_fixtures.py).

    python benchmarks/accuracy.py [--keep DIR]

Prints per-fact precision and recall (a wrong value counts as a false positive and a false
negative), per announcement item presence, and finding precision/recall keyed by
(rule, item). Documents are read with docread.read_document and checked with
check.check_files, the kind guessed from the file name and title, as `mailbot check` does.
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import unicodedata
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "docs"))

import make_fixtures  # noqa: E402
from mailbot.documents import check  # noqa: E402
from mailbot.campaign import load_campaign, load_roster  # noqa: E402

SCORED_FACTS = ("activity_dates", "participants", "theme", "contact", "phone", "place",
                "held_dates", "actual_participants", "suggestions_count", "feedback_given")
ANNOUNCE_ITEMS = ("报名方式", "参加人数", "开放主题", "参加领导", "承办单位", "时间地点", "活动内容",
                  "活动形式", "联系人员", "联系电话", "温馨提示")


def _norm(v: Any) -> Any:
    if isinstance(v, str):
        v = unicodedata.normalize("NFKC", v)
        return re.sub(r"[\s\"“”‘’'「」《》。;,，；:：]", "", v)
    if isinstance(v, list):
        return sorted(v)
    return v


def same(expected: Any, got: Any) -> bool:
    e, g = _norm(expected), _norm(got)
    if isinstance(e, str) and isinstance(g, str) and e and g:
        return e == g or (e in g and len(g) - len(e) <= 4) or (g in e and len(g) >= 0.8 * len(e))
    return e == g


def _empty(v: Any) -> bool:
    return v is None or v == [] or v == "" or v is False


def load_rules() -> tuple[Any, Any]:
    campaign = load_campaign(ROOT / "rules" / "open-day-2022.toml")
    roster = load_roster(ROOT / "rules" / "units.csv", campaign.region)
    return campaign, roster


def run_set(out_dir: Path, manifest: dict[str, dict[str, Any]], campaign: Any, roster: Any,
            read: Any = None) -> dict[str, dict[str, Any]]:
    """Check every document of the set; {manifest key: check_files object}."""
    results: dict[str, dict[str, Any]] = {}
    for key, exp in manifest.items():
        path = out_dir / key.split("/", 1)[0] if ".zip/" in key else out_dir / key
        received = date.fromisoformat(exp["received"]) if exp["received"] else None
        objs = check.check_files([path], campaign=campaign, roster=roster, kind=None, unit=exp["unit"],
                                 received=received, **({"read": read} if read else {}))
        if ".zip/" in key:
            member = key.split("/", 1)[1]
            objs = [o for o in objs if o["file"].endswith(member)] or objs
        results[key] = objs[0]
    return results


def score(manifest: dict[str, dict[str, Any]], results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    facts = {f: defaultdict(int) for f in SCORED_FACTS}
    items = {i: defaultdict(int) for i in ANNOUNCE_ITEMS}
    find = defaultdict(int)
    misses: list[str] = []
    kinds_ok = outcomes_ok = 0
    for key, exp in manifest.items():
        got = results[key]
        kinds_ok += got["kind"] == exp["kind"]
        outcomes_ok += got["outcome"] == exp["outcome"]
        if got["outcome"] != exp["outcome"]:
            misses.append(f"{key}: outcome {got['outcome']} ≠ {exp['outcome']}")
        for name, want in exp["facts"].items():
            if name not in facts:
                continue
            have = got["facts"].get(name)
            c = facts[name]
            if same(want, have) and not _empty(want):
                c["tp"] += 1
            else:
                if not _empty(have) and not same(want, have):
                    c["fp"] += 1
                if not _empty(want):
                    c["fn"] += 1
                if not same(want, have):
                    misses.append(f"{key}: {name} = {have!r}, expected {want!r}")
        if exp["kind"] == "plan" and exp["outcome"] != "需人工审核":
            missing_got = {f["item"] for f in got["findings"] if f["rule"] == "announce-items"}
            for it in ANNOUNCE_ITEMS:
                want_present = it not in exp["items_missing"]
                got_present = it not in missing_got
                c = items[it]
                if want_present and got_present:
                    c["tp"] += 1
                elif got_present and not want_present:
                    c["fp"] += 1
                elif want_present and not got_present:
                    c["fn"] += 1
                else:
                    c["tn"] += 1
        want_f = {(r, i) for r, i, _ in exp["findings"]}
        have_f = {(f["rule"], f["item"]) for f in got["findings"]}
        sev_ok = {(r, i) for r, i, s in exp["findings"]
                  if any(f["rule"] == r and f["item"] == i and f["severity"] == s for f in got["findings"])}
        find["tp"] += len(want_f & have_f)
        find["fp"] += len(have_f - want_f)
        find["fn"] += len(want_f - have_f)
        find["severity_ok"] += len(sev_ok)
        for r, i in sorted(have_f - want_f):
            misses.append(f"{key}: unexpected finding {r}/{i}")
        for r, i in sorted(want_f - have_f):
            misses.append(f"{key}: missed finding {r}/{i}")
    return dict(facts=facts, items=items, findings=find, misses=misses, n=len(manifest),
                kinds_ok=kinds_ok, outcomes_ok=outcomes_ok)


def pr(c: dict[str, int]) -> tuple[float, float, int]:
    tp, fp, fn = c.get("tp", 0), c.get("fp", 0), c.get("fn", 0)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, tp + fn


def report(s: dict[str, Any]) -> str:
    lines = [f"documents: {s['n']}   kind guessed right: {s['kinds_ok']}/{s['n']}   "
             f"outcome right: {s['outcomes_ok']}/{s['n']}", "",
             f"{'fact':<22}{'precision':>10}{'recall':>8}{'n':>5}"]
    for name, c in s["facts"].items():
        p, r, n = pr(c)
        lines.append(f"{name:<22}{p:>10.2f}{r:>8.2f}{n:>5}")
    lines += ["", f"{'announcement item present':<22}{'precision':>10}{'recall':>8}{'n':>5}"]
    for name, c in s["items"].items():
        p, r, n = pr(c)
        lines.append(f"{name:<22}{p:>10.2f}{r:>8.2f}{n:>5}")
    p, r, n = pr(s["findings"])
    lines += ["", f"findings (rule, item): precision {p:.2f}  recall {r:.2f}  n={n}  "
                  f"severity right {s['findings']['severity_ok']}/{s['findings']['tp']}"]
    if s["misses"]:
        lines += ["", "differences:"] + [f"  {m}" for m in s["misses"]]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", help="write the set into this folder and keep it")
    args = ap.parse_args()
    campaign, roster = load_rules()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep) if args.keep else Path(tmp)
        manifest = make_fixtures.build(out)
        results = run_set(out, manifest, campaign, roster)
        print(report(score(manifest, results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
