"""Statements of account: one self-contained HTML page per customer, printable on A4.

A statement lists every open item of the customer at the end of the statement date (invoices,
partly paid invoices, unapplied credit notes; the balances of
:class:`~salesops_analysis.metrics.receivables.Ledger`), in the document currency, with
amount, paid (payments and applied credits up to the date), open amount and days overdue; the
aging summary; the payments received in the last 90 days; and the total due, which is the
customer's open balance on that date. A customer with open items in several currencies gets one
section per currency.

File names come from customer ids by :func:`~salesops_analysis.reports.files.safe_file_names`
(ids may hold ``/``, ``..``, spaces, any script): only ``A-Z a-z 0-9 . _ -``, never a path,
unique ignoring case. Every text from the exports is HTML-escaped
(:mod:`~salesops_analysis.reports.statement_pages` writes the HTML). ``index.html`` and
``index.json`` list id → file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from .._errors import ReportError
from ..config import Config
from ..metrics.days import day_number, day_numbers
from ..metrics.ids import id_keys, row_positions
from ..metrics.receivables import CENT, Ledger, bucket_index, bucket_labels
from ..metrics.tables import Tables
from .files import replace_folder, safe_file_names, staging_folder
from .statement_pages import (
    NOTHING_OPEN,
    PageLayout,
    currency_section,
    item_rows,
    payment_rows,
    payments_section,
    statement_page,
    write_statement_index,
)

__all__ = [
    "StatementsWritten",
    "safe_file_names",
    "statement_items",
    "write_statements",
]

#: Payments received this many days back from the statement date are listed.
PAYMENT_DAYS = 90


def _customer_codes(ids: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Return a code per id (ids equal ignoring case and surrounding spaces share one; -1 for
    a missing id) and the distinct normalized ids, as :func:`row_positions` compares them."""
    encoded = pc.dictionary_encode(id_keys(ids))
    code = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return code, pd.Series(pd.array(encoded.dictionary, dtype="str"))


def statement_items(
    tables: Tables, as_of, config: Config | None = None, *, ledger: Ledger | None = None
) -> pd.DataFrame:
    """Return every open item at the end of ``as_of`` with its customer and aging bucket.

    Columns: ``customer_id``, ``invoice_id``, ``invoice_date``, ``due_date``, ``currency``,
    ``amount``, ``paid`` (settled by ``as_of``), ``open_amount``, ``days_overdue`` (0 when not
    yet due) and ``bucket`` (the configured aging bucket). Amounts are in the document
    currency; per customer and currency they add up to the open balance. ``ledger``, when
    given, is the :class:`Ledger` of ``tables``' invoices and payments (reused, not rebuilt).
    """
    config = config or Config()
    led = ledger or Ledger(tables.invoices, tables.payments)
    items = led.open_items(as_of, open_only=True).reset_index(drop=True)
    days = items["days_past_due" if config.aging_basis == "due_date" else "days_since_invoice"]
    labels = bucket_labels(config.aging_edges, config.aging_basis)
    bucket = bucket_index(days.to_numpy(), config.aging_edges, config.aging_basis)
    return pd.DataFrame(
        {
            "customer_id": items["customer_id"].astype("str"),
            "invoice_id": items["invoice_id"].astype("str"),
            "invoice_date": items["invoice_date"],
            "due_date": items["due_date"],
            "currency": items["currency"].astype("str").fillna(config.reporting_currency)
            if "currency" in items
            else config.reporting_currency,
            "amount": items["amount"].astype("float64"),
            "paid": items["settled_amount"].astype("float64"),
            "open_amount": items["open_amount"].astype("float64"),
            # a credit is never overdue
            "days_overdue": np.where(
                items["open_amount"].to_numpy() > 0,
                np.maximum(items["days_past_due"].to_numpy(), 0),
                0,
            ).astype(np.int64),
            "bucket": pd.Series(np.array(labels, dtype=object)[bucket], dtype="str"),
        }
    ).reset_index(drop=True)


