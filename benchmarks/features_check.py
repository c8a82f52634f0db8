"""Before/after check of the feature table (#18): save ``features_at`` outputs, compare two saves.

The cases are the shapes the package asks for, at two knowledge dates: today's open invoices
on one day (scoring), every invoice on one day, each on its issue day (drift), each on a day of
its own (training), and the empty and one-row tables. Run the same file against two versions of
the package (``PYTHONPATH=<a copy of the old tree>``) and compare:

    PYTHONPATH=/tmp/old python benchmarks/features_check.py save data/salesops.duckdb /tmp/fa
    python benchmarks/features_check.py save data/salesops.duckdb /tmp/fb
    python benchmarks/features_check.py compare /tmp/fa /tmp/fb OLD=NEW ...

``OLD=NEW`` renames columns of the first save (the hidden ``_hist_n`` etc. became public
evidence columns). ``time DB N`` times ``features_at`` N times per shape.
"""

from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path

import numpy as np

import salesops_analysis as so
from salesops_analysis.metrics import load_tables
from salesops_analysis.risk.features import Knowledge, features_at

#: The renames of the #18 refactor (old hidden column -> public evidence column).
RENAMED = {
    "_hist_n": "hist_n",
    "_hist_late": "hist_late_n",
    "_recent_n": "hist_recent_n",
    "_recent_late": "hist_recent_late_n",
    "_usual_amount": "usual_amount",
    "_overdue_amount": "cust_overdue_other_amount",
    "_last_broken_day": "last_broken_promise_day",
    "_dispute_day": "dispute_day",
}


def _tables(db):
    with so.open_warehouse(db, read_only=True) as wh:
        return load_tables(wh)


def _shapes(k: Knowledge) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    _, open_now, _ = k.ledger.balances(str(np.datetime64(k.T, "D")))
    open_rows = np.flatnonzero((np.abs(open_now) >= 0.005) & k.modelled)
    every = np.flatnonzero(k.modelled)
    rng = np.random.default_rng(1)
    own = np.minimum(k.ledger.issued[every] + rng.integers(0, 120, len(every)), k.T)
    return {
        "open_one_day": (open_rows, np.full(len(open_rows), k.T)),
        "every_one_day": (every, np.full(len(every), k.T)),
        "issue_day": (every, k.ledger.issued[every]),
        "mixed": (every, own),
        "empty": (every[:0], own[:0]),
        "one": (every[:1], own[:1]),
    }


def _knowledge(t, day) -> Knowledge:
    return Knowledge.at(
        day,
        t.invoices,
        t.payments,
        t.activities,
        t.customers,
        grace_days=3,
        categorical=["segment", "country"],
    )


def save(db, out) -> None:
    """Save the feature tables of every case to ``out/features.pkl``."""
    t = _tables(db)
    tables = {}
    for day in ("2025-06-30", "2025-03-31"):
        k = _knowledge(t, day)
        for name, (rows, snap) in _shapes(k).items():
            tables[f"{day}_{name}"] = features_at(k, rows, snap)
    Path(out).mkdir(parents=True, exist_ok=True)
    with open(Path(out) / "features.pkl", "wb") as f:
        pickle.dump(tables, f)
    print({name: frame.shape for name, frame in tables.items()})


def compare(a, b, rename: dict[str, str]) -> bool:
    """Print, per case, whether the two saves are identical (same columns, dtypes, values)."""
    with open(Path(a) / "features.pkl", "rb") as f:
        old = pickle.load(f)
    with open(Path(b) / "features.pkl", "rb") as f:
        new = pickle.load(f)
    same = old.keys() == new.keys()
    for name in old:
        x, y = old[name].rename(columns=rename), new[name]
        ok = list(x.columns) == list(y.columns) and (x.dtypes == y.dtypes).all()
        for c in x.columns if ok else []:
            u, v = x[c].to_numpy(), y[c].to_numpy()
            if x[c].dtype.kind in "fiu":
                equal = (u == v) | (np.isnan(u.astype(float)) & np.isnan(v.astype(float)))
            else:
                equal = u.astype(str) == v.astype(str)
            if not equal.all():
                ok = False
                print(f"  {name}.{c}: {int((~equal).sum())} rows differ")
        print(name, x.shape, "identical" if ok else "DIFFERENT")
        same &= ok
    print("RESULT:", "identical" if same else "DIFFERENT")
    return same


def timings(db, n: int) -> None:
    """Print the median, fastest and slowest of ``n`` ``features_at`` calls per shape."""
    k = _knowledge(_tables(db), "2025-06-30")
    for name, (rows, snap) in _shapes(k).items():
        seconds = []
        for _ in range(n):
            t0 = time.perf_counter()
            features_at(k, rows, snap)
            seconds.append(time.perf_counter() - t0)
        print(
            f"{name} {len(rows)} rows: median {np.median(seconds):.3f} s "
            f"({min(seconds):.3f}-{max(seconds):.3f})"
        )


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "save":
        save(*args)
    elif command == "compare":
        extra = dict(arg.split("=") for arg in args[2:])
        sys.exit(0 if compare(args[0], args[1], RENAMED | extra) else 1)
    elif command == "time":
        timings(args[0], int(args[1]))
