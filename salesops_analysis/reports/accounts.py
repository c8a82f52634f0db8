"""The collections report's account view: customers first, today's calls, statements, letters.

:func:`account_view` is what the collections report calls after the invoice worklist: it
builds the account worklist, measures how much of the expected late amount today's calls
reach and each collector's load, and (with ``out_dir``) writes ``statements/``, ``letters/``
and ``customers.csv`` beside the other tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..config import Config
from ..metrics.receivables import Ledger
from ..metrics.tables import Tables
from ..risk.accounts import (
    CallCoverage,
    account_worklist,
    call_coverage,
    collector_load,
)
from .excel import write_worklist_csv
from .letters import LettersWritten, write_letters
from .statements import StatementsWritten, write_statements

__all__ = ["TOP_ACCOUNT_COLUMNS", "AccountView", "account_view"]

#: The columns of the top accounts table shown first in the collections report.
TOP_ACCOUNT_COLUMNS = [
    "rank",
    "customer_id",
    "customer_name",
    "open_amount_reporting",
    "overdue_amount_reporting",
    "expected_late_amount",
    "oldest_days_past_due",
    "dunning_stage",
    "promise_status",
    "collector",
    "call_today",
    "next_action",
    "invoice_1",
]


@dataclass
class AccountView:
    """The account view of one collections day."""

    accounts: pd.DataFrame
    coverage: CallCoverage
    load: pd.DataFrame
    currency: str
    statements: StatementsWritten | None = None
    letters: LettersWritten | None = None

    def top(self, n: int = 25) -> pd.DataFrame:
        """Return the first ``n`` accounts, with the columns a collector reads first."""
        return self.accounts.head(n)[TOP_ACCOUNT_COLUMNS].reset_index(drop=True)

    def summary(self) -> str:
        """Return a few sentences that read the account view."""
        text = self.coverage.sentence(self.currency)
        if self.statements is not None:
            text += f" {self.statements.statements:,} statements of account were written"
            text += f" and {self.letters.letters:,} dunning letters." if self.letters else "."
        if self.letters is not None and self.letters.stages_without_template:
            text += (
                " No letter template for stage(s) "
                f"{', '.join(self.letters.stages_without_template)}."
            )
        return text

    def metrics(self) -> dict:
        """Return the headline figures for ``metrics.json``."""
        out = {
            "customers_open": int(len(self.accounts)),
            "calls_today": self.coverage.calls,
            "calls_measure": self.coverage.measure,
            "calls_amount": self.coverage.called,
            "calls_share": round(self.coverage.share, 4),
        }
        if self.statements is not None:
            out["statements"] = self.statements.statements
        if self.letters is not None:
            out["letters"] = self.letters.letters
        return out


def account_view(
    worklist: pd.DataFrame,
    tables: Tables,
    config: Config | None,
    as_of,
    out_dir: str | Path | None = None,
    *,
    ledger: Ledger | None = None,
) -> AccountView:
    """Return the account view of ``as_of`` built from the invoice ``worklist``; with
    ``out_dir``, also write ``statements/``, ``letters/`` and ``customers.csv`` there.
    ``ledger`` is the :class:`~salesops_analysis.metrics.receivables.Ledger` of ``tables``'
    invoices and payments, reused for the open credit notes and the statements."""
    config = config or Config()
    accounts = account_worklist(worklist, tables, config, as_of, ledger=ledger)
    currency = (
        str(accounts["reporting_currency"].iloc[0]) if len(accounts) else config.reporting_currency
    )
    view = AccountView(
        accounts=accounts,
        coverage=call_coverage(accounts),
        load=collector_load(accounts, config),
        currency=currency,
    )
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_worklist_csv(accounts, out / "customers.csv")
        view.statements = write_statements(tables, as_of, out / "statements", config, ledger=ledger)
        view.letters = write_letters(accounts, worklist, as_of, out / "letters", config)
    return view
