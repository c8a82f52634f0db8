"""Charts for the reports: matplotlib, one consistent style, readable in print."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = [
    "alt_text",
    "aging_bars",
    "bucket_label",
    "describe",
    "image_html",
    "backlog_chart",
    "calibration_chart",
    "cash_forecast_chart",
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


def describe(fig, alt: str):
    """Return ``fig`` with its alternative text (what the chart shows, in words) attached."""
    fig.set_label(alt)
    return fig


def alt_text(fig) -> str:
    """Return the figure's alternative text: the one set by :func:`describe`, else its
    titles (every report chart has one)."""
    if fig.get_label():
        return fig.get_label()
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    return "Chart: " + "; ".join(titles) if titles else "Chart"


def image_html(fig, alt: str | None = None) -> str:
    """Return the figure as an HTML ``<img>`` (PNG embedded) with alternative text."""
    import base64
    import html
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    text = html.escape(alt or alt_text(fig), quote=True)
    return (
        f'<img src="data:image/png;base64,{data}" alt="{text}" style="max-width:100%;height:auto">'
    )


def show(fig, alt: str | None = None) -> None:
    """Display a figure once in a notebook, as an image with alternative text, and free it.

    nbconvert gives a plain figure output the alt text "No description has been provided";
    an HTML ``<img>`` carries the chart's own description into the published report.
    """
    from IPython.display import HTML, display

    display(HTML(image_html(fig, alt)))
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
            "axes.axisbelow": True,
            "grid.color": "#E5E8EB",
            "axes.titlesize": 12,
            "axes.titleweight": "bold",
            "axes.labelsize": 10,
            "font.size": 10,
            "legend.frameon": False,
            "axes.prop_cycle": plt.cycler(color=[BLUE, ORANGE, GREY, RED, GREEN]),
        }
    )


def bucket_label(name: str) -> str:
    """Return an aging or age bucket's label as finance writes it (``1_30`` -> ``1–30``,
    ``90_plus`` -> ``90+``, ``current`` -> ``Current``)."""
    name = str(name)
    if name.endswith("_plus"):
        return name.removesuffix("_plus") + "+"
    if "_" in name:
        return name.replace("_", "–")
    return name[:1].upper() + name[1:]


def _money(v: float) -> str:
    """Return an amount short, for alt text (17.7M, 483k, 950)."""
    if abs(v) >= 1e6:
        return f"{v / 1e6:,.1f}M"
    return f"{v / 1e3:,.0f}k" if abs(v) >= 1e3 else f"{v:,.0f}"


def _fmt_thousands(ax) -> None:
    ax.yaxis.set_major_formatter(
        matplotlib.ticker.FuncFormatter(
            lambda v, _: f"{v / 1e6:.1f}M" if abs(v) >= 1e6 else f"{v / 1e3:.0f}k"
        )
    )


def aging_bars(aging: pd.DataFrame, currency: str):
    """Bar chart of the open balance per aging bucket."""
    row = aging.drop(columns="total").iloc[0]
    labels = [bucket_label(c) for c in row.index]
    fig, ax = plt.subplots()
    colors = [GREEN] + [ORANGE] * (len(row) - 2) + [RED]
    ax.bar(labels, row.to_numpy(), color=colors[: len(row)])
    ax.set_title(f"Open receivables by days past due ({currency})")
    ax.set_xlabel("days past due")
    ax.set_ylabel(currency)
    _fmt_thousands(ax)
    parts = ", ".join(f"{k} {_money(v)}" for k, v in zip(labels, row.to_numpy(), strict=True))
    return describe(fig, f"Bar chart of open receivables by days past due, in {currency}: {parts}.")


def trend_chart(trend: pd.DataFrame, currency: str):
    """Two panels at month ends: AR open (bars, in the currency) and DSO countback beside the
    best possible DSO (lines, in days); the gap between the lines is the days delinquent."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.4))
    x = list(trend.index.strftime("%b %y"))
    a.bar(x, trend["ar_open"], color=GREY)
    a.set_title(f"AR open at month end ({currency})")
    a.set_ylabel(currency)
    _fmt_thousands(a)
    b.plot(x, trend["dso_countback"], color=BLUE, marker="o", label="DSO (countback)")
    b.plot(x, trend["best_possible_dso"], color=GREEN, marker="o", label="Best possible DSO")
    b.set_title("DSO at month end (days)")
    b.set_ylabel("days")
    b.set_ylim(bottom=0)
    b.legend(loc="lower left", fontsize=8)
    for ax in (a, b):
        ax.set_xticks(range(len(x)), x)
        ax.tick_params(axis="x", labelrotation=45)
    fig.tight_layout()
    if len(trend):
        first, last = trend.iloc[0], trend.iloc[-1]
        alt = (
            f"Two charts over {len(trend)} month ends from {x[0]} to {x[-1]}. AR open went "
            f"from {_money(first['ar_open'])} to {_money(last['ar_open'])} {currency}. DSO "
            f"(countback) went from {first['dso_countback']:.1f} to "
            f"{last['dso_countback']:.1f} days; best possible DSO from "
            f"{first['best_possible_dso']:.1f} to {last['best_possible_dso']:.1f} days."
        )
    else:
        alt = "AR open and DSO at month ends: no month end with data yet."
    return describe(fig, alt)


