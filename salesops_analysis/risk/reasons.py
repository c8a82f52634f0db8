"""The reasons beside each score: the features that raise an invoice's risk most, in
collectors' words.

For a model score the top three reasons are the features whose contributions to the logistic
model's log-odds push that invoice's risk up most, among the values that are a risk sign on
their own (:func:`statable_reason`). Texts are held as codes into one :class:`ReasonPhrases`
table, so each distinct phrase is formatted once however many invoices share it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ..metrics.days import NO_DAY
from .model import Contributions, LinearExplainer

__all__ = ["REASON_BLOCK", "ReasonPhrases", "reason_codes", "statable_reason", "top_reasons"]


def _day_text(day: int) -> str:
    d = np.datetime64(0 if day == NO_DAY else int(day), "D").item()
    return f"{d.day} {d:%b} {d.year}"


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


class ReasonPhrases:
    """Reason texts as codes into one table: each distinct phrase is formatted once."""

    def __init__(self) -> None:
        self.texts: list[str] = [""]  # code 0: no reason
        self._code: dict[str, int] = {"": 0}

    def code(self, text: str) -> int:
        """Return the code of ``text``, adding it to the table when new."""
        if text not in self._code:
            self._code[text] = len(self.texts)
            self.texts.append(text)
        return self._code[text]

    def phrase(self, fmt, *keys: np.ndarray) -> np.ndarray:
        """Return the code of ``fmt(*values)`` for every row of the key arrays."""
        if not len(keys[0]):
            return np.zeros(0, dtype=np.int64)
        combined = np.zeros(len(keys[0]), dtype=np.int64)
        for k in keys:  # hash-factorized (no sorting): codes in order of first appearance
            codes, uniques = pd.factorize(k, use_na_sentinel=False)
            combined = combined * len(uniques) + codes
        inverse, distinct = pd.factorize(combined)
        # codes come in order of first appearance: the running maximum rises at each first row
        running = np.maximum.accumulate(inverse)
        first = np.flatnonzero(np.r_[True, running[1:] > running[:-1]])
        codes = np.array(
            [self.code(fmt(*(_plain(k[i]) for k in keys))) for i in first], dtype=np.int64
        )
        return codes[inverse]

    def column(self, codes: np.ndarray) -> pd.Series:
        """Return the texts of ``codes`` as a string column."""
        table = pa.array(self.texts, type=pa.large_string())
        return pd.Series(pd.array(table.take(pa.array(codes)), dtype="str"))


def reason_codes(
    feature: str, X: pd.DataFrame, idx: np.ndarray, currency: str, phrases: ReasonPhrases
) -> np.ndarray:
    """Return the phrase codes of the plain-words reason for ``feature`` on rows ``idx``."""

    def col(name: str) -> np.ndarray:
        return X[name].to_numpy()[idx]

    def ints(name: str) -> np.ndarray:
        return col(name).round().astype(np.int64)

    p = phrases.phrase
    if feature == "hist_late_share":
        return p(
            lambda a, b: f"paid {a} of {b} earlier invoices late",
            ints("hist_late_n"),
            ints("hist_n"),
        )
    if feature in ("hist_recent_late_share", "hist_trend"):
        return p(
            lambda a, b: f"paid {a} of the last {b} invoices late",
            ints("hist_recent_late_n"),
            ints("hist_recent_n"),
        )
    if feature in ("hist_mean_days_late", "hist_recent_days_late"):
        return p(lambda a: f"pays {a} days late on average", ints(feature))
    if feature in ("new_customer", "hist_n_log"):
        return p(
            lambda n: (
                "new customer: no payment history yet"
                if n == 0
                else f"short payment history ({n} invoices)"
            ),
            ints("hist_n"),
        )
    if feature == "amount_ratio_log":
        ratio = np.round(np.exp(col("amount_ratio_log")), 1)
        return p(lambda r: f"amount {r:.1f}× this customer's usual", ratio)
    if feature == "terms_days":
        return p(lambda a: f"long payment terms ({a} days)", ints("terms_days"))
    if feature == "cust_open_other_n":
        return p(lambda a: f"{a} other open invoices", ints("cust_open_other_n"))
    if feature in ("cust_overdue_other_n", "cust_overdue_amount_ratio"):
        return p(
            lambda a, amt: f"{a} other invoices overdue ({amt:.0f} {currency})",
            ints("cust_overdue_other_n"),
            np.round(col("cust_overdue_other_amount")),  # as printed: one text per whole amount
        )
    if feature == "dispute_known":
        return p(lambda d: f"in dispute since {_day_text(d)}", col("dispute_day"))
    if feature == "contacts":
        return p(lambda a: f"{a} collector contacts without payment", ints("contacts"))
    if feature == "promises":
        return p(lambda a: f"{a} promises to pay so far", ints("promises"))
    if feature == "broken_promises":
        return p(
            lambda d: f"promise to pay on {_day_text(d)} was broken", col("last_broken_promise_day")
        )
    if feature == "days_past_due":
        return p(lambda a: f"{a} days past due", ints("days_past_due"))
    fixed = {
        "amount_log": "large amount",
        "month_end": "issued at a month end",
        "quarter_end": "issued at a quarter end",
    }
    if feature in fixed:
        return np.full(len(idx), phrases.code(fixed[feature]), dtype=np.int64)
    values = X[feature].astype("str").iloc[idx].to_numpy()
    label = feature.replace("_", " ")
    # a categorical value whose customers pay late more often than the average one
    return p(lambda v: f"{label} {v}: pays late more often than average", values)


def statable_reason(feature: str, X: pd.DataFrame) -> np.ndarray:
    """Return where a feature's value is itself a risk sign that can be said in words.

    A feature can raise the log-odds without being a sensible reason ("0 promises to pay");
    only values that point towards risk on their own are phrased.
    """

    def x() -> np.ndarray:
        return X[feature].to_numpy()

    rules = {
        "hist_late_share": lambda: X["hist_late_n"].to_numpy() > 0,
        "hist_recent_late_share": lambda: X["hist_recent_late_n"].to_numpy() > 0,
        "hist_trend": lambda: (X["hist_recent_late_n"].to_numpy() > 0) & (x() > 0),
        "hist_mean_days_late": lambda: x() >= 1,
        "hist_recent_days_late": lambda: x() >= 1,
        "new_customer": lambda: x() > 0,
        "hist_n_log": lambda: X["hist_n"].to_numpy() < 3,
        "amount_ratio_log": lambda: x() > np.log(1.5),
        "terms_days": lambda: x() >= 45,
        "month_end": lambda: x() > 0,
        "quarter_end": lambda: x() > 0,
        "cust_open_other_n": lambda: x() > 0,
        "cust_overdue_other_n": lambda: x() > 0,
        "cust_overdue_amount_ratio": lambda: X["cust_overdue_other_n"].to_numpy() > 0,
        "dispute_known": lambda: x() > 0,
        "contacts": lambda: x() > 0,
        "promises": lambda: x() > 0,
        "broken_promises": lambda: x() > 0,
        "days_past_due": lambda: x() > 0,
    }
    if feature in rules:
        return rules[feature]()
    return np.ones(len(X), dtype=bool)


#: Rows per block when picking the top reasons.
REASON_BLOCK = 16_384


def top_reasons(
    explainer: LinearExplainer,
    X: pd.DataFrame,
    currency: str,
    phrases: ReasonPhrases,
    rows: np.ndarray | None = None,
    codes=None,
) -> np.ndarray:
    """Return an (n, 3) array of reason phrase codes (0 where fewer than three push risk up;
    "no strong risk signal" in the first slot when none does) for the rows of ``X``, or for
    its row positions ``rows``.

    A reason is a feature whose contribution raises the invoice's log-odds by more than 0.05,
    and whose value is a risk sign on its own (:func:`statable_reason`); the three largest,
    largest first (ties: the earlier feature).
    """
    plan = Contributions(explainer, X, rows, codes)
    order, top_values = _three_largest(plan, X, rows)
    out = np.zeros(order.shape, dtype=np.int64)
    # every (row, rank) slot that holds a reason, grouped by feature: one template call each
    slots = np.flatnonzero(top_values.ravel() > 0.05)
    feature = order.ravel()[slots]
    # features are few: a stable sort of bytes is a counting sort
    narrow = np.uint8 if len(plan.names) < 256 else np.int64
    grouped = np.argsort(feature.astype(narrow), kind="stable")
    slots, feature = slots[grouped], feature[grouped]
    starts = np.r_[0, np.flatnonzero(np.diff(feature)) + 1, len(feature)]
    flat = out.ravel()
    for a, b in zip(starts[:-1], starts[1:], strict=True):
        at = slots[a:b] // 3
        at = at if rows is None else rows[at]
        flat[slots[a:b]] = reason_codes(plan.names[feature[a]], X, at, currency, phrases)
    out = flat.reshape(order.shape)
    out[out[:, 0] == 0, 0] = phrases.code("no strong risk signal")
    return out


def _three_largest(
    plan: Contributions, X: pd.DataFrame, rows: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Return, per row, the features of the three largest statable contributions (largest
    first; ties: the earlier feature) and those contributions (-inf where none is left)."""
    names = plan.names
    # where each feature's value is no reason that can be said (None: it always is one)
    unstatable = []
    for name in names:
        ok = statable_reason(name, X)
        unstatable.append(None if ok.all() else ~ok)
    # three passes of argmax over one block of rows at a time (the block stays in the CPU
    # cache). The block is filled and masked one feature at a time (contiguous rows of
    # ``by_feature``), then turned to one row per invoice for argmax.
    n = len(X) if rows is None else len(rows)
    order = np.zeros((n, 3), dtype=np.int64)
    top_values = np.full((n, 3), -np.inf)
    block = min(n, REASON_BLOCK)
    by_feature = np.empty((len(names), block), dtype=np.float64)
    by_row = np.empty((block, len(names)), dtype=np.float64)
    for start in range(0, n, REASON_BLOCK):
        stop = min(start + REASON_BLOCK, n)
        filled = by_feature[:, : stop - start]
        plan.fill(start, stop, filled)
        these = slice(start, stop) if rows is None else rows[start:stop]
        for j, mask in enumerate(unstatable):
            if mask is not None:
                np.putmask(filled[j], mask[these], -np.inf)
        values = by_row[: stop - start]
        np.copyto(values, filled.T)
        in_block = np.arange(stop - start)
        for r in range(min(3, len(names))):
            best = values.argmax(axis=1)
            order[start:stop, r] = best
            top_values[start:stop, r] = values[in_block, best]
            values[in_block, best] = -np.inf
    return order, top_values
