"""Score open invoices and rank them into a collections worklist, with reasons.

Every open invoice (positive amount) gets one score:

* not yet past due + grace: ``p_late``, the late model's probability that it will be paid late;
* already past due + grace (lateness decided): ``p_unpaid_30d``, the overdue model's
  probability that it is still not fully paid 30 days from now.

``expected_late_amount = score × open amount`` (reporting currency) ranks the worklist. The top
three reasons are the features that raise that invoice's risk most (their contributions to the
logistic model's log-odds), phrased in collectors' words.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._errors import ModelError
from ..config import Config
from ..metrics.days import NO_DAY, day_number, day_numbers
from ..metrics.ids import id_keys
from ..metrics.receivables import CENT, Ledger, rate_factors, row_positions
from ..metrics.tables import Tables
from .features import Knowledge, features_at
from .model import TrainedModel, _CategoryCodes, _Contributions, predict_risk

__all__ = [
    "BASELINE_DAYS_PAST_DUE",
    "BASELINE_LATE_SHARE",
    "score_by_baseline",
    "open_not_scored",
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


def _day_text(day: int) -> str:
    d = np.datetime64(0 if day == NO_DAY else int(day), "D").item()
    return f"{d.day} {d:%b} {d.year}"


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


class _Phrases:
    """Reason texts as codes into one table: each distinct phrase is formatted once."""

    def __init__(self) -> None:
        self.texts: list[str] = [""]  # code 0: no reason
        self._code: dict[str, int] = {"": 0}

    def code(self, text: str) -> int:
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
        import pyarrow as pa

        table = pa.array(self.texts, type=pa.large_string())
        return pd.Series(pd.array(table.take(pa.array(codes)), dtype="str"))


def _reason_codes(
    feature: str, X: pd.DataFrame, idx: np.ndarray, currency: str, phrases: _Phrases
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


def _statable(feature: str, X: pd.DataFrame) -> np.ndarray:
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


def _reasons(
    explainer: dict,
    X: pd.DataFrame,
    currency: str,
    phrases: _Phrases,
    rows: np.ndarray | None = None,
    codes=None,
) -> np.ndarray:
    """Return an (n, 3) array of reason phrase codes (0 where fewer than three push risk up;
    "no strong risk signal" in the first slot when none does) for the rows of ``X``, or for
    its row positions ``rows``."""
    plan = _Contributions(explainer, X, rows, codes)
    names = plan.names
    # where each feature's value is no reason that can be said (None: it always is one)
    unstatable = []
    for name in names:
        ok = _statable(name, X)
        unstatable.append(None if ok.all() else ~ok)
    # the three largest per row, largest first (ties: the earlier feature), by three passes
    # of argmax over one block of rows at a time (the block stays in the CPU cache). The
    # block is filled and masked one feature at a time (contiguous rows of ``by_feature``),
    # then turned to one row per invoice for argmax.
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
    out = np.zeros(order.shape, dtype=np.int64)
    # every (row, rank) slot that holds a reason, grouped by feature: one template call each
    slots = np.flatnonzero(top_values.ravel() > 0.05)
    feature = order.ravel()[slots]
    # features are few: a stable sort of bytes is a counting sort
    grouped = np.argsort(feature.astype(np.uint8 if len(names) < 256 else np.int64), kind="stable")
    slots, feature = slots[grouped], feature[grouped]
    starts = np.r_[0, np.flatnonzero(np.diff(feature)) + 1, len(feature)]
    flat = out.ravel()
    for a, b in zip(starts[:-1], starts[1:], strict=True):
        at = slots[a:b] // 3
        at = at if rows is None else rows[at]
        flat[slots[a:b]] = _reason_codes(names[feature[a]], X, at, currency, phrases)
    out = flat.reshape(order.shape)
    out[out[:, 0] == 0, 0] = phrases.code("no strong risk signal")
    return out


def score_open_invoices(
    model: TrainedModel,
    tables: Tables,
    as_of,
    config: Config | None = None,
    *,
    rows: np.ndarray | None = None,
) -> pd.DataFrame:
    """Return one scored row per open invoice (or per given invoice row) at ``as_of``.

    Columns: invoice and customer ids, dates, open amount (document and reporting currency),
    ``days_past_due``, ``score_kind`` (``p_late`` or ``p_unpaid_30d``), ``probability``,
    ``expected_late_amount`` and ``reason_1..3``. The feature table behind the scores is
    read with :func:`scored_features`.

    Raises
    ------
    ModelError
        The model was trained after ``as_of`` (it would have seen the future).
    """
    config = config or Config()
    b = model.bundle
    T = day_number(as_of)
    if day_number(b["trained_as_of"]) > T:
        raise ModelError(
            f"model trained as of {b['trained_as_of']} cannot score {as_of}: it "
            "has seen outcomes after that date"
        )
    led = Ledger(tables.invoices, tables.payments, activities=tables.activities)
    k = Knowledge.of(
        tables,
        as_of,
        grace_days=b["grace_days"],
        categorical=list(b["categorical"]),
        ledger=led,
    )
    _, open_now, _ = led.balances(as_of)
    if rows is None:
        rows = np.flatnonzero((np.abs(open_now) >= CENT) & k.modelled)
    snap = np.full(len(rows), T, dtype=np.int64)
    X = features_at(k, rows, snap)
    overdue = X["days_past_due"].to_numpy() > b["grace_days"]
    if b.get("overdue") is None:
        overdue[:] = False
    rates, currency = tables.rates(as_of, config)
    prob = np.zeros(len(rows))
    phrases = _Phrases()
    codes = _CategoryCodes(X)
    reasons = np.zeros((len(rows), 3), dtype=np.int64)
    for part, kind in ((~overdue, "late"), (overdue, "overdue")):
        idx = np.flatnonzero(part)
        if not len(idx):
            continue
        # by row positions: the feature table is not copied per model, and category codes
        # are looked up once for all models and explainers
        prob[idx] = predict_risk(b[kind], X, rows=idx, codes=codes)
        reasons[idx] = _reasons(b[kind]["explainer"], X, currency, phrases, rows=idx, codes=codes)
    kind = _text(overdue.astype(np.int8), ["p_late", "p_unpaid_30d"])
    out = _scored_frame(led, rows, open_now, X, kind, prob, reasons, phrases, rates, currency)
    out.attrs["knowledge"] = _Shared(k)  # for drift on the same day, without a second build
    return out


#: Score kinds of a worklist ranked without a model (too little history to train one): the
#: customer's share of invoices paid late so far, or, with no settled invoice at all, days
#: past due × open amount (no probability).
BASELINE_LATE_SHARE = "customer late share"
BASELINE_DAYS_PAST_DUE = "days past due × amount"


def score_by_baseline(tables: Tables, as_of, config: Config | None = None) -> pd.DataFrame:
    """Return one row per open invoice at ``as_of`` scored without a model, in the columns of
    :func:`score_open_invoices`.

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
    >>> s[["invoice_id", "days_past_due", "score_kind"]].to_dict("records")
    [{'invoice_id': 'A', 'days_past_due': 10, 'score_kind': 'days past due × amount'}]
    """
    config = config or Config()
    T = day_number(as_of)
    led = Ledger(tables.invoices, tables.payments, activities=tables.activities)
    k = Knowledge.of(
        tables,
        as_of,
        grace_days=config.grace_days,
        categorical=[],
        ledger=led,
    )
    _, open_now, _ = led.balances(as_of)
    rows = np.flatnonzero((np.abs(open_now) >= CENT) & k.modelled)
    X = features_at(k, rows, np.full(len(rows), T, dtype=np.int64))
    any_history = bool((k.modelled & (k.closed <= T)).any())
    phrases = _Phrases()
    reasons = np.zeros((len(rows), 3), dtype=np.int64)
    everyone = np.arange(len(rows))
    if any_history:
        prob = X["hist_late_share"].to_numpy(dtype=np.float64)
        kind = BASELINE_LATE_SHARE
        reasons[:, 0] = _reason_codes("hist_late_share", X, everyone, "", phrases)
        new = X["hist_n"].to_numpy() == 0
        reasons[new, 0] = _reason_codes("new_customer", X, everyone[new], "", phrases)
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
    kinds = _text(np.zeros(len(rows), dtype=np.int8), [kind])
    return _scored_frame(led, rows, open_now, X, kinds, prob, reasons, phrases, rates, currency)


def _scored_frame(
    led: Ledger,
    rows: np.ndarray,
    open_now: np.ndarray,
    X: pd.DataFrame,
    score_kind: pd.Series,
    prob: np.ndarray,
    reasons: np.ndarray,
    phrases: _Phrases,
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
            "reporting_currency": _text(np.zeros(len(rows), dtype=np.int8), [currency]),
            "days_past_due": X["days_past_due"].to_numpy().astype(np.int64),
            "score_kind": score_kind,
            "probability": prob.round(4),
            "expected_late_amount": np.round(prob * open_amount * factor, 2),
        }
    )
    for j in range(3):
        out[f"reason_{j + 1}"] = phrases.column(reasons[:, j])
    # what is open but not scored (credit notes not applied to an invoice): AR counts it
    on_list = np.zeros(len(open_now), dtype=bool)
    on_list[rows] = True
    rest = np.flatnonzero((np.abs(open_now) >= CENT) & ~on_list)
    rest_factor = rate_factors(led.invoices["currency"].iloc[rest], rates, len(rest))
    out.attrs["open_not_scored"] = float(np.round(open_now[rest] * rest_factor, 2).sum())
    # pandas deep-copies attrs in nearly every operation on the frame (even reading a column):
    # the feature table travels shared, not copied
    out.attrs["features"] = _Shared(X)
    out.attrs["rows"] = _Shared(rows)
    return out


class _Shared:
    """A value kept in ``DataFrame.attrs`` that pandas' copies of attrs share, not copy."""

    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value

    def __copy__(self) -> _Shared:
        return self

    def __deepcopy__(self, memo) -> _Shared:
        return self


