"""Time `salesops daily` as a whole process on an existing warehouse, with the process tree's
peak memory (the CLI and both report kernels), as a morning without new exports.

    flock /tmp/heavy.lock .venv/bin/python benchmarks/daily_site.py WAREHOUSE.duckdb \\
        [--models DIR] [--repeat 3] [--train]

The warehouse is copied into a fresh site folder (``benchmarks/_work/daily_site``) with the
repository's ``salesops.yml``; ``--models`` copies saved models beside it, ``--train`` runs
``salesops train`` there first (the late model and the cash-timing model). The memory sampler
is the one of ``benchmarks/run.py``.
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
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402  (the process-tree sampler)

ROOT = HERE.parent
BIN = Path(sys.executable).parent


def _reap() -> None:
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                return
        except ChildProcessError:
            return


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("--models", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--date", default="2025-06-30")
    args = ap.parse_args()
    site = HERE / "_work" / "daily_site"
    shutil.rmtree(site, ignore_errors=True)
    (site / "data" / "raw").mkdir(parents=True)
    shutil.copy(args.warehouse, site / "data" / "salesops.duckdb")
    shutil.copy(ROOT / "salesops.yml", site / "salesops.yml")
    if args.models:
        shutil.copytree(args.models, site / "models")
    salesops = str(BIN / "salesops")
    # a warehouse of an older schema is upgraded by a writer first (train reads only)
    subprocess.run([salesops, "ingest", "data/raw"], cwd=site, check=False, capture_output=True)
    if args.train:
        subprocess.run([salesops, "train", "--as-of", args.date], cwd=site, check=True)
    bench._become_subreaper()
    runs = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        with bench._TreeSampler() as sampler:
            proc = subprocess.run(
                [salesops, "daily", "--date", args.date], cwd=site, capture_output=True, text=True
            )
            _reap()
        if proc.returncode != 0:
            raise SystemExit(f"salesops daily failed:\n{proc.stderr}")
        runs.append(
            {
                "seconds": round(time.perf_counter() - started, 2),
                "tree_peak_pss_mib": round(sampler.peak_pss / 2**20),
            }
        )
        print(json.dumps(runs[-1]), flush=True)
    seconds = [r["seconds"] for r in runs]
    print(
        json.dumps(
            {
                "median_s": statistics.median(seconds),
                "spread_s": [min(seconds), max(seconds)],
                "tree_peak_pss_mib": max(r["tree_peak_pss_mib"] for r in runs),
            }
        )
    )


if __name__ == "__main__":
    main()
