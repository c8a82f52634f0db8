"""The daily MIS report's content, computed by the package (the notebook only shows it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Config, load_config
from ..metrics import DailyMIS, Tables, daily_mis, kpi_trend, load_tables
from ..metrics.mis import MIS_SECTION_METRICS
from ..metrics.receivables import rate_factors
from ..warehouse import open_warehouse
from .tables_out import write_csv

__all__ = ["DailyReport", "daily_mis_report", "write_json"]


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

    @property
    def metrics(self) -> dict:
        """Return the headline figures (the metrics.json content)."""
        return self.mis.metrics

    def headline(self) -> pd.DataFrame:
        """Return the headline figures as a two-column table for display."""
        m = self.metrics
        labels = {
            "orders_received": "Orders received",
            "orders_received_amount": "… amount",
            "orders_shipped": "Orders shipped",
            "orders_invoiced": "Orders invoiced",
            "open_orders": "Open orders (backlog)",
            "open_orders_amount": "… amount",
            "orders_past_sla": "Orders past SLA",
            "invoices_issued": "Invoices issued",
            "invoices_issued_amount": "… amount",
            "cash_collected": "Cash collected",
            "ar_open": "AR open",
            "pct_current": "% current",
            "dso_countback": "DSO (countback, days)",
            "best_possible_dso": "Best possible DSO",
            "average_days_delinquent": "Average days delinquent",
            "cei": "CEI (%)",
        }
        skipped = self.sections_skipped
        missing = {
            key: f"no {section} export"
            for section in skipped
            for key in MIS_SECTION_METRICS[section]
        }
        rows = [(label, missing.get(key, m.get(key))) for key, label in labels.items()]
        return pd.DataFrame(rows, columns=["figure", f"{m['report_date']} ({m['currency']})"])

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
            *(f"Not in this report: {reason}." for reason in self.sections_skipped.values()),
        ]
        return " ".join(p for p in parts if p)


def _or_na(value) -> str:
    """Return ``value`` as text, or "n/a" where it cannot be computed (no data yet)."""
    return "n/a" if value is None else str(value)


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
        tables = load_tables(wh)
    day = pd.Timestamp(report_date).normalize()
    mis = daily_mis(tables, day, config)
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
    report = DailyReport(
        mis, trend, _daily_orders(tables, day, rates), config, mis.aging_by_team(config)
    )
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_json(mis.metrics, out / "metrics.json")
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
