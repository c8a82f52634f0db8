"""Tables as a finance reader reads them: the one helper every report notebook displays with.

:func:`table` turns a DataFrame into a small HTML table: human headers, no row numbers, counts
as integers, amounts with thousands separators and the currency in the header, percentages
with ``%``, missing values blank, dates as dates, the customer's name beside its id, ids that
never break across lines, and a box that scrolls sideways when the table is wider than the
page. :func:`kpi_table` shows headline figures with their change vs the previous day and vs
the last month-end, coloured by whether the change is good news.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd

from .daily import Figure

__all__ = [
    "HEADERS",
    "HTMLTable",
    "header",
    "kpi_table",
    "kpi_tiles",
    "table",
    "with_customer_names",
]

#: Headers for the column names the reports show; others: underscores become spaces.
HEADERS = {
    "activities": "Activities",
    "activity_date": "Activity date",
    "activity_id": "Activity",
    "age_days": "Age (days)",
    "amount": "Amount",
    "count": "Count",
    "currency": "Currency",
    "customer_id": "Customer id",
    "customer_name": "Customer",
    "days_over": "Days over",
    "days_past_due": "Days past due",
    "due_date": "Due date",
    "dunning_stage": "Dunning stage",
    "expected_late_amount": "Expected late amount",
    "feature": "Feature",
    "invoice_id": "Invoice",
    "next_action": "Next action",
    "open_amount": "Open amount",
    "open_amount_reporting": "Open amount",
    "overdue_amount_reporting": "Overdue amount",
    "oldest_days_past_due": "Oldest days past due",
    "call_today": "Call today",
    "collector": "Collector",
    "invoice_1": "First invoice to mention",
    "order_date": "Order date",
    "order_id": "Order",
    "outcome": "Outcome",
    "owner": "Owner",
    "probability": "Probability",
    "promise_status": "Promise",
    "promised_amount": "Promised amount",
    "promised_date": "Promised date",
    "psi": "PSI",
    "rank": "Rank",
    "reason": "Reason",
    "reason_1": "Reason 1",
    "reason_2": "Reason 2",
    "reason_3": "Reason 3",
    "sales_rep": "Sales rep",
    "score_kind": "Score",
    "status_on_day": "Status",
    "team": "Team",
    "total": "Total",
    "current": "Current",
    "type": "Type",
}
#: Columns holding money (the currency goes in the header).
AMOUNTS = {
    "amount",
    "open_amount",
    "open_amount_reporting",
    "overdue_amount_reporting",
    "expected_late_amount",
    "promised_amount",
    "total",
    "current",
}
#: Free-text columns that wrap inside their cell; every other column stays on one line (ids,
#: names, dates, amounts), and a table wider than the page scrolls inside its own box.
WRAPPED = {"reason", "reason_1", "reason_2", "reason_3", "next_action", "change"}
#: Code-like values shown as words (``on_hold`` -> ``on hold``).
WORDED = {"status_on_day", "type", "outcome", "dunning_stage", "promise_status"}
#: Columns shown as a share (0.42 -> 42%).
SHARES = {"probability"}
_BUCKET = re.compile(r"^(\d+)_(\d+|plus)$")

# selectors strong enough to beat JupyterLab's table style that nbconvert embeds (right-aligned
# cells, fixed layout, no borders)
_T = ".so-wrap table.so-table"
_STYLE = f"""<style>
.so-wrap{{overflow-x:auto;max-width:100%;margin:0.4em 0 1em}}
{_T}{{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums;
 table-layout:auto;margin:0;width:auto}}
{_T} th{{text-align:left;border:none;border-bottom:1px solid #9AA5B1;padding:4px 8px;
 white-space:nowrap;font-weight:600;vertical-align:bottom}}
{_T} td{{text-align:left;border:none;border-bottom:1px solid #E5E8EB;padding:3px 8px;
 vertical-align:top;white-space:nowrap}}
{_T} th.num,{_T} td.num{{text-align:right}}
{_T} td.text{{white-space:normal;min-width:12em;max-width:24em}}
{_T} .good{{color:#2E7D4F}}{_T} .bad{{color:#B83B3B}}{_T} .neutral{{color:#5F6B7A}}
.so-tiles{{display:flex;flex-wrap:wrap;gap:10px;margin:0.6em 0 1em}}
.so-tile{{border:1px solid #E5E8EB;border-radius:6px;padding:8px 14px;min-width:11em}}
.so-tile .v{{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}}
.so-tile .l{{font-size:12px;color:#5F6B7A}}
.so-tile .good{{color:#2E7D4F}}.so-tile .bad{{color:#B83B3B}}
</style>"""


class HTMLTable:
    """An HTML table a notebook displays (``_repr_html_``) and a test can read (``html``)."""

    def __init__(self, html_text: str) -> None:
        self.html = html_text

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html


def header(name: str, *, currency: str | None = None, amount: bool = False) -> str:
    """Return the human header of a column (``days_past_due`` -> ``Days past due``,
    ``90_plus`` -> ``90+ days``), with the currency for an amount."""
    name = str(name)
    m = _BUCKET.match(name)
    if m:
        label = f"{m[1]}+ days" if m[2] == "plus" else f"{m[1]}–{m[2]} days"
    else:
        label = HEADERS.get(name) or (name[:1].upper() + name[1:]).replace("_", " ")
    if amount and currency:
        label += f" ({currency})"
    return label


def with_customer_names(frame: pd.DataFrame, names: pd.Series | None) -> pd.DataFrame:
    """Return ``frame`` with a ``customer_name`` column beside ``customer_id`` (names by id;
    blank for an id without a name). Unchanged without ``customer_id`` or with a name column."""
    if "customer_id" not in frame or "customer_name" in frame or names is None:
        return frame
    where = frame.columns.get_loc("customer_id")
    named = frame["customer_id"].map(names) if len(names) else pd.Series("", index=frame.index)
    out = frame.copy()
    out.insert(where + 1, "customer_name", named.fillna("").astype("str"))
    return out


def _is_blank(values: pd.Series) -> np.ndarray:
    return values.isna().to_numpy(dtype=bool)


def _column_cells(
    values: pd.Series, name: str, *, amount: bool, share: bool, pct: bool, decimals: int | None
) -> tuple[list[str], str]:
    """Return the column's display text and its CSS class."""
    blank = _is_blank(values)
    if pd.api.types.is_datetime64_any_dtype(values):
        text = values.dt.strftime("%Y-%m-%d")
        return _fill(text, blank), "nowrap"
    if pd.api.types.is_bool_dtype(values):
        return _fill(values.map({True: "yes", False: "no"}), blank), "text"
    if pd.api.types.is_numeric_dtype(values):
        x = values.astype("float64")
        if share:
            fmt = "{:.0%}"
        elif pct:
            fmt = "{:.1f}%"
        elif decimals is not None:
            fmt = "{:,.%df}".replace("%d", str(decimals))
        elif amount:
            fmt = "{:,.2f}"
        elif pd.api.types.is_integer_dtype(values) or bool(
            np.all(np.mod(x[~blank].to_numpy(), 1) == 0)
        ):
            fmt = "{:,.0f}"  # a count, never "356.00"
        else:
            fmt = "{:,.2f}"
        text = x.map(lambda v: "" if np.isnan(v) else fmt.format(v))
        return _fill(text, blank), "num"
    text = values.astype("object").map(lambda v: "" if v is None else str(v))
    if name in WORDED:
        text = text.str.replace("_", " ", regex=False)
    css = "text" if name in WRAPPED else "nowrap"
    return _fill(text, blank), css


def _fill(text: pd.Series, blank: np.ndarray) -> list[str]:
    out = np.array(text.astype("object").to_numpy(), dtype=object, copy=True)
    out[blank] = ""
    return [
        "" if v is None or (isinstance(v, float) and np.isnan(v)) else html.escape(str(v))
        for v in out
    ]


def table(
    frame: pd.DataFrame,
    *,
    currency: str | None = None,
    customers: pd.Series | None = None,
    amounts: tuple[str, ...] | list[str] = (),
    percents: tuple[str, ...] | list[str] = (),
    decimals: int | dict[str, int] | None = None,
    headers: dict[str, str] | None = None,
    max_rows: int = 50,
    caption: str | None = None,
) -> HTMLTable:
    """Return ``frame`` as a readable HTML table for a report.

    Parameters
    ----------
    frame : DataFrame
        The rows to show. A meaningful index (named, e.g. ``team``) becomes leading columns; a
        plain 0..n index is dropped.
    currency : str, optional
        The reporting currency, written in the header of every amount column.
    customers : Series, optional
        Customer names by id: a ``Customer`` column is added beside ``customer_id``.
    amounts, percents : sequence of str
        Columns that hold amounts or percentages (0-100), beyond the known names.
    decimals : int or dict, optional
        Fixed decimals for every numeric column, or for some (e.g. ``{"psi": 3}``).
    headers : dict, optional
        Headers for some columns, replacing the default ones.
    max_rows : int
        At most this many rows are shown (the caller says where the rest is).
    caption : str, optional
        A line above the table.
    """
    df = frame
    if not isinstance(df.index, pd.RangeIndex) or df.index.name is not None:
        df = df.reset_index()
    df = with_customer_names(df, customers).head(max_rows)
    if currency is not None and "currency" in df:
        # one currency: it goes in the headers; several: the column says each row's
        seen = df["currency"].dropna().unique()
        if len(seen) == 0 or (len(seen) == 1 and seen[0] == currency):
            df = df.drop(columns="currency")
        else:
            currency = None
    if isinstance(decimals, int):
        decimals = {str(c): decimals for c in df.columns}
    decimals = decimals or {}
    headers = headers or {}
    amounts, percents = set(amounts), set(percents)
    heads, columns = [], []
    for name in df.columns:
        key = str(name)
        values = df[name]
        is_amount = (key in AMOUNTS or key in amounts or bool(_BUCKET.match(key))) and bool(
            pd.api.types.is_numeric_dtype(values)
        )
        cells, css = _column_cells(
            values,
            key,
            amount=is_amount,
            share=key in SHARES,
            pct=key in percents,
            decimals=decimals.get(key),
        )
        label = headers.get(key) or header(key, currency=currency, amount=is_amount)
        heads.append(f'<th class="{css}">{html.escape(label)}</th>')
        columns.append([f'<td class="{css}">{c}</td>' for c in cells])
    rows = ["<tr>" + "".join(r) + "</tr>" for r in zip(*columns, strict=True)] if columns else []
    cap = f"<p>{html.escape(caption)}</p>" if caption else ""
    body = (
        f'{_STYLE}{cap}<div class="so-wrap"><table class="so-table"><thead><tr>'
        + "".join(heads)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )
    return HTMLTable(body)


def _figure_text(value, kind: str, currency: str, *, signed: bool = False) -> str:
    """Return a headline value (or a change, ``signed``) as text, by its kind."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, str):
        return value
    sign = "+" if signed and value > 0 else ""
    if kind == "count":
        return f"{sign}{value:,.0f}"
    if kind == "amount":
        return f"{sign}{value:,.0f} {currency}"
    if kind == "days":
        return f"{sign}{value:,.1f} days"
    if kind == "pct":
        return f"{sign}{value:.1f}{' pts' if signed else '%'}"
    return f"{sign}{value}"


def _change_cell(change: dict, fig: Figure, currency: str) -> tuple[str, str]:
    """Return the text and CSS class of one comparison (``▲ +0.4 days`` in green/red/grey)."""
    if change.get("delta") is None:
        return "n/a", "neutral"  # nothing to compare with (no data, or no model that day)
    arrow = {"up": "▲", "down": "▼", "flat": "="}[change["direction"]]
    css = {True: "good", False: "bad", None: "neutral"}[change["better"]]
    if change["direction"] == "flat":
        return f"{arrow} no change", "neutral"
    return f"{arrow} {_figure_text(change['delta'], fig.kind, currency, signed=True)}", css


def _dates(changes: dict) -> tuple[str, str]:
    first = next(iter(changes.values()))
    return first["previous_day"]["date"], first["month_end"]["date"]


def kpi_tiles(changes: dict, figures: dict[str, Figure], currency: str, keys) -> HTMLTable:
    """Return the key figures as large tiles, each with its change vs the previous day and
    vs the last month-end (green when good news, red when bad, grey when neutral)."""
    keys = [k for k in keys if k in changes and changes[k]["value"] is not None]
    if not keys:
        return HTMLTable("")
    prev_date, me_date = _dates(changes)
    tiles = []
    for key in keys:
        fig, c = figures[key], changes[key]
        day_text, day_css = _change_cell(c["previous_day"], fig, currency)
        me_text, me_css = _change_cell(c["month_end"], fig, currency)
        tiles.append(
            f'<div class="so-tile"><div class="l">{html.escape(fig.label)}</div>'
            f'<div class="v">{html.escape(_figure_text(c["value"], fig.kind, currency))}</div>'
            f'<div class="l"><span class="{day_css}">{html.escape(day_text)}</span>'
            f" vs {prev_date}</div>"
            f'<div class="l"><span class="{me_css}">{html.escape(me_text)}</span>'
            f" vs {me_date}</div></div>"
        )
    return HTMLTable(f'{_STYLE}<div class="so-tiles">{"".join(tiles)}</div>')


def kpi_table(
    changes: dict,
    figures: dict[str, Figure],
    currency: str,
    *,
    missing: dict[str, str] | None = None,
) -> HTMLTable:
    """Return headline figures with their change vs the previous day and the last month-end.

    ``changes`` is the ``changes`` entry of a report's metrics
    (:func:`~salesops_analysis.reports.daily.headline_changes`). A change is green when it is
    good news by the figure's meaning (DSO down, cash up), red when bad, grey when neutral.
    ``missing`` gives the text of figures a missing export leaves out.
    """
    missing = missing or {}
    keys = [k for k in figures if k in changes]
    if not keys:
        return HTMLTable("<p>No headline figures.</p>")
    prev_date, me_date = _dates(changes)
    rows = []
    for key in keys:
        fig, c = figures[key], changes[key]
        value = missing.get(key) or _figure_text(c["value"], fig.kind, currency) or "n/a"
        cells = [
            f'<td class="nowrap">{html.escape(fig.label)}</td>',
            f'<td class="num">{html.escape(value)}</td>',
        ]
        for which in ("previous_day", "month_end"):
            text, css = ("", "neutral") if key in missing else _change_cell(c[which], fig, currency)
            cells.append(f'<td class="num {css}">{html.escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    heads = ["Figure", "Today", f"vs previous day ({prev_date})", f"vs month-end ({me_date})"]
    body = (
        _STYLE
        + '<div class="so-wrap"><table class="so-table"><thead><tr>'
        + "".join(
            f'<th class="{"num" if i else ""}">{html.escape(h)}</th>' for i, h in enumerate(heads)
        )
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )
    return HTMLTable(body)
