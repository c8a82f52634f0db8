"""Whole-process `salesops ingest` of an invoices export against a whole-process pandas read.

Issue #14's speed target: `salesops ingest FILE` as a whole process (interpreter start-up,
imports, reading, cleaning, loading into a fresh warehouse, publishing the readers' copy) within
1.5x of a whole process that runs ``pd.read_csv(FILE, dtype=str)``, as the median of alternating
pairs (read, ingest, read, ingest, ...), so that both see the same state of a shared machine.

With ``--compare-with DIR`` (repeatable), the ingest of another version of the package runs in
each round too, in turn with this one after the read.

Run it under the shared lock::

    flock /tmp/heavy.lock .venv/bin/python benchmarks/ingest_ratio.py \
        /work/wt/data1m/raw/invoices.csv --pairs 5

The warehouse is written to a scratch folder (removed after), never beside the export. Prints one
JSON line: each run's seconds, the medians, spreads and the ratio of the medians, the median CPU
seconds of each command, and the accounting of the last ingest (read = loaded + rejected +
duplicates + skipped).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


#: CPU seconds (user + system) of each run, by what was run
CPU: dict[str, list[float]] = {}


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(cmd: list[str], cwd: Path, label: str) -> tuple[float, str]:
    """Run ``cmd``; return its wall seconds and output, and note its CPU seconds in ``CPU``."""
    cpu = _cpu_of_children()
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    CPU.setdefault(label, []).append(_cpu_of_children() - cpu)
    return seconds, proc.stdout + proc.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", type=Path)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--config", type=Path, default=ROOT / "salesops.yml")
    parser.add_argument("--kind", default="invoices")
    parser.add_argument(
        "--compare-with",
        type=Path,
        action="append",
        default=[],
        help="a folder holding another version's salesops_analysis package (e.g. `git archive "
        "main salesops_analysis | tar -x -C DIR`): its ingest runs in each round too (repeat "
        "the option to compare several versions)",
    )
    args = parser.parse_args()
    export = args.export.resolve()
    read = [sys.executable, "-c", f"import pandas as pd; pd.read_csv({str(export)!r}, dtype=str)"]
    reads, ingests, output = [], [], ""
    cli = ["ingest", str(export), "--kind", args.kind, "--config", str(args.config.resolve())]
    cli += ["--db", "data/salesops.duckdb"]
    others: dict[Path, list[float]] = {folder.resolve(): [] for folder in args.compare_with}
    with tempfile.TemporaryDirectory(prefix="ingest_ratio_") as tmp:
        work = Path(tmp)
        for _ in range(args.pairs):
            reads.append(_timed(read, work, "pandas read")[0])
            # the ingests of the versions compared follow the read in turn (round r starts with
            # the r-th), so that none always runs first after the read
            versions = [None, *others]
            turn = len(reads) - 1
            for folder in versions[turn % len(versions) :] + versions[: turn % len(versions)]:
                shutil.rmtree(work / "data", ignore_errors=True)
                if folder is None:
                    seconds, output = _timed([str(BIN / "salesops"), *cli], work, "ingest")
                    ingests.append(seconds)
                    continue
                start = (
                    f"import sys; sys.path.insert(0, {str(folder)!r}); "
                    "from salesops_analysis.cli import main; main()"
                )
                command = [sys.executable, "-c", start, *cli]
                others[folder].append(_timed(command, work, f"ingest {folder}")[0])
    med_read, med_ingest = statistics.median(reads), statistics.median(ingests)
    compared = [
        {
            "compared_with": str(folder),
            "other_ingest_seconds": [round(x, 2) for x in times],
            "other_ingest_median": round(statistics.median(times), 2),
            "other_ingest_spread": [round(min(times), 2), round(max(times), 2)],
            "other_ratio_of_medians": round(statistics.median(times) / med_read, 2),
        }
        for folder, times in others.items()
    ]
    print(
        json.dumps(
            {
                "export": str(export),
                "pandas_read_seconds": [round(s, 2) for s in reads],
                "ingest_seconds": [round(s, 2) for s in ingests],
                "pandas_read_median": round(med_read, 2),
                "pandas_read_spread": [round(min(reads), 2), round(max(reads), 2)],
                "ingest_median": round(med_ingest, 2),
                "ingest_spread": [round(min(ingests), 2), round(max(ingests), 2)],
                "ratio_of_medians": round(med_ingest / med_read, 2),
                # CPU seconds (user + system) of each process: less moved by other jobs on the
                # host than wall time, but an ingest on two cores may use more than it takes
                "cpu_seconds_medians": {k: round(statistics.median(v), 2) for k, v in CPU.items()},
                "last_ingest_output": output.strip().splitlines()[-3:],
                "compared": compared,
            }
        )
    )


if __name__ == "__main__":
    main()
