"""When an open invoice will be paid: a discrete-time hazard model on invoice-weeks.

The unit of the model is an **invoice-week**: an invoice open at the end of a snapshot day
``s`` and week ``j`` after it (days ``s+1+7(j-1) … s+7j``). Its target is the share of the
balance still open at the start of that week that is paid in cash during the week (a partial
payment counts as the share it pays; most rows are 0 or 1). A classifier fit on these shares
(a fractional row counts as "paid" with probability ``f``, drawn once with a fixed seed)
estimates the hazard ``h_j``; for an invoice open on day ``D``,

* ``S_j = (1 - h_1) … (1 - h_j)`` is the share still unpaid after week ``j``,
* ``S_{j-1} h_j`` the expected share of today's balance paid in week ``j``.

Censoring: a week is a training row only if it ended on or before the label cut-off, and only
while the invoice was still open at its start; an invoice still open at the cut-off contributes
its unpaid weeks (target 0) and nothing after, so it never counts as paid.

Point in time: the invoice's features are :func:`~salesops_analysis.risk.features.features_at`
at ``s`` (its customer's history settled strictly before ``s``, exposure and activities up to
``s``), plus the calendar of week ``j`` seen from ``s``. Overdue invoices keep their own
dynamics: the days past due at the week's end, and the days past the customer's usual pay day,
are features, so the hazard of a long-overdue invoice is learnt from long-overdue invoices.
Everything an invoice's row reads comes from its own customer and the calendar.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from .._errors import ModelError
from ..metrics.days import NO_DAY
from ..metrics.receivables import CENT
from .features import Knowledge, features_at
from .settlements import Settlements

__all__ = [
    "HORIZON_WEEKS",
    "TIMING_FEATURES",
    "InvoiceWeeks",
    "SNAPSHOT_FEATURES",
    "Settlements",
    "TimingModel",
    "day_text",
    "fit_timing",
    "invoice_weeks",
    "open_rows",
    "pay_date_quantiles",
    "pay_distribution",
    "timing_snapshot",
    "train_timing",
    "week_columns",
    "week_features",
]

WEEK = 7
#: Weeks ahead the per-invoice distribution covers (a pay date later than that is unknown).
HORIZON_WEEKS = 26
#: Training snapshots are this many days apart (the latest one a full week before the cut-off).
SNAPSHOT_EVERY = 14
#: At most this many (invoice, snapshot) pairs train the model (see ``_pairs``).
MAX_PAIRS = 40_000
#: Invoice-weeks per block of :meth:`TimingModel.hazards`: bounded memory for big books, and
#: a block's model input small enough to stay in the CPU cache while each tree of the boosting
#: reads all of it (scikit-learn walks the whole block once per tree).
HAZARD_BLOCK = 32_768
#: Snapshots reach back this many days from the cut-off (recent behaviour matters most).
LOOKBACK_DAYS = 365

#: Features of the invoice at its snapshot day (from :func:`features_at`).
SNAPSHOT_FEATURES = [
    "hist_n_log",
    "new_customer",
    "hist_late_share",
    "hist_recent_late_share",
    "hist_mean_days_late",
    "hist_recent_days_late",
    "hist_trend",
    "amount_log",
    "amount_ratio_log",
    "terms_days",
    "month_end",
    "quarter_end",
    "cust_open_other_n",
    "cust_overdue_other_n",
    "cust_overdue_amount_ratio",
    "dispute_known",
    "contacts",
    "promises",
    "broken_promises",
    "days_past_due",
]
#: Features of the week seen from the snapshot day (see :func:`week_features`).
WEEK_FEATURES = [
    "week",
    "days_past_due_week_end",
    "due_in_week",
    "days_past_usual_pay_day",
    "usual_pay_day_in_week",
    "month_end_in_week",
    "paid_share",
]
TIMING_FEATURES = SNAPSHOT_FEATURES + WEEK_FEATURES


def open_rows(k: Knowledge, s: int) -> np.ndarray:
    """Return the invoice rows (positive amount, not written off) open at the end of day ``s``
    (``s <= k.T``)."""
    led = k.ledger
    return np.flatnonzero(
        k.modelled & (led.issued <= s) & (k.closed > s) & ~led.written_off & (led.amount > 0)
    )


def _month_end_in(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Return whether days ``first … last`` (int64 days, same length) contain a month's end."""
    m_first = first.astype("datetime64[D]").astype("datetime64[M]")
    m_last = last.astype("datetime64[D]").astype("datetime64[M]")
    last_is_month_end = (m_last + 1).astype("datetime64[D]").astype(np.int64) - 1 == last
    return ((m_last > m_first) | last_is_month_end).astype(float)


