"""What readers beside writers cost: the readers' copy each writer publishes, at 1M invoices.

Run under the shared lock (a heavy job):
``flock /tmp/heavy.lock python benchmarks/concurrency.py [--scale 1000000] [--repeat 3]``.
It times, as real commands, ``salesops ingest`` of every demo export into a new warehouse and
``salesops daily`` on a morning with one new export (so it writes and publishes) and without,
and the publish step (copy, fsync, rename) alone on the same warehouse; it prints one JSON line
of medians. Data go to benchmarks/_work (not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "_work"
SALESOPS = str(Path(sys.executable).with_name("salesops"))
CONFIG = str(ROOT / "salesops.yml")
DAY = "2025-06-30"


def run(*args: str) -> float:
    t = time.perf_counter()
    subprocess.run([SALESOPS, *args], check=True, capture_output=True, text=True)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="Only the commands' times (for the package before this change, put first on "
        "PYTHONPATH: `git archive <commit> salesops_analysis | tar -x -C DIR`).",
    )
    args = parser.parse_args()

    raw = WORK / f"raw_{args.scale}"
    if not (raw / "invoices.csv").exists():
        run("demo", "--out", str(raw), "--scale", str(args.scale))
    exports = sorted(p for p in raw.glob("*.csv"))
    site = WORK / "concurrency"
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    db = site / "salesops.duckdb"

    ingest = []
    for _ in range(args.repeat):
        for p in site.glob("salesops*"):
            p.unlink()
        ingest.append(run("ingest", *map(str, exports), "--db", str(db), "--config", CONFIG))

    copies, opens, per_call = [], [], []
    for _ in range(0 if args.baseline else args.repeat):
        from salesops_analysis.warehouse import publish

        os.utime(db)  # looks changed: publish copies it again
        t = time.perf_counter()
        assert publish(db)
        copies.append(time.perf_counter() - t)

    # a reader's open: this design (the readers' copy, attached) and, for the other design
    # (connections not held), what opening DuckDB for every call would cost
    import duckdb

    import salesops_analysis as so

    for _ in range(0 if args.baseline else 5):
        from salesops_analysis.warehouse import snapshot_path

        t = time.perf_counter()
        with so.open_warehouse(db, read_only=True) as wh:
            wh.con.execute("SELECT count(*) FROM invoices").fetchall()
        opens.append(time.perf_counter() - t)
        t = time.perf_counter()
        con = duckdb.connect(str(snapshot_path(db)), read_only=True)
        con.execute("SELECT count(*) FROM invoices").fetchall()
        con.close()
        per_call.append(time.perf_counter() - t)

    models = site / "models"
    run("train", "--as-of", DAY, "--db", str(db), "--config", CONFIG, "--out", str(models))
    morning = site / "raw"
    morning.mkdir()
    for p in exports:
        os.link(p, morning / p.name)  # same files, same stat: known without reading
    common = ["--db", str(db), "--config", CONFIG, "--models", str(models)]
    common += ["--raw", str(morning), "--out", str(site / "reports")]
    quiet, busy = [], []
    lines = (raw / "payments.csv").read_text().splitlines(keepends=True)
    for i in range(args.repeat):
        quiet.append(run("daily", "--date", DAY, *common))
        # one small new export: daily loads it, then publishes the whole warehouse
        new = morning / f"payments_late_{i}.csv"
        new.write_text(lines[0] + "".join(x.replace(",", f"-n{i},", 1) for x in lines[-500:]))
        busy.append(run("daily", "--date", DAY, *common))

    out = {
        "scale": args.scale,
        "warehouse_mb": round(db.stat().st_size / 2**20, 1),
        "ingest_all_s": [round(x, 2) for x in ingest],
        "publish_s": [round(x, 2) for x in copies],
        "reader_open_s": [round(x, 3) for x in opens],
        "connect_per_call_s": [round(x, 3) for x in per_call],
        "daily_no_new_export_s": [round(x, 2) for x in quiet],
        "daily_one_new_export_s": [round(x, 2) for x in busy],
    }
    med = {k: statistics.median(v) for k, v in out.items() if isinstance(v, list) and v}
    out["median"] = {k: round(v, 3) for k, v in med.items()}
    out["package"] = str(Path(sys.modules["salesops_analysis"].__file__).parent)
    if not args.baseline:
        out["publish_share_of_ingest"] = round(med["publish_s"] / med["ingest_all_s"], 3)
        out["publish_share_of_daily"] = round(med["publish_s"] / med["daily_one_new_export_s"], 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
