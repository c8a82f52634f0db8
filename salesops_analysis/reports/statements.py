"""Statements of account: one self-contained HTML page per customer, printable on A4.

A statement lists every open item of the customer at the end of the statement date (invoices,
partly paid invoices, unapplied credit notes; the balances of
:class:`~salesops_analysis.metrics.receivables.Ledger`), in the document currency, with
amount, paid (payments and applied credits up to the date), open amount and days overdue; the
aging summary; the payments received in the last 90 days; and the total due, which is the
customer's open balance on that date. A customer with open items in several currencies gets one
section per currency.

File names come from customer ids by :func:`safe_file_names` (ids may hold ``/``, ``..``,
spaces, any script): only ``A-Z a-z 0-9 . _ -``, never a path, unique ignoring case. Every text
from the exports is HTML-escaped. ``index.html`` and ``index.json`` list id → file.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from .._errors import ReportError
from ..config import Company, Config
from ..metrics.days import day_number, day_numbers
from ..metrics.ids import id_keys
from ..metrics.receivables import CENT, Ledger, bucket_index, bucket_labels, row_positions
from ..metrics.tables import Tables

__all__ = [
    "StatementsWritten",
    "safe_file_names",
    "statement_items",
    "write_statements",
]

#: Payments received this many days back from the statement date are listed.
PAYMENT_DAYS = 90

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{p}{i}" for p in ("com", "lpt") for i in range(10)
}
_MAX_STEM = 80


def _customer_codes(ids: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Return a code per id (ids equal ignoring case and surrounding spaces share one; -1 for
    a missing id) and the distinct normalized ids, as :func:`row_positions` compares them."""
    encoded = pc.dictionary_encode(id_keys(ids))
    code = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return code, pd.Series(pd.array(encoded.dictionary, dtype="str"))


def _id_hash(value: str) -> str:
    return hashlib.sha1(value.encode("utf-8")).hexdigest()[:8]


def safe_file_names(ids: Iterable[str], *, reserved: Iterable[str] = ("index",)) -> list[str]:
    """Return one file stem per id: safe on every file system, never a path, all distinct.

    An id made only of ``A-Z a-z 0-9 . _ -`` (not starting with a dot, at most 80 characters,
    not a reserved device name) is its own stem. Any other id is transliterated to ASCII,
    its other characters become ``_``, and the first 8 hex digits of its SHA-1 are appended,
    so two ids that read alike (``a/b`` and ``a_b``) stay apart. Stems equal ignoring case
    (and the ``reserved`` stems) get ``-2``, ``-3``, ... in order.

    Examples
    --------
    >>> safe_file_names(["C001", "../etc/passwd", "Ünïcödé Co", "a b", "A B", "index"])
    ... # doctest: +NORMALIZE_WHITESPACE
    ['C001', 'etc_passwd-e96c47ea', 'Unicode_Co-16d2e239', 'a_b-7dbde935', 'A_B-8aabb8bc',
     'index-2']
    """
    used = {r.lower() for r in reserved}
    out = []
    for value in ids:
        text = "" if value is None else str(value)
        ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        stem = _UNSAFE.sub("_", ascii_text).strip("._-")[:_MAX_STEM] or "customer"
        if stem != text or stem.lower().split(".")[0] in _WINDOWS_RESERVED:
            stem = f"{stem}-{_id_hash(text)}"
        name, k = stem, 2
        while name.lower() in used:
            name = f"{stem}-{k}"
            k += 1
        used.add(name.lower())
        out.append(name)
    return out


def statement_items(tables: Tables, as_of, config: Config | None = None) -> pd.DataFrame:
    """Return every open item at the end of ``as_of`` with its customer and aging bucket.

    Columns: ``customer_id``, ``invoice_id``, ``invoice_date``, ``due_date``, ``currency``,
    ``amount``, ``paid`` (settled by ``as_of``), ``open_amount``, ``days_overdue`` (0 when not
    yet due) and ``bucket`` (the configured aging bucket). Amounts are in the document
    currency; per customer and currency they add up to the open balance.
    """
    config = config or Config()
    led = Ledger(tables.invoices, tables.payments)
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