def week_columns(
    due: np.ndarray,
    snap: np.ndarray,
    week: np.ndarray,
    paid_share: np.ndarray,
    mean_days_late: np.ndarray,
) -> dict[str, np.ndarray]:
    """Return the :data:`WEEK_FEATURES` of invoice-weeks as float arrays: ``due``/``snap`` are
    int64 days, ``week`` is 1-based, ``mean_days_late`` the customer's ``hist_mean_days_late``
    at the snapshot (its usual pay day is the due date plus that)."""
    start = snap + WEEK * (week - 1) + 1
    end = snap + WEEK * week
    usual = due + np.round(mean_days_late).astype(np.int64)
    return {
        "week": week.astype(float),
        "days_past_due_week_end": (end - due).astype(float),
        "due_in_week": ((due >= start) & (due <= end)).astype(float),
        "days_past_usual_pay_day": (end - usual).astype(float),
        "usual_pay_day_in_week": ((usual >= start) & (usual <= end)).astype(float),
        "month_end_in_week": _month_end_in(start, end),
        "paid_share": paid_share.astype(float),
    }


def week_features(
    X: pd.DataFrame, due: np.ndarray, snap: np.ndarray, week: np.ndarray, paid_share: np.ndarray
) -> pd.DataFrame:
    """Return the :data:`TIMING_FEATURES` of invoice-weeks: ``X`` holds the snapshot features
    (one row per invoice-week), ``due``/``snap`` are int64 days, ``week`` is 1-based."""
    out = {c: X[c].to_numpy(dtype=np.float64) for c in SNAPSHOT_FEATURES}
    out.update(week_columns(due, snap, week, paid_share, out["hist_mean_days_late"]))
    return pd.DataFrame(out, copy=False)


@dataclass
class InvoiceWeeks:
    """Training rows: the features of each invoice-week and the share of its balance paid."""

    X: pd.DataFrame
    paid: np.ndarray  # share of the balance open at the week's start paid in cash in the week
    balance: np.ndarray  # the balance open at the week's start
    pair: np.ndarray  # index of the (invoice, snapshot) pair the row belongs to
    rows: np.ndarray  # invoice row of each pair
    snap: np.ndarray  # snapshot day of each pair


