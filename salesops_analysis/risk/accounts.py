"""Collections by account: one row per customer, one collector each, today's calls.

Collectors call customers, not invoices. :func:`account_worklist` turns the invoice worklist
(:func:`~salesops_analysis.risk.worklist.worklist`) into one row per customer with an open
balance, ranked by the customer's expected late amount (the sum over its invoices), and decides
for every customer:

* **promise status**: the customer's latest promise to pay (on one of its open invoices, or on
  the customer itself) up to the as-of date: *pending* while the promised date is today or
  later, *broken* once it has passed;
* **dispute**: an open invoice with a ``dispute`` activity up to the as-of date, or flagged
  disputed in the invoices export;
* **next action**, the first that applies: resolve the dispute; wait for the promised payment;
  call about the broken promise; the action of the most advanced dunning stage; a courtesy call
  when nothing is due yet but an invoice is more likely late than not; else no action;
* **collector**: the owner of the customer's latest collections activity (one naming an
  invoice) when there is one and, with ``collectors:`` configured, that owner is one of them;
  else (with ``collectors:``) the covering collector with the smallest expected late amount
  per call of capacity so far, customers taken largest first; else (without) the invoice
  worklist's owner of its first invoice (its sales rep, or ``unassigned``);
* **call today**: each collector's callable customers (next action neither "no action yet" nor
  waiting for a promise), top ranked first, up to the collector's capacity; without
  ``collectors:``, every callable customer.

A customer's open amount is its invoices' open amounts on the worklist plus its open credit
notes (credits not applied to an invoice, which the invoice worklist does not chase), summed in
whole cents: the customers' open amounts add up exactly to the AR open balance (the collections
report's ``ar_open``). A customer with only credit notes open has a row, and nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import Collector, Config
from ..metrics.days import day_number, day_numbers
from ..metrics.receivables import CENT, Ledger, isin_ids, rate_factors, row_positions
from ..metrics.tables import Tables
from .worklist import ACTION_BY_STAGE, _customer_codes, _latest

__all__ = [
    "ACCOUNT_COLUMNS",
    "CallCoverage",
    "account_worklist",
    "accounts_for_sheet",
    "open_credits",
    "assign_collectors",
    "call_coverage",
    "collector_calls",
    "collector_load",
]

ACCOUNT_COLUMNS = [
    "rank",
    "customer_id",
    "customer_name",
    "open_amount_reporting",
    "overdue_amount_reporting",
    "open_credits_reporting",
    "expected_late_amount",
    "reporting_currency",
    "open_invoices",
    "overdue_invoices",
    "oldest_days_past_due",
    "dunning_stage",
    "promise_status",
    "promise_pending",
    "in_dispute",
    "last_contact",
    "last_contact_date",
    "collector",
    "call_today",
    "next_action",
    "invoice_1",
    "invoice_2",
    "invoice_3",
]

DISPUTE_ACTION = "resolve the dispute before chasing payment"
BROKEN_ACTION = "call: the promise to pay was broken"
COURTESY_ACTION = "courtesy call before the due date"
NO_ACTION = "no action yet"


def _day_text(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def _cents(values) -> np.ndarray:
    """Return amounts in whole cents (a missing amount counts 0)."""
    return np.round(np.nan_to_num(np.asarray(values, dtype="float64")) * 100).astype(np.int64)


def _group_cents(code: np.ndarray, values, n: int) -> np.ndarray:
    """Return the per-group sum of amounts in whole cents (exact)."""
    cents = np.zeros(n, dtype=np.int64)
    np.add.at(cents, code, _cents(values))
    return cents


def open_credits(tables: Tables, worklist: pd.DataFrame, as_of, config: Config) -> pd.DataFrame:
    """Return the open credit notes at the end of ``as_of`` that are not on ``worklist``:
    ``customer_id``, ``invoice_id``, ``open_amount_reporting`` (negative) and
    ``reporting_currency``. The worklist's open amounts plus these make the AR open balance.
    """
    inv = tables.invoices
    columns = ["customer_id", "invoice_id", "open_amount_reporting", "reporting_currency"]
    if not len(inv):
        return pd.DataFrame({c: pd.Series(dtype="float64" if "amount" in c else "str")
                             for c in columns})  # fmt: skip
    led = Ledger(inv, tables.payments)
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


def _customer_names(ids: pd.Series, tables: Tables) -> np.ndarray:
    """Return each customer's name from the customers export ("" where unknown)."""
    cust = tables.customers
    names = np.full(len(ids), "", dtype=object)
    if len(cust) and "name" in cust:
        pos = row_positions(ids, cust["customer_id"])
        text = cust["name"].astype("str").fillna("").to_numpy(dtype=object)
        names[pos >= 0] = text[pos[pos >= 0]]
    return names


