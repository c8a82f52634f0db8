"""Commands around the late-payment model: ``train`` fits and saves it (and the cash-timing
model), ``score`` ranks the open invoices into the collections worklist."""

from __future__ import annotations

import os
from pathlib import Path

import click

from .._errors import os_error
from ..config import Config, load_config
from .errors import friendly_errors, say_kept
from .options import DATE, common, models_option, out_folder_option, read_tables, warehouse

__all__ = ["score", "train"]


def _auc_line(name: str, ev: dict) -> str:
    b = ev["baselines"]
    return (
        f"{name}: test ROC AUC {ev['roc_auc']:.3f} (customer late share "
        f"{b['customer_late_share']['roc_auc']:.3f}, days past due × amount "
        f"{b['days_past_due_amount']['roc_auc']:.3f}); Brier {ev['brier']:.3f} (base rate "
        f"{ev['brier_base_rate']:.3f}); top-10% late amount "
        f"{ev['top_decile_late_amount_share']:.1%} ({ev['rows']:,} test rows)"
    )


@click.command()
@click.option(
    "--as-of",
    "as_of",
    type=DATE,
    required=True,
    help="Knowledge date: train on what was known at its end.",
)
@out_folder_option("models", "Folder for the model, its card and metrics.")
@click.option(
    "--no-backtest",
    "no_backtest",
    is_flag=True,
    default=False,
    help="Save the cash-timing model without backtesting its forecast (its card and metrics "
    "then say the backtest was skipped, and reports call it unchecked).",
)
@common
@friendly_errors
def train(as_of, out, no_backtest, db_path, config_path) -> None:
    """Fit, evaluate (by time) and save the late-payment models, and the cash-timing model
    with the backtest of its forecast."""
    from ..risk.model import read_training, save_model, train_from_knowledge

    config = load_config(config_path)
    click.echo(f"training on what was known at the end of {as_of} ...", err=True)
    # the warehouse is read once, for both models, and held as arrays (no table)
    data = read_training(warehouse(db_path), as_of, config)
    model = train_from_knowledge(data, config)
    paths = save_model(model, out)
    m = model.metrics
    click.echo(
        _auc_line(f"late ({m['model']['late']})", {**m["test"], "baselines": m["baselines"]})
    )
    if m["model"]["overdue"]:
        click.echo(_auc_line(f"overdue ({m['model']['overdue']})", m["overdue"]))
    if model.deployment_note:
        click.echo(model.deployment_note)
    click.echo(f"wrote {paths['model']}, {paths['card'].name}, {paths['metrics'].name}")
    del model
    _train_cash_timing(data, as_of, config, out, backtest=not no_backtest)


def _train_cash_timing(data, as_of, config: Config, out: str, *, backtest: bool = True) -> None:
    """Train, backtest (unless ``backtest`` is false) and save the cash-timing model next to
    the late-payment model, from the same
    :class:`~salesops_analysis.risk.model.TrainingData` (its knowledge without categories:
    the timing model reads none)."""
    from dataclasses import replace

    from .._errors import ModelError
    from ..risk.backtest import forecast_summary, train_cash_timing

    click.echo(
        "backtesting the cash forecast ..." if backtest else "training the cash-timing model ...",
        err=True,
    )
    k = replace(data.knowledge, categories={})
    try:
        _, metrics, paths = train_cash_timing(
            data.rates,
            as_of,
            config,
            out,
            knowledge=k,
            settle=data.settlements,
            backtest=backtest,
        )
    except ModelError as exc:  # the late-payment model is saved; say why this one is not
        click.echo(f"cash-timing model skipped: {exc}")
        return
    click.echo(forecast_summary(metrics["forecast"]))
    click.echo(f"wrote {paths['model']}, {paths['card'].name}, {paths['metrics'].name}")


@click.command()
@click.option("--as-of", "as_of", type=DATE, required=True, help="Score open invoices then.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="CSV or Parquet file (default data/scores/worklist_<as-of>.csv).",
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Model file (default: the newest in --models trained on or before --as-of).",
)
@models_option("Folder of trained models.")
@common
@friendly_errors
def score(as_of, out, model_path, models_dir, db_path, config_path) -> None:
    """Score open invoices and write the ranked collections worklist."""
    from ..risk.model import latest_model, load_model
    from ..risk.worklist import worklist

    config = load_config(config_path)
    path = Path(model_path) if model_path else latest_model(models_dir, as_of)
    model = load_model(path) if path is not None else None
    tables = read_tables(db_path)
    wl = worklist(model, tables, as_of, config)
    # when each invoice should be paid (the cash-timing model in --models, else one trained now)
    from ..reports.collections import cash_forecast_or_reason, with_pay_dates

    forecast, why_not = cash_forecast_or_reason(tables, as_of, config, models_dir)
    wl = with_pay_dates(wl, forecast)
    if why_not is not None:
        click.echo(f"no expected pay dates: {why_not}", err=True)
    elif forecast.model_trained_seconds is not None:  # never a silent training
        click.echo(f"expected pay dates: {forecast.model_note}", err=True)
    if model is None:
        ranked_by = wl["score_kind"].iloc[0] if len(wl) else "nothing (no open invoices)"
        click.echo(
            f"no model trained on or before {as_of} in {models_dir}/: ranked by {ranked_by} "
            f"(run `salesops train --as-of {as_of}` for model scores)",
            err=True,
        )
    out = Path(out) if out else Path("data/scores") / f"worklist_{as_of}.csv"
    write_worklist(wl, out)
    total = wl["expected_late_amount"].sum()
    ccy = wl["reporting_currency"].iloc[0] if len(wl) else config.reporting_currency
    scored_with = path.name if path is not None else "a baseline"
    click.echo(
        f"{len(wl):,} open invoices scored with {scored_with}; expected late amount "
        f"{total:,.2f} {ccy}; wrote {out}"
    )


def write_worklist(wl, out: Path) -> None:
    """Write the worklist to ``out`` (Parquet by its suffix, else CSV as the collections report
    writes it), whole or not at all: written beside, then renamed, so that a full disk or a
    signal never leaves half a worklist."""
    from .._lock import remove_stale_temporaries

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    remove_stale_temporaries(out.parent, f".{out.name}.tmp-*")  # left by killed runs
    say_kept(lambda: f"{out} not written; a worklist there before is unchanged")
    try:
        if out.suffix.lower() in (".parquet", ".pq"):
            wl.to_parquet(tmp, index=False)
        else:
            # as the collections report writes it: text that a spreadsheet would run as a
            # formula is quoted
            from ..reports.excel import write_worklist_csv

            write_worklist_csv(wl, tmp)
        os.replace(tmp, out)
    except OSError as exc:
        error = os_error(exc, kept=f"{out} not written; a worklist there before is unchanged")
        raise (error or exc) from None
    finally:
        tmp.unlink(missing_ok=True)