def scored_features(scored: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the feature table behind a :func:`score_open_invoices` result (one row per
    scored invoice, in its order) and the scored invoices' row positions in the ledger."""
    features, rows = scored.attrs["features"], scored.attrs["rows"]
    return features.value, rows.value


def scored_knowledge(scored: pd.DataFrame) -> Knowledge:
    """Return what was known on the scoring day of a :func:`score_open_invoices` result."""
    return scored.attrs["knowledge"].value


def open_not_scored(scored: pd.DataFrame) -> float:
    """Return the open balance (reporting currency) at the scoring day of the rows a
    :func:`score_open_invoices` result leaves out: open credit notes not applied to an invoice.
    The scored open amounts plus this make the AR open balance."""
    return scored.attrs["open_not_scored"]


def _text(codes: np.ndarray, values: list[str]) -> pd.Series:
    """Return ``values[code]`` for every code, as a string column."""
    import pyarrow as pa

    decoded = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(values)).dictionary_decode()
    return pd.Series(pd.array(decoded, dtype="str"))


_TEXT = pa.large_string()


def _texts(values) -> pa.Array:
    """Return ``values`` (a pandas column, an Arrow array) as one large-string Arrow array."""
    arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(_TEXT)


def _join(*parts) -> pa.Array:
    """Concatenate texts element-wise (a str part is the same for every row); null where any
    part is null."""
    parts = [pa.scalar(p, _TEXT) if isinstance(p, str) else p.cast(_TEXT) for p in parts]
    return pc.binary_join_element_wise(*parts, pa.scalar("", _TEXT))


