"""The collections report's content: worklist, model quality and drift."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .._errors import ModelError
from ..config import Config, load_config
from ..metrics import Tables, load_tables
from ..risk import (
    TrainedModel,
    find_model,
    load_model,
    population_stability,
    save_model,
    score_open_invoices,
    scored_features,
    train_from_tables,
    worklist,
)
from ..warehouse import open_warehouse
from .daily import write_json
from .excel import write_worklist_csv, write_worklist_xlsx

__all__ = ["XLSX_ROWS", "CollectionsReport", "collections_report", "model_for"]

#: worklist.xlsx holds the top rows by expected late amount: a week of calls for a team of ten
#: (a formatted workbook writes about 65,000 cells a second); worklist.csv holds every open
#: invoice.
XLSX_ROWS = 2_000


@dataclass
class CollectionsReport:
    """Everything the collections notebook shows."""

    worklist: pd.DataFrame
    model: TrainedModel
    model_file: str
    model_note: str
    drift: pd.DataFrame
    metrics: dict

    def headline(self) -> pd.DataFrame:
        """Return the headline figures as a table for display."""
        m = self.metrics
        rows = [
            ("Open invoices", m["open_invoices"]),
            ("AR open", m["ar_open"]),
            ("Expected late amount", m["expected_late_amount"]),
            ("Worklist rows", m["worklist_rows"]),
            ("Model", m["model"]),
        ]
        return pd.DataFrame(rows, columns=["figure", f"{m['report_date']} ({m['currency']})"])

    def model_quality(self) -> pd.DataFrame:
        """Return the test-set metrics beside the two baselines."""
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
        return pd.DataFrame(
            rows, columns=["metric", "model", "customer's late share", "days past due × amount"]
        ).round(3)

    def summary(self) -> str:
        """Return a few sentences that read the worklist."""
        m = self.metrics
        wl = self.worklist
        top = wl.head(max(1, len(wl) // 10))
        share = top["expected_late_amount"].sum() / max(wl["expected_late_amount"].sum(), 1e-9)
        shifted = self.drift.loc[self.drift["psi"] >= 0.25, "feature"].tolist()
        text = (
            f"{m['open_invoices']:,} open invoices ({m['ar_open']:,.0f} {m['currency']}) carry "
            f"an expected late amount of {m['expected_late_amount']:,.0f} {m['currency']}; "
            f"the top 10% of the worklist ({len(top):,} invoices) holds {share:.0%} of it. "
            f"{self.model_note}"
        )
        if m["worklist_xlsx_rows"] < m["worklist_rows"]:
            text += (
                f" worklist.xlsx lists the top {m['worklist_xlsx_rows']:,} invoices "
                f"({m['worklist_xlsx_expected_late_share']:.0%} of the expected late amount); "
                "worklist.csv has all of them."
            )
        if shifted:
            text += (
                f" Features whose distribution differs from the latest training rows "
                f"(PSI above 0.25): {', '.join(shifted)}; if the model's accuracy drops, "
                "retrain."
            )
        return text


#: The orders columns the collections report reads.
ORDER_COLUMNS = ["customer_id", "order_date", "sales_rep", "currency"]


def model_for(
    tables: Tables,
    as_of,
    config: Config,
    models_dir: str | Path = "models",
    model_path: str | Path | None = None,
) -> tuple[TrainedModel, Path, str]:
    """Return the model to use on ``as_of``: the given file, else the newest in ``models_dir``
    trained on or before ``as_of``, else one trained now (and saved there)."""
    if model_path:
        path = Path(model_path)
        return load_model(path), path, f"Scored with {path.name} (given)."
    found = find_model(models_dir, as_of)
    if found is not None:
        path, model = found
        return model, path, f"Scored with {path.name}, trained on data up to {model.as_of}."
    model = train_from_tables(tables, as_of, config)
    paths = save_model(model, models_dir)
    return (
        model,
        paths["model"],
        (
            f"No model fitted this date in {models_dir}/, so "
            f"{paths['model'].name} was trained for this report."
        ),
    )


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
    ``metrics.json``, ``worklist.xlsx``, ``worklist.csv`` and ``drift.csv`` there."""
    config = load_config(config_path)
    with open_warehouse(db_path, read_only=True) as wh:
        # of the orders, the worklist needs each customer's latest rep, and the FX check
        # their currencies: the other columns of a million orders are not read
        tables = load_tables(wh, columns={"orders": ORDER_COLUMNS})
    day = pd.Timestamp(report_date).normalize()
    model, path, note = model_for(tables, day, config, models_dir, model_path)
    scored = score_open_invoices(model, tables, day, config)
    X, _ = scored_features(scored)
    wl = worklist(model, tables, day, config, scored=scored)
    b = model.bundle
    current = X["days_past_due"].to_numpy() <= b["grace_days"]
    drift = population_stability(b["late"]["drift_reference"], X.loc[current])
    if wl.empty and len(tables.invoices) == 0:
        raise ModelError("no invoices in the warehouse: nothing to score")
    currency = wl["reporting_currency"].iloc[0] if len(wl) else config.reporting_currency
    metrics = {
        "report_date": str(day.date()),
        "currency": currency,
        "open_invoices": int(len(wl)),
        "ar_open": round(float(wl["open_amount_reporting"].sum()), 2),
        "expected_late_amount": round(float(wl["expected_late_amount"].sum()), 2),
        "worklist_rows": int(len(wl)),
        "worklist_xlsx_rows": int(min(len(wl), XLSX_ROWS)),
        "worklist_xlsx_expected_late_share": round(
            float(
                wl["expected_late_amount"].head(XLSX_ROWS).sum()
                / max(wl["expected_late_amount"].sum(), 1e-9)
            ),
            4,
        ),
        "model": path.name,
        "model_trained_as_of": model.as_of,
        "overdue_invoices": int((wl["days_past_due"] > 0).sum()),
        "broken_promises": int(wl["promise_status"].str.contains("broken").sum()),
        "test_roc_auc": round(float(model.metrics["test"]["roc_auc"]), 4),
        "max_feature_psi": round(float(drift["psi"].max()), 4) if len(drift) else None,
    }
    report = CollectionsReport(wl, model, path.name, note, drift, metrics)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_json(metrics, out / "metrics.json")
        write_worklist_xlsx(
            wl.head(XLSX_ROWS), out / "worklist.xlsx", title=f"Worklist {day.date()}"
        )
        write_worklist_csv(wl, out / "worklist.csv")
        drift.to_csv(out / "drift.csv", index=False)
    return report
