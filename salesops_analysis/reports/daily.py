"""The daily MIS report's content, computed by the package (the notebook only shows it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Config, load_config
from ..metrics import DailyMIS, Tables, daily_mis, kpi_trend, load_tables
from ..metrics.mis import MIS_SECTION_METRICS, OrderBook
from ..metrics.receivables import Ledger, rate_factors
from ..metrics.snapshots import SETTLEMENT_NOTE
from ..warehouse import open_warehouse
from .tables_out import write_csv

__all__ = [
    "CHANGE_LABELS",
    "HEADLINE_FIGURES",
    "MIS_COLUMNS",
    "DailyReport",
    "Figure",
    "daily_mis_report",
    "headline_changes",
    "last_month_end",
    "write_json",
]


@dataclass(frozen=True)
class Figure:
    """A headline figure: its label, its kind (how it is shown) and which way is better.

    ``kind`` is ``count``, ``amount`` (reporting currency), ``days`` or ``pct``; ``better`` is
    ``"up"`` (cash, CEI), ``"down"`` (DSO, orders past SLA) or ``None`` where a change is
    neither good nor bad by itself (AR open, the backlog).
    """

    label: str
    kind: str
    better: str | None = None


#: The daily MIS headline, in the order a finance reader scans it: receivables first.
HEADLINE_FIGURES = {
    "ar_open": Figure("AR open", "amount"),
    "dso_countback": Figure("DSO (countback)", "days", "down"),
    "best_possible_dso": Figure("Best possible DSO", "days", "down"),
    "average_days_delinquent": Figure("Average days delinquent", "days", "down"),
    "cei": Figure("CEI (collection effectiveness)", "pct", "up"),
    "pct_current": Figure("AR not yet due", "pct", "up"),
    "ar_90_plus": Figure("AR over 90 days past due", "amount", "down"),
    "cash_collected": Figure("Cash collected", "amount", "up"),
    "invoices_issued": Figure("Invoices issued", "count", "up"),
    "invoices_issued_amount": Figure("Invoices issued, amount", "amount", "up"),
    "orders_received": Figure("Orders received", "count", "up"),
    "orders_received_amount": Figure("Orders received, amount", "amount", "up"),
    "orders_shipped": Figure("Orders shipped", "count", "up"),
    "orders_invoiced": Figure("Orders invoiced", "count", "up"),
    "open_orders": Figure("Open orders (backlog)", "count"),
    "open_orders_amount": Figure("Open orders, amount", "amount"),
    "orders_past_sla": Figure("Orders past SLA", "count", "down"),
}


#: What changed since yesterday, in words (the keys of ``DailyMIS.changes``).
CHANGE_LABELS = {
    "newly_overdue": "Invoices newly overdue",
    "newly_paid": "Invoices paid in full",
    "promises_due_today": "Promises to pay due today",
    "promises_broken": "Promises to pay broken",
    "disputes_opened": "Disputes opened",
    "new_escalations": "Orders newly past SLA",
}


#: The columns of the big tables the daily MIS reads (the others are read whole): not the
#: invoices' dispute flag and terms, nor the payments' and activities' own ids of other
#: documents, which no figure or table of the report uses.
MIS_COLUMNS = {
    "invoices": [
        "invoice_id",
        "customer_id",
        "order_id",
        "invoice_date",
        "due_date",
        "amount",
        "currency",
        "status",
        "paid_amount",
        "paid_date",
        "applies_to_invoice_id",
    ],
    "payments": ["invoice_id", "payment_date", "amount", "currency"],
    "activities": [
        "activity_id",
        "activity_date",
        "owner",
        "type",
        "customer_id",
        "invoice_id",
        "outcome",
        "promised_date",
        "promised_amount",
    ],
}


def last_month_end(day) -> pd.Timestamp:
    """Return the last day of the month before ``day``'s month (2025-06-30 -> 2025-05-31)."""
    return (pd.Timestamp(day).to_period("M") - 1).to_timestamp(how="end").normalize()


def _compare(value, base: dict, key: str, better: str | None) -> dict:
    """Return ``value`` against ``base[key]``: the base date and value, the delta, its
    direction (``up``/``down``/``flat``, ``None`` when either side is missing) and whether
    it is better by the figure's meaning (``None`` for a neutral figure or no change)."""
    old = base.get(key)
    out = {"date": base.get("report_date"), "value": old}
    if value is None or old is None:
        return {**out, "delta": None, "direction": None, "better": None}
    delta = round(float(value) - float(old), 2)
    direction = "up" if delta > 0 else "down" if delta < 0 else "flat"
    good = None if better is None or direction == "flat" else direction == better
    if isinstance(value, int) and isinstance(old, int):
        delta = int(delta)
    return {**out, "delta": delta, "direction": direction, "better": good}


