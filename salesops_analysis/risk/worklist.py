"""The collections worklist: the scored open invoices, ranked, with what to do about each.

:func:`worklist` takes the scores (:mod:`.scores`) and adds what the collector needs beside
each invoice: the customer's name, the dunning stage, the promise status, the last activity,
the owner and the next action, decided by the collections rules (:mod:`.collection_rules`),
then ranks the invoices. The text columns are built by Arrow over whole columns (:mod:`.texts`):
a worklist of a million invoices takes seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..config import Config
from ..metrics.days import day_number, day_numbers
from ..metrics.ids import row_positions
from ..metrics.tables import Tables
from . import collection_rules as rules
from .collection_rules import ACTION_BY_STAGE, ACTION_TEXT, Action, DunningLadder, Promise
from .lookups import customer_codes, latest_entry, latest_rep
from .model import TrainedModel
from .scores import (
    BASELINE_DAYS_PAST_DUE,
    BASELINE_LATE_SHARE,
    ScoredInvoices,
    open_not_scored,
    score_by_baseline,
    score_open_invoices,
    scored_features,
    scored_knowledge,
)
from .texts import TEXT, as_text, code_text, date_text, join_text, select_text, take, text_column

__all__ = [
    "ACTION_BY_STAGE",
    "BASELINE_DAYS_PAST_DUE",
    "BASELINE_LATE_SHARE",
    "WORKLIST_COLUMNS",
    "ScoredInvoices",
    "open_not_scored",
    "score_by_baseline",
    "score_open_invoices",
    "scored_features",
    "scored_knowledge",
    "worklist",
]

WORKLIST_COLUMNS = [
    "rank",
    "customer_id",
    "customer_name",
    "invoice_id",
    "invoice_date",
    "due_date",
    "open_amount",
    "currency",
    "open_amount_reporting",
    "reporting_currency",
    "days_past_due",
    "dunning_stage",
    "score_kind",
    "probability",
    "expected_late_amount",
    "reason_1",
    "reason_2",
    "reason_3",
    "promise_status",
    "last_activity",
    "owner",
    "next_action",
]


def worklist(
    model: TrainedModel | None,
    tables: Tables,
    as_of,
    config: Config | None = None,
    *,
    scored: ScoredInvoices | None = None,
) -> pd.DataFrame:
    """Return the collections worklist at ``as_of``: open invoices ranked by expected late
    amount, with dunning stage, promise status, last activity, owner and next action.

    ``scored`` reuses a :func:`score_open_invoices` (or :func:`score_by_baseline`, with
    ``model`` ``None``) result for the same day.
    """
    config = config or Config()
    if scored is None and model is None:
        scored = score_by_baseline(tables, as_of, config)
    elif scored is None:
        scored = score_open_invoices(model, tables, as_of, config)
    inv = scored.invoices
    day = pd.Timestamp(as_of).normalize()
    ladder = DunningLadder.of(config.dunning)
    days_past_due = inv["days_past_due"].to_numpy()
    stage = ladder.stage(days_past_due)
    work = _invoice_activities(tables.activities, inv["invoice_id"], day)
    promise, promised_text = _latest_promise(work, len(inv), day)
    action = rules.invoice_next_action(
        in_dispute=scored.features["dispute_known"].to_numpy() > 0,
        promise=promise,
        likely_late_before_due=rules.likely_late_before_due(
            days_past_due, inv["probability"].to_numpy()
        ),
    )
    code, distinct = customer_codes(inv["customer_id"])
    out = inv.assign(
        customer_name=text_column(_customer_names(tables.customers, code, distinct)),
        dunning_stage=code_text(stage, ladder.names),
        promise_status=text_column(_promise_texts(promise, promised_text)),
        last_activity=text_column(_last_activity_texts(work)),
        owner=text_column(_owners(work, tables.orders, code, distinct)),
        next_action=text_column(_action_texts(action, stage, ladder, promised_text)),
    )
    order = rules.worklist_order(
        out["expected_late_amount"].to_numpy(dtype=np.float64),
        out["open_amount_reporting"].to_numpy(),
        days_past_due,
    )
    columns = [c for c in WORKLIST_COLUMNS if c != "rank"]
    result = out[columns].take(order).reset_index(drop=True)
    result.insert(0, "rank", np.arange(1, len(inv) + 1))
    return result[WORKLIST_COLUMNS]


class _Work:
    """The activities on the scored invoices up to the day, each with its invoice's position,
    and each invoice's latest one (-1: none)."""

    def __init__(self, activities: pd.DataFrame, rows: np.ndarray, n: int) -> None:
        self.activities = activities
        self.rows = rows
        self.n = n
        self.last = latest_entry(rows, n, activities["activity_date"], activities["activity_id"])


