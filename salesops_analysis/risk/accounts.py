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

from ..config import Config
from ..metrics.receivables import Ledger
from ..metrics.tables import Tables
from . import collection_rules as rules
from .account_facts import (
    CustomerFacts,
    cents,
    credits_currency,
    customer_facts,
    customer_names,
    day_text,
    first_per_group,
    group_cents,
    invoice_mentions,
    open_credits,
    text_or_empty,
)
from .collection_rules import ACTION_TEXT, Action, DunningLadder, Promise
from .collectors import (
    CallCoverage,
    assign_collectors,
    call_coverage,
    calls_within_capacity,
    collector_calls,
    collector_load,
    customer_segments,
)
from .lookups import customer_codes

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


def account_worklist(
    worklist: pd.DataFrame,
    tables: Tables,
    config: Config | None,
    as_of,
    *,
    ledger: Ledger | None = None,
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
    ledger : Ledger, optional
        The :class:`~salesops_analysis.metrics.receivables.Ledger` of ``tables``' invoices and
        payments, reused for the open credit notes (built from ``tables`` if not given).

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
    credits = open_credits(tables, wl, day, config, ledger=ledger)
    g = _Customers.of(wl, credits)
    facts = customer_facts(wl, g.code, g.n, g.distinct, tables, day)
    ladder = DunningLadder.of(config.dunning)
    stage = ladder.stage(g.oldest)
    action = rules.account_next_action(
        in_dispute=facts.dispute,
        promise=facts.promise,
        overdue=g.oldest > 0,
        likely_late_before_due=g.likely_late_before_due,
    )
    next_action = _action_texts(action, stage, ladder, facts.promised_day)
    # a customer whose promise is not yet due is not called today (a dispute included)
    callable_ = (next_action != ACTION_TEXT[Action.NO_ACTION]) & (facts.promise != Promise.PENDING)
    groups = np.flatnonzero(g.present)
    order = groups[rules.account_order(g.ela_sum[groups], g.open_sum[groups], g.first[groups])]
    who = _identities(wl, g, credits, tables, config)
    stage_name = np.array(ladder.names, object)[stage]
    out = _account_frame(order, g, facts, who, stage_name, next_action, callable_, wl)
    return _with_collectors(out, facts.owner[order], who.owner_fallback[order], tables, config)


def _account_frame(
    order: np.ndarray,
    g: _Customers,
    facts: CustomerFacts,
    who: _Identity,
    stage_name: np.ndarray,
    next_action: np.ndarray,
    callable_: np.ndarray,
    wl: pd.DataFrame,
) -> pd.DataFrame:
    """Return the account list's columns (collectors still blank), customers in ``order``."""
    mention = invoice_mentions(wl, g.code, g.n)
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "customer_id": pd.Series(who.ids[order], dtype="str"),
            "customer_name": pd.Series(who.names[order], dtype="str"),
            "open_amount_reporting": np.round(g.open_sum[order], 2),
            "overdue_amount_reporting": np.round(g.overdue_sum[order], 2),
            "open_credits_reporting": g.credit_cents[order] / 100,
            "expected_late_amount": np.round(g.ela_sum[order], 2),
            "reporting_currency": pd.Series(who.currency[order], dtype="str"),
            "open_invoices": g.n_open[order],
            "overdue_invoices": g.n_overdue[order],
            "oldest_days_past_due": g.oldest[order],
            "dunning_stage": pd.Series(stage_name[order], dtype="str"),
            "promise_status": pd.Series(facts.promise_status[order], dtype="str"),
            "promise_pending": (facts.promise == Promise.PENDING)[order],
            "in_dispute": facts.dispute[order],
            "last_contact": pd.Series(facts.last_contact[order], dtype="str"),
            "last_contact_date": facts.last_contact_date[order],
            "collector": pd.Series("", index=range(len(order)), dtype="str"),
            "call_today": callable_[order],
            "next_action": pd.Series(next_action[order], dtype="str"),
            "invoice_1": pd.Series(mention[0][order], dtype="str"),
            "invoice_2": pd.Series(mention[1][order], dtype="str"),
            "invoice_3": pd.Series(mention[2][order], dtype="str"),
        }
    )


