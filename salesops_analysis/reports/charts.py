"""Charts for the reports: matplotlib, one consistent style, readable in print."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = [
    "aging_bars",
    "backlog_chart",
    "calibration_chart",
    "drift_chart",
    "escalations_chart",
    "lift_chart",
    "rep_activity_chart",
    "score_distribution",
    "show",
    "trend_chart",
    "use_report_style",
]

BLUE, ORANGE, GREY, RED, GREEN = "#1F3A5F", "#E07B39", "#9AA5B1", "#B83B3B", "#3D8B5A"


def show(fig) -> None:
    """Display a figure once in a notebook and free it."""
    from IPython.display import display

    display(fig)
    plt.close(fig)


def use_report_style() -> None:
    """Set the report style: white background, light grid, large readable labels."""
    plt.rcParams.update(
        {
            "figure.figsize": (8, 3.6),
            "figure.dpi": 100,
            "savefig.dpi": 120,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.color": "#E5E8EB",
            "axes.titlesize": 12,
            "axes.titleweight": "bold",
            "axes.labelsize": 10,
            "font.size": 10,
            "legend.frameon": False,
            "axes.prop_cycle": plt.cycler(color=[BLUE, ORANGE, GREY, RED, GREEN]),
        }
    )


def _fmt_thousands(ax) -> None:
    ax.yaxis.set_major_formatter(
        matplotlib.ticker.FuncFormatter(
            lambda v, _: f"{v / 1e6:.1f}M" if abs(v) >= 1e6 else f"{v / 1e3:.0f}k"
        )
    )


def aging_bars(aging: pd.DataFrame, currency: str):
    """Bar chart of the open balance per aging bucket."""
    row = aging.drop(columns="total").iloc[0]
    fig, ax = plt.subplots()
    colors = [GREEN] + [ORANGE] * (len(row) - 2) + [RED]
    ax.bar(row.index, row.to_numpy(), color=colors[: len(row)])
    ax.set_title(f"Open receivables by days past due ({currency})")
    _fmt_thousands(ax)
    return fig


def trend_chart(trend: pd.DataFrame, currency: str):
    """AR (bars) and DSO countback / best possible DSO (lines) at month ends."""
    fig, ax = plt.subplots()
    x = trend.index.strftime("%b %y")
    ax.bar(x, trend["ar_open"], color=GREY, label=f"AR ({currency})")
    _fmt_thousands(ax)
    ax2 = ax.twinx()
    ax2.plot(x, trend["dso_countback"], color=BLUE, marker="o", label="DSO (countback)")
    ax2.plot(x, trend["best_possible_dso"], color=GREEN, marker="o", label="best possible DSO")
    ax2.set_ylabel("days")
    ax2.grid(False)
    ax.set_title("AR and DSO at month ends")
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    labels = ax.get_legend_handles_labels()[1] + ax2.get_legend_handles_labels()[1]
    ax.legend(lines, labels, loc="upper left", fontsize=8)
    ax.tick_params(axis="x", labelrotation=45)
    return fig


def backlog_chart(daily_orders: pd.DataFrame, backlog: pd.DataFrame):
    """Orders received per day (last 30 days) and the open backlog by age."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [2, 1]})
    a.bar(daily_orders.index, daily_orders["orders"], color=BLUE)
    a.set_title("Orders received per day")
    a.set_xticks(range(0, len(daily_orders), 3), daily_orders.index[::3])
    a.tick_params(axis="x", labelrotation=45)
    ages = (
        backlog["age_bucket"]
        .value_counts()
        .reindex(backlog["age_bucket"].cat.categories, fill_value=0)
    )
    b.bar([c.replace("_", "–") for c in ages.index.astype(str)], ages.to_numpy(), color=ORANGE)
    b.set_title("Open orders by age (days)")
    fig.tight_layout()
    return fig


def escalations_chart(esc: pd.DataFrame):
    """Escalated orders by reason."""
    fig, ax = plt.subplots(figsize=(8, 2.6))
    counts = esc["reason"].value_counts().sort_values()
    ax.barh(counts.index, counts.to_numpy(), color=RED)
    ax.set_title("Orders past SLA by reason")
    return fig


def rep_activity_chart(activity: pd.DataFrame, top: int = 15):
    """Activities of the day per owner, stacked by type."""
    fig, ax = plt.subplots(figsize=(8, 3.4))
    if activity.empty:
        ax.text(
            0.5,
            0.5,
            "no activities recorded on this day",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return fig
    table = activity.pivot_table(
        index="owner", columns="type", values="activities", aggfunc="sum", fill_value=0
    )
    table = table.loc[table.sum(axis=1).sort_values(ascending=False).index[:top]]
    table.plot.bar(stacked=True, ax=ax, width=0.8)
    ax.set_title("Activities by owner and type")
    ax.set_xlabel("")
    ax.tick_params(axis="x", labelrotation=60)
    return fig


def score_distribution(worklist: pd.DataFrame):
    """Histogram of scores, by kind."""
    fig, ax = plt.subplots()
    kinds = [k for k in worklist["score_kind"].unique() if k not in ("p_late", "p_unpaid_30d")]
    colors = (BLUE, ORANGE, GREEN, GREY)
    for kind, color in zip(["p_late", "p_unpaid_30d", *kinds], colors * 3, strict=False):
        s = worklist.loc[worklist["score_kind"] == kind, "probability"].dropna()
        if len(s):
            ax.hist(
                s, bins=np.linspace(0, 1, 21), alpha=0.75, color=color, label=f"{kind} ({len(s):,})"
            )
    ax.set_title("Scores of open invoices")
    ax.set_xlabel("probability")
    ax.legend()
    return fig


def calibration_chart(calibration: dict):
    """Predicted vs observed late rate on the model's test set."""
    fig, ax = plt.subplots(figsize=(4.2, 4))
    ax.plot([0, 1], [0, 1], color=GREY, linestyle="--", label="perfect")
    ax.plot(
        calibration["predicted"], calibration["observed"], marker="o", color=BLUE, label="model"
    )
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed share late")
    ax.set_title("Calibration (test set)")
    ax.legend()
    return fig


def lift_chart(lift: dict):
    """Cumulative share of late amount captured vs share of the worklist worked."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    x = [0, *lift["share_of_rows"]]
    for key, label, color in (
        ("model", "model", BLUE),
        ("customer_late_share", "customer's late share", ORANGE),
        ("days_past_due_amount", "days past due × amount", GREY),
    ):
        ax.plot(x, [0, *lift[key]], marker=".", color=color, label=label)
    ax.plot([0, 1], [0, 1], color=GREY, linestyle=":", label="random")
    ax.set_xlabel("share of invoices worked (ranked)")
    ax.set_ylabel("share of late amount found")
    ax.set_title("Lift (test set)")
    ax.legend(fontsize=8)
    return fig


def drift_chart(drift: pd.DataFrame, top: int = 12):
    """Population stability index of the features, largest first."""
    fig, ax = plt.subplots(figsize=(8, 3.4))
    d = drift.head(top).iloc[::-1]
    colors = [GREEN if p < 0.1 else ORANGE if p < 0.25 else RED for p in d["psi"]]
    ax.barh(d["feature"], d["psi"], color=colors)
    ax.axvline(0.1, color=GREY, linestyle="--")
    ax.axvline(0.25, color=RED, linestyle="--")
    ax.set_title("Drift since training (PSI)")
    return fig