def _first_per_group(code: np.ndarray, n: int) -> np.ndarray:
    """Return the first row position of each of ``n`` groups (rows are in rank order)."""
    first = np.full(n, len(code), dtype=np.int64)
    np.minimum.at(first, code, np.arange(len(code)))
    return first


def _text_or_empty(values: pd.Series) -> np.ndarray:
    return values.astype("str").fillna("").to_numpy(dtype=object)


def account_worklist(
    worklist: pd.DataFrame,
    tables: Tables,
    config: Config | None,
    as_of,
) -> pd.DataFrame:
    """Return one row per customer with an open balance, ranked by expected late amount.

    Parameters
    ----------
    worklist : DataFrame
        The invoice worklist at ``as_of`` (:func:`~salesops_analysis.risk.worklist.worklist`:
        ``customer_id``, ``customer_name``, ``invoice_id``, ``open_amount_reporting``,
        ``reporting_currency``, ``days_past_due``, ``probability``, ``expected_late_amount``,
        ``owner``), in its rank order.
    tables : Tables
        The canonical tables (open credit notes from invoices and payments, activities,
        customers' names, segment and country, invoices' dispute flag).
    config : Config or None
        ``dunning`` (stages), ``collectors``; ``None``: the built-in defaults.
    as_of : date-like
        The worklist's day: activities after it are not seen.

    Returns
    -------
    DataFrame
        :data:`ACCOUNT_COLUMNS`: ``rank``, ids and name, open (net of open credit notes),
        overdue, open credit notes and expected late amounts (reporting currency), invoice
        counts, ``oldest_days_past_due``,
        ``dunning_stage`` (the most advanced of its invoices), ``promise_status``,
        ``promise_pending``, ``in_dispute``, ``last_contact`` (text) and
        ``last_contact_date``, ``collector``, ``call_today`` (bool),
        ``next_action`` and ``invoice_1..3`` (the first three of its invoices in worklist
        order, with their open amount and days past due).

    Examples
    --------
    >>> wl = pd.DataFrame({"customer_id": ["C1", "C2", "C1"], "customer_name": ["A", "B", "A"],
    ...     "invoice_id": ["I1", "I2", "I3"], "open_amount_reporting": [100.0, 50.0, 10.0],
    ...     "reporting_currency": ["USD"] * 3, "days_past_due": [20, 5, -3],
    ...     "probability": [0.8, 0.4, 0.1], "expected_late_amount": [80.0, 20.0, 1.0],
    ...     "owner": ["Ann", "Bob", "Ann"]})
    >>> acc = account_worklist(wl, Tables(), Config(), "2025-06-30")
    >>> acc[["customer_id", "open_amount_reporting", "open_invoices", "dunning_stage"]].values
    array([['C1', 110.0, 2, 'call'],
           ['C2', 50.0, 1, 'reminder']], dtype=object)
    """
    config = config or Config()
    day = pd.Timestamp(as_of).normalize()
    wl = worklist.reset_index(drop=True)
    credits = open_credits(tables, wl, day, config)
    # one code per customer over the worklist's invoices, then the open credit notes
    both = pd.concat(
        [wl["customer_id"].astype("str"), credits["customer_id"].astype("str")], ignore_index=True
    )
    all_code, distinct = _customer_codes(both)
    n = len(distinct) + 1  # the last group holds rows without a customer id
    all_code = np.where(all_code < 0, n - 1, all_code)
    code, credit_code = all_code[: len(wl)], all_code[len(wl) :]
    dpd = wl["days_past_due"].to_numpy(dtype=np.int64)
    open_r = wl["open_amount_reporting"].to_numpy(dtype="float64")
    ela = wl["expected_late_amount"].to_numpy(dtype="float64")
    overdue = dpd > 0
    first = _first_per_group(all_code, n)  # a worklist row where the customer has one
    has_invoices = np.bincount(code, minlength=n) > 0
    present = first < len(both)

    credit_cents = _group_cents(credit_code, credits["open_amount_reporting"], n)
    open_sum = (_group_cents(code, open_r, n) + credit_cents) / 100
    overdue_sum = _group_cents(code[overdue], open_r[overdue], n) / 100
    # without a model and any payment history the worklist has no expected late amount (NaN)
    # and is ranked by days past due × amount: so is the account list then, by its first invoice
    has_ela = np.bincount(code[~np.isnan(ela)], minlength=n) > 0
    ela_sum = np.where(has_ela, _group_cents(code, ela, n) / 100, np.nan)
    n_open = np.bincount(code, minlength=n)
    n_overdue = np.bincount(code[overdue], minlength=n)
    oldest = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(oldest, code, dpd)
    oldest[~has_invoices] = 0  # only credit notes open
    likely_late_not_due = np.zeros(n, dtype=bool)
    prob = wl["probability"].to_numpy(dtype="float64")
    np.logical_or.at(likely_late_not_due, code, (dpd <= 0) & (prob >= 0.5))

    ladder = sorted(config.dunning, key=lambda s: s["from_days"])
    starts = np.array([s["from_days"] for s in ladder])
    stage_names = [str(s["stage"]) for s in ladder]
    stage_idx = np.maximum(np.searchsorted(starts, oldest, side="right") - 1, 0)

    facts = _customer_facts(wl, code, n, distinct, tables, day)

    # next action: the first rule that applies, as in the invoice worklist
    stage_arr = np.array(stage_names, dtype=object)
    stage_action = np.array([ACTION_BY_STAGE.get(s, s) for s in stage_names], dtype=object)
    pending, broken, dispute = facts["pending"], facts["broken"], facts["dispute"]
    wait = np.full(n, "", dtype=object)
    for i in np.flatnonzero(pending):
        wait[i] = f"wait for the promised payment ({_day_text(facts['promised_day'][i])})"
    overdue_now = oldest > 0
    next_action = np.select(
        [dispute, pending, broken, overdue_now, likely_late_not_due],
        [DISPUTE_ACTION, wait, BROKEN_ACTION, stage_action[stage_idx], COURTESY_ACTION],
        NO_ACTION,
    ).astype(object)
    # a customer whose promise is not yet due is not called today (a dispute included)
    callable_ = (next_action != NO_ACTION) & ~pending

    # rank: expected late amount, then open amount, both descending; ties by worklist order
    groups = np.flatnonzero(present)
    if has_ela.any():
        ela_key = np.nan_to_num(ela_sum[groups])
        order = groups[np.lexsort((first[groups], -open_sum[groups], -ela_key))]
    else:
        order = groups[np.argsort(first[groups], kind="stable")]

    at = np.minimum(first, len(both) - 1)  # each group's first row
    on_list = has_invoices & (first < len(wl))
    ids = both.fillna("").to_numpy(dtype=object)[at] if len(both) else np.full(n, "", object)
    names = np.full(n, "", dtype=object)
    owner_fallback = np.full(n, "unassigned", dtype=object)
    currency = np.full(n, credits_currency(credits, config), dtype=object)
    if len(wl):
        row = np.minimum(first, len(wl) - 1)
        names[on_list] = _text_or_empty(wl["customer_name"])[row[on_list]]
        owner_fallback[on_list] = _text_or_empty(wl["owner"])[row[on_list]]
        currency[on_list] = _text_or_empty(wl["reporting_currency"])[row[on_list]]
    unnamed = np.flatnonzero(present & (names == ""))
    if len(unnamed):  # customers with only credit notes open: names from the export
        names[unnamed] = _customer_names(pd.Series(ids[unnamed], dtype="str"), tables)
    mention = _mentions(wl, code, n)

    out = pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "customer_id": pd.Series(ids[order], dtype="str"),
            "customer_name": pd.Series(names[order], dtype="str"),
            "open_amount_reporting": np.round(open_sum[order], 2),
            "overdue_amount_reporting": np.round(overdue_sum[order], 2),
            "open_credits_reporting": credit_cents[order] / 100,
            "expected_late_amount": np.round(ela_sum[order], 2),
            "reporting_currency": pd.Series(currency[order], dtype="str"),
            "open_invoices": n_open[order],
            "overdue_invoices": n_overdue[order],
            "oldest_days_past_due": oldest[order],
            "dunning_stage": pd.Series(stage_arr[stage_idx][order], dtype="str"),
            "promise_status": pd.Series(facts["promise_status"][order], dtype="str"),
            "promise_pending": pending[order],
            "in_dispute": facts["dispute"][order],
            "last_contact": pd.Series(facts["last_contact"][order], dtype="str"),
            "last_contact_date": facts["last_contact_date"][order],
            "collector": pd.Series("", index=range(len(order)), dtype="str"),
            "call_today": callable_[order],
            "next_action": pd.Series(next_action[order], dtype="str"),
            "invoice_1": pd.Series(mention[0][order], dtype="str"),
            "invoice_2": pd.Series(mention[1][order], dtype="str"),
            "invoice_3": pd.Series(mention[2][order], dtype="str"),
        }
    )
    owner = facts["owner"][order]
    if config.collectors:
        segment, country = _segments(out["customer_id"], tables)
        collector = assign_collectors(
            # balance the expected late amount; the open amount where there is none
            out["expected_late_amount"].fillna(out["open_amount_reporting"]).to_numpy(),
            owner,
            segment,
            country,
            config.collectors,
        )
        out["collector"] = pd.Series(collector, dtype="str")
        out["call_today"] = _calls_within_capacity(
            out["collector"].to_numpy(dtype=object), out["call_today"].to_numpy(), config
        )
    else:
        out["collector"] = pd.Series(
            np.where(owner == "", owner_fallback[order], owner), dtype="str"
        )
    return out[ACCOUNT_COLUMNS]


