"""How a model is judged: ROC AUC, the share of late amount it finds, the test metrics, and the
baseline guard.

The baseline guard
    The chosen model is deployed only if it beats the baseline (the customer's late share for
    the late model, days past due for the overdue model), calibrated the same way, on the
    validation slice in both ROC AUC and Brier score. Otherwise the calibrated baseline itself
    is deployed, and the metrics (``deployed``, ``deployment_note``), the card and
    ``salesops train`` say so.
"""

from __future__ import annotations

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

__all__ = [
    "BASELINES",
    "auc",
    "beats_baseline",
    "deployment_note",
    "lift_curve",
    "holdout_scores",
    "top_decile_share",
]

#: The baseline each model must beat on validation (ROC AUC and Brier score), else the
#: baseline itself, calibrated, is deployed: (feature, pipeline name, words for the card).
BASELINES = {
    "late": ("hist_late_share", "customer_late_share_baseline", "the customer's late share"),
    "overdue": ("days_past_due", "days_past_due_baseline", "days past due"),
}


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Return the ROC AUC of ``score`` for outcomes ``y`` (NaN unless both classes occur).

    Examples
    --------
    >>> import numpy as np
    >>> auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    >>> auc(np.array([1, 1]), np.array([0.1, 0.2]))
    nan
    """
    return float(roc_auc_score(y, score)) if len(np.unique(y)) == 2 else float("nan")


def top_decile_share(y: np.ndarray, amount: np.ndarray, ranking: np.ndarray) -> float:
    """Return the share of late amount found in the top 10% of rows ranked by ``ranking``."""
    late_amount = float((amount * y).sum())
    if late_amount <= 0:
        return float("nan")
    order = np.argsort(-ranking, kind="stable")
    top = order[: max(1, int(np.ceil(0.1 * len(order))))]
    return float((amount[top] * y[top]).sum() / late_amount)


def lift_curve(
    y: np.ndarray, amount: np.ndarray, ranking: np.ndarray, steps: int = 10
) -> list[float]:
    """Return the cumulative share of late amount in the top 10%, 20%, ... of the ranking."""
    late_amount = float((amount * y).sum())
    order = np.argsort(-ranking, kind="stable")
    found = np.cumsum((amount * y)[order])
    cuts = [max(1, int(np.ceil(len(order) * k / steps))) - 1 for k in range(1, steps + 1)]
    return [
        round(float(found[c] / late_amount), 4) if late_amount > 0 else float("nan") for c in cuts
    ]


def _pr_auc(y: np.ndarray, score: np.ndarray) -> float:
    return float(average_precision_score(y, score)) if y.any() else float("nan")


def _baseline_scores(y, amount, prior_share, baseline_dpd) -> dict:
    """Return the test metrics of the two baselines: the customer's late share and days past
    due × amount."""
    return {
        "customer_late_share": {
            "roc_auc": auc(y, prior_share),
            "pr_auc": _pr_auc(y, prior_share),
            "brier": float(brier_score_loss(y, np.clip(prior_share, 0, 1))),
            "top_decile_late_amount_share": top_decile_share(y, amount, prior_share * amount),
        },
        "days_past_due_amount": {
            "roc_auc": auc(y, baseline_dpd),
            "pr_auc": _pr_auc(y, baseline_dpd),
            "top_decile_late_amount_share": top_decile_share(y, amount, baseline_dpd),
        },
    }


def holdout_scores(y, p, amount, prior_share, dpd, base_rate) -> dict:
    """Return the test-set metrics of probabilities ``p`` for outcomes ``y`` (rows of ``amount``):
    late share, mean predicted, ROC and PR AUC, Brier (and that of ``base_rate``), the top
    decile's share of late amount, calibration deciles, lift curves, and the baselines'
    metrics (``prior_share``: the customer's late share, ``dpd``: days past due)."""
    baseline_dpd = (np.maximum(dpd, 0) + 1) * amount
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="quantile")
    return {
        "rows": int(len(y)),
        "late_share": float(y.mean()) if len(y) else float("nan"),
        # calibration in the large: the mean probability against the late share above
        "mean_predicted": float(p.mean()) if len(p) else float("nan"),
        "roc_auc": auc(y, p),
        "pr_auc": _pr_auc(y, p),
        "brier": float(brier_score_loss(y, p)),
        "brier_base_rate": float(np.mean((y - base_rate) ** 2)),
        "top_decile_late_amount_share": top_decile_share(y, amount, p * amount),
        "calibration": {
            "predicted": [round(float(x), 4) for x in prob_pred],
            "observed": [round(float(x), 4) for x in prob_true],
        },
        "lift": {
            "share_of_rows": [k / 10 for k in range(1, 11)],
            "model": lift_curve(y, amount, p * amount),
            "customer_late_share": lift_curve(y, amount, prior_share * amount),
            "days_past_due_amount": lift_curve(y, amount, baseline_dpd),
        },
        "baselines": _baseline_scores(y, amount, prior_share, baseline_dpd),
    }


def beats_baseline(guard: dict) -> bool:
    """Return whether the calibrated candidate of the guard's record beats the calibrated
    baseline on validation in both ROC AUC (higher) and Brier score (lower)."""
    return (
        guard["validation_roc_auc"] > guard["baseline_validation_roc_auc"]
        and guard["validation_brier"] < guard["baseline_validation_brier"]
    )


def deployment_note(kind: str, guard: dict) -> str | None:
    """Return the plain sentence saying that ``kind``'s baseline is deployed (else ``None``)."""
    if guard["deployed"] != "baseline":
        return None
    words = BASELINES[kind][2]
    what = "late-payment" if kind == "late" else "overdue"
    return (
        f"The {what} model ({guard['candidate']}) did not beat {words} on validation "
        f"(ROC AUC {guard['validation_roc_auc']:.3f} against "
        f"{guard['baseline_validation_roc_auc']:.3f}, Brier {guard['validation_brier']:.3f} "
        f"against {guard['baseline_validation_brier']:.3f}), so {words}, calibrated, is "
        f"deployed as the {what} score."
    )
