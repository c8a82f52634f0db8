"""Dunning letters: one draft per customer due a letter today, as text and HTML.

Who gets a letter (:func:`letters_due`), from the account worklist
(:func:`~salesops_analysis.risk.accounts.account_worklist`):

* the customer's most advanced dunning stage has a letter template (the shipped ones:
  ``reminder``, ``call``, ``final notice``, ``escalate``; *not due* has none);
* it is not in dispute and has no pending promise to pay;
* nobody has worked the account since its oldest invoice entered that stage (no collections
  activity on or after that day): a stage reached over a weekend still gets its letter on
  Monday, and a letter that was sent and logged is not drafted again until the next stage.

The letter lists the customer's overdue invoices (document currency) and the overdue total per
currency. Templates are Jinja2 files ``<stage>.txt.j2`` and ``<stage>.html.j2`` (the stage
name lower-cased, other characters as ``_``), looked up first in the folder named by
``letters.templates`` in ``salesops.yml``, then in the package (``templates/letters``); a
template may extend ``base.txt.j2`` / ``base.html.j2`` (the letterhead), which can be overridden
the same way. HTML templates escape every value; text templates write text as it is.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import ReportError
from ..config import Config
from ..metrics.days import day_number
from ..metrics.ids import row_positions
from .files import iso_dates, replace_folder, safe_file_names, staging_folder

__all__ = ["LettersWritten", "letter_environment", "letters_due", "stage_template", "write_letters"]


def stage_template(stage: str) -> str:
    """Return the template name stem of a dunning stage (``"final notice"`` → ``final_notice``)."""
    return re.sub(r"[^a-z0-9]+", "_", str(stage).strip().lower()).strip("_") or "stage"


def _money(value) -> str:
    return f"{float(value):,.2f}"


def letter_environment(config: Config | None = None):
    """Return the Jinja2 environment of the letter templates: the configured folder first,
    then the shipped defaults; HTML templates autoescaped, undefined names an error."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    config = config or Config()
    loaders = []
    if config.letter_templates is not None:
        loaders.append(jinja2.FileSystemLoader(str(config.letter_templates)))
    loaders.append(jinja2.PackageLoader("salesops_analysis", "templates/letters"))
    # the templates are the operator's own files, but sandboxing costs nothing and keeps a
    # template from reaching into Python
    env = SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
    )
    env.filters["money"] = _money
    return env


def letters_due(accounts: pd.DataFrame, as_of, config: Config | None = None) -> pd.DataFrame:
    """Return the rows of ``accounts`` due a dunning letter on ``as_of``, with ``letter_stage``.

    A row is due when its ``dunning_stage`` has a template (see :func:`stage_template`),
    it is neither ``in_dispute`` nor ``promise_pending``, and its ``last_contact_date`` is
    missing or before the day its oldest invoice entered that stage.
    """
    config = config or Config()
    env = letter_environment(config)
    names = set(env.list_templates())
    ladder = {str(s["stage"]): int(s["from_days"]) for s in config.dunning}
    stage = accounts["dunning_stage"].astype("str").to_numpy(dtype=object)
    has_template = np.array(
        [
            f"{stage_template(s)}.txt.j2" in names and f"{stage_template(s)}.html.j2" in names
            for s in stage
        ],
        dtype=bool,
    )
    from_days = np.array([ladder.get(s, 0) for s in stage], dtype=np.int64)
    entered = day_number(as_of) - (accounts["oldest_days_past_due"].to_numpy() - from_days)
    contact = accounts["last_contact_date"].to_numpy(dtype="datetime64[D]")
    no_contact_since = np.isnat(contact) | (
        np.where(np.isnat(contact), 0, contact.astype(np.int64)) < entered
    )
    due = (
        has_template
        & (accounts["overdue_amount_reporting"].to_numpy() > 0)
        & ~accounts["in_dispute"].to_numpy(dtype=bool)
        & ~accounts["promise_pending"].to_numpy(dtype=bool)
        & no_contact_since
    )
    out = accounts.loc[due].copy()
    out["letter_stage"] = out["dunning_stage"]
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class LettersWritten:
    """Where the letters went."""

    folder: Path
    letters: int
    by_stage: dict[str, int]
    stages_without_template: list[str] = field(default_factory=list)

    def line(self) -> str:
        """Return a one-line summary."""
        stages = ", ".join(f"{k} {v}" for k, v in self.by_stage.items()) or "none due"
        text = f"{self.letters:,} dunning letters in {self.folder} ({stages})"
        if self.stages_without_template:
            text += f"; no template for stage(s): {', '.join(self.stages_without_template)}"
        return text


