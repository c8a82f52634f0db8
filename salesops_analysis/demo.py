"""Realistic, deterministic demo ERP exports.

:func:`generate_demo` simulates a B2B seller over a date range and writes the five exports an ERP
would give (orders, invoices, payments, activities, customers) plus an FX-rates file, with the
messiness of real exports. The simulation is vectorized (numpy); DuckDB formats and writes the
files, so a million invoices take seconds.

What the exports contain, so that tests and users can count on it
-----------------------------------------------------------------
Behaviour
    * Customers have a persistent late-payment propensity. About 8% are *chronic* late payers
      (segment flag ``chronic`` in the manifest only, never in the exports) and about 6% *drift*:
      they pay later the further the simulation runs.
    * Terms NET15 / NET30 / NET45 / NET60 (enterprise customers get longer terms).
    * Orders cluster at month and quarter ends; invoices issued in the last five days of a quarter
      are paid later (end-of-quarter deals).
    * Disputes (about 4%) delay payment by 15-60 days; about 6% of invoices are paid in two
      instalments; about 1.5% get a credit note (negative invoice, id ``CN…``, column
      ``Return Against`` naming the credited invoice); a few chronic late payers are written off.
    * Three currencies (USD, EUR, GBP) by customer country; ``fx_rates.csv`` has a daily rate to
      USD for each.
    * Collectors call overdue invoices; promises to pay are kept (payment within a few days of the
      promised date) or broken; contacted invoices are paid sooner. Sales reps log meetings and
      calls on orders. Disputes are logged as activities.
    * About 6% of orders have no promised date; orders move through received → processing →
      (on hold) → shipped → invoiced, some are cancelled.
Messiness (exact counts per file are in ``demo_manifest.json``)
    * ERP-style column headers (the shipped ``salesops.yml`` maps them).
    * Amounts formatted ``1,234.50``; negative amounts as ``(120.00)``.
    * Invoices dates as ``DD/MM/YYYY``; activities as ``YYYY-MM-DD HH:MM``; others ISO.
    * About 2% of id cells with stray spaces; statuses and currency codes in mixed case.
    * ``duplicate_rate`` (0.5%) of rows repeated exactly; ``bad_row_rate`` (0.3%) of rows broken:
      a blank key, an impossible date (``2024-02-30``) or a garbage amount (``#VALUE!``). Broken and
      duplicated rows are disjoint, so an ingest must load ``rows - duplicates - bad_rows``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from ._errors import SalesOpsError

__all__ = ["DEMO_END", "generate_demo"]

DEMO_END = dt.date(2025, 6, 30)
DUPLICATE_RATE = 0.005
BAD_ROW_RATE = 0.003

_SEGMENTS = np.array(["Enterprise", "Mid-Market", "SMB"])
_COUNTRIES = np.array(["US", "CA", "GB", "DE", "FR", "NL"])
_COUNTRY_P = [0.42, 0.08, 0.15, 0.17, 0.11, 0.07]
_COUNTRY_CCY = np.array([0, 0, 2, 1, 1, 1])  # index into _CURRENCIES
_CURRENCIES = np.array(["USD", "EUR", "GBP"])
_TERMS = np.array([15, 30, 45, 60])
_TERMS_P = np.array([[0.05, 0.35, 0.25, 0.35], [0.10, 0.55, 0.20, 0.15], [0.25, 0.60, 0.10, 0.05]])
_TEAMS = np.array(["North", "South", "East", "West"])
_REPS = np.array(
    [
        f"{first} {last}"
        for first, last in zip(
            "Ana Ben Chloe Dev Elena Farid Grace Hugo Ines Jonas Kira Luis "
            "Maya Nico Omar Priya Quinn Rosa Sam Tara Umar Vera Wes Yara".split(),
            "Silva Okafor Martin Patel Rossi Haddad Kim Weber Costa Berg Novak Ortiz "
            "Singh Laurent Aziz Rao Murphy Diaz Cohen Evans Khan Ivanova Brooks Sato".split(),
            strict=True,
        )
    ]
)
_COLLECTORS = np.array(["Alex Moreau", "Bea Lindqvist", "Carl Mensah", "Dana Fischer", "Eli Novak"])
_NAME_A = np.array(
    "Acme Northwind Globex Initech Umbrella Stark Wayne Vandelay Hooli Soylent Tyrell Cyberdyne "
    "Wonka Gringotts Oscorp Aperture Massive Dynamic Blue Summit Redwood Silverline Ironclad "
    "Evergreen Bluewater Pinnacle Horizon Atlas Meridian Sterling Keystone".split()
)
_NAME_B = np.array(
    "Logistics Foods Systems Retail Pharma Motors Textiles Energy Labs Supply".split()
)
_NAME_SUFFIX = np.array(["Inc", "Ltd", "Ltd", "GmbH", "SARL", "BV"])  # by country

_ORDER_STATUS = np.array(["Received", "In Process", "On Hold", "Shipped", "Invoiced", "Cancelled"])
_INVOICE_STATUS = np.array(
    ["Unpaid", "Partly Paid", "Paid", "Disputed", "Written Off", "Credit Note"]
)
_ACT_TYPES = np.array(["Call", "Email", "Meeting", "Note", "Escalation", "Follow Up"])
_OUTCOMES = np.array(["", "Promise to Pay", "No Answer", "Dispute", "Paid"])
_GARBAGE = ["#VALUE!", "N/A", "12..50", "abc"]


def _days(a: np.ndarray) -> np.ndarray:
    return a.astype("datetime64[D]").astype(np.int64)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _weighted_days(rng: np.random.Generator, start: int, n_days: int, size: int) -> np.ndarray:
    """Draw order days with weekday, month-end, quarter-end and growth effects."""
    days = np.arange(start, start + n_days)
    d64 = days.astype("datetime64[D]")
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    month_end = (d64 + 1).astype("datetime64[M]") != d64.astype("datetime64[M]")
    next_month = d64.astype("datetime64[M]") + 1
    days_to_month_end = (next_month.astype("datetime64[D]") - d64).astype(np.int64)
    month_no = d64.astype("datetime64[M]").astype(np.int64) % 12
    quarter_end_month = month_no % 3 == 2
    w = np.where(weekday >= 5, 0.15, 1.0)
    w = w * np.where(days_to_month_end <= 3, 1.8, 1.0)
    w = w * np.where(quarter_end_month & (days_to_month_end <= 5), 2.2, 1.0)
    w = w * (1.0 + 0.3 * np.arange(n_days) / n_days)
    del month_end
    return rng.choice(days, size=size, p=w / w.sum())


def _quarter_end_window(day: np.ndarray) -> np.ndarray:
    d64 = day.astype("datetime64[D]")
    month = d64.astype("datetime64[M]")
    days_left = ((month + 1).astype("datetime64[D]") - d64).astype(np.int64)
    return (month.astype(np.int64) % 12 % 3 == 2) & (days_left <= 5)


def _simulate(rng: np.random.Generator, n_invoices: int, start: int, end: int) -> dict:
    """Return the clean simulated world as numpy arrays (days as int days since epoch)."""
    n_days = end - start + 1
    n_cust = max(20, n_invoices // 25)
    # --- customers -------------------------------------------------------------------------
    seg = rng.choice(3, n_cust, p=[0.15, 0.35, 0.50])
    country = rng.choice(len(_COUNTRIES), n_cust, p=_COUNTRY_P)
    u = rng.random(n_cust)
    terms = _TERMS[(u[:, None] > np.cumsum(_TERMS_P[seg], axis=1)).sum(axis=1).clip(0, 3)]
    chronic = rng.random(n_cust) < 0.08
    drift = ~chronic & (rng.random(n_cust) < 0.06)
    base = rng.normal(-1.5, 1.0, n_cust) + np.array([-0.3, 0.0, 0.3])[seg] + 2.3 * chronic
    drift_slope = np.where(drift, rng.uniform(1.2, 2.2, n_cust), 0.0)
    mean_amount = np.exp(rng.normal(np.log(np.array([20000.0, 5000.0, 1200.0])[seg]), 0.5))
    credit_limit = np.round(mean_amount * rng.uniform(4, 12, n_cust), -3).clip(1000)
    rep = rng.integers(0, len(_REPS), n_cust)
    collector = rng.integers(0, len(_COLLECTORS), n_cust)
    frequency = rng.lognormal(0.0, 0.8, n_cust)
    name_a = rng.integers(0, len(_NAME_A), n_cust)
    name_b = rng.integers(0, len(_NAME_B), n_cust)

    # --- orders ------------------------------------------------------------------------------
    n_orders = int(round(n_invoices / 0.963))
    order_day = np.sort(_weighted_days(rng, start, n_days, n_orders))
    o_cust = rng.choice(n_cust, n_orders, p=frequency / frequency.sum())
    o_amount = np.round(mean_amount[o_cust] * rng.lognormal(-0.18, 0.6, n_orders), 2).clip(5)
    promised = order_day + 5 + rng.integers(0, 16, n_orders)
    no_promise = rng.random(n_orders) < 0.06
    on_hold = rng.random(n_orders) < 0.04
    processing = 1 + np.round(rng.gamma(2.0, 2.0, n_orders)).astype(np.int64)
    hold_days = np.where(on_hold, rng.integers(5, 40, n_orders), 0)
    shipped = order_day + processing + hold_days
    invoiced = shipped + rng.integers(0, 3, n_orders)
    cancelled = rng.random(n_orders) < 0.03
    o_status = np.select(
        [
            cancelled,
            invoiced <= end,
            shipped <= end,
            on_hold & (order_day + processing <= end),
            order_day + 1 <= end,
        ],
        [5, 4, 3, 2, 1],
        0,
    )
    shipped_known = ~cancelled & (shipped <= end)
    invoiced_known = ~cancelled & (invoiced <= end)

    # --- invoices ----------------------------------------------------------------------------
    inv_order = np.flatnonzero(invoiced_known)
    inv_order = inv_order[np.argsort(invoiced[inv_order], kind="stable")]
    n_inv = len(inv_order)
    i_cust = o_cust[inv_order]
    i_day = invoiced[inv_order]
    i_amount = o_amount[inv_order]
    i_terms = terms[i_cust]
    i_due = i_day + i_terms
    years = (i_day - start) / 365.25
    qe = _quarter_end_window(i_day)
    disputed = rng.random(n_inv) < (0.03 + 0.04 * chronic[i_cust])
    dispute_day = i_day + rng.integers(5, 25, n_inv)
    logit = (
        base[i_cust]
        + drift_slope[i_cust] * years
        + 0.9 * qe
        + 0.9 * np.log(i_amount / mean_amount[i_cust])
        + 0.3 * (i_terms >= 60)
        + 1.6 * disputed
        + rng.normal(0.0, 0.5, n_inv)
    )
    late = rng.random(n_inv) < _sigmoid(logit)
    late_scale = 5.0 + 25.0 * _sigmoid(base[i_cust])
    days_late = np.where(late, 1 + np.floor(rng.gamma(1.3, late_scale)), 0).astype(np.int64)
    days_late = days_late + np.where(disputed, rng.integers(15, 60, n_inv), 0)
    early = np.floor(rng.random(n_inv) ** 2 * i_terms * 0.7).astype(np.int64)
    settle = np.where(days_late > 0, i_due + days_late, i_due - early)
    settle = np.maximum(settle, i_day + 1)
    # collectors: first contact a few days after due, only while unpaid
    contacted = (days_late > 0) & (rng.random(n_inv) < 0.75)
    first_contact = i_due + rng.integers(1, 8, n_inv)
    contacted &= first_contact < settle
    # a call helps: contacted invoices are paid about 30% sooner than they would have been
    sooner = i_due + np.ceil(days_late * 0.7).astype(np.int64)
    settle = np.where(contacted, np.maximum(first_contact + 1, sooner), settle)
    written_off = late & chronic[i_cust] & (rng.random(n_inv) < 0.08)
    # credit notes
    credit = ~written_off & (rng.random(n_inv) < 0.015)
    full_credit = credit & (rng.random(n_inv) < 0.25)
    credit_share = np.where(full_credit, 1.0, rng.uniform(0.1, 0.5, n_inv))
    credit_amount = np.where(credit, np.round(i_amount * credit_share, 2), 0.0)
    credit_day = i_day + rng.integers(3, 20, n_inv)
    settle = np.where(full_credit, credit_day, settle)
    cash_due = np.round(i_amount - credit_amount, 2)
    # partial payments: first instalment earlier
    partial = ~written_off & ~full_credit & (rng.random(n_inv) < 0.06)
    first_share = rng.uniform(0.3, 0.7, n_inv)
    first_amount = np.where(partial, np.round(cash_due * first_share, 2), 0.0)
    first_day = np.maximum(i_day + 1, settle - rng.integers(10, 40, n_inv))

    return dict(
        start=start,
        end=end,
        c_seg=seg,
        c_country=country,
        c_terms=terms,
        c_chronic=chronic,
        c_drift=drift,
        c_credit_limit=credit_limit,
        c_rep=rep,
        c_collector=collector,
        c_name_a=name_a,
        c_name_b=name_b,
        o_day=order_day,
        o_cust=o_cust,
        o_amount=o_amount,
        o_promised=promised,
        o_no_promise=no_promise,
        o_shipped=shipped,
        o_invoiced=invoiced,
        o_status=o_status,
        o_shipped_known=shipped_known,
        o_invoiced_known=invoiced_known,
        inv_order=inv_order,
        i_cust=i_cust,
        i_day=i_day,
        i_amount=i_amount,
        i_terms=i_terms,
        i_due=i_due,
        i_disputed=disputed,
        i_dispute_day=dispute_day,
        i_settle=settle,
        i_written_off=written_off,
        i_credit=credit,
        i_full_credit=full_credit,
        i_credit_amount=credit_amount,
        i_credit_day=credit_day,
        i_cash_due=cash_due,
        i_partial=partial,
        i_first_amount=first_amount,
        i_first_day=first_day,
        i_contacted=contacted,
        i_first_contact=first_contact,
    )


def _payments(w: dict) -> dict:
    """Cash payments dated on or before the end date."""
    end = w["end"]
    paid = ~w["i_written_off"] & ~w["i_full_credit"]
    inv = np.flatnonzero(paid)
    first = inv[w["i_partial"][inv]]
    p_inv = np.concatenate([first, inv])
    p_day = np.concatenate([w["i_first_day"][first], w["i_settle"][inv]])
    p_amount = np.concatenate(
        [w["i_first_amount"][first], np.round(w["i_cash_due"][inv] - w["i_first_amount"][inv], 2)]
    )
    keep = p_day <= end
    p_inv, p_day, p_amount = p_inv[keep], p_day[keep], p_amount[keep]
    order = np.lexsort((p_inv, p_day))
    return dict(p_inv=p_inv[order], p_day=p_day[order], p_amount=p_amount[order])


def _activities(rng: np.random.Generator, w: dict) -> dict:
    """Collector and sales activities dated on or before the end date."""
    end = w["end"]
    n_inv = len(w["i_day"])
    settle = np.where(w["i_written_off"], end + 10_000, w["i_settle"])
    due = w["i_due"]
    fc = w["i_first_contact"]
    contacted = w["i_contacted"]
    kept = contacted & (settle - fc <= 14)
    promise_broken = contacted & ~kept & (rng.random(n_inv) < 0.55)
    first_outcome = np.where(kept | promise_broken, 1, 2)
    first_promise = np.where(
        kept,
        np.maximum(fc + 1, settle - rng.integers(0, 3, n_inv)),
        fc + rng.integers(3, 10, n_inv),
    )
    second = fc + rng.integers(7, 15, n_inv)
    has_second = contacted & ~kept & (second < settle)
    second_kept = has_second & (settle - second <= 14)
    escalate_day = due + 60
    escalated = (settle > escalate_day) & (escalate_day <= end)
    inv_idx = np.arange(n_inv)
    parts = [
        # (invoice index, day, type, outcome, promised day or -1)
        (
            inv_idx[contacted],
            fc[contacted],
            rng.choice([0, 1], contacted.sum(), p=[0.7, 0.3]),
            first_outcome[contacted],
            np.where(first_outcome == 1, first_promise, -1)[contacted],
        ),
        (
            inv_idx[has_second],
            second[has_second],
            np.full(has_second.sum(), 5),
            np.where(second_kept, 1, 2)[has_second],
            np.where(second_kept, np.maximum(second + 1, settle - 1), -1)[has_second],
        ),
        (
            inv_idx[escalated],
            escalate_day[escalated],
            np.full(escalated.sum(), 4),
            np.zeros(escalated.sum(), dtype=np.int64),
            np.full(escalated.sum(), -1),
        ),
        (
            inv_idx[w["i_disputed"]],
            w["i_dispute_day"][w["i_disputed"]],
            np.full(w["i_disputed"].sum(), 3),
            np.full(w["i_disputed"].sum(), 3),
            np.full(w["i_disputed"].sum(), -1),
        ),
    ]
    a_inv = np.concatenate([p[0] for p in parts])
    a_day = np.concatenate([p[1] for p in parts])
    a_type = np.concatenate([p[2] for p in parts])
    a_outcome = np.concatenate([p[3] for p in parts])
    a_promised = np.concatenate([p[4] for p in parts])
    a_cust = w["i_cust"][a_inv]
    a_owner_collector = w["c_collector"][a_cust]
    # sales activities on orders
    n_orders = len(w["o_day"])
    sales = np.flatnonzero(rng.random(n_orders) < 0.25)
    s_day = w["o_day"][sales] - rng.integers(0, 10, len(sales))
    s_type = rng.choice([0, 1, 2], len(sales), p=[0.4, 0.3, 0.3])
    n_coll = len(a_inv)
    day = np.concatenate([a_day, s_day])
    keep = (day <= end) & (day >= w["start"])
    rec = dict(
        day=day,
        minute=rng.integers(8 * 60, 18 * 60, len(day)),
        type=np.concatenate([a_type, s_type]),
        outcome=np.concatenate([a_outcome, np.zeros(len(sales), dtype=np.int64)]),
        promised=np.concatenate([a_promised, np.full(len(sales), -1)]),
        inv=np.concatenate([a_inv, np.full(len(sales), -1)]),
        order=np.concatenate([np.full(n_coll, -1), sales]),
        cust=np.concatenate([a_cust, w["o_cust"][sales]]),
        owner_is_rep=np.concatenate([np.zeros(n_coll, bool), np.ones(len(sales), bool)]),
        owner=np.concatenate([a_owner_collector, w["c_rep"][w["o_cust"][sales]]]),
    )
    order = np.lexsort((rec["minute"][keep], rec["day"][keep]))
    return {k: v[keep][order] for k, v in rec.items()}


def _mess(rng: np.random.Generator, n: int, bad_kinds: int) -> dict:
    """Per-row messiness codes: duplicates, broken rows, stray spaces, case variants."""
    n_dup = int(round(n * DUPLICATE_RATE))
    n_bad = int(round(n * BAD_ROW_RATE))
    chosen = rng.choice(n, size=min(n, n_dup + n_bad), replace=False)
    dup = np.zeros(n, dtype=np.int64)
    dup[chosen[:n_dup]] = 1
    bad = np.zeros(n, dtype=np.int64)
    bad[chosen[n_dup:]] = rng.integers(1, bad_kinds + 1, len(chosen) - n_dup)
    return dict(
        seq=np.arange(n, dtype=np.int64),
        copies=dup + 1,
        bad=bad,
        ws=rng.random(n) < 0.02,
        case=rng.choice(4, n, p=[0.85, 0.06, 0.06, 0.03]),
        garbage=rng.integers(0, len(_GARBAGE), n),
    )


_SQL_HELPERS = """
CREATE OR REPLACE MACRO ws(s, flag) AS CASE WHEN flag THEN ' ' || s || '  ' ELSE s END;
CREATE OR REPLACE MACRO casev(s, c) AS CASE c WHEN 1 THEN upper(s) WHEN 2 THEN lower(s)
    WHEN 3 THEN s || ' ' ELSE s END;
