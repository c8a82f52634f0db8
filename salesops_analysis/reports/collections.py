"""The collections report's content: worklist, model quality and drift."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .._errors import ModelError
from ..config import Config, load_config
from ..metrics import Tables, load_tables
from ..metrics.receivables import Ledger
from ..metrics.snapshots import SETTLEMENT_NOTE
from ..risk import (
    BASELINE_DAYS_PAST_DUE,
    BASELINE_LATE_SHARE,
    TrainedModel,
    accounts_for_sheet,
    collector_calls,
    find_model,
    load_model,
    recent_drift,
    save_model,
    score_by_baseline,
    score_open_invoices,
    train_from_tables,
    worklist,
)
from ..risk.backtest import backtest_verdict
from ..risk.forecast import CashForecast
from ..risk.scores import open_figures
from ..schemas import KINDS
from ..warehouse import open_warehouse
from .accounts import AccountView, account_view
from .cash import (
    PAY_DATE_COLUMNS,
    backtest_table,
    cash_forecast_or_reason,
    cash_forecast_section,
    with_pay_dates,
)
from .daily import Figure, headline_changes, last_month_end, write_json
from .excel import write_worklist_csv, write_worklist_xlsx
from .tables_out import write_csv

__all__ = [
    "COLLECTIONS_FIGURES",
    "PAY_DATE_COLUMNS",
    "XLSX_ROWS",
    "CollectionsReport",
    "backtest_table",
    "cash_forecast_or_reason",
    "collections_report",
    "model_for",
    "sections_skipped_collections",
    "with_pay_dates",
]

#: worklist.xlsx holds the top rows by expected late amount: a week of calls for a team of ten
#: (a formatted workbook writes about 65,000 cells a second); worklist.csv holds every open
#: invoice.
XLSX_ROWS = 2_000


@dataclass
class CollectionsReport:
    """Everything the collections notebook shows. ``model`` is ``None`` when there was too
    little history to train one: the worklist is then ranked by a baseline (``model_note``
    says which and why)."""

    worklist: pd.DataFrame
    model: TrainedModel | None
    model_file: str | None
    model_note: str
    drift: pd.DataFrame
    metrics: dict
    accounts: AccountView | None = None
    forecast: CashForecast | None = None

    def forecast_summary(self) -> str:
        """Return a sentence on the cash expected in the coming weeks (or why there is none)."""
        m = self.metrics
        fc = self.forecast
        if fc is None:
            return f"No cash forecast: {self.sections_skipped.get('cash_forecast', 'none')}."
        due = float(fc.weekly["due_date_view"].sum())
        return (
            f"The open invoices should bring {m['cash_forecast_13w']:,.0f} {m['currency']} in the "
            f"next {fc.weeks} weeks (80% band {m['cash_forecast_13w_p10']:,.0f} to "
            f"{m['cash_forecast_13w_p90']:,.0f}), against {due:,.0f} if every invoice were paid "
            f"on its due date. {fc.model_note} {backtest_verdict(fc.backtest)}"
        )

    def forecast_backtest(self) -> pd.DataFrame:
        """Return the timing model's backtest beside the three baselines (empty if none)."""
        return backtest_table(self.forecast.backtest if self.forecast is not None else {})

    @property
    def sections_skipped(self) -> dict[str, str]:
        """Return the parts of the report left out, each with the reason."""
        return self.metrics["sections_skipped"]

    def headline(self) -> pd.DataFrame:
        """Return the headline figures as a table for display."""
        m = self.metrics
        ranked_by = m["score_kind"] or "nothing (no open invoices)"
        rows = [
            ("Open invoices", m["open_invoices"]),
            ("AR open", m["ar_open"]),
            ("Expected late amount", m["expected_late_amount"]),
            ("Worklist rows", m["worklist_rows"]),
            ("Model", m["model"] or f"none: ranked by {ranked_by}"),
        ]
        return pd.DataFrame(rows, columns=["figure", f"{m['report_date']} ({m['currency']})"])

    def model_quality(self) -> pd.DataFrame:
        """Return the test-set metrics beside the two baselines (empty without a model)."""
        columns = ["metric", "model", "customer's late share", "days past due × amount"]
        if self.model is None:
            return pd.DataFrame(columns=columns)
        mm = self.model.metrics
        t, b = mm["test"], mm["baselines"]
        c, d = b["customer_late_share"], b["days_past_due_amount"]
        rows = [
            ("ROC AUC", t["roc_auc"], c["roc_auc"], d["roc_auc"]),
            ("PR AUC", t["pr_auc"], c["pr_auc"], d["pr_auc"]),
            ("Brier score", t["brier"], c["brier"], None),
            (
                "Late amount in top 10%",
                t["top_decile_late_amount_share"],
                c["top_decile_late_amount_share"],
                d["top_decile_late_amount_share"],
            ),
        ]
        return pd.DataFrame(rows, columns=columns).round(3)

    def summary(self) -> str:
        """Return a few sentences that read the worklist."""
        m = self.metrics
        wl = self.worklist
        if not len(wl):
            return (
                f"No open invoices at the end of {m['report_date']}: nothing to score yet. "
                f"{self.model_note}"
            )
        ccy = m["currency"]
        text = f"{m['open_invoices']:,} open invoices ({m['ar_open']:,.0f} {ccy})"
        if m["expected_late_amount"] is not None:
            top = wl.head(max(1, len(wl) // 10))
            share = top["expected_late_amount"].sum() / max(wl["expected_late_amount"].sum(), 1e-9)
            text += (
                f" carry an expected late amount of {m['expected_late_amount']:,.0f} {ccy}; "
                f"the top 10% of the worklist ({len(top):,} invoices) holds {share:.0%} of it."
            )
        else:
            text += ", ranked by days past due × open amount."
        if m["open_credits"]:
            text += (
                f" Open credit notes of {m['open_credits']:,.0f} {ccy} are not on the worklist;"
                " AR open nets them."
            )
        text += f" {self.model_note}"
        if m.get("payments_source") == "snapshots":
            text += f" {SETTLEMENT_NOTE}"
        if m["worklist_xlsx_rows"] < m["worklist_rows"]:
            text += (
                f" worklist.xlsx lists the top {m['worklist_xlsx_rows']:,} invoices "
                f"({m['worklist_xlsx_expected_late_share']:.0%} of the expected late amount); "
                "worklist.csv has all of them."
            )
        shifted = self.drift.loc[self.drift["psi"] >= 0.25, "feature"].tolist()
        if shifted:
            text += (
                " Invoices issued in the last 30 days differ from those issued at the end of "
                f"the training period (PSI above 0.25) in: {', '.join(shifted)}; if the "
                "model's accuracy drops, retrain."
            )
        return text


#: The collections headline figures compared with the previous day and the last month-end.
COLLECTIONS_FIGURES = {
    "ar_open": Figure("AR open", "amount"),
    "open_invoices": Figure("Open invoices", "count"),
    "overdue_invoices": Figure("Overdue invoices", "count", "down"),
    "expected_late_amount": Figure("Expected late amount", "amount", "down"),
}


def comparison_figures(
    tables: Tables,
    day,
    config: Config,
    models_dir: str | Path | None = None,
    *,
    current: TrainedModel | None = None,
    ledger: Ledger | None = None,
) -> dict[str, object]:
    """Return the :data:`COLLECTIONS_FIGURES` at the end of an earlier ``day``.

    The open invoices, AR and overdue count come from that day's open items. The expected
    late amount is that day's only if a model fitted for it is in ``models_dir`` (today's model,
    trained later, has seen later outcomes and refuses earlier dates); otherwise it is
    ``None``, never a baseline figure compared with a model one. ``current`` is today's
    model: trained on or before ``day``, it is the one that day would use too (the newest fit
    for it), and scores it without loading a file again. ``ledger`` is the tables'
    :class:`~salesops_analysis.metrics.receivables.Ledger`, reused (the report builds one).

    Without a model for ``day`` nothing is scored: the three figures come from one balance
    pass over the ledger (:func:`~salesops_analysis.risk.scores.open_figures`), the same figures a
    scoring of that day's open invoices gives.
    """
    day = pd.Timestamp(day).normalize()
    model = None
    if current is not None and pd.Timestamp(current.as_of) <= day:
        model = current
    elif models_dir is not None:
        found = find_model(models_dir, day)
        model = found[1] if found is not None else None
    led = ledger or Ledger(tables.invoices, tables.payments, activities=tables.activities)
    if model is None:
        rates, _ = tables.rates(day, config)
        figures = open_figures(led, day, rates)
        return {"report_date": str(day.date()), **figures, "expected_late_amount": None}
    scored = score_open_invoices(model, tables, day, config, ledger=led)
    return {
        "report_date": str(day.date()),
        "ar_open": round(
            float(scored.invoices["open_amount_reporting"].sum()) + scored.open_not_scored, 2
        ),
        "open_invoices": int(len(scored)),
        "overdue_invoices": int((scored.invoices["days_past_due"] > 0).sum()),
        "expected_late_amount": round(float(scored.invoices["expected_late_amount"].sum()), 2),
    }


#: The orders columns the collections report reads.
ORDER_COLUMNS = ["customer_id", "order_date", "sales_rep", "currency"]
#: Columns the report never uses: the invoices' terms, order ids and exported open amount (the
#: ledger computes each balance), the activities' order ids.
NOT_READ = {
    "invoices": ["payment_terms", "order_id", "open_amount"],
    "activities": ["order_id"],
}
#: The columns the collections report reads of the orders, invoices and activities (the
#: payments, customers and FX rates whole).
COLLECTIONS_COLUMNS = {
    "orders": ORDER_COLUMNS,
    **{
        kind: [f.name for f in KINDS[kind].fields if f.name not in skip]
        for kind, skip in NOT_READ.items()
    },
}


def model_for(
    tables: Tables,
    as_of,
    config: Config,
    models_dir: str | Path = "models",
    model_path: str | Path | None = None,
) -> tuple[TrainedModel | None, Path | None, str]:
    """Return the model to use on ``as_of``: the given file, else the newest in ``models_dir``
    trained on or before ``as_of``, else one trained now (and saved there).

    Where the history is too short to train one (few settled invoices, one class only, a date
    before any data), return ``(None, None, reason)``: the report then ranks by a baseline.
    A given ``model_path`` that cannot be used is an error, never replaced silently.
    """
    if model_path:
        path = Path(model_path)
        return load_model(path), path, f"Scored with {path.name} (given)."
    found = find_model(models_dir, as_of)
    if found is not None:
        path, model = found
        return model, path, f"Scored with {path.name}, trained on data up to {model.as_of}."
    try:
        model = train_from_tables(tables, as_of, config)
    except ModelError as exc:
        return None, None, str(exc)
    paths = save_model(model, models_dir)
    return (
        model,
        paths["model"],
        (
            f"No model fitted this date in {models_dir}/, so "
            f"{paths['model'].name} was trained for this report."
        ),
    )


def _no_model_note(reason: str, score_kind: str | None) -> str:
    """Return the sentence that says the worklist is ranked without a model, and why."""
    if score_kind == BASELINE_LATE_SHARE:
        how = "the worklist is ranked by each customer's share of invoices paid late so far"
    elif score_kind == BASELINE_DAYS_PAST_DUE:
        how = (
            "the worklist is ranked by days past due × open amount (no invoice has been "
            "settled yet)"
        )
    else:
        how = "there is no open invoice to rank"
    return f"No late-payment model yet ({reason}): {how}."


def sections_skipped_collections(
    tables: Tables, model_reason: str | None, drift: pd.DataFrame | None = None
) -> dict[str, str]:
    """Return the collections report's parts that a missing export or a missing model leaves
    out, each with the reason."""
    out = {}
    if model_reason is not None:
        out["model"] = f"no model: {model_reason}"
        out["model_quality"] = "no model to evaluate"
        out["drift"] = "no model: no training rows to compare with"
    elif drift is not None and not len(drift):
        out["drift"] = "no invoice issued in the last 30 days to compare with the training rows"
    if not tables.has("activities"):
        out["promises_and_contacts"] = (
            "no activities export: no promise-to-pay status, last contact or dispute flag "
            "from collectors"
        )
    if not tables.has("customers"):
        out["customer_names"] = (
            "no customers export: customers are shown by id; segment and country are not "
            "used by the model"
        )
    if not tables.has("activities") and not tables.has("orders"):
        out["collector"] = "no activities or orders export: no owner or sales rep to assign"
    return out


def collections_report(
    db_path: str | Path,
    report_date,
    config_path: str | Path | None = None,
    out_dir: str | Path | None = None,
    *,
    models_dir: str | Path = "models",
    model_path: str | Path | None = None,
) -> CollectionsReport:
    """Return the collections report for ``report_date``; with ``out_dir``, also write
    ``metrics.json``, ``worklist.xlsx``, ``worklist.csv`` and ``drift.csv`` there.

    With too little history to train a model, the worklist is ranked by a baseline and
    ``metrics["model"]`` is ``None`` with ``metrics["model_reason"]`` saying why.
    """
    config = load_config(config_path)
    tables = _read_tables(db_path)
    day = pd.Timestamp(report_date).normalize()
    model, path, note = model_for(tables, day, config, models_dir, model_path)
    reason = None
    if model is not None:
        scored = score_open_invoices(model, tables, day, config)
        # like with like: invoices issued lately against those issued late in training
        drift = recent_drift(model, scored.knowledge)
        if model.deployment_note:
            note = f"{note} {model.deployment_note}"
    else:
        reason = note
        scored = score_by_baseline(tables, day, config)
        drift = pd.DataFrame({"feature": pd.Series(dtype="str"), "psi": pd.Series(dtype=float)})
    credits = scored.open_not_scored
    # one ledger for the whole report: the scoring's, reused by the comparisons, the account
    # view, the statements and the cash forecast (each would otherwise build its own)
    led, knowledge = scored.knowledge.ledger, scored.knowledge
    wl = worklist(model, tables, day, config, scored=scored)
    del scored  # its feature table and frame: the worklist holds what the report shows
    score_kind = _score_kind(model, wl)
    if model is None:
        note = _no_model_note(reason, score_kind)
    currency = wl["reporting_currency"].iloc[0] if len(wl) else tables.rates(day, config)[1]
    metrics = {
        "report_date": str(day.date()),
        "currency": currency,
        **_worklist_metrics(wl, credits, model, path, reason, score_kind, drift),
    }
    metrics["sections_skipped"] = sections_skipped_collections(tables, reason, drift)
    metrics["payments_source"] = tables.payments_source  # "snapshots": implied payments
    # the previous day's and last month-end's open invoices, scored the same way
    metrics["changes"] = headline_changes(
        metrics,
        *(
            comparison_figures(tables, earlier, config, models_dir, current=model, ledger=led)
            for earlier in (day - pd.Timedelta(days=1), last_month_end(day))
        ),
        COLLECTIONS_FIGURES,
    )
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    # customers first: one row per account, today's calls, statements and letters
    view = account_view(wl, tables, config, day, out, ledger=led)
    metrics.update(view.metrics())
    # when the cash comes: the timing model's weekly forecast, and each invoice's pay date
    known = knowledge if knowledge.grace_days == config.grace_days else None
    fc = cash_forecast_section(tables, day, config, models_dir, metrics, knowledge=known)
    wl = with_pay_dates(wl, fc)
    report = CollectionsReport(
        wl, model, path.name if path else None, note, drift, metrics, accounts=view, forecast=fc
    )
    if out is not None:
        _write_collections_files(report, day, out)
    return report


def _read_tables(db_path: str | Path) -> Tables:
    """Return the tables the collections report reads (of the orders, invoices and
    activities, only :data:`COLLECTIONS_COLUMNS`).

    Raises
    ------
    ModelError
        The warehouse holds no invoices.
    """
    with open_warehouse(db_path, read_only=True) as wh:
        # of the orders, the worklist needs each customer's latest rep, and the FX check
        # their currencies: the other columns of a million orders are not read
        tables = load_tables(wh, columns=COLLECTIONS_COLUMNS)
    if len(tables.invoices) == 0:
        raise ModelError("no invoices in the warehouse: nothing to score")
    return tables


def _score_kind(model: TrainedModel | None, wl: pd.DataFrame) -> str | None:
    """Return what ranks the worklist: ``model``, a baseline, or ``None`` (no open invoice)."""
    if model is not None:
        return "model"
    return str(wl["score_kind"].iloc[0]) if len(wl) else None


def _worklist_metrics(
    wl: pd.DataFrame,
    credits: float,
    model: TrainedModel | None,
    path: Path | None,
    reason: str | None,
    score_kind: str | None,
    drift: pd.DataFrame,
) -> dict:
    """Return the headline figures of the worklist, the model and its drift (metrics.json,
    after the date and currency).

    ``credits`` are the open credit notes not on the worklist, ``path`` the model's file and
    ``reason`` why there is no model (``None`` with one).
    """
    expected = wl["expected_late_amount"]
    scored_any = bool(expected.notna().any()) or (model is not None)
    return {
        "open_invoices": int(len(wl)),
        # AR nets the open credit notes the worklist does not chase (the MIS's ar_open)
        "ar_open": round(float(wl["open_amount_reporting"].sum()) + credits, 2),
        "worklist_open_amount": round(float(wl["open_amount_reporting"].sum()), 2),
        "open_credits": round(credits, 2),
        "expected_late_amount": round(float(expected.sum()), 2) if scored_any else None,
        "worklist_rows": int(len(wl)),
        "worklist_xlsx_rows": int(min(len(wl), XLSX_ROWS)),
        "worklist_xlsx_expected_late_share": round(
            float(expected.head(XLSX_ROWS).sum() / max(expected.sum(), 1e-9)), 4
        )
        if scored_any
        else None,
        "model": path.name if path is not None else None,
        "model_reason": reason,
        "score_kind": score_kind,
        "model_trained_as_of": model.as_of if model is not None else None,
        "model_deployed": model.metrics.get("deployed") if model is not None else None,
        "deployment_note": model.deployment_note if model is not None else None,
        "overdue_invoices": int((wl["days_past_due"] > 0).sum()),
        "broken_promises": int(wl["promise_status"].str.contains("broken").sum()),
        "test_roc_auc": round(float(model.metrics["test"]["roc_auc"]), 4)
        if model is not None
        else None,
        "max_feature_psi": round(float(drift["psi"].max()), 4) if len(drift) else None,
    }


def _write_collections_files(report: CollectionsReport, day: pd.Timestamp, out: Path) -> None:
    """Write ``metrics.json``, ``worklist.xlsx`` (its top rows, customers, calls),
    ``worklist.csv``, ``drift.csv`` and ``cash_forecast.csv`` into ``out``."""
    wl, view = report.worklist, report.accounts
    write_json(report.metrics, out / "metrics.json")
    write_worklist_xlsx(
        wl.head(XLSX_ROWS),
        out / "worklist.xlsx",
        title=f"Worklist {day.date()}",
        customers=accounts_for_sheet(view.accounts, XLSX_ROWS),
        calls=collector_calls(view.accounts),
    )
    write_worklist_csv(wl, out / "worklist.csv")
    write_csv(report.drift, out / "drift.csv")
    if report.forecast is not None:
        write_csv(report.forecast.weekly, out / "cash_forecast.csv")