def _mentions(wl: pd.DataFrame, code: np.ndarray, n: int) -> list[np.ndarray]:
    """Return three arrays of texts: each customer's first, second and third invoice in
    worklist order ("INV-1: 1,200.00 USD, 45 days past due"; "" where it has fewer)."""
    out = [np.full(n, "", dtype=object) for _ in range(3)]
    if not len(wl):
        return out
    order = np.argsort(code, kind="stable")
    sorted_code = code[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_code)) + 1]
    within = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    inv = _text_or_empty(wl["invoice_id"])
    amount = wl["open_amount_reporting"].to_numpy(dtype="float64")
    ccy = _text_or_empty(wl["reporting_currency"])
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


def _customer_facts(
    wl: pd.DataFrame, code: np.ndarray, n: int, distinct: pd.Series, tables: Tables, day
) -> dict[str, np.ndarray]:
    """Return per customer group: owner, last contact text, promise (pending, broken, day,
    text) and dispute, from the activities up to ``day`` and the invoices' dispute flags."""
    today = day_number(day)
    act = tables.activities
    known = (act["activity_date"] <= day).to_numpy(dtype=bool, na_value=False)
    act = act.loc[known].reset_index(drop=True)
    # each activity's customer: through its invoice when that invoice is open (worklisted),
    # else through its own customer id
    inv_pos = row_positions(act["invoice_id"], wl["invoice_id"])
    cust_pos = row_positions(act["customer_id"], distinct)
    a_code = np.where(inv_pos >= 0, code[np.maximum(inv_pos, 0)] if len(code) else -1, cust_pos)
    names_invoice = act["invoice_id"].notna().to_numpy()
    outcome = act["outcome"].astype("str").fillna("").to_numpy(dtype=object)
    # collections work: activities that name an invoice
    work = np.flatnonzero((a_code >= 0) & names_invoice)
    last = _latest_of(work, a_code, n, act)
    a_day = day_numbers(act["activity_date"])
    a_type = act["type"].astype("str").fillna("").to_numpy(dtype=object)
    a_owner = act["owner"].astype("str").fillna("").to_numpy(dtype=object)
    last_contact = np.full(n, "none", dtype=object)
    last_contact_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    last_contact_date[last >= 0] = a_day[last[last >= 0]].astype("datetime64[D]")
    for g in np.flatnonzero(last >= 0):
        i = last[g]
        text = f"{_day_text(a_day[i])} {a_type[i]}"
        if outcome[i]:
            text += f": {outcome[i].replace('_', ' ')}"
        if a_owner[i]:
            text += f" ({a_owner[i]})"
        last_contact[g] = text
    latest_owner = _latest_of(work[a_owner[work] != ""], a_code, n, act)
    owner = np.full(n, "", dtype=object)
    owner[latest_owner >= 0] = a_owner[latest_owner[latest_owner >= 0]]
    # promises: on one of its open invoices, or on the customer (no invoice named)
    is_promise = (
        (outcome == "promise_to_pay")
        & act["promised_date"].notna().to_numpy()
        & (a_code >= 0)
        & ((inv_pos >= 0) | ~names_invoice)
    )
    latest_promise = _latest_of(np.flatnonzero(is_promise), a_code, n, act)
    has_promise = latest_promise >= 0
    promised_day = np.full(n, 0, dtype=np.int64)
    promised_day[has_promise] = day_numbers(act["promised_date"])[latest_promise[has_promise]]
    pending = has_promise & (promised_day >= today)
    broken = has_promise & ~pending
    promise_status = np.full(n, "none", dtype=object)
    for g in np.flatnonzero(has_promise):
        on = _day_text(promised_day[g])
        promise_status[g] = (
            f"promised for {on} (pending)" if pending[g] else f"promised for {on}: broken"
        )
    # dispute: a dispute activity on an open invoice, or an open invoice flagged disputed
    dispute = np.zeros(n, dtype=bool)
    on_open = (outcome == "dispute") & (inv_pos >= 0)
    dispute[a_code[on_open]] = True
    inv = tables.invoices
    if len(wl) and len(inv):
        flagged = np.zeros(len(inv), dtype=bool)
        if "disputed" in inv:
            flagged |= inv["disputed"].to_numpy(dtype=bool, na_value=False)
        if "status" in inv:
            flagged |= (inv["status"] == "disputed").to_numpy(dtype=bool, na_value=False)
        pos = row_positions(wl["invoice_id"], inv["invoice_id"])
        hit = pos >= 0
        dispute[code[hit][flagged[pos[hit]]]] = True
    return {
        "owner": owner,
        "last_contact": last_contact,
        "last_contact_date": last_contact_date,
        "pending": pending,
        "broken": broken,
        "promised_day": promised_day,
        "promise_status": promise_status,
        "dispute": dispute,
    }