def _recent_payments(tables: Tables, as_of, days: int, ledger: Ledger | None) -> pd.DataFrame:
    """Return the payments dated in the ``days`` days up to ``as_of`` with their customer
    (through the invoice paid, else the payment's own customer id). ``ledger``, the tables',
    gives each payment's invoice row (else the payments are matched here)."""
    end = day_number(as_of)
    inv = tables.invoices
    cols = ["customer_id", "payment_date", "reference", "invoice_id", "amount", "currency"]
    if tables.payments is not None:
        pay = tables.payments
        day = day_numbers(pay["payment_date"])
        keep = np.flatnonzero((day <= end) & (day > end - days))
        pay = pay.iloc[keep]
        if ledger is not None and ledger.payments is not None:  # matched once, by the ledger
            pos = ledger.pay_row[keep]
        else:
            pos = row_positions(pay["invoice_id"], inv["invoice_id"])
        own = (
            pay["customer_id"].astype("str").to_numpy(dtype=object)
            if "customer_id" in pay
            else np.full(len(pay), None, dtype=object)
        )
        # the paid invoices' customers only (not every invoice's id as a Python object)
        hit = np.flatnonzero(pos >= 0)
        customer = own.copy()
        customer[hit] = inv["customer_id"].iloc[pos[hit]].astype("str").to_numpy(dtype=object)
        return pd.DataFrame(
            {
                "customer_id": pd.Series(customer, dtype="str"),
                "payment_date": pay["payment_date"].to_numpy(),
                "reference": pay["payment_id"].astype("str").to_numpy(),
                "invoice_id": pay["invoice_id"].astype("str").to_numpy(),
                "amount": pay["amount"].to_numpy(dtype="float64"),
                "currency": pay["currency"].astype("str").to_numpy() if "currency" in pay else None,
            }
        )
    # no payments export: each invoice's recorded payment
    day = day_numbers(inv["paid_date"])
    paid = inv["paid_amount"].to_numpy(dtype="float64", na_value=0.0)
    keep = np.flatnonzero((day <= end) & (day > end - days) & (np.abs(paid) >= CENT))
    sub = inv.iloc[keep]
    return pd.DataFrame(
        {
            "customer_id": sub["customer_id"].astype("str").to_numpy(),
            "payment_date": sub["paid_date"].to_numpy(),
            "reference": "",
            "invoice_id": sub["invoice_id"].astype("str").to_numpy(),
            "amount": paid[keep],
            "currency": sub["currency"].astype("str").to_numpy(),
        },
        columns=cols,
    )


@dataclass(frozen=True)
class StatementsWritten:
    """Where the statements went and what they hold."""

    folder: Path
    index: Path
    statements: int
    total_due: dict[str, float]  # per document currency, over every statement written

    def line(self) -> str:
        """Return a one-line summary."""
        due = ", ".join(f"{v:,.2f} {k}" for k, v in sorted(self.total_due.items())) or "nothing"
        noun = "statement" if self.statements == 1 else "statements"
        return f"{self.statements:,} {noun} of account in {self.folder} (total due {due})"


class _Groups:
    """Rows sorted by a group code, with each group's slice."""

    def __init__(self, code: np.ndarray, n_groups: int) -> None:
        self.order = np.argsort(code, kind="stable")
        counts = np.bincount(code, minlength=n_groups)
        self.stop = np.cumsum(counts)
        self.start = self.stop - counts

    def rows(self, g: int) -> np.ndarray:
        return self.order[self.start[g] : self.stop[g]]


@dataclass(frozen=True)
class _OpenItems:
    """The open items in sections, one per customer and currency (rows by due date, then
    invoice), with each section's aging in cents and each item's table row."""

    currencies: np.ndarray
    sections: _Groups
    aging: np.ndarray  # cents, one row per section (the last: items without a customer)
    rows: list[str]

    @classmethod
    def of(
        cls, items: pd.DataFrame, code: np.ndarray, n_customers: int, labels: list[str]
    ) -> _OpenItems:
        """Return ``items`` in sections; ``code`` is each item's customer (-1: none)."""
        ccy_codes, currencies = pd.factorize(items["currency"].to_numpy(dtype=object), sort=True)
        n_ccy = max(len(currencies), 1)
        section = np.where(code >= 0, code * n_ccy + ccy_codes, -1)
        sort = np.lexsort(
            (items["invoice_id"].to_numpy(dtype=object), day_numbers(items["due_date"]), section)
        )
        items = items.iloc[sort].reset_index(drop=True)
        n_sections = n_customers * n_ccy
        section = np.where(section[sort] >= 0, section[sort], n_sections)
        bucket = pd.Categorical(items["bucket"], categories=labels).codes.astype(np.int64)
        cents = np.round(items["open_amount"].to_numpy() * 100).astype(np.int64)
        aging = np.zeros((n_sections + 1) * len(labels), dtype=np.int64)
        np.add.at(aging, section * len(labels) + bucket, cents)
        return cls(
            np.asarray(currencies),
            _Groups(section, n_sections + 1),
            aging.reshape(n_sections + 1, len(labels)),
            item_rows(items),
        )

    def of_customer(self, g: int) -> Iterator[tuple[str, list[str], np.ndarray]]:
        """Yield ``(currency, item rows, aging cents)`` of customer ``g``'s open currencies."""
        n_ccy = max(len(self.currencies), 1)
        for c in range(n_ccy):
            s = g * n_ccy + c
            rows = self.sections.rows(s)
            if len(rows):
                yield str(self.currencies[c]), [self.rows[r] for r in rows], self.aging[s]


