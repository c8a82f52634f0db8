"""What is known about each customer on the account worklist: open credit notes, names,
last contact, promise to pay, dispute, and its invoices to mention.

Customers are groups: a code per worklist row (:func:`~.lookups.customer_codes`), one value per
code here. Amounts are summed in whole cents, so a customer's amounts add up exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import Config
from ..metrics.days import day_number, day_numbers
from ..metrics.ids import isin_ids, row_positions
from ..metrics.receivables import CENT, Ledger, rate_factors
from ..metrics.tables import Tables
from . import collection_rules as rules
from .collection_rules import Promise
from .lookups import latest_entry

__all__ = [
    "CustomerFacts",
    "cents",
    "credits_currency",
    "customer_facts",
    "customer_names",
    "day_text",
    "first_per_group",
    "group_cents",
    "invoice_mentions",
    "open_credits",
    "text_or_empty",
]


def day_text(day: int) -> str:
    """Return a day number as 'YYYY-MM-DD'."""
    return str(np.datetime64(int(day), "D"))


def cents(values) -> np.ndarray:
    """Return amounts in whole cents (a missing amount counts 0)."""
    return np.round(np.nan_to_num(np.asarray(values, dtype="float64")) * 100).astype(np.int64)


def group_cents(code: np.ndarray, values, n: int) -> np.ndarray:
    """Return the per-group sum of amounts in whole cents (exact)."""
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, code, cents(values))
    return out


def first_per_group(code: np.ndarray, n: int) -> np.ndarray:
    """Return the first row position of each of ``n`` groups (``len(code)`` where none)."""
    first = np.full(n, len(code), dtype=np.int64)
    np.minimum.at(first, code, np.arange(len(code)))
    return first


def text_or_empty(values: pd.Series) -> np.ndarray:
    """Return a column's texts as an object array ("" where missing)."""
    return values.astype("str").fillna("").to_numpy(dtype=object)


def open_credits(
    tables: Tables, worklist: pd.DataFrame, as_of, config: Config, *, ledger: Ledger | None = None
) -> pd.DataFrame:
    """Return the open credit notes at the end of ``as_of`` that are not on ``worklist``:
    ``customer_id``, ``invoice_id``, ``open_amount_reporting`` (negative) and
    ``reporting_currency``. The worklist's open amounts plus these make the AR open balance.
    ``ledger``, when given, is the :class:`Ledger` of ``tables``' invoices and payments.
    """
    inv = tables.invoices
    columns = ["customer_id", "invoice_id", "open_amount_reporting", "reporting_currency"]
    if not len(inv):
        return pd.DataFrame({c: pd.Series(dtype="float64" if "amount" in c else "str")
                             for c in columns})  # fmt: skip
    led = ledger or Ledger(inv, tables.payments)
    _, open_now = led.open_balances(as_of)
    rows = np.flatnonzero((np.abs(open_now) >= CENT) & (led.amount < 0))
    if len(worklist) and len(rows):
        listed = isin_ids(led.invoices["invoice_id"].iloc[rows], worklist["invoice_id"])
        rows = rows[~listed]
    rates, currency = tables.rates(as_of, config)
    factor = rate_factors(led.invoices["currency"].iloc[rows], rates, len(rows))
    picked = led.invoices.iloc[rows]
    return pd.DataFrame(
        {
            "customer_id": picked["customer_id"].astype("str").to_numpy(),
            "invoice_id": picked["invoice_id"].astype("str").to_numpy(),
            "open_amount_reporting": np.round(open_now[rows] * factor, 2),
            "reporting_currency": currency,
        },
        columns=columns,
    )


def credits_currency(credits: pd.DataFrame, config: Config) -> str:
    """Return the reporting currency of an :func:`open_credits` frame."""
    if len(credits):
        return str(credits["reporting_currency"].iloc[0])
    return config.reporting_currency


def customer_names(ids: pd.Series, tables: Tables) -> np.ndarray:
    """Return each customer's name from the customers export ("" where unknown)."""
    cust = tables.customers
    names = np.full(len(ids), "", dtype=object)
    if len(cust) and "name" in cust:
        pos = row_positions(ids, cust["customer_id"])
        text = cust["name"].astype("str").fillna("").to_numpy(dtype=object)
        names[pos >= 0] = text[pos[pos >= 0]]
    return names