def _latest_of(subset: np.ndarray, a_code: np.ndarray, n: int, act: pd.DataFrame) -> np.ndarray:
    """Return, per customer group, the row of its latest activity among rows ``subset`` (by
    date, then activity id), or -1."""
    latest = _latest(
        a_code[subset], n, act["activity_date"].iloc[subset], act["activity_id"].iloc[subset]
    )
    return np.where(latest >= 0, subset[np.maximum(latest, 0)] if len(subset) else -1, -1)


def _segments(customer_ids: pd.Series, tables: Tables) -> tuple[np.ndarray, np.ndarray]:
    """Return each customer's segment and country from the customers export ("" unknown),
    lower-cased."""
    cust = tables.customers
    out = []
    pos = row_positions(customer_ids, cust["customer_id"]) if len(cust) else None
    for column in ("segment", "country"):
        values = np.full(len(customer_ids), "", dtype=object)
        if pos is not None and column in cust:
            hit = pos >= 0
            text = cust[column].astype("str").fillna("").str.strip().str.lower()
            values[hit] = text.to_numpy(dtype=object)[pos[hit]]
        out.append(values)
    return out[0], out[1]


def _covers(c: Collector, segment: str, country: str) -> bool:
    segments = {s.lower() for s in c.segments}
    countries = {s.lower() for s in c.countries}
    return (not segments or segment in segments) and (not countries or country in countries)


