"""Benchmark: statements of account for many customers (target: 50,000 in at most 60 s).

``python benchmarks/statements.py --customers 50000 --items 10`` builds canonical tables in
memory (every customer with ``--items`` open invoices, most overdue, partial payments in the
last 90 days) and times :func:`~salesops_analysis.reports.statements.write_statements`.
``--db PATH --date D`` times it on a real warehouse instead (every customer with an open item,
``--all``). Run it under ``flock /tmp/heavy.lock``. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

DAY = pd.Timestamp("2025-06-30")


def synthetic_tables(customers: int, items: int, seed: int = 1):
    """Return Tables with ``customers`` customers of ``items`` open invoices each."""
    from salesops_analysis.metrics import Tables

    rng = np.random.default_rng(seed)
    n = customers * items
    cust = np.repeat(np.arange(customers), items)
    ids = np.char.add("C", np.char.zfill(cust.astype(str), 6))
    issued = DAY - pd.to_timedelta(rng.integers(1, 200, n), unit="D")
    invoices = pd.DataFrame(
        {
            "invoice_id": pd.Series(np.char.add("INV-", np.arange(n).astype(str)), dtype="str"),
            "customer_id": pd.Series(ids, dtype="str"),
            "order_id": pd.Series([None] * n, dtype="str"),
            "invoice_date": issued.astype("datetime64[us]"),
            "due_date": (issued + pd.Timedelta(days=30)).astype("datetime64[us]"),
            "amount": np.round(rng.uniform(100, 20_000, n), 2),
            "currency": pd.Series(rng.choice(["USD", "EUR", "GBP"], n, p=[0.7, 0.2, 0.1])),
            "status": pd.Series(["open"] * n, dtype="str"),
            "paid_amount": np.zeros(n),
            "paid_date": pd.Series(pd.NaT, index=range(n), dtype="datetime64[us]"),
            "disputed": np.zeros(n, dtype=bool),
            "payment_terms": pd.Series(["NET30"] * n, dtype="str"),
            "applies_to_invoice_id": pd.Series([None] * n, dtype="str"),
        }
    )
    invoices["currency"] = invoices["currency"].astype("str")
    paid = rng.random(n) < 0.3  # a partial payment in the last 90 days on 30% of them
    k = int(paid.sum())
    payments = pd.DataFrame(
        {
            "payment_id": pd.Series(np.char.add("PAY-", np.arange(k).astype(str)), dtype="str"),
            "invoice_id": invoices["invoice_id"][paid].reset_index(drop=True),
            "customer_id": invoices["customer_id"][paid].reset_index(drop=True),
            "payment_date": (DAY - pd.to_timedelta(rng.integers(0, 90, k), unit="D")).astype(
                "datetime64[us]"
            ),
            "amount": np.round(invoices["amount"][paid].to_numpy() * 0.4, 2),
            "currency": invoices["currency"][paid].reset_index(drop=True),
        }
    )
    names = pd.DataFrame(
        {
            "customer_id": pd.Series(
                np.char.add("C", np.char.zfill(np.arange(customers).astype(str), 6)), dtype="str"
            ),
            "name": pd.Series([f"Customer {i} & Sons <Ltd>" for i in range(customers)]),
        }
    )
    names["name"] = names["name"].astype("str")
    return Tables(invoices=invoices, payments=payments, customers=names)


def main() -> None:
    import salesops_analysis as so
    from salesops_analysis.reports.statements import write_statements

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--customers", type=int, default=50_000)
    ap.add_argument("--items", type=int, default=10)
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--date", default=str(DAY.date()))
    ap.add_argument("--config", type=Path, default=None)
    args = ap.parse_args()
    cfg = so.load_config(args.config)
    t0 = time.perf_counter()
    if args.db:
        from salesops_analysis.metrics import load_tables

        with so.open_warehouse(args.db, read_only=True) as wh:
            tables = load_tables(wh)
    else:
        tables = synthetic_tables(args.customers, args.items)
    prepared = time.perf_counter() - t0
    out = Path(tempfile.mkdtemp()) / "statements"
    try:
        t0 = time.perf_counter()
        written = write_statements(tables, args.date, out, cfg, all_customers=True)
        seconds = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in out.iterdir())
    finally:
        shutil.rmtree(out.parent)
    print(
        json.dumps(
            {
                "source": str(args.db) if args.db else f"{args.customers}x{args.items} synthetic",
                "invoices": len(tables.invoices),
                "statements": written.statements,
                "seconds": round(seconds, 2),
                "tables_seconds": round(prepared, 2),
                "megabytes_written": round(size / 2**20, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