def headline_changes(
    today: dict, previous_day: dict, month_end: dict, figures: dict[str, Figure] | None = None
) -> dict:
    """Return each headline figure's change vs the previous day and vs the last month-end.

    ``today``, ``previous_day`` and ``month_end`` are the metrics of the three dates (as
    :func:`~salesops_analysis.metrics.daily_mis` returns them). Each figure maps to
    ``{"value", "previous_day": {...}, "month_end": {...}}``, each comparison holding
    ``date``, ``value``, ``delta``, ``direction`` and ``better``.

    Examples
    --------
    >>> c = headline_changes(
    ...     {"report_date": "2025-06-30", "dso_countback": 39.5},
    ...     {"report_date": "2025-06-29", "dso_countback": 40.0},
    ...     {"report_date": "2025-05-31", "dso_countback": 38.0},
    ...     {"dso_countback": Figure("DSO", "days", "down")},
    ... )["dso_countback"]
    >>> c["previous_day"]["delta"], c["previous_day"]["better"], c["month_end"]["direction"]
    (-0.5, True, 'up')
    """
    figures = HEADLINE_FIGURES if figures is None else figures
    out = {}
    for key, fig in figures.items():
        if key not in today:
            continue
        value = today[key]
        out[key] = {
            "value": value,
            "previous_day": _compare(value, previous_day, key, fig.better),
            "month_end": _compare(value, month_end, key, fig.better),
        }
    return out


def write_json(data: dict, path: Path) -> None:
    """Write flat JSON (NaN as null)."""
    clean = {
        k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in data.items()
    }
    path.write_text(json.dumps(clean, indent=1) + "\n")


@dataclass
class DailyReport:
    """Everything the daily-mis notebook shows."""

    mis: DailyMIS
    trend: pd.DataFrame
    daily_orders: pd.DataFrame
    config: Config
    aging_by_team: pd.DataFrame
    #: each headline figure vs the previous day and the last month-end (:func:`headline_changes`)
    changes: dict = field(default_factory=dict)
    #: customer name by customer id (empty without a customers export)
    customer_names: pd.Series = field(default_factory=lambda: pd.Series(dtype="str"))

    @property
    def metrics(self) -> dict:
        """Return the headline figures and their ``changes`` (the metrics.json content)."""
        return {**self.mis.metrics, "changes": self.changes}

    def headline(self) -> pd.DataFrame:
        """Return the headline figures as a two-column table (figure, value); a figure a
        missing export leaves out reads "no <export> export"."""
        m = self.metrics
        missing = self.missing_figures
        rows = [(f.label, missing.get(key, m.get(key))) for key, f in HEADLINE_FIGURES.items()]
        return pd.DataFrame(rows, columns=["figure", f"{m['report_date']} ({m['currency']})"])

    def change_counts(self) -> pd.DataFrame:
        """Return how many invoices, promises and orders changed since yesterday, by kind."""
        changes = self.mis.changes
        return pd.DataFrame(
            {
                "change": [CHANGE_LABELS.get(k, k) for k in changes],
                "count": [len(v) for v in changes.values()],
            }
        )

    @property
    def missing_figures(self) -> dict[str, str]:
        """Return the headline figures a missing export leaves out, each with what to show
        instead ("no orders export")."""
        return {
            key: f"no {section} export"
            for section in self.sections_skipped
            for key in MIS_SECTION_METRICS[section]
        }

    @property
    def sections_skipped(self) -> dict[str, str]:
        """Return the sections a missing export leaves out, each with the reason."""
        return self.metrics.get("sections_skipped", {})

    def summary(self) -> str:
        """Return a few sentences that read the day's figures."""
        m = self.metrics
        ccy = m["currency"]
        led = self.mis.ledger
        day = np.datetime64(m["report_date"], "D").astype(np.int64)
        if led is not None and not (led.issued <= day).any():
            return (
                f"No invoice was issued on or before {m['report_date']}: there is nothing to "
                "report for this date yet."
            )
        overdue = (m["ar_open"] or 0) - (m["ar_current"] or 0)
        parts = [
            f"On {m['report_date']} open receivables stand at {m['ar_open']:,.0f} {ccy}, "
            f"{m['pct_current'] or 0:.1f}% not yet due; {overdue:,.0f} {ccy} is past due, "
            f"{m['ar_90_plus'] or 0:,.0f} {ccy} of it by more than 90 days."
            if "ar_90_plus" in m
            else "",
            f"DSO by the countback method is {_or_na(m['dso_countback'])} days against a best "
            f"possible {_or_na(m['best_possible_dso'])} (average days delinquent "
            f"{_or_na(m['average_days_delinquent'])}); the collection effectiveness index over "
            f"the last {self.config.cei_period_days} days is {_or_na(m['cei'])}%."
            if m["dso_countback"] is not None
            else "DSO and CEI need invoices issued before the report date: none yet.",
            f"{m['invoices_issued']:,} invoices went out and {m['cash_collected']:,.0f} {ccy} "
            "was collected.",
            f"{m['orders_received']:,} orders came in ({m['orders_received_amount']:,.0f} {ccy}); "
            f"{m['orders_past_sla']:,} of {m['open_orders']:,} open orders are past their "
            "promise or SLA."
            if "orders" not in self.sections_skipped
            else "",
            SETTLEMENT_NOTE if m.get("payments_source") == "snapshots" else "",
            *(f"Not in this report: {reason}." for reason in self.sections_skipped.values()),
        ]
        return " ".join(p for p in parts if p)