def _recent_payments(tables: Tables, as_of, days: int) -> pd.DataFrame:
    """Return the payments dated in the ``days`` days up to ``as_of`` with their customer
    (through the invoice paid, else the payment's own customer id)."""
    end = day_number(as_of)
    inv = tables.invoices
    cols = ["customer_id", "payment_date", "reference", "invoice_id", "amount", "currency"]
    if tables.payments is not None:
        pay = tables.payments
        day = day_numbers(pay["payment_date"])
        keep = np.flatnonzero((day <= end) & (day > end - days))
        pay = pay.iloc[keep]
        pos = row_positions(pay["invoice_id"], inv["invoice_id"])
        theirs = inv["customer_id"].astype("str").to_numpy(dtype=object)
        own = (
            pay["customer_id"].astype("str").to_numpy(dtype=object)
            if "customer_id" in pay
            else np.full(len(pay), None, dtype=object)
        )
        customer = np.where(pos >= 0, theirs[np.maximum(pos, 0)] if len(inv) else None, own)
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


def _esc(values) -> list[str]:
    return [html.escape(v) for v in values]


def _money(values: np.ndarray) -> list[str]:
    return [f"{v:,.2f}" for v in values]


def _dates(values: pd.Series) -> list[str]:
    d = values.to_numpy(dtype="datetime64[D]")
    text = np.datetime_as_string(d, unit="D").astype(object)
    text[np.isnat(d)] = ""
    return text.tolist()


_STYLE = """
@page { size: A4; margin: 15mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "Helvetica Neue", Arial, sans-serif; font-size: 10pt; color: #111;
  max-width: 182mm; margin: 8mm auto; }
header { display: flex; justify-content: space-between; border-bottom: 2px solid #1F3A5F;
  padding-bottom: 4mm; margin-bottom: 5mm; }
h1 { font-size: 16pt; margin: 0 0 2mm; color: #1F3A5F; }
h2 { font-size: 12pt; margin: 6mm 0 2mm; color: #1F3A5F; }
.company p, .customer p { margin: 0.5mm 0; }
.company .name { font-weight: bold; font-size: 12pt; }
table { width: 100%; border-collapse: collapse; margin: 2mm 0 4mm; }
th, td { padding: 1.2mm 1.5mm; border-bottom: 1px solid #ccc; text-align: left; }
th { background: #1F3A5F; color: #fff; font-weight: bold; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: bold; border-top: 2px solid #1F3A5F; border-bottom: none; }
.due { font-size: 13pt; font-weight: bold; margin: 4mm 0; }
.note { color: #555; font-size: 9pt; }
@media print {
  body { margin: 0; max-width: none; }
  thead { display: table-header-group; }
  tr { page-break-inside: avoid; }
  h2 { page-break-after: avoid; }
}
"""

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Statement of account {title}</title>
<style>{style}</style></head>
<body>
<header><div class="company">{company}</div>
<div class="customer"><h1>Statement of account</h1>
<p><b>{name}</b></p><p>Customer {customer_id}</p><p>Statement date {date}</p></div></header>
{sections}
{payments}
{footer}
</body></html>
"""

_ITEMS_HEAD = (
    "<table><thead><tr><th>Invoice</th><th>Date</th><th>Due date</th><th class=n>Amount</th>"
    "<th class=n>Paid</th><th class=n>Open</th><th class=n>Days overdue</th></tr></thead><tbody>"
)


def _company_html(company: Company) -> str:
    lines = []
    if company.name:
        lines.append(f'<p class="name">{html.escape(company.name)}</p>')
    lines += [f"<p>{html.escape(a)}</p>" for a in company.address]
    for label, value in (("Phone", company.phone), ("E-mail", company.email)):
        if value:
            lines.append(f"<p>{label} {html.escape(value)}</p>")
    if company.tax_id:
        lines.append(f"<p>Tax id {html.escape(company.tax_id)}</p>")
    return "\n".join(lines)


def _footer_html(company: Company) -> str:
    text = '<p class="note">Please pay the total due'
    if company.payment_details:
        text += f" to {html.escape(company.payment_details)}"
    text += ". If you have already paid or disagree with an item, please contact us"
    contact = company.email or company.phone
    text += f" at {html.escape(contact)}." if contact else "."
    return text + "</p>"


class _Groups:
    """Rows sorted by a group code, with each group's slice."""

    def __init__(self, code: np.ndarray, n_groups: int) -> None:
        self.order = np.argsort(code, kind="stable")
        counts = np.bincount(code, minlength=n_groups)
        self.stop = np.cumsum(counts)
        self.start = self.stop - counts

    def rows(self, g: int) -> np.ndarray:
        return self.order[self.start[g] : self.stop[g]]


