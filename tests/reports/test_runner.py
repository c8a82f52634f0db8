"""Report runs: real papermill executions of the real notebooks, HTML, Excel, failures."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

import salesops_analysis as so
from salesops_analysis.cli import main
from salesops_analysis.metrics import daily_mis, load_tables
from salesops_analysis.reports import collections_report, run_report
from salesops_analysis.reports.runner import ReportKernel, _lock
from salesops_analysis.warehouse import SCHEMA_VERSION
from tests.reports.conftest import DAY, EVIL


@pytest.fixture(scope="module")
def runs(small_site):
    """Run both reports once through the CLI, from the site folder."""
    cwd = os.getcwd()
    os.chdir(small_site)
    try:
        runner = CliRunner()
        results = {
            name: runner.invoke(main, ["report", name, "--date", DAY])
            for name in ("daily-mis", "collections")
        }
    finally:
        os.chdir(cwd)
    return results


def test_cli_runs_publish_every_output(runs, small_site):
    for name, result in runs.items():
        assert result.exit_code == 0, result.output
        folder = small_site / "reports" / DAY / name
        assert {"report.ipynb", "report.html", "metrics.json"} <= {p.name for p in folder.iterdir()}
    assert (small_site / "reports" / DAY / "collections" / "worklist.xlsx").exists()
    assert (small_site / "reports" / DAY / "collections" / "worklist.csv").exists()
    assert list((small_site / "models").glob("late_payment_*.skops"))  # trained on demand


def test_daily_metrics_json_equals_the_package_api(runs, small_site):
    got = json.loads((small_site / "reports" / DAY / "daily-mis" / "metrics.json").read_text())
    with so.open_warehouse(small_site / "data" / "salesops.duckdb", read_only=True) as wh:
        expected = daily_mis(load_tables(wh), DAY, so.load_config(small_site / "salesops.yml"))
    got.pop("changes")  # the report adds the changes vs earlier dates (test_presentation.py)
    assert got == json.loads(json.dumps(expected.metrics))


def test_collections_metrics_json_equals_the_package_api(runs, small_site, tmp_path):
    got = json.loads((small_site / "reports" / DAY / "collections" / "metrics.json").read_text())
    expected = collections_report(
        small_site / "data" / "salesops.duckdb",
        DAY,
        small_site / "salesops.yml",
        tmp_path,  # with an out_dir, as the notebook has: statements and letters are counted
        models_dir=small_site / "models",
    ).metrics
    assert expected["statements"] > 0 and expected["letters"] > 0
    assert got == json.loads(json.dumps(expected))
    for key in (
        "report_date",
        "currency",
        "open_invoices",
        "ar_open",
        "expected_late_amount",
        "worklist_rows",
        "model",
    ):
        assert key in got


def test_html_has_images_and_no_code(runs, small_site):
    for name in ("daily-mis", "collections"):
        html = (small_site / "reports" / DAY / name / "report.html").read_text()
        assert "data:image/png;base64" in html
        assert "import pandas" not in html and "report_date = " not in html


def test_worklist_xlsx_is_formatted_and_formula_safe(runs, small_site):
    folder = small_site / "reports" / DAY / "collections"
    wb = load_workbook(folder / "worklist.xlsx")
    # customers first, then the invoices (then each collector's calls, when configured)
    assert wb.sheetnames[:2] == ["Customers", f"Worklist {DAY}"]
    assert wb.active.title == "Customers"
    customers = wb["Customers"]
    assert [c.value for c in customers[1]][:3] == ["rank", "customer id", "customer name"]
    ws = wb[f"Worklist {DAY}"]
    assert ws.freeze_panes == "E2"
    assert ws.auto_filter.ref.startswith("A1:")
    header = [c.value for c in ws[1]]
    assert header[:3] == ["rank", "customer id", "customer name"]
    name_col = header.index("customer name") + 1
    names = [ws.cell(row=r, column=name_col) for r in range(2, ws.max_row + 1)]
    evil = [c for c in names if c.value == EVIL]
    assert evil, "the formula-named customer should be on the worklist"
    assert all(c.data_type == "s" for c in evil)  # text, never a formula
    amount_col = header.index("open amount reporting") + 1
    assert ws.cell(row=2, column=amount_col).number_format == "#,##0.00"
    csv = (folder / "worklist.csv").read_text()
    assert f"'{EVIL}".replace('"', '""') in csv


def test_papermill_run_of_the_notebook_gives_the_same_figures(runs, small_site, tmp_path):
    import papermill as pm

    from salesops_analysis.reports import notebook_path

    pm.execute_notebook(
        str(notebook_path("daily-mis")),
        str(tmp_path / "out.ipynb"),
        parameters={
            "report_date": DAY,
            "db_path": str(small_site / "data" / "salesops.duckdb"),
            "config_path": str(small_site / "salesops.yml"),
            "out_dir": str(tmp_path),
        },
        progress_bar=False,
    )
    direct = json.loads((tmp_path / "metrics.json").read_text())
    via_cli = json.loads((small_site / "reports" / DAY / "daily-mis" / "metrics.json").read_text())
    assert direct == via_cli


def test_rerun_replaces_with_identical_figures(runs, small_site):
    folder = small_site / "reports" / DAY / "daily-mis"
    before = (folder / "metrics.json").read_text()
    run = run_report(
        "daily-mis",
        DAY,
        db_path=small_site / "data" / "salesops.duckdb",
        config_path=small_site / "salesops.yml",
        out=small_site / "reports",
        progress=False,
    )
    assert run.folder == folder
    assert (folder / "metrics.json").read_text() == before
    assert not [
        p
        for p in (small_site / "reports" / DAY).iterdir()
        if p.name.startswith(".daily-mis.tmp") or p.name.startswith(".daily-mis.old")
    ]


def test_failure_keeps_the_last_good_report_and_exits_non_zero(runs, small_site, tmp_path):
    folder = small_site / "reports" / DAY / "daily-mis"
    good = (folder / "metrics.json").read_text()
    bad_config = tmp_path / "bad.yml"  # a reporting currency nothing converts to
    bad_config.write_text(
        (small_site / "salesops.yml")
        .read_text()
        .replace("reporting_currency: USD", "reporting_currency: JPY")
    )
    result = CliRunner().invoke(
        main,
        [
            "report",
            "daily-mis",
            "--date",
            DAY,
            "--db",
            str(small_site / "data" / "salesops.duckdb"),
            "--config",
            str(bad_config),
            "--out",
            str(small_site / "reports"),
        ],
    )
    assert result.exit_code != 0
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1  # one line names the failing cell and the error
    assert "failed in cell" in errors[0] and "CurrencyError" in errors[0]
    assert "Traceback" not in result.output
    assert (folder / "metrics.json").read_text() == good
    failed = small_site / "reports" / DAY / "daily-mis.failed.ipynb"
    assert failed.exists()
    failed.unlink()


def test_a_second_run_of_the_same_report_waits_then_refuses(small_site):
    lock = small_site / "reports" / DAY / ".daily-mis.lock"
    with _lock(lock, wait=0):
        with pytest.raises(so.LockTimeoutError, match=f"locked by pid {os.getpid()}"):
            run_report(
                "daily-mis",
                DAY,
                db_path=small_site / "data" / "salesops.duckdb",
                out=small_site / "reports",
                wait=0.5,
                progress=False,
            )


def test_daily_command_ingests_new_exports_then_reports(runs, small_site):
    cwd = os.getcwd()
    os.chdir(small_site)
    try:
        shutil.rmtree(small_site / "reports" / DAY / "collections")
        result = CliRunner().invoke(main, ["daily", "--date", DAY])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("ingest: 0 new file(s)")  # all already ingested
    assert any(line.startswith("daily-mis 2025-06-30:") for line in lines)
    assert (small_site / "reports" / DAY / "collections" / "worklist.xlsx").exists()


def test_daily_upgrades_an_older_warehouse_before_its_read_only_reports(runs, small_site, tmp_path):
    """After a package upgrade, a morning without new exports still reports: the reports open
    the warehouse read-only, so `daily` brings its schema up to date first."""
    db = tmp_path / "old.duckdb"
    shutil.copy(small_site / "data" / "salesops.duckdb", db)
    with so.open_warehouse(db) as wh:
        wh.con.execute("DROP TABLE file_stats")
        wh.con.execute("UPDATE _meta SET value = '1' WHERE key = 'schema_version'")
    with pytest.raises(so.WarehouseError, match="needs an upgrade"):
        so.open_warehouse(db, read_only=True)
    (tmp_path / "raw").mkdir()
    cwd = os.getcwd()
    os.chdir(small_site)
    try:
        result = CliRunner().invoke(
            main,
            [
                "daily",
                "--date",
                DAY,
                "--raw",
                str(tmp_path / "raw"),
                "--db",
                str(db),
                "--out",
                str(tmp_path / "out"),
            ],
        )
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert f"upgraded to schema version {SCHEMA_VERSION}" in result.output
    assert (tmp_path / "out" / DAY / "collections" / "metrics.json").exists()
    with so.open_warehouse(db, read_only=True) as wh:
        assert wh.con.execute("SELECT count(*) FROM file_stats").fetchall()[0][0] == 0


def _children() -> set[int]:
    """Return the pids of this process's live child processes (Linux /proc)."""
    kids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            kids.add(int(stat.parent.name))
    return kids


