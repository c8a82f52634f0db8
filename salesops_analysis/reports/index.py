"""``reports/index.html``: every report date, newest first, with links and headline figures.

Rewritten after every report run (:func:`write_index`). One self-contained HTML file (inline
style, inline SVG trends, no script, relative links) that works opened from the file system
and from any static web server.
"""

from __future__ import annotations

import fcntl
import html
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

__all__ = ["ReportDate", "collect_reports", "render_index", "sparkline", "write_index"]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: The reports the index links, in column order, with their titles.
REPORT_TITLES = {"daily-mis": "Daily MIS", "collections": "Collections"}
#: The worklist files of a collections report, linked when present.
WORKLISTS = ("worklist.xlsx", "worklist.csv")


@dataclass
class ReportDate:
    """The published reports of one date: which exist, their metrics, the worklist files."""

    date: str
    reports: dict[str, dict] = field(default_factory=dict)  # report -> metrics ({} unreadable)
    worklists: list[str] = field(default_factory=list)

    def figure(self, report: str, key: str):
        """Return a headline figure of a report of this date, or ``None``."""
        value = self.reports.get(report, {}).get(key)
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _read_metrics(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # a report without readable figures is still linked
    return data if isinstance(data, dict) else {}


def collect_reports(reports_root: str | Path) -> list[ReportDate]:
    """Return the published report dates under ``reports_root``, newest first (a date folder
    counts when at least one of its reports has a ``report.html``)."""
    root = Path(reports_root)
    out = []
    if not root.is_dir():
        return out
    for folder in sorted(root.iterdir(), reverse=True):
        if not (folder.is_dir() and _DATE.match(folder.name)):
            continue
        entry = ReportDate(folder.name)
        for report in REPORT_TITLES:
            if (folder / report / "report.html").is_file():
                entry.reports[report] = _read_metrics(folder / report / "metrics.json")
        entry.worklists = [name for name in WORKLISTS if (folder / "collections" / name).is_file()]
        if entry.reports:
            out.append(entry)
    return out


def sparkline(values: list[float | None], label: str, *, width: int = 220, height: int = 44):
    """Return an inline SVG line of ``values`` (oldest first; ``None`` leaves a gap) with a
    text alternative naming the first and last values."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    desc = html.escape(label, quote=True)
    if len(points) < 2:
        return f'<span class="muted">{desc}: {"one date" if points else "no data"} so far</span>'
    lo = min(v for _, v in points)
    hi = max(v for _, v in points)
    span = (hi - lo) or 1.0
    step = (width - 8) / max(len(values) - 1, 1)
    xy = [(4 + i * step, 4 + (height - 8) * (1 - (v - lo) / span)) for i, v in points]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    last_x, last_y = xy[-1]
    return (
        f'<svg role="img" aria-label="{desc}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{desc}</title>'
        f'<polyline fill="none" stroke="#1F3A5F" stroke-width="1.8" points="{path}"/>'
        f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="3" fill="#E07B39"/></svg>'
    )


def _num(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == "amount":
        return f"{value:,.0f}"
    if kind == "days":
        return f"{value:,.1f}"
    if kind == "pct":
        return f"{value:.1f}%"
    return f"{value:,}"


def _delta(entry: ReportDate) -> str:
    """Return the day's DSO change vs the previous day, coloured (down is good)."""
    change = entry.reports.get("daily-mis", {}).get("changes", {}).get("dso_countback", {})
    prev = change.get("previous_day", {}) if isinstance(change, dict) else {}
    delta = prev.get("delta")
    if not isinstance(delta, int | float):
        return ""
    if delta == 0:
        return '<span class="muted">= 0.0</span>'
    css = "good" if delta < 0 else "bad"
    arrow = "▼" if delta < 0 else "▲"
    return f'<span class="{css}">{arrow} {delta:+.1f}</span>'


def _link(path: str, text: str) -> str:
    return f'<a href="{quote(path)}">{html.escape(text)}</a>'


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
 color:#1c2733;margin:24px auto;max-width:1180px;padding:0 16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.muted{color:#5F6B7A}.good{color:#2E7D4F}.bad{color:#B83B3B}
.trends{display:flex;flex-wrap:wrap;gap:14px}
.trend{border:1px solid #E5E8EB;border-radius:6px;padding:8px 12px}
.trend .l{font-size:12px;color:#5F6B7A}.trend .v{font-size:20px;font-weight:600}
.wrap{overflow-x:auto}
table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
th{text-align:left;border-bottom:1px solid #9AA5B1;padding:5px 8px;white-space:nowrap}
td{padding:4px 8px;border-bottom:1px solid #E5E8EB;white-space:nowrap}
td.num,th.num{text-align:right}
a{color:#1F3A5F}
"""


def render_index(entries: list[ReportDate]) -> str:
    """Return the index page of ``entries`` (newest first) as one self-contained HTML text."""
    currency = next(
        (e.reports[r].get("currency") for e in entries for r in e.reports if e.reports[r]), ""
    )
    ccy = f" ({currency})" if currency else ""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>Reports</title><style>{_STYLE}</style></head><body>",
        "<h1>Reports</h1>",
    ]
    if not entries:
        parts.append("<p class='muted'>No report has been published yet.</p></body></html>")
        return "".join(parts)
    latest = entries[0]
    parts.append(
        f"<p class='muted'>{len(entries)} report date(s), newest first; latest "
        f"{latest.date}.</p><h2>Trends over the dates below</h2><div class='trends'>"
    )
    oldest_first = entries[::-1]
    for key, label, kind in (
        ("ar_open", f"AR open{ccy}", "amount"),
        ("dso_countback", "DSO (countback, days)", "days"),
        ("cei", "CEI", "pct"),
    ):
        values = [e.figure("daily-mis", key) for e in oldest_first]
        known = [v for v in values if v is not None]
        text = f"{label} from {oldest_first[0].date} to {latest.date}: " + (
            f"{_num(known[0], kind)} to {_num(known[-1], kind)}" if known else "no data"
        )
        parts.append(
            f"<div class='trend'><div class='l'>{html.escape(label)}, latest</div>"
            f"<div class='v'>{_num(latest.figure('daily-mis', key), kind) or 'n/a'}</div>"
            f"{sparkline(values, text)}</div>"
        )
    parts.append("</div><h2>Report dates</h2><div class='wrap'><table><thead><tr>")
    heads = [
        ("Date", ""),
        ("Daily MIS", ""),
        ("Collections", ""),
        ("Worklist", ""),
        (f"AR open{ccy}", "num"),
        ("DSO (days)", "num"),
        ("DSO vs day before", "num"),
        ("CEI", "num"),
        (f"Cash in{ccy}", "num"),
        (f"Expected late{ccy}", "num"),
    ]
    parts += [f"<th class='{c}'>{html.escape(h)}</th>" for h, c in heads]
    parts.append("</tr></thead><tbody>")
    for e in entries:
        links = [
            _link(f"{e.date}/{report}/report.html", title) if report in e.reports else ""
            for report, title in REPORT_TITLES.items()
        ]
        worklists = " · ".join(
            _link(f"{e.date}/collections/{name}", name.rsplit(".", 1)[1]) for name in e.worklists
        )
        cells = [
            f"<td>{e.date}</td>",
            *(f"<td>{link}</td>" for link in links),
            f"<td>{worklists}</td>",
            f"<td class='num'>{_num(e.figure('daily-mis', 'ar_open'), 'amount')}</td>",
            f"<td class='num'>{_num(e.figure('daily-mis', 'dso_countback'), 'days')}</td>",
            f"<td class='num'>{_delta(e)}</td>",
            f"<td class='num'>{_num(e.figure('daily-mis', 'cei'), 'pct')}</td>",
            f"<td class='num'>{_num(e.figure('daily-mis', 'cash_collected'), 'amount')}</td>",
            f"<td class='num'>"
            f"{_num(e.figure('collections', 'expected_late_amount'), 'amount')}</td>",
        ]
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table></div></body></html>")
    return "".join(parts)


def write_index(reports_root: str | Path) -> Path:
    """Write ``reports_root/index.html`` from the reports published there; return its path.

    The file is replaced atomically (written beside it, then renamed), and a lock file makes
    runs finishing together (the two reports of ``salesops daily``) write one after the
    other, each after reading the other's published report: never a half-written or stale
    page.
    """
    root = Path(reports_root)
    root.mkdir(parents=True, exist_ok=True)
    target = root / "index.html"
    tmp = root / f".index.{os.getpid()}.{threading.get_ident()}.tmp"
    with (root / ".index.lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            tmp.write_text(render_index(collect_reports(root)), encoding="utf-8")
            os.replace(tmp, target)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target