def write_statements(
    tables: Tables,
    as_of,
    folder: str | Path,
    config: Config | None = None,
    *,
    customers: Sequence[str] | None = None,
    all_customers: bool = False,
    payment_days: int = PAYMENT_DAYS,
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
    A full run (no ``customers``) writes every statement in a temporary folder beside
    ``folder`` and then replaces it, so statements of customers that have paid since the
    previous run disappear and readers never see half a folder.
    """
    config = config or Config()
    folder = Path(folder)
    day = pd.Timestamp(as_of).normalize()
    items = statement_items(tables, day, config)
    code, distinct = _customer_codes(items["customer_id"])
    chosen_ids, group_of = _chosen_customers(
        items, code, distinct, tables, customers, all_customers
    )
    # sections: one per (customer group, currency), rows by due date then invoice
    currency = items["currency"].to_numpy(dtype=object)
    ccy_codes, ccy_names = pd.factorize(currency, sort=True)
    n_ccy = max(len(ccy_names), 1)
    section = np.where(code >= 0, code * n_ccy + ccy_codes, -1)
    sort = np.lexsort(
        (items["invoice_id"].to_numpy(dtype=object), day_numbers(items["due_date"]), section)
    )
    items = items.iloc[sort].reset_index(drop=True)
    section = section[sort]
    valid = section >= 0
    n_sections = len(distinct) * n_ccy
    sections = _Groups(np.where(valid, section, n_sections), n_sections + 1)
    labels = bucket_labels(config.aging_edges, config.aging_basis)
    bucket_code = pd.Categorical(items["bucket"], categories=labels).codes.astype(np.int64)
    cents = np.round(items["open_amount"].to_numpy() * 100).astype(np.int64)
    aging = np.zeros((n_sections + 1) * len(labels), dtype=np.int64)
    np.add.at(aging, np.where(valid, section, n_sections) * len(labels) + bucket_code, cents)
    aging = aging.reshape(n_sections + 1, len(labels))
    # each item's table row, built once over whole columns (all texts escaped)
    inv_text = _esc(items["invoice_id"])
    row_html = [
        f"<tr><td>{i}</td><td>{d}</td><td>{u}</td><td class=n>{a}</td><td class=n>{p}</td>"
        f"<td class=n>{o}</td><td class=n>{k}</td></tr>"
        for i, d, u, a, p, o, k in zip(
            inv_text,
            _dates(items["invoice_date"]),
            _dates(items["due_date"]),
            _money(items["amount"].to_numpy()),
            _money(items["paid"].to_numpy()),
            _money(items["open_amount"].to_numpy()),
            [str(v) if v > 0 else "" for v in items["days_overdue"].to_numpy()],
            strict=True,
        )
    ]
    payments = _recent_payments(tables, day, payment_days)
    pay_group = row_positions(payments["customer_id"], distinct)
    # payments by date (then reference), so each customer's list reads in order
    pay_sort = np.lexsort(
        (payments["reference"].to_numpy(dtype=object), day_numbers(payments["payment_date"]))
    )
    payments = payments.iloc[pay_sort].reset_index(drop=True)
    pay_group = pay_group[pay_sort].astype(np.int64)
    pay_extra = np.flatnonzero(pay_group < 0) if customers is not None else np.zeros(0, int)
    pay_groups = _Groups(np.where(pay_group >= 0, pay_group, len(distinct)), len(distinct) + 1)
    pay_html = [
        f"<tr><td>{d}</td><td>{r}</td><td>{i}</td><td class=n>{a}</td><td>{c}</td></tr>"
        for d, r, i, a, c in zip(
            _dates(payments["payment_date"]),
            _esc(payments["reference"].fillna("")),
            _esc(payments["invoice_id"].fillna("")),
            _money(payments["amount"].to_numpy()),
            _esc(payments["currency"].fillna("")),
            strict=True,
        )
    ]
    pay_keys = payments["customer_id"].str.strip().str.lower().to_numpy(dtype=object)

    names = _customer_names(chosen_ids, tables)
    stems = safe_file_names(chosen_ids.tolist())
    company = _company_html(config.company)
    footer = _footer_html(config.company)
    date_text = str(day.date())
    basis = "days past due" if config.aging_basis == "due_date" else "days since invoice"
    aging_head = "".join(f"<th class=n>{html.escape(b.replace('_', '–'))}</th>" for b in labels)

    full_run = customers is None
    target = folder.parent / f".{folder.name}.tmp-{os.getpid()}" if full_run else folder
    if full_run and target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True, exist_ok=True)
    index_rows = []
    totals: dict[str, int] = {}
    for cid, name, stem, g in zip(chosen_ids, names, stems, group_of, strict=True):
        parts, due = [], []
        if g >= 0:
            for c in range(n_ccy):
                s = g * n_ccy + c
                rows = sections.rows(s)
                if not len(rows):
                    continue
                ccy = html.escape(str(ccy_names[c]))
                total = int(aging[s].sum())
                totals[str(ccy_names[c])] = totals.get(str(ccy_names[c]), 0) + total
                due.append((str(ccy_names[c]), total / 100))
                body = "".join(row_html[r] for r in rows)
                cells = "".join(f"<td class=n>{v / 100:,.2f}</td>" for v in aging[s])
                parts.append(
                    f"<h2>Open items ({ccy})</h2>{_ITEMS_HEAD}{body}"
                    f"<tr class=total><td colspan=5>Total due</td><td class=n>"
                    f"{total / 100:,.2f}</td><td></td></tr></tbody></table>"
                    f"<h2>Aging ({ccy}, {basis})</h2><table><thead><tr>{aging_head}"
                    f"<th class=n>Total</th></tr></thead><tbody><tr>{cells}"
                    f"<td class=n>{total / 100:,.2f}</td></tr></tbody></table>"
                    f'<p class="due">Total due: {total / 100:,.2f} {ccy}</p>'
                )
        if not parts:
            parts.append('<p class="due">Nothing is open on this account.</p>')
        if g >= 0:
            prow = pay_groups.rows(g)
        else:
            key = str(cid).strip().lower()
            prow = pay_extra[pay_keys[pay_extra] == key] if len(pay_extra) else pay_extra
        if len(prow):
            pay_section = (
                f"<h2>Payments received in the last {payment_days} days</h2><table><thead><tr>"
                "<th>Date</th><th>Reference</th><th>Invoice</th><th class=n>Amount</th>"
                "<th>Currency</th></tr></thead><tbody>"
                + "".join(pay_html[r] for r in prow)
                + "</tbody></table>"
            )
        else:
            pay_section = (
                f'<p class="note">No payments received in the last {payment_days} days.</p>'
            )
        page = _PAGE.format(
            title=html.escape(str(cid)),
            style=_STYLE,
            company=company,
            name=html.escape(name),
            customer_id=html.escape(str(cid)),
            date=date_text,
            sections="\n".join(parts),
            payments=pay_section,
            footer=footer,
        )
        path = target / f"{stem}.html"
        if path.resolve().parent != target.resolve():  # cannot happen: stems are plain names
            raise ReportError(f"statement file name {stem!r} leaves {target}")
        path.write_text(page, encoding="utf-8")
        index_rows.append(
            {
                "customer_id": str(cid),
                "customer_name": name,
                "file": path.name,
                "total_due": {k: round(v, 2) for k, v in due},
            }
        )
    if not full_run:
        index_rows = _merged_index(folder / "index.json", index_rows)
    _write_index(target, index_rows, date_text)
    if full_run:
        _replace_folder(target, folder)
    return StatementsWritten(
        folder=folder,
        index=folder / "index.html",
        statements=len(chosen_ids),
        total_due={k: round(v / 100, 2) for k, v in totals.items()},
    )


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


def _write_index(folder: Path, rows: list[dict], date_text: str) -> None:
    """Write ``index.json`` (id → file, for machines) and ``index.html`` (links)."""
    (folder / "index.json").write_text(
        json.dumps({"date": date_text, "statements": rows}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    lines = "".join(
        f"<tr><td>{html.escape(r['customer_id'])}</td><td>{html.escape(r['customer_name'])}</td>"
        f'<td><a href="{html.escape(r["file"])}">{html.escape(r["file"])}</a></td>'
        f"<td class=n>{html.escape(_due_text(r['total_due']))}</td></tr>"
        for r in rows
    )
    (folder / "index.html").write_text(
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Statements of account {date_text}</title><style>{_STYLE}</style></head><body>"
        f"<h1>Statements of account {date_text}</h1><p>{len(rows):,} statements.</p>"
        "<table><thead><tr><th>Customer</th><th>Name</th><th>File</th><th class=n>Total due"
        f"</th></tr></thead><tbody>{lines}</tbody></table></body></html>",
        encoding="utf-8",
    )


def _due_text(due: dict) -> str:
    return ", ".join(f"{v:,.2f} {k}" for k, v in due.items()) or "0.00"


def _replace_folder(new: Path, folder: Path) -> None:
    """Put ``new`` in place of ``folder`` (the old one removed after the swap)."""
    old = folder.parent / f".{folder.name}.old-{os.getpid()}"
    if folder.exists():
        os.replace(folder, old)
    os.replace(new, folder)
    if old.exists():
        shutil.rmtree(old)