def _column(values: pa.Array) -> pd.Series:
    return pd.Series(pd.array(values, dtype="str"))


def _take(values, positions: np.ndarray) -> pa.Array:
    """Return ``values`` (an Arrow array or pandas column) at ``positions`` (null where -1)."""
    arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
    return arr.take(pa.array(positions, mask=positions < 0))


def _date_text(values: pa.Array) -> pa.Array:
    """Return each timestamp as 'YYYY-MM-DD' (null stays null), formatted once per distinct
    value (Arrow's ``strftime`` formats every row: 0.4 s for a million)."""
    encoded = pc.dictionary_encode(values)
    days = encoded.dictionary.to_numpy(zero_copy_only=False).astype("datetime64[D]")
    texts = pa.array(np.datetime_as_string(days, unit="D"), _TEXT)
    return pa.DictionaryArray.from_arrays(encoded.indices, texts).dictionary_decode()


def _latest(rows: np.ndarray, n: int, date: pd.Series, ident: pd.Series) -> np.ndarray:
    """Return, for each of ``n`` targets, the position of its latest entry by ``(date,
    ident)`` among entries for target ``rows`` (ties: the later entry), or -1.

    The same choice as sorting by (row, date, ident) stably, missing values last, and keeping
    each row's last entry; Arrow sorts the keys without building a frame.
    """
    latest = np.full(n, -1, dtype=np.int64)
    if not len(rows):
        return latest
    table = pa.table(
        {
            "row": pa.array(rows),
            "date": pa.array(date),
            "ident": pa.array(ident),
            "at": pa.array(np.arange(len(rows))),
        }
    )
    order = pc.sort_indices(
        table,
        sort_keys=[(name, "ascending", "at_end") for name in ("row", "date", "ident", "at")],
    ).to_numpy()
    sorted_rows = rows[order]
    last = np.flatnonzero(np.r_[sorted_rows[1:] != sorted_rows[:-1], True])
    latest[sorted_rows[last]] = order[last]
    return latest