@dataclass(frozen=True)
class _Payments:
    """The payments received in the listed days, by date then reference, with each customer's
    rows; ``extra`` are the rows of no customer with open items (listed by id on request)."""

    groups: _Groups
    rows: list[str]
    keys: np.ndarray
    extra: np.ndarray

    @classmethod
    def of(
        cls,
        tables: Tables,
        day,
        days: int,
        distinct: pd.Series,
        *,
        requested: bool,
        ledger: Ledger | None = None,
    ) -> _Payments:
        """Return the payments of the ``days`` up to ``day``, grouped by ``distinct`` customer
        (``ledger``: the tables', whose payments are matched to their invoices already)."""
        payments = _recent_payments(tables, day, days, ledger)
        group = row_positions(payments["customer_id"], distinct)
        sort = np.lexsort(
            (payments["reference"].to_numpy(dtype=object), day_numbers(payments["payment_date"]))
        )
        payments = payments.iloc[sort].reset_index(drop=True)
        group = group[sort].astype(np.int64)
        return cls(
            _Groups(np.where(group >= 0, group, len(distinct)), len(distinct) + 1),
            payment_rows(payments),
            payments["customer_id"].str.strip().str.lower().to_numpy(dtype=object),
            np.flatnonzero(group < 0) if requested else np.zeros(0, int),
        )

    def of_customer(self, g: int, customer_id: str) -> list[str]:
        """Return the payment rows of customer ``g`` (-1: looked up by ``customer_id``)."""
        if g >= 0:
            rows = self.groups.rows(g)
        elif len(self.extra):
            rows = self.extra[self.keys[self.extra] == str(customer_id).strip().lower()]
        else:
            rows = self.extra
        return [self.rows[r] for r in rows]


def write_statements(
    tables: Tables,
    as_of,
    folder: str | Path,
    config: Config | None = None,
    *,
    customers: Sequence[str] | None = None,
    all_customers: bool = False,
    payment_days: int = PAYMENT_DAYS,
    ledger: Ledger | None = None,
) -> StatementsWritten:
    """Write the statements of account at the end of ``as_of`` into ``folder``.

    Parameters
    ----------
    tables : Tables
        The canonical tables (invoices, payments, customers' names).
    as_of : date-like
        The statement date: balances at its end; payments after it do not count.
    folder : str or Path
        The statements folder (``reports/<date>/collections/statements``).
    config : Config, optional
        ``company`` (the letterhead), ``aging``, ``reporting_currency`` (for rows without one).
    customers : sequence of str, optional
        Only these customer ids (compared ignoring case and surrounding spaces), whatever
        their balance; their statements are added to the folder and the index, the others
        kept. An id with no invoice at all is an error.
    all_customers : bool
        Every customer with an open item, not only those with an overdue balance.
    payment_days : int
        How many days of received payments to list.
    ledger : Ledger, optional
        The ledger of ``tables``' invoices and payments, reused (built from them if not given).

    Returns
    -------
    StatementsWritten
        The folder, the index file, the number of statements and the total due per currency.

    Raises
    ------
    ReportError
        A requested customer id matches no invoice.

    Notes
    -----
    A full run (no ``customers``) writes into a temporary folder beside ``folder``, then
    replaces it: paid-up customers' statements go, and readers never see half a folder.
    """
    config = config or Config()
    folder = Path(folder)
    day = pd.Timestamp(as_of).normalize()
    labels = bucket_labels(config.aging_edges, config.aging_basis)
    items = statement_items(tables, day, config, ledger=ledger)
    code, distinct = _customer_codes(items["customer_id"])
    chosen_ids, group_of = _chosen_customers(
        items, code, distinct, tables, customers, all_customers
    )
    open_items = _OpenItems.of(items, code, len(distinct), labels)
    full_run = customers is None
    pay = _Payments.of(tables, day, payment_days, distinct, requested=not full_run, ledger=ledger)
    layout = PageLayout.of(config, day, labels, payment_days)
    target = staging_folder(folder) if full_run else folder
    target.mkdir(parents=True, exist_ok=True)
    names = _customer_names(chosen_ids, tables)
    index_rows, totals = _write_statement_files(
        target, chosen_ids, names, group_of, open_items, pay, layout
    )
    if not full_run:
        index_rows = _merged_index(folder / "index.json", index_rows)
    write_statement_index(target, index_rows, layout.date_text)
    if full_run:
        replace_folder(target, folder)
    return StatementsWritten(
        folder=folder,
        index=folder / "index.html",
        statements=len(chosen_ids),
        total_due={k: round(v / 100, 2) for k, v in totals.items()},
    )