def assign_collectors(
    expected_late_amount: np.ndarray,
    owner: np.ndarray,
    segment: np.ndarray,
    country: np.ndarray,
    collectors: list[Collector],
) -> np.ndarray:
    """Return one collector name per customer (customers in rank order).

    A customer whose current ``owner`` is one of the ``collectors`` (names compared ignoring
    case) stays with them. Every other customer, largest expected late amount first, goes to
    the collector covering its segment and country (every collector, when none covers it) whose
    expected late amount per call of daily capacity is lowest with it added (ties: the
    collector listed first). Balancing per call of capacity gives a collector with twice the
    capacity about twice the amount; a collector with capacity 0 gets new customers only when
    no other covers them.
    """
    names = [c.name for c in collectors]
    by_name = {c.name.lower(): i for i, c in enumerate(collectors)}
    n = len(expected_late_amount)
    chosen = np.full(n, -1, dtype=np.int64)
    owner_key = [str(o).strip().lower() for o in owner]
    for i, key in enumerate(owner_key):
        chosen[i] = by_name.get(key, -1)
    load = np.zeros(len(collectors))
    np.add.at(load, chosen[chosen >= 0], expected_late_amount[chosen >= 0])
    # capacity 0 weighs as a tiny capacity: chosen only when nobody else covers the customer
    per_call = np.array([max(c.capacity, 1e-9) for c in collectors], dtype="float64")
    eligible_sets: dict[tuple[str, str], list[int]] = {}
    todo = np.flatnonzero(chosen < 0)
    todo = todo[np.argsort(-expected_late_amount[todo], kind="stable")]
    for i in todo:  # greedy: largest first, to the least loaded covering collector
        key = (segment[i], country[i])
        if key not in eligible_sets:
            covering = [j for j, c in enumerate(collectors) if _covers(c, *key)]
            eligible_sets[key] = covering or list(range(len(collectors)))
        amount = expected_late_amount[i]
        best = min(eligible_sets[key], key=lambda j: ((load[j] + amount) / per_call[j], j))
        chosen[i] = best
        load[best] += amount
    return np.array([names[j] for j in chosen], dtype=object)