def test_a_warm_kernel_runs_the_report_like_a_fresh_one_and_is_stopped(runs, small_site, tmp_path):
    """A kernel started ahead (imports done) gives the same figures; its warm-up leaves no
    trace in the notebook; the kernel process ends with the run."""
    before = _children()
    kernel = ReportKernel("daily-mis", cwd=small_site)
    km = kernel.manager()
    assert km is not None and km.has_kernel
    pid = km.provisioner.pid
    assert pid in _children()
    run = run_report(
        "daily-mis",
        DAY,
        db_path=small_site / "data" / "salesops.duckdb",
        config_path=small_site / "salesops.yml",
        out=tmp_path,
        progress=False,
        kernel=kernel,
    )
    fresh = json.loads((small_site / "reports" / DAY / "daily-mis" / "metrics.json").read_text())
    assert run.metrics == fresh
    nb = json.loads((run.folder / "report.ipynb").read_text())
    counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1))  # the silent warm-up counted nothing
    assert pid not in _children() and _children() <= before


def test_daily_without_a_warehouse_fails_clearly_and_stops_its_kernels(tmp_path):
    before = _children()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(main, ["daily", "--date", DAY])
    finally:
        os.chdir(cwd)
    assert result.exit_code != 0
    assert "no warehouse" in result.output and "Traceback" not in result.output
    assert _children() <= before


def test_explore_notebook_runs_on_a_warehouse(small_site, tmp_path):
    import papermill as pm

    from salesops_analysis.reports import notebook_path

    pm.execute_notebook(
        str(notebook_path("explore")),
        str(tmp_path / "explore.ipynb"),
        parameters={
            "as_of": DAY,
            "db_path": str(small_site / "data" / "salesops.duckdb"),
            "config_path": str(small_site / "salesops.yml"),
        },
        progress_bar=False,
    )
    assert (tmp_path / "explore.ipynb").stat().st_size > 10_000


def testnotebook_tools_import_without_the_slow_iri_checker():
    """papermill and nbconvert load without compiling rfc3987_syntax's grammars, also when two
    report threads ask at once, and nbformat still validates notebooks."""
    import subprocess
    import sys

    code = (
        "import sys, threading\n"
        "from salesops_analysis.reports.runner import notebook_tools\n"
        "threads = [threading.Thread(target=notebook_tools) for _ in range(2)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "pm, nbc = notebook_tools()\n"
        "import nbformat\n"
        "nbformat.validate(nbformat.v4.new_notebook())\n"
        "print('rfc3987_syntax' in sys.modules, sys.modules.get('rfc3987_syntax', 'gone'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "gone"]