def invoice_mentions(wl: pd.DataFrame, code: np.ndarray, n: int) -> list[np.ndarray]:
    """Return three arrays of texts: each customer's first, second and third invoice in
    worklist order ("INV-1: 1,200.00 USD, 45 days past due"; "" where it has fewer)."""
    out = [np.full(n, "", dtype=object) for _ in range(3)]
    if not len(wl):
        return out
    order = np.argsort(code, kind="stable")
    sorted_code = code[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_code)) + 1]
    within = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    inv = text_or_empty(wl["invoice_id"])
    amount = wl["open_amount_reporting"].to_numpy(dtype="float64")
    ccy = text_or_empty(wl["reporting_currency"])
    dpd = wl["days_past_due"].to_numpy(dtype=np.int64)
    for k in range(3):
        rows = order[within == k]
        texts = [
            f"{inv[r]}: {amount[r]:,.2f} {ccy[r]}, "
            + (f"{dpd[r]} days past due" if dpd[r] > 0 else f"due in {-dpd[r]} days")
            for r in rows
        ]
        out[k][code[rows]] = texts
    return out


@dataclass(frozen=True, eq=False)
class CustomerFacts:
    """Per customer group, from the activities up to the day and the invoices' dispute flags.

    Attributes
    ----------
    owner : ndarray
        The owner of its latest collections activity (one naming an invoice) with an owner
        ("" where none).
    last_contact, last_contact_date : ndarray
        Its latest collections activity in words ('none' where none) and its day.
    promise : ndarray
        The :class:`~.collection_rules.Promise` status of its latest promise to pay.
    promised_day : ndarray
        That promise's day number (0 without a promise).
    promise_status : ndarray
        The promise in words ('none' without one).
    dispute : ndarray
        Whether one of its open invoices is in dispute.
    """

    owner: np.ndarray
    last_contact: np.ndarray
    last_contact_date: np.ndarray
    promise: np.ndarray
    promised_day: np.ndarray
    promise_status: np.ndarray
    dispute: np.ndarray


class _Activities:
    """The activities up to the day, each with its customer group (``code``, -1: none) and
    its invoice's worklist row (``invoice_row``, -1: not an open invoice).

    Rows are those activities in export order; ``at`` holds their positions in the export
    (no copy of the table is made, and text is read only for the rows a fact names).
    """

    def __init__(self, tables: Tables, wl: pd.DataFrame, code, distinct, day) -> None:
        self.frame = act = tables.activities
        known = (act["activity_date"] <= day).to_numpy(dtype=bool, na_value=False)
        self.at = np.flatnonzero(known)
        # each activity's customer: through its invoice when that invoice is open
        # (worklisted), else through its own customer id
        self.invoice_row = row_positions(act["invoice_id"], wl["invoice_id"])[self.at]
        cust_pos = row_positions(act["customer_id"], distinct)[self.at]
        inv_code = code[np.maximum(self.invoice_row, 0)] if len(code) else -1
        self.code = np.where(self.invoice_row >= 0, inv_code, cust_pos)
        self.names_invoice = act["invoice_id"].notna().to_numpy()[self.at]
        self.day = day_numbers(act["activity_date"])[self.at]
        self.has_owner = (act["owner"].fillna("") != "").to_numpy(dtype=bool)[self.at]

    def outcome_is(self, outcome: str) -> np.ndarray:
        """Return, per row, whether its outcome is ``outcome``."""
        hit = (self.frame["outcome"] == outcome).to_numpy(dtype=bool, na_value=False)
        return hit[self.at]

    def text(self, column: str, rows: np.ndarray) -> np.ndarray:
        """Return ``column``'s texts of ``rows`` as an object array ("" where missing)."""
        return text_or_empty(self.frame[column].iloc[self.at[rows]])

    def latest(self, subset: np.ndarray, n: int) -> np.ndarray:
        """Return, per customer group, the row of its latest activity among rows ``subset``
        (by date, then activity id), or -1."""
        act, pos = self.frame, self.at[subset]
        latest = latest_entry(
            self.code[subset], n, act["activity_date"].iloc[pos], act["activity_id"].iloc[pos]
        )
        return np.where(latest >= 0, subset[np.maximum(latest, 0)] if len(subset) else -1, -1)