def _or_na(value) -> str:
    """Return ``value`` as text, or "n/a" where it cannot be computed (no data yet)."""
    return "n/a" if value is None else str(value)


def customer_names(tables: Tables) -> pd.Series:
    """Return each customer's name by customer id (empty without a customers export)."""
    c = tables.customers
    if not len(c) or "name" not in c:
        return pd.Series(dtype="str")
    names = c.drop_duplicates("customer_id", keep="last").set_index("customer_id")["name"]
    return names.loc[names.notna()].astype("str")


def _daily_orders(tables: Tables, day: pd.Timestamp, rates: dict) -> pd.DataFrame:
    o = tables.orders
    start = day - pd.Timedelta(days=29)
    recent = o.loc[(o["order_date"] >= start) & (o["order_date"] <= day)]
    amount = recent["amount"].to_numpy(dtype="float64") * rate_factors(
        recent["currency"], rates, len(recent)
    )
    g = pd.DataFrame({"day": recent["order_date"].to_numpy(), "amount": amount}).groupby("day")
    out = pd.DataFrame({"orders": g.size(), "amount": g["amount"].sum()})
    out = out.reindex(pd.date_range(start, day), fill_value=0)
    out.index = out.index.strftime("%m-%d")
    return out


def daily_mis_report(
    db_path: str | Path,
    report_date,
    config_path: str | Path | None = None,
    out_dir: str | Path | None = None,
) -> DailyReport:
    """Return the daily MIS report for ``report_date``; with ``out_dir``, also write
    ``metrics.json`` and the tables there (CSV, through the one formula-safe writer)."""
    config = load_config(config_path)
    with open_warehouse(db_path, read_only=True) as wh:
        tables = load_tables(wh, columns=MIS_COLUMNS)
    day = pd.Timestamp(report_date).normalize()
    # one ledger and one order book serve the three days (today, the previous day and the
    # last month-end): matching ten million payments to their invoices is done once
    doc, book = Ledger(tables.invoices, tables.payments), OrderBook(tables.orders)
    # the previous day's and last month-end's figures first: each day's ledger in the
    # reporting currency is let go before the next is built, not held beside today's
    earlier = [
        daily_mis(tables, other, config, ledger=doc, book=book).metrics
        for other in (day - pd.Timedelta(days=1), last_month_end(day))
    ]
    mis = daily_mis(tables, day, config, ledger=doc, book=book)
    rates, _ = tables.rates(day, config)
    led = mis.ledger
    # led holds amounts in the reporting currency; KPI snapshots read them from the ledger
    trend = kpi_trend(
        led.invoices,
        led.payments,
        day,
        months=12,
        cei_period_days=config.cei_period_days,
        ledger=led,
    )
    # the same figures as the previous day's and last month-end's reports give
    changes = headline_changes(mis.metrics, *earlier)
    report = DailyReport(
        mis,
        trend,
        _daily_orders(tables, day, rates),
        config,
        mis.aging_by_team(config),
        changes,
        customer_names(tables),
    )
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_json(report.metrics, out / "metrics.json")
        # every table through the one CSV writer: ids, names, reps and teams are text a
        # spreadsheet could take for a formula
        write_csv(mis.aging, out / "aging.csv", index=True)
        write_csv(mis.aging_by_currency, out / "aging_by_currency.csv", index=True)
        write_csv(report.aging_by_team, out / "aging_by_team.csv", index=True)
        write_csv(mis.escalations, out / "escalations.csv")
        write_csv(mis.backlog.drop(columns=["age_bucket"]), out / "open_orders.csv")
        write_csv(mis.activity, out / "activity.csv")
        write_csv(trend, out / "kpi_trend.csv", index=True)
        for name, frame in mis.changes.items():
            write_csv(frame, out / f"changes_{name}.csv")
    return report
