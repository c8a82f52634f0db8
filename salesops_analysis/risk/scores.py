"""Scores for the open invoices, with their reasons: the scoring step of the worklist.

Every open invoice (positive amount) gets one score:

* not yet past due + grace: ``p_late``, the late model's probability that it will be paid late;
* already past due + grace (lateness decided): ``p_unpaid_30d``, the overdue model's
  probability that it is still not fully paid 30 days from now.

``expected_late_amount = score × open amount`` (reporting currency) ranks the worklist. The top
three reasons are the features that raise that invoice's risk most (:mod:`.reasons`). Without a
model (too little history to train one) :func:`score_by_baseline` ranks the same invoices.

The result is a :class:`ScoredInvoices`: the scored rows plus what the next steps reuse (the
feature table, what was known on the day, the open balance left unscored).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._errors import ModelError
from ..config import Config
from ..metrics.days import day_number
from ..metrics.receivables import CENT, Ledger, rate_factors
from ..metrics.tables import Tables
from .features import Knowledge, features_at
from .model import CategoryCodes, TrainedModel, predict_risk
from .reasons import ReasonPhrases, reason_codes, top_reasons
from .texts import code_text

__all__ = [
    "BASELINE_DAYS_PAST_DUE",
    "BASELINE_LATE_SHARE",
    "MODEL_SCORE",
    "ScoredInvoices",
    "open_figures",
    "open_not_scored",
    "score_by_baseline",
    "score_open_invoices",
    "scored_features",
    "scored_rows",
    "scored_knowledge",
]

#: Score kinds of a worklist ranked without a model (too little history to train one): the
#: customer's share of invoices paid late so far, or, with no settled invoice at all, days
#: past due × open amount (no probability).
BASELINE_LATE_SHARE = "customer late share"
BASELINE_DAYS_PAST_DUE = "days past due × amount"
#: The score kind of invoices scored by a trained model (``p_late`` or ``p_unpaid_30d`` each).
MODEL_SCORE = "model"


@dataclass(frozen=True, eq=False)
class ScoredInvoices:
    """Open invoices scored on one day, and what the scores were computed from.

    Attributes
    ----------
    invoices : DataFrame
        One row per scored invoice: ids, dates, open amount (document and reporting
        currency), ``days_past_due``, ``score_kind`` (``p_late``, ``p_unpaid_30d`` or a
        baseline's name), ``probability``, ``expected_late_amount`` and ``reason_1..3``.
    features : DataFrame
        The feature table behind the scores, one row per scored invoice in the same order.
    rows : ndarray
        The scored invoices' row positions in the ledger (the invoices table).
    knowledge : Knowledge
        What was known on the scoring day (reused for drift on the same day).
    open_not_scored : float
        The open balance (reporting currency) of what is open but not scored: credit notes
        not applied to an invoice. The scored open amounts plus this make the AR open balance.
    score_kind : str
        What ranks the invoices: :data:`MODEL_SCORE`, :data:`BASELINE_LATE_SHARE` or
        :data:`BASELINE_DAYS_PAST_DUE`.
    model : TrainedModel or None
        The model that scored them (``None`` for a baseline).
    """

    invoices: pd.DataFrame
    features: pd.DataFrame
    rows: np.ndarray
    knowledge: Knowledge
    open_not_scored: float
    score_kind: str
    model: TrainedModel | None = None

    def __len__(self) -> int:
        """Return the number of scored invoices."""
        return len(self.invoices)

    def with_invoices(self, invoices: pd.DataFrame) -> ScoredInvoices:
        """Return the same scores with the invoices frame replaced (the same rows, in the same
        order: e.g. probabilities set by hand)."""
        if len(invoices) != len(self.invoices):
            raise ValueError(
                f"{len(invoices)} scored invoices given for {len(self.invoices)} scored rows"
            )
        return ScoredInvoices(
            invoices,
            self.features,
            self.rows,
            self.knowledge,
            self.open_not_scored,
            self.score_kind,
            self.model,
        )


def scored_features(scored: ScoredInvoices) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the feature table behind ``scored`` (one row per scored invoice, in its order)
    and the scored invoices' row positions in the ledger."""
    return scored.features, scored.rows


def scored_knowledge(scored: ScoredInvoices) -> Knowledge:
    """Return what was known on the scoring day of ``scored``."""
    return scored.knowledge


def open_not_scored(scored: ScoredInvoices) -> float:
    """Return the open balance (reporting currency) at the scoring day of the rows ``scored``
    leaves out: open credit notes not applied to an invoice. The scored open amounts plus this
    make the AR open balance."""
    return scored.open_not_scored


def score_open_invoices(
    model: TrainedModel,
    tables: Tables,
    as_of,
    config: Config | None = None,
    *,
    rows: np.ndarray | None = None,
    ledger: Ledger | None = None,
) -> ScoredInvoices:
    """Return the open invoices (or the given invoice rows) at ``as_of`` scored by ``model``.

    ``invoices`` of the result has one row per scored invoice: invoice and customer ids,
    dates, open amount (document and reporting currency), ``days_past_due``, ``score_kind``
    (``p_late`` or ``p_unpaid_30d``), ``probability``, ``expected_late_amount`` and
    ``reason_1..3``; beside it, the feature table behind the scores and what was known.
    ``ledger``, when given, is the :class:`Ledger` of the same tables' invoices and payments
    (built once per report and reused, not rebuilt).

    Raises
    ------
    ModelError
        The model was trained after ``as_of`` (it would have seen the future).
    """
    config = config or Config()
    b = model.bundle
    T = day_number(as_of)
    if day_number(b.trained_as_of) > T:
        raise ModelError(
            f"model trained as of {b.trained_as_of} cannot score {as_of}: it "
            "has seen outcomes after that date"
        )
    led = ledger or Ledger(tables.invoices, tables.payments, activities=tables.activities)
    k = Knowledge.of(
        tables,
        as_of,
        grace_days=b.grace_days,
        categorical=list(b.categorical),
        ledger=led,
    )
    _, open_now, _ = led.balances(as_of)
    if rows is None:
        rows = scored_rows(led, as_of)
    snap = np.full(len(rows), T, dtype=np.int64)
    X = features_at(k, rows, snap)
    overdue = X["days_past_due"].to_numpy() > b.grace_days
    if b.overdue is None:
        overdue[:] = False
    rates, currency = tables.rates(as_of, config)
    prob = np.zeros(len(rows))
    phrases = ReasonPhrases()
    codes = CategoryCodes(X)
    reasons = np.zeros((len(rows), 3), dtype=np.int64)
    for part, kind in ((~overdue, "late"), (overdue, "overdue")):
        idx = np.flatnonzero(part)
        if not len(idx):
            continue
        # by row positions: the feature table is not copied per model, and category codes
        # are looked up once for all models and explainers
        entry = getattr(b, kind)
        prob[idx] = predict_risk(entry, X, rows=idx, codes=codes)
        reasons[idx] = top_reasons(entry.explainer, X, currency, phrases, rows=idx, codes=codes)
    kind = code_text(overdue.astype(np.int8), ["p_late", "p_unpaid_30d"])
    out = _scored_frame(led, rows, open_now, X, kind, prob, reasons, phrases, rates, currency)
    return ScoredInvoices(
        out, X, rows, k, _open_not_scored(led, rows, open_now, rates), MODEL_SCORE, model
    )


def score_by_baseline(
    tables: Tables, as_of, config: Config | None = None, *, ledger: Ledger | None = None
) -> ScoredInvoices:
    """Return the open invoices at ``as_of`` scored without a model, in the columns of
    :func:`score_open_invoices` (``ledger``: as there).

    For a young warehouse, where no model can be trained yet: where any invoice has been
    settled, ``probability`` is the customer's share of invoices paid late so far (shrunk
    towards 0.3 for short histories, as the model's feature and its baseline are); with no
    settled invoice at all it is missing and the worklist ranks by days past due × open
    amount (``score_kind`` says which).

    Examples
    --------
    >>> import pandas as pd
    >>> from salesops_analysis.metrics import Tables
    >>> inv = pd.DataFrame({
    ...     "invoice_id": ["A"], "customer_id": ["C1"], "order_id": [None],
    ...     "invoice_date": pd.to_datetime(["2025-01-01"]),
    ...     "due_date": pd.to_datetime(["2025-01-31"]), "amount": [100.0],
    ...     "currency": ["USD"], "status": ["open"], "paid_amount": [0.0],
    ...     "paid_date": pd.to_datetime([None]), "disputed": [False],
    ...     "payment_terms": ["NET30"], "applies_to_invoice_id": [None]})
    >>> s = score_by_baseline(Tables(invoices=inv), "2025-02-10")
    >>> s.invoices[["invoice_id", "days_past_due", "score_kind"]].to_dict("records")
    [{'invoice_id': 'A', 'days_past_due': 10, 'score_kind': 'days past due × amount'}]
    """
    config = config or Config()
    T = day_number(as_of)
    led = ledger or Ledger(tables.invoices, tables.payments, activities=tables.activities)
    k = Knowledge.of(
        tables,
        as_of,
        grace_days=config.grace_days,
        categorical=[],
        ledger=led,
    )
    _, open_now, _ = led.balances(as_of)
    rows = scored_rows(led, as_of)
    X = features_at(k, rows, np.full(len(rows), T, dtype=np.int64))
    any_history = bool((k.modelled & (k.closed <= T)).any())
    phrases = ReasonPhrases()
    reasons = np.zeros((len(rows), 3), dtype=np.int64)
    everyone = np.arange(len(rows))
    if any_history:
        prob = X["hist_late_share"].to_numpy(dtype=np.float64)
        kind = BASELINE_LATE_SHARE
        reasons[:, 0] = reason_codes("hist_late_share", X, everyone, "", phrases)
        new = X["hist_n"].to_numpy() == 0
        reasons[new, 0] = reason_codes("new_customer", X, everyone[new], "", phrases)
    else:
        prob = np.full(len(rows), np.nan)
        kind = BASELINE_DAYS_PAST_DUE
    dpd = X["days_past_due"].to_numpy().astype(np.int64)
    slot = 1 if any_history else 0
    reasons[:, slot] = phrases.phrase(
        lambda a: (
            f"{a} days past due" if a > 0 else ("due today" if a == 0 else f"due in {-a} days")
        ),
        dpd,
    )
    rates, currency = tables.rates(as_of, config)
    kinds = code_text(np.zeros(len(rows), dtype=np.int8), [kind])
    out = _scored_frame(led, rows, open_now, X, kinds, prob, reasons, phrases, rates, currency)
    return ScoredInvoices(out, X, rows, k, _open_not_scored(led, rows, open_now, rates), kind)


def scored_rows(led: Ledger, as_of) -> np.ndarray:
    """Return the ledger rows scored at the end of ``as_of``: invoices (positive amount)
    issued by then with an open balance (a credit note is never scored)."""
    T = day_number(as_of)
    _, open_now = led.open_balances(as_of)
    return np.flatnonzero((np.abs(open_now) >= CENT) & (led.amount > 0) & (led.issued <= T))


def open_figures(led: Ledger, as_of, rates: dict) -> dict[str, object]:
    """Return the open book at the end of ``as_of`` as a scoring would see it, without
    scoring: ``ar_open`` (the scored open amounts in the reporting currency, each rounded to
    the cent, plus :func:`open_not_scored`), ``open_invoices`` (the rows
    :func:`score_open_invoices` scores) and ``overdue_invoices`` (those past their due date).

    The same figures as a :class:`ScoredInvoices` of that day gives, at the cost of one
    balance pass: no knowledge, no features.
    """
    T = day_number(as_of)
    _, open_now = led.open_balances(as_of)
    rows = scored_rows(led, as_of)
    factor = rate_factors(led.invoices["currency"].iloc[rows], rates, len(rows))
    scored = float(pd.Series(np.round(open_now[rows] * factor, 2)).sum())
    return {
        "ar_open": round(scored + _open_not_scored(led, rows, open_now, rates), 2),
        "open_invoices": int(len(rows)),
        "overdue_invoices": int(((T - led.due[rows]).astype(float) > 0).sum()),
    }


def _scored_frame(
    led: Ledger,
    rows: np.ndarray,
    open_now: np.ndarray,
    X: pd.DataFrame,
    score_kind: pd.Series,
    prob: np.ndarray,
    reasons: np.ndarray,
    phrases: ReasonPhrases,
    rates: dict,
    currency: str,
) -> pd.DataFrame:
    """Return the scored-invoices frame (the columns of :func:`score_open_invoices`)."""
    # text columns stay Arrow strings from end to end (no round trip through Python objects)
    inv = led.invoices[["customer_id", "invoice_id", "invoice_date", "due_date", "currency"]]
    inv = inv.iloc[rows].reset_index(drop=True)
    factor = rate_factors(inv["currency"], rates, len(rows))
    open_amount = open_now[rows]
    out = pd.DataFrame(
        {
            "customer_id": inv["customer_id"],
            "invoice_id": inv["invoice_id"],
            "invoice_date": inv["invoice_date"],
            "due_date": inv["due_date"],
            "open_amount": open_amount,
            "currency": inv["currency"],
            "open_amount_reporting": np.round(open_amount * factor, 2),
            "reporting_currency": code_text(np.zeros(len(rows), dtype=np.int8), [currency]),
            "days_past_due": X["days_past_due"].to_numpy().astype(np.int64),
            "score_kind": score_kind,
            "probability": prob.round(4),
            "expected_late_amount": np.round(prob * open_amount * factor, 2),
        }
    )
    for j in range(3):
        out[f"reason_{j + 1}"] = phrases.column(reasons[:, j])
    return out


def _open_not_scored(led: Ledger, rows: np.ndarray, open_now: np.ndarray, rates: dict) -> float:
    """Return the open balance (reporting currency) of what is open but not among ``rows``:
    credit notes not applied to an invoice. AR counts it, the worklist does not chase it."""
    on_list = np.zeros(len(open_now), dtype=bool)
    on_list[rows] = True
    rest = np.flatnonzero((np.abs(open_now) >= CENT) & ~on_list)
    rest_factor = rate_factors(led.invoices["currency"].iloc[rest], rates, len(rest))
    return float(np.round(open_now[rest] * rest_factor, 2).sum())
