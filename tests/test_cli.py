"""The command line as users meet it: help, one-line errors, non-zero exits, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from salesops_analysis.cli import main
from tests.conftest import write

SALESOPS = str(Path(sys.executable).with_name("salesops"))


def run(*args, cwd=None):
    return subprocess.run([SALESOPS, *args], capture_output=True, text=True, cwd=cwd, check=False)


@pytest.mark.parametrize("command", ["demo", "ingest", "train", "score", "report", "daily"])
def test_every_command_has_help_and_db_and_config(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "--db" in result.output and "--config" in result.output


def test_ingest_prints_accounting_and_refuses_a_bad_file_in_one_line(tmp_path):
    good = write(
        tmp_path / "payments.csv",
        "payment_id,invoice_id,payment_date,amount\n"
        "P1,I1,2025-01-02,10\nP1,I1,2025-01-02,10\nP2,I2,2025-02-30,1\n",
    )
    bad = write(tmp_path / "orders.csv", "order_id,customer_id\nO1,C1\n")
    r = run("ingest", str(good), str(bad), "--db", str(tmp_path / "w.duckdb"), cwd=tmp_path)
    assert r.returncode == 1
    assert "read 3 = loaded 1" in r.stdout and "rejected 1 + duplicates 1" in r.stdout
    assert "orders.csv" in r.stderr and "order_date" in r.stderr
    assert "Traceback" not in r.stderr


def test_wrong_date_and_missing_warehouse_are_one_line_errors(tmp_path):
    r = run("train", "--as-of", "2025-02-30", cwd=tmp_path)
    assert r.returncode != 0 and "2025-02-30" in r.stderr and "Traceback" not in r.stderr
    r = run("score", "--as-of", "2025-06-30", "--db", "nowhere.duckdb", cwd=tmp_path)
    assert r.returncode == 1 and ("no model" in r.stderr or "nowhere.duckdb" in r.stderr)
    r = run("report", "daily-mis", "--date", "2025-06-30", "--db", "nowhere.duckdb", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1].startswith("error: nowhere.duckdb")


def test_bad_config_key_is_named(tmp_path):
    cfg = write(tmp_path / "salesops.yml", "kinds:\n  invoices:\n    colums: {}\n")
    r = run("ingest", str(cfg), "--config", str(cfg), cwd=tmp_path)
    assert r.returncode == 1 and "kinds.invoices.colums" in r.stderr


def test_train_and_score_from_the_command_line(demo_db, tmp_path):
    cwd = os.getcwd()
    r = run(
        "train",
        "--as-of",
        "2025-06-30",
        "--db",
        str(demo_db),
        "--out",
        str(tmp_path / "models"),
        "--config",
        str(Path(cwd) / "salesops.yml"),
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert (
        "test ROC AUC" in r.stdout
        and (tmp_path / "models" / "late_payment_2025-06-30.skops").exists()
    )

    def score(out: Path):
        return run(
            "score",
            "--as-of",
            "2025-06-30",
            "--db",
            str(demo_db),
            "--models",
            str(tmp_path / "models"),
            "--out",
            str(out),
            "--config",
            str(Path(cwd) / "salesops.yml"),
            cwd=tmp_path,
        )

    out = tmp_path / "wl.parquet"
    r = score(out)
    assert r.returncode == 0, r.stderr
    import pandas as pd

    wl = pd.read_parquet(out)
    assert len(wl) > 1000 and wl["rank"].iloc[0] == 1
    # CSV: the same rows, written as the collections report writes its CSV
    csv = tmp_path / "wl.csv"
    r = score(csv)
    assert r.returncode == 0, r.stderr
    back = pd.read_csv(csv, dtype=str, keep_default_na=False)
    assert list(back.columns) == list(wl.columns)
    assert back["invoice_id"].tolist() == wl["invoice_id"].tolist()
    assert back["due_date"].iloc[0] == wl["due_date"].iloc[0].strftime("%Y-%m-%d")


def test_exports_already_ingested_are_checked_without_loading_pandas(demo_db, demo_raw, tmp_path):
    """`salesops daily` hashes every export each morning; for files already in the warehouse
    that check must not pay for importing pandas (the reports' kernels import their own)."""
    import shutil

    db = tmp_path / "w.duckdb"
    shutil.copy(demo_db, db)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from salesops_analysis.cli import run_ingest\n"
        "from salesops_analysis.config import Config\n"
        f"files = sorted(Path({str(demo_raw)!r}).glob('*.csv'))\n"
        f"results, errors = run_ingest(files, {str(db)!r}, Config(), None, echo=print)\n"
        "print(sorted({r.status for r in results}), errors, 'pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "['already ingested'] [] False"


def test_exit_codes_name_the_kind_of_failure(tmp_path):
    """1 a failure, 75 a temporary condition (a lock past --wait), 2 usage."""
    from salesops_analysis._lock import ProcessLock
    from salesops_analysis.warehouse import lock_path

    db = tmp_path / "w.duckdb"
    export = write(tmp_path / "payments.csv", "payment_id,invoice_id,payment_date,amount\n")
    with ProcessLock(lock_path(db), what="the warehouse").hold(wait=0):
        result = CliRunner().invoke(main, ["ingest", str(export), "--db", str(db), "--wait", "0"])
    assert result.exit_code == 75
    assert f"locked by pid {os.getpid()}" in result.output
    result = CliRunner().invoke(main, ["ingest", str(tmp_path / "none.csv"), "--db", str(db)])
    assert result.exit_code == 1
    assert CliRunner().invoke(main, ["ingest"]).exit_code == 2


def test_interrupted_line_says_which_reports_were_published(tmp_path):
    from salesops_analysis.cli.reports import ReportState

    day = tmp_path / "2025-06-30"
    for name in ("daily-mis", "collections"):
        (day / name).mkdir(parents=True)
    state = ReportState(str(tmp_path), "2025-06-30")
    (day / ".daily-mis.tmp-1").mkdir()  # a run publishes daily-mis: a new folder renamed in
    (day / "daily-mis").rename(day / ".daily-mis.old-1")
    (day / ".daily-mis.tmp-1").rename(day / "daily-mis")
    assert state.line(["daily-mis", "collections"]) == (
        "daily-mis published, collections not run; the previous collections report is unchanged"
    )
    fresh = ReportState(str(tmp_path), "2025-07-01")
    assert fresh.line(["collections"]) == (
        "collections not run; no collections report of 2025-07-01 was written"
    )
