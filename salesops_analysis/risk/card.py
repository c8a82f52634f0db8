"""The model card written next to each saved model."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import TrainedModel


def _f(x, nd: int = 3) -> str:
    return "n/a" if x is None or x != x else f"{x:.{nd}f}"


def _table(ev: dict) -> list[str]:
    b = ev["baselines"]
    c, d = b["customer_late_share"], b["days_past_due_amount"]
    return [
        "| metric (test set) | model | customer's prior late share | days past due × amount |",
        "| --- | --- | --- | --- |",
        f"| ROC AUC | {_f(ev['roc_auc'])} | {_f(c['roc_auc'])} | {_f(d['roc_auc'])} |",
        f"| PR AUC | {_f(ev['pr_auc'])} | {_f(c['pr_auc'])} | {_f(d['pr_auc'])} |",
        f"| Brier score (base rate: {_f(ev['brier_base_rate'])}) | {_f(ev['brier'])} | "
        f"{_f(c['brier'])} | – |",
        f"| late amount in the top 10% | {_f(ev['top_decile_late_amount_share'])} | "
        f"{_f(c['top_decile_late_amount_share'])} | {_f(d['top_decile_late_amount_share'])} |",
    ]


def _calibration(ev: dict) -> list[str]:
    cal = ev["calibration"]
    rows = ["| predicted | observed |", "| --- | --- |"]
    rows += [
        f"| {p:.3f} | {o:.3f} |" for p, o in zip(cal["predicted"], cal["observed"], strict=True)
    ]
    return rows


def _guard(ev: dict) -> str:
    g = ev.get("guard")
    if not g:
        return ""
    if "candidate" not in g:
        return f"Deployed: the baseline `{g['baseline']}`."
    verdict = (
        "beats it in both, so the model is deployed"
        if g["deployed"] == "model"
        else "does not beat it in both, so the baseline is deployed"
    )
    return (
        f"Baseline guard on validation: {g['candidate']} ROC AUC "
        f"{_f(g['validation_roc_auc'])} and Brier {_f(g['validation_brier'])} against "
        f"{_f(g['baseline_validation_roc_auc'])} and {_f(g['baseline_validation_brier'])} for "
        f"`{g['baseline']}` (calibrated the same way): it {verdict}."
    )


def _sampling(sp: dict) -> str:
    sample = sp.get("sample")
    if not sample:
        return ""
    parts = [
        f"{name} {s['rows']:,} of {s['drawn_from']:,} ({s['months'][0]} .. {s['months'][1]})"
        for name, s in sample.items()
    ]
    return "Rows are uniform random samples of their whole period: " + "; ".join(parts) + "."


def _section(title: str, ev: dict) -> list[str]:
    sp = ev["split"]
    return [
        f"## {title}",
        "",
        f"Chosen pipeline: **{ev['chosen']}** (validation ROC AUC: "
        + ", ".join(f"{k} {_f(v)}" for k, v in ev["validation_roc_auc"].items())
        + ").",
        "",
        _guard(ev),
        "",
        f"Split by time: fit {sp['fit'][0]} .. {sp['fit'][1]} ({sp['fit_rows']:,} rows), "
        f"validation/calibration {sp['validation'][0]} .. {sp['validation'][1]} "
        f"({sp['validation_rows']:,}), test {sp['test'][0]} .. {sp['test'][1]} "
        f"({sp['test_rows']:,}, late share {_f(ev['late_share'])}). Training labels are those "
        f"decided by {sp['train_labels_known_by']} (outcomes that could still change then are "
        f"left out, whatever they turned out to be). {_sampling(sp)}",
        "",
        *_table(ev),
        "",
        f"Calibration in the large: mean predicted probability {_f(ev.get('mean_predicted'))} "
        f"against an observed share of {_f(ev['late_share'])} on the test set.",
        "",
        "Calibration on the test set (deciles of the predicted probability):",
        "",
        *_calibration(ev),
        "",
    ]


def model_card(model: TrainedModel, file_name: str) -> str:
    """Return the model card as Markdown."""
    b = model.bundle
    m = b.metrics
    late = {**m["test"], "baselines": m["baselines"]}
    lines = [
        f"# Late-payment model {file_name}",
        "",
        f"Trained on what was known at the end of **{b.trained_as_of}** by salesops-analysis "
        f"{b.package_version} (feature set v{b.feature_version}).",
        "",
        *([f"**{m['deployment_note']}**", ""] if m.get("deployment_note") else []),
        "## What it predicts",
        "",
        f"- **late** (`{b.late.chosen}`): the probability that an invoice is {m['target']}"
        f" (grace days: {b.grace_days}). Used for open invoices not yet past due + grace.",
        f"- **overdue**: for invoices already past due + grace, the probability that they are "
        f"still not fully paid {b.horizon_days} days later."
        + (
            f" (`{b.overdue.chosen}`)"
            if b.overdue is not None
            else " (not trained: " + str((m.get("overdue") or {}).get("skipped", "no data")) + ")"
        ),
        "",
        "Features use only what was known on the scoring day: the customer's invoices settled "
        "before it (count, late share, days late, recent trend), its other open and overdue "
        "invoices, the amount against the customer's usual, terms, month/quarter end, disputes "
        "and collector activities recorded by then, and " + ", ".join(b.categorical) + ". "
        "Invoices whose outcome was unknown at a cut are left out (censored), never counted as "
        "on time.",
        "",
        *_section("Late model: test results", late),
    ]
    if isinstance(m.get("overdue"), dict) and "roc_auc" in m["overdue"]:
        lines += _section("Overdue model: test results", m["overdue"])
    ref = b.late.drift_reference
    window = b.late.drift_window or {"issued": ["?", "?"], "rows": 0}
    lines += [
        "## Drift reference",
        "",
        f"The shares of {len(ref)} features of the {window['rows']:,} invoices issued "
        f"{window['issued'][0]} .. {window['issued'][1]}, each on its issue day, are stored in "
        "the model; the collections report compares the invoices issued in the 30 days before "
        "its date, also on their issue days, with them (population stability index per "
        "feature; calendar flags are left out).",
        "",
        "## Limits",
        "",
        "- Probabilities are calibrated on the latest slice before the test period; if payment "
        "behaviour shifts (see drift), retrain.",
        "- Reasons are the largest positive contributions of the logistic model's features.",
        *([f"- {m['settlements']}"] if m.get("settlements") else []),
        "",
    ]
    return "\n".join(lines)