CREATE OR REPLACE MACRO money(x) AS CASE WHEN x < 0 THEN '(' || format('{:,.2f}', -x) || ')'
    ELSE format('{:,.2f}', x) END;
CREATE OR REPLACE MACRO d(x) AS (DATE '1970-01-01' + CAST(x AS INTEGER));
"""


def _write(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> None:
    con.execute(
        f"COPY (SELECT nullif(COLUMNS(*), '') FROM ({sql})) TO '{path.as_posix()}' "
        "(FORMAT csv, HEADER true, QUOTE '\"')"
    )


def generate_demo(
    out: str | Path = "data/raw",
    *,
    seed: int = 7,
    scale: int = 50_000,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> dict:
    """Write realistic demo ERP exports and return their manifest.

    Parameters
    ----------
    out : str or Path
        Folder to write into (created if needed). Existing demo files there are replaced.
    seed : int
        Random seed; the same seed and options give byte-identical files.
    scale : int
        About how many invoices to simulate (customers: one per 25 invoices, at least 20).
    start, end : datetime.date, optional
        Simulated period; default the two years ending on :data:`DEMO_END`.

    Returns
    -------
    dict
        The manifest also written to ``demo_manifest.json``: per file the rows written, exact
        duplicates and broken rows injected, plus the period and the seed.

    Raises
    ------
    SalesOpsError
        If the period is empty or ``scale`` is below 100.

    Examples
    --------
    >>> import tempfile
    >>> m = generate_demo(tempfile.mkdtemp(), scale=2_000)
    >>> sorted(m["files"])[:2]
    ['activities.csv', 'customers.csv']
    """
    end = end or DEMO_END
    start = start or (end - dt.timedelta(days=730))
    if start >= end:
        raise SalesOpsError(f"demo period is empty: start {start} is not before end {end}")
    if scale < 100:
        raise SalesOpsError(f"--scale must be at least 100 invoices, got {scale}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    s_day = (start - dt.date(1970, 1, 1)).days
    e_day = (end - dt.date(1970, 1, 1)).days
    w = _simulate(rng, scale, s_day, e_day)
    pay = _payments(w)
    act = _activities(rng, w)

    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute(_SQL_HELPERS)
    manifest: dict = {
        "seed": seed,
        "scale": scale,
        "start": str(start),
        "end": str(end),
        "files": {},
    }

    def register(name: str, cols: dict, bad_kinds: int) -> dict:
        n = len(next(iter(cols.values())))
        m = _mess(rng, n, bad_kinds)
        con.register(name, pa.table({**cols, **m}))
        bad_counts = np.bincount(m["bad"], minlength=bad_kinds + 1)[1:]
        return {
            "dups": int((m["copies"] > 1).sum()),
            "bad": [int(x) for x in bad_counts],
            "unique": n,
        }

    def record(file: str, info: dict, bad_names: list[str]) -> None:
        manifest["files"][file] = {
            "rows": info["unique"] + info["dups"],
            "exact_duplicates": info["dups"],
            "bad_rows": int(sum(info["bad"])),
            "bad_rows_by_kind": dict(zip(bad_names, info["bad"], strict=True)),
        }

    dup = "JOIN range(1, 3) r(k) ON r.k <= t.copies"
    # --- customers --------------------------------------------------------------------------
    n_cust = len(w["c_seg"])
    info = register(
        "c",
        dict(
            id=np.arange(1, n_cust + 1),
            seg=w["c_seg"],
            country=w["c_country"],
            terms=w["c_terms"],
            climit=w["c_credit_limit"],
            na=w["c_name_a"],
            nb=w["c_name_b"],
        ),
        bad_kinds=2,
    )
    con.register("seg_names", pa.table({"i": np.arange(3), "v": _SEGMENTS}))
    _write(
        con,
        f"""
        SELECT CASE WHEN bad = 1 THEN '' ELSE ws(printf('C%06d', id), ws) END AS "Customer Code",
          {_lookup("na", _NAME_A)} || ' ' || {_lookup("nb", _NAME_B)} || ' '
            || {_lookup("country", _NAME_SUFFIX)} AS "Customer Name",
          {_lookup("seg", _SEGMENTS)} AS "Customer Group",
          {_lookup("country", _COUNTRIES)} AS "Territory",
          CASE WHEN bad = 2 THEN {_lookup("garbage", np.array(_GARBAGE))} ELSE money(climit) END
            AS "Credit Limit",
          'NET' || terms AS "Payment Terms Template"
        FROM c t {dup} ORDER BY seq, k""",
        out / "customers.csv",
    )
    record("customers.csv", info, ["blank_key", "garbage_amount"])

    # --- orders ----------------------------------------------------------------------------
    n_ord = len(w["o_day"])
    oc = w["o_cust"]
    info = register(
        "o",
        dict(
            id=np.arange(1, n_ord + 1),
            cust=oc + 1,
            day=w["o_day"],
            rep=w["c_rep"][oc],
            status=w["o_status"],
            amount=w["o_amount"],
            ccy=_COUNTRY_CCY[w["c_country"][oc]],
            promised=np.where(w["o_no_promise"], -1, w["o_promised"]),
            shipped=np.where(w["o_shipped_known"], w["o_shipped"], -1),
            invoiced=np.where(w["o_invoiced_known"], w["o_invoiced"], -1),
        ),
        bad_kinds=3,
    )
    _write(
        con,
        f"""
        SELECT CASE WHEN bad = 1 THEN '' ELSE ws(printf('SO-%07d', id), ws) END AS "Order No",
          printf('C%06d', cust) AS "Customer",
          CASE WHEN bad = 2 THEN strftime(d(day), '%Y') || '-02-30'
               ELSE strftime(d(day), '%Y-%m-%d') END AS "Order Date",
          {_lookup("rep", _REPS)} AS "Sales Rep",
          {_lookup("rep % 4", _TEAMS)} AS "Sales Team",
          casev({_lookup("status", _ORDER_STATUS)}, "case") AS "Order Status",
          CASE WHEN bad = 3 THEN {_lookup("garbage", np.array(_GARBAGE))} ELSE money(amount) END
            AS "Net Amount",
          {_lookup("ccy", _CURRENCIES)} AS "Currency",
          CASE WHEN promised < 0 THEN '' ELSE strftime(d(promised), '%Y-%m-%d') END
            AS "Promised Delivery",
          CASE WHEN shipped < 0 THEN '' ELSE strftime(d(shipped), '%Y-%m-%d') END AS "Ship Date",
          CASE WHEN invoiced < 0 THEN '' ELSE strftime(d(invoiced), '%Y-%m-%d') END
            AS "Invoice Date"
        FROM o t {dup} ORDER BY seq, k""",
        out / "orders.csv",
    )
    record("orders.csv", info, ["blank_key", "impossible_date", "garbage_amount"])

    # --- invoices (with credit notes) ------------------------------------------------------
    end_d = e_day
    n_inv = len(w["i_day"])
    pay_before_end = np.bincount(pay["p_inv"], weights=pay["p_amount"], minlength=n_inv)
    credit_applied = np.where(w["i_credit"] & (w["i_credit_day"] <= end_d), w["i_credit_amount"], 0)
    settled_amount = np.round(pay_before_end + credit_applied, 2)
    fully = ~w["i_written_off"] & (w["i_settle"] <= end_d)
    wo_day = w["i_due"] + 180
    written_off = w["i_written_off"] & (wo_day <= end_d)
    disputed_now = w["i_disputed"] & (w["i_dispute_day"] <= end_d)
    status = np.select(
        [written_off, w["i_full_credit"] & fully, fully, disputed_now, settled_amount > 0],
        [4, 5, 2, 3, 1],
        0,
    )
    cn = np.flatnonzero(w["i_credit"] & (w["i_credit_day"] <= end_d))
    ccy = _COUNTRY_CCY[w["c_country"][w["i_cust"]]]
    n_cn = len(cn)
    is_cn = np.concatenate([np.zeros(n_inv, bool), np.ones(n_cn, bool)])
    inv_day = np.concatenate([w["i_day"], w["i_credit_day"][cn]])
    order_rows = np.argsort(inv_day, kind="stable")
    inv_cols = dict(
        id=np.concatenate([np.arange(1, n_inv + 1), np.arange(1, n_cn + 1)]),
        is_cn=is_cn,
        against=np.concatenate([np.full(n_inv, -1), cn + 1]),
        cust=np.concatenate([w["i_cust"], w["i_cust"][cn]]) + 1,
        so=np.concatenate([w["inv_order"], w["inv_order"][cn]]) + 1,
        day=inv_day,
        due=np.concatenate([w["i_due"], w["i_credit_day"][cn]]),
        amount=np.concatenate([w["i_amount"], -w["i_credit_amount"][cn]]),
        ccy=np.concatenate([ccy, ccy[cn]]),
        status=np.concatenate([status, np.full(n_cn, 5)]),
        paid=np.concatenate(
            [np.where(written_off, pay_before_end, settled_amount), -w["i_credit_amount"][cn]]
        ),
        paid_day=np.concatenate(
            [np.where(fully & ~written_off, w["i_settle"], -1), w["i_credit_day"][cn]]
        ),
        disputed=np.concatenate([disputed_now, np.zeros(n_cn, bool)]),
        terms=np.concatenate([w["i_terms"], w["i_terms"][cn]]),
    )
    info = register("i", {k: v[order_rows] for k, v in inv_cols.items()}, bad_kinds=3)
    _write(
        con,
        f"""
        SELECT CASE WHEN bad = 1 THEN ''
               ELSE ws(CASE WHEN is_cn THEN printf('CN-%06d', id) ELSE printf('INV-%07d', id) END,
                       ws) END AS "Invoice No",
          ws(printf('C%06d', cust), ws AND bad = 0) AS "Customer",
          printf('SO-%07d', so) AS "Sales Order",
          CASE WHEN bad = 2 THEN '30/02/' || strftime(d(day), '%Y')
               ELSE strftime(d(day), '%d/%m/%Y') END AS "Posting Date",
          strftime(d(due), '%d/%m/%Y') AS "Due Date",
          CASE WHEN bad = 3 THEN {_lookup("garbage", np.array(_GARBAGE))} ELSE money(amount) END
            AS "Grand Total",
          casev({_lookup("ccy", _CURRENCIES)}, CASE WHEN "case" = 2 THEN 2 ELSE 0 END)
            AS "Currency",
          casev({_lookup("status", _INVOICE_STATUS)}, "case") AS "Status",
          money(paid) AS "Paid Amount",
          CASE WHEN paid_day < 0 THEN '' ELSE strftime(d(paid_day), '%d/%m/%Y') END
            AS "Payment Date",
          CASE WHEN disputed THEN 'Yes' ELSE 'No' END AS "In Dispute",
          'NET' || terms AS "Payment Terms",
          CASE WHEN against < 0 THEN '' ELSE printf('INV-%07d', against) END AS "Return Against"
        FROM i t {dup} ORDER BY seq, k""",
        out / "invoices.csv",
    )
    record("invoices.csv", info, ["blank_key", "impossible_date", "garbage_amount"])

    # --- payments ---------------------------------------------------------------------------
    n_pay = len(pay["p_inv"])
    info = register(
        "p",
        dict(
            id=np.arange(1, n_pay + 1),
            inv=pay["p_inv"] + 1,
            cust=w["i_cust"][pay["p_inv"]] + 1,
            day=pay["p_day"],
            amount=pay["p_amount"],
            ccy=ccy[pay["p_inv"]],
        ),
        bad_kinds=3,
    )
    _write(
        con,
        f"""
        SELECT CASE WHEN bad = 1 THEN '' ELSE ws(printf('PAY-%07d', id), ws) END AS "Payment Entry",
          printf('INV-%07d', inv) AS "Reference Invoice",
          printf('C%06d', cust) AS "Party",
          CASE WHEN bad = 2 THEN strftime(d(day), '%Y') || '-02-30'
               ELSE strftime(d(day), '%Y-%m-%d') END AS "Posting Date",
          CASE WHEN bad = 3 THEN {_lookup("garbage", np.array(_GARBAGE))}
               ELSE printf('%.2f', amount) END AS "Paid Amount",
          {_lookup("ccy", _CURRENCIES)} AS "Currency"
        FROM p t {dup} ORDER BY seq, k""",
        out / "payments.csv",
    )
    record("payments.csv", info, ["blank_key", "impossible_date", "garbage_amount"])

    # --- activities -------------------------------------------------------------------------
    n_act = len(act["day"])
    owner_names = np.concatenate([_COLLECTORS, _REPS])
    info = register(
        "a",
        dict(
            id=np.arange(1, n_act + 1),
            day=act["day"],
            minute=act["minute"],
            type=act["type"],
            outcome=act["outcome"],
            promised=act["promised"],
            inv=act["inv"],
            order=act["order"],
            cust=act["cust"] + 1,
            owner=np.where(act["owner_is_rep"], act["owner"] + len(_COLLECTORS), act["owner"]),
            promised_amount=np.where(
                act["promised"] >= 0,
                w["i_cash_due"][np.maximum(act["inv"], 0)]
                - w["i_first_amount"][np.maximum(act["inv"], 0)],
                0.0,
            ),
        ),
        bad_kinds=2,
    )
    _write(
        con,
        f"""
        SELECT CASE WHEN bad = 1 THEN '' ELSE ws(printf('ACT-%07d', id), ws) END AS "Activity ID",
          CASE WHEN bad = 2 THEN strftime(d(day), '%Y') || '-02-30 10:00'
               ELSE strftime(d(day) + to_minutes(minute::BIGINT), '%Y-%m-%d %H:%M') END
            AS "Timestamp",
          {_lookup("owner", owner_names)} AS "Assigned To",
          casev({_lookup("type", _ACT_TYPES)}, "case") AS "Activity Type",
          printf('C%06d', cust) AS "Customer",
          CASE WHEN inv < 0 THEN '' ELSE printf('INV-%07d', inv + 1) END AS "Invoice",
          CASE WHEN "order" < 0 THEN '' ELSE printf('SO-%07d', "order" + 1) END AS "Sales Order",
          {_lookup("outcome", _OUTCOMES)} AS "Outcome",
          CASE WHEN promised < 0 THEN '' ELSE strftime(d(promised), '%Y-%m-%d') END
            AS "Promise Date",
          CASE WHEN promised < 0 THEN '' ELSE money(promised_amount) END AS "Promise Amount"
        FROM a t {dup} ORDER BY seq, k""",
        out / "activities.csv",
    )
    record("activities.csv", info, ["blank_key", "impossible_date"])

    # --- FX rates: daily random walk to USD -------------------------------------------------
    n_days = e_day - s_day + 1
    steps = rng.normal(0, 0.004, (2, n_days))
    eur = 1.08 * np.exp(np.cumsum(steps[0]))
    gbp = 1.27 * np.exp(np.cumsum(steps[1]))
    days = np.arange(s_day, e_day + 1)
    con.register(
        "fx",
        pa.table(
            {
                "day": np.tile(days, 3),
                "ccy": np.repeat(np.arange(3), n_days),
                "rate": np.concatenate([np.ones(n_days), eur, gbp]),
            }
        ),
    )
    _write(
        con,
        f"""
        SELECT strftime(d(day), '%Y-%m-%d') AS date, {_lookup("ccy", _CURRENCIES)} AS currency,
          printf('%.6f', rate) AS rate
        FROM fx ORDER BY day, ccy""",
        out / "fx_rates.csv",
    )
    manifest["files"]["fx_rates.csv"] = {
        "rows": 3 * n_days,
        "exact_duplicates": 0,
        "bad_rows": 0,
        "bad_rows_by_kind": {},
    }
    manifest["truth"] = {
        "customers": n_cust,
        "chronic_customers": [f"C{i + 1:06d}" for i in np.flatnonzero(w["c_chronic"])],
        "drifting_customers": [f"C{i + 1:06d}" for i in np.flatnonzero(w["c_drift"])],
        "invoices": int(n_inv),
        "credit_notes": int(n_cn),
    }
    con.close()
    (out / "demo_manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def _lookup(index_expr: str, values: np.ndarray) -> str:
    """SQL that maps a small integer column to a label (labels are literals, not user data)."""
    items = ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)
    return f"([{items}])[({index_expr}) + 1]"