def _latest_rep(orders: pd.DataFrame, code: np.ndarray, distinct: pd.Series) -> pa.Array:
    """Return the sales rep of each customer's latest order with a rep (null if none; of two
    orders on that day, the later row), as an Arrow array; ``code`` and ``distinct`` are the
    customers' :func:`_customer_codes`."""
    if not len(orders) or not len(code):
        return pa.nulls(len(code), _TEXT)
    # match the (many) orders to the (few) distinct customers first; then two grouped maxima
    # (latest day, then latest row on that day) instead of sorting a million orders
    pos = row_positions(orders["customer_id"], distinct)
    keep = np.flatnonzero((pos >= 0) & orders["sales_rep"].notna().to_numpy())
    group = pos[keep]
    day = day_numbers(orders["order_date"])[keep]
    latest = np.full(len(distinct), np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(latest, group, day)
    on_latest = day == latest[group]
    chosen = np.full(len(distinct), -1, dtype=np.int64)
    np.maximum.at(chosen, group[on_latest], keep[on_latest])
    return _take(_take(orders["sales_rep"], chosen), code)


def _customer_codes(customers: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Return a code per row of ``customers`` (ids compared ignoring case and surrounding
    spaces, as :func:`row_positions` does) and the distinct normalized ids."""
    encoded = pc.dictionary_encode(id_keys(customers))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries().combine_chunks()
    code = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return code, pd.Series(pd.array(encoded.dictionary.cast(_TEXT), dtype="str"))


#: The next action of each dunning stage (another stage: its own name).
ACTION_BY_STAGE = {
    "not due": "no action yet",
    "reminder": "send a payment reminder",
    "call": "call the customer",
    "final notice": "send the final notice",
    "escalate": "escalate to the credit manager",
}


def worklist(
    model: TrainedModel | None,
    tables: Tables,
    as_of,
    config: Config | None = None,
    *,
    scored: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the collections worklist at ``as_of``: open invoices ranked by expected late
    amount, with dunning stage, promise status, last activity, owner and next action.

    ``scored`` reuses a :func:`score_open_invoices` (or :func:`score_by_baseline`, with
    ``model`` ``None``) result for the same day. Every text column is built by Arrow over whole
    columns: a worklist of a million invoices takes seconds.
    """
    config = config or Config()
    if scored is None and model is None:
        scored = score_by_baseline(tables, as_of, config)
    elif scored is None:
        scored = score_open_invoices(model, tables, as_of, config)
    X, _ = scored_features(scored)
    day = pd.Timestamp(as_of).normalize()
    n = len(scored)
    # dunning stage from the configured ladder
    ladder = sorted(config.dunning, key=lambda s: s["from_days"])
    starts = np.array([s["from_days"] for s in ladder])
    days_past_due = scored["days_past_due"].to_numpy()
    stage_idx = np.maximum(np.searchsorted(starts, days_past_due, side="right") - 1, 0)
    stage_names = [str(s["stage"]) for s in ladder]
    # activities on these invoices, up to as_of (matched against the scored invoices only)
    act = tables.activities
    known = ((act["activity_date"] <= day) & act["invoice_id"].notna()).to_numpy(
        dtype=bool, na_value=False
    )
    act = act.loc[known]
    a_rows = row_positions(act["invoice_id"], scored["invoice_id"])
    matched = a_rows >= 0
    act, a_rows = act.loc[matched], a_rows[matched]
    last = _latest(a_rows, n, act["activity_date"], act["activity_id"])
    has_last = last >= 0
    outcome = _take(act["outcome"], last)
    last_text = pc.if_else(
        pa.array(has_last),
        _join(
            _date_text(_take(act["activity_date"], last)),
            " ",
            pc.fill_null(_texts(_take(act["type"], last)), ""),
            pc.fill_null(_join(": ", pc.replace_substring(_texts(outcome), "_", " ")), ""),
        ),
        pa.scalar("none", _TEXT),
    )
    promising = ((act["outcome"] == "promise_to_pay") & act["promised_date"].notna()).to_numpy(
        dtype=bool, na_value=False
    )
    promises = act.loc[promising]
    promise = _latest(a_rows[promising], n, promises["activity_date"], promises["activity_id"])
    promised = _take(promises["promised_date"], promise)
    has_promise = promise >= 0
    promised_day = day_numbers(promises["promised_date"])
    # an invoice without a promise (all of them when there is no activities export) has none
    promised_day = (
        promised_day[promise] if len(promised_day) else np.zeros(n, dtype=promised_day.dtype)
    )
    pending = has_promise & (promised_day >= day_number(day))
    broken = has_promise & ~pending
    promised_text = _date_text(promised)
    none = pa.scalar("none", _TEXT)
    promise_status = pc.if_else(
        pa.array(pending),
        _join("promised for ", promised_text, " (pending)"),
        pc.if_else(pa.array(broken), _join("promised for ", promised_text, ": broken"), none),
    )
    # owner: the last person who worked the invoice, else the customer's sales rep
    owner = pc.fill_null(_texts(_take(act["owner"], last)), "")
    code, distinct = _customer_codes(scored["customer_id"])
    rep = pc.fill_null(_texts(_latest_rep(tables.orders, code, distinct)), "")
    owner = pc.if_else(pc.equal(owner, ""), rep, owner)
    owner = pc.if_else(pc.equal(owner, ""), pa.scalar("unassigned", _TEXT), owner)
    # customer names
    cust = tables.customers
    if len(cust) and "name" in cust:
        pos = row_positions(distinct, cust["customer_id"])[np.maximum(code, 0)]
        pos[code < 0] = -1
        names = pc.if_else(
            pa.array(pos >= 0), _texts(_take(cust["name"], pos)), pa.scalar("", _TEXT)
        )
    else:
        names = pa.nulls(n, _TEXT).fill_null("")
    # next action: the first that applies of dispute, broken promise, pending promise, a
    # likely-late invoice not yet due, the stage's own action
    dispute = X["dispute_known"].to_numpy() > 0
    prob = scored["probability"].to_numpy()
    not_due = days_past_due <= 0
    fixed = [ACTION_BY_STAGE.get(s, s) for s in stage_names] + [
        "resolve the dispute before chasing payment",
        "call: the promise to pay was broken",
        "courtesy call before the due date",
    ]
    k = len(stage_names)
    choice = stage_idx.copy()
    choice[not_due & (prob >= 0.5)] = k + 2
    choice[pending] = -1  # its text carries the promised date
    choice[broken] = k + 1
    choice[dispute] = k
    next_action = pc.if_else(
        pa.array(choice == -1),
        _join("wait for the promised payment (", promised_text, ")"),
        _texts(pa.array(fixed, _TEXT).take(pa.array(np.maximum(choice, 0)))),
    )
    out = scored.assign(
        customer_name=_column(names),
        dunning_stage=_text(stage_idx, stage_names),
        promise_status=_column(promise_status),
        last_activity=_column(last_text),
        owner=_column(owner),
        next_action=_column(next_action),
    )
    # ranked by expected late amount, then open amount, both descending; ties keep their order.
    # Scored without any probability (a warehouse with no settled invoice yet), by days past
    # due × open amount instead.
    open_reporting = out["open_amount_reporting"].to_numpy()
    key = out["expected_late_amount"].to_numpy(dtype=np.float64)
    key = np.where(np.isnan(key), np.maximum(days_past_due, 0) * open_reporting, key)
    order = np.lexsort((-open_reporting, -key))
    columns = [c for c in WORKLIST_COLUMNS if c != "rank"]
    result = out[columns].take(order).reset_index(drop=True)
    result.insert(0, "rank", np.arange(1, n + 1))
    result.attrs.clear()
    return result[WORKLIST_COLUMNS]