@dataclass(frozen=True, eq=False)
class _Customers:
    """The customers of the worklist's invoices and of the open credit notes, as groups (the
    last group holds rows without a customer id), with their totals."""

    both: pd.Series  # customer ids: the worklist's rows, then the credit notes'
    distinct: pd.Series
    code: np.ndarray  # group of each worklist row
    n: int
    first: np.ndarray  # first row in ``both`` (len(both): none)
    has_invoices: np.ndarray
    credit_cents: np.ndarray
    open_sum: np.ndarray  # open invoices and credit notes
    overdue_sum: np.ndarray
    ela_sum: np.ndarray  # NaN where no invoice has an expected late amount
    n_open: np.ndarray
    n_overdue: np.ndarray
    oldest: np.ndarray  # days past due of the oldest invoice (0: credit notes only)
    likely_late_before_due: np.ndarray

    @property
    def present(self) -> np.ndarray:
        """Return the groups with a row (a customer with an open balance)."""
        return self.first < len(self.both)

    @classmethod
    def of(cls, wl: pd.DataFrame, credits: pd.DataFrame) -> _Customers:
        """Return the customer groups of ``wl`` and ``credits``, and their totals."""
        # one code per customer over the worklist's invoices, then the open credit notes
        both = pd.concat(
            [wl["customer_id"].astype("str"), credits["customer_id"].astype("str")],
            ignore_index=True,
        )
        all_code, distinct = customer_codes(both)
        n = len(distinct) + 1  # the last group holds rows without a customer id
        all_code = np.where(all_code < 0, n - 1, all_code)
        code, credit_code = all_code[: len(wl)], all_code[len(wl) :]
        dpd = wl["days_past_due"].to_numpy(dtype=np.int64)
        open_r = wl["open_amount_reporting"].to_numpy(dtype="float64")
        ela = wl["expected_late_amount"].to_numpy(dtype="float64")
        overdue = dpd > 0
        credit_cents = group_cents(credit_code, credits["open_amount_reporting"], n)
        # without a model and any payment history the worklist has no expected late amount
        # (NaN) and is ranked by days past due × amount: so is the account list then, by its
        # first invoice
        has_ela = np.bincount(code[~np.isnan(ela)], minlength=n) > 0
        has_invoices = np.bincount(code, minlength=n) > 0
        oldest = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(oldest, code, dpd)
        oldest[~has_invoices] = 0  # only credit notes open
        likely_late = np.zeros(n, dtype=bool)
        prob = wl["probability"].to_numpy(dtype="float64")
        np.logical_or.at(likely_late, code, rules.likely_late_before_due(dpd, prob))
        return cls(
            both=both,
            distinct=distinct,
            code=code,
            n=n,
            first=first_per_group(all_code, n),  # a worklist row where the customer has one
            has_invoices=has_invoices,
            credit_cents=credit_cents,
            open_sum=(group_cents(code, open_r, n) + credit_cents) / 100,
            overdue_sum=group_cents(code[overdue], open_r[overdue], n) / 100,
            ela_sum=np.where(has_ela, group_cents(code, ela, n) / 100, np.nan),
            n_open=np.bincount(code, minlength=n),
            n_overdue=np.bincount(code[overdue], minlength=n),
            oldest=oldest,
            likely_late_before_due=likely_late,
        )


def _action_texts(
    action: np.ndarray, stage: np.ndarray, ladder: DunningLadder, promised_day: np.ndarray
) -> np.ndarray:
    """Return each customer's :class:`~.collection_rules.Action` in words."""
    texts = np.array([ACTION_TEXT.get(a, "") for a in Action], dtype=object)[action]
    at_stage = action == Action.DUNNING_STAGE
    texts[at_stage] = np.array(ladder.actions, dtype=object)[stage[at_stage]]
    for i in np.flatnonzero(action == Action.WAIT_FOR_PROMISE):
        texts[i] = f"wait for the promised payment ({day_text(promised_day[i])})"
    return texts


@dataclass(frozen=True, eq=False)
class _Identity:
    """Per customer group: its id, name, owner on the invoice worklist ('unassigned' without
    one) and reporting currency."""

    ids: np.ndarray
    names: np.ndarray
    owner_fallback: np.ndarray
    currency: np.ndarray


def _identities(
    wl: pd.DataFrame, g: _Customers, credits: pd.DataFrame, tables: Tables, config: Config
) -> _Identity:
    """Return the :class:`_Identity` of every customer group."""
    n, first, both = g.n, g.first, g.both
    at = np.minimum(first, len(both) - 1)  # each group's first row
    on_list = g.has_invoices & (first < len(wl))
    ids = both.fillna("").to_numpy(dtype=object)[at] if len(both) else np.full(n, "", object)
    names = np.full(n, "", dtype=object)
    owner_fallback = np.full(n, "unassigned", dtype=object)
    currency = np.full(n, credits_currency(credits, config), dtype=object)
    if len(wl):
        row = np.minimum(first, len(wl) - 1)
        names[on_list] = text_or_empty(wl["customer_name"])[row[on_list]]
        owner_fallback[on_list] = text_or_empty(wl["owner"])[row[on_list]]
        currency[on_list] = text_or_empty(wl["reporting_currency"])[row[on_list]]
    unnamed = np.flatnonzero(g.present & (names == ""))
    if len(unnamed):  # customers with only credit notes open: names from the export
        names[unnamed] = customer_names(pd.Series(ids[unnamed], dtype="str"), tables)
    return _Identity(ids, names, owner_fallback, currency)


def _with_collectors(
    out: pd.DataFrame,
    owner: np.ndarray,
    owner_fallback: np.ndarray,
    tables: Tables,
    config: Config,
) -> pd.DataFrame:
    """Return the account list with each customer's collector, and today's calls within each
    collector's capacity (``owner``: its latest collections activity's, rank order)."""
    if config.collectors:
        segment, country = customer_segments(out["customer_id"], tables)
        collector = assign_collectors(
            # balance the expected late amount; the open amount where there is none
            out["expected_late_amount"].fillna(out["open_amount_reporting"]).to_numpy(),
            owner,
            segment,
            country,
            config.collectors,
        )
        out["collector"] = pd.Series(collector, dtype="str")
        out["call_today"] = calls_within_capacity(
            out["collector"].to_numpy(dtype=object), out["call_today"].to_numpy(), config
        )
    else:
        out["collector"] = pd.Series(np.where(owner == "", owner_fallback, owner), dtype="str")
    return out[ACCOUNT_COLUMNS]


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
        row[c] = float(cents(rest[c]).sum()) / 100
    for c in ("open_invoices", "overdue_invoices"):
        row[c] = int(rest[c].sum())
    row["reporting_currency"] = rest["reporting_currency"].iloc[0]
    flags = [c for c in accounts.columns if pd.api.types.is_bool_dtype(accounts[c])]
    row.update(dict.fromkeys(flags, False))
    others = pd.DataFrame([row], columns=accounts.columns).astype(dict.fromkeys(flags, bool))
    out = pd.concat([top, others], ignore_index=True)
    out["rank"] = out["rank"].astype("float64")  # the sum row has no rank
    return out
