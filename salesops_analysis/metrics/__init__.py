"""Metrics: small pure functions, DataFrames in, DataFrames or numbers out, ``as_of`` explicit."""

from .fx import rates_on, to_reporting_currency
from .kpis import (
    ar_snapshot,
    ar_turnover,
    average_days_delinquent,
    best_possible_dso,
    cei,
    countback_days,
    credit_sales,
    dso_countback,
    dso_simple,
    kpi_trend,
    monthly_credit_sales,
    pct_current,
)
from .mis import (
    DailyMIS,
    activity_summary,
    changes_since_previous_day,
    daily_mis,
    escalations,
    open_orders,
    order_status_on,
)
from .receivables import (
    aging_buckets,
    bucket_labels,
    collection_curves,
    open_items,
    roll_rates,
    unapplied_cash,
    with_sales_owner,
)
from .tables import Tables, load_tables

__all__ = [
    "DailyMIS",
    "Tables",
    "activity_summary",
    "aging_buckets",
    "ar_snapshot",
    "ar_turnover",
    "average_days_delinquent",
    "best_possible_dso",
    "bucket_labels",
    "cei",
    "changes_since_previous_day",
    "collection_curves",
    "countback_days",
    "credit_sales",
    "daily_mis",
    "dso_countback",
    "dso_simple",
    "escalations",
    "kpi_trend",
    "load_tables",
    "monthly_credit_sales",
    "open_items",
    "open_orders",
    "order_status_on",
    "pct_current",
    "rates_on",
    "roll_rates",
    "to_reporting_currency",
    "unapplied_cash",
    "with_sales_owner",
]