def _calls_within_capacity(
    collector: np.ndarray, callable_: np.ndarray, config: Config
) -> np.ndarray:
    """Return ``callable_`` kept only for each collector's first ``capacity`` callable
    customers (rows in rank order)."""
    capacity = {c.name: c.capacity for c in config.collectors}
    out = np.zeros(len(collector), dtype=bool)
    if not len(collector):
        return out
    rows = np.flatnonzero(callable_)
    frame = pd.DataFrame({"collector": collector[rows]})
    nth = frame.groupby("collector", sort=False).cumcount().to_numpy()
    limit = np.array([capacity.get(c, 0) for c in collector[rows]], dtype=np.int64)
    out[rows[nth < limit]] = True
    return out


def accounts_for_sheet(accounts: pd.DataFrame, limit: int) -> pd.DataFrame:
    """Return the first ``limit`` customers, and when there are more, one last row that sums
    the others (``customer_name`` says how many), so the sheet still adds up to the total.
    """
    if len(accounts) <= limit:
        return accounts
    top, rest = accounts.iloc[:limit], accounts.iloc[limit:]
    row = {c: None for c in accounts.columns}
    row["customer_name"] = f"the other {len(rest):,} customers (see the invoice worklist)"
    amounts = [c for c in accounts.columns if c.endswith("_reporting") or c.startswith("expected")]
    for c in amounts:
        row[c] = float(_cents(rest[c]).sum()) / 100
    for c in ("open_invoices", "overdue_invoices"):
        row[c] = int(rest[c].sum())
    row["reporting_currency"] = rest["reporting_currency"].iloc[0]
    flags = [c for c in accounts.columns if pd.api.types.is_bool_dtype(accounts[c])]
    row.update(dict.fromkeys(flags, False))
    others = pd.DataFrame([row], columns=accounts.columns).astype(dict.fromkeys(flags, bool))
    out = pd.concat([top, others], ignore_index=True)
    out["rank"] = out["rank"].astype("float64")  # the sum row has no rank
    return out