def customer_facts(
    wl: pd.DataFrame, code: np.ndarray, n: int, distinct: pd.Series, tables: Tables, day
) -> CustomerFacts:
    """Return the :class:`CustomerFacts` of ``n`` customer groups (``code`` per worklist row,
    ``distinct`` their normalized ids) from the activities up to ``day``."""
    act = _Activities(tables, wl, code, distinct, day)
    # collections work: activities that name an invoice
    work = np.flatnonzero((act.code >= 0) & act.names_invoice)
    last = act.latest(work, n)
    last_contact = np.full(n, "none", dtype=object)
    last_contact_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    last_contact_date[last >= 0] = act.day[last[last >= 0]].astype("datetime64[D]")
    groups = np.flatnonzero(last >= 0)
    rows = last[groups]
    a_type, outcome, owner_of = (act.text(c, rows) for c in ("type", "outcome", "owner"))
    for g, a_day, kind, said, who in zip(
        groups, act.day[rows], a_type, outcome, owner_of, strict=True
    ):
        text = f"{day_text(a_day)} {kind}"
        if said:
            text += f": {said.replace('_', ' ')}"
        if who:
            text += f" ({who})"
        last_contact[g] = text
    latest_owner = act.latest(work[act.has_owner[work]], n)
    owner = np.full(n, "", dtype=object)
    owner[latest_owner >= 0] = act.text("owner", latest_owner[latest_owner >= 0])
    promise, promised_day, promise_status = _promises(act, n, day_number(day))
    return CustomerFacts(
        owner=owner,
        last_contact=last_contact,
        last_contact_date=last_contact_date,
        promise=promise,
        promised_day=promised_day,
        promise_status=promise_status,
        dispute=_disputes(act, wl, code, n, tables.invoices),
    )


def _promises(act: _Activities, n: int, today: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return per customer group its latest promise to pay (on one of its open invoices, or
    on the customer, no invoice named): the status, the promised day, and both in words."""
    promised = act.frame["promised_date"]
    is_promise = (
        act.outcome_is("promise_to_pay")
        & promised.notna().to_numpy()[act.at]
        & (act.code >= 0)
        & ((act.invoice_row >= 0) | ~act.names_invoice)
    )
    latest = act.latest(np.flatnonzero(is_promise), n)
    has_promise = latest >= 0
    promised_day = np.full(n, 0, dtype=np.int64)
    promised_day[has_promise] = day_numbers(promised.iloc[act.at[latest[has_promise]]])
    promise = rules.promise_status(has_promise, promised_day, today)
    words = np.full(n, "none", dtype=object)
    for g in np.flatnonzero(has_promise):
        on = day_text(promised_day[g])
        pending = promise[g] == Promise.PENDING
        words[g] = f"promised for {on} (pending)" if pending else f"promised for {on}: broken"
    return promise, promised_day, words


def _disputes(
    act: _Activities, wl: pd.DataFrame, code: np.ndarray, n: int, inv: pd.DataFrame
) -> np.ndarray:
    """Return per customer group whether it has a dispute activity on an open invoice, or an
    open invoice flagged disputed in the invoices export."""
    dispute = np.zeros(n, dtype=bool)
    on_open = act.outcome_is("dispute") & (act.invoice_row >= 0)
    dispute[act.code[on_open]] = True
    if len(wl) and len(inv):
        flagged = np.zeros(len(inv), dtype=bool)
        if "disputed" in inv:
            flagged |= inv["disputed"].to_numpy(dtype=bool, na_value=False)
        if "status" in inv:
            flagged |= (inv["status"] == "disputed").to_numpy(dtype=bool, na_value=False)
        pos = row_positions(wl["invoice_id"], inv["invoice_id"])
        hit = pos >= 0
        dispute[code[hit][flagged[pos[hit]]]] = True
    return dispute