def _invoice_activities(act: pd.DataFrame, invoice_ids: pd.Series, day: pd.Timestamp) -> _Work:
    """Return the activities naming one of ``invoice_ids`` dated up to ``day``."""
    known = ((act["activity_date"] <= day) & act["invoice_id"].notna()).to_numpy(
        dtype=bool, na_value=False
    )
    act = act.loc[known]
    # matched against the scored invoices only
    a_rows = row_positions(act["invoice_id"], invoice_ids)
    matched = a_rows >= 0
    return _Work(act.loc[matched], a_rows[matched], len(invoice_ids))


def _latest_promise(work: _Work, n: int, day: pd.Timestamp) -> tuple[np.ndarray, pa.Array]:
    """Return each invoice's :class:`Promise` status from its latest promise to pay, and the
    promised date as text (null without a promise)."""
    act = work.activities
    promising = ((act["outcome"] == "promise_to_pay") & act["promised_date"].notna()).to_numpy(
        dtype=bool, na_value=False
    )
    promises = act.loc[promising]
    latest = latest_entry(
        work.rows[promising], n, promises["activity_date"], promises["activity_id"]
    )
    has_promise = latest >= 0
    promised_day = day_numbers(promises["promised_date"])
    # an invoice without a promise (all of them when there is no activities export) has none
    promised_day = promised_day[latest] if len(promised_day) else np.zeros(n, promised_day.dtype)
    status = rules.promise_status(has_promise, promised_day, day_number(day))
    return status, date_text(take(promises["promised_date"], latest))


def _promise_texts(promise: np.ndarray, promised_text: pa.Array) -> pa.Array:
    """Return each promise status in words, with the promised date."""
    return select_text(
        [promise == Promise.PENDING, promise == Promise.BROKEN],
        [
            join_text("promised for ", promised_text, " (pending)"),
            join_text("promised for ", promised_text, ": broken"),
        ],
        "none",
    )


def _action_texts(
    action: np.ndarray, stage: np.ndarray, ladder: DunningLadder, promised_text: pa.Array
) -> pa.Array:
    """Return each :class:`Action` in words: the wait for a promise with the promised date,
    the dunning stage's action from the ladder."""
    said = [Action.RESOLVE_DISPUTE, Action.CALL_BROKEN_PROMISE, Action.COURTESY_CALL]
    return select_text(
        [action == Action.WAIT_FOR_PROMISE, *(action == a for a in said)],
        [
            join_text("wait for the promised payment (", promised_text, ")"),
            *(ACTION_TEXT[a] for a in said),
        ],
        pa.array(ladder.actions, TEXT).take(pa.array(stage)),
    )


def _last_activity_texts(work: _Work) -> pa.Array:
    """Return each invoice's latest activity as 'YYYY-MM-DD type: outcome' ('none' without)."""
    act, last = work.activities, work.last
    outcome = take(act["outcome"], last)
    return pc.if_else(
        pa.array(last >= 0),
        join_text(
            date_text(take(act["activity_date"], last)),
            " ",
            pc.fill_null(as_text(take(act["type"], last)), ""),
            pc.fill_null(join_text(": ", pc.replace_substring(as_text(outcome), "_", " ")), ""),
        ),
        pa.scalar("none", TEXT),
    )


def _owners(work: _Work, orders: pd.DataFrame, code: np.ndarray, distinct: pd.Series) -> pa.Array:
    """Return each invoice's owner: the last person who worked it, else the customer's sales
    rep (of its latest order with one), else 'unassigned'."""
    owner = pc.fill_null(as_text(take(work.activities["owner"], work.last)), "")
    rep = pc.fill_null(as_text(latest_rep(orders, code, distinct)), "")
    owner = pc.if_else(pc.equal(owner, ""), rep, owner)
    return pc.if_else(pc.equal(owner, ""), pa.scalar("unassigned", TEXT), owner)


def _customer_names(customers: pd.DataFrame, code: np.ndarray, distinct: pd.Series) -> pa.Array:
    """Return each invoice's customer name from the customers export ("" where unknown)."""
    if not (len(customers) and "name" in customers):
        return pa.nulls(len(code), TEXT).fill_null("")
    pos = row_positions(distinct, customers["customer_id"])[np.maximum(code, 0)]
    pos[code < 0] = -1
    return pc.if_else(
        pa.array(pos >= 0), as_text(take(customers["name"], pos)), pa.scalar("", TEXT)
    )
