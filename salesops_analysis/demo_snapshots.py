"""Daily open-items exports of the demo data, in an accounting report's layout.

``salesops demo --snapshots`` writes, beside the demo exports, one open-items report per day
for the last days of the demo period (``open_items/open_items_<date>.csv``) and the config that
reads them (``open_items/salesops.yml``). Each report is what an ERP's "open items by customer"
export looks like: a title block with the "As of" date, a header, one section per customer
(its name line, its open invoices, a ``Total for`` line) and a grand ``TOTAL`` line.

The open items come from the demo's own invoices and payments exports, loaded into a scratch
warehouse with the given config: each day's report lists exactly the invoices that warehouse
holds open at the end of that day, with their open balances. So a warehouse built from these
reports alone can be compared with one built from the exports (tests do).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import FileRefusedError, SalesOpsError
from .config import Config

__all__ = ["OPEN_ITEMS_CONFIG", "write_open_items"]

#: The config that reads the reports written here (also written beside them).
OPEN_ITEMS_CONFIG = """\
# Reads the demo's daily open-items reports (salesops demo --snapshots):
#   salesops ingest --config data/raw/open_items/salesops.yml data/raw/open_items
# Each file is the complete list of open items on its date (snapshot: true); the date is in the
# file name and in the title ("As of June 30, 2025"). Open Balance is the balance due on that
# date: the paid amount is Amount - Open Balance (the Paid column is left unmapped; mapped as
# paid_amount too, each row's Paid and Open Balance would have to agree).
kinds:
  invoices:
    snapshot: true
    file_patterns: ["open_items_*.csv"]
    header_row: auto
    date_formats: ["%Y-%m-%d"]
    columns:
      Invoice No: invoice_id
      Customer: customer_id
      Invoice Date: invoice_date
      Due Date: due_date
      Currency: currency
      Amount: amount
      Open Balance: open_amount
"""

_COLUMNS = [
    "",
    "Invoice Date",
    "Invoice No",
    "Customer",
    "Due Date",
    "Currency",
    "Amount",
    "Paid",
    "Open Balance",
]


def _money(values: pd.Series) -> pd.Series:
    return values.map("{:,.2f}".format)


def _report_rows(items: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    """Return the report body: per customer a section line, its invoices and a subtotal."""
    items = items.sort_values(["customer_id", "invoice_date", "invoice_id"], kind="stable")
    label = names.reindex(items["customer_id"]).fillna("").to_numpy()
    label = np.where(label == "", items["customer_id"], label + " (" + items["customer_id"] + ")")
    rows = pd.DataFrame(
        {
            "": "",
            "Invoice Date": items["invoice_date"].dt.strftime("%Y-%m-%d").to_numpy(),
            "Invoice No": items["invoice_id"].to_numpy(),
            "Customer": items["customer_id"].to_numpy(),
            "Due Date": items["due_date"].dt.strftime("%Y-%m-%d").fillna("").to_numpy(),
            "Currency": items["currency"].fillna("").to_numpy(),
            "Amount": _money(items["amount"]).to_numpy(),
            "Paid": _money(items["settled_amount"]).to_numpy(),
            "Open Balance": _money(items["open_amount"]).to_numpy(),
            "_customer": items["customer_id"].to_numpy(),
            "_order": 1,
        }
    )
    sums = items.groupby("customer_id", sort=True)[
        ["amount", "settled_amount", "open_amount"]
    ].sum()
    first = pd.Series(label, index=items["customer_id"].to_numpy()).groupby(level=0).first()
    blank = {c: "" for c in _COLUMNS[1:]}
    sections = pd.DataFrame({**blank, "": first.to_numpy(), "_customer": first.index, "_order": 0})
    totals = pd.DataFrame(
        {
            **blank,
            "": "Total for " + first.reindex(sums.index).to_numpy(),
            "Amount": _money(sums["amount"]).to_numpy(),
            "Paid": _money(sums["settled_amount"]).to_numpy(),
            "Open Balance": _money(sums["open_amount"]).to_numpy(),
            "_customer": sums.index,
            "_order": 2,
        }
    )
    body = pd.concat([sections, rows, totals], ignore_index=True)
    body = body.sort_values(["_customer", "_order"], kind="stable")
    return body[_COLUMNS]


def _write_report(path: Path, day: dt.date, items: pd.DataFrame, names: pd.Series) -> None:
    import csv

    title = [
        "Demo Trading Ltd",
        "Open Items by Customer",
        f"As of {day:%B} {day.day}, {day.year}",
        "",
    ]
    body = _report_rows(items, names)
    total = [
        "TOTAL",
        *[""] * 5,
        f"{items['amount'].sum():,.2f}",
        f"{items['settled_amount'].sum():,.2f}",
        f"{items['open_amount'].sum():,.2f}",
    ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerows([[t] + [""] * (len(_COLUMNS) - 1) for t in title])
        w.writerow(_COLUMNS)
        w.writerows(body.itertuples(index=False, name=None))
        w.writerow(total)


def write_open_items(
    out: str | Path,
    config: Config,
    *,
    days: int = 92,
    end: dt.date | None = None,
) -> dict:
    """Write one open-items report per day for the last ``days`` days of the demo exports in
    ``out``; return ``{"folder", "files", "open_items"}`` (open items summed over the files).

    Parameters
    ----------
    out : str or Path
        The folder :func:`~salesops_analysis.demo.generate_demo` wrote to; the reports go to
        ``out/open_items/``.
    config : Config
        The config that reads the demo exports (the project's ``salesops.yml``).
    days : int
        How many daily reports, ending on ``end``.
    end : datetime.date, optional
        The last report's date (default: the demo period's end, from ``demo_manifest.json``,
        else the last invoice date in the exports).

    Raises
    ------
    SalesOpsError
        ``config`` does not read the demo exports.
    """
    from .ingest.load import INGEST_ORDER, ingest_file
    from .metrics.receivables import Ledger
    from .metrics.tables import load_tables
    from .warehouse import open_warehouse

    out = Path(out)
    folder = out / "open_items"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="salesops_open_items_") as tmp:
        with open_warehouse(Path(tmp) / "w.duckdb", notify=None) as wh:
            try:
                for kind in INGEST_ORDER:
                    if kind in ("customers", "invoices", "payments"):
                        ingest_file(wh, out / f"{kind}.csv", config, kind=kind)
            except FileRefusedError as exc:
                raise SalesOpsError(
                    f"open-items reports need the demo exports read with the config that maps "
                    f"them (the shipped salesops.yml: pass --config salesops.yml): {exc}"
                ) from None
            tables = load_tables(wh)
    invoices = tables.invoices
    if end is None and (out / "demo_manifest.json").is_file():
        end = dt.date.fromisoformat(json.loads((out / "demo_manifest.json").read_text())["end"])
    end = end or invoices["invoice_date"].max().date()
    names = tables.customers.drop_duplicates("customer_id").set_index("customer_id")["name"]
    led = Ledger(invoices, tables.payments)
    written, n_items = [], 0
    for k in range(days - 1, -1, -1):
        day = end - dt.timedelta(days=k)
        items = led.open_items(day, open_only=True)
        path = folder / f"open_items_{day:%Y-%m-%d}.csv"
        _write_report(path, day, items, names)
        written.append(path.name)
        n_items += len(items)
    (folder / "salesops.yml").write_text(OPEN_ITEMS_CONFIG)
    return {"folder": str(folder), "files": written, "open_items": n_items}
