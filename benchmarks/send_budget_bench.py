"""Benchmark: what the sending budget costs a delivery run, on ledgers of 2,000 / 20,000 / 100,000
sent mails spread over the past year (one every 26 minutes at 20,000).

Each delivery run with mail due reads the day's and the quarter hour's sent mail from the ledger
(`limits.Budget.from_ledger` → `Ledger.sent_since`, on the (status, sent_at) index). An idle run
(nothing due) never asks. Prints median / max over R runs per size; asserts nothing.

    python benchmarks/send_budget_bench.py [--sizes 2000,20000,100000] [--runs 20]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from schedsupport import World  # noqa: E402
from mailbot.mailout.limits import Budget  # noqa: E402


def fill(world: World, n: int, now: datetime) -> None:
    """N sent 回执 back in time from NOW (rows written directly: the ledger only stamps 'now')."""
    step = timedelta(days=365) / n
    with world.ledger.transaction() as db:
        db.executemany(
            "INSERT INTO outgoing (purpose, dedupe_key, message_id, sender, recipients, subject, raw, status, "
            "queued_at, sent_at) VALUES ('ack', ?, ?, 'xjxzwgkb@163.com', ?, '回执', x'00', 'sent', ?, ?)",
            [(f"ack:{i}", f"<b{i}@bench>", json.dumps(["dept@xiji.gov.cn"]),
              (now - step * i).isoformat(timespec="seconds"), (now - step * i).isoformat(timespec="seconds"))
             for i in range(n)])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="2000,20000,100000")
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    print(f"{'sent mails':>12}  {'median ms':>10}  {'max ms':>8}  today  window")
    for n in (int(x) for x in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            world = World(Path(tmp))
            now = datetime.now().astimezone()
            fill(world, n, now)
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                budget = Budget.from_ledger(world.ledger, world.config, now)
                times.append((time.perf_counter() - t) * 1000)
            print(f"{n:>12,}  {statistics.median(times):>10.2f}  {max(times):>8.2f}  {budget.used_today:>5}  "
                  f"{budget.in_window(now):>6}")
            world.close()


if __name__ == "__main__":
    main()