def write_letters(
    accounts: pd.DataFrame,
    worklist: pd.DataFrame,
    as_of,
    folder: str | Path,
    config: Config | None = None,
) -> LettersWritten:
    """Write the dunning letters due on ``as_of`` into ``folder`` (replaced as a whole).

    Parameters
    ----------
    accounts : DataFrame
        The account worklist (:func:`~salesops_analysis.risk.accounts.account_worklist`).
    worklist : DataFrame
        The invoice worklist it was built from: the invoices each letter lists.
    as_of : date-like
        The letters' date.
    folder : str or Path
        ``reports/<date>/collections/letters``: ``<customer>.txt``, ``<customer>.html`` and
        ``index.json`` (customer id, stage, files).
    config : Config, optional
        ``dunning``, ``company``, ``letters.templates``.

    Raises
    ------
    ReportError
        A template does not parse or uses a name the letter does not provide.
    """
    config = config or Config()
    folder = Path(folder)
    env = letter_environment(config)
    due = letters_due(accounts, as_of, config)
    missing = _stages_without_template(accounts, env)
    invoices = _overdue_invoices(worklist, due)
    staging = staging_folder(folder)
    stems = safe_file_names(due["customer_id"].tolist())
    date_text = str(pd.Timestamp(as_of).date())
    index, by_stage = [], {}
    for row, listed, stem in zip(due.itertuples(index=False), invoices, stems, strict=True):
        totals = _overdue_totals(listed)
        context = _letter_context(row, listed, totals, date_text, config)
        files = _write_letter(env, row.letter_stage, context, staging, stem)
        by_stage[row.letter_stage] = by_stage.get(row.letter_stage, 0) + 1
        index.append(
            {
                "customer_id": str(row.customer_id),
                "customer_name": str(row.customer_name),
                "stage": str(row.letter_stage),
                "files": files,
                "total_overdue": {k: round(v / 100, 2) for k, v in sorted(totals.items())},
            }
        )
    _write_letters_index(staging, index, date_text)
    replace_folder(staging, folder)
    return LettersWritten(folder, len(index), by_stage, missing)


def _stages_without_template(accounts: pd.DataFrame, env) -> list[str]:
    """Return the dunning stages of ``accounts`` (beyond *not due*) lacking a template."""
    known = {s for s in accounts["dunning_stage"].astype("str")} - {"not due"}
    names = set(env.list_templates())
    return sorted(
        s
        for s in known
        if f"{stage_template(s)}.txt.j2" not in names or f"{stage_template(s)}.html.j2" not in names
    )


def _overdue_invoices(worklist: pd.DataFrame, due: pd.DataFrame) -> list[list[dict]]:
    """Return, for each customer due a letter, its overdue invoices in due-date order."""
    wl = worklist.loc[worklist["days_past_due"].to_numpy() > 0]
    group = row_positions(wl["customer_id"], due["customer_id"])
    wl = wl.loc[group >= 0].assign(_g=group[group >= 0])
    wl = wl.sort_values(["_g", "due_date", "invoice_id"], kind="stable")
    records = [
        {
            "invoice_id": str(i),
            "invoice_date": d,
            "due_date": u,
            "days_overdue": int(k),
            "open_amount": float(a),
            "currency": str(c),
        }
        for i, d, u, k, a, c in zip(
            wl["invoice_id"],
            iso_dates(wl["invoice_date"]),
            iso_dates(wl["due_date"]),
            wl["days_past_due"],
            wl["open_amount"],
            wl["currency"],
            strict=True,
        )
    ]
    g_sorted = wl["_g"].to_numpy()
    starts = np.searchsorted(g_sorted, np.arange(len(due)), side="left")
    stops = np.searchsorted(g_sorted, np.arange(len(due)), side="right")
    return [records[a:b] for a, b in zip(starts, stops, strict=True)]


def _overdue_totals(invoices: list[dict]) -> dict[str, int]:
    """Return the overdue total in cents per currency of a letter's invoices."""
    totals: dict[str, int] = {}
    for inv in invoices:
        cents = round(inv["open_amount"] * 100)
        totals[inv["currency"]] = totals.get(inv["currency"], 0) + cents
    return totals


def _letter_context(row, invoices: list[dict], totals: dict, date_text: str, config: Config):
    """Return the names a letter template may use for one customer (``row`` of the accounts
    due a letter)."""
    return {
        "company": config.company,
        "customer": {"id": row.customer_id, "name": row.customer_name},
        "stage": row.letter_stage,
        "date": date_text,
        "collector": row.collector if row.collector != "unassigned" else "",
        "invoices": invoices,
        "totals": [{"currency": k, "amount": v / 100} for k, v in sorted(totals.items())],
        "open_amount_reporting": row.open_amount_reporting,
        "reporting_currency": row.reporting_currency,
    }


def _write_letter(env, stage: str, context: dict, folder: Path, stem: str) -> list[str]:
    """Render the stage's text and HTML templates into ``<stem>.txt`` and ``<stem>.html``;
    return the file names.

    Raises
    ------
    ReportError
        A template does not parse or uses a name the context does not provide.
    """
    import jinja2

    template = stage_template(stage)
    files = []
    for ext in ("txt", "html"):
        name = f"{template}.{ext}.j2"
        try:
            text = env.get_template(name).render(context)
        except jinja2.TemplateError as exc:
            raise ReportError(f"letter template {name}: {exc}") from None
        path = folder / f"{stem}.{ext}"
        path.write_text(text, encoding="utf-8")
        files.append(path.name)
    return files


def _write_letters_index(folder: Path, index: list[dict], date_text: str) -> None:
    """Write ``index.json`` (customer, stage, files) and ``index.html`` (links) in ``folder``."""
    (folder / "index.json").write_text(
        json.dumps({"date": date_text, "letters": index}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    links = "".join(
        f"<tr><td>{html.escape(r['customer_id'])}</td><td>{html.escape(r['customer_name'])}</td>"
        f"<td>{html.escape(r['stage'])}</td>"
        + "".join(f'<td><a href="{html.escape(f)}">{html.escape(f)}</a></td>' for f in r["files"])
        + "</tr>"
        for r in index
    )
    (folder / "index.html").write_text(
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Dunning letters '
        f"{date_text}</title></head><body><h1>Dunning letters {date_text}</h1>"
        f"<p>{len(index):,} letters.</p><table><thead><tr><th>Customer</th><th>Name</th>"
        f"<th>Stage</th><th>Text</th><th>HTML</th></tr></thead><tbody>{links}</tbody></table>"
        "</body></html>",
        encoding="utf-8",
    )
