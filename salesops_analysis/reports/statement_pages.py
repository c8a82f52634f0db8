"""The HTML of statements of account: A4 style, letterhead, open items and aging per currency,
payments received, and the folder's index.

Every text from the exports is HTML-escaped here; :mod:`~salesops_analysis.reports.statements`
decides what each statement holds.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Company, Config
from .files import iso_dates

__all__ = [
    "NOTHING_OPEN",
    "STYLE",
    "PageLayout",
    "currency_section",
    "item_rows",
    "payment_rows",
    "payments_section",
    "statement_page",
    "write_statement_index",
]

#: The statements' CSS: A4 pages, numbers right-aligned, headers repeated on each printed page.
STYLE = """
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

#: The only section of a statement whose customer has nothing open.
NOTHING_OPEN = '<p class="due">Nothing is open on this account.</p>'


def _esc(values) -> list[str]:
    return [html.escape(v) for v in values]


def _money(values: np.ndarray) -> list[str]:
    return [f"{v:,.2f}" for v in values]


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


@dataclass(frozen=True)
class PageLayout:
    """What every statement of one run shares: letterhead, footer, date and aging header."""

    company: str
    footer: str
    date_text: str
    basis: str
    aging_head: str
    payment_days: int

    @classmethod
    def of(
        cls, config: Config, day: pd.Timestamp, labels: list[str], payment_days: int
    ) -> PageLayout:
        """Return the layout of the statements dated ``day`` (``labels``: the aging buckets)."""
        return cls(
            company=_company_html(config.company),
            footer=_footer_html(config.company),
            date_text=str(day.date()),
            basis="days past due" if config.aging_basis == "due_date" else "days since invoice",
            aging_head="".join(
                f"<th class=n>{html.escape(b.replace('_', '–'))}</th>" for b in labels
            ),
            payment_days=payment_days,
        )


def item_rows(items: pd.DataFrame) -> list[str]:
    """Return each open item's table row: invoice, dates, amount, paid, open, days overdue
    (blank when not overdue), built once over whole columns."""
    return [
        f"<tr><td>{i}</td><td>{d}</td><td>{u}</td><td class=n>{a}</td><td class=n>{p}</td>"
        f"<td class=n>{o}</td><td class=n>{k}</td></tr>"
        for i, d, u, a, p, o, k in zip(
            _esc(items["invoice_id"]),
            iso_dates(items["invoice_date"]),
            iso_dates(items["due_date"]),
            _money(items["amount"].to_numpy()),
            _money(items["paid"].to_numpy()),
            _money(items["open_amount"].to_numpy()),
            [str(v) if v > 0 else "" for v in items["days_overdue"].to_numpy()],
            strict=True,
        )
    ]


def payment_rows(payments: pd.DataFrame) -> list[str]:
    """Return each received payment's table row: date, reference, invoice, amount, currency."""
    return [
        f"<tr><td>{d}</td><td>{r}</td><td>{i}</td><td class=n>{a}</td><td>{c}</td></tr>"
        for d, r, i, a, c in zip(
            iso_dates(payments["payment_date"]),
            _esc(payments["reference"].fillna("")),
            _esc(payments["invoice_id"].fillna("")),
            _money(payments["amount"].to_numpy()),
            _esc(payments["currency"].fillna("")),
            strict=True,
        )
    ]


def currency_section(
    layout: PageLayout, currency: str, rows: str, aging_cents: np.ndarray, total_cents: int
) -> str:
    """Return the open items of one currency (their ``rows``), the total due and the aging."""
    ccy = html.escape(currency)
    cells = "".join(f"<td class=n>{v / 100:,.2f}</td>" for v in aging_cents)
    total = f"{total_cents / 100:,.2f}"
    return (
        f"<h2>Open items ({ccy})</h2>{_ITEMS_HEAD}{rows}"
        f"<tr class=total><td colspan=5>Total due</td><td class=n>"
        f"{total}</td><td></td></tr></tbody></table>"
        f"<h2>Aging ({ccy}, {layout.basis})</h2><table><thead><tr>{layout.aging_head}"
        f"<th class=n>Total</th></tr></thead><tbody><tr>{cells}"
        f"<td class=n>{total}</td></tr></tbody></table>"
        f'<p class="due">Total due: {total} {ccy}</p>'
    )


def payments_section(layout: PageLayout, rows: list[str]) -> str:
    """Return the payments received in the last days (or a note that there were none)."""
    days = layout.payment_days
    if not rows:
        return f'<p class="note">No payments received in the last {days} days.</p>'
    return (
        f"<h2>Payments received in the last {days} days</h2><table><thead><tr>"
        "<th>Date</th><th>Reference</th><th>Invoice</th><th class=n>Amount</th>"
        "<th>Currency</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def statement_page(
    layout: PageLayout, customer_id: str, name: str, sections: list[str], payments: str
) -> str:
    """Return one statement as a self-contained HTML page."""
    return _PAGE.format(
        title=html.escape(customer_id),
        style=STYLE,
        company=layout.company,
        name=html.escape(name),
        customer_id=html.escape(customer_id),
        date=layout.date_text,
        sections="\n".join(sections),
        payments=payments,
        footer=layout.footer,
    )


def _due_text(due: dict) -> str:
    return ", ".join(f"{v:,.2f} {k}" for k, v in due.items()) or "0.00"


def write_statement_index(folder: Path, rows: list[dict], date_text: str) -> None:
    """Write ``index.json`` (id → file, for machines) and ``index.html`` (links) in ``folder``."""
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
        f"<title>Statements of account {date_text}</title><style>{STYLE}</style></head><body>"
        f"<h1>Statements of account {date_text}</h1><p>{len(rows):,} statements.</p>"
        "<table><thead><tr><th>Customer</th><th>Name</th><th>File</th><th class=n>Total due"
        f"</th></tr></thead><tbody>{lines}</tbody></table></body></html>",
        encoding="utf-8",
    )
