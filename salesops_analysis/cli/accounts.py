"""Commands about what customers owe and will pay: ``statements`` of account and the cash
``forecast``."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import load_config
from .errors import friendly_errors
from .options import DATE, common, models_option, out_folder_option, read_tables

__all__ = ["forecast", "statements"]


@click.command()
@click.option("--date", "day", type=DATE, required=True, help="Statement date (YYYY-MM-DD).")
@click.option(
    "--customer",
    "customer_ids",
    multiple=True,
    help="Only this customer id (repeat for several); added to the existing folder.",
)
@click.option(
    "--all",
    "all_customers",
    is_flag=True,
    help="Every customer with an open item (default: those with an overdue balance).",
)
@out_folder_option(
    "reports", "Reports folder: statements land in <out>/<date>/collections/statements/."
)
@common
@friendly_errors
def statements(day, customer_ids, all_customers, out, db_path, config_path) -> None:
    """Write statements of account (one HTML page per customer) and their index."""
    from ..reports.statements import write_statements

    if customer_ids and all_customers:
        raise click.UsageError("give --customer or --all, not both")
    config = load_config(config_path)
    folder = Path(out) / str(day) / "collections" / "statements"
    written = write_statements(
        read_tables(db_path),
        day,
        folder,
        config,
        customers=list(customer_ids) if customer_ids else None,
        all_customers=all_customers,
    )
    click.echo(written.line())


@click.command()
@click.option(
    "--as-of",
    "as_of",
    type=DATE,
    required=True,
    help="Forecast the cash from the invoices open at the end of this day.",
)
@click.option(
    "--weeks", type=click.IntRange(1, 26), default=13, show_default=True, help="Weeks ahead."
)
@models_option(
    "Folder of trained models (the newest cash_timing model trained on or before "
    "--as-of is used; without one, a model is trained, backtested and saved there)."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="CSV file (default data/forecast/cash_forecast_<as-of>.csv).",
)
@click.option(
    "--by",
    "by",
    type=click.Choice(["currency", "team", "segment"]),
    multiple=True,
    help="Break the forecast down (repeat for several); the CSV then has one row per group "
    "and week.",
)
@common
@friendly_errors
def forecast(as_of, weeks, models_dir, out, by, db_path, config_path) -> None:
    """Forecast the cash the open invoices bring in, week by week, with an 80% band."""
    from ..reports.tables_out import write_csv
    from ..risk.forecast import cash_forecast

    config = load_config(config_path)
    fc = cash_forecast(read_tables(db_path), as_of, config, models_dir, weeks=weeks, by=by)
    if fc.model_trained_seconds is not None:  # never a silent training
        click.echo(fc.model_note, err=True)
    out = Path(out) if out else Path("data/forecast") / f"cash_forecast_{as_of}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    table = fc.by_group if by else fc.weekly
    write_csv(table, out)  # team or segment names through the formula rule
    due_view = fc.weekly["due_date_view"].sum()
    click.echo(
        f"{len(fc.per_invoice):,} open invoices: {fc.total_expected:,.2f} {fc.currency} expected "
        f"in the next {weeks} weeks (80% band {fc.total_p10:,.2f} - {fc.total_p90:,.2f}; "
        f"due-date view {due_view:,.2f}); model: {fc.model}; wrote {out}"
    )