def _write_statement_files(
    folder: Path,
    ids: pd.Series,
    names: list[str],
    group_of: np.ndarray,
    open_items: _OpenItems,
    payments: _Payments,
    layout: PageLayout,
) -> tuple[list[dict], dict[str, int]]:
    """Write one ``<customer>.html`` per id into ``folder``; return the index rows and the
    total due in cents per currency over all of them."""
    index_rows, totals = [], {}
    stems = safe_file_names(ids.tolist())
    for cid, name, stem, g in zip(ids, names, stems, group_of, strict=True):
        page, due = _statement(str(cid), name, g, open_items, payments, layout)
        for ccy, cents in due:
            totals[ccy] = totals.get(ccy, 0) + cents
        path = _statement_file(folder, stem)
        path.write_text(page, encoding="utf-8")
        index_rows.append(
            {
                "customer_id": str(cid),
                "customer_name": name,
                "file": path.name,
                "total_due": {k: round(v / 100, 2) for k, v in due},
            }
        )
    return index_rows, totals


def _statement(
    customer_id: str,
    name: str,
    g: int,
    open_items: _OpenItems,
    payments: _Payments,
    layout: PageLayout,
) -> tuple[str, list[tuple[str, int]]]:
    """Return one customer's statement page and its total due in cents per currency
    (``g``: the customer among those with open items, -1 if none)."""
    sections, due = [], []
    if g >= 0:
        for currency, rows, aging in open_items.of_customer(g):
            total = int(aging.sum())
            due.append((currency, total))
            sections.append(currency_section(layout, currency, "".join(rows), aging, total))
    if not sections:
        sections.append(NOTHING_OPEN)
    paid = payments_section(layout, payments.of_customer(g, customer_id))
    return statement_page(layout, customer_id, name, sections, paid), due


def _statement_file(folder: Path, stem: str) -> Path:
    path = folder / f"{stem}.html"
    if path.resolve().parent != folder.resolve():  # cannot happen: stems are plain names
        raise ReportError(f"statement file name {stem!r} leaves {folder}")
    return path


def _chosen_customers(
    items: pd.DataFrame,
    code: np.ndarray,
    distinct: pd.Series,
    tables: Tables,
    customers: Sequence[str] | None,
    all_customers: bool,
) -> tuple[pd.Series, np.ndarray]:
    """Return the ids of the customers to write (as the exports spell them) and each one's
    group among ``distinct`` (-1: nothing open).

    Raises
    ------
    ReportError
        A requested customer id matches no invoice.
    """
    if customers is not None:
        wanted = pd.Series(list(customers), dtype="str")
        known_pos = row_positions(wanted, tables.invoices["customer_id"])
        unknown = [c for c, p in zip(customers, known_pos, strict=True) if p < 0]
        if unknown:
            raise ReportError(f"no invoices for customer id(s): {', '.join(map(str, unknown))}")
        # the requested ids with open items are among ``distinct``; the others get a statement
        # of nothing open
        chosen_ids = pd.Series(
            tables.invoices["customer_id"].astype("str").to_numpy()[known_pos], dtype="str"
        )
        _, first_seen = np.unique(
            chosen_ids.str.strip().str.lower().to_numpy(dtype=object), return_index=True
        )
        chosen_ids = chosen_ids.iloc[np.sort(first_seen)].reset_index(drop=True)
        group_of = row_positions(chosen_ids, distinct)
    else:
        overdue = (items["days_overdue"].to_numpy() > 0) & (items["open_amount"].to_numpy() > 0)
        has = np.zeros(len(distinct), dtype=bool)
        if all_customers:
            has[code[code >= 0]] = True
        else:
            has[code[(code >= 0) & overdue]] = True
        groups = np.flatnonzero(has)
        first = np.full(len(distinct), len(items), dtype=np.int64)
        np.minimum.at(first, code[code >= 0], np.flatnonzero(code >= 0))
        chosen_ids = pd.Series(
            items["customer_id"].to_numpy(dtype=object)[first[groups]], dtype="str"
        )
        group_of = groups
    return chosen_ids, group_of


def _customer_names(ids: pd.Series, tables: Tables) -> list[str]:
    cust = tables.customers
    names = [""] * len(ids)
    if len(cust) and "name" in cust and len(ids):
        pos = row_positions(ids, cust["customer_id"])
        text = cust["name"].astype("str").fillna("").to_numpy(dtype=object)
        names = [text[p] if p >= 0 else "" for p in pos]
    return names


def _merged_index(path: Path, rows: list[dict]) -> list[dict]:
    """Return the index rows already in ``path`` (other files) followed by ``rows``."""
    if not path.is_file():
        return rows
    try:
        old = json.loads(path.read_text(encoding="utf-8"))["statements"]
    except (ValueError, KeyError, TypeError):
        return rows
    new_files = {r["file"] for r in rows}
    return [r for r in old if r.get("file") not in new_files] + rows