def _pairs(k: Knowledge, snaps: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the (invoice row, snapshot day) pairs open at ``snaps``: at most
    ``limit / len(snaps)`` per snapshot (a random sample, fixed seed), so that a big book keeps
    every snapshot, the older ones with their later weeks observed."""
    rng = np.random.default_rng(0)
    cap = -(-limit // max(len(snaps), 1))
    rows, snap = [], []
    for s in snaps:  # a few dozen snapshot days, each one vectorized pass
        r = open_rows(k, int(s))
        if len(r) > cap:
            r = np.sort(rng.choice(r, size=cap, replace=False))
        rows.append(r)
        snap.append(np.full(len(r), int(s), dtype=np.int64))
    rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    snap = np.concatenate(snap) if snap else np.zeros(0, dtype=np.int64)
    return rows, snap


def invoice_weeks(
    k: Knowledge,
    settle: Settlements,
    *,
    cutoff: int,
    horizon: int = HORIZON_WEEKS,
    every: int = SNAPSHOT_EVERY,
    limit: int = MAX_PAIRS,
    first: int | None = None,
) -> InvoiceWeeks:
    """Return the invoice-weeks observed by the end of ``cutoff`` (see the module notes).

    Snapshots run every ``every`` days back from ``cutoff - 7`` (to ``first``, default the
    first invoice day + 60, and at most :data:`LOOKBACK_DAYS` back). A week ending after
    ``cutoff`` is censored: never a row.
    """
    led = k.ledger
    if cutoff > k.T:
        raise ValueError("the label cut-off is after the knowledge date: that would leak")
    issued = led.issued[k.modelled]
    if not len(issued):
        return _empty_weeks()
    start = int(issued.min()) + 60 if first is None else first
    start = max(start, cutoff - LOOKBACK_DAYS)
    snaps = np.arange(cutoff - WEEK, start - 1, -every, dtype=np.int64)[::-1]
    rows, snap = _pairs(k, snaps, limit)
    if not len(rows):
        return _empty_weeks()
    weeks = np.arange(horizon + 1)
    # settled and paid by the end of s, s + 7, ..., s + 7 * horizon
    qr = np.repeat(rows, horizon + 1)
    qd = np.repeat(snap, horizon + 1) + WEEK * np.tile(weeks, len(rows))
    settled, cash = (v.reshape(len(rows), horizon + 1) for v in settle.by(qr, qd))
    amount = led.amount[rows][:, None]
    balance = amount - settled  # open at the end of s + 7j
    paid = np.diff(cash, axis=1)  # cash in week j = 1..horizon
    observed = snap[:, None] + WEEK * weeks[None, 1:] <= cutoff
    alive = balance[:, :-1] >= CENT
    keep = observed & alive
    pair, j = np.nonzero(keep)
    share = np.clip(paid[pair, j] / balance[pair, j], 0.0, 1.0)
    X0 = features_at(k, rows, snap)
    paid_share = 1.0 - balance[:, 0] / led.amount[rows]
    X = week_features(
        X0.iloc[pair].reset_index(drop=True),
        led.due[rows][pair],
        snap[pair],
        j + 1,
        paid_share[pair],
    )
    return InvoiceWeeks(X, share, balance[pair, j], pair, rows, snap)


def _empty_weeks() -> InvoiceWeeks:
    X = pd.DataFrame({c: np.zeros(0) for c in TIMING_FEATURES})
    z = np.zeros(0, dtype=np.int64)
    return InvoiceWeeks(X, np.zeros(0), np.zeros(0), z, z, z)


@dataclass
class TimingModel:
    """A fitted hazard model: ``model`` maps :data:`TIMING_FEATURES` rows to P(paid in week)."""

    model: object
    features: list[str]
    horizon: int
    trained_as_of: str
    rows: int
    metrics: dict = field(default_factory=dict)  # the saved metrics (backtest under "forecast")

    def hazards(
        self,
        X0: pd.DataFrame,
        due: np.ndarray,
        snap: int,
        paid_share: np.ndarray,
        first: int = 1,
        last: int | None = None,
    ) -> np.ndarray:
        """Return the hazards of weeks ``first … last`` (default: to the horizon), shape
        (invoices, weeks), of invoices whose snapshot features are ``X0`` (one row per invoice,
        all at day ``snap``)."""
        last = self.horizon if last is None else last
        n, H = len(X0), last - first + 1
        if not n or H <= 0:
            return np.zeros((n, max(H, 0)))
        snapshot = X0[SNAPSHOT_FEATURES].to_numpy(dtype=np.float64)
        due = np.asarray(due, dtype=np.int64)
        paid_share = np.asarray(paid_share, dtype=np.float64)
        weeks = np.arange(first, last + 1)
        h = np.empty((n, H))
        step = max(1, HAZARD_BLOCK // H)
        compiled = self.compiled()
        # one block's model input, refilled block after block (a fresh big array per block
        # costs its page faults, and leaves the cache); column by column for the compiled form
        buffer = np.empty(
            (min(step, n) * H, len(self.features)), order="C" if compiled is None else "F"
        )
        with threadpool_limits(1):  # see fit_timing
            for i in range(0, n, step):
                these = slice(i, min(i + step, n))
                M = self._week_matrix(
                    snapshot[these], due[these], snap, paid_share[these], weeks, out=buffer
                )
                if compiled is None:
                    p = self.model.predict_proba(M)[:, 1]
                else:
                    p = compiled.predict_proba([M[:, c] for c in range(M.shape[1])])
                h[these] = p.reshape(-1, H)
        return np.clip(h, 0.0, 1.0)

    def compiled(self):
        """Return the hazard boosting compiled to array code
        (:class:`~salesops_analysis.risk.scoring.CompiledBoosting`: the same hazards, bit for
        bit, in a fraction of scikit-learn's time), or ``None`` for a model it cannot
        reproduce exactly, which is then used through its own ``predict_proba``, with one
        :class:`~salesops_analysis.risk.scoring.ScoringFallbackWarning` per process naming
        why (see :func:`~salesops_analysis.risk.scoring.compiled_model`)."""
        from .scoring import compiled_model

        return compiled_model(self.model, {})

    def _week_matrix(
        self, snapshot, due, snap: int, paid_share, weeks, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Return the model input of each (invoice, week): invoice-major, week-minor rows
        (written into the first rows of ``out`` if given: a view of them is returned)."""
        unknown = sorted(set(self.features) - set(TIMING_FEATURES))
        if unknown:
            raise ModelError(f"the timing model reads unknown features: {', '.join(unknown)}")
        n, H = len(snapshot), len(weeks)
        if out is None:
            out = np.empty((n * H, len(self.features)))
        M = out[: n * H]
        position = {name: c for c, name in enumerate(self.features)}
        for j, name in enumerate(SNAPSHOT_FEATURES):
            if name in position:
                M[:, position[name]] = np.repeat(snapshot[:, j], H)
        idx = np.repeat(np.arange(n), H)
        mean_late = snapshot[:, SNAPSHOT_FEATURES.index("hist_mean_days_late")][idx]
        week = np.tile(weeks, n)
        columns = week_columns(
            due[idx], np.full(n * H, snap, np.int64), week, paid_share[idx], mean_late
        )
        for name, values in columns.items():
            if name in position:
                M[:, position[name]] = values
        return M


def fit_timing(weeks: InvoiceWeeks, *, trained_as_of: str, horizon: int = HORIZON_WEEKS):
    """Return a :class:`TimingModel` fit on ``weeks`` (a fractional target ``f`` is drawn as
    "paid" with probability ``f``).

    Raises
    ------
    ModelError
        Too few invoice-weeks, or none paid / none unpaid.
    """
    y = weeks.paid
    if len(y) < 200 or y.sum() < 5 or (1 - y).sum() < 5:
        raise ModelError(
            f"only {len(y)} observed invoice-weeks ({y.sum():.0f} paid): too few to learn "
            "when invoices are paid"
        )
    M = weeks.X[TIMING_FEATURES].to_numpy(dtype=np.float64)
    # a fractional share (a partial payment) becomes "paid" with that probability: unbiased,
    # and without sample weights (which make the histogram binning ten times slower)
    draw = np.random.default_rng(0).random(len(y))
    label = (draw < y).astype(int)
    model = HistGradientBoostingClassifier(
        max_depth=5,
        learning_rate=0.2,
        max_iter=60,
        early_stopping=False,
        min_samples_leaf=50,
        l2_regularization=1.0,
        random_state=0,
    )
    # one thread: on a shared 2-core host OpenMP's threads wait on each other (a 80k-row fit
    # took 8 s with two threads and 1.3 s with one)
    with threadpool_limits(1):
        model.fit(M, label)
    return TimingModel(model, list(TIMING_FEATURES), horizon, trained_as_of, int(len(y)))


def pay_distribution(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(p, F)`` from hazards ``h`` (n, H): ``p[:, j]`` the share of today's balance
    expected in week ``j + 1``, ``F[:, j]`` the share paid by its end."""
    S = np.cumprod(1.0 - h, axis=1)
    F = 1.0 - S
    p = np.diff(np.concatenate([np.zeros((len(h), 1)), F], axis=1), axis=1)
    return p, F


def pay_date_quantiles(F: np.ndarray, as_of: int, q: float) -> np.ndarray:
    """Return the int64 day by which a share ``q`` of each invoice's balance is expected paid
    (linear within the week), ``NO_DAY`` when that is after the horizon."""
    n, H = F.shape
    if not n:
        return np.zeros(0, dtype=np.int64)
    reached = F >= q
    j = np.argmax(reached, axis=1)  # first week whose end reaches q
    ok = reached[np.arange(n), j]
    before = np.where(j > 0, F[np.arange(n), np.maximum(j - 1, 0)], 0.0)
    at = F[np.arange(n), j]
    frac = np.where(at > before, (q - before) / np.maximum(at - before, 1e-12), 1.0)
    day = as_of + WEEK * j + np.maximum(1, np.ceil(WEEK * frac)).astype(np.int64)
    return np.where(ok, day, NO_DAY)


def timing_snapshot(k: Knowledge, settle: Settlements, rows: np.ndarray, s: int):
    """Return the snapshot features and paid share of invoice ``rows`` open at day ``s``."""
    led = k.ledger
    X0 = features_at(k, rows, np.full(len(rows), s, dtype=np.int64))
    settled, _ = settle.by(rows, np.full(len(rows), s, dtype=np.int64))
    paid_share = settled / led.amount[rows] if len(rows) else np.zeros(0)
    return X0, np.clip(paid_share, 0.0, 1.0)


def day_text(day: np.ndarray) -> np.ndarray:
    """Return int64 days as ``datetime64[us]`` (``NO_DAY`` -> NaT)."""
    day = np.asarray(day, dtype=np.int64)
    out = np.where(day == NO_DAY, np.datetime64("NaT"), day.astype("datetime64[D]"))
    return out.astype("datetime64[us]")


def train_timing(
    k: Knowledge, *, cutoff: int | None = None, settle: Settlements | None = None
) -> TimingModel:
    """Return the hazard model trained on what ``k`` knew, labels censored at ``cutoff``
    (default ``k.T``); ``settle``: the :class:`Settlements` of ``k`` at ``k.T``, if already
    built."""
    cutoff = k.T if cutoff is None else cutoff
    settle = Settlements(k.ledger, k.T) if settle is None else settle
    weeks = invoice_weeks(k, settle, cutoff=cutoff)
    return fit_timing(weeks, trained_as_of=str(np.datetime64(int(cutoff), "D")))


def __getattr__(name: str):
    """Keep the old import path of the model files' functions (now in
    :mod:`~salesops_analysis.risk.timing_store`) working."""
    if name in ("find_timing_model", "load_timing", "save_timing"):
        from . import timing_store

        return getattr(timing_store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
