"""Population stability: how far today's invoices have moved from the training data.

PSI (population stability index) per feature: ``sum((p_now - p_train) * ln(p_now / p_train))``
over the training deciles (numeric) or categories. Rule of thumb: below 0.1 stable, 0.1-0.25
some shift, above 0.25 a shift worth a look (and maybe a retrain).

Like is compared with like: the invoices **issued** in the last :data:`RECENT_DAYS` days
before the scoring date, each with its features on its issue day (as the late model was
trained), against the invoices issued in the last :data:`REFERENCE_DAYS` days of the training
period, also on their issue days (:func:`training_reference`). Comparing today's *open*
invoices instead would flag features by who is still open (long terms stay open longer) rather
than by any change in the invoices. Calendar flags (:data:`CALENDAR_FEATURES`) are left out:
whether a window holds a quarter end is the calendar's doing, not the customers'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .features import Knowledge, features_at

if TYPE_CHECKING:
    from .model import TrainedModel

__all__ = [
    "CALENDAR_FEATURES",
    "RECENT_DAYS",
    "REFERENCE_DAYS",
    "drift_at",
    "issued_between",
    "population_stability",
    "recent_drift",
    "reference_distribution",
    "training_reference",
]

_EPS = 1e-4
#: Days of recently issued invoices compared at scoring time.
RECENT_DAYS = 30
#: Days (the last of the training period) of issued invoices stored as the reference.
REFERENCE_DAYS = 90
#: At most this many invoices of a window are read (a uniform sample of the window).
DRIFT_ROWS = 50_000
#: Features that follow the calendar: not compared.
CALENDAR_FEATURES = ("month_end", "quarter_end")


def reference_distribution(X: pd.DataFrame, numeric: list[str], categorical: list[str]) -> dict:
    """Return the bins and shares of each feature in the training rows ``X`` (no rows: an
    empty reference, against which nothing is compared)."""
    ref: dict[str, dict] = {}
    if not len(X):
        return ref
    for name in numeric:
        values = X[name].to_numpy(dtype="float64")
        edges = np.unique(np.quantile(values, np.linspace(0.1, 0.9, 9)))
        counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
        ref[name] = {
            "kind": "numeric",
            "edges": edges.tolist(),
            "shares": (counts / max(1, len(values))).tolist(),
        }
    for name in categorical:
        shares = X[name].astype("str").value_counts(normalize=True)
        ref[name] = {
            "kind": "categorical",
            "categories": shares.index.tolist(),
            "shares": shares.to_numpy().tolist(),
        }
    return ref


def population_stability(reference: dict, X: pd.DataFrame) -> pd.DataFrame:
    """Return the PSI of every feature of ``X`` against ``reference``, largest first."""
    rows = []
    for name, ref in reference.items():
        if name not in X or len(X) == 0:
            continue
        if ref["kind"] == "numeric":
            edges = np.asarray(ref["edges"])
            counts = np.bincount(
                np.searchsorted(edges, X[name].to_numpy(dtype="float64"), side="right"),
                minlength=len(edges) + 1,
            )
            now = counts / len(X)
            then = np.asarray(ref["shares"])
        else:
            cats = list(ref["categories"])
            shares = X[name].astype("str").value_counts(normalize=True)
            now = np.array(
                [shares.get(c, 0.0) for c in cats] + [float(shares[~shares.index.isin(cats)].sum())]
            )
            then = np.array([*ref["shares"], 0.0])
        now, then = np.clip(now, _EPS, None), np.clip(then, _EPS, None)
        psi = float(np.sum((now - then) * np.log(now / then)))
        rows.append(
            {
                "feature": name,
                "psi": psi,
                "status": "stable" if psi < 0.1 else "some shift" if psi < 0.25 else "shifted",
            }
        )
    return pd.DataFrame(rows, columns=["feature", "psi", "status"]).sort_values(
        "psi", ascending=False, ignore_index=True
    )


def issued_between(
    k: Knowledge, first: int, last: int, *, max_rows: int = DRIFT_ROWS, seed: int = 0
) -> np.ndarray:
    """Return the row positions of the invoices issued from day ``first`` to day ``last``
    (both included, never after ``k.T``): all of them, or a uniform random sample of
    ``max_rows``."""
    issued = k.ledger.issued
    rows = np.flatnonzero(k.modelled & (issued >= first) & (issued <= min(last, k.T)))
    if len(rows) > max_rows:
        pick = np.random.default_rng(seed).choice(len(rows), size=max_rows, replace=False)
        rows = rows[np.sort(pick)]
    return rows


def _at_issue(k: Knowledge, rows: np.ndarray) -> pd.DataFrame:
    """Return the feature table of invoice ``rows``, each on its issue day."""
    return features_at(k, rows, k.ledger.issued[rows])


def training_reference(
    k: Knowledge, numeric: list[str], categorical: list[str], *, days: int = REFERENCE_DAYS
) -> tuple[dict, dict]:
    """Return the drift reference of a model trained on ``k`` (the feature shares of the
    invoices issued in the last ``days`` days up to ``k.T``, on their issue days) and a
    description of that window (first and last day, rows)."""
    first = k.T - days + 1
    rows = issued_between(k, first, k.T)
    ref = reference_distribution(_at_issue(k, rows), numeric, categorical)
    window = {
        "issued": [str(np.datetime64(first, "D")), str(np.datetime64(k.T, "D"))],
        "rows": int(len(rows)),
    }
    return ref, window


def recent_drift(model: TrainedModel, k: Knowledge, *, days: int = RECENT_DAYS) -> pd.DataFrame:
    """Return the PSI per feature of the invoices issued in the last ``days`` days up to
    ``k.T`` (on their issue days) against ``model``'s reference, largest first."""
    rows = issued_between(k, k.T - days + 1, k.T)
    return population_stability(model.bundle.late.drift_reference, _at_issue(k, rows))


def drift_at(model: TrainedModel, tables, as_of, *, days: int = RECENT_DAYS, ledger=None):
    """Return :func:`recent_drift` on the warehouse ``tables`` as known at the end of
    ``as_of`` (``ledger``: the :class:`~salesops_analysis.metrics.receivables.Ledger` of the
    same tables, when the caller has one, is reused)."""
    b = model.bundle
    k = Knowledge.of(
        tables,
        as_of,
        grace_days=b.grace_days,
        categorical=list(b.categorical),
        ledger=ledger,
    )
    return recent_drift(model, k, days=days)