def backlog_chart(daily_orders: pd.DataFrame, backlog: pd.DataFrame):
    """Orders received per day (last 30 days) and the open backlog by age."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [2, 1]})
    a.bar(daily_orders.index, daily_orders["orders"], color=BLUE)
    a.set_title("Orders received per day (last 30 days)")
    a.set_ylabel("orders")
    a.set_xticks(range(0, len(daily_orders), 3), daily_orders.index[::3])
    a.tick_params(axis="x", labelrotation=45)
    ages = (
        backlog["age_bucket"]
        .value_counts()
        .reindex(backlog["age_bucket"].cat.categories, fill_value=0)
    )
    b.bar([bucket_label(c) for c in ages.index.astype(str)], ages.to_numpy(), color=ORANGE)
    b.set_title("Open orders by age")
    b.set_xlabel("days since ordered")
    b.set_ylabel("orders")
    for axis in (a, b):
        axis.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    fig.tight_layout()
    total = int(daily_orders["orders"].sum())
    parts = ", ".join(
        f"{bucket_label(k)} days {int(v):,}" for k, v in zip(ages.index, ages, strict=True)
    )
    return describe(
        fig,
        f"Bar charts: {total:,} orders received over the last {len(daily_orders)} days "
        f"(peak {int(daily_orders['orders'].max() if len(daily_orders) else 0):,} in a day); "
        f"open orders by age: {parts}.",
    )


def escalations_chart(esc: pd.DataFrame):
    """Escalated orders by reason."""
    fig, ax = plt.subplots(figsize=(8, 2.6))
    counts = esc["reason"].value_counts().sort_values()
    ax.barh(counts.index, counts.to_numpy(), color=RED)
    ax.set_title("Orders past SLA by reason (orders)")
    ax.set_xlabel("orders")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    parts = ", ".join(f"{k} {int(v):,}" for k, v in counts.iloc[::-1].items())
    return describe(fig, f"Bar chart of orders past SLA by reason: {parts}.")


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
        ax.set_title("Activities by owner and type")
        ax.set_axis_off()
        return describe(fig, "No activities recorded on this day.")
    table = activity.pivot_table(
        index="owner", columns="type", values="activities", aggfunc="sum", fill_value=0
    )
    table = table.loc[table.sum(axis=1).sort_values(ascending=False).index[:top]]
    table.columns = [str(c).replace("_", " ") for c in table.columns]
    table.plot.bar(stacked=True, ax=ax, width=0.8)
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_title("Activities by owner and type (activities)")
    ax.set_xlabel("")
    ax.set_ylabel("activities")
    ax.legend(title=None, fontsize=8)
    ax.tick_params(axis="x", labelrotation=60)
    busiest = table.sum(axis=1)
    return describe(
        fig,
        f"Stacked bar chart of the day's {int(activity['activities'].sum()):,} activities by "
        f"owner and type; the busiest owner, {busiest.index[0]}, logged {int(busiest.iloc[0]):,}.",
    )


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
    ax.set_title("Scores of open invoices (invoices)")
    ax.set_xlabel("probability")
    ax.set_ylabel("invoices")
    ax.legend()
    kinds_text = ", ".join(
        f"{k} {int((worklist['score_kind'] == k).sum()):,}" for k in worklist["score_kind"].unique()
    )
    return describe(
        fig,
        f"Histogram of the probability scores of {len(worklist):,} open invoices by kind "
        f"({kinds_text}); median {worklist['probability'].dropna().median():.0%}.",
    )


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
    return describe(
        fig,
        "Calibration chart: predicted probability against the observed share of late "
        "invoices on the test set, with the diagonal of perfect calibration.",
    )


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
    top = lift["model"][0] if lift["model"] else float("nan")
    return describe(
        fig,
        "Lift chart: share of late amount found against share of invoices worked, model "
        f"against two baselines; working the top {lift['share_of_rows'][0]:.0%} of invoices "
        f"by the model finds {top:.0%} of the late amount.",
    )


def drift_chart(drift: pd.DataFrame, top: int = 12):
    """Population stability index of the features, largest first."""
    fig, ax = plt.subplots(figsize=(8, 3.4))
    d = drift.head(top).iloc[::-1]
    colors = [GREEN if p < 0.1 else ORANGE if p < 0.25 else RED for p in d["psi"]]
    ax.barh(d["feature"], d["psi"], color=colors)
    ax.axvline(0.1, color=GREY, linestyle="--")
    ax.axvline(0.25, color=RED, linestyle="--")
    ax.set_title("Drift since training (PSI)")
    ax.set_xlabel("population stability index")
    worst = drift.iloc[0] if len(drift) else None
    return describe(
        fig,
        "Bar chart of the population stability index of each feature since training"
        + (
            f"; the largest is {worst['feature']} at {worst['psi']:.2f}."
            if worst is not None
            else "."
        ),
    )


def cash_forecast_chart(weekly: pd.DataFrame, currency: str):
    """Cash expected per week with its 80% band, beside what the due dates alone say."""
    fig, ax = plt.subplots()
    x = np.arange(1, len(weekly) + 1)
    ax.fill_between(
        x, weekly["p10"], weekly["p90"], color=BLUE, alpha=0.18, label="80% band (p10–p90)"
    )
    ax.plot(x, weekly["expected"], color=BLUE, marker="o", label="expected (model)")
    ax.plot(
        x,
        weekly["due_date_view"],
        color=ORANGE,
        linestyle="--",
        marker=".",
        label="paid on the due date",
    )
    ax.set_title(f"Cash in the next {len(weekly)} weeks ({currency})")
    ax.set_xlabel("week after the report date")
    ax.set_ylabel(currency)
    ax.set_xticks(x)
    _fmt_thousands(ax)
    ax.legend()
    total = float(weekly["expected"].sum())
    first = weekly.iloc[0] if len(weekly) else None
    alt = (
        f"Line chart of the cash expected in each of the next {len(weekly)} weeks, in "
        f"{currency}: {_money(total)} in all"
        + (
            f"; week 1 {_money(first['expected'])} (80% band {_money(first['p10'])} to "
            f"{_money(first['p90'])}), against {_money(first['due_date_view'])} if every "
            "invoice were paid on its due date."
            if first is not None
            else "."
        )
    )
    return describe(fig, alt)