def collector_calls(accounts: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Return each collector's calls for the day (``call_today`` rows, in rank order), by
    collector name in order of first appearance."""
    calls = accounts.loc[accounts["call_today"].to_numpy(dtype=bool)]
    return {
        str(name): frame.reset_index(drop=True)
        for name, frame in calls.groupby("collector", sort=False)
    }


def collector_load(accounts: pd.DataFrame, config: Config | None = None) -> pd.DataFrame:
    """Return per collector: capacity (NaN without ``collectors:``), customers, expected late
    amount, calls today and the expected late amount those calls cover."""
    config = config or Config()
    called = accounts["call_today"].to_numpy(dtype=bool)
    frame = pd.DataFrame(
        {
            "collector": accounts["collector"],
            "customers": 1,
            "expected_late_amount": accounts["expected_late_amount"],
            "calls_today": called.astype(np.int64),
            "expected_late_amount_called": np.where(called, accounts["expected_late_amount"], 0.0),
        }
    )
    table = frame.groupby("collector", sort=False).sum().reset_index()
    if config.collectors:
        names = pd.DataFrame(
            {
                "collector": [c.name for c in config.collectors],
                "capacity": [c.capacity for c in config.collectors],
            }
        )
        table = names.merge(table, on="collector", how="left")
        table = table.fillna(
            {
                "customers": 0,
                "expected_late_amount": 0.0,
                "calls_today": 0,
                "expected_late_amount_called": 0.0,
            }
        )
    else:
        table.insert(1, "capacity", np.nan)
    table["customers"] = table["customers"].astype(np.int64)
    table["calls_today"] = table["calls_today"].astype(np.int64)
    for c in ("expected_late_amount", "expected_late_amount_called"):
        table[c] = table[c].round(2)
    return table.sort_values("expected_late_amount", ascending=False, kind="stable").reset_index(
        drop=True
    )


@dataclass(frozen=True)
class CallCoverage:
    """How much of the expected late amount (or, without one, the overdue amount) today's
    calls reach."""

    customers: int
    calls: int
    measure: str  # "expected late amount" or "overdue amount"
    total: float
    called: float

    @property
    def share(self) -> float:
        """Return the share of the total held by the customers called today."""
        return self.called / self.total if self.total > 0 else 0.0

    def sentence(self, currency: str = "") -> str:
        """Return the coverage in words, for the collections report."""
        unit = f" {currency}" if currency else ""
        calls = "call reaches" if self.calls == 1 else "calls reach"
        return (
            f"Today's {self.calls:,} {calls} {self.called:,.0f}{unit} of the "
            f"{self.total:,.0f}{unit} {self.measure} ({self.share:.0%}) across "
            f"{self.customers:,} customers with an open balance."
        )


def call_coverage(accounts: pd.DataFrame) -> CallCoverage:
    """Return the expected late amount covered by today's calls against the total (the
    overdue amount when the worklist has no expected late amount)."""
    called = accounts["call_today"].to_numpy(dtype=bool)
    ela = accounts["expected_late_amount"].to_numpy(dtype="float64")
    measure, column = "expected late amount", "expected_late_amount"
    if len(ela) and np.isnan(ela).all():
        measure, column = "overdue amount", "overdue_amount_reporting"
    amount = accounts[column].to_numpy(dtype="float64")
    return CallCoverage(
        customers=len(accounts),
        calls=int(called.sum()),
        measure=measure,
        total=round(float(_cents(amount).sum()) / 100, 2),
        called=round(float(_cents(amount[called]).sum()) / 100, 2),
    )
