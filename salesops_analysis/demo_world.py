"""The simulated business behind the demo exports, as numpy arrays.

:func:`simulate` draws customers, orders and invoices (with their true settlement, disputes,
credit notes, partial payments and collector contacts); :func:`payments` and :func:`activities`
derive the cash received and the activity log from them. Days are integers (days since
1970-01-01). The vocabulary below (names, segments, statuses) is what the small integer codes in
the arrays index; :mod:`salesops_analysis.demo_exports` turns codes into those labels.

The draws happen in a fixed order from one generator, so the same seed gives the same world; a
change in the order of draws changes every file the demo writes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["activities", "payments", "simulate"]

SEGMENTS = np.array(["Enterprise", "Mid-Market", "SMB"])
COUNTRIES = np.array(["US", "CA", "GB", "DE", "FR", "NL"])
_COUNTRY_P = [0.42, 0.08, 0.15, 0.17, 0.11, 0.07]
#: The currency of each country, an index into :data:`CURRENCIES`.
COUNTRY_CURRENCY = np.array([0, 0, 2, 1, 1, 1])
CURRENCIES = np.array(["USD", "EUR", "GBP"])
_TERMS = np.array([15, 30, 45, 60])
_TERMS_P = np.array([[0.05, 0.35, 0.25, 0.35], [0.10, 0.55, 0.20, 0.15], [0.25, 0.60, 0.10, 0.05]])
TEAMS = np.array(["North", "South", "East", "West"])
REPS = np.array(
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
COLLECTORS = np.array(["Alex Moreau", "Bea Lindqvist", "Carl Mensah", "Dana Fischer", "Eli Novak"])
NAME_A = np.array(
    "Acme Northwind Globex Initech Umbrella Stark Wayne Vandelay Hooli Soylent Tyrell Cyberdyne "
    "Wonka Gringotts Oscorp Aperture Massive Dynamic Blue Summit Redwood Silverline Ironclad "
    "Evergreen Bluewater Pinnacle Horizon Atlas Meridian Sterling Keystone".split()
)
NAME_B = np.array(
    "Logistics Foods Systems Retail Pharma Motors Textiles Energy Labs Supply".split()
)
NAME_SUFFIX = np.array(["Inc", "Ltd", "Ltd", "GmbH", "SARL", "BV"])  # by country

ORDER_STATUS = np.array(["Received", "In Process", "On Hold", "Shipped", "Invoiced", "Cancelled"])
INVOICE_STATUS = np.array(
    ["Unpaid", "Partly Paid", "Paid", "Disputed", "Written Off", "Credit Note"]
)
ACTIVITY_TYPES = np.array(["Call", "Email", "Meeting", "Note", "Escalation", "Follow Up"])
OUTCOMES = np.array(["", "Promise to Pay", "No Answer", "Dispute", "Paid"])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _weighted_days(rng: np.random.Generator, start: int, n_days: int, size: int) -> np.ndarray:
    """Draw order days with weekday, month-end, quarter-end and growth effects."""
    days = np.arange(start, start + n_days)
    d64 = days.astype("datetime64[D]")
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    next_month = d64.astype("datetime64[M]") + 1
    days_to_month_end = (next_month.astype("datetime64[D]") - d64).astype(np.int64)
    month_no = d64.astype("datetime64[M]").astype(np.int64) % 12
    quarter_end_month = month_no % 3 == 2
    w = np.where(weekday >= 5, 0.15, 1.0)
    w = w * np.where(days_to_month_end <= 3, 1.8, 1.0)
    w = w * np.where(quarter_end_month & (days_to_month_end <= 5), 2.2, 1.0)
    w = w * (1.0 + 0.3 * np.arange(n_days) / n_days)
    return rng.choice(days, size=size, p=w / w.sum())


def _quarter_end_window(day: np.ndarray) -> np.ndarray:
    d64 = day.astype("datetime64[D]")
    month = d64.astype("datetime64[M]")
    days_left = ((month + 1).astype("datetime64[D]") - d64).astype(np.int64)
    return (month.astype(np.int64) % 12 % 3 == 2) & (days_left <= 5)


def _customers(rng: np.random.Generator, n_cust: int) -> dict:
    """Customers: segment, country, terms and their hidden payment behaviour."""
    seg = rng.choice(3, n_cust, p=[0.15, 0.35, 0.50])
    country = rng.choice(len(COUNTRIES), n_cust, p=_COUNTRY_P)
    u = rng.random(n_cust)
    terms = _TERMS[(u[:, None] > np.cumsum(_TERMS_P[seg], axis=1)).sum(axis=1).clip(0, 3)]
    chronic = rng.random(n_cust) < 0.08
    drift = ~chronic & (rng.random(n_cust) < 0.06)
    base = rng.normal(-1.5, 1.0, n_cust) + np.array([-0.3, 0.0, 0.3])[seg] + 2.3 * chronic
    drift_slope = np.where(drift, rng.uniform(1.2, 2.2, n_cust), 0.0)
    mean_amount = np.exp(rng.normal(np.log(np.array([20000.0, 5000.0, 1200.0])[seg]), 0.5))
    credit_limit = np.round(mean_amount * rng.uniform(4, 12, n_cust), -3).clip(1000)
    return dict(
        seg=seg,
        country=country,
        terms=terms,
        chronic=chronic,
        drift=drift,
        base=base,
        drift_slope=drift_slope,
        mean_amount=mean_amount,
        credit_limit=credit_limit,
        rep=rng.integers(0, len(REPS), n_cust),
        collector=rng.integers(0, len(COLLECTORS), n_cust),
        frequency=rng.lognormal(0.0, 0.8, n_cust),
        name_a=rng.integers(0, len(NAME_A), n_cust),
        name_b=rng.integers(0, len(NAME_B), n_cust),
    )


def _orders(rng: np.random.Generator, c: dict, n_invoices: int, start: int, end: int) -> dict:
    """Orders: day, customer, amount, and how far each got by the end date."""
    n_days = end - start + 1
    n_cust = len(c["seg"])
    n_orders = int(round(n_invoices / 0.963))
    order_day = np.sort(_weighted_days(rng, start, n_days, n_orders))
    o_cust = rng.choice(n_cust, n_orders, p=c["frequency"] / c["frequency"].sum())
    o_amount = np.round(c["mean_amount"][o_cust] * rng.lognormal(-0.18, 0.6, n_orders), 2).clip(5)
    promised = order_day + 5 + rng.integers(0, 16, n_orders)
    no_promise = rng.random(n_orders) < 0.06
    on_hold = rng.random(n_orders) < 0.04
    processing = 1 + np.round(rng.gamma(2.0, 2.0, n_orders)).astype(np.int64)
    hold_days = np.where(on_hold, rng.integers(5, 40, n_orders), 0)
    shipped = order_day + processing + hold_days
    invoiced = shipped + rng.integers(0, 3, n_orders)
    cancelled = rng.random(n_orders) < 0.03
    status = np.select(  # an index into ORDER_STATUS
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
    return dict(
        o_day=order_day,
        o_cust=o_cust,
        o_amount=o_amount,
        o_promised=promised,
        o_no_promise=no_promise,
        o_shipped=shipped,
        o_invoiced=invoiced,
        o_status=status,
        o_shipped_known=~cancelled & (shipped <= end),
        o_invoiced_known=~cancelled & (invoiced <= end),
    )


def _invoices(rng: np.random.Generator, c: dict, o: dict, start: int) -> dict:
    """Invoices of the invoiced orders, with when (and how) each is truly settled."""
    inv_order = np.flatnonzero(o["o_invoiced_known"])
    inv_order = inv_order[np.argsort(o["o_invoiced"][inv_order], kind="stable")]
    n_inv = len(inv_order)
    i_cust = o["o_cust"][inv_order]
    i_day = o["o_invoiced"][inv_order]
    i_amount = o["o_amount"][inv_order]
    i_terms = c["terms"][i_cust]
    i_due = i_day + i_terms
    years = (i_day - start) / 365.25
    base = c["base"][i_cust]
    disputed = rng.random(n_inv) < (0.03 + 0.04 * c["chronic"][i_cust])
    dispute_day = i_day + rng.integers(5, 25, n_inv)
    logit = (
        base
        + c["drift_slope"][i_cust] * years
        + 0.9 * _quarter_end_window(i_day)
        + 0.9 * np.log(i_amount / c["mean_amount"][i_cust])
        + 0.3 * (i_terms >= 60)
        + 1.6 * disputed
        + rng.normal(0.0, 0.5, n_inv)
    )
    late = rng.random(n_inv) < _sigmoid(logit)
    late_scale = 5.0 + 25.0 * _sigmoid(base)
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
    written_off = late & c["chronic"][i_cust] & (rng.random(n_inv) < 0.08)
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
    return dict(
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
        i_first_amount=np.where(partial, np.round(cash_due * first_share, 2), 0.0),
        i_first_day=np.maximum(i_day + 1, settle - rng.integers(10, 40, n_inv)),
        i_contacted=contacted,
        i_first_contact=first_contact,
    )


def simulate(rng: np.random.Generator, n_invoices: int, start: int, end: int) -> dict:
    """Return the clean simulated world as numpy arrays.

    Parameters
    ----------
    rng : numpy.random.Generator
        The one generator every draw comes from, in a fixed order.
    n_invoices : int
        About how many invoices (customers: one per 25 invoices, at least 20).
    start, end : int
        First and last day simulated, as days since 1970-01-01.

    Returns
    -------
    dict
        ``start`` and ``end``; customer arrays ``c_*`` (by customer index), order arrays ``o_*``
        (by order index) and invoice arrays ``i_*`` (by invoice index; ``inv_order`` is each
        invoice's order). ``c_chronic`` and ``c_drift`` are the hidden truths the manifest
        records.
    """
    c = _customers(rng, max(20, n_invoices // 25))
    o = _orders(rng, c, n_invoices, start, end)
    i = _invoices(rng, c, o, start)
    kept = ("seg", "country", "terms", "chronic", "drift", "credit_limit", "rep", "collector")
    customers = {f"c_{k}": c[k] for k in (*kept, "name_a", "name_b")}
    return dict(start=start, end=end, **customers, **o, **i)


def payments(w: dict) -> dict:
    """Return the cash payments of the world ``w`` dated on or before its end date.

    Partly paid invoices get two payments (the first instalment, then the rest); written-off
    and fully credited invoices none. Sorted by day, then invoice: ``p_inv`` (invoice index),
    ``p_day``, ``p_amount``.
    """
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


def _collector_activities(rng: np.random.Generator, w: dict) -> list[tuple]:
    """Collectors' calls, follow-ups and escalations, and the logged disputes, as parts of
    (invoice index, day, type, outcome, promised day or -1)."""
    end = w["end"]
    n_inv = len(w["i_day"])
    settle = np.where(w["i_written_off"], end + 10_000, w["i_settle"])
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
    escalate_day = w["i_due"] + 60
    escalated = (settle > escalate_day) & (escalate_day <= end)
    disputed = w["i_disputed"]
    inv_idx = np.arange(n_inv)
    return [
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
            inv_idx[disputed],
            w["i_dispute_day"][disputed],
            np.full(disputed.sum(), 3),
            np.full(disputed.sum(), 3),
            np.full(disputed.sum(), -1),
        ),
    ]


def activities(rng: np.random.Generator, w: dict) -> dict:
    """Return the collector and sales activities of the world ``w`` dated within its period.

    Collectors call overdue invoices (promises kept or broken, follow-ups, escalations at 60
    days past due) and log disputes; sales reps log calls and meetings on a quarter of the
    orders. Sorted by day and minute: ``day``, ``minute``, ``type`` (an index into
    :data:`ACTIVITY_TYPES`), ``outcome`` (into :data:`OUTCOMES`), ``promised`` (day or -1),
    ``inv`` and ``order`` (index or -1), ``cust``, ``owner_is_rep`` and ``owner`` (an index into
    :data:`REPS` or :data:`COLLECTORS`).
    """
    parts = _collector_activities(rng, w)
    a_inv, a_day, a_type, a_outcome, a_promised = (
        np.concatenate(p) for p in zip(*parts, strict=True)
    )
    a_cust = w["i_cust"][a_inv]
    a_owner_collector = w["c_collector"][a_cust]
    # sales activities on orders
    n_orders = len(w["o_day"])
    sales = np.flatnonzero(rng.random(n_orders) < 0.25)
    s_day = w["o_day"][sales] - rng.integers(0, 10, len(sales))
    s_type = rng.choice([0, 1, 2], len(sales), p=[0.4, 0.3, 0.3])
    n_coll = len(a_inv)
    day = np.concatenate([a_day, s_day])
    keep = (day <= w["end"]) & (day >= w["start"])
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
